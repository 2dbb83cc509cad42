package dev.softmaxbackward.dl4j;

import java.util.Arrays;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.CountNonZero;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.shade.jackson.annotation.JsonIgnore;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Softmax cross-entropy fused with the softmax, for a DL4J output layer whose activation is a softmax
 * ({@link Dl4jSoftmax} or DL4J's {@link ActivationSoftmax}).
 *
 * <p>Labels are either class indices, a {@code [B, 1]} column as {@code LossSparseMCXENT} takes them
 * (label {@value #IGNORE_INDEX}: the row gives no score and a zero gradient), or one-hot rows
 * {@code [B, V]} as {@code LossMCXENT} takes them. A per-example mask ({@code [B, 1]} or {@code [B]})
 * and per-class weights ({@code V} values) scale each row's loss as in DL4J's losses. Score per row:
 * {@code -w[l] m log(clip(y[l]))} with DL4J's clipping to {@code [1e-10, 1 - 1e-10]}; gradient per row:
 * {@code w[l] m (y - onehot(l))}, not divided by B (DL4J divides by the minibatch size itself).
 *
 * <p>{@link #computeGradientAndScore} runs one softmax pass: the score is read from y and the gradient
 * is {@code crossEntropyBackward} written over y. Index labels never become a one-hot array, and the
 * pre-activations are never written.
 *
 * <p>DL4J's {@code fit} never calls {@code computeGradientAndScore}: per step, {@code BaseOutputLayer}
 * calls {@link #computeGradient} from {@code backpropGradient}, then {@code MultiLayerNetwork} calls the
 * layer's {@code computeScore}, which recomputes the pre-activations (a second {@code input.mmul(W)},
 * a new array) and calls {@link #computeScore}. So that a step still takes one softmax pass,
 * {@code computeGradient} keeps the batch's row scores, with a copy of its pre-activations and labels,
 * for the calling thread; the next {@code computeScore} or {@code computeScoreArray} on that thread uses
 * them only if its pre-activations are bitwise equal to the copy (a byte compare on two threads) and
 * its labels, mask and weights give the same per-row labels and scales, and otherwise computes afresh.
 * A kept score is used once. The copy is one {@code [B, V]} array per thread, outside any workspace,
 * reused from step to step; {@code -D}{@value #SCORE_CACHE_PROPERTY}{@code =false} turns this off
 * (then a {@code fit} step takes two softmax passes, as stock DL4J's does).
 */
public class FusedSoftmaxCrossEntropy implements ILossFunction {
    private static final long serialVersionUID = 1L;

    /** The label that marks a row as ignored (PyTorch's and this library's ignore index). */
    public static final int IGNORE_INDEX = -100;
    /** DL4J's LossMCXENT clipping of y in the score. */
    static final double CLIP_EPS = 1e-10;

    /** System property: {@code false} turns off keeping computeGradient's scores for computeScore. */
    public static final String SCORE_CACHE_PROPERTY = "softmaxbackward.dl4j.scoreCache";
    private static final boolean SCORE_CACHE = !"false".equalsIgnoreCase(System.getProperty(SCORE_CACHE_PROPERTY));

    @JsonProperty("weights")
    private double[] weights;

    /** computeGradient's row scores for the computeScore that DL4J's fit calls next; never serialised. */
    @JsonIgnore
    private transient volatile ThreadLocal<LastStep> last;

    /** Unweighted. */
    public FusedSoftmaxCrossEntropy() {
    }

    /** With one weight per class (length V), as {@code new LossMCXENT(weights)}. */
    public FusedSoftmaxCrossEntropy(double... weights) {
        if (weights != null) {
            for (int i = 0; i < weights.length; i++) {
                if (!Double.isFinite(weights[i]) || weights[i] < 0) {
                    throw new IllegalArgumentException("weights[" + i + "] = " + weights[i]
                            + " must be finite and non-negative");
                }
            }
        }
        this.weights = weights == null ? null : weights.clone();
    }

    /** The per-class weights, or null. */
    public double[] weights() {
        return weights == null ? null : weights.clone();
    }

    @Override
    public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask,
            boolean average) {
        Rows rows = rows(labels, preOutput, activationFn, mask);
        double sum = 0;
        for (double s : scores(rows, preOutput)) {
            sum += s;
        }
        return average && rows.b > 0 ? sum / rows.b : sum;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Rows rows = rows(labels, preOutput, activationFn, mask);
        return Nd4j.createFromArray(scores(rows, preOutput)).reshape(rows.b, 1).castTo(preOutput.dataType());
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Rows rows = rows(labels, preOutput, activationFn, mask);
        double[] yAtLabel = new double[rows.b];
        LastStep last = SCORE_CACHE ? lastStep() : null;
        INDArray gradient = Backends.softmaxCrossEntropy(preOutput, rows.labels, rows.scale, preOutput.ulike(), yAtLabel,
                last == null ? null : last.copyTarget(preOutput));
        if (last != null) {
            last.keep(rows, rows.scores(yAtLabel));
        }
        return gradient;
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
            IActivation activationFn, INDArray mask, boolean average) {
        Rows rows = rows(labels, preOutput, activationFn, mask);
        double[] yAtLabel = new double[rows.b];
        INDArray gradient = Backends.softmaxCrossEntropy(preOutput, rows.labels, rows.scale, preOutput.ulike(), yAtLabel,
                null);
        double sum = 0;
        for (double s : rows.scores(yAtLabel)) {
            sum += s;
        }
        double score = average && rows.b > 0 ? sum / rows.b : sum;
        return new Pair<>(score, gradient);
    }

    /** The row scores: kept from this thread's last computeGradient when its inputs match, else one softmax pass. */
    private double[] scores(Rows rows, INDArray preOutput) {
        double[] kept = SCORE_CACHE ? lastStep().take(preOutput, rows) : null;
        return kept != null ? kept : rows.scores(Backends.softmax(preOutput, preOutput.ulike()));
    }

    private LastStep lastStep() {
        ThreadLocal<LastStep> l = last;
        if (l == null) {
            synchronized (this) {
                l = last;
                if (l == null) {
                    l = ThreadLocal.withInitial(LastStep::new);
                    last = l;
                }
            }
        }
        return l.get();
    }

    /** One thread's last computeGradient: a copy of its pre-activations, its rows, and their scores. */
    private static final class LastStep {
        INDArray pre;
        int[] labels;
        double[] scale;
        double[] scores;

        /** The array this call's pre-activations are copied into (the softmax pass writes it); drops the kept scores. */
        INDArray copyTarget(INDArray preOutput) {
            scores = null;
            if (pre == null || pre.dataType() != preOutput.dataType() || !Arrays.equals(pre.shape(), preOutput.shape())) {
                try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                    pre = Nd4j.createUninitialized(preOutput.dataType(), preOutput.shape(), 'c');
                }
            }
            return pre;
        }

        /** Keeps the scores of the pre-activations just copied into {@link #copyTarget}'s array. */
        void keep(Rows rows, double[] rowScores) {
            labels = rows.labels;
            scale = rows.scale;
            scores = rowScores;
        }

        /** The kept scores if they are this call's, once; else null. */
        double[] take(INDArray preOutput, Rows rows) {
            double[] s = scores;
            scores = null;
            if (s == null || pre.dataType() != preOutput.dataType() || !Arrays.equals(pre.shape(), preOutput.shape())
                    || !Arrays.equals(labels, rows.labels) || !Arrays.equals(scale, rows.scale)) {
                return null;
            }
            return Backends.sameBits(pre, preOutput) ? s : null;
        }
    }

    @Override
    public String name() {
        return toString();
    }

    @Override
    public String toString() {
        return weights == null ? "FusedSoftmaxCrossEntropy()" : "FusedSoftmaxCrossEntropy(weights=" + Arrays.toString(weights) + ")";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FusedSoftmaxCrossEntropy f && Arrays.equals(weights, f.weights);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(weights);
    }

    /** The validated labels of a batch and each row's scale {@code w[l] * mask}; 0 for ignored rows. */
    private static final class Rows {
        final int b;
        final int[] labels;
        final double[] scale;

        Rows(int b, int[] labels, double[] scale) {
            this.b = b;
            this.labels = labels;
            this.scale = scale;
        }

        double[] scores(INDArray y) {
            double[] yAtLabel = new double[b];
            for (int r = 0; r < b; r++) {
                yAtLabel[r] = labels[r] == IGNORE_INDEX ? Double.NaN : Backends.entry(y, r, labels[r]);
            }
            return scores(yAtLabel);
        }

        /** The row scores from each row's softmax entry at its label, written over {@code yAtLabel} (returned). */
        double[] scores(double[] yAtLabel) {
            for (int r = 0; r < b; r++) {
                if (labels[r] != IGNORE_INDEX && scale[r] != 0) {
                    double p = Math.min(Math.max(yAtLabel[r], CLIP_EPS), 1 - CLIP_EPS);
                    yAtLabel[r] = -scale[r] * Math.log(p);
                } else {
                    yAtLabel[r] = 0;
                }
            }
            return yAtLabel;
        }
    }

    /** Checks every argument, before anything is computed or written. */
    private Rows rows(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        if (labels == null) {
            throw new NullPointerException("labels");
        }
        if (activationFn == null) {
            throw new NullPointerException("activationFn");
        }
        if (!(activationFn instanceof ActivationSoftmax)) {
            throw new IllegalArgumentException("activationFn must be a softmax (Dl4jSoftmax or ActivationSoftmax), got "
                    + activationFn);
        }
        int[] rc = Backends.rowsCols("preOutput", preOutput);
        int b = rc[0];
        int v = rc[1];
        if (weights != null && weights.length != v) {
            throw new IllegalArgumentException("weights.length " + weights.length + " != preOutput columns " + v);
        }
        double[] m = maskValues(mask, b);
        int[] idx = labelIndices(labels, b, v, m);
        double[] scale = new double[b];
        for (int r = 0; r < b; r++) {
            if (idx[r] == IGNORE_INDEX) {
                continue;
            }
            double w = weights == null ? 1 : weights[idx[r]];
            scale[r] = w * (m == null ? 1 : m[r]);
        }
        return new Rows(b, idx, scale);
    }

    /**
     * Each row's class, or {@link #IGNORE_INDEX}. A row that the mask zeroes is not checked and is ignored:
     * padded time steps of variable-length sequences carry all-zero labels under mask 0, which LossMCXENT
     * scores 0 with a zero gradient.
     */
    private static int[] labelIndices(INDArray labels, int b, int v, double[] mask) {
        long[] shape = labels.shape();
        if (labels.rank() != 2 || labels.size(0) != b || (labels.size(1) != 1 && labels.size(1) != v)) {
            throw new IllegalArgumentException("labels shape " + Arrays.toString(shape) + " must be [" + b
                    + ", 1] (class indices) or [" + b + ", " + v + "] (one-hot rows) for preOutput [" + b + ", " + v + "]");
        }
        int[] idx = new int[b];
        if (labels.size(1) == 1 && v != 1) {
            long exact = exactIntegers(labels.dataType());
            if (exact < v - 1) { // indices 0 .. v-1 must be exact
                throw new IllegalArgumentException("labels dtype " + labels.dataType() + " cannot hold class indices up to "
                        + (v - 1) + " (exact integers only up to " + exact + ")");
            }
            DataBuffer data = labels.data(); // as in Backends.entry: indices relative to the view's own buffer
            long rowStride = labels.stride(0);
            for (int r = 0; r < b; r++) {
                double l = data.getDouble(r * rowStride);
                if (l == IGNORE_INDEX || masked(mask, r)) {
                    idx[r] = IGNORE_INDEX;
                } else if (l >= 0 && l < v && l == Math.rint(l)) {
                    idx[r] = (int) l;
                } else {
                    throw new IllegalArgumentException("labels[" + r + "] = " + l + " is not a class index in [0, " + v
                            + ") or the ignore index " + IGNORE_INDEX);
                }
            }
            return idx;
        }
        // one-hot rows: exactly one non-zero entry and it is 1
        if (OneHotRows.scan(labels, b, v, idx)) {
            for (int r = 0; r < b; r++) {
                if (masked(mask, r)) {
                    idx[r] = IGNORE_INDEX;
                } else if (idx[r] < 0) {
                    throw notOneHot(r, v);
                }
            }
            return idx;
        }
        // other dtypes and layouts: three native reductions, no copy of [B, V]
        long[] nonZero = Nd4j.getExecutioner().exec(new CountNonZero(labels, 1)).toLongVector();
        double[] max = labels.max(1).toDoubleVector();
        long[] hot = labels.argMax(1).toLongVector();
        for (int r = 0; r < b; r++) {
            if (masked(mask, r)) {
                idx[r] = IGNORE_INDEX;
            } else if (nonZero[r] != 1 || max[r] != 1) {
                throw notOneHot(r, v);
            } else {
                idx[r] = (int) hot[r];
            }
        }
        return idx;
    }

    private static boolean masked(double[] mask, int r) {
        return mask != null && mask[r] == 0;
    }

    private static IllegalArgumentException notOneHot(int r, int v) {
        return new IllegalArgumentException("labels row " + r + " is not one-hot over " + v
                + " classes (one entry 1, the rest 0); mask the row to ignore it");
    }

    /** The largest n such that every integer in [0, n] is exact in the dtype; -1 if it holds no integers. */
    private static long exactIntegers(DataType t) {
        switch (t) {
            case DOUBLE: return 1L << 53;
            case FLOAT: return 1L << 24;
            case HALF: return 1L << 11;
            case BFLOAT16: return 1L << 8;
            case LONG: return Long.MAX_VALUE;
            case INT: return Integer.MAX_VALUE;
            case SHORT: return Short.MAX_VALUE;
            case BYTE: return Byte.MAX_VALUE;
            default: return -1;
        }
    }

    private static double[] maskValues(INDArray mask, int b) {
        if (mask == null) {
            return null;
        }
        if (mask.length() != b || (mask.rank() == 2 && mask.size(1) != 1) || mask.rank() > 2) {
            throw new IllegalArgumentException("mask shape " + Arrays.toString(mask.shape()) + " must be [" + b
                    + ", 1] or [" + b + "] (one value per example; per-output masks do not apply to a softmax)");
        }
        double[] m = mask.castTo(DataType.DOUBLE).toDoubleVector();
        for (int r = 0; r < b; r++) {
            if (!Double.isFinite(m[r])) {
                throw new IllegalArgumentException("mask[" + r + "] = " + m[r] + " must be finite");
            }
        }
        return m;
    }
}
