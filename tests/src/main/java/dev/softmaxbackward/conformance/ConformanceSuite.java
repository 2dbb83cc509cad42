package dev.softmaxbackward.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.conformance.Inputs.GradientKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.function.Executable;

/**
 * The conformance suite as JUnit 5 dynamic tests, for any one backend: {@link #tests} gives the tree
 * of tests for a backend; {@link #forEveryBackend()} gives one container per backend ServiceLoader
 * finds, where an unavailable backend's container holds a single test that is aborted (reported as
 * skipped) with the backend's reason. Use it from a {@code @TestFactory}, or extend
 * {@link BackendConformanceTest}.
 *
 * <p>Every input is deterministic (fixed seeds), so a failure reproduces; the random exploration is in
 * {@link SoftmaxBackwardProperties}.
 */
public final class ConformanceSuite {
    /** Row lengths that cross the canonical order's boundaries: lanes (32), segments (4096), primes. */
    private static final int[] SIZES = {1, 2, 3, 5, 7, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4091, 4093, 4095,
        4096, 4097, 4099, 8191, 8192, 8193, 12281, 12288, 12289, 65521, 69997, 70000};

    private static final Map<String, Integer> PASSED = new ConcurrentHashMap<>();

    private ConformanceSuite() {}

    /** One container per discovered backend; unavailable ones hold one test, skipped with the reason. */
    public static Stream<DynamicNode> forEveryBackend() {
        return SoftmaxBackward.backends().stream().map(ConformanceSuite::forStatus);
    }

    /** The container for one discovered backend. */
    public static DynamicContainer forStatus(BackendStatus status) {
        if (!status.available()) {
            String reason = "backend '" + status.name() + "' is unavailable: " + status.reason();
            String shortReason = status.reason().length() > 200 ? status.reason().substring(0, 200) + "..."
                    : status.reason();
            return dynamicContainer(status.name() + " (unavailable)", Stream.of(
                    dynamicTest("skipped: " + shortReason, () -> Assumptions.abort(reason))));
        }
        return dynamicContainer(status.name(), tests(SoftmaxBackward.backend(status.name())));
    }

    /** How many of the suite's tests have passed for the backend with this name, in this JVM. */
    public static int passed(String backendName) {
        return PASSED.getOrDefault(backendName, 0);
    }

    /** The number of tests (leaves) in a tree. */
    public static int count(List<? extends DynamicNode> nodes) {
        int n = 0;
        for (DynamicNode node : nodes) {
            n += node instanceof DynamicContainer c ? count(c.getChildren().toList()) : 1;
        }
        return n;
    }

    /** The whole suite for one backend. */
    public static List<DynamicNode> tests(SoftmaxBackwardBackend b) {
        Suite s = new Suite(b);
        return List.of(
                s.container("worked examples", s::workedExamples),
                s.container("output shape", s::shapes),
                s.container("Jacobian-vector product", s::jacobian),
                s.container("central finite differences", s::finiteDifferences),
                s.container("row lengths: oracle, row sums, constant rows, in place, bitwise vs reference", s::sizes),
                s.container("gradient magnitudes", s::magnitudes),
                s.container("logit scales", s::logitScales),
                s.container("rows near the largest finite value", s::nearLargest),
                s.container("constant rows give exact zeros", s::constantRows),
                s.container("in place and inputs unmodified", s::inPlace),
                s.container("NaN and Inf stay in their row", s::nonFinite),
                s.container("zero rows, zero cols, one col", s::degenerate),
                s.container("bad inputs", s::badInputs),
                s.container("8 threads", s::threads),
                s.container("forward softmax", s::softmax),
                s.container("crossEntropyBackward", s::crossEntropy));
    }

    /** The per-backend test builders. */
    private static final class Suite {
        private final SoftmaxBackwardBackend b;
        private final String name;

        Suite(SoftmaxBackwardBackend b) {
            this.b = b;
            this.name = b.name();
        }

        DynamicContainer container(String title, java.util.function.Consumer<List<DynamicNode>> builder) {
            List<DynamicNode> nodes = new ArrayList<>();
            builder.accept(nodes);
            return dynamicContainer(title, nodes);
        }

        DynamicTest test(String title, Executable body) {
            return dynamicTest(title, () -> {
                body.execute();
                PASSED.merge(name, 1, Integer::sum);
            });
        }

        // ---- worked examples ------------------------------------------------------------------------

