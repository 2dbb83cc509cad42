package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The INDArray entry point: all four dtypes, C-order and strided views, in place, and the errors. */
class NdArrayTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final int PAD_ROWS = 3;
    private static final int PAD_COLS = 5;

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (RowKernel kernel : FusedBitIdentityTest.kernels()) {
            for (DataType dtype : new DataType[] {DataType.FLOAT, DataType.DOUBLE, DataType.HALF, DataType.BFLOAT16}) {
                for (boolean view : new boolean[] {false, true}) {
                    cases.add(Arguments.of(kernel, dtype, view));
                }
            }
        }
        return cases.stream();
    }

    private static CpuBackend backend(RowKernel kernel, int threads) {
        RowExecutor executor = new RowExecutor(threads);
        return new CpuBackend(() -> null, () -> executor, kernel, Strategy.FUSED);
    }

    /** A [rows, cols] array of the dtype holding {@code values}: C order, or a view into a larger padded matrix. */
    static INDArray array(double[] values, int rows, int cols, DataType dtype, boolean view, long seed) {
        INDArray[] base = new INDArray[1];
        return array(values, rows, cols, dtype, view, seed, base);
    }

    static INDArray array(double[] values, int rows, int cols, DataType dtype, boolean view, long seed,
                          INDArray[] base) {
        INDArray exact = Nd4j.createFromArray(values).reshape('c', rows, cols).castTo(dtype);
        if (!view) {
            return exact;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] pad = new double[(rows + PAD_ROWS) * (cols + PAD_COLS)];
        for (int i = 0; i < pad.length; i++) {
            pad[i] = rnd.nextDouble() * 1000 - 500;
        }
        INDArray big = Nd4j.createFromArray(pad).reshape('c', rows + PAD_ROWS, cols + PAD_COLS).castTo(dtype);
        INDArray v = big.get(NDArrayIndex.interval(1, rows + 1), NDArrayIndex.interval(2, cols + 2));
        v.assign(exact);
        base[0] = big;
        assertEquals(cols + PAD_COLS, v.stride(0));
        return v;
    }

    /** The entries as doubles, read through ND4J's own getDouble (not through our buffer mapping). */
    static double[] read(INDArray a) {
        int rows = (int) a.size(0);
        int cols = (int) a.size(1);
        double[] out = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r * cols + c] = a.getDouble(r, c);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}, {1}, view {2}")
    @MethodSource("cases")
    void matchesReferenceBitForBit(RowKernel kernel, DataType dtype, boolean view) {
        CpuBackend cpu = backend(kernel, 2);
        SplittableRandom rnd = new SplittableRandom(dtype.ordinal() * 31L + (view ? 1 : 0));
        for (int cols : new int[] {1, 33, 4097, 2 * 4096 + 40}) {
            int rows = cols > 4096 ? 9 : 30;
            INDArray y = array(Data.y(rnd, rows, cols), rows, cols, dtype, view, 1);
            INDArray g = array(Data.g(rnd, rows, cols), rows, cols, dtype, view, 2);
            INDArray[] base = new INDArray[1];
            INDArray gradIn = array(new double[rows * cols], rows, cols, dtype, view, 3, base);
            INDArray gradInBase = base[0];
            double[] baseBefore = gradInBase == null ? null : read(gradInBase);
            double[] yv = read(y);
            double[] gv = read(g);
            double[] expected = expected(dtype, gv, yv, rows, cols);

            assertSame(gradIn, cpu.softmaxBackward(g, y, gradIn));
            assertBits(expected, read(gradIn), dtype + " cols " + cols);
            if (gradInBase != null) {
                // nothing outside the view was written
                double[] after = read(gradInBase);
                for (int r = 0; r < rows + PAD_ROWS; r++) {
                    for (int c = 0; c < cols + PAD_COLS; c++) {
                        boolean inside = r >= 1 && r <= rows && c >= 2 && c < cols + 2;
                        if (!inside) {
                            assertEquals(baseBefore[r * (cols + PAD_COLS) + c], after[r * (cols + PAD_COLS) + c]);
                        }
                    }
                }
            }
            INDArray fresh = cpu.softmaxBackward(g, y);
            assertEquals('c', fresh.ordering());
            assertEquals(dtype, fresh.dataType());
            assertBits(expected, read(fresh), dtype + " new array, cols " + cols);
            // in place: gradIn is gradOut; the inputs are otherwise untouched
            cpu.softmaxBackward(g, y, g);
            assertBits(expected, read(g), dtype + " in place, cols " + cols);
            assertBits(yv, read(y), "y untouched");
        }
    }

    /** float32/float64: the reference; 16-bit: the spec's steps written out here, rounded by nearest search. */
    static double[] expected(DataType dtype, double[] g, double[] y, int rows, int cols) {
        int n = rows * cols;
        double[] out = new double[n];
        switch (dtype) {
            case FLOAT -> {
                float[] o = new float[n];
                REFERENCE.softmaxBackward(Data.toFloat(g), Data.toFloat(y), o, rows, cols);
                for (int i = 0; i < n; i++) {
                    out[i] = o[i];
                }
            }
            case DOUBLE -> REFERENCE.softmaxBackward(g, y, out, rows, cols);
            default -> {
                for (int r = 0; r < rows; r++) {
                    int base = r * cols;
                    double sumY = canonicalSum(cols, k -> y[base + k]);
                    double sumYG = canonicalSum(cols, k -> y[base + k] * g[base + k]);
                    float d = sumY == 0 ? 0f : (float) (sumYG / sumY);
                    // the constant-row rule (docs/numerics.md §2 step 4)
                    boolean constant = true;
                    for (int i = base + 1; i < base + cols; i++) {
                        constant &= g[i] == g[base];
                    }
                    if (d != g[base] && constant && !Double.isNaN(g[base])) {
                        d = (float) g[base];
                    }
                    for (int i = base; i < base + cols; i++) {
                        out[i] = Float16Test.nearest(dtype == DataType.BFLOAT16, y[i] * (g[i] - d));
                    }
                }
            }
        }
        return out;
    }

    /** The canonical order, from CONTRACT.md §4, literally. */
    static double canonicalSum(int cols, java.util.function.IntToDoubleFunction term) {
        int segments = (cols + 4095) / 4096;
        double[] seg = new double[segments];
        for (int s = 0; s < segments; s++) {
            double[] lane = new double[32];
            for (int k = 0; k < Math.min(4096, cols - s * 4096); k++) {
                lane[k % 32] += term.applyAsDouble(s * 4096 + k);
            }
            for (int off = 16; off >= 1; off /= 2) {
                for (int l = 0; l < off; l++) {
                    lane[l] = lane[l] + lane[l + off];
                }
            }
            seg[s] = lane[0];
        }
        int m = segments;
        while (m > 1) {
            double[] next = new double[(m + 1) / 2];
            for (int i = 0; i + 1 < m; i += 2) {
                next[i / 2] = seg[i] + seg[i + 1];
            }
            if (m % 2 == 1) {
                next[m / 2] = seg[m - 1];
            }
            seg = next;
            m = next.length;
        }
        return seg[0];
    }

    static void assertBits(double[] expected, double[] actual, String what) {
        FusedBitIdentityTest.assertBits(canonicalNaN(expected), canonicalNaN(actual), what);
    }

    /** 16-bit NaNs come back through getDouble with ND4J's payload; a NaN is a NaN here. */
    private static double[] canonicalNaN(double[] a) {
        double[] c = a.clone();
        for (int i = 0; i < c.length; i++) {
            if (Double.isNaN(c[i])) {
                c[i] = Double.NaN;
            }
        }
        return c;
    }

    @Test
    void emptyBatchesDoNothing() {
        CpuBackend cpu = backend(ScalarKernel.INSTANCE, 1);
        INDArray e = Nd4j.create(DataType.FLOAT, 0, 8);
        assertEquals(0, cpu.softmaxBackward(e, e).length());
    }

    @Test
    void wrongRankShapeDtypeAndLayoutAreClearErrorsAndWriteNothing() {
        CpuBackend cpu = backend(ScalarKernel.INSTANCE, 1);
        INDArray a = Nd4j.rand(DataType.FLOAT, 3, 4);
        INDArray out = Nd4j.zeros(DataType.FLOAT, 3, 4);

        IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxBackward(Nd4j.rand(DataType.FLOAT, 2, 3, 4), a));
        assertTrue(rank.getMessage().contains("gradOut must be a [B, V] matrix (rank 2), but has rank 3"),
                rank.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxBackward(a, Nd4j.rand(DataType.FLOAT, 3, 5), out));
        assertEquals("softmaxOut shape [3, 5] != gradOut shape [3, 4]", shape.getMessage());
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxBackward(a, a.castTo(DataType.DOUBLE), out));
        assertEquals("softmaxOut dtype DOUBLE != gradOut dtype FLOAT", dtype.getMessage());
        IllegalArgumentException outType = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxBackward(a, a, Nd4j.zeros(DataType.HALF, 3, 4)));
        assertEquals("gradIn dtype HALF != gradOut dtype FLOAT", outType.getMessage());
        IllegalArgumentException unsupported = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxBackward(Nd4j.zeros(DataType.INT, 3, 4), Nd4j.zeros(DataType.INT, 3, 4)));
        assertTrue(unsupported.getMessage().contains("INT is not supported"), unsupported.getMessage());
        INDArray fOrder = Nd4j.create(DataType.FLOAT, new long[] {3, 4}, 'f').assign(a);
        IllegalArgumentException layout = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxBackward(a, fOrder, out));
        assertTrue(layout.getMessage().startsWith("softmaxOut is not row-contiguous: shape [3, 4], strides [1, 3]"),
                layout.getMessage());
        INDArray columnStrided = Nd4j.rand(DataType.FLOAT, 3, 8).get(NDArrayIndex.all(),
                NDArrayIndex.interval(0, 2, 8));
        IllegalArgumentException strided = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxBackward(a, a, columnStrided));
        assertTrue(strided.getMessage().startsWith("gradIn is not row-contiguous"), strided.getMessage());
        assertThrows(NullPointerException.class, () -> cpu.softmaxBackward(null, a, out));
        assertThrows(NullPointerException.class, () -> cpu.softmaxBackward(a, null));
        assertArrayEquals(new float[12], out.data().asFloat());
    }
}
