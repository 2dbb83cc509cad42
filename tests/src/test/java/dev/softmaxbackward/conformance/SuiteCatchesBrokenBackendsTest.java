package dev.softmaxbackward.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.Guarantee;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.conformance.Inputs.GradientKind;
import dev.softmaxbackward.conformance.SoftmaxBackwardProperties.Shape;
import dev.softmaxbackward.reference.ReferenceBackend;
import dev.softmaxbackward.spi.Arguments;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/**
 * The suite against deliberately broken backends ("mutants"): each must be caught by the part of the
 * suite meant to catch it, and an independent implementation of the canonical order must pass.
 */
class SuiteCatchesBrokenBackendsTest {

    /** Runs the suite's tests in the top-level containers whose titles start with {@code prefix}. */
    static List<String> failures(SoftmaxBackwardBackend b, String prefix) {
        return failures(b, prefix, "");
    }

    /** As above, running only the tests whose display name contains {@code only} (to save time). */
    static List<String> failures(SoftmaxBackwardBackend b, String prefix, String only) {
        List<String> failed = new ArrayList<>();
        int[] ran = {0};
        for (DynamicNode node : ConformanceSuite.tests(b)) {
            if (node.getDisplayName().startsWith(prefix)) {
                run(node, node.getDisplayName(), only, failed, ran);
            }
        }
        assertTrue(ran[0] > 0, "no container starts with '" + prefix + "'");
        return failed;
    }

    private static void run(DynamicNode node, String path, String only, List<String> failed, int[] ran) {
        if (node instanceof DynamicContainer c) {
            c.getChildren().forEach(child -> run(child, path + " / " + child.getDisplayName(), only, failed, ran));
            return;
        }
        if (!node.getDisplayName().contains(only)) {
            return;
        }
        ran[0]++;
        try {
            ((DynamicTest) node).getExecutable().execute();
        } catch (TestAbortedException e) {
            failed.add(path + ": ABORTED " + e.getMessage());
        } catch (Throwable t) {
            failed.add(path + ": " + t);
        }
    }

    static void assertCaught(SoftmaxBackwardBackend mutant, String container) {
        assertCaught(mutant, container, "");
    }

    /** At least one test in the container fails, and one whose path contains {@code test} does. */
    static void assertCaught(SoftmaxBackwardBackend mutant, String container, String test) {
        assertCaught(mutant, container, test, "");
    }

    static void assertCaught(SoftmaxBackwardBackend mutant, String container, String test, String only) {
        List<String> failed = failures(mutant, container, only);
        assertTrue(failed.stream().anyMatch(f -> f.contains(test)), "the suite's '" + container + "' tests "
                + (test.isEmpty() ? "" : "'" + test + "' ") + "did not catch mutant " + mutant.name() + "; failures: "
                + failed);
        System.out.println("mutant " + mutant.name() + ": " + failed.size() + " failures in '" + container
                + "', e.g. " + failed.get(0).lines().findFirst().orElse(""));
    }

    /** A backend that is the reference except where a mutant overrides it. */
    abstract static class Mutant implements SoftmaxBackwardBackend {
        final ReferenceBackend ref = new ReferenceBackend();
        private final String name;

        Mutant(String name) {
            this.name = name;
        }

        @Override public String name() {
            return name;
        }

        @Override public int priority() {
            return -1;
        }

        @Override public void softmaxBackward(float[] g, float[] y, float[] gradIn, int rows, int cols) {
            ref.softmaxBackward(g, y, gradIn, rows, cols);
        }

        @Override public void softmaxBackward(double[] g, double[] y, double[] gradIn, int rows, int cols) {
            ref.softmaxBackward(g, y, gradIn, rows, cols);
        }

        @Override public void softmax(float[] x, float[] out, int rows, int cols) {
            ref.softmax(x, out, rows, cols);
        }

        @Override public void softmax(double[] x, double[] out, int rows, int cols) {
            ref.softmax(x, out, rows, cols);
        }

        @Override public void crossEntropyBackward(float[] y, int[] labels, float scale, float[] gradIn, int rows,
                                                   int cols) {
            ref.crossEntropyBackward(y, labels, scale, gradIn, rows, cols);
        }

