package dev.softmaxbackward.cli;

import dev.softmaxbackward.SoftmaxBackwardBackend;

/**
 * Calls a backend in float32 or float64 on data held as double[] (for float32, values that are
 * already floats), and hands the result back widened to double: float to double is exact and keeps
 * signed zeros, so every check and comparison can work on doubles for both dtypes.
 */
final class Kernels {
    private Kernels() {}

    enum DType {
        F32("float32", 0x1p-24, 4), F64("float64", 0x1p-53, 8);

        final String label;
        /** unit roundoff */
        final double u;
        final int bytes;

        DType(String label, double u, int bytes) {
            this.label = label;
            this.u = u;
            this.bytes = bytes;
        }

        /** The value as this dtype holds it. */
        double round(double v) {
            return this == F32 ? (float) v : v;
        }
    }

    static double[] backward(SoftmaxBackwardBackend b, DType t, double[] g, double[] y, int rows, int cols) {
        if (t == DType.F32) {
            float[] out = new float[g.length];
            b.softmaxBackward(toFloat(g), toFloat(y), out, rows, cols);
            return toDouble(out);
        }
        double[] out = new double[g.length];
        b.softmaxBackward(g.clone(), y.clone(), out, rows, cols);
        return out;
    }

    static double[] softmax(SoftmaxBackwardBackend b, DType t, double[] x, int rows, int cols) {
        if (t == DType.F32) {
            float[] out = new float[x.length];
            b.softmax(toFloat(x), out, rows, cols);
            return toDouble(out);
        }
        double[] out = new double[x.length];
        b.softmax(x.clone(), out, rows, cols);
        return out;
    }

    static double[] crossEntropyBackward(SoftmaxBackwardBackend b, DType t, double[] y, int[] labels, double scale,
                                         int rows, int cols) {
        if (t == DType.F32) {
            float[] out = new float[y.length];
            b.crossEntropyBackward(toFloat(y), labels.clone(), (float) scale, out, rows, cols);
            return toDouble(out);
        }
        double[] out = new double[y.length];
        b.crossEntropyBackward(y.clone(), labels.clone(), scale, out, rows, cols);
        return out;
    }

    static float[] toFloat(double[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (float) a[i];
        }
        return out;
    }

    static double[] toDouble(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i];
        }
        return out;
    }

    /** Index of the first entry whose bits differ (all NaNs count as one value), or -1. */
    static int firstBitDifference(double[] a, double[] b) {
        if (a.length != b.length) {
            return 0;
        }
        for (int i = 0; i < a.length; i++) {
            if (Double.doubleToLongBits(a[i]) != Double.doubleToLongBits(b[i])) {
                return i;
            }
        }
        return -1;
    }
}