        void workedExamples(List<DynamicNode> t) {
            for (DType dt : DType.values()) {
                cases(t, Conformance.workedExamples(b, dt));
            }
        }

        void cases(List<DynamicNode> t, List<Case> cases) {
            for (Case c : cases) {
                t.add(test(c.title(), c.check()::run));
            }
        }

        // ---- output shape ---------------------------------------------------------------------------

        void shapes(List<DynamicNode> t) {
            int[][] shapes = {{1, 1}, {1, 3}, {3, 1}, {2, 5}, {7, 33}, {4, 4097}, {65, 64}};
            for (DType dt : DType.values()) {
                for (int[] s : shapes) {
                    t.add(test(dt + " [" + s[0] + "x" + s[1] + "]: every entry written, nothing else", () -> {
                        Batch batch = Inputs.batch(new Random(s[0] * 31L + s[1]), dt, s[0], s[1], 2.0,
                                GradientKind.UNIT, 0);
                        Output out = batch.backward(b);
                        assertEquals(s[0] * s[1], out.length());
                        Checks.allWritten(name, out);
                        Conformance.backward(b, batch, s[0] / 2);
                    }));
                }
            }
        }

        // ---- invariant 4 ----------------------------------------------------------------------------

        private static final int[][] SMALL = {{1, 1}, {1, 2}, {3, 5}, {4, 33}, {2, 100}, {2, 257}};
        private static final double[] SCALES = {1e-3, 1, 10, 1e3};

        void jacobian(List<DynamicNode> t) {
            eachSmallShapeAndScale(t, 1e-6, 1e-12, (dt, rows, cols, scale, atol) -> {
                Batch batch = Inputs.batch(new Random(cols * 7L + (long) scale), dt, rows, cols, scale,
                        GradientKind.UNIT, 0);
                Output out = batch.backward(b);
                Checks.jacobian(batch, out, atol);
                Conformance.backward(b, batch, 0);
            });
        }

        void finiteDifferences(List<DynamicNode> t) {
            eachSmallShapeAndScale(t, 1e-3, 1e-7, (dt, rows, cols, scale, atol) -> {
                Random rnd = new Random(cols * 11L + (long) scale);
                double[] x = Inputs.logits(rnd, rows, cols, scale);
                double[] g = Inputs.gradient(rnd, dt, GradientKind.UNIT, rows, cols, 0);
                Batch batch = Batch.rounded(dt, Inputs.softmax(x, rows, cols), g, rows, cols);
                Output out = batch.backward(b);
                Checks.finiteDifferences(x, batch, out, atol);
            });
        }

        /** One check of invariant 4 on one dtype, shape and logit scale, with that dtype's tolerance. */
        interface SmallCase {
            void run(DType dt, int rows, int cols, double scale, double atol) throws Throwable;
        }

        /** A test per dtype, {@link #SMALL} shape and {@link #SCALES} scale, named by them and the tolerance. */
        private void eachSmallShapeAndScale(List<DynamicNode> t, double atol32, double atol64, SmallCase check) {
            for (DType dt : DType.values()) {
                double atol = dt == DType.FLOAT32 ? atol32 : atol64;
                for (int[] s : SMALL) {
                    for (double scale : SCALES) {
                        t.add(test(dt + " [" + s[0] + "x" + s[1] + "] logit scale " + scale + ", atol " + atol,
                                () -> check.run(dt, s[0], s[1], scale, atol)));
                    }
                }
            }
        }

        // ---- invariants 2, 3, 5, 6 over row lengths ---------------------------------------------------