        @Override public void crossEntropyBackward(double[] y, int[] labels, double scale, double[] gradIn, int rows,
                                                   int cols) {
            ref.crossEntropyBackward(y, labels, scale, gradIn, rows, cols);
        }
    }

    /**
     * float32 softmaxBackward written from docs/contract.md §4 alone, independently of core, with the
     * segment length and lane count as parameters.
     */
    static class CanonicalFloat32 extends Mutant {
        private final int segment;
        private final int lanes;

        CanonicalFloat32(int segment, int lanes) {
            super("canonical-" + segment + "x" + lanes);
            this.segment = segment;
            this.lanes = lanes;
        }

        @Override public void softmaxBackward(float[] g, float[] y, float[] gradIn, int rows, int cols) {
            Arguments.softmaxBackward(g, y, gradIn, rows, cols);
            for (int r = 0; r < rows; r++) {
                int base = r * cols;
                double sumY = sum(cols, k -> y[base + k]);
                double sumYG = sum(cols, k -> (double) y[base + k] * g[base + k]);
                float d = sumY == 0 ? 0f : (float) (sumYG / sumY);
                for (int i = base; i < base + cols; i++) {
                    gradIn[i] = (float) ((double) y[i] * ((double) g[i] - d));
                }
            }
        }

        private double sum(int cols, java.util.function.IntToDoubleFunction term) {
            int segments = (cols + segment - 1) / segment;
            double[] seg = new double[Math.max(1, segments)];
            for (int s = 0; s < segments; s++) {
                double[] lane = new double[lanes];
                for (int k = 0; k < Math.min(segment, cols - s * segment); k++) {
                    lane[k % lanes] += term.applyAsDouble(s * segment + k);
                }
                for (int off = lanes / 2; off > 0; off /= 2) {
                    for (int l = 0; l < off; l++) {
                        lane[l] += lane[l + off];
                    }
                }
                seg[s] = lane[0];
            }
            for (int n = segments; n > 1; n = (n + 1) / 2) {
                for (int i = 0; i < n / 2; i++) {
                    seg[i] = seg[2 * i] + seg[2 * i + 1];
                }
                if (n % 2 == 1) {
                    seg[n / 2] = seg[n - 1];
                }
            }
            return seg[0];
        }
    }

    // ---- the canonical order, independently: passes; changed: caught ------------------------------

    @Test
    void anIndependentCanonicalFloat32ImplementationPasses() {
        SoftmaxBackwardBackend independent = new CanonicalFloat32(4096, 32);
        assertEquals(List.of(), failures(independent, "row lengths", "FLOAT32"));
        assertEquals(List.of(), failures(independent, "gradient magnitudes", "FLOAT32"));
    }

    @Test
    void segmentsOf2048AreCaught() {
        List<String> failed = failures(new CanonicalFloat32(2048, 32), "row lengths", "FLOAT32");
        assertTrue(failed.stream().anyMatch(f -> f.contains("FLOAT32 cols 4097 (3 rows, g CANCELLING")),
                String.join("\n", failed));
        assertTrue(failed.stream().noneMatch(f -> f.contains("cols 1000 ")), "rows of one segment agree");
    }

    @Test
    void sixteenLanesAreCaught() {
        assertCaught(new CanonicalFloat32(4096, 16), "row lengths", "", "FLOAT32");
    }

    @Test
    void bitwiseAgreementIsRequiredOnlyOfABackendThatDeclaresIt() {
        // sixteen lanes: within every bound, other bits; caught above, where it declares (by default) both
        // guarantees, and passes where it declares none: the suite goes by guarantees(), not by name
        SoftmaxBackwardBackend undeclared = new CanonicalFloat32(4096, 16) {
            @Override public Set<Guarantee> guarantees() {
                return EnumSet.noneOf(Guarantee.class);
            }
        };
        assertEquals(List.of(), failures(undeclared, "row lengths", "FLOAT32"));
    }

    @Test
    void sequentialFloat32SumsAreCaught() {
        assertCaught(new CanonicalFloat32(Integer.MAX_VALUE / 2, 1), "row lengths", "", "FLOAT32");
    }

    @Test
    void plainFloat64SumsAreCaught() {
        assertCaught(plainFloat64Sums(), "row lengths", "", "FLOAT64");
    }

