package dev.softmaxbackward.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link BackwardBench} and, at the same shapes and with the same timing method, the C kernel of the
 * same numerics and two C copies ({@code bench/src/main/c}, built by the {@code bench} profile: glibc's
 * memcpy and a copy with ordinary stores), and prints a table: time per call, GB/s (bytes read + written
 * / time), the ratio to the fastest copy of the same bytes, and the issue-9 ratios (ours / C, ours /
 * fastest copy, 2 threads / 1 thread). Before timing C it checks that the C kernel returns the
 * reference backend's bits on sample batches; if it does not, its rows are dropped and the table says so.
 *
 * <p>The work is cut into cells (one shape and dtype) and {@code -rounds} rounds: each round measures
 * every cell once, the JMH methods and then the C rows, so the two sides of a ratio are taken seconds
 * apart rather than minutes; the load of this shared machine drifts by more than the differences looked
 * for. Times are medians of iterations; each ratio is taken within a round, then reported as the median
 * over the rounds with their range.
 *
 * <pre>
 * arguments: [-quick] [-shapes 64x50257,4096x1024] [-dtypes f32,f64] [-methods REGEX]
 *            [-wi N] [-w SECONDS] [-i N] [-r SECONDS] [-c NATIVE_DIR | -noc] [-cthreads 1,2] [-rounds N]
 *            [-out FILE.md]
 * </pre>
 * {@code -w} is the warmup iteration time (default: {@code -r}). {@code NATIVE_DIR} holds the C driver
 * (default: the system property {@code bench.native}, which the pom sets to {@code target/native}).
 */
public final class BenchMain {
    static final String[] ALL_SHAPES = {"64x50257", "4096x1024", "1024x32000", "32x128", "1x1024"};
    /** The shapes the issue sets targets for. */
    static final List<String> TARGET_SHAPES = List.of("64x50257", "4096x1024", "1024x32000");
    static final String C_DRIVER = "softmax_backward_ref";

    private BenchMain() {}

