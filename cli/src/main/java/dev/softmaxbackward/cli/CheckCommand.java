package dev.softmaxbackward.cli;

import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.cli.Kernels.DType;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code check}: the contract's invariants on each backend, as a pass/fail table. */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"On each available backend, in float32 and float64: output shape and untouched inputs, "
            + "the explicit Jacobian-vector product (diag(y) - y y^T) g, central finite differences of "
            + "L(x) = g . softmax(x), sum(gradIn) ~ 0, constant g rows giving exact zeros, the worked examples "
            + "(y=[0.2,0.3,0.5], g=[1,0,0] -> [0.16,-0.06,-0.10]), and bitwise agreement with the reference "
            + "backend on random batches of several shapes (softmaxBackward, crossEntropyBackward; forward "
            + "softmax within 2 ulp). Prints a pass/fail table; exit status 1 on any failure."})
final class CheckCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--backend", paramLabel = "NAME|all", defaultValue = "all",
            description = "backend to check (default: ${DEFAULT-VALUE}, every available one)")
    String backend;

    @Option(names = {"-v", "--verbose"}, description = "also print each check's measurements (errors, ulps, rows tested)")
    boolean verbose;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        boolean ok = run(Backends.resolve(backend), out, verbose);
        out.flush();
        return ok ? Main.OK : Main.FAILED;
    }

    /** A check's outcome: null failure means pass; detail is shown either way when not empty. */
    record Outcome(String failure, String detail) {
        static Outcome pass(String detail) {
            return new Outcome(null, detail);
        }

        static Outcome fail(String why) {
            return new Outcome(why, "");
        }
    }

    @FunctionalInterface
    interface Check {
        Outcome run(SoftmaxBackwardBackend b, DType t);
    }

    static final Map<String, Check> CHECKS = new LinkedHashMap<>();

    static {
        CHECKS.put("output shape, inputs untouched", CheckCommand::shape);
        CHECKS.put("Jacobian-vector product", CheckCommand::jacobian);
        CHECKS.put("finite differences", CheckCommand::finiteDifferences);
        CHECKS.put("sum(gradIn) ~ 0", CheckCommand::sumZero);
        CHECKS.put("constant g -> exact zeros", CheckCommand::constantRows);
        CHECKS.put("worked examples", CheckCommand::workedExamples);
        CHECKS.put("bitwise = reference (backward)", CheckCommand::bitwiseBackward);
        CHECKS.put("bitwise = reference (CE backward)", CheckCommand::bitwiseCrossEntropy);
        CHECKS.put("forward softmax vs reference", CheckCommand::forward);
    }

    static boolean run(List<SoftmaxBackwardBackend> backends, PrintWriter out, boolean verbose) {
        out.println("Checks (fixed seed; every backend in float32 and float64):");
        if (backends.isEmpty()) {
            out.println("  no backend is available: nothing to check");
            return false;
        }
        List<String> failures = new ArrayList<>();
        List<String> details = new ArrayList<>();
        Map<String, String[]> table = new LinkedHashMap<>();
        int total = CHECKS.size() * DType.values().length * backends.size();
        try (Progress bar = Progress.start("check", total)) {
            for (Map.Entry<String, Check> c : CHECKS.entrySet()) {
                for (DType t : DType.values()) {
                    String[] cells = new String[backends.size()];
                    for (int k = 0; k < backends.size(); k++) {
                        SoftmaxBackwardBackend b = backends.get(k);
                        bar.message(b.name() + " " + c.getKey());
                        Outcome o;
                        try {
                            o = c.getValue().run(b, t);
                        } catch (RuntimeException | AssertionError e) {
                            o = Outcome.fail("threw " + e);
                        }
                        cells[k] = o.failure() == null ? "pass" : "FAIL";
                        if (o.failure() != null) {
                            failures.add(b.name() + ", " + t.label + ", " + c.getKey() + ": " + o.failure());
                        } else if (!o.detail().isEmpty()) {
                            details.add(b.name() + ", " + t.label + ", " + c.getKey() + ": " + o.detail());
                        }
                        bar.step();
                    }
                    table.put(c.getKey() + " (" + (t == DType.F32 ? "f32" : "f64") + ")", cells);
                }
            }
        }
        int width = table.keySet().stream().mapToInt(String::length).max().orElse(10);
        StringBuilder head = new StringBuilder(String.format("  %-" + width + "s", "check"));
        for (SoftmaxBackwardBackend b : backends) {
            head.append(String.format("  %-9s", b.name()));
        }
        out.println(head.toString().stripTrailing());
        for (Map.Entry<String, String[]> row : table.entrySet()) {
            StringBuilder line = new StringBuilder(String.format("  %-" + width + "s", row.getKey()));
            for (String cell : row.getValue()) {
                line.append(String.format("  %-9s", cell));
            }
            out.println(line.toString().stripTrailing());
        }
        if (verbose) {
            details.forEach(d -> out.println("  " + d));
        }
        if (failures.isEmpty()) {
            out.printf("All %d checks passed.%n", total);
        } else {
            out.printf("%d of %d checks FAILED:%n", failures.size(), total);
            failures.forEach(f -> out.println("  " + f));
        }
        return failures.isEmpty();
    }

    // ---- data -------------------------------------------------------------------------------------

    private static final long SEED = 0x5eedL;

    /** Logits of spread {@code scale}, rounded to the dtype. */
    static double[] logits(SplittableRandom rnd, DType t, int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = t.round(gaussian(rnd) * scale);
        }
        return x;
    }

    static double gaussian(SplittableRandom rnd) {
        // Box-Muller written out, not nextGaussian() (which Java 17's SplittableRandom has too),
        // so the inputs are fixed by this file whatever algorithm the JDK uses
        double u = 1.0 - rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    /** y = softmax(x) from the reference backend, so every backend is checked on the same y. */
    static double[] softmaxRows(DType t, double[] x, int rows, int cols) {
        return Kernels.softmax(Backends.reference(), t, x, rows, cols);
    }

    // ---- the checks -------------------------------------------------------------------------------

    static Outcome shape(SoftmaxBackwardBackend b, DType t) {
        SplittableRandom rnd = new SplittableRandom(SEED);
        int rows = 5;
        int cols = 37;
        double[] y = softmaxRows(t, logits(rnd, t, rows * cols, 2), rows, cols);
        double[] g = logits(rnd, t, rows * cols, 1);
        if (t == DType.F32) {
            float[] gf = Kernels.toFloat(g);
            float[] yf = Kernels.toFloat(y);
            float[] g0 = gf.clone();
            float[] y0 = yf.clone();
            float[] out = new float[rows * cols];
            Arrays.fill(out, Float.NaN); // poison: every entry must be written
            b.softmaxBackward(gf, yf, out, rows, cols);
            if (!Arrays.equals(gf, g0) || !Arrays.equals(yf, y0)) {
                return Outcome.fail("an input array was modified");
            }
            for (float v : out) {
                if (Float.isNaN(v)) {
                    return Outcome.fail("an output entry was not written");
                }
            }
            if (!rejects(() -> b.softmaxBackward(gf, yf, new float[rows * cols - 1], rows, cols))) {
                return Outcome.fail("gradIn of the wrong length was accepted");
            }
        } else {
            double[] g0 = g.clone();
            double[] y0 = y.clone();
            double[] out = new double[rows * cols];
            Arrays.fill(out, Double.NaN);
            b.softmaxBackward(g, y, out, rows, cols);
            if (!Arrays.equals(g, g0) || !Arrays.equals(y, y0)) {
                return Outcome.fail("an input array was modified");
            }
            for (double v : out) {
                if (Double.isNaN(v)) {
                    return Outcome.fail("an output entry was not written");
                }
            }
            if (!rejects(() -> b.softmaxBackward(g, y, new double[rows * cols - 1], rows, cols))) {
                return Outcome.fail("gradIn of the wrong length was accepted");
            }
        }
        return Outcome.pass("[" + rows + " x " + cols + "]");
    }

    private static boolean rejects(Runnable r) {
        try {
            r.run();
            return false;
        } catch (IllegalArgumentException e) {
            return true;
        }
    }

    static Outcome jacobian(SoftmaxBackwardBackend b, DType t) {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        double atol = t == DType.F32 ? 1e-6 : 1e-12;
        double worst = 0;
        for (int cols : new int[] {1, 2, 10, 100, 300}) {
            int rows = 3;
            double[] y = softmaxRows(t, logits(rnd, t, rows * cols, 2), rows, cols);
            double[] g = logits(rnd, t, rows * cols, 1);
            double[] got = Kernels.backward(b, t, g, y, rows, cols);
            for (int r = 0; r < rows; r++) {
                int o = r * cols;
                // the Jacobian of softmax, built explicitly: J[i][j] = y_i (delta_ij - y_j)
                for (int i = 0; i < cols; i++) {
                    double jg = 0;
                    for (int j = 0; j < cols; j++) {
                        double jij = y[o + i] * ((i == j ? 1 : 0) - y[o + j]);
                        jg += jij * g[o + j];
                    }
                    double err = Math.abs(got[o + i] - jg);
                    worst = Math.max(worst, err);
                    if (!(err <= atol)) {
                        return Outcome.fail(String.format("cols %d row %d entry %d: %s vs J g = %s (atol %g)",
                                cols, r, i, got[o + i], jg, atol));
                    }
                }
            }
        }
        return Outcome.pass(String.format("max error %.2g", worst));
    }

    static Outcome finiteDifferences(SoftmaxBackwardBackend b, DType t) {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        double atol = t == DType.F32 ? 1e-3 : 1e-7;
        double h = 1e-5;
        double worst = 0;
        for (int cols : new int[] {2, 3, 17, 64}) {
            double[] x = logits(rnd, t, cols, 2);
            double[] g = logits(rnd, t, cols, 1);
            double[] y = softmaxRows(t, x, 1, cols);
            double[] got = Kernels.backward(b, t, g, y, 1, cols);
            for (int i = 0; i < cols; i++) {
                double[] xp = x.clone();
                double[] xm = x.clone();
                xp[i] += h;
                xm[i] -= h;
                double fd = (loss(xp, g) - loss(xm, g)) / (2 * h);
                double err = Math.abs(got[i] - fd);
                worst = Math.max(worst, err);
                if (!(err <= atol)) {
                    return Outcome.fail(String.format("cols %d entry %d: %s vs finite difference %s (atol %g)",
                            cols, i, got[i], fd, atol));
                }
            }
        }
        return Outcome.pass(String.format("max error %.2g", worst));
    }

    /** L(x) = g . softmax(x), all in float64, written here independently of any backend. */
    private static double loss(double[] x, double[] g) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double dot = 0;
        for (int i = 0; i < x.length; i++) {
            double e = Math.exp(x[i] - max);
            sum += e;
            dot += e * g[i];
        }
        return dot / sum;
    }

    static Outcome sumZero(SoftmaxBackwardBackend b, DType t) {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        int tested = 0;
        double worst = 0;
        for (int[] shape : new int[][] {{16, 5}, {16, 1000}, {4, 5000}}) {
            int rows = shape[0];
            int cols = shape[1];
            double[] y = softmaxRows(t, logits(rnd, t, rows * cols, 3), rows, cols);
            double[] g = logits(rnd, t, rows * cols, 10);
            double[] got = Kernels.backward(b, t, g, y, rows, cols);
            for (int r = 0; r < rows; r++) {
                int o = r * cols;
                BigDecimal sumY = exactSum(y, o, cols);
                // the invariant covers rows whose y sums to 1 within cols * u
                if (sumY.subtract(BigDecimal.ONE).abs().compareTo(new BigDecimal(cols * t.u)) > 0) {
                    continue;
                }
                tested++;
                double maxG = 0;
                for (int i = o; i < o + cols; i++) {
                    maxG = Math.max(maxG, Math.abs(g[i]));
                }
                double bound = 4 * t.u * maxG;
                double s = exactSum(got, o, cols).abs().doubleValue();
                worst = Math.max(worst, s / bound);
                if (!(s <= bound)) {
                    return Outcome.fail(String.format("[%d x %d] row %d: |sum| = %.3g > 4 u max|g| = %.3g",
                            rows, cols, r, s, bound));
                }
            }
        }
        if (tested == 0) {
            return Outcome.fail("no row of y summed to 1 within cols * u: nothing was tested");
        }
        return Outcome.pass(String.format("%d rows, worst %.2f of the bound", tested, worst));
    }

    static BigDecimal exactSum(double[] a, int from, int n) {
        BigDecimal s = BigDecimal.ZERO;
        for (int i = from; i < from + n; i++) {
            s = s.add(new BigDecimal(a[i]));
        }
        return s;
    }

    static Outcome constantRows(SoftmaxBackwardBackend b, DType t) {
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        double[] constants = {0, 1, -3.7, 0x1p-100, t == DType.F32 ? 1e30 : 1e200, -12345.678};
        for (int cols : new int[] {1, 3, 100, 4096, 5000}) {
            int rows = constants.length * 2;
            double[] y = new double[rows * cols];
            double[] g = new double[rows * cols];
            double[] sm = softmaxRows(t, logits(rnd, t, rows * cols, 2), rows, cols);
            for (int r = 0; r < rows; r++) {
                double c = t.round(constants[r % constants.length]);
                for (int i = r * cols; i < (r + 1) * cols; i++) {
                    g[i] = c;
                    // half the rows: a softmax output; the others: positive y not summing to 1
                    y[i] = r < constants.length ? sm[i] : t.round(rnd.nextDouble());
                }
            }
            double[] got = Kernels.backward(b, t, g, y, rows, cols);
            for (int i = 0; i < got.length; i++) {
                if (got[i] != 0) {
                    return Outcome.fail(String.format("cols %d row %d entry %d: %s, not +-0 (g = %s)", cols,
                            i / cols, i % cols, got[i], g[i]));
                }
            }
        }
        return Outcome.pass("");
    }

    static Outcome workedExamples(SoftmaxBackwardBackend b, DType t) {
        // y = [0.2, 0.3, 0.5], g = [1, 0, 0]: d = 0.2, gradIn = [0.2 * 0.8, -0.3 * 0.2, -0.5 * 0.2]
        double[] y = {t.round(0.2), t.round(0.3), t.round(0.5)};
        double[] g = {1, 0, 0};
        double[] want = {0.16, -0.06, -0.10};
        double[] got = Kernels.backward(b, t, g, y, 1, 3);
        for (int i = 0; i < 3; i++) {
            // the inputs are 0.2 and 0.3 rounded to the dtype, so allow the contract's bound around 0.16...
            double tol = t.u * (4 * Math.abs(want[i]) + 2 * y[i]);
            if (!(Math.abs(got[i] - want[i]) <= tol)) {
                return Outcome.fail(String.format("y=[0.2,0.3,0.5], g=[1,0,0]: entry %d is %s, want %s", i, got[i],
                        want[i]));
            }
        }
        // exactly representable: y = 1/4 each, g = [1, 2, 3, 4]: d = 2.5, gradIn = [-3/8, -1/8, 1/8, 3/8]
        double[] exact = Kernels.backward(b, t, new double[] {1, 2, 3, 4}, new double[] {.25, .25, .25, .25}, 1, 4);
        if (!Arrays.equals(exact, new double[] {-0.375, -0.125, 0.125, 0.375})) {
            return Outcome.fail("y=[1/4]*4, g=[1,2,3,4]: " + Arrays.toString(exact) + ", want [-0.375, -0.125, 0.125, 0.375]");
        }
        // a row whose y sums to exactly 0 has d = 0, so gradIn = y * g = 0
        double[] zeroY = Kernels.backward(b, t, new double[] {1, -2, 3}, new double[] {0, 0, 0}, 1, 3);
        for (double v : zeroY) {
            if (v != 0) {
                return Outcome.fail("y=[0,0,0]: " + Arrays.toString(zeroY) + ", want zeros");
            }
        }
        // a NaN in one row stays in that row
        double[] nan = Kernels.backward(b, t, new double[] {1, Double.NaN, 0, 1, 2, 3},
                new double[] {.5, .25, .25, .25, .25, .5}, 2, 3);
        if (!Double.isNaN(nan[0]) || Double.isNaN(nan[3]) || Double.isNaN(nan[4]) || Double.isNaN(nan[5])) {
            return Outcome.fail("NaN propagation: " + Arrays.toString(nan));
        }
        return Outcome.pass(Arrays.toString(got));
    }

    /** The shapes of the random batches: tiny, odd, one and several 4096-entry segments, empty. */
    static final int[][] SHAPES = {{1, 1}, {1, 3}, {2, 5}, {7, 33}, {3, 4096}, {2, 4097}, {2, 12_300},
        {64, 1000}, {1, 40_000}, {0, 7}, {5, 0}};

    static Outcome bitwiseBackward(SoftmaxBackwardBackend b, DType t) {
        SplittableRandom rnd = new SplittableRandom(SEED + 5);
        SoftmaxBackwardBackend ref = Backends.reference();
        long entries = 0;
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            double[] y = softmaxRows(t, logits(rnd, t, rows * cols, 4), rows, cols);
            double[] g = logits(rnd, t, rows * cols, 3);
            // special rows: constant g, all-zero y, a NaN, an infinity, y not summing to 1
            if (rows >= 6 && cols >= 2) {
                Arrays.fill(g, 0, cols, 1.5);
                Arrays.fill(y, cols, 2 * cols, 0);
                g[2 * cols + 1] = Double.NaN;
                g[3 * cols] = Double.POSITIVE_INFINITY;
                for (int i = 4 * cols; i < 5 * cols; i++) {
                    y[i] = t.round(rnd.nextDouble());
                }
            }
            double[] want = Kernels.backward(ref, t, g, y, rows, cols);
            double[] got = Kernels.backward(b, t, g, y, rows, cols);
            int i = Kernels.firstBitDifference(got, want);
            if (i >= 0) {
                return Outcome.fail(String.format("[%d x %d] entry %d: %s vs reference %s", rows, cols, i,
                        got[i], want[i]));
            }
            // in place (gradIn == gradOut) gives the same bits
            double[] inPlace = inPlace(b, t, g, y, rows, cols);
            i = Kernels.firstBitDifference(inPlace, want);
            if (i >= 0) {
                return Outcome.fail(String.format("in place [%d x %d] entry %d: %s vs reference %s", rows, cols, i,
                        inPlace[i], want[i]));
            }
            entries += (long) rows * cols;
        }
        return Outcome.pass(entries + " entries, " + SHAPES.length + " shapes");
    }

    private static double[] inPlace(SoftmaxBackwardBackend b, DType t, double[] g, double[] y, int rows, int cols) {
        if (t == DType.F32) {
            float[] buf = Kernels.toFloat(g);
            b.softmaxBackward(buf, Kernels.toFloat(y), buf, rows, cols);
            return Kernels.toDouble(buf);
        }
        double[] buf = g.clone();
        b.softmaxBackward(buf, y.clone(), buf, rows, cols);
        return buf;
    }

    static Outcome bitwiseCrossEntropy(SoftmaxBackwardBackend b, DType t) {
        SplittableRandom rnd = new SplittableRandom(SEED + 6);
        SoftmaxBackwardBackend ref = Backends.reference();
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            if (cols == 0 && rows > 0) {
                continue; // no valid label exists in an empty row
            }
            double[] y = softmaxRows(t, logits(rnd, t, rows * cols, 4), rows, cols);
            int[] labels = new int[rows];
            for (int r = 0; r < rows; r++) {
                labels[r] = r % 5 == 4 ? -100 : rnd.nextInt(cols);
            }
            double scale = t.round(1.0 / Math.max(rows, 1) / 3);
            double[] want = Kernels.crossEntropyBackward(ref, t, y, labels, scale, rows, cols);
            double[] got = Kernels.crossEntropyBackward(b, t, y, labels, scale, rows, cols);
            int i = Kernels.firstBitDifference(got, want);
            if (i >= 0) {
                return Outcome.fail(String.format("[%d x %d] entry %d: %s vs reference %s", rows, cols, i,
                        got[i], want[i]));
            }
        }
        return Outcome.pass("");
    }

    static Outcome forward(SoftmaxBackwardBackend b, DType t) {
        SplittableRandom rnd = new SplittableRandom(SEED + 7);
        SoftmaxBackwardBackend ref = Backends.reference();
        double worstUlps = 0;
        for (int[] shape : SHAPES) {
            int rows = shape[0];
            int cols = shape[1];
            double[] x = logits(rnd, t, rows * cols, 5);
            double[] want = Kernels.softmax(ref, t, x, rows, cols);
            double[] got = Kernels.softmax(b, t, x, rows, cols);
            for (int i = 0; i < got.length; i++) {
                double ulp = t == DType.F32 ? Math.ulp((float) want[i]) : Math.ulp(want[i]);
                double ulps = Math.abs(got[i] - want[i]) / ulp;
                worstUlps = Math.max(worstUlps, ulps);
                // Java backends share StrictMath.exp and agree bit for bit; a GPU's exp may differ by 2 ulp
                if (!(ulps <= 2)) {
                    return Outcome.fail(String.format("[%d x %d] entry %d: %s vs reference %s (%.1f ulp)", rows,
                            cols, i, got[i], want[i], ulps));
                }
            }
        }
        return Outcome.pass(worstUlps == 0 ? "bitwise" : String.format("max %.0f ulp", worstUlps));
    }

}