    /** Without step 3a (docs/numerics.md) the rows whose float64 sum(y*g) overflows come out infinite. */
    @Test
    void float64SumsThatOverflowAreCaught() {
        assertCaught(plainFloat64Sums(), "rows near the largest finite value", "", "FLOAT64");
    }

    private static Mutant plainFloat64Sums() {
        return new Mutant("plain-double-sums") {
            @Override public void softmaxBackward(double[] g, double[] y, double[] gradIn, int rows, int cols) {
                Arguments.softmaxBackward(g, y, gradIn, rows, cols);
                for (int r = 0; r < rows; r++) {
                    double sy = 0;
                    double syg = 0;
                    for (int i = r * cols; i < (r + 1) * cols; i++) {
                        sy += y[i];
                        syg += y[i] * g[i];
                    }
                    double d = sy == 0 ? 0 : syg / sy;
                    for (int i = r * cols; i < (r + 1) * cols; i++) {
                        gradIn[i] = y[i] * (g[i] - d);
                    }
                }
            }
        };
    }

    @Test
    void theUndividedTextbookFormulaIsCaught() {
        assertCaught(new Mutant("no-division-by-sum-y") {
            @Override public void softmaxBackward(float[] g, float[] y, float[] gradIn, int rows, int cols) {
                Arguments.softmaxBackward(g, y, gradIn, rows, cols);
                for (int r = 0; r < rows; r++) {
                    double syg = 0;
                    for (int i = r * cols; i < (r + 1) * cols; i++) {
                        syg += (double) y[i] * g[i];
                    }
                    float d = (float) syg;
                    for (int i = r * cols; i < (r + 1) * cols; i++) {
                        gradIn[i] = (float) ((double) y[i] * ((double) g[i] - d));
                    }
                }
            }
        }, "constant rows", "FLOAT32 cols 4097", "FLOAT32");
    }

    // ---- validation, in place, inputs, NaN, threads ---------------------------------------------------

    @Test
    void writingRowsBeforeAllLabelsAreCheckedIsCaught() {
        assertCaught(new Mutant("writes-before-validating") {
            @Override public void crossEntropyBackward(float[] y, int[] labels, float scale, float[] gradIn, int rows,
                                                       int cols) {
                for (int r = 0; r < rows; r++) { // checks and writes one row at a time: the bug
                    float[] row = new float[cols];
                    ref.crossEntropyBackward(Arrays.copyOfRange(y, r * cols, (r + 1) * cols), new int[] {labels[r]},
                            scale, row, 1, cols);
                    System.arraycopy(row, 0, gradIn, r * cols, cols);
                }
            }
        }, "bad inputs", "label out of range in the last of 64 rows: nothing written");
    }

    @Test
    void anIntOverflowingSizeCheckIsCaught() {
        assertCaught(new Mutant("int-overflow") {
            @Override public void softmaxBackward(float[] g, float[] y, float[] gradIn, int rows, int cols) {
                if (rows < 0 || cols < 0) {
                    throw new IllegalArgumentException("rows " + rows + " cols " + cols);
                }
                if (g.length != rows * cols || y.length != rows * cols || gradIn.length != rows * cols) {
                    throw new IllegalArgumentException("gradOut softmaxOut gradIn length");
                }
            }
        }, "bad inputs", "softmaxBackward float32: rows*cols = 65536*65536 overflows int (wraps to 0");
    }

    @Test
    void clearingGradInFirstBreaksInPlaceAndIsCaught() {
        assertCaught(new Mutant("clears-gradIn-first") {
            @Override public void softmaxBackward(float[] g, float[] y, float[] gradIn, int rows, int cols) {
                Arguments.softmaxBackward(g, y, gradIn, rows, cols);
                Arrays.fill(gradIn, 0f);
                ref.softmaxBackward(g, y, gradIn, rows, cols);
            }
        }, "in place", "gradIn == gradOut gives the same bits");
    }

    @Test
    void normalisingYInPlaceIsCaught() {
        assertCaught(new Mutant("modifies-y") {
            @Override public void softmaxBackward(double[] g, double[] y, double[] gradIn, int rows, int cols) {
                ref.softmaxBackward(g, y, gradIn, rows, cols);
                for (int i = 0; i < y.length; i++) {
                    y[i] = y[i] * (1 + 0x1p-52);
                }
            }
        }, "row lengths", "softmaxBackward modified its inputs", "FLOAT64 cols 1 ");
    }