        void sizes(List<DynamicNode> t) {
            GradientKind[] kinds = {GradientKind.UNIT, GradientKind.OFFSET, GradientKind.MIXED_MAGNITUDES,
                GradientKind.POSITIVE};
            for (DType dt : DType.values()) {
                for (int k = 0; k < SIZES.length; k++) {
                    int cols = SIZES[k];
                    int rows = cols > 10000 ? 2 : 3;
                    GradientKind kind = kinds[k % kinds.length];
                    t.add(test(dt + " cols " + cols + " (" + rows + " rows, g " + kind + ", last row constant)", () -> {
                        Random rnd = new Random(cols);
                        double[] y = Inputs.softmax(Inputs.logits(rnd, rows, cols, 3.0), rows, cols);
                        double[] g = Inputs.gradient(rnd, dt, kind, rows, cols, 0);
                        Arrays.fill(g, (rows - 1) * cols, rows * cols, dt.round(-0.3));
                        Batch batch = Batch.rounded(dt, y, g, rows, cols);
                        Conformance.Coverage c = Conformance.backward(b, batch, 1);
                        assertEquals(rows, c.oracleRows(), "rows the oracle checked");
                        assertEquals(rows, c.sumRows(), "rows the sum bound checked");
                        assertTrue(c.constantRows() >= 1, "constant rows checked");
                    }));
                    t.add(test(dt + " cols " + cols + " (" + rows + " rows, g CANCELLING: order-sensitive sums)", () -> {
                        Batch batch = Inputs.batch(new Random(cols + 7), dt, rows, cols, 1.0, GradientKind.CANCELLING,
                                0);
                        assertEquals(rows, Conformance.backward(b, batch, 1).oracleRows(), "rows the oracle checked");
                    }));
                }
            }
        }

        void magnitudes(List<DynamicNode> t) {
            int[] colsList = {2, 33, 4097};
            for (DType dt : DType.values()) {
                for (GradientKind kind : GradientKind.values()) {
                    for (int cols : colsList) {
                        for (double scale : new double[] {1e-3, 1, 1e3}) {
                            t.add(test(dt + " g " + kind + " cols " + cols + " logit scale " + scale, () -> {
                                Random rnd = new Random(kind.ordinal() * 1000L + cols + (long) scale);
                                Batch batch = Inputs.batch(rnd, dt, 4, cols, scale, kind, 0.25);
                                Conformance.Coverage c = Conformance.backward(b, batch, 2);
                                assertEquals(4, c.oracleRows(), "rows the oracle checked");
                                if (kind == GradientKind.CONSTANT) {
                                    assertEquals(4, c.constantRows(), "constant rows checked");
                                }
                                if (kind != GradientKind.TINY && kind != GradientKind.CONSTANT) {
                                    assertTrue(c.sumRows() >= 1, "rows the sum bound checked: " + c.sumRows());
                                }
                            }));
                        }
                    }
                }
            }
        }

        void logitScales(List<DynamicNode> t) {
            for (DType dt : DType.values()) {
                for (double scale : new double[] {1e-3, 1e-2, 0.1, 1, 10, 100, 1e3}) {
                    t.add(test(dt + " logit scale " + scale + " [8x100]", () -> {
                        Batch batch = Inputs.batch(new Random((long) (scale * 1e4)), dt, 8, 100, scale,
                                GradientKind.UNIT, 0);
                        Conformance.Coverage c = Conformance.backward(b, batch, 3);
                        assertEquals(8, c.oracleRows());
                        assertEquals(8, c.sumRows());
                    }));
                }
            }
        }

        // ---- rows near overflow: docs/numerics.md step 3a and section 5.5 ----------------------------

        void nearLargest(List<DynamicNode> t) {
            for (DType dt : DType.values()) {
                for (int cols : new int[] {2, 33, 4097}) {
                    t.add(test(dt + " cols " + cols + ", |g| up to 2^" + (dt == DType.FLOAT32 ? 125 : 1021)
                            + ", raw y", () -> {
                        Batch batch = Inputs.nearLargest(new Random(cols * 31L + dt.ordinal()), dt, 8, cols);
                        Conformance.Coverage c = Conformance.backward(b, batch, 3);
                        assertEquals(8, c.oracleRows(), "rows the oracle checked");
                        assertEquals(2, c.constantRows(), "constant rows checked");
                    }));
                }
            }
            // issue 10's rows, whose float64 sum(y*g) overflows while the exact outputs are finite
            double max = Double.MAX_VALUE;
            t.add(test("FLOAT64 rows whose sum(y*g) overflows: y=[0.5, nextUp(0.5)], g=[MAX, nextDown(MAX)]; "
                    + "y=[1e5, 1e5], g=[1e304, nextUp(1e304)]; y=[3/4, 1/4], g=[MAX, -MAX]", () -> {
                double[] y = {0.5, Math.nextUp(0.5), 1e5, 1e5, 0.75, 0.25};
                double[] g = {max, Math.nextDown(max), 1e304, Math.nextUp(1e304), max, -max};
                assertEquals(3, Conformance.backward(b, Batch.of(y, g, 3, 2), 1).oracleRows(), "rows the oracle checked");
            }));
            float fmax = Float.MAX_VALUE;
            t.add(test("FLOAT32 y=[3/4, 1/4], g=[MAX, -MAX]; y=[0.5, nextUp(0.5)], g=[MAX, nextDown(MAX)]", () -> {
                float[] y = {0.75f, 0.25f, 0.5f, Math.nextUp(0.5f)};
                float[] g = {fmax, -fmax, fmax, Math.nextDown(fmax)};
                assertEquals(2, Conformance.backward(b, Batch.of(y, g, 2, 2), 1).oracleRows(), "rows the oracle checked");
            }));
        }

