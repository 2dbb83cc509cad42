package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.cuda.KernelModel.Tail;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The in-place race of sb_reread and sb_warp (issue 11, item 1), in the kernel model with the groups
 * (warps, lanes) run one after another: the old order, where a group read g[0] only at the
 * constant-row step, lets a late group see the out[0] an early group wrote, enter the barrier alone
 * and give +0 where reference gives -0. Reading first = g[0] before the barrier removes it.
 */
class InPlaceRaceTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    /** y = [1, 0, ...], g = [c, 0, ...]: d == g[0], the first warp leaves early and overwrites g[0]. */
    private static double[][] hostileRow(int cols, double c) {
        double[] y = new double[cols];
        double[] g = new double[cols];
        y[0] = 1.0;
        g[0] = c;
        return new double[][] {y, g};
    }

    private static long[] reference(DType dtype, double[] y, double[] g, int cols) {
        long[] bits = new long[cols];
        if (dtype == DType.FLOAT64) {
            double[] out = new double[cols];
            REFERENCE.softmaxBackward(g, y, out, 1, cols);
            for (int i = 0; i < cols; i++) {
                bits[i] = Double.doubleToRawLongBits(out[i]);
            }
        } else {
            float[] fy = new float[cols];
            float[] fg = new float[cols];
            float[] out = new float[cols];
            for (int i = 0; i < cols; i++) {
                fy[i] = (float) y[i];
                fg[i] = (float) g[i];
            }
            REFERENCE.softmaxBackward(fg, fy, out, 1, cols);
            for (int i = 0; i < cols; i++) {
                bits[i] = Float.floatToRawIntBits(out[i]) & 0xffffffffL;
            }
        }
        return bits;
    }

    private static long[] tail(Tail tail, DType dtype, double[] y, double[] g, int cols, int threads, boolean fixed,
                               List<String> hazards) {
        double d = KernelModel.rowMean(dtype, y, g, cols);
        return KernelModel.inPlaceTail(tail, dtype, y, g.clone(), cols, threads, d, fixed, hazards);
    }

    @Test
    void theOldOrderRacesInPlaceAndTheFixedOrderDoesNot() {
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            for (Tail kind : Tail.values()) {
                int cols = kind == Tail.WARP ? 64 : 3 * 4096;
                double[][] row = hostileRow(cols, 0.75);
                long[] expected = reference(dtype, row[0], row[1], cols);
                String what = kind + " " + dtype;

                List<String> oldHazards = new ArrayList<>();
                long[] old = tail(kind, dtype, row[0], row[1], cols, 256, false, oldHazards);
                assertFalse(oldHazards.isEmpty(), what + ": the old order must show the divergent barrier");
                // the late groups' entries: +0 where reference gives -0 (0 * (0 - c))
                assertNotEquals(expected[cols - 1], old[cols - 1], what + ": the old order must give another bit");

                List<String> hazards = new ArrayList<>();
                long[] fixed = tail(kind, dtype, row[0], row[1], cols, 256, true, hazards);
                assertTrue(hazards.isEmpty(), what + ": " + hazards);
                for (int i = 0; i < cols; i++) {
                    assertEquals(expected[i], fixed[i], what + ", entry " + i);
                }
            }
        }
    }

    @Test
    void theFixedOrderEqualsTheReferenceInPlaceOnEveryRowKind() {
        Random random = new Random(11);
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64)) {
            boolean single = dtype == DType.FLOAT32;
            for (Tail kind : Tail.values()) {
                int cols = kind == Tail.WARP ? 1 + random.nextInt(single ? 1024 : 512) : 4097 + random.nextInt(9000);
                for (int r = 0; r < 35; r++) {
                    // rows of every kind of KernelOrderEmulationTest.fill (constant rows included)
                    double[] y = new double[(r + 1) * cols];
                    double[] g = new double[(r + 1) * cols];
                    KernelOrderEmulationTest.fill(random, y, g, r, cols, single);
                    double[] ry = java.util.Arrays.copyOfRange(y, r * cols, (r + 1) * cols);
                    double[] rg = java.util.Arrays.copyOfRange(g, r * cols, (r + 1) * cols);
                    long[] expected = reference(dtype, ry, rg, cols);
                    List<String> hazards = new ArrayList<>();
                    long[] fixed = tail(kind, dtype, ry, rg, cols, 256, true, hazards);
                    assertTrue(hazards.isEmpty(), kind + " " + dtype + " row " + r + ": " + hazards);
                    for (int i = 0; i < cols; i++) {
                        long e = expected[i];
                        long a = fixed[i];
                        boolean nan = single ? Float.isNaN(Float.intBitsToFloat((int) e))
                                : Double.isNaN(Double.longBitsToDouble(e));
                        if (!nan) {
                            assertEquals(e, a, kind + " " + dtype + " row " + r + " (kind " + r % 7 + "), entry " + i);
                        }
                    }
                }
            }
        }
    }
}
