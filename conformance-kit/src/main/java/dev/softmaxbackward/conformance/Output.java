package dev.softmaxbackward.conformance;

import java.util.Arrays;

/**
 * An array of float32 or float64 values, read back as exact doubles and as raw bits: a backend's
 * output, or a {@link Batch}'s y or g.
 */
public final class Output {
    private final DType dtype;
    private final float[] f;
    private final double[] d;

    private Output(DType dtype, float[] f, double[] d) {
        this.dtype = dtype;
        this.f = f;
        this.d = d;
    }

    public static Output of(float[] values) {
        return new Output(DType.FLOAT32, values, null);
    }

    public static Output of(double[] values) {
        return new Output(DType.FLOAT64, null, values);
    }

    /** A fresh output of {@code n} entries of {@code dtype}, each the {@link Batch} sentinel. */
    static Output sentinel(DType dtype, int n) {
        if (dtype == DType.FLOAT32) {
            float[] out = new float[n];
            Arrays.fill(out, Batch.SENTINEL_F);
            return of(out);
        }
        double[] out = new double[n];
        Arrays.fill(out, Batch.SENTINEL_D);
        return of(out);
    }

    public DType dtype() {
        return dtype;
    }

    public int length() {
        return f != null ? f.length : d.length;
    }

    /** The value, widened exactly to double. */
    public double get(int i) {
        return f != null ? f[i] : d[i];
    }

    /** The raw bits (float bits zero-extended for float32). */
    public long rawBits(int i) {
        return f != null ? Integer.toUnsignedLong(Float.floatToRawIntBits(f[i])) : Double.doubleToRawLongBits(d[i]);
    }

    /** The raw bits as hex, for messages. */
    public String hex(int i) {
        return f != null ? String.format("0x%08x", (int) rawBits(i)) : String.format("0x%016x", rawBits(i));
    }

    public float[] floats() {
        return f;
    }

    public double[] doubles() {
        return d;
    }

    /** Element i as text: value and bits. */
    public String describe(int i) {
        return (f != null ? Float.toString(f[i]) : Double.toString(d[i])) + " (" + hex(i) + ")";
    }

    /** A copy of [from, to). */
    public Output slice(int from, int to) {
        return f != null ? of(Arrays.copyOfRange(f, from, to)) : of(Arrays.copyOfRange(d, from, to));
    }

    /** A copy with element i moved by {@code ulps} units in the last place (for checker self-tests). */
    public Output perturbed(int i, int ulps) {
        if (f != null) {
            float[] c = f.clone();
            for (int k = 0; k < Math.abs(ulps); k++) {
                c[i] = ulps > 0 ? Math.nextUp(c[i]) : Math.nextDown(c[i]);
            }
            return of(c);
        }
        double[] c = d.clone();
        for (int k = 0; k < Math.abs(ulps); k++) {
            c[i] = ulps > 0 ? Math.nextUp(c[i]) : Math.nextDown(c[i]);
        }
        return of(c);
    }

    /** A copy with element i replaced (for checker self-tests). */
    public Output with(int i, double value) {
        if (f != null) {
            float[] c = f.clone();
            c[i] = (float) value;
            return of(c);
        }
        double[] c = d.clone();
        c[i] = value;
        return of(c);
    }
}
