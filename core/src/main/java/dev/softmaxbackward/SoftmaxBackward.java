package dev.softmaxbackward;

import static dev.softmaxbackward.spi.Arguments.notNull;

import java.util.List;

/**
 * The entry point: the backward pass of softmax, on the best backend this machine has.
 *
 * <pre>{@code
 * double[] gradIn = SoftmaxBackward.softmaxBackward(gradOut, softmaxOut);      // one row
 * SoftmaxBackward.backend().softmaxBackward(g, y, gradIn, rows, cols);         // a [rows, cols] batch
 * }</pre>
 *
 * <p>Backends are found with {@link java.util.ServiceLoader} the first time one is asked for. The
 * highest-priority available one is chosen, unless the system property {@code softmaxbackward.backend}
 * or else the environment variable {@code SOFTMAX_BACKWARD_BACKEND} names one: then that one, or a
 * {@link BackendUnavailableException} saying why not; never a silent substitute.
 */
public final class SoftmaxBackward {
    private SoftmaxBackward() {}

    /** Discovery runs once, on first use, and is then fixed for the life of the class loader. */
    private static final class Holder {
        static final BackendRegistry REGISTRY = BackendRegistry.fromServiceLoader();
    }

    /**
     * The backward pass of one row: {@code gradIn[i] = y[i] * (gradOut[i] - sum(y*gradOut)/sum(y))}.
     *
     * @return a new array, the same length as the inputs
     */
    public static double[] softmaxBackward(double[] gradOut, double[] softmaxOut) {
        int cols = oneRow(notNull(gradOut, "gradOut").length, notNull(softmaxOut, "softmaxOut").length);
        double[] gradIn = new double[cols];
        backend().softmaxBackward(gradOut, softmaxOut, gradIn, 1, cols);
        return gradIn;
    }

    /** As {@link #softmaxBackward(double[], double[])}, for float32. */
    public static float[] softmaxBackward(float[] gradOut, float[] softmaxOut) {
        int cols = oneRow(notNull(gradOut, "gradOut").length, notNull(softmaxOut, "softmaxOut").length);
        float[] gradIn = new float[cols];
        backend().softmaxBackward(gradOut, softmaxOut, gradIn, 1, cols);
        return gradIn;
    }

    private static int oneRow(int gradOutLength, int softmaxOutLength) {
        if (gradOutLength != softmaxOutLength) {
            throw new IllegalArgumentException(
                    "gradOut.length " + gradOutLength + " != softmaxOut.length " + softmaxOutLength);
        }
        return gradOutLength;
    }

    /**
     * The backend this process uses: the one named by {@code softmaxbackward.backend} or
     * {@code SOFTMAX_BACKWARD_BACKEND}, else the highest-priority available one. Chosen once.
     *
     * @throws BackendUnavailableException when the named backend is unknown or unavailable, or none is
     */
    public static SoftmaxBackwardBackend backend() {
        BackendRegistry.Selection s = Holder.REGISTRY.selection();
        if (s.backend() == null) {
            throw new BackendUnavailableException(s.failure().getMessage(), s.failure().getCause());
        }
        return s.backend();
    }

    /**
     * The backend with this name (case-insensitive), whatever its priority.
     *
     * @throws BackendUnavailableException when there is none by that name or it is unavailable; the cause
     *                                     is the backend's own {@link SoftmaxBackwardBackend#unavailabilityCause()}
     */
    public static SoftmaxBackwardBackend backend(String name) {
        notNull(name, "name");
        return Holder.REGISTRY.byName(name);
    }

    /** Every discovered backend, highest priority first, with whether it is available and why not. */
    public static List<BackendStatus> backends() {
        return Holder.REGISTRY.entries().stream().map(BackendRegistry.Entry::status).toList();
    }

    /**
     * How {@link #backend()} was chosen: {@code "system property softmaxbackward.backend=cpu"},
     * {@code "environment variable ..."}, {@code "highest priority available (100)"}, or {@code "none"}.
     */
    public static String selectionReason() {
        return Holder.REGISTRY.selection().reason();
    }
}