        // ---- invariant 2 ----------------------------------------------------------------------------

        void constantRows(List<DynamicNode> t) {
            int[] lengths = {1, 2, 3, 4, 31, 32, 33, 100, 1000, 4095, 4096, 4097, 8193, 12289, 65521, 70000};
            for (DType dt : DType.values()) {
                double[] constants = dt == DType.FLOAT32
                        ? new double[] {0.0, -0.0, 1, -1, 0.1f, Math.PI, -7.25, 3e30, -1e-30f, 0x1p-140, Float.MIN_VALUE,
                            -5 * Float.MIN_VALUE, -Float.MAX_VALUE, Float.MAX_VALUE}
                        : new double[] {0.0, -0.0, 1, -1, 0.1, Math.PI, -7.25, 3e300, -1e-250, 1e-290, 1e-310,
                            5 * Double.MIN_VALUE, -Double.MIN_VALUE, Double.MAX_VALUE, -Double.MAX_VALUE};
                for (int cols : lengths) {
                    t.add(test(dt + " cols " + cols + ", " + constants.length + " constants, normalised and raw y",
                            () -> {
                        Random rnd = new Random(cols * 13L);
                        double[] soft = Inputs.softmax(Inputs.logits(rnd, 1, cols, 3.0), 1, cols);
                        double[] raw = new double[cols];
                        for (int i = 0; i < cols; i++) {
                            raw[i] = rnd.nextDouble();
                        }
                        for (double[] y : List.of(soft, raw)) {
                            for (double c : constants) {
                                double[] g = new double[cols];
                                Arrays.fill(g, c);
                                Batch batch = Batch.rounded(dt, y, g, 1, cols);
                                Output out = batch.backward(b);
                                assertEquals(1, Checks.constantRows(batch, out), "constant " + c + " checked");
                                Conformance.sameBitsAsReferenceIfDeclared(b, batch, out);
                            }
                        }
                    }));
                }
            }
        }

        // ---- in place, inputs unmodified --------------------------------------------------------------

        void inPlace(List<DynamicNode> t) {
            for (DType dt : DType.values()) {
                for (int[] s : new int[][] {{1, 7}, {5, 4097}, {2, 70000}}) {
                    t.add(test(dt + " [" + s[0] + "x" + s[1] + "] gradIn == gradOut gives the same bits", () -> {
                        Batch batch = Inputs.batch(new Random(s[1]), dt, s[0], s[1], 1.0, GradientKind.UNIT, 0.2);
                        Batch before = batch.copy();
                        Output out = batch.backward(b);
                        Output inPlace = batch.backwardInPlace(b);
                        Checks.sameBits("in place", out, inPlace);
                        assertTrue(batch.sameBits(before), "inputs modified");
                    }));
                }
            }
            t.add(test("softmax and crossEntropyBackward leave their inputs alone", () -> {
                for (DType dt : DType.values()) {
                    double[] x = Inputs.logits(new Random(5), 3, 50, 2.0);
                    Conformance.softmax(b, dt, x, 3, 50); // checks its logits are untouched
                    Batch y = Batch.rounded(dt, Inputs.softmax(x, 3, 50), new double[150], 3, 50);
                    Conformance.crossEntropy(b, y, new int[] {0, -100, 49}, 0.5); // checks y and labels untouched
                }
            }));
        }

        // ---- non-finite values ----------------------------------------------------------------------

