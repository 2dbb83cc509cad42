package dev.softmaxbackward.cli;

import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.conformance.DType;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench}: time per call and bandwidth of each backend, ND4J composed ops, and a plain copy. */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Times softmaxBackward on a [rows x cols] batch on each available backend, against ND4J "
            + "composed ops y.mul(g.subColumnVector(y.mul(g).sum(true, 1))) as the baseline and a parallel copy "
            + "of the same input bytes as the bandwidth ceiling. Reports the median time per call, GB/s "
            + "(bytes read + written: y, g and gradIn), the fraction of copy bandwidth and the speed-up over "
            + "the baseline.",
            "A quick look, not a benchmark harness: for published numbers use the JMH benchmarks in bench/."})
final class BenchCommand extends Subcommand {
    @Option(names = "--rows", paramLabel = "B", defaultValue = "256", description = "rows (default: ${DEFAULT-VALUE})")
    int rows = 256;

    @Option(names = "--cols", paramLabel = "V", defaultValue = "32768",
            description = "entries per row (default: ${DEFAULT-VALUE})")
    int cols = 32768;

    @Option(names = "--dtype", paramLabel = "f32|f64", defaultValue = "f32", converter = DTypeConverter.class,
            description = "f32 or f64 (default: ${DEFAULT-VALUE})")
    DType dtype = DType.FLOAT32;

    @Option(names = "--backend", paramLabel = "NAME|all", defaultValue = "all",
            description = "backend to time (default: ${DEFAULT-VALUE}, every available one)")
    String backend = "all";

    @Option(names = "--seconds", paramLabel = "S", defaultValue = "2",
            description = "seconds of timed calls per subject, after a short warm-up (default: ${DEFAULT-VALUE})")
    double seconds = 2;

    /** One subject's result; NaN where a ratio does not apply. */
    record Result(String name, double secondsPerCall, double gigabytesPerSecond, double ofCopy, double speedup) {}

    @Override
    boolean execute(PrintWriter out) {
        if (rows < 1 || cols < 1) {
            throw badOption("--rows and --cols must be at least 1 (got " + rows + " and " + cols + ")");
        }
        if (!(seconds > 0) || seconds > 3600) {
            throw badOption("--seconds must be in (0, 3600] (got " + seconds + ")");
        }
        run(Backends.resolve(backend), out);
        return true;
    }

