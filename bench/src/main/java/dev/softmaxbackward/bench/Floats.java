package dev.softmaxbackward.bench;

/**
 * float32 copies of float64 data, for the benchmarks and the C kernel's bit check. A class of its own
 * so that the check loads no benchmark state (and with it no ND4J class).
 */
final class Floats {
    private Floats() {}

    /** {@code v} rounded entry by entry to float32. */
    static float[] of(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