        void nonFinite(List<DynamicNode> t) {
            for (DType dt : DType.values()) {
                for (int cols : new int[] {5, 4097}) {
                    t.add(test(dt + " cols " + cols + ": poisoned rows are non-finite, the others unchanged", () -> {
                        int rows = 8;
                        Random rnd = new Random(cols + 99);
                        double[] y = Inputs.softmax(Inputs.logits(rnd, rows, cols, 1.0), rows, cols);
                        double[] g = Inputs.gradient(rnd, dt, GradientKind.UNIT, rows, cols, 0);
                        g[cols + 1] = Double.NaN;                              // row 1: NaN in g
                        g[2 * cols + 2] = Double.POSITIVE_INFINITY;            // row 2: +Inf in g
                        g[3 * cols] = Double.NEGATIVE_INFINITY;                // row 3: -Inf and +Inf in g
                        g[4 * cols - 1] = Double.POSITIVE_INFINITY;
                        y[4 * cols + 3] = Double.NaN;                          // row 4: NaN in y
                        y[5 * cols] = Double.POSITIVE_INFINITY;                // row 5: +Inf in y
                        g[6 * cols + cols - 1] = Double.NEGATIVE_INFINITY;     // row 6: -Inf in g, last entry
                        Batch batch = Batch.rounded(dt, y, g, rows, cols);
                        Output out = batch.backward(b);
                        Checks.allWritten(name, out);
                        Conformance.sameBitsAsReferenceIfDeclared(b, batch, out);
                        for (int r = 0; r < rows; r++) {
                            Output alone = batch.rows(r, r + 1).backward(b);
                            Output mine = out.slice(r * cols, (r + 1) * cols);
                            Checks.sameBits("row " + r + " alone vs in the batch", alone, mine);
                            boolean poisoned = r >= 1 && r <= 6;
                            for (int j = 0; j < cols; j++) {
                                double v = mine.get(j);
                                assertEquals(poisoned, !Double.isFinite(v), "row " + r + " entry " + j + " = " + v
                                        + (poisoned ? ": a NaN/Inf input must make every entry non-finite"
                                        : ": NaN/Inf leaked out of its row"));
                            }
                        }
                        assertEquals(2, Checks.oracleBound(batch, out), "clean rows checked by the oracle");
                        Conformance.backward(b, batch, 4);
                    }));
                }
                t.add(test(dt + " forward softmax: a NaN or +Inf logit stays in its row", () -> {
                    int rows = 4;
                    int cols = 37;
                    double[] x = Inputs.logits(new Random(3), rows, cols, 2.0);
                    x[cols + 5] = Double.NaN;
                    x[2 * cols + 1] = Double.POSITIVE_INFINITY;
                    Output out = Conformance.forward(b, dt, x, rows, cols, name);
                    for (int r : new int[] {0, 3}) {
                        Output alone = Conformance.forward(b, dt, Arrays.copyOfRange(x, r * cols, (r + 1) * cols), 1,
                                cols, name);
                        Checks.sameBits("row " + r + " alone", alone, out.slice(r * cols, (r + 1) * cols));
                    }
                    for (int j = 0; j < cols; j++) {
                        assertTrue(Double.isNaN(out.get(cols + j)), "NaN logit: row 1 entry " + j);
                    }
                    assertEquals(2, Conformance.softmax(b, dt, x, rows, cols), "clean rows checked by the oracle");
                }));
            }
        }

        // ---- degenerate sizes -----------------------------------------------------------------------

