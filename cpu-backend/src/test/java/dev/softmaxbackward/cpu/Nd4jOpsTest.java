package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.conformance.Batch;
import dev.softmaxbackward.conformance.DType;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The nd4j-ops strategy is exempt from bit-identity, so it is held to the contract's accuracy bound
 * instead: both it and the reference are within u*(2|e| + 2*y*max|g|) of the exact result, so they are
 * within twice that of each other. Constant rows must still give exact zeros, and zero rows zeros.
 */
class Nd4jOpsTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private final CpuBackend cpu = new CpuBackend(() -> null, () -> new RowExecutor(1), ScalarKernel.INSTANCE,
            Strategy.ND4J_OPS);

    @Test
    void float64WithinTheContractsBoundOfTheReference() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int cols : new int[] {1, 33, 4097}) {
            int rows = 24;
            double[] y = Data.y(rnd, rows, cols);
            double[] g = Data.g(rnd, rows, cols);
            Batch b = Batch.of(y, g, rows, cols);
            check(g, y, b.backward(REFERENCE).doubles(), b.backward(cpu).doubles(), rows, cols, 0x1p-53,
                    Double.MIN_VALUE);
        }
    }

    @Test
    void float64NearOverflowWithinTheContractsBoundOfTheReference() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int cols : new int[] {2, 3, 33, 8192}) {
            int rows = 12;
            double[] y = new double[rows * cols];
            double[] g = Data.nearOverflowG(rnd, y, rows, cols);
            double[] expected = new double[rows * cols];
            double[] actual = new double[rows * cols];
            REFERENCE.softmaxBackward(g, y, expected, rows, cols);
            cpu.softmaxBackward(g, y, actual, rows, cols);
            for (int i = 0; i < rows * cols; i++) {
                if ((i / cols) % 6 < 4) {
                    assertTrue(Double.isFinite(actual[i]), "entry " + i + " = " + actual[i]);
                }
            }
            check(g, y, expected, actual, rows, cols, 0x1p-53, Double.MIN_VALUE);
        }
    }

    @Test
    void float32AndIndArraysWithinTheContractsBoundOfTheReference() {
        SplittableRandom rnd = new SplittableRandom(2);
        int rows = 24;
        int cols = 257;
        Batch b = Batch.rounded(DType.FLOAT32, Data.y(rnd, rows, cols), Data.g(rnd, rows, cols), rows, cols);
        double[] y = widen(b.yFloats());
        double[] g = widen(b.gFloats());
        double[] expected = widen(b.backward(REFERENCE).floats());
        check(g, y, expected, widen(b.backward(cpu).floats()), rows, cols, 0x1p-24, Float.MIN_VALUE);

        INDArray yi = NdArrayTest.array(y, rows, cols, DataType.FLOAT, true, 5);
        INDArray gi = NdArrayTest.array(g, rows, cols, DataType.FLOAT, true, 6);
        check(g, y, expected, NdArrayTest.read(cpu.softmaxBackward(gi, yi)), rows, cols, 0x1p-24, Float.MIN_VALUE);
    }

    @Test
    @SuppressWarnings("deprecation") // DataType.HALF is ND4J's FLOAT16 (the same constant)
    void everyDtypeOfTheIndArrayEntryPointRuns() {
        SplittableRandom rnd = new SplittableRandom(3);
        int rows = 12;
        int cols = 100;
        double[] y = Data.y(rnd, rows, cols);
        double[] g = Data.g(rnd, rows, cols);
        CpuBackend fused = cpu.withStrategy(Strategy.FUSED);
        for (DataType dtype : new DataType[] {DataType.DOUBLE, DataType.HALF, DataType.BFLOAT16}) {
            INDArray yi = NdArrayTest.array(y, rows, cols, dtype, true, 7);
            INDArray gi = NdArrayTest.array(g, rows, cols, dtype, true, 8);
            double[] ops = NdArrayTest.read(cpu.softmaxBackward(gi, yi));
            double[] exact = NdArrayTest.read(fused.softmaxBackward(gi, yi));
            double u = dtype == DataType.HALF ? 0x1p-11 : dtype == DataType.BFLOAT16 ? 0x1p-8 : 0x1p-53;
            double tiny = dtype == DataType.HALF ? 0x1p-24 : dtype == DataType.BFLOAT16 ? 0x1p-133 : Double.MIN_VALUE;
            check(NdArrayTest.read(gi), NdArrayTest.read(yi), exact, ops, rows, cols, u, tiny);
        }
    }

    @Test
    void aPoisonedRowIsNaNAloneAsInABatch() {
        // ND4J turns the [1, 1] column of d into a scalar op that ignores a NaN scalar: the row must still be NaN
        float[] y = {0.1f, 0.2f, 0.3f, 0.15f, 0.25f};
        float[] g = {0.5f, Float.NaN, -0.3f, 0.2f, 0.9f};
        float[] alone = new float[5];
        cpu.softmaxBackward(g, y, alone, 1, 5);
        float[] y2 = new float[10];
        float[] g2 = {1, 2, 3, 4, 5, 0, 0, 0, 0, 0};
        System.arraycopy(y, 0, y2, 0, 5);
        System.arraycopy(y, 0, y2, 5, 5);
        System.arraycopy(g, 0, g2, 5, 5);
        float[] batch = new float[10];
        cpu.softmaxBackward(g2, y2, batch, 2, 5);
        for (int i = 0; i < 5; i++) {
            assertTrue(Float.isNaN(alone[i]), "alone " + i + ": " + alone[i]);
            assertEquals(Float.floatToRawIntBits(alone[i]), Float.floatToRawIntBits(batch[5 + i]), "entry " + i);
            assertTrue(Float.isFinite(batch[i]), "the other row " + i);
        }
    }

    /**
     * Rows holding NaN or infinities, every combination of up to three entries from special and ordinary
     * values (y also negative, so that a row of y can sum to zero beside a NaN g). The contract fixes
     * these rows exactly (docs/numerics.md §6: the plain sums decide, d is 0, NaN or infinite), so they
     * must equal the reference bit for bit, NaN payloads aside, batched and one row alone. ND4J's max and
     * min skip NaN, so g = [x, NaN] once looked constant and the constant-row rule gave a finite entry.
     */
    @Test
    void rowsWithNaNOrInfinitiesMatchTheReferenceBitForBit() {
        double[] gValues = {1.5, -0.25, Double.MAX_VALUE, Double.NaN, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY};
        double[] yValues = {0.5, 0.25, 0.0, -0.5, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        for (int cols = 1; cols <= 3; cols++) {
            int gRows = pow(gValues.length, cols);
            int yRows = pow(yValues.length, cols);
            int rows = 0;
            double[] g = new double[gRows * yRows * cols];
            double[] y = new double[g.length];
            for (int a = 0; a < gRows; a++) {
                for (int b = 0; b < yRows; b++) {
                    boolean special = false;
                    for (int j = 0, ga = a, yb = b; j < cols; j++, ga /= gValues.length, yb /= yValues.length) {
                        g[rows * cols + j] = gValues[ga % gValues.length];
                        y[rows * cols + j] = yValues[yb % yValues.length];
                        special |= !Double.isFinite(g[rows * cols + j]) || !Double.isFinite(y[rows * cols + j]);
                    }
                    if (special) {
                        rows++;
                    }
                }
            }
            double[] gs = java.util.Arrays.copyOf(g, rows * cols);
            double[] ys = java.util.Arrays.copyOf(y, rows * cols);
            double[] expected = new double[rows * cols];
            double[] actual = new double[rows * cols];
            REFERENCE.softmaxBackward(gs, ys, expected, rows, cols);
            cpu.softmaxBackward(gs, ys, actual, rows, cols);
            float[] gf = Data.toFloat(gs);
            float[] yf = Data.toFloat(ys);
            float[] expectedF = new float[rows * cols];
            float[] actualF = new float[rows * cols];
            REFERENCE.softmaxBackward(gf, yf, expectedF, rows, cols);
            cpu.softmaxBackward(gf, yf, actualF, rows, cols);
            for (int r = 0; r < rows; r++) {
                String row = "g=" + java.util.Arrays.toString(java.util.Arrays.copyOfRange(gs, r * cols, (r + 1) * cols))
                        + " y=" + java.util.Arrays.toString(java.util.Arrays.copyOfRange(ys, r * cols, (r + 1) * cols));
                for (int i = r * cols; i < (r + 1) * cols; i++) {
                    assertSameBits(expected[i], actual[i], "float64 batched " + row + " entry " + (i - r * cols));
                    assertSameBits(expectedF[i], actualF[i], "float32 batched " + row + " entry " + (i - r * cols));
                }
                if (cols == 2 || r % 7 == 0) { // one row alone takes ND4J's [1, 1] scalar path
                    double[] alone = new double[cols];
                    cpu.softmaxBackward(java.util.Arrays.copyOfRange(gs, r * cols, (r + 1) * cols),
                            java.util.Arrays.copyOfRange(ys, r * cols, (r + 1) * cols), alone, 1, cols);
                    for (int j = 0; j < cols; j++) {
                        assertSameBits(expected[r * cols + j], alone[j], "float64 alone " + row + " entry " + j);
                    }
                }
            }
        }
    }

    private static int pow(int base, int exponent) {
        int p = 1;
        for (int i = 0; i < exponent; i++) {
            p *= base;
        }
        return p;
    }

    private static void assertSameBits(double expected, double actual, String where) {
        if (Double.isNaN(expected)) {
            assertTrue(Double.isNaN(actual), where + ": " + actual + ", reference NaN");
        } else {
            assertEquals(Double.doubleToLongBits(expected), Double.doubleToLongBits(actual),
                    where + ": " + actual + ", reference " + expected);
        }
    }

    private static void check(double[] g, double[] y, double[] expected, double[] actual, int rows, int cols, double u,
                              double tiny) {
        for (int r = 0; r < rows; r++) {
            double maxG = 0;
            boolean finite = true;
            boolean constant = true;
            double sumY = 0;
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                maxG = Math.max(maxG, Math.abs(g[i]));
                finite &= Double.isFinite(g[i]) && Double.isFinite(y[i]);
                constant &= g[i] == g[r * cols];
                sumY += y[i];
            }
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                String where = "row " + r + " entry " + i;
                if (!finite) {
                    assertEquals(Double.isNaN(expected[i]), Double.isNaN(actual[i]), where);
                    continue;
                }
                if (constant || sumY == 0) {
                    assertEquals(0.0, Math.abs(actual[i]), where + ": exact zero");
                    continue;
                }
                double bound = 2 * (u * (2 * Math.abs(expected[i]) + 2 * Math.abs(y[i]) * maxG) + tiny);
                assertTrue(Math.abs(actual[i] - expected[i]) <= bound,
                        where + ": " + actual[i] + " vs reference " + expected[i] + ", bound " + bound);
            }
        }
    }

    private static double[] widen(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