    @Test
    void aNaNPoisoningTheBatchIsCaught() {
        assertCaught(new Mutant("nan-poisons-batch") {
            @Override public void softmaxBackward(float[] g, float[] y, float[] gradIn, int rows, int cols) {
                ref.softmaxBackward(g, y, gradIn, rows, cols);
                for (float v : g) {
                    if (Float.isNaN(v)) {
                        Arrays.fill(gradIn, Float.NaN);
                    }
                }
            }
        }, "NaN and Inf", "the others unchanged");
    }

    @Test
    void sharedScratchSpaceIsCaughtByTheThreadTest() {
        assertCaught(new Mutant("shared-scratch") {
            private float[] scratch; // shared by every caller: the bug

            @Override public void softmaxBackward(float[] g, float[] y, float[] gradIn, int rows, int cols) {
                scratch = new float[gradIn.length];
                ref.softmaxBackward(g, y, scratch, rows, cols);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                System.arraycopy(scratch, 0, gradIn, 0, Math.min(scratch.length, gradIn.length));
            }
        }, "8 threads");
    }

    // ---- forward and cross-entropy ----------------------------------------------------------------

    @Test
    void softmaxWithoutMaxSubtractionIsCaught() {
        assertCaught(new Mutant("no-max-subtraction") {
            @Override public void softmax(double[] x, double[] out, int rows, int cols) {
                Arguments.softmax(x, out, rows, cols);
                for (int r = 0; r < rows; r++) {
                    double s = 0;
                    for (int i = r * cols; i < (r + 1) * cols; i++) {
                        s += StrictMath.exp(x[i]);
                    }
                    for (int i = r * cols; i < (r + 1) * cols; i++) {
                        out[i] = StrictMath.exp(x[i]) / s;
                    }
                }
            }
        }, "forward softmax", "huge logits");
    }

    @Test
    void negativeZeroInIgnoredRowsIsCaught() {
        assertCaught(new Mutant("ignore-gives-minus-zero") {
            @Override public void crossEntropyBackward(double[] y, int[] labels, double scale, double[] gradIn, int rows,
                                                       int cols) {
                ref.crossEntropyBackward(y, labels, scale, gradIn, rows, cols);
                for (int r = 0; r < rows; r++) {
                    if (labels[r] == -100) {
                        Arrays.fill(gradIn, r * cols, (r + 1) * cols, -0.0);
                    }
                }
            }
        }, "crossEntropyBackward");
    }

    // ---- the properties, the skip path --------------------------------------------------------------

    @Test
    void thePropertiesCatchAMutantToo() {
        SoftmaxBackwardBackend mutant = new CanonicalFloat32(2048, 32);
        SoftmaxBackwardProperties props = new SoftmaxBackwardProperties() {
            @Override protected List<SoftmaxBackwardBackend> backendsUnderTest() {
                return List.of(mutant);
            }
        };
        Inputs.YKind soft = Inputs.YKind.SOFTMAX;
        GradientKind cancelling = GradientKind.CANCELLING;
        props.checkBackward(new Shape(2, 1000), DType.FLOAT32, soft, 1.0, cancelling, 0, 1L); // one segment: fine
        AssertionError e = assertThrows(AssertionError.class,
                () -> props.checkBackward(new Shape(2, 5000), DType.FLOAT32, soft, 1.0, cancelling, 0, 1L));
        assertTrue(e.getMessage().contains("vs reference"), e.getMessage());
    }

    @Test
    void anUnavailableBackendIsReportedAsSkippedWithItsReason() throws Throwable {
        DynamicContainer c = ConformanceSuite.forStatus(new BackendStatus("ghost", 300, false,
                new IllegalStateException("no CUDA device")));
        List<? extends DynamicNode> children = c.getChildren().toList();
        assertEquals(1, children.size());
        TestAbortedException e = assertThrows(TestAbortedException.class,
                () -> ((DynamicTest) children.get(0)).getExecutable().execute());
        assertTrue(e.getMessage().contains("no CUDA device"), e.getMessage());
        assertTrue(children.get(0).getDisplayName().contains("no CUDA device"));
    }
}