        void degenerate(List<DynamicNode> t) {
            for (int[] s : new int[][] {{0, 0}, {0, 5}, {3, 0}}) {
                int rows = s[0];
                int cols = s[1];
                t.add(test("rows " + rows + " cols " + cols + ": every method does nothing and does not throw", () -> {
                    b.softmaxBackward(new float[0], new float[0], new float[0], rows, cols);
                    b.softmaxBackward(new double[0], new double[0], new double[0], rows, cols);
                    b.softmax(new float[0], new float[0], rows, cols);
                    b.softmax(new double[0], new double[0], rows, cols);
                    int[] ignore = new int[rows];
                    Arrays.fill(ignore, -100);
                    b.crossEntropyBackward(new float[0], ignore, 1f, new float[0], rows, cols);
                    b.crossEntropyBackward(new double[0], ignore, 1.0, new double[0], rows, cols);
                }));
            }
            t.add(test("rows 3 cols 0: label 0 is outside [0, 0) and rejected", () -> {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> b.crossEntropyBackward(new float[0], new int[] {-100, 0, -100}, 1f, new float[0], 3, 0));
                assertTrue(e.getMessage().contains("labels"), e.getMessage());
            }));
            for (DType dt : DType.values()) {
                t.add(test(dt + " rows whose y sums to exactly 0 give d = 0, so gradIn = y*g", () -> {
                    double[] y = {0, 0, 0, 0.25, -0.25, 0, 0.5, 0.25, 0.25};
                    double[] g = {1.5, -2, 3, 3, -5, 7, 1, 2, 3};
                    Batch batch = Batch.rounded(dt, y, g, 3, 3);
                    Output out = batch.backward(b);
                    for (int i = 0; i < 6; i++) {
                        double want = dt.round(batch.y(i) * batch.g(i));
                        assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(out.get(i)),
                                "entry " + i + ": " + out.describe(i) + ", y*g = " + want);
                    }
                    Conformance.Coverage c = Conformance.backward(b, batch, 1);
                    assertEquals(3, c.oracleRows());
                }));
                t.add(test(dt + " cols 1: every single-entry row gives zero", () -> {
                    int rows = 64;
                    Random rnd = new Random(1);
                    double[] y = new double[rows];
                    for (int r = 0; r < rows; r++) {
                        y[r] = r % 2 == 0 ? 1.0 : rnd.nextDouble();
                    }
                    double[] g = Inputs.gradient(rnd, dt, GradientKind.MIXED_MAGNITUDES, rows, 1, 0.0);
                    Batch batch = Batch.rounded(dt, y, g, rows, 1);
                    Output out = batch.backward(b);
                    for (int r = 0; r < rows; r++) {
                        assertTrue(Checks.isZero(out, r), "row " + r + ": " + out.describe(r));
                    }
                    assertEquals(rows, Conformance.backward(b, batch, 17).constantRows());
                }));
            }
        }

        // ---- bad inputs -----------------------------------------------------------------------------

        void badInputs(List<DynamicNode> t) {
            cases(t, BadInputs.all(b));
        }

        // ---- threads --------------------------------------------------------------------------------

        void threads(List<DynamicNode> t) {
            t.add(test("8 threads at once get the bits of 1 thread (backward, in place, softmax, crossEntropy)",
                    () -> {
                Workload w = new Workload();
                List<Output> single = w.run(b);
                int threads = 8;
                ExecutorService pool = Executors.newFixedThreadPool(threads);
                try {
                    CyclicBarrier start = new CyclicBarrier(threads);
                    List<Future<List<List<Output>>>> futures = new ArrayList<>();
                    for (int k = 0; k < threads; k++) {
                        futures.add(pool.submit(() -> {
                            List<List<Output>> rounds = new ArrayList<>();
                            for (int round = 0; round < 3; round++) {
                                start.await(60, TimeUnit.SECONDS);
                                rounds.add(w.run(b));
                            }
                            return rounds;
                        }));
                    }
                    for (int k = 0; k < threads; k++) {
                        List<List<Output>> rounds = futures.get(k).get(5, TimeUnit.MINUTES);
                        for (int round = 0; round < rounds.size(); round++) {
                            for (int i = 0; i < single.size(); i++) {
                                Checks.sameBits("thread " + k + " round " + round + " result " + i, single.get(i),
                                        rounds.get(round).get(i));
                            }
                        }
                    }
                } finally {
                    pool.shutdownNow();
                }
            }));
        }

        // ---- forward softmax ------------------------------------------------------------------------

        void softmax(List<DynamicNode> t) {
            int[] colsList = {1, 2, 3, 7, 33, 1000, 4095, 4096, 4097, 8193, 12289, 70000};
            for (DType dt : DType.values()) {
                for (int k = 0; k < colsList.length; k++) {
                    int cols = colsList[k];
                    int rows = cols > 10000 ? 2 : 3;
                    double scale = new double[] {1e-3, 1, 30, 1e3}[k % 4];
                    t.add(test(dt + " cols " + cols + " logit scale " + scale
                            + ": oracle, sum to 1 within cols*u, reference bits", () -> {
                        double[] x = Inputs.logits(new Random(cols), rows, cols, scale);
                        assertEquals(rows, Conformance.softmax(b, dt, x, rows, cols), "rows checked");
                    }));
                }
                if (dt == DType.FLOAT64) {
                    // e_exp.c takes k = 0 by its high word up to |x| = 0x3fd62e42_ffffffff, past 0.5 ln2: an exp
                    // that rounds x/ln2 instead gets about 1 in 15 of these wrong. (The window is 1e-9 wide,
                    // finer than the spacing of float32 logits there.)
                    t.add(test(dt + " x - max between -0.5 ln2 and -0x3fd62e42_ffffffff: reference bits", () -> {
                        int cols = 1025;
                        long from = Double.doubleToRawLongBits(0.5 * Math.log(2));
                        long to = 0x3fd62e42_ffffffffL;
                        double[] x = new double[2 * cols];
                        for (int j = 1; j < cols; j++) {
                            x[j] = -Double.longBitsToDouble(from + (to - from) * j / (cols - 1));
                            x[cols + j] = x[j] + 3.0; // a second row with max 3: x - max is exact (Sterbenz)
                        }
                        x[cols] = 3.0;
                        assertEquals(2, Conformance.softmax(b, dt, x, 2, cols), "rows checked");
                    }));
                }
                t.add(test(dt + " huge logits and -Inf entries", () -> {
                    int cols = 50;
                    double big = dt == DType.FLOAT32 ? 1e30 : 1e300;
                    double[] x = Inputs.logits(new Random(8), 3, cols, big);
                    x[3] = Double.NEGATIVE_INFINITY;
                    x[cols + 7] = Double.NEGATIVE_INFINITY;
                    assertEquals(3, Conformance.softmax(b, dt, x, 3, cols), "rows checked");
                    Output out = Conformance.forward(b, dt, x, 3, cols, name);
                    assertEquals(0.0, out.get(3));
                }));
            }
        }

        // ---- crossEntropyBackward -------------------------------------------------------------------

        void crossEntropy(List<DynamicNode> t) {
            int[][] shapes = {{1, 1}, {4, 7}, {64, 33}, {3, 4097}, {2, 70000}};
            for (DType dt : DType.values()) {
                for (int[] s : shapes) {
                    for (double scale : new double[] {1, 0.5, -2, 1.0 / 3}) {
                        t.add(test(dt + " [" + s[0] + "x" + s[1] + "] scale " + scale
                                + ": scale*(y - onehot), -100 rows +0.0", () -> {
                            int rows = s[0];
                            int cols = s[1];
                            Random rnd = new Random(rows * 17L + cols);
                            double[] y = Inputs.softmax(Inputs.logits(rnd, rows, cols, 2.0), rows, cols);
                            int[] labels = new int[rows];
                            for (int r = 0; r < rows; r++) {
                                labels[r] = switch (r % 4) {
                                    case 0 -> 0;
                                    case 1 -> -100;
                                    case 2 -> cols - 1;
                                    default -> rnd.nextInt(cols);
                                };
                            }
                            Batch yOnly = Batch.rounded(dt, y, new double[rows * cols], rows, cols);
                            Conformance.crossEntropy(b, yOnly, labels, scale);
                        }));
                    }
                }
            }
        }
    }

    /** The fixed work the thread test repeats: shared read-only inputs, fresh outputs per call. */
    private static final class Workload {
        private final List<Batch> batches = new ArrayList<>();
        private final double[] logits = Inputs.logits(new Random(77), 8, 1000, 3.0);
        private final Batch ceY;
        private final int[] labels = {0, -100, 999, 5, 17, -100, 3, 998};

        Workload() {
            Random rnd = new Random(2024);
            batches.add(Inputs.batch(rnd, DType.FLOAT32, 64, 100, 1.0, GradientKind.UNIT, 0.1));
            batches.add(Inputs.batch(rnd, DType.FLOAT64, 3, 9000, 1.0, GradientKind.OFFSET, 0.1));
            batches.add(Inputs.batch(rnd, DType.FLOAT32, 2, 4097, 10.0, GradientKind.MIXED_MAGNITUDES, 0));
            batches.add(Inputs.batch(rnd, DType.FLOAT64, 16, 513, 0.1, GradientKind.UNIT, 0));
            ceY = Batch.rounded(DType.FLOAT32, Inputs.softmax(logits, 8, 1000), new double[8000], 8, 1000);
        }

        List<Output> run(SoftmaxBackwardBackend b) {
            List<Output> outs = new ArrayList<>();
            for (Batch batch : batches) {
                outs.add(batch.backward(b));
                outs.add(batch.backwardInPlace(b));
            }
            for (DType dt : DType.values()) {
                outs.add(Conformance.forward(b, dt, logits, 8, 1000, b.name()));
            }
            float[] gradIn = new float[8000];
            b.crossEntropyBackward(ceY.yFloats(), labels, 0.125f, gradIn, 8, 1000);
            outs.add(Output.of(gradIn));
            return outs;
        }
    }
}