    List<Result> run(List<SoftmaxBackwardBackend> backends, PrintWriter out) {
        long n = (long) rows * cols;
        if (n > Integer.MAX_VALUE - 8) {
            throw new Main.CliException(Main.USAGE, "rows * cols = " + n + " is more than a Java array holds");
        }
        // y, g, gradIn and the copy's two destinations live on the heap (and, while the data is made, y and
        // g in float64); ND4J's copies of y and g off it
        long heapBytes = 5 * n * dtype.bytes() + 16 * n;
        Memory.require(heapBytes, String.format("[%d x %d] %s (y, g, gradIn and the copy's two destinations)",
                rows, cols, dtype.label()));
        int size = (int) n;
        double bytes = 3.0 * size * dtype.bytes();
        out.printf("Bench: [%d x %d] %s, %.1f MB read + written per call (y, g, gradIn), %.1f s per subject, "
                + "%d cores%n", rows, cols, dtype.label(), bytes / 1e6, seconds, Runtime.getRuntime().availableProcessors());

        // fresh random data (never zeros): y positive rows summing to about 1, g standard normal
        SplittableRandom rnd = new SplittableRandom(42);
        double[] y = new double[size];
        double[] g = new double[size];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                y[i] = rnd.nextDouble() + 1e-3;
                sum += y[i];
            }
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                y[i] = dtype.round(y[i] / sum);
                g[i] = dtype.round(Data.gaussian(rnd));
            }
        }
        List<String> names = new ArrayList<>();
        List<Double> times = new ArrayList<>();
        List<Runnable> subjects = new ArrayList<>();
        Object yArr = dtype == DType.FLOAT32 ? Data.toFloat(y) : y;
        Object gArr = dtype == DType.FLOAT32 ? Data.toFloat(g) : g;
        Object outArr = dtype == DType.FLOAT32 ? new float[size] : new double[size];
        for (SoftmaxBackwardBackend b : backends) {
            names.add(b.name());
            subjects.add(dtype == DType.FLOAT32
                    ? () -> b.softmaxBackward((float[]) gArr, (float[]) yArr, (float[]) outArr, rows, cols)
                    : () -> b.softmaxBackward((double[]) gArr, (double[]) yArr, (double[]) outArr, rows, cols));
        }
        y = null;
        g = null;
        String nd4jProblem = null;
        INDArray[] nd = null;
        try {
            nd = dtype == DType.FLOAT32
                    ? new INDArray[] {Nd4j.create((float[]) yArr, new long[] {rows, cols}, 'c'),
                        Nd4j.create((float[]) gArr, new long[] {rows, cols}, 'c')}
                    : new INDArray[] {Nd4j.create((double[]) yArr, new long[] {rows, cols}, 'c'),
                        Nd4j.create((double[]) gArr, new long[] {rows, cols}, 'c')};
        } catch (RuntimeException | LinkageError e) {
            nd4jProblem = e.toString();
        }
        int baseline = -1;
        if (nd != null) {
            INDArray ny = nd[0];
            INDArray ngr = nd[1];
            baseline = names.size();
            names.add("ND4J composed ops");
            subjects.add(() -> {
                // y.mul(g.subColumnVector(y.mul(g).sum(true, 1))), closing each temporary at once so the
                // off-heap memory of many calls does not wait for the garbage collector
                INDArray yg = ny.mul(ngr);
                INDArray d = yg.sum(true, 1);
                INDArray centred = ngr.subColumnVector(d);
                INDArray result = ny.mul(centred);
                yg.close();
                d.close();
                centred.close();
                result.close();
            });
        }
        int copy = names.size();
        names.add("copy (same bytes)");
        Object copyY = dtype == DType.FLOAT32 ? new float[size] : new double[size];
        Object copyG = dtype == DType.FLOAT32 ? new float[size] : new double[size];
        subjects.add(() -> IntStream.range(0, rows).parallel().forEach(r -> {
            System.arraycopy(yArr, r * cols, copyY, r * cols, cols);
            System.arraycopy(gArr, r * cols, copyG, r * cols, cols);
        }));

        try (Progress bar = Progress.start("bench", subjects.size())) {
            for (int k = 0; k < subjects.size(); k++) {
                bar.message(names.get(k));
                times.add(medianSeconds(subjects.get(k), seconds));
                bar.step();
            }
        }
        if (nd != null) {
            nd[0].close();
            nd[1].close();
        }
        double copyGbs = 4.0 * size * dtype.bytes() / times.get(copy) / 1e9;
        List<Result> results = new ArrayList<>();
        int width = Math.max(20, names.stream().mapToInt(String::length).max().orElse(0));
        out.printf("  %-" + width + "s  %11s  %8s  %8s  %8s%n", "subject", "time/call", "GB/s", "of copy", "vs ND4J");
        for (int k = 0; k < names.size(); k++) {
            double t = times.get(k);
            double gbs = (k == copy ? 4.0 * size * dtype.bytes() : bytes) / t / 1e9;
            double ofCopy = k == copy ? 1.0 : gbs / copyGbs;
            double speedup = baseline < 0 || k == copy ? Double.NaN : times.get(baseline) / t;
            results.add(new Result(names.get(k), t, gbs, ofCopy, speedup));
            out.printf("  %-" + width + "s  %11s  %8.2f  %7.0f%%  %8s%n", names.get(k), time(t), gbs, 100 * ofCopy,
                    Double.isNaN(speedup) ? "-" : String.format("%.2fx", speedup));
        }
        if (nd4jProblem != null) {
            out.println("  (ND4J baseline skipped: " + nd4jProblem + ")");
        }
        out.println("  GB/s counts y and g read and gradIn written; the copy moves y and g to new arrays "
                + "(read + written).");
        return results;
    }

    /** Median wall time of one call, after a warm-up of a quarter of the budget (at most 1 s). */
    static double medianSeconds(Runnable call, double seconds) {
        long warmEnd = System.nanoTime() + (long) (Math.min(1.0, seconds / 4) * 1e9);
        int warm = 0;
        while (System.nanoTime() < warmEnd || warm < 2) {
            call.run();
            warm++;
        }
        List<Long> samples = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < end || samples.size() < 3) {
            long t0 = System.nanoTime();
            call.run();
            samples.add(System.nanoTime() - t0);
        }
        long[] s = samples.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(s);
        return s[s.length / 2] / 1e9;
    }

    static String time(double s) {
        if (s >= 1) {
            return String.format("%.3f s", s);
        }
        if (s >= 1e-3) {
            return String.format("%.3f ms", s * 1e3);
        }
        return String.format("%.2f us", s * 1e6);
    }

    /** f32 / float32 / f64 / float64, any case. */
    static final class DTypeConverter implements CommandLine.ITypeConverter<DType> {
        @Override
        public DType convert(String value) {
            switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
                case "f32", "float32", "float" -> {
                    return DType.FLOAT32;
                }
                case "f64", "float64", "double" -> {
                    return DType.FLOAT64;
                }
                default -> throw new CommandLine.TypeConversionException(
                        "'" + value + "' is not a dtype: use f32 or f64");
            }
        }
    }
}
