package dev.softmaxbackward.cpu;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Loads ND4J's native backend and runs one native op. Kept apart from {@link CpuBackend} so that a
 * missing ND4J jar surfaces here, as a caught {@link NoClassDefFoundError}, not when the backend class loads.
 */
final class Nd4jProbe {
    private Nd4jProbe() {}

    /** Null when ND4J works; otherwise what the loader threw (UnsatisfiedLinkError, ExceptionInInitializerError, ...). */
    static Throwable probe() {
        try {
            INDArray a = Nd4j.createFromArray(1.0f, 2.0f);
            float sum = a.sumNumber().floatValue();
            if (sum != 3.0f) {
                return new IllegalStateException("ND4J backend " + Nd4j.getBackend() + " computed 1 + 2 = " + sum);
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }
}
