package dev.softmaxbackward.dl4j;

import java.util.Arrays;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;
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
 * pre-activations are never duplicated or written.
 */
public class FusedSoftmaxCrossEntropy implements ILossFunction {
    private static final long serialVersionUID = 1L;

    /** The label that marks a row as ignored (PyTorch's and this library's ignore index). */
    public static final int IGNORE_INDEX = -100;
    /** DL4J's LossMCXENT clipping of y in the score. */
    static final double CLIP_EPS = 1e-10;

    @JsonProperty("weights")
    private double[] weights;

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
        INDArray y = Backends.softmax(preOutput, preOutput.ulike());
        double sum = 0;
        for (double s : rows.scores(y)) {
            sum += s;
        }
        return average && rows.b > 0 ? sum / rows.b : sum;
    }

    @Override
    public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Rows rows = rows(labels, preOutput, activationFn, mask);
        INDArray y = Backends.softmax(preOutput, preOutput.ulike());
        return Nd4j.createFromArray(rows.scores(y)).reshape(rows.b, 1).castTo(preOutput.dataType());
    }

    @Override
    public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
        Rows rows = rows(labels, preOutput, activationFn, mask);
        INDArray y = Backends.softmax(preOutput, preOutput.ulike());
        return Backends.crossEntropyBackward(y, rows.labels, rows.scale, y);
    }

    @Override
    public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput,
            IActivation activationFn, INDArray mask, boolean average) {
        Rows rows = rows(labels, preOutput, activationFn, mask);
        INDArray y = Backends.softmax(preOutput, preOutput.ulike());
        double sum = 0;
        for (double s : rows.scores(y)) {
            sum += s;
        }
        double score = average && rows.b > 0 ? sum / rows.b : sum;
        return new Pair<>(score, Backends.crossEntropyBackward(y, rows.labels, rows.scale, y));
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
            double[] s = new double[b];
            for (int r = 0; r < b; r++) {
                if (labels[r] != IGNORE_INDEX && scale[r] != 0) {
                    double p = Math.min(Math.max(y.getDouble(r, labels[r]), CLIP_EPS), 1 - CLIP_EPS);
                    s[r] = -scale[r] * Math.log(p);
                }
            }
            return s;
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
        int[] idx = labelIndices(labels, b, v);
        double[] m = maskValues(mask, b);
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

    private static int[] labelIndices(INDArray labels, int b, int v) {
        long[] shape = labels.shape();
        if (labels.rank() != 2 || labels.size(0) != b || (labels.size(1) != 1 && labels.size(1) != v)) {
            throw new IllegalArgumentException("labels shape " + Arrays.toString(shape) + " must be [" + b
                    + ", 1] (class indices) or [" + b + ", " + v + "] (one-hot rows) for preOutput [" + b + ", " + v + "]");
        }
        int[] idx = new int[b];
        if (labels.size(1) == 1 && v != 1) {
            long exact = exactIntegers(labels.dataType());
            if (exact < v) {
                throw new IllegalArgumentException("labels dtype " + labels.dataType() + " cannot hold class indices up to "
                        + (v - 1) + " (exact integers only up to " + exact + ")");
            }
            for (int r = 0; r < b; r++) {
                double l = labels.getDouble(r, 0);
                if (l == IGNORE_INDEX) {
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
        // one-hot rows: exactly one 1 and zeros elsewhere
        INDArray oneHot = labels.dataType() == DataType.DOUBLE ? labels : labels.castTo(DataType.DOUBLE);
        for (int r = 0; r < b; r++) {
            double[] row = oneHot.getRow(r).toDoubleVector();
            int hot = -1;
            for (int j = 0; j < v; j++) {
                if (row[j] == 1 && hot < 0) {
                    hot = j;
                } else if (row[j] != 0) {
                    hot = -2;
                    break;
                }
            }
            if (hot < 0) {
                throw new IllegalArgumentException("labels row " + r + " is not one-hot over " + v
                        + " classes (one entry 1, the rest 0); mask the row to ignore it");
            }
            idx[r] = hot;
        }
        return idx;
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
