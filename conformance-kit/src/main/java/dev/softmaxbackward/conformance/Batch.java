package dev.softmaxbackward.conformance;

import dev.softmaxbackward.SoftmaxBackwardBackend;

/**
 * One input of {@code softmaxBackward}: a {@code [rows, cols]} batch of y (the saved softmax output)
 * and g (the upstream gradient) in one dtype, with ways to run it on a backend.
 */
public final class Batch {
    /**
     * What an output array holds before a call: a quiet NaN with a payload no arithmetic produces
     * (quiet, so that widening and narrowing conversions keep its bits).
     */
    public static final float SENTINEL_F = Float.intBitsToFloat(0x7fe5_a5a5);
    public static final double SENTINEL_D = Double.longBitsToDouble(0x7ffd_a5a5_a5a5_a5a5L);

    private final int rows;
    private final int cols;
    // y and g as arrays of one dtype, read back exactly and as raw bits (the caller's arrays, not copies)
    private final Output y;
    private final Output g;

    private Batch(int rows, int cols, Output y, Output g) {
        this.rows = rows;
        this.cols = cols;
        this.y = y;
        this.g = g;
    }

    public static Batch of(float[] y, float[] g, int rows, int cols) {
        return new Batch(rows, cols, Output.of(y), Output.of(g));
    }

    public static Batch of(double[] y, double[] g, int rows, int cols) {
        return new Batch(rows, cols, Output.of(y), Output.of(g));
    }

    /** y and g given in float64, rounded once to {@code dtype}. */
    public static Batch rounded(DType dtype, double[] y, double[] g, int rows, int cols) {
        if (dtype == DType.FLOAT64) {
            return of(y, g, rows, cols);
        }
        return of(narrowed(y), narrowed(g), rows, cols);
    }

    /** {@code v} rounded entry by entry to float32. */
    static float[] narrowed(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    public DType dtype() {
        return y.dtype();
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int size() {
        return rows * cols;
    }

    public double y(int i) {
        return y.get(i);
    }

    public double g(int i) {
        return g.get(i);
    }

    public float[] yFloats() {
        return y.floats();
    }

    public float[] gFloats() {
        return g.floats();
    }

    public double[] yDoubles() {
        return y.doubles();
    }

    public double[] gDoubles() {
        return g.doubles();
    }

    /** A fresh output array of the right dtype and size, filled with the sentinel. */
    public Output sentinelOutput() {
        return Output.sentinel(dtype(), size());
    }

    /** {@code backend.softmaxBackward(g, y, gradIn, rows, cols)} into a fresh sentinel-filled gradIn. */
    public Output backward(SoftmaxBackwardBackend backend) {
        Output out = sentinelOutput();
        if (dtype() == DType.FLOAT32) {
            backend.softmaxBackward(gFloats(), yFloats(), out.floats(), rows, cols);
        } else {
            backend.softmaxBackward(gDoubles(), yDoubles(), out.doubles(), rows, cols);
        }
        return out;
    }

    /** The same, in place: gradIn is a copy of g and is passed as both gradOut and gradIn. */
    public Output backwardInPlace(SoftmaxBackwardBackend backend) {
        Output buf = g.slice(0, g.length());
        if (dtype() == DType.FLOAT32) {
            backend.softmaxBackward(buf.floats(), yFloats(), buf.floats(), rows, cols);
        } else {
            backend.softmaxBackward(buf.doubles(), yDoubles(), buf.doubles(), rows, cols);
        }
        return buf;
    }

    /** Rows [from, to) as a batch of their own (copies). */
    public Batch rows(int from, int to) {
        return new Batch(to - from, cols, y.slice(from * cols, to * cols), g.slice(from * cols, to * cols));
    }

    /** A deep copy, to check later that a call left the inputs alone. */
    public Batch copy() {
        return new Batch(rows, cols, y.slice(0, y.length()), g.slice(0, g.length()));
    }

    /** Whether y and g are bit for bit those of {@code other}. */
    public boolean sameBits(Batch other) {
        if (dtype() != other.dtype() || rows != other.rows || cols != other.cols) {
            return false;
        }
        for (int i = 0; i < size(); i++) {
            if (y.rawBits(i) != other.y.rawBits(i) || g.rawBits(i) != other.g.rawBits(i)) {
                return false;
            }
        }
        return true;
    }

    /** Whether row r's y and g are all finite. */
    public boolean rowFinite(int r) {
        for (int i = r * cols; i < (r + 1) * cols; i++) {
            if (!Double.isFinite(y(i)) || !Double.isFinite(g(i))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return dtype() + "[" + rows + "x" + cols + "]";
    }
}
