package dev.softmaxbackward.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * An array kernel applied to INDArray rows by copying each row to the heap and back: used on JDK 20
 * and 21 (and on 22+ when the jar was built without its JDK 22 variant), where the Vector API has no
 * ByteBuffer access any more ({@code FloatVector.fromByteBuffer} was removed in JDK 20) and its
 * {@code MemorySegment} access is still a preview API, which a class compiled without
 * {@code --enable-preview} cannot use. The bulk copies ({@link java.nio.FloatBuffer#get(int, float[], int, int)})
 * are plain JDK 17 API, compiled to memory copies, and the array kernel gives the same bits as the
 * reference, so this path gives them too; it moves each row twice more than a direct kernel. The
 * plain-Java kernel stages its INDArray rows the same way (the copies are cheaper than a
 * {@code getFloat} per entry).
 */
final class StagedKernel implements RowKernel {
    private final RowKernel arrays;

    StagedKernel(RowKernel arrays) {
        this.arrays = arrays;
    }

    @Override
    public String name() {
        return arrays.name() + ", INDArrays staged through the heap";
    }

    @Override
    public void backward(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, Scratch s) {
        arrays.backward(g, go, y, yo, out, oo, cols, s);
    }

    @Override
    public void backward(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s) {
        arrays.backward(g, go, y, yo, out, oo, cols, s);
    }

    @Override
    public void sums(float[] g, int go, float[] y, int yo, int cols, Scratch s) {
        arrays.sums(g, go, y, yo, cols, s);
    }

    @Override
    public void backwardFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                              Scratch s) {
        backwardFloat(arrays, g, go, y, yo, out, oo, cols, s);
    }

    @Override
    public void backwardDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                               Scratch s) {
        backwardDouble(arrays, g, go, y, yo, out, oo, cols, s);
    }

    /** A float32 INDArray row through {@code arrays}'s array kernel, on copies in {@code s}. */
    static void backwardFloat(RowKernel arrays, ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo,
                              int cols, Scratch s) {
        float[] gr = s.floats(0);
        float[] yr = s.floats(1);
        g.slice(go, 4 * cols).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(0, gr, 0, cols);
        y.slice(yo, 4 * cols).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(0, yr, 0, cols);
        arrays.backward(gr, 0, yr, 0, gr, 0, cols, s); // in place on the copy of g
        out.slice(oo, 4 * cols).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(0, gr, 0, cols);
    }

    /** A float64 INDArray row through {@code arrays}'s array kernel, on copies in {@code s}. */
    static void backwardDouble(RowKernel arrays, ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo,
                               int cols, Scratch s) {
        double[] gr = s.doubles(0);
        double[] yr = s.doubles(1);
        g.slice(go, 8 * cols).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(0, gr, 0, cols);
        y.slice(yo, 8 * cols).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(0, yr, 0, cols);
        arrays.backward(gr, 0, yr, 0, gr, 0, cols, s);
        out.slice(oo, 8 * cols).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(0, gr, 0, cols);
    }
}
