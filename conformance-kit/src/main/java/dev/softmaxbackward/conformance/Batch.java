package dev.softmaxbackward.conformance;

import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.util.Arrays;

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

    private final DType dtype;
    private final int rows;
    private final int cols;
    private final float[] yf;
    private final float[] gf;
    private final double[] yd;
    private final double[] gd;

    private Batch(DType dtype, int rows, int cols, float[] yf, float[] gf, double[] yd, double[] gd) {
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
        this.yf = yf;
        this.gf = gf;
        this.yd = yd;
        this.gd = gd;
    }

    public static Batch of(float[] y, float[] g, int rows, int cols) {
        return new Batch(DType.FLOAT32, rows, cols, y, g, null, null);
    }

    public static Batch of(double[] y, double[] g, int rows, int cols) {
        return new Batch(DType.FLOAT64, rows, cols, null, null, y, g);
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
        return dtype;
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
        return yf != null ? yf[i] : yd[i];
    }

    public double g(int i) {
        return gf != null ? gf[i] : gd[i];
    }

    public float[] yFloats() {
        return yf;
    }

    public float[] gFloats() {
        return gf;
    }

    public double[] yDoubles() {
        return yd;
    }

    public double[] gDoubles() {
        return gd;
    }

    /** A fresh output array of the right dtype and size, filled with the sentinel. */
    public Output sentinelOutput() {
        return Output.sentinel(dtype, size());
    }

    /** {@code backend.softmaxBackward(g, y, gradIn, rows, cols)} into a fresh sentinel-filled gradIn. */
    public Output backward(SoftmaxBackwardBackend backend) {
        Output out = sentinelOutput();
        if (dtype == DType.FLOAT32) {
            backend.softmaxBackward(gf, yf, out.floats(), rows, cols);
        } else {
            backend.softmaxBackward(gd, yd, out.doubles(), rows, cols);
        }
        return out;
    }

    /** The same, in place: gradIn is a copy of g and is passed as both gradOut and gradIn. */
    public Output backwardInPlace(SoftmaxBackwardBackend backend) {
        if (dtype == DType.FLOAT32) {
            float[] buf = gf.clone();
            backend.softmaxBackward(buf, yf, buf, rows, cols);
            return Output.of(buf);
        }
        double[] buf = gd.clone();
        backend.softmaxBackward(buf, yd, buf, rows, cols);
        return Output.of(buf);
    }

    /** Rows [from, to) as a batch of their own (copies). */
    public Batch rows(int from, int to) {
        int a = from * cols;
        int b = to * cols;
        return dtype == DType.FLOAT32
                ? of(Arrays.copyOfRange(yf, a, b), Arrays.copyOfRange(gf, a, b), to - from, cols)
                : of(Arrays.copyOfRange(yd, a, b), Arrays.copyOfRange(gd, a, b), to - from, cols);
    }

    /** A deep copy, to check later that a call left the inputs alone. */
    public Batch copy() {
        return dtype == DType.FLOAT32 ? of(yf.clone(), gf.clone(), rows, cols) : of(yd.clone(), gd.clone(), rows, cols);
    }

    /** Whether y and g are bit for bit those of {@code other}. */
    public boolean sameBits(Batch other) {
        if (dtype != other.dtype || rows != other.rows || cols != other.cols) {
            return false;
        }
        for (int i = 0; i < size(); i++) {
            if (rawY(i) != other.rawY(i) || rawG(i) != other.rawG(i)) {
                return false;
            }
        }
        return true;
    }

    private long rawY(int i) {
        return yf != null ? Float.floatToRawIntBits(yf[i]) : Double.doubleToRawLongBits(yd[i]);
    }

    private long rawG(int i) {
        return gf != null ? Float.floatToRawIntBits(gf[i]) : Double.doubleToRawLongBits(gd[i]);
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
        return dtype + "[" + rows + "x" + cols + "]";
    }
}
