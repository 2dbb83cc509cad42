package dev.softmaxbackward.cli;

import java.util.SplittableRandom;

/** The generated inputs of {@code bench} and {@code train}. */
final class Data {
    private Data() {}

    /** A standard normal draw. */
    static double gaussian(SplittableRandom rnd) {
        // Box-Muller written out, not nextGaussian() (which Java 17's SplittableRandom has too),
        // so the inputs are fixed by this file whatever algorithm the JDK uses
        double u = 1.0 - rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    static float[] toFloat(double[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (float) a[i];
        }
        return out;
    }
}