    public static void main(String[] args) throws RunnerException, IOException, InterruptedException {
        String shapes = String.join(",", ALL_SHAPES);
        String dtypes = "f32,f64";
        String methods = ".*";
        int warmups = 3;
        int iterations = 5;
        double seconds = 1;
        double warmupSeconds = -1;
        Path out = null;
        String nativeDir = System.getProperty("bench.native", "bench/target/native");
        String cThreads = "1,2";
        int rounds = 1;
        for (int a = 0; a < args.length; a++) {
            switch (args[a]) {
                case "-quick" -> {
                    warmups = 2;
                    iterations = 3;
                    seconds = 0.5;
                }
                case "-shapes" -> shapes = args[++a];
                case "-dtypes" -> dtypes = args[++a];
                case "-methods" -> methods = args[++a];
                case "-wi" -> warmups = Integer.parseInt(args[++a]);
                case "-w" -> warmupSeconds = Double.parseDouble(args[++a]);
                case "-i" -> iterations = Integer.parseInt(args[++a]);
                case "-r" -> seconds = Double.parseDouble(args[++a]);
                case "-c" -> nativeDir = args[++a];
                case "-noc" -> nativeDir = null;
                case "-cthreads" -> cThreads = args[++a];
                case "-rounds" -> rounds = Integer.parseInt(args[++a]);
                case "-out" -> out = Path.of(args[++a]);
                case "" -> { }
                default -> throw new IllegalArgumentException("unknown argument " + args[a]
                        + "; use [-quick] [-shapes A,B] [-dtypes f32,f64] [-methods REGEX] [-wi N] [-w S] [-i N] [-r S]"
                        + " [-c DIR | -noc] [-cthreads 1,2] [-rounds N] [-out FILE]");
            }
        }
        if (warmupSeconds < 0) {
            warmupSeconds = seconds;
        }
        List<String> notes = new ArrayList<>();
        Path driver = null;
        if (nativeDir != null) {
            Path dir = Path.of(nativeDir);
            Path candidate = dir.resolve(C_DRIVER);
            if (Files.isExecutable(candidate)) {
                String flags = Files.exists(dir.resolve("FLAGS")) ? Files.readString(dir.resolve("FLAGS")).strip() : "?";
                String check = CKernel.checkBits(candidate);
                notes.add("C kernel: " + candidate + ", " + flags + "; " + check);
                driver = check.startsWith("same bits") ? candidate : null;
            } else if (Files.exists(dir.resolve("NOTE"))) {
                notes.add(Files.readString(dir.resolve("NOTE")).strip());
            } else {
                notes.add("no C kernel: " + candidate + " does not exist (build with -Pbench)");
            }
            notes.forEach(System.out::println);
        }
        List<String> cells = new ArrayList<>();
        for (String shape : shapes.split(",")) {
            for (String dtype : dtypes.split(",")) {
                cells.add(shape + " " + dtype);
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            // each round visits the cells in a rotated order, so no cell is always measured first or last
            for (int c = 0; c < cells.size(); c++) {
                String[] cell = cells.get((c + round) % cells.size()).split(" ");
                if (!methods.equals("none")) {
                    ChainedOptionsBuilder options = new OptionsBuilder()
                            .include(BackwardBench.class.getName() + "\\.(" + methods + ")$")
                            .param("shape", cell[0])
                            .param("dtype", cell[1])
                            .warmupIterations(warmups)
                            .warmupTime(TimeValue.milliseconds(Math.round(warmupSeconds * 1000)))
                            .measurementIterations(iterations)
                            .measurementTime(TimeValue.milliseconds(Math.round(seconds * 1000)))
                            .forks(1);
                    for (RunResult r : new Runner(options.build()).run()) {
                        String name = r.getParams().getBenchmark();
                        List<Double> samples = new ArrayList<>();
                        r.getBenchmarkResults().forEach(b -> b.getIterationResults()
                                .forEach(i -> samples.add(i.getPrimaryResult().getScore())));
                        rows.add(Row.of(cell[0], cell[1], name.substring(name.lastIndexOf('.') + 1), round, samples));
                    }
                }
                if (driver != null) {
                    for (String mode : CKernel.MODES) {
                        for (String t : cThreads.split(",")) {
                            rows.add(CKernel.time(driver, cell[0], cell[1], mode, Integer.parseInt(t), round, warmups,
                                    iterations, warmupSeconds, seconds));
                        }
                    }
                }
            }
        }
        String table = String.join("\n", notes) + "\n\n" + table(rows, rounds);
        System.out.println();
        System.out.println(table);
        if (out != null) {
            Files.writeString(out, table);
        }
    }

    /**
     * One measured method at one shape and dtype in one round: the median of its iterations' times per
     * call, and their spread (min and max), in ns. The median, not the mean: on a shared machine the
     * noise is one-sided (a neighbour's burst only ever slows an iteration down).
     */
    record Row(String shape, String dtype, String method, int round, double nanos, double min, double max) {
        static Row of(String shape, String dtype, String method, int round, List<Double> samples) {
            if (samples.isEmpty()) {
                throw new IllegalArgumentException("no samples for " + method + " at " + shape + " " + dtype);
            }
            List<Double> sorted = samples.stream().sorted().toList();
            return new Row(shape, dtype, method, round, median(sorted), sorted.get(0), sorted.get(sorted.size() - 1));
        }
    }

    /** The median of sorted values (the mean of the middle two for an even count). */
    static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    /** An iteration slower than this many times its row's median marks the row as not warmed up. */
    private static final int UNSTEADY = 3;

    // the 1-thread copies and the 2-thread copies (ND4J's assign uses ND4J's own thread count)
    private static final List<String> COPIES_1T = List.of("copyArraycopy", "c:memcpy_t1", "c:storecopy_t1");
    private static final List<String> COPIES_2T = List.of("copyParallel", "c:memcpy_t2", "c:storecopy_t2");

    /**
     * The markdown tables: per cell, every method's median over the rounds (of its per-round medians) and
     * the range of all its iterations; then the issue-9 ratios, each taken within one round (the two
     * sides measured seconds apart, under the same load) and given as the median over the rounds with
     * their range.
     */
    static String table(List<Row> all, int rounds) {
        Map<String, List<Row>> groups = new LinkedHashMap<>();
        for (String shape : ALL_SHAPES) {
            for (String dtype : new String[] {"f32", "f64"}) {
                groups.put(shape + " " + dtype, new ArrayList<>());
            }
        }
        for (Row r : all) {
            groups.computeIfAbsent(r.shape() + " " + r.dtype(), k -> new ArrayList<>()).add(r);
        }
        StringBuilder sb = new StringBuilder();
        List<String> verdicts = new ArrayList<>();
        for (Map.Entry<String, List<Row>> e : groups.entrySet()) {
            List<Row> cell = e.getValue();
            if (cell.isEmpty()) {
                continue;
            }
            String[] key = e.getKey().split(" ");
            String[] rc = key[0].split("x");
            long entries = Long.parseLong(rc[0]) * Long.parseLong(rc[1]);
            double bytes = entries * (key[1].equals("f32") ? 12.0 : 24.0);
            List<Row> rows = overRounds(cell);
            double copy = rows.stream().filter(r -> isCopy(r.method())).mapToDouble(Row::nanos).min()
                    .orElse(Double.NaN);
            String copyName = rows.stream().filter(r -> isCopy(r.method()) && r.nanos() == copy).map(Row::method)
                    .findFirst().orElse("?");
            double composed = time(rows, "nd4jComposed");
            double softmaxBp = time(rows, "nd4jSoftmaxBp");
            sb.append(String.format(Locale.ROOT, "### [%s, %s] %s (%.1f MB read + written per call)%n%n", rc[0], rc[1],
                    key[1].equals("f32") ? "float32" : "float64", bytes / 1e6));
            sb.append("| method | time/call (median) | iterations' range | GB/s | x fastest copy | speed-up vs composed"
                    + " | speed-up vs softmax_bp |\n");
            sb.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            rows.sort((a, b) -> Double.compare(a.nanos(), b.nanos()));
            for (Row r : rows) {
                sb.append(String.format(Locale.ROOT, "| %s | %s | %s-%s | %.2f | %.2f | %s | %s |%n", r.method(),
                        duration(r.nanos()), duration(r.min()), duration(r.max()), bytes / r.nanos(), copy / r.nanos(),
                        ratio(composed, r.nanos()), ratio(softmaxBp, r.nanos())));
            }
            sb.append('\n');
            List<String> unsteady = rows.stream().filter(r -> r.max() > UNSTEADY * r.nanos())
                    .map(r -> r.method() + " (" + duration(r.max()) + ")").toList();
            if (!unsteady.isEmpty()) {
                // an iteration this slow ran code the JIT had not finished: its median may be too
                sb.append("Not in steady state (an iteration over ").append(UNSTEADY)
                        .append("x the median; give it more warm-up): ").append(String.join(", ", unsteady))
                        .append("\n\n");
            }
            if (TARGET_SHAPES.contains(key[0])) {
                for (String m : new String[] {"cpuArrays", "cpuNdArray", "scalarArrays"}) {
                    double t1 = time(rows, m + "_t1");
                    double t2 = time(rows, m + "_t2");
                    if (Double.isNaN(t1) && Double.isNaN(t2)) {
                        continue;
                    }
                    // x C, x copy, 2T/1T, copy 2T/1T, C 2T/1T, x C with passive threads, x C 16 bytes past a line
                    // (CKernel.MODES)
                    List<double[]> perRound = new ArrayList<>();
                    for (int round = 0; round < rounds; round++) {
                        int k = round;
                        List<Row> in = cell.stream().filter(r -> r.round() == k).toList();
                        double r1 = time(in, m + "_t1");
                        double r2 = time(in, m + "_t2");
                        double roundCopy = in.stream().filter(r -> isCopy(r.method())).mapToDouble(Row::nanos).min()
                                .orElse(Double.NaN);
                        perRound.add(new double[] {time(in, "c:kernel_t2") / r2, roundCopy / r2, r1 / r2,
                            best(in, COPIES_1T) / best(in, COPIES_2T), time(in, "c:kernel_t1") / time(in, "c:kernel_t2"),
                            time(in, "c:kernel_passive_t2") / r2, time(in, "c:kernel_16past_t2") / r2});
                    }
                    // the scaling target applies where the copy itself scales (median over the rounds)
                    double copyScales = median(perRound.stream().map(r -> r[3]).sorted().toList());
                    verdicts.add(String.format(Locale.ROOT,
                            "| [%s, %s] %s | %s | %.1f | %.1f | %.1f | %.1f (%s) | %s | %s | %s | %s | %s | %s / %s |", rc[0],
                            rc[1], key[1], m, bytes / t1, bytes / t2, bytes / time(rows, "c:kernel_t2"), bytes / copy, copyName,
                            verdict(perRound, 0, 0.9), verdict(perRound, 5, Double.NaN), verdict(perRound, 6, Double.NaN),
                            verdict(perRound, 1, 0.85), verdict(perRound, 2, copyScales >= 1.7 ? 1.7 : Double.NaN),
                            verdict(perRound, 3, Double.NaN), verdict(perRound, 4, Double.NaN)));
                }
            }
        }
        if (!verdicts.isEmpty()) {
            sb.append("### Issue 9 targets, 2 threads: >= 0.9x C, >= 0.85x fastest copy, 2T >= 1.7x 1T where the copy"
                    + " scales\n\n");
            if (rounds > 1) {
                sb.append("Each ratio is taken within a round (both sides measured seconds apart) and shown as the median"
                        + " over the " + rounds + " rounds, with their range.\n\n");
            }
            sb.append("`x C passive` compares with the C kernel run with `OMP_WAIT_POLICY=passive` (its threads sleep"
                    + " between calls, as the backend's do); `x C 16 past` with the C kernel on arrays 16 bytes past a"
                    + " 64-byte line, where HotSpot puts a large array's elements and ND4J its buffers (the memory the"
                    + " backend gets; `c:kernel` runs on arrays on a line). Neither has a target.\n\n");
            sb.append("| shape | method | GB/s 1T | GB/s 2T | C 2T GB/s | fastest copy GB/s | x C (2T) | x C passive (2T)"
                    + " | x C 16 past (2T) | x copy (2T) | 2T / 1T | copy 2T/1T / C 2T/1T |\n");
            sb.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            verdicts.forEach(v -> sb.append(v).append('\n'));
        }
        return sb.toString();
    }

    /** Each method's rows of one cell as one: the median of its round medians, the range of all its iterations. */
    private static List<Row> overRounds(List<Row> cell) {
        Map<String, List<Row>> byMethod = new LinkedHashMap<>();
        cell.forEach(r -> byMethod.computeIfAbsent(r.method(), k -> new ArrayList<>()).add(r));
        List<Row> rows = new ArrayList<>();
        byMethod.forEach((method, rs) -> rows.add(new Row(rs.get(0).shape(), rs.get(0).dtype(), method, -1,
                median(rs.stream().map(Row::nanos).sorted().toList()), rs.stream().mapToDouble(Row::min).min().orElseThrow(),
                rs.stream().mapToDouble(Row::max).max().orElseThrow())));
        return rows;
    }

    /** Column {@code c} of the per-round ratios: the median, marked when below {@code target}, and the range. */
    private static String verdict(List<double[]> perRound, int c, double target) {
        List<Double> v = perRound.stream().map(r -> r[c]).filter(x -> !Double.isNaN(x)).sorted().toList();
        if (v.isEmpty()) {
            return "?";
        }
        double m = median(v);
        String range = v.size() > 1 ? String.format(Locale.ROOT, " (%.2f-%.2f)", v.get(0), v.get(v.size() - 1)) : "";
        return String.format(Locale.ROOT, "%.2f%s%s", m, range, m >= target || Double.isNaN(target) ? "" : " **miss**");
    }

    private static boolean isCopy(String method) {
        return method.startsWith("copy") || method.startsWith("c:memcpy") || method.startsWith("c:storecopy");
    }

    private static double best(List<Row> rows, List<String> methods) {
        return rows.stream().filter(r -> methods.contains(r.method())).mapToDouble(Row::nanos).min().orElse(Double.NaN);
    }

    private static double time(List<Row> rows, String method) {
        return rows.stream().filter(r -> r.method().equals(method)).mapToDouble(Row::nanos).findFirst()
                .orElse(Double.NaN);
    }

    private static String ratio(double baseline, double nanos) {
        return Double.isNaN(baseline) ? "" : String.format(Locale.ROOT, "%.1fx", baseline / nanos);
    }

    private static String duration(double nanos) {
        if (Double.isNaN(nanos)) {
            return "?";
        }
        if (nanos >= 1e6) {
            return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
        }
        if (nanos >= 1e3) {
            return String.format(Locale.ROOT, "%.2f µs", nanos / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f ns", nanos);
    }
}
