package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The INDArray softmax and crossEntropyBackward (issue 13 item 3): the reference's bits, in place, views, errors. */
class NdArrayRowOpsTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final double SCALE = 1.0 / 3; // not a float: FLOAT rows must round it first

    private final CpuBackend cpu = new CpuBackend(() -> null, () -> new RowExecutor(2), Kernels.defaultKernel(),
            Strategy.FUSED);

    /** Every dtype of the INDArray entry points, as a C-order array and as a view with a row stride. */
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0}, view {1}")
    @CsvSource({"FLOAT,false", "FLOAT,true", "DOUBLE,false", "DOUBLE,true", "HALF,false", "HALF,true",
            "BFLOAT16,false", "BFLOAT16,true"})
    @interface EveryDtypeAndLayout {}

    @EveryDtypeAndLayout
    void softmaxMatchesTheReference(DataType dtype, boolean view) {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int cols : new int[] {1, 33, 4097, 2 * 4096 + 40}) {
            int rows = cols > 4096 ? 5 : 12;
            double[] x = Data.g(rnd, rows, cols);
            x[0] = Double.NaN;
            x[cols] = Double.NEGATIVE_INFINITY;
            INDArray logits = NdArrayTest.array(x, rows, cols, dtype, view, 1);
            double[] xv = NdArrayTest.read(logits); // the logits as the dtype holds them
            double[] expected = expectedSoftmax(dtype, xv, rows, cols);
            INDArray out = NdArrayTest.array(new double[rows * cols], rows, cols, dtype, view, 2);
            assertSame(out, cpu.softmax(logits, out));
            NdArrayTest.assertBits(expected, NdArrayTest.read(out), dtype + " cols " + cols);
            INDArray fresh = cpu.softmax(logits);
            assertEquals('c', fresh.ordering());
            NdArrayTest.assertBits(expected, NdArrayTest.read(fresh), dtype + " new array, cols " + cols);
            assertSame(logits, cpu.softmax(logits, logits));
            NdArrayTest.assertBits(expected, NdArrayTest.read(logits), dtype + " in place, cols " + cols);
        }
    }

    private static double[] expectedSoftmax(DataType dtype, double[] x, int rows, int cols) {
        int n = rows * cols;
        double[] out = new double[n];
        switch (dtype) {
            case FLOAT -> {
                float[] o = new float[n];
                REFERENCE.softmax(Data.toFloat(x), o, rows, cols);
                for (int i = 0; i < n; i++) {
                    out[i] = o[i];
                }
            }
            case DOUBLE -> REFERENCE.softmax(x, out, rows, cols);
            default -> {
                // the float32 steps (docs/numerics.md), each quotient rounded once to the 16-bit dtype
                for (int r = 0; r < rows; r++) {
                    int base = r * cols;
                    double m = Arrays.stream(x, base, base + cols).max().orElseThrow(); // NaN wins, as in Math.max
                    double sum = NdArrayTest.canonicalSum(cols, k -> StrictMath.exp(x[base + k] - m));
                    for (int i = base; i < base + cols; i++) {
                        out[i] = Float16Test.nearest(dtype == DataType.BFLOAT16, StrictMath.exp(x[i] - m) / sum);
                    }
                }
            }
        }
        return out;
    }

    @EveryDtypeAndLayout
    void crossEntropyBackwardMatchesTheReference(DataType dtype, boolean view) {
        SplittableRandom rnd = new SplittableRandom(12);
        for (int cols : new int[] {1, 33, 4097}) {
            int rows = 12;
            INDArray y = NdArrayTest.array(Data.y(rnd, rows, cols), rows, cols, dtype, view, 3);
            double[] yv = NdArrayTest.read(y);
            int[] labels = new int[rows];
            double[] rowScale = new double[rows];
            for (int r = 0; r < rows; r++) {
                labels[r] = r % 4 == 0 ? -100 : rnd.nextInt(cols);
                rowScale[r] = rnd.nextDouble() * 3 - 1;
            }
            double[] scales = new double[rows];
            java.util.Arrays.fill(scales, SCALE);
            double[] expected = expectedCrossEntropy(dtype, yv, labels, scales, rows, cols);
            INDArray out = NdArrayTest.array(new double[rows * cols], rows, cols, dtype, view, 4);
            assertSame(out, cpu.crossEntropyBackward(y, labels, SCALE, out));
            NdArrayTest.assertBits(expected, NdArrayTest.read(out), dtype + " cols " + cols);

            double[] perRow = expectedCrossEntropy(dtype, yv, labels, rowScale, rows, cols);
            assertSame(out, cpu.crossEntropyBackward(y, labels, rowScale, out));
            NdArrayTest.assertBits(perRow, NdArrayTest.read(out), dtype + " per-row scale, cols " + cols);
            assertSame(y, cpu.crossEntropyBackward(y, labels, rowScale, y));
            NdArrayTest.assertBits(perRow, NdArrayTest.read(y), dtype + " in place, cols " + cols);
        }
    }

    /** The reference's array method one row at a time, each row with its scale; 16-bit: its float64 value rounded once. */
    private static double[] expectedCrossEntropy(DataType dtype, double[] y, int[] labels, double[] scale, int rows,
                                                 int cols) {
        double[] out = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int[] label = {labels[r]};
            double[] row = java.util.Arrays.copyOfRange(y, r * cols, (r + 1) * cols);
            switch (dtype) {
                case FLOAT -> {
                    float[] o = new float[cols];
                    REFERENCE.crossEntropyBackward(Data.toFloat(row), label, (float) scale[r], o, 1, cols);
                    for (int i = 0; i < cols; i++) {
                        out[r * cols + i] = o[i];
                    }
                }
                case DOUBLE -> {
                    double[] o = new double[cols];
                    REFERENCE.crossEntropyBackward(row, label, scale[r], o, 1, cols);
                    System.arraycopy(o, 0, out, r * cols, cols);
                }
                default -> {
                    double sc = (float) scale[r];
                    for (int i = 0; i < cols; i++) {
                        out[r * cols + i] = label[0] == -100 ? 0.0
                                : Float16Test.nearest(dtype == DataType.BFLOAT16, sc * (row[i] - (i == label[0] ? 1 : 0)));
                    }
                }
            }
        }
        return out;
    }

    @Test
    void badLabelsShapesAndScalesAreClearErrorsAndWriteNothing() {
        INDArray y = Nd4j.rand(DataType.FLOAT, 3, 4);
        INDArray out = Nd4j.zeros(DataType.FLOAT, 3, 4);
        IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
                () -> cpu.crossEntropyBackward(y, new int[] {0, 7, 1}, 1.0, out));
        assertEquals("labels[1] = 7 is outside [0, cols) = [0, 4) and is not the ignore index -100",
                label.getMessage());
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> cpu.crossEntropyBackward(y, new int[] {0, 1, -1}, new double[] {1, 1, 1}, out));
        assertEquals("labels[2] = -1 is outside [0, cols) = [0, 4) and is not the ignore index -100",
                negative.getMessage());
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> cpu.crossEntropyBackward(y, new int[] {0, 1}, 1.0, out));
        assertEquals("labels.length 2 != rows 3", count.getMessage());
        IllegalArgumentException scales = assertThrows(IllegalArgumentException.class,
                () -> cpu.crossEntropyBackward(y, new int[] {0, 1, 2}, new double[] {1, 1}, out));
        assertEquals("rowScale.length 2 != rows 3", scales.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmax(y, Nd4j.zeros(DataType.FLOAT, 3, 5)));
        assertEquals("out shape [3, 5] != logits shape [3, 4]", shape.getMessage());
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> cpu.crossEntropyBackward(y, new int[] {0, 1, 2}, 1.0, Nd4j.zeros(DataType.DOUBLE, 3, 4)));
        assertEquals("gradIn dtype DOUBLE != softmaxOut dtype FLOAT", dtype.getMessage());
        IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmax(Nd4j.zeros(DataType.INT, 3, 4)));
        assertEquals("logits dtype INT is not supported (FLOAT, DOUBLE, HALF or BFLOAT16)", type.getMessage());
        assertThrows(NullPointerException.class, () -> cpu.crossEntropyBackward(y, null, 1.0, out));
        assertThrows(NullPointerException.class, () -> cpu.crossEntropyBackward(y, new int[3], (double[]) null, out));
        assertThrows(NullPointerException.class, () -> cpu.softmax(null));
        assertArrayEquals(new float[12], out.data().asFloat());
    }
}
