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
 * Runs {@link BackwardBench} (all methods side by side, one JMH run) and prints a table: time per
 * call, GB/s (bytes read + written / time), the ratio to the faster copy of the same bytes, and the
 * speed-up of the cpu backend over ND4J's composed ops and softmax_bp.
 *
 * <pre>
 * arguments: [-quick] [-shapes 64x50257,4096x1024] [-dtypes f32,f64] [-methods REGEX]
 *            [-wi N] [-i N] [-r SECONDS] [-out FILE.md]
 * </pre>
 */
public final class BenchMain {
    static final String[] ALL_SHAPES = {"64x50257", "4096x1024", "1024x32000", "32x128", "1x1024"};
    /** The shapes the issue sets targets for (float32). */
    static final List<String> TARGET_SHAPES = List.of("64x50257", "4096x1024", "1024x32000");

    private BenchMain() {}

    public static void main(String[] args) throws RunnerException, IOException {
        String shapes = String.join(",", ALL_SHAPES);
        String dtypes = "f32,f64";
        String methods = ".*";
        int warmups = 3;
        int iterations = 5;
        double seconds = 1;
        Path out = null;
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
                case "-i" -> iterations = Integer.parseInt(args[++a]);
                case "-r" -> seconds = Double.parseDouble(args[++a]);
                case "-out" -> out = Path.of(args[++a]);
                case "" -> { }
                default -> throw new IllegalArgumentException("unknown argument " + args[a]
                        + "; use [-quick] [-shapes A,B] [-dtypes f32,f64] [-methods REGEX] [-wi N] [-i N] [-r S]"
                        + " [-out FILE]");
            }
        }
        TimeValue time = TimeValue.milliseconds(Math.round(seconds * 1000));
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include(BackwardBench.class.getName() + "\\.(" + methods + ")$")
                .param("shape", shapes.split(","))
                .param("dtype", dtypes.split(","))
                .warmupIterations(warmups).warmupTime(time)
                .measurementIterations(iterations).measurementTime(time)
                .forks(1);
        Collection<RunResult> results = new Runner(options.build()).run();
        String table = table(results);
        System.out.println();
        System.out.println(table);
        if (out != null) {
            Files.writeString(out, table);
        }
    }

    /** One row of the table. */
    record Row(String method, double nanos, double error) {}

    static String table(Collection<RunResult> results) {
        Map<String, List<Row>> groups = new LinkedHashMap<>();
        for (String shape : ALL_SHAPES) {
            for (String dtype : new String[] {"f32", "f64"}) {
                groups.put(shape + " " + dtype, new ArrayList<>());
            }
        }
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark();
            String key = r.getParams().getParam("shape") + " " + r.getParams().getParam("dtype");
            groups.computeIfAbsent(key, k -> new ArrayList<>()).add(new Row(name.substring(name.lastIndexOf('.') + 1),
                    r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()));
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
            double copy = rows.stream().filter(r -> r.method().startsWith("copy")).mapToDouble(Row::nanos).min()
                    .orElse(Double.NaN);
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
            if (key[1].equals("f32") && TARGET_SHAPES.contains(key[0])) {
                for (String m : new String[] {"autoArrays", "autoNdArray"}) {
                    double t = time(rows, m);
                    if (!Double.isNaN(t)) {
                        verdicts.add(String.format(Locale.ROOT,
                                "| [%s, %s] f32 | %s | %.2f (%s) | %.1fx (%s) | %.1fx (%s) |", rc[0], rc[1], m, copy / t,
                                copy / t >= 0.85 ? "met" : "missed", composed / t, composed / t >= 5 ? "met" : "missed",
                                softmaxBp / t, softmaxBp / t >= 4 ? "met" : "missed"));
                    }
                }
            }
        }
        if (!verdicts.isEmpty()) {
            sb.append("### Targets (float32): >= 0.85x fastest copy, >= 5x composed ops, >= 4x softmax_bp\n\n");
            sb.append("| shape | method | x fastest copy | vs composed | vs softmax_bp |\n");
            sb.append("| --- | --- | ---: | ---: | ---: |\n");
            verdicts.forEach(v -> sb.append(v).append('\n'));
        }
        return sb.toString();
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
