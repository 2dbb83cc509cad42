package dev.softmaxbackward.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
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
 * Runs {@link BackwardBench} (all methods side by side, one JMH run), then the C kernel of the same
 * numerics and C's memcpy ({@code bench/src/main/c}, built by the {@code bench} profile) at the same
 * shapes with the same timing method, and prints a table: time per call, GB/s (bytes read + written /
 * time), the ratio to the fastest copy of the same bytes, and the issue-9 ratios (ours / C, ours /
 * fastest copy, 2 threads / 1 thread). Before timing C it checks that the C kernel returns the
 * reference backend's bits on sample batches; if it does not, its rows are dropped and the table says so.
 *
 * <pre>
 * arguments: [-quick] [-shapes 64x50257,4096x1024] [-dtypes f32,f64] [-methods REGEX]
 *            [-wi N] [-w SECONDS] [-i N] [-r SECONDS] [-c NATIVE_DIR | -noc] [-cthreads 1,2] [-out FILE.md]
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
                case "-out" -> out = Path.of(args[++a]);
                case "" -> { }
                default -> throw new IllegalArgumentException("unknown argument " + args[a]
                        + "; use [-quick] [-shapes A,B] [-dtypes f32,f64] [-methods REGEX] [-wi N] [-w S] [-i N] [-r S]"
                        + " [-c DIR | -noc] [-cthreads 1,2] [-out FILE]");
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
        Collection<RunResult> results = List.of();
        if (!methods.equals("none")) {
            ChainedOptionsBuilder options = new OptionsBuilder()
                    .include(BackwardBench.class.getName() + "\\.(" + methods + ")$")
                    .param("shape", shapes.split(","))
                    .param("dtype", dtypes.split(","))
                    .warmupIterations(warmups).warmupTime(TimeValue.milliseconds(Math.round(warmupSeconds * 1000)))
                    .measurementIterations(iterations).measurementTime(TimeValue.milliseconds(Math.round(seconds * 1000)))
                    .forks(1);
            results = new Runner(options.build()).run();
        }
        List<Row> rows = new ArrayList<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            rows.add(new Row(r.getParams().getParam("shape"), r.getParams().getParam("dtype"),
                    name.substring(name.lastIndexOf('.') + 1), r.getPrimaryResult().getScore(),
                    r.getPrimaryResult().getScoreError()));
        }
        if (driver != null) {
            for (String shape : shapes.split(",")) {
                for (String dtype : dtypes.split(",")) {
                    for (String mode : new String[] {"kernel", "memcpy"}) {
                        for (String t : cThreads.split(",")) {
                            rows.add(CKernel.time(driver, shape, dtype, mode, Integer.parseInt(t), warmups,
                                    iterations, warmupSeconds, seconds));
                        }
                    }
                }
            }
        }
        String table = String.join("\n", notes) + "\n\n" + table(rows);
        System.out.println();
        System.out.println(table);
        if (out != null) {
            Files.writeString(out, table);
        }
    }

    /** One measured method at one shape and dtype: mean time per call and its 99.9 % error, in ns. */
    record Row(String shape, String dtype, String method, double nanos, double error) {}

    /** The 1-thread copies and the 2-thread copies (ND4J's assign uses ND4J's own thread count). */
    private static final List<String> COPIES_1T = List.of("copyArraycopy", "c:memcpy_t1");
    private static final List<String> COPIES_2T = List.of("copyParallel", "c:memcpy_t2");

    static String table(List<Row> all) {
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
            List<Row> rows = e.getValue();
            if (rows.isEmpty()) {
                continue;
            }
            String[] key = e.getKey().split(" ");
            String[] rc = key[0].split("x");
            long entries = Long.parseLong(rc[0]) * Long.parseLong(rc[1]);
            double bytes = entries * (key[1].equals("f32") ? 12.0 : 24.0);
            double copy = rows.stream().filter(r -> isCopy(r.method())).mapToDouble(Row::nanos).min()
                    .orElse(Double.NaN);
            String copyName = rows.stream().filter(r -> isCopy(r.method()) && r.nanos() == copy).map(Row::method)
                    .findFirst().orElse("?");
            double composed = time(rows, "nd4jComposed");
            double softmaxBp = time(rows, "nd4jSoftmaxBp");
            sb.append(String.format(Locale.ROOT, "### [%s, %s] %s (%.1f MB read + written per call)%n%n", rc[0], rc[1],
                    key[1].equals("f32") ? "float32" : "float64", bytes / 1e6));
            sb.append("| method | time/call | GB/s | x fastest copy | speed-up vs composed | speed-up vs softmax_bp |\n");
            sb.append("| --- | ---: | ---: | ---: | ---: | ---: |\n");
            rows.sort((a, b) -> Double.compare(a.nanos(), b.nanos()));
            for (Row r : rows) {
                sb.append(String.format(Locale.ROOT, "| %s | %s ± %s | %.2f | %.2f | %s | %s |%n", r.method(),
                        duration(r.nanos()), duration(r.error()), bytes / r.nanos(), copy / r.nanos(),
                        ratio(composed, r.nanos()), ratio(softmaxBp, r.nanos())));
            }
            sb.append('\n');
            if (TARGET_SHAPES.contains(key[0])) {
                double c1 = time(rows, "c:kernel_t1");
                double c2 = time(rows, "c:kernel_t2");
                double copy1 = best(rows, COPIES_1T);
                double copy2 = best(rows, COPIES_2T);
                for (String m : new String[] {"cpuArrays", "cpuNdArray", "scalarArrays"}) {
                    double t1 = time(rows, m + "_t1");
                    double t2 = time(rows, m + "_t2");
                    if (Double.isNaN(t1) && Double.isNaN(t2)) {
                        continue;
                    }
                    verdicts.add(String.format(Locale.ROOT,
                            "| [%s, %s] %s | %s | %.1f | %.1f | %.1f | %.1f (%s) | %s | %s | %s | %s |", rc[0], rc[1],
                            key[1], m, bytes / t1, bytes / t2, bytes / c2, bytes / copy, copyName,
                            mark(c2 / t2, 0.9), mark(copy / t2, 0.85), mark(t1 / t2, 1.7),
                            String.format(Locale.ROOT, "%.2f / %.2f", copy1 / copy2, c1 / c2)));
                }
            }
        }
        if (!verdicts.isEmpty()) {
            sb.append("### Issue 9 targets, 2 threads: >= 0.9x C, >= 0.85x fastest copy, 2T >= 1.7x 1T where the copy"
                    + " scales\n\n");
            sb.append("| shape | method | GB/s 1T | GB/s 2T | C 2T GB/s | fastest copy GB/s | x C (2T) | x copy (2T)"
                    + " | 2T / 1T | copy 2T/1T / C 2T/1T |\n");
            sb.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            verdicts.forEach(v -> sb.append(v).append('\n'));
        }
        return sb.toString();
    }

    private static boolean isCopy(String method) {
        return method.startsWith("copy") || method.startsWith("c:memcpy");
    }

    private static double best(List<Row> rows, List<String> methods) {
        return rows.stream().filter(r -> methods.contains(r.method())).mapToDouble(Row::nanos).min().orElse(Double.NaN);
    }

    private static String mark(double ratio, double target) {
        if (Double.isNaN(ratio)) {
            return "?";
        }
        return String.format(Locale.ROOT, "%.2f%s", ratio, ratio >= target ? "" : " **miss**");
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
