package dev.softmaxbackward;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * One implementation of the softmax backward pass, discovered with {@link java.util.ServiceLoader}.
 *
 * <p>All methods take row-major batches: row {@code r} of a {@code [rows, cols]} batch occupies
 * {@code [r*cols, (r+1)*cols)} of each flat array. Every backend computes, per row,
 * {@code gradIn[i] = y[i] * (gradOut[i] - d)} with {@code d = sum(y*gradOut) / sum(y)}, following the
 * numerics and the canonical summation order of {@code docs/numerics.md}, so that every backend
 * returns the same bits as {@code reference} for the same inputs.
 *
 * <p>Bad arguments (null arrays, negative sizes, {@code rows*cols} overflowing {@code int}, array
 * lengths that do not match) throw {@link NullPointerException} or {@link IllegalArgumentException}
 * naming the argument and the numbers, before anything is written. Implementations validate with
 * {@link dev.softmaxbackward.spi.Arguments}. Implementations are safe for concurrent callers.
 *
 * <p>Annotate an implementation with {@link BackendDescriptor}, so that selection can learn its name
 * and priority without creating it (and loading its native libraries). The contract is
 * docs/contract.md; §5 is this interface.
 */
public interface SoftmaxBackwardBackend {

    /**
     * {@code "reference"}, {@code "cpu"}, {@code "cuda"}, or a third party's name. The default reads the
     * class's {@link BackendDescriptor}, which selection reads too, so the two cannot disagree.
     *
     * @throws IllegalStateException when the class has no {@link BackendDescriptor} and does not override this
     */
    default String name() {
        return descriptor().name();
    }

    /**
     * Higher wins automatic selection: cuda &gt; cpu &gt; reference. The default reads the class's
     * {@link BackendDescriptor}, like {@link #name()}.
     */
    default int priority() {
        return descriptor().priority();
    }

    /**
     * Whether this backend can run here. Never throws; cheap after the first probe. The default is
     * {@code unavailabilityCause().isEmpty()}, so that the two answers have one source.
     */
    default boolean isAvailable() {
        return unavailabilityCause().isEmpty();
    }

    /**
     * Why this backend cannot run here; empty when it can. The default is empty: always available, as
     * a pure-Java backend is.
     */
    default Optional<Throwable> unavailabilityCause() {
        return Optional.empty();
    }

    private BackendDescriptor descriptor() {
        BackendDescriptor d = getClass().getAnnotation(BackendDescriptor.class);
        if (d == null) {
            throw new IllegalStateException(getClass().getName() + " has no @BackendDescriptor: annotate it, "
                    + "or override name() and priority()");
        }
        return d;
    }

    /**
     * {@code gradIn = y * (gradOut - d)} per row. {@code gradIn} may be the same array as {@code gradOut}.
     */
    void softmaxBackward(float[] gradOut, float[] softmaxOut, float[] gradIn, int rows, int cols);

    /** As {@link #softmaxBackward(float[], float[], float[], int, int)}, with double-double sums. */
    void softmaxBackward(double[] gradOut, double[] softmaxOut, double[] gradIn, int rows, int cols);

    /** Forward softmax per row, max-subtracted: {@code out[i] = exp(x[i] - max) / sum(exp(x - max))}. */
    void softmax(float[] logits, float[] out, int rows, int cols);

    /** As {@link #softmax(float[], float[], int, int)}. */
    void softmax(double[] logits, double[] out, int rows, int cols);

    /**
     * {@code gradIn = scale * (y - onehot(labels[r]))} per row: the gradient of
     * {@code scale * crossEntropy(softmax(x), label)} with respect to the logits. Label {@code -100}
     * (the usual ignore index) gives a zero row; any other label outside {@code [0, cols)} is an
     * {@link IllegalArgumentException}.
     */
    void crossEntropyBackward(float[] softmaxOut, int[] labels, float scale, float[] gradIn, int rows, int cols);

    /** As {@link #crossEntropyBackward(float[], int[], float, float[], int, int)}. */
    void crossEntropyBackward(double[] softmaxOut, int[] labels, double scale, double[] gradIn, int rows, int cols);
    // ---- sharded rows (vocab parallel): see ShardedBackward ----------------------------------------

    /**
     * Phase 1 of {@link ShardedBackward} for one shard: {@code gradOut} and {@code softmaxOut} are the
     * shard's {@code [rows, cols]} columns, row-major. Backends that do not override this run the
     * {@code reference} backend's code (same bits, scalar speed).
     */
    default ShardPartials shardPartials(float[] gradOut, float[] softmaxOut, int rows, int cols) {
        return new dev.softmaxbackward.reference.ReferenceBackend().shardPartials(gradOut, softmaxOut, rows, cols);
    }

    /** As {@link #shardPartials(float[], float[], int, int)}, with double-double partials. */
    default ShardPartials shardPartials(double[] gradOut, double[] softmaxOut, int rows, int cols) {
        return new dev.softmaxbackward.reference.ReferenceBackend().shardPartials(gradOut, softmaxOut, rows, cols);
    }

    /**
     * Phase 2 of {@link ShardedBackward} for one shard: {@code gradIn = y * (gradOut - means[r])} per
     * row, with {@code means} from {@link ShardedBackward#meansFloat}. {@code gradIn} may be {@code gradOut}.
     */
    default void shardBackward(float[] gradOut, float[] softmaxOut, float[] means, float[] gradIn, int rows,
                               int cols) {
        new dev.softmaxbackward.reference.ReferenceBackend().shardBackward(gradOut, softmaxOut, means, gradIn, rows, cols);
    }

    /** As {@link #shardBackward(float[], float[], float[], float[], int, int)}. */
    default void shardBackward(double[] gradOut, double[] softmaxOut, double[] means, double[] gradIn, int rows,
                               int cols) {
        new dev.softmaxbackward.reference.ReferenceBackend().shardBackward(gradOut, softmaxOut, means, gradIn, rows, cols);
    }

    /**
     * One line about what runs, for {@code info}: the device (cuda: the GPU, its driver) or the
     * kernel (cpu: strategy, kernel, threads). Empty when there is nothing to add to the name.
     */
    default String describe() {
        return "";
    }

    /**
     * This backend as {@code type}, for its own entry points beyond the SPI:
     * {@code SoftmaxBackward.backend("cpu").unwrap(CpuBackend.class)}.
     *
     * @throws IllegalArgumentException when it is not a {@code type}
     */
    default <T> T unwrap(Class<T> type) {
        if (!type.isInstance(this)) {
            throw new IllegalArgumentException("backend '" + name() + "' is a " + getClass().getName()
                    + ", not a " + type.getName());
        }
        return type.cast(this);
    }

    /**
     * Returns normally when this backend can run here.
     *
     * @throws BackendUnavailableException saying why not, with {@link #unavailabilityCause()} as its cause
     */
    default void ensureAvailable() {
        if (!isAvailable()) {
            Throwable cause = unavailabilityCause().orElse(null);
            throw new BackendUnavailableException("backend '" + name() + "' is unavailable: "
                    + (cause == null ? "no reason given" : BackendStatus.describe(cause)), cause);
        }
    }

    /**
     * What this backend promises beyond the contract's bounds. The default is the contract's own
     * promise for Java backends: both bit-exact flags. A backend whose forward {@code softmax} uses
     * another {@code exp} (the GPU's) leaves out {@link Guarantee#BIT_EXACT_FORWARD}.
     */
    default Set<Guarantee> guarantees() {
        return EnumSet.allOf(Guarantee.class);
    }
}
