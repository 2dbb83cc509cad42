package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * INDArray outputs that share memory with another argument: exactly the same view of an input is in
 * place, and works; any other overlap (a row range shifted by a row, overlapping column ranges, a second
 * INDArray over the same entries as another output) is refused, naming both arguments, before anything
 * is written; column ranges of one matrix that share no entry are apart, and work.
 */
class OverlapTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    private static CpuBackend backend(Strategy strategy) {
        RowExecutor executor = new RowExecutor(2);
        return new CpuBackend(() -> null, () -> executor, Kernels.defaultKernel(), strategy);
    }

    /** A [rows, cols] float32 matrix of softmax-like positive entries. */
    private static INDArray matrix(int rows, int cols, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextDouble() / cols);
        }
        return Nd4j.create(v, new long[] {rows, cols}, 'c');
    }

    private static void refused(INDArray untouched, String output, String other, Runnable call) {
        float[] before = untouched.data().asFloat();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().startsWith(output + " shares memory with " + other), e.getMessage());
        assertArrayEquals(before, untouched.data().asFloat(), "written before the refusal");
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void anOutputShiftedByARowOverItsInputIsRefused(Strategy strategy) {
        CpuBackend cpu = backend(strategy);
        INDArray m = matrix(3, 8, 1);
        INDArray g = m.get(NDArrayIndex.interval(0, 2), NDArrayIndex.all());
        INDArray out = m.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all());
        INDArray y = matrix(2, 8, 2);
        refused(m, "gradIn", "gradOut", () -> cpu.softmaxBackward(g, y, out));
        refused(m, "out", "logits", () -> cpu.softmax(g, out));
        refused(m, "gradIn", "softmaxOut", () -> cpu.crossEntropyBackward(g, new int[] {0, 1}, 1.0, out));
        refused(m, "gradIn", "logits", () -> cpu.softmaxCrossEntropyBackward(g, new int[] {0, 1},
                new double[] {1, 1}, out, new double[2]));
    }

    @Test
    void overlappingColumnRangesAreRefusedAndDisjointOnesWork() {
        CpuBackend cpu = backend(Strategy.FUSED);
        INDArray m = matrix(300, 20, 3);
        INDArray y = matrix(300, 10, 4);
        INDArray left = m.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 10));
        INDArray shifted = m.get(NDArrayIndex.all(), NDArrayIndex.interval(7, 17));
        refused(m, "gradIn", "gradOut", () -> cpu.softmaxBackward(left, y, shifted));

        INDArray right = m.get(NDArrayIndex.all(), NDArrayIndex.interval(10, 20));
        float[] g = left.dup('c').data().asFloat();
        float[] expected = new float[g.length];
        REFERENCE.softmaxBackward(g, y.data().asFloat(), expected, 300, 10);
        cpu.softmaxBackward(left, y, right);
        assertArrayEquals(expected, right.dup('c').data().asFloat());
        assertArrayEquals(g, left.dup('c').data().asFloat(), "gradOut changed");
    }

    /** A second INDArray over exactly the entries of {@code a}: the same DataBuffer, its own object. */
    private static INDArray sameEntries(INDArray a) {
        INDArray b = Nd4j.create(a.data(), a.shape(), a.stride(), a.offset(), a.ordering());
        assertNotSame(a, b);
        return b;
    }

    @ParameterizedTest
    @EnumSource(Strategy.class)
    void theSameEntriesThroughASecondINDArrayAreInPlace(Strategy strategy) {
        CpuBackend cpu = backend(strategy);
        INDArray g = matrix(64, 1000, 5);
        INDArray y = matrix(64, 1000, 6);
        float[] expected = cpu.softmaxBackward(g.dup('c'), y).data().asFloat();
        if (strategy == Strategy.FUSED) {
            float[] reference = new float[64 * 1000];
            REFERENCE.softmaxBackward(g.data().asFloat(), y.data().asFloat(), reference, 64, 1000);
            assertArrayEquals(reference, expected);
        }
        cpu.softmaxBackward(g, y, sameEntries(g));
        assertArrayEquals(expected, g.data().asFloat(), "in place over gradOut");
        INDArray g2 = matrix(64, 1000, 5);
        cpu.softmaxBackward(g2, y, sameEntries(y));
        assertArrayEquals(expected, y.data().asFloat(), "in place over softmaxOut");
    }

    @Test
    void twoOutputsOverTheSameEntriesAreRefused() {
        CpuBackend cpu = backend(Strategy.FUSED);
        INDArray logits = matrix(4, 50, 7);
        INDArray gradIn = Nd4j.create(DataType.FLOAT, 4, 50);
        refused(gradIn, "logitsCopy", "gradIn", () -> cpu.softmaxCrossEntropyBackward(logits, new int[] {0, 1, 2, 3},
                new double[] {1, 1, 1, 1}, gradIn, new double[4], sameEntries(gradIn)));
    }

    @Test
    void firstSharedByteMergesTheRows() {
        // rows of 8 bytes, 20 apart, against rows 20 apart shifted by 8: interleaved, never shared
        assertEquals(-1, NdArrays.firstSharedByte(1000, 20, 1008, 20, 50, 8));
        assertEquals(-1, NdArrays.firstSharedByte(1008, 20, 1000, 20, 50, 8));
        assertEquals(1007, NdArrays.firstSharedByte(1000, 20, 1007, 20, 50, 8));
        // a wide stride against dense rows: shared in the first row, or only in the second row of each
        assertEquals(1004, NdArrays.firstSharedByte(1000, 20, 1004, 8, 2, 8));
        assertEquals(1020, NdArrays.firstSharedByte(1000, 20, 1008, 8, 2, 8));
        assertEquals(1020, NdArrays.firstSharedByte(1008, 8, 1000, 20, 2, 8));
        Consumer<Long> none = b -> assertEquals(-1, NdArrays.firstSharedByte(0, 16, b, 16, 3, 16));
        none.accept(48L);
        none.accept(-48L);
    }
}
