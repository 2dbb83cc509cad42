package dev.softmaxbackward.dl4j;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * How far stock DL4J's float64 results and ours may lie apart, entry by entry: the sum of the two
 * computations' error bounds against the exact result, derived from docs/numerics.md and propagated
 * through the network's products with absolute values (a running error analysis).
 *
 * <p>Forward softmax, per entry, relative to the exact {@code y*} (numerics.md §2 "Forward softmax",
 * with the summation bound of §5.1, Higham §4.2), {@code t = x - max x}, {@code u = 2^-53}:
 * <ul>
 *   <li>ours: {@code t} rounded once ({@code u|t|} in exp), fdlibm's exp within 1 ulp ({@code 2u}), the sum
 *       of terms that carry those errors ({@code u(E_y|t| + 2)}), its double-double pairs ({@code γ_h²},
 *       below {@code u}, counted as {@code u}) and the division ({@code u}):
 *       {@code ρ_o = u(|t| + E_y|t| + 6)};</li>
 *   <li>stock (ND4J's native softmax, the same formula with a plain float64 sum of depth at most
 *       {@code V - 1}): the same with the platform exp, assumed within 4 ulp ({@code 8u}), and the plain
 *       sum's {@code γ_{V-1}}: {@code ρ_s = u(|t| + E_y|t| + 18) + γ_{V-1}}.</li>
 * </ul>
 * Both are first-order bounds; every product of two first-order terms is below {@code 1e-18} relative
 * here, and {@link #K} (a relative {@code 1e-9}) covers them and the bounds' own float64 evaluation
 * (sums of at most {@code V + B} non-negative terms, {@code γ_{V+B} < 1e-10}).
 */
final class StockBounds {
    static final double U = 0x1p-53;
    static final double K = 1 + 1e-9;

    private StockBounds() {
    }

    static double gamma(long k) {
        return k * U / (1 - k * U);
    }

    /** ρ_o + ρ_s per entry of a [B, V] float64 pre-activation matrix (see the class comment). */
    static INDArray softmaxRelative(INDArray pre) {
        long v = pre.size(1);
        INDArray t = Transforms.abs(pre.subColumnVector(pre.max(1).reshape(pre.size(0), 1)));
        INDArray y = exactishSoftmax(pre);
        INDArray meanT = y.mul(t).sum(1).reshape(pre.size(0), 1);
        // ρ_o + ρ_s = u(2|t| + 2 E_y|t| + 24) + γ_{V-1}
        return t.mul(2 * U).addColumnVector(meanT.mul(2 * U)).addi(24 * U + gamma(v - 1));
    }

    /** softmax in float64 (a bound's magnitudes only: its own error is far inside K). */
    static INDArray exactishSoftmax(INDArray pre) {
        INDArray e = Transforms.exp(pre.subColumnVector(pre.max(1).reshape(pre.size(0), 1)), true);
        return e.divColumnVector(e.sum(1).reshape(pre.size(0), 1));
    }

    /**
     * The output layer's delta dL/dz of softmax cross-entropy: ours {@code fl(s (y_o - L))} with
     * {@code s = fl(w m)} (2 roundings), stock's {@code fl(fl(fl(y_s - L) w) m)} (3 roundings), so
     * {@code |dz_o - dz_s| <= |s| y (ρ_o + ρ_s) + 5u |dz|}, with {@code y} and {@code |dz|} taken from stock's
     * results (their own first-order error is inside K). {@code scale} is [B, 1]: {@code w[label] * mask}.
     */
    static INDArray crossEntropyDelta(INDArray pre, INDArray dzStock, INDArray scale) {
        INDArray y = exactishSoftmax(pre);
        INDArray rel = softmaxRelative(pre);
        INDArray absScale = Transforms.abs(scale, true);
        return y.mul(rel).muliColumnVector(absScale).addi(Transforms.abs(dzStock, true).muli(5 * U)).muli(K);
    }

    /**
     * Bounds on the four parameter gradients of x → Dense(tanh) → Output, given the bound {@code bz} on the
     * output delta: each product sums B (weights, biases) or V (the epsilon sent down) terms, each side
     * rounding with at most γ_k of the sum of absolute terms (Higham §3.1), and tanh's derivative is in
     * (0, 1], the same bits on both sides (the same op on the same pre-activations), times one rounding.
     * Returns {0_W, 0_b, 1_W, 1_b}.
     */
    static INDArray[] denseOutputGradients(INDArray x, INDArray a, INDArray w2, INDArray dzStock, INDArray bz) {
        long b = x.size(0);
        long v = w2.size(1);
        INDArray absA = Transforms.abs(a, true);
        INDArray absX = Transforms.abs(x, true);
        INDArray absW2t = Transforms.abs(w2, true).transpose();
        INDArray dzMag = Transforms.abs(dzStock, true).addi(bz); // at least |dz| on either side
        double gb = gamma(b);
        double gv = gamma(v);
        INDArray bW2 = absA.transpose().mmul(bz).addi(absA.transpose().mmul(dzMag).muli(2 * gb)).muli(K);
        INDArray bB2 = bz.sum(0).addi(dzMag.sum(0).muli(2 * gb)).reshape(1, v).muli(K);
        INDArray daMag = dzMag.mmul(absW2t).muli(1 + gv); // at least |dz W2^T| on either side
        INDArray bDa = bz.mmul(absW2t).addi(daMag.mul(2 * gv));
        INDArray bDz1 = bDa.add(daMag.mul(2 * U));
        INDArray dz1Mag = daMag.mul(1 + U);
        INDArray bW1 = absX.transpose().mmul(bDz1).addi(absX.transpose().mmul(dz1Mag).muli(2 * gb)).muli(K);
        INDArray bB1 = bDz1.sum(0).addi(dz1Mag.sum(0).muli(2 * gb)).reshape(1, a.size(1)).muli(K);
        return new INDArray[] {bW1, bB1, bW2, bB2};
    }

    /**
     * The score {@code (1/B) Σ_r s_r (-log clip(y[r, l_r]))}: the log of a value with relative error at most
     * {@code ρ = ρ_o + ρ_s} moves by at most {@code ρ(1 + ρ)}; ours rounds the log (1 ulp, 2u) and the
     * product (u), stock the log (assumed 4 ulp, 8u), the weight and the mask (2u); both sums over B rows
     * carry γ_{B-1} of the absolute row scores, and the division by B one rounding each.
     */
    static double score(INDArray pre, int[] labels, double[] scale, double stockScore) {
        INDArray rel = softmaxRelative(pre);
        INDArray y = exactishSoftmax(pre);
        int b = labels.length;
        double sumRows = 0;
        double bound = 0;
        for (int r = 0; r < b; r++) {
            if (labels[r] < 0 || scale[r] == 0) {
                continue;
            }
            double p = Math.min(Math.max(y.getDouble(r, labels[r]), 1e-10), 1 - 1e-10);
            double s = Math.abs(scale[r] * Math.log(p));
            sumRows += s;
            bound += Math.abs(scale[r]) * rel.getDouble(r, labels[r]) + 13 * U * s;
        }
        return K * ((bound + 2 * gamma(b - 1) * sumRows) / b + 2 * U * Math.abs(stockScore));
    }

    /**
     * Softmax backward behind a loss that does not special-case softmax, both sides recomputing y from the
     * same pre-activations and the loss's dL/dy {@code g} depending on that y. Per entry, the sum of:
     * ours against the exact result for its own y and g (numerics.md §5.2: {@code u(2|e| + 2yM) + λ});
     * stock's {@code softmax_bp} ({@code y (g - Σ y g)}, plain float64: the sum's {@code γ_V M Σy}, the
     * missing division by {@code Σy}, which is 1 within {@code Σ y ρ_s}, and two roundings
     * {@code 2u(|e| + yM)}); and the difference of the exact results for the two y's and g's: with
     * relative weight changes {@code r = ρ_o + ρ_s} and {@code |Δg| <= gBound}, {@code |Δe_i| <= y_i(r_i
     * |g_i - d| + gBound_i + Δd)}, {@code Δd <= Σ_j y_j (r_j |g_j - d| + gBound_j) / (Σ y (1 - max r))}.
     */
    static INDArray softmaxBackward(INDArray pre, INDArray gStock, INDArray gBound) {
        long rows = pre.size(0);
        long v = pre.size(1);
        INDArray y = exactishSoftmax(pre);
        INDArray r = softmaxRelative(pre);
        INDArray rhoS = r.mul(0.5).addi(gamma(v - 1) / 2); // ρ_s >= half of ρ_o + ρ_s
        INDArray m = Transforms.abs(gStock, true).addi(gBound).max(1).reshape(rows, 1);
        INDArray d = y.mul(gStock).sum(1).reshape(rows, 1);
        INDArray dev = Transforms.abs(gStock.subColumnVector(d), true);
        INDArray e = y.mul(dev); // |e|
        double rMax = r.maxNumber().doubleValue();
        INDArray dd = y.mul(r.mul(dev).addi(gBound)).sum(1).reshape(rows, 1).divi(1 - rMax);
        INDArray yM = y.mulColumnVector(m);
        INDArray ours = e.mul(2 * U).addi(yM.mul(2 * U)).addi(Double.MIN_VALUE);
        INDArray ySum = y.mul(rhoS).sum(1).reshape(rows, 1).addi(gamma(v));
        INDArray stock = yM.mulColumnVector(ySum).addi(e.mul(2 * U)).addi(yM.mul(2 * U));
        INDArray between = y.mul(r.mul(dev).addi(gBound).addColumnVector(dd));
        return ours.addi(stock).addi(between).muli(K);
    }

    /** Asserts |expected - actual| <= bound entry by entry; the message names the first entry outside. */
    static void assertWithin(INDArray expected, INDArray actual, INDArray bound, String what) {
        double[] e = expected.castTo(DataType.DOUBLE).dup('c').reshape(expected.length()).toDoubleVector();
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').reshape(actual.length()).toDoubleVector();
        double[] b = bound.castTo(DataType.DOUBLE).dup('c').reshape(bound.length()).toDoubleVector();
        if (e.length != a.length || e.length != b.length) {
            throw new AssertionError(what + ": lengths " + e.length + ", " + a.length + ", " + b.length);
        }
        for (int i = 0; i < e.length; i++) {
            if (!(Math.abs(e[i] - a[i]) <= b[i])) {
                throw new AssertionError(what + " differs at " + i + ": " + e[i] + " vs " + a[i] + ", |diff| "
                        + Math.abs(e[i] - a[i]) + " > bound " + b[i]);
            }
        }
    }

    static INDArray column(double[] values) {
        return Nd4j.createFromArray(values).reshape(values.length, 1);
    }
}
