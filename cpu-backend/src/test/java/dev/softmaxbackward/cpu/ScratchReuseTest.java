package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.cpu.FusedBitIdentityTest.assertBits;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A thread's kept {@link Scratch} carries nothing from one call into the next: before every entry point
 * the test hands the calling thread a Scratch of the right width with NaN in every lane, partial and row
 * buffer, and the result must still be the reference's bits, and the poisoned Scratch must have been the
 * one used (it is kept again afterwards).
 */
class ScratchReuseTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final int[] COLS = {1, 33, 4097, 3 * 4096 + 5};
    private static final int ROWS = 6;

    static Stream<RowKernel> kernels() {
        return FusedBitIdentityTest.kernels().stream();
    }

    private static CpuBackend backend(RowKernel kernel) {
        RowExecutor executor = new RowExecutor(1); // one thread: every call runs on this one, with its kept Scratch
        return new CpuBackend(() -> null, () -> executor, kernel, Strategy.FUSED);
    }

    /** Runs {@code call} with a poisoned Scratch kept for this thread, and checks that the call used and kept it. */
    private static void withPoisonedScratch(int cols, Runnable call) {
        Scratch poisoned = new Scratch(cols);
        for (double[] a : new double[][] {poisoned.aS, poisoned.aC, poisoned.bS, poisoned.bC, poisoned.segAS,
                poisoned.segAC, poisoned.segBS, poisoned.segBC, poisoned.doubles(0), poisoned.doubles(1),
                poisoned.input(), poisoned.row()}) {
            Arrays.fill(a, Double.NaN);
        }
        Arrays.fill(poisoned.floats(0), Float.NaN);
        Arrays.fill(poisoned.floats(1), Float.NaN);
        RowExecutor.keepScratch(poisoned);
        call.run();
        assertSame(poisoned, RowExecutor.takeScratch(cols), "the call did not use and keep the thread's Scratch");
    }

    private static void forEachCols(Consumer<Integer> body) {
        for (int cols : COLS) {
            body.accept(cols);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void float64Arrays(RowKernel kernel) {
        CpuBackend cpu = backend(kernel);
        SplittableRandom rnd = new SplittableRandom(1);
        forEachCols(cols -> {
            double[] y = Data.y(rnd, ROWS, cols);
            double[] g = Data.g(rnd, ROWS, cols);
            double[] expected = new double[ROWS * cols];
            REFERENCE.softmaxBackward(g, y, expected, ROWS, cols);
            double[] actual = new double[ROWS * cols];
            withPoisonedScratch(cols, () -> cpu.softmaxBackward(g, y, actual, ROWS, cols));
            assertBits(expected, actual, "backward, cols " + cols);

            double[] logits = Data.g(rnd, ROWS, cols);
            REFERENCE.softmax(logits, expected, ROWS, cols);
            withPoisonedScratch(cols, () -> cpu.softmax(logits, actual, ROWS, cols));
            assertBits(expected, actual, "softmax, cols " + cols);

            int[] labels = labels(rnd, cols);
            REFERENCE.crossEntropyBackward(y, labels, 0.25, expected, ROWS, cols);
            withPoisonedScratch(cols, () -> cpu.crossEntropyBackward(y, labels, 0.25, actual, ROWS, cols));
            assertBits(expected, actual, "cross-entropy, cols " + cols);
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void float32Arrays(RowKernel kernel) {
        CpuBackend cpu = backend(kernel);
        SplittableRandom rnd = new SplittableRandom(2);
        forEachCols(cols -> {
            float[] y = Data.toFloat(Data.y(rnd, ROWS, cols));
            float[] g = Data.toFloat(Data.g(rnd, ROWS, cols));
            float[] expected = new float[ROWS * cols];
            REFERENCE.softmaxBackward(g, y, expected, ROWS, cols);
            float[] actual = new float[ROWS * cols];
            withPoisonedScratch(cols, () -> cpu.softmaxBackward(g, y, actual, ROWS, cols));
            assertBits(expected, actual, "backward, cols " + cols);

            float[] logits = Data.toFloat(Data.g(rnd, ROWS, cols));
            REFERENCE.softmax(logits, expected, ROWS, cols);
            withPoisonedScratch(cols, () -> cpu.softmax(logits, actual, ROWS, cols));
            assertBits(expected, actual, "softmax, cols " + cols);

            int[] labels = labels(rnd, cols);
            REFERENCE.crossEntropyBackward(y, labels, 0.25f, expected, ROWS, cols);
            withPoisonedScratch(cols, () -> cpu.crossEntropyBackward(y, labels, 0.25f, actual, ROWS, cols));
            assertBits(expected, actual, "cross-entropy, cols " + cols);
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kernels")
    void indArrays(RowKernel kernel) {
        CpuBackend cpu = backend(kernel);
        SplittableRandom rnd = new SplittableRandom(3);
        forEachCols(cols -> {
            long[] shape = {ROWS, cols};
            double[] y = Data.y(rnd, ROWS, cols);
            double[] g = Data.g(rnd, ROWS, cols);
            double[] expected = new double[ROWS * cols];
            REFERENCE.softmaxBackward(g, y, expected, ROWS, cols);
            INDArray[] out = new INDArray[1];
            withPoisonedScratch(cols, () -> out[0] = cpu.softmaxBackward(Nd4j.create(g, shape, 'c'),
                    Nd4j.create(y, shape, 'c')));
            assertBits(expected, out[0].data().asDouble(), "float64 backward, cols " + cols);

            float[] yf = Data.toFloat(y);
            float[] gf = Data.toFloat(g);
            float[] expectedF = new float[ROWS * cols];
            REFERENCE.softmaxBackward(gf, yf, expectedF, ROWS, cols);
            withPoisonedScratch(cols, () -> out[0] = cpu.softmaxBackward(Nd4j.create(gf, shape, 'c'),
                    Nd4j.create(yf, shape, 'c')));
            assertBits(expectedF, out[0].data().asFloat(), "float32 backward, cols " + cols);

            REFERENCE.softmax(g, expected, ROWS, cols);
            withPoisonedScratch(cols, () -> out[0] = cpu.softmax(Nd4j.create(g, shape, 'c')));
            assertBits(expected, out[0].data().asDouble(), "float64 softmax, cols " + cols);

            REFERENCE.softmax(gf, expectedF, ROWS, cols);
            withPoisonedScratch(cols, () -> out[0] = cpu.softmax(Nd4j.create(gf, shape, 'c')));
            assertBits(expectedF, out[0].data().asFloat(), "float32 softmax, cols " + cols);

            int[] labels = labels(rnd, cols);
            REFERENCE.crossEntropyBackward(y, labels, 0.5, expected, ROWS, cols);
            INDArray gradIn = Nd4j.createUninitialized(org.nd4j.linalg.api.buffer.DataType.DOUBLE, shape, 'c');
            withPoisonedScratch(cols, () -> cpu.crossEntropyBackward(Nd4j.create(y, shape, 'c'), labels, 0.5, gradIn));
            assertBits(expected, gradIn.data().asDouble(), "float64 cross-entropy, cols " + cols);
        });
    }

    /** A class index per row, one row ignored. */
    private static int[] labels(SplittableRandom rnd, int cols) {
        int[] labels = new int[ROWS];
        for (int r = 0; r < ROWS; r++) {
            labels[r] = r == 2 ? -100 : rnd.nextInt(cols);
        }
        return labels;
    }
}
