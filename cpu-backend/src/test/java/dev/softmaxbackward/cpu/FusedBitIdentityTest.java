package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.softmaxbackward.conformance.Batch;
import dev.softmaxbackward.conformance.Output;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kernel, every thread count, against the reference: the same bits (compared as raw bits, NaN payloads too). */
class FusedBitIdentityTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    static List<RowKernel> kernels() {
        RowKernel vector = Kernels.vectorKernel();
        // surefire starts the JVM with --add-modules jdk.incubator.vector: the vector kernel must be tested
        assertNotNull(vector, "the Vector API kernel did not load");
        // the JDK 20/21 path (rows staged through the heap) is plain JDK 17 code: tested on every JDK
        return List.of(ScalarKernel.INSTANCE, vector, new StagedKernel(vector), new StagedKernel(ScalarKernel.INSTANCE));
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (RowKernel k : kernels()) {
            for (int threads : new int[] {1, 3}) {
                cases.add(Arguments.of(k, threads));
            }
        }
        return cases.stream();
    }

    private static CpuBackend backend(RowKernel kernel, int threads) {
        RowExecutor executor = new RowExecutor(threads);
        return new CpuBackend(() -> null, () -> executor, kernel, Strategy.FUSED);
    }

    @ParameterizedTest(name = "{0}, {1} threads")
    @MethodSource("cases")
    void arraysMatchReference(RowKernel kernel, int threads) {
        CpuBackend cpu = backend(kernel, threads);
        SplittableRandom rnd = new SplittableRandom(42);
        for (int cols : Data.COLS) {
            int rows = cols > 4096 ? 10 : 40;
            double[] y = Data.y(rnd, rows, cols);
            double[] g = Data.g(rnd, rows, cols);
            sameAsReference(cpu, Batch.of(Data.toFloat(y), Data.toFloat(g), rows, cols), "float32, cols " + cols);
            sameAsReference(cpu, Batch.of(y, g, rows, cols), "float64, cols " + cols);
        }
    }

    /** The backend's outputs, into a fresh array and in place (gradIn == gradOut): the reference's bits. */
    private static Output sameAsReference(CpuBackend cpu, Batch b, String what) {
        Output expected = b.backward(REFERENCE);
        assertBits(expected, b.backward(cpu), what);
        assertBits(expected, b.backwardInPlace(cpu), "in place, " + what);
        return expected;
    }

    @ParameterizedTest(name = "{0}, {1} threads")
    @MethodSource("cases")
    void float64NearOverflowMatchesReference(RowKernel kernel, int threads) {
        CpuBackend cpu = backend(kernel, threads);
        SplittableRandom rnd = new SplittableRandom(10);
        for (int cols : new int[] {1, 2, 33, 4097, 8192, 3 * 4096 + 5}) {
            int rows = 12;
            double[] y = new double[rows * cols];
            double[] g = Data.nearOverflowG(rnd, y, rows, cols);
            double[] expected = sameAsReference(cpu, Batch.of(y, g, rows, cols), "cols " + cols).doubles();
            for (int i = 0; i < expected.length; i++) {
                if (cols > 1 && (i / cols) % 6 < 4) { // rescaled rows: finite where the plain steps gave inf
                    assertEquals(true, Double.isFinite(expected[i]), "cols " + cols + " entry " + i);
                }
            }
            // the INDArray entry (little-endian buffers), one row at a time, in place
            ByteBuffer gb = ByteBuffer.allocateDirect(8 * g.length).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer yb = ByteBuffer.allocateDirect(8 * y.length).order(ByteOrder.LITTLE_ENDIAN);
            gb.asDoubleBuffer().put(g);
            yb.asDoubleBuffer().put(y);
            Scratch s = new Scratch(cols);
            for (int r = 0; r < rows; r++) {
                kernel.backwardDouble(gb, 8 * r * cols, yb, 8 * r * cols, gb, 8 * r * cols, cols, s);
            }
            double[] buffered = new double[g.length];
            gb.asDoubleBuffer().get(buffered);
            assertBits(expected, buffered, "buffers, cols " + cols);
        }
    }

    @ParameterizedTest(name = "{0}, {1} threads")
    @MethodSource("cases")
    void softmaxAndCrossEntropyMatchReference(RowKernel kernel, int threads) {
        CpuBackend cpu = backend(kernel, threads);
        SplittableRandom rnd = new SplittableRandom(3);
        for (int cols : new int[] {0, 1, 33, 4097, 3 * 4096 + 5}) {
            int rows = 12;
            double[] x = Data.g(rnd, rows, cols);
            if (cols > 0) {
                x[0] = Double.NaN;
                x[cols] = Double.NEGATIVE_INFINITY;
            }
            float[] xf = Data.toFloat(x);
            float[] ef = new float[rows * cols];
            float[] af = new float[rows * cols];
            REFERENCE.softmax(xf, ef, rows, cols);
            cpu.softmax(xf, af, rows, cols);
            assertBits(ef, af, "softmax float32, cols " + cols);
            double[] ed = new double[rows * cols];
            double[] ad = new double[rows * cols];
            REFERENCE.softmax(x, ed, rows, cols);
            cpu.softmax(x, ad, rows, cols);
            assertBits(ed, ad, "softmax float64, cols " + cols);

            int[] labels = new int[rows];
            for (int r = 0; r < rows; r++) {
                labels[r] = r % 4 == 0 || cols == 0 ? -100 : rnd.nextInt(cols);
            }
            REFERENCE.crossEntropyBackward(ef, labels, 0.37f, af, rows, cols);
            float[] cf = new float[rows * cols];
            cpu.crossEntropyBackward(ef, labels, 0.37f, cf, rows, cols);
            assertBits(af, cf, "crossEntropy float32, cols " + cols);
            REFERENCE.crossEntropyBackward(ed, labels, 1.0 / 3, ad, rows, cols);
            double[] cd = new double[rows * cols];
            cpu.crossEntropyBackward(ed, labels, 1.0 / 3, cd, rows, cols);
            assertBits(ad, cd, "crossEntropy float64, cols " + cols);
        }
    }

    @ParameterizedTest(name = "{0}, {1} threads")
    @MethodSource("cases")
    void badArgumentsAreRejectedBeforeWriting(RowKernel kernel, int threads) {
        CpuBackend cpu = backend(kernel, threads);
        float[] out = {1, 2, 3, 4, 5};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> cpu.softmaxBackward(new float[6], new float[6], out, 2, 3));
        assertEquals("gradIn.length 5 != rows*cols = 2*3", e.getMessage());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5}, out);
        assertThrows(NullPointerException.class, () -> cpu.softmaxBackward(null, new double[0], new double[0], 0, 0));
        int[] badLabels = {0, 3};
        assertThrows(IllegalArgumentException.class,
                () -> cpu.crossEntropyBackward(new float[6], badLabels, 1f, new float[6], 2, 3));
    }

    static void assertBits(float[] expected, float[] actual, String what) {
        assertBits(Output.of(expected), Output.of(actual), what);
    }

    static void assertBits(double[] expected, double[] actual, String what) {
        assertBits(Output.of(expected), Output.of(actual), what);
    }

    /** Raw bits, entry by entry: NaN payloads must match too (stricter than the suite's Checks.sameBits). */
    static void assertBits(Output expected, Output actual, String what) {
        assertEquals(expected.dtype(), actual.dtype(), what);
        assertEquals(expected.length(), actual.length(), what);
        for (int i = 0; i < expected.length(); i++) {
            if (expected.rawBits(i) != actual.rawBits(i)) {
                throw new AssertionError(what + ": entry " + i + " expected " + expected.describe(i) + " but was "
                        + actual.describe(i));
            }
        }
    }
}
