package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** The fused softmax + cross-entropy gives the two passes' bits, and y at each label; in place too. */
    @EveryDtypeAndLayout
    void softmaxCrossEntropyIsTheTwoPasses(DataType dtype, boolean view) {
        SplittableRandom rnd = new SplittableRandom(12);
        for (int cols : new int[] {1, 9, 37, 4097}) {
            int rows = 13;
            double[] x = Data.g(rnd, rows, cols);
            int[] labels = new int[rows];
            double[] rowScale = new double[rows];
            for (int r = 0; r < rows; r++) {
                labels[r] = r % 4 == 0 ? -100 : r % 3 == 0 ? cols - 1 : rnd.nextInt(cols); // the tail's last too
                rowScale[r] = r % 5 == 0 ? 0.0 : rnd.nextDouble(0.1, 3);
            }
            INDArray logits = NdArrayTest.array(x, rows, cols, dtype, view, 5);
            INDArray y = cpu.softmax(logits);
            double[] expectedY = new double[rows];
            for (int r = 0; r < rows; r++) {
                expectedY[r] = labels[r] == -100 ? Double.NaN : y.getDouble(r, labels[r]);
            }
            double[] expected = NdArrayTest.read(cpu.crossEntropyBackward(y, labels, rowScale, y.ulike()));
            INDArray out = NdArrayTest.array(new double[rows * cols], rows, cols, dtype, view, 6);
            double[] yAtLabel = new double[rows];
            assertSame(out, cpu.softmaxCrossEntropyBackward(logits, labels, rowScale, out, yAtLabel));
            NdArrayTest.assertBits(expected, NdArrayTest.read(out), dtype + " cols " + cols);
            NdArrayTest.assertBits(expectedY, yAtLabel, dtype + " y at the labels, cols " + cols);
            INDArray copy = NdArrayTest.array(new double[rows * cols], rows, cols, dtype, view, 7);
            INDArray out2 = out.ulike();
            cpu.softmaxCrossEntropyBackward(logits, labels, rowScale, out2, yAtLabel, copy);
            NdArrayTest.assertBits(expected, NdArrayTest.read(out2), dtype + " with a copy, cols " + cols);
            NdArrayTest.assertBits(NdArrayTest.read(logits), NdArrayTest.read(copy), dtype + " the copy, cols " + cols);
            cpu.softmaxCrossEntropyBackward(logits, labels, rowScale, logits, yAtLabel);
            NdArrayTest.assertBits(expected, NdArrayTest.read(logits), dtype + " in place, cols " + cols);
        }
        INDArray a = Nd4j.zeros(dtype, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxCrossEntropyBackward(a, new int[] {0, 3}, new double[2], a.ulike(), new double[2]));
        assertTrue(e.getMessage().contains("3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxCrossEntropyBackward(a, new int[] {0, 1}, new double[2], a.ulike(), new double[3]));
        assertTrue(e.getMessage().contains("yAtLabel.length 3"), e.getMessage());
        INDArray g = a.ulike();
        e = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxCrossEntropyBackward(a, new int[] {0, 1}, new double[2], g, new double[2], g));
        assertTrue(e.getMessage().contains("logitsCopy must not be gradIn"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> cpu.softmaxCrossEntropyBackward(a, new int[] {0, 1},
                new double[2], g, new double[2], Nd4j.zeros(dtype, 2, 4)));
        assertTrue(e.getMessage().contains("logitsCopy shape [2, 4]"), e.getMessage());
    }

    /**
     * Rows whose vectors leave the vector exp's general path or the vector max's easy case: a max of
     * +0 or -0 (both signs in one row, either first), entries just below 0 (|x - max| < 2^-28), below
     * -708 (subnormal and zero exps), +Inf and NaN, each at lanes 0..9 of a vector and in the tail.
     * FLOAT and DOUBLE, arrays and INDArrays: the reference's bits.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"FLOAT", "DOUBLE"})
    void specialEntriesAtEveryLaneGiveTheReferenceBits(DataType dtype) {
        SplittableRandom rnd = new SplittableRandom(31);
        double[] specials = {0.0, -0.0, -1e-12, -0x1p-40, -700, -710, -745.5, -800, Double.POSITIVE_INFINITY,
            Double.NaN};
        for (int cols : new int[] {8, 9, 37, 4096 + 19}) {
            int rows = specials.length * 10 + 2;
            double[] x = new double[rows * cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    x[r * cols + c] = -rnd.nextDouble(0, 30); // all below a max of 0
                }
                if (r < rows - 2) {
                    double special = specials[r / 10];
                    int at = Math.min(cols - 1, r % 10 + (cols > 64 ? 8 * 100 : 0));
                    x[r * cols + at] = special;
                    x[r * cols + (at + 3) % cols] = r % 2 == 0 ? 0.0 : -0.0; // the max (unless Inf or NaN)
                    x[r * cols + (at + 5) % cols] = r % 2 == 0 ? -0.0 : 0.0;
                    x[r * cols + cols - 1] = special; // and in the tail
                } else {
                    Arrays.fill(x, r * cols, (r + 1) * cols, r == rows - 1 ? 0.0 : -0.0); // constant rows
                }
            }
            double[] xv = dtype == DataType.FLOAT ? toFloatValues(x) : x;
            double[] expected = expectedSoftmax(dtype, xv, rows, cols);
            INDArray out = cpu.softmax(NdArrayTest.array(xv, rows, cols, dtype, false, 1));
            NdArrayTest.assertBits(expected, NdArrayTest.read(out), dtype + " INDArray, cols " + cols);
            double[] arrays = new double[rows * cols];
            if (dtype == DataType.FLOAT) {
                float[] o = new float[rows * cols];
                cpu.softmax(Data.toFloat(xv), o, rows, cols);
                for (int i = 0; i < o.length; i++) {
                    arrays[i] = o[i];
                }
            } else {
                cpu.softmax(xv, arrays, rows, cols);
            }
            NdArrayTest.assertBits(expected, arrays, dtype + " arrays, cols " + cols);
        }
    }

    /** The vector max (arrays, and the INDArray row read) is Math.max's: NaN anywhere, else the largest. */
    @Test
    void theRowMaxIsNaNWithANaNAnywhereElseTheLargest() {
        for (int cols : new int[] {1, 8, 9, 40}) {
            for (int at = 0; at < cols; at++) {
                for (double special : new double[] {Double.NaN, 5.0, Double.POSITIVE_INFINITY}) {
                    double[] x = new double[cols];
                    Arrays.fill(x, -1.0);
                    x[at] = special;
                    String what = "cols " + cols + ", " + special + " at " + at;
                    assertEquals(special, RowOps.max(x, cols), what);
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(8 * cols).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    b.asDoubleBuffer().put(x);
                    assertEquals(special, Kernels.defaultKernel().readRow(true, b, 0, new double[cols], cols, new Scratch(cols)),
                            what);
                }
            }
        }
    }

    private static double[] toFloatValues(double[] x) {
        double[] f = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
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
