package dev.softmaxbackward.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

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
final class StagedKernel extends DelegatingKernel {
    StagedKernel(RowKernel arrays) {
        super(arrays, "staged through the heap");
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
        float[] gr = copy(g, go, s.floats(0), cols, 0, s);
        arrays.backward(gr, 0, copy(y, yo, s.floats(1), cols, 1, s), 0, gr, 0, cols, s); // in place on the copy of g
        copy(gr, out, oo, cols, 2, s);
    }

    /** A float64 INDArray row through {@code arrays}'s array kernel, on copies in {@code s}. */
    static void backwardDouble(RowKernel arrays, ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo,
                               int cols, Scratch s) {
        double[] gr = copy(g, go, s.doubles(0), cols, 0, s);
        arrays.backward(gr, 0, copy(y, yo, s.doubles(1), cols, 1, s), 0, gr, 0, cols, s);
        copy(gr, out, oo, cols, 2, s);
    }

    /** The {@code cols} floats at byte offset {@code at} of {@code b} into {@code to[0, cols)}; {@code n}, {@code s}: as {@link #floats}. */
    static float[] copy(ByteBuffer b, int at, float[] to, int cols, int n, Scratch s) {
        floats(b, n, s).get(at >> 2, to, 0, cols);
        return to;
    }

    static double[] copy(ByteBuffer b, int at, double[] to, int cols, int n, Scratch s) {
        doubles(b, n, s).get(at >> 3, to, 0, cols);
        return to;
    }

    /** {@code from[0, cols)} back to byte offset {@code at} of {@code b}. */
    static void copy(float[] from, ByteBuffer b, int at, int cols, int n, Scratch s) {
        floats(b, n, s).put(at >> 2, from, 0, cols);
    }

    static void copy(double[] from, ByteBuffer b, int at, int cols, int n, Scratch s) {
        doubles(b, n, s).put(at >> 3, from, 0, cols);
    }

    /**
     * All of {@code b} as little-endian floats from its index 0, made once per buffer per task: {@code s} keeps
     * the view for the next rows ({@link Scratch#view}; {@code n}: which of the row's buffers this is). A view
     * per copy ({@code slice().order().asFloatBuffer()}, three buffer objects) took about a fifth of a plain-Java
     * float32 INDArray row's time (JFR, JDK 25, [4096,1024]; bench/results/cpu-stop31.md §7). ND4J's rows start
     * on a whole entry, so {@code at} is a multiple of the entry's width.
     */
    private static FloatBuffer floats(ByteBuffer b, int n, Scratch s) {
        if (s.view(b, n) instanceof FloatBuffer f) {
            return f;
        }
        FloatBuffer f = b.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        s.keepView(b, f);
        return f;
    }

    private static DoubleBuffer doubles(ByteBuffer b, int n, Scratch s) {
        if (s.view(b, n) instanceof DoubleBuffer d) {
            return d;
        }
        DoubleBuffer d = b.duplicate().clear().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
        s.keepView(b, d);
        return d;
    }
}
