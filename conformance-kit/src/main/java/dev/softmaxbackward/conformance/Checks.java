package dev.softmaxbackward.conformance;

import java.math.MathContext;

/**
 * The invariants of docs/contract.md §3 as checkers. Each throws {@link AssertionError} with the
 * row, the entry, the inputs and the numbers when the invariant does not hold; the ones that apply
 * to some rows only return how many rows they checked, so that callers can make sure a check did run.
 *
 * <p>The exact oracle is written here, independently of the reference backend: sums and products are
 * exact dyadic rationals ({@link Dyadic}), and {@code d* = N / D} is never rounded at all, because the
 * bound is checked multiplied through by {@code |D|}.
 */
public final class Checks {
    private Checks() {}

    // ---- bitwise ------------------------------------------------------------------------------------

    /**
     * Bit-for-bit equality; two NaNs count as equal whatever their payloads (docs/contract.md §3 leaves NaN
     * payloads open), everything else, including the sign of zero, must match exactly.
     */
    public static void sameBits(String what, Output expected, Output actual) {
        if (expected.dtype() != actual.dtype() || expected.length() != actual.length()) {
            throw new AssertionError(what + ": expected " + expected.dtype() + "[" + expected.length() + "], got "
                    + actual.dtype() + "[" + actual.length() + "]");
        }
        int mismatches = 0;
        int first = -1;
        for (int i = 0; i < expected.length(); i++) {
            if (expected.rawBits(i) != actual.rawBits(i)
                    && !(Double.isNaN(expected.get(i)) && Double.isNaN(actual.get(i)))) {
                if (first < 0) {
                    first = i;
                }
                mismatches++;
            }
        }
        if (first >= 0) {
            throw new AssertionError(what + ": " + mismatches + " of " + expected.length()
                    + " entries differ in their bits; first at [" + first + "]: expected "
                    + expected.describe(first) + ", got " + actual.describe(first));
        }
    }

    /** Every entry was written: none still holds the sentinel NaN the array was filled with. */
    public static void allWritten(String what, Output out) {
        long sentinel = out.dtype() == DType.FLOAT32
                ? Integer.toUnsignedLong(Float.floatToRawIntBits(Batch.SENTINEL_F))
                : Double.doubleToRawLongBits(Batch.SENTINEL_D);
        for (int i = 0; i < out.length(); i++) {
            if (out.rawBits(i) == sentinel) {
                throw new AssertionError(what + ": entry [" + i + "] of " + out.length() + " was never written");
            }
        }
    }

    /**
     * Every entry of a float[] or double[] still holds the sentinel it was filled with: nothing was
     * written (a rejected call must fail before it writes). Anything else, null included, passes.
     */
    public static void allSentinel(Object array) {
        if (array instanceof float[] f) {
            for (int i = 0; i < f.length; i++) {
                if (Float.floatToRawIntBits(f[i]) != Float.floatToRawIntBits(Batch.SENTINEL_F)) {
                    throw new AssertionError("the output array was written at [" + i + "] before validation failed");
                }
            }
        } else if (array instanceof double[] d) {
            for (int i = 0; i < d.length; i++) {
                if (Double.doubleToRawLongBits(d[i]) != Double.doubleToRawLongBits(Batch.SENTINEL_D)) {
                    throw new AssertionError("the output array was written at [" + i + "] before validation failed");
                }
            }
        }
    }

    /** Whether the magnitude of entry i is exactly zero (+0.0 or -0.0). */
    public static boolean isZero(Output out, int i) {
        long bits = out.rawBits(i);
        return out.dtype() == DType.FLOAT32 ? (bits & 0x7fff_ffffL) == 0 : (bits & 0x7fff_ffff_ffff_ffffL) == 0;
    }

    // ---- invariant 5: the exact oracle --------------------------------------------------------------

    /**
     * {@code |gradIn[i] - e[i]| <= u * (2*|e[i]| + 2*y[i]*max|g|) + minSubnormal} for every entry of every
     * row whose inputs are finite, where {@code e[i] = y[i] * (g[i] - d*)} and {@code d* = sum(y*g)/sum(y)}
     * exactly ({@code d* = 0} when {@code sum(y)} is exactly zero). With {@code N = sum(y*g)} and
     * {@code D = sum(y)} exact, {@code e[i] = y[i]*(g[i]*D - N)/D}; the check is done multiplied by
     * {@code |D|}, so nothing is rounded anywhere.
     *
     * @return the number of rows checked
     */
    public static int oracleBound(Batch b, Output out) {
        DType t = b.dtype();
        Dyadic u2 = t.u().scaleByPowerOfTwo(1);
        Dyadic minSub = t.minSub();
        int cols = b.cols();
        int checked = 0;
        for (int r = 0; r < b.rows(); r++) {
            if (!b.rowFinite(r)) {
                continue;
            }
            int base = r * cols;
            Dyadic[] y = new Dyadic[cols];
            Dyadic n = Dyadic.ZERO;
            Dyadic d = Dyadic.ZERO;
            double maxAbsG = 0;
            for (int j = 0; j < cols; j++) {
                y[j] = Dyadic.of(b.y(base + j));
                Dyadic g = Dyadic.of(b.g(base + j));
                n = n.add(y[j].multiply(g));
                d = d.add(y[j]);
                maxAbsG = Math.max(maxAbsG, Math.abs(b.g(base + j)));
            }
            boolean zeroSum = d.signum() == 0;
            // d* = 0 when sum(y) == 0: write it as N = 0, D = 1
            if (zeroSum) {
                n = Dyadic.ZERO;
                d = Dyadic.ofLong(1);
            }
            Dyadic absD = d.abs();
            Dyadic maxG = Dyadic.of(maxAbsG);
            Dyadic slack = minSub.multiply(absD);
            for (int j = 0; j < cols; j++) {
                int i = base + j;
                double o = out.get(i);
                if (!Double.isFinite(o)) {
                    throw oracleFailure("not finite", b, out, r, j, n, d, maxAbsG);
                }
                Dyadic eD = y[j].multiply(Dyadic.of(b.g(i)).multiply(d).subtract(n)); // e[i] * D
                Dyadic lhs = Dyadic.of(o).multiply(d).subtract(eD).abs();               // |out - e| * |D|
                Dyadic rhs = u2.multiply(eD.abs().add(y[j].abs().multiply(maxG).multiply(absD))).add(slack);
                if (lhs.compareTo(rhs) > 0) {
                    throw oracleFailure("outside u*(2|e| + 2*y*max|g|) + minSubnormal", b, out, r, j, n, d, maxAbsG);
                }
            }
            checked++;
        }
        return checked;
    }

    private static AssertionError oracleFailure(String why, Batch b, Output out, int r, int j, Dyadic n, Dyadic d,
                                                double maxAbsG) {
        int i = r * b.cols() + j;
        MathContext mc = new MathContext(40);
        var dStar = n.toBigDecimal().divide(d.toBigDecimal(), mc);
        var e = Dyadic.of(b.y(i)).toBigDecimal().multiply(Dyadic.of(b.g(i)).toBigDecimal().subtract(dStar), mc);
        return new AssertionError(b + " row " + r + " col " + j + ": gradIn " + out.describe(i) + " " + why
                + "; exact e = " + e + ", d* = " + dStar + ", y = " + b.y(i) + ", g = " + b.g(i)
                + ", max|g| = " + maxAbsG + ", |error|/ulp = "
                + (Math.abs(out.get(i) - e.doubleValue()) / b.dtype().ulp(e.doubleValue())));
    }

    // ---- invariant 3: the row sum of gradIn ---------------------------------------------------------

    /**
     * {@code |sum_i gradIn[i]| <= 4*u*max|g| + cols*minSubnormal/2}, the sum taken exactly, for every
     * finite row whose y sums to 1 within {@code cols*u} (exactly).
     *
     * <p>The {@code cols*minSubnormal/2} is docs/numerics.md section 5.5: each output that lands among
     * the subnormals is rounded with an absolute error up to half the smallest subnormal, whatever u
     * says, so the unamended {@code 4*u*max|g|} alone is false there (float32: y = [0.5, 0.5],
     * g = [3*2^-149, 0] gives [0, -2^-149]; pinned in KnownContractGapsTest). For float64 rows the
     * check also needs {@code max|g| * sum(y) >= cols * 2^-1000}, so that no product y*g that matters
     * is subnormal (where TwoProd stops being exact, section 5.5); generators stay there.
     *
     * @return the number of rows checked
     */
    public static int sumBound(Batch b, Output out) {
        DType t = b.dtype();
        int cols = b.cols();
        Dyadic colsU = Dyadic.ofLong(cols).multiply(t.u());
        Dyadic one = Dyadic.ofLong(1);
        Dyadic subnormalSlack = Dyadic.ofLong(cols).multiply(t.minSub()).scaleByPowerOfTwo(-1);
        int checked = 0;
        for (int r = 0; r < b.rows(); r++) {
            if (!b.rowFinite(r) || cols == 0) {
                continue;
            }
            int base = r * cols;
            Dyadic sumY = Dyadic.ZERO;
            Dyadic sumOut = Dyadic.ZERO;
            double maxAbsG = 0;
            for (int i = base; i < base + cols; i++) {
                sumY = sumY.add(Dyadic.of(b.y(i)));
                maxAbsG = Math.max(maxAbsG, Math.abs(b.g(i)));
                double o = out.get(i);
                if (!Double.isFinite(o)) {
                    throw new AssertionError(b + " row " + r + ": gradIn[" + (i - base) + "] = " + o
                            + " is not finite for finite inputs");
                }
                sumOut = sumOut.add(Dyadic.of(o));
            }
            if (sumY.subtract(one).abs().compareTo(colsU) > 0) {
                continue; // y does not sum to 1 within cols*u: the invariant does not apply
            }
            if (t == DType.FLOAT64 && maxAbsG != 0 && maxAbsG * sumY.doubleValue() < cols * 0x1.0p-1000) {
                continue; // float64 products among the subnormals: see above
            }
            Dyadic bound = t.u().multiply(Dyadic.of(maxAbsG)).scaleByPowerOfTwo(2).add(subnormalSlack);
            if (sumOut.abs().compareTo(bound) > 0) {
                throw new AssertionError(b + " row " + r + ": |sum(gradIn)| = " + sumOut.abs().toShortString()
                        + " > 4*u*max|g| + cols*minSubnormal/2 = " + bound.toShortString() + " (max|g| = " + maxAbsG
                        + ", sum(y) - 1 = " + sumY.subtract(one).toShortString() + ")");
            }
            checked++;
        }
        return checked;
    }

    // ---- invariant 2: constant rows give exact zeros ------------------------------------------------

    /**
     * Every row whose g is constant and finite (and whose y is finite) gives entries of magnitude exactly
     * zero. For any such constant: core's constant-row rule (docs/numerics.md section 4) sets d = g
     * where rounding, underflow (|c| near 1e-300) or overflow (c near Double.MAX_VALUE) in the sums
     * would otherwise make d miss c.
     *
     * @return the number of rows checked
     */
    public static int constantRows(Batch b, Output out) {
        int cols = b.cols();
        int checked = 0;
        for (int r = 0; r < b.rows(); r++) {
            int base = r * cols;
            if (cols == 0 || !b.rowFinite(r)) {
                continue;
            }
            double c = b.g(base);
            boolean constant = true;
            for (int i = base; i < base + cols && constant; i++) {
                constant = Double.doubleToRawLongBits(b.g(i)) == Double.doubleToRawLongBits(c);
            }
            if (!constant) {
                continue;
            }
            for (int i = base; i < base + cols; i++) {
                if (!isZero(out, i)) {
                    throw new AssertionError(b + " row " + r + " with constant g = " + c + ": gradIn[" + (i - base)
                            + "] = " + out.describe(i) + ", not +-0.0 (y = " + b.y(i) + ")");
                }
            }
            checked++;
        }
        return checked;
    }

    // ---- invariant 4: Jacobian-vector product and finite differences --------------------------------

    /**
     * {@code |gradIn - (diag(y) - y y^T) g| <= atol} entrywise, with the Jacobian built explicitly in
     * float64 (so only for modest cols).
     */
    public static void jacobian(Batch b, Output out, double atol) {
        int cols = b.cols();
        if (cols > 2048) {
            throw new IllegalArgumentException("explicit Jacobian of " + cols + " columns: too big for a test");
        }
        double[][] jac = new double[cols][cols];
        for (int r = 0; r < b.rows(); r++) {
            int base = r * cols;
            for (int i = 0; i < cols; i++) {
                double yi = b.y(base + i);
                for (int j = 0; j < cols; j++) {
                    jac[i][j] = (i == j ? yi : 0.0) - yi * b.y(base + j);
                }
            }
            for (int i = 0; i < cols; i++) {
                double jg = 0;
                for (int j = 0; j < cols; j++) {
                    jg += jac[i][j] * b.g(base + j);
                }
                double o = out.get(base + i);
                if (!(Math.abs(o - jg) <= atol)) {
                    throw new AssertionError(b + " row " + r + " col " + i + ": gradIn " + o
                            + " vs Jacobian-vector product " + jg + ": |diff| = " + Math.abs(o - jg) + " > " + atol);
                }
            }
        }
    }

    /**
     * {@code |gradIn - dL/dx| <= atol} entrywise, with {@code L(x) = g . softmax(x)} in float64 and its
     * gradient taken by central differences: {@code (L(x + h e_i) - L(x - h e_i)) / (2h)}. The error of
     * the difference quotient is about h^2 * max|g| + 1e-16 * max|g| / h, some 1e-10 for h = 1e-5.
     * {@code logits} are the float64 logits the batch's y was computed from.
     */
    public static void finiteDifferences(double[] logits, Batch b, Output out, double atol) {
        int cols = b.cols();
        double h = 1e-5;
        double[] x = new double[cols];
        double[] g = new double[cols];
        for (int r = 0; r < b.rows(); r++) {
            int base = r * cols;
            for (int j = 0; j < cols; j++) {
                g[j] = b.g(base + j);
            }
            for (int i = 0; i < cols; i++) {
                System.arraycopy(logits, base, x, 0, cols);
                double xi = x[i];
                x[i] = xi + h;
                double up = x[i];
                double lUp = Inputs.loss(x, g, cols);
                x[i] = xi - h;
                double down = x[i];
                double lDown = Inputs.loss(x, g, cols);
                double fd = (lUp - lDown) / (up - down);
                double o = out.get(base + i);
                if (!(Math.abs(o - fd) <= atol)) {
                    throw new AssertionError(b + " row " + r + " col " + i + ": gradIn " + o
                            + " vs central difference " + fd + ": |diff| = " + Math.abs(o - fd) + " > " + atol);
                }
            }
        }
    }

    // ---- forward softmax ----------------------------------------------------------------------------

    /**
     * Forward softmax against an exact exp/sum oracle: with {@code E_j = StrictMath.exp(x_j - max)} (the
     * exp the contract names) and {@code S = sum E_j} exact, {@code |out_i - E_i/S| <= 2u(1 + cols*u) E_i/S
     * + minSubnormal} (one rounding of the sum, one of the quotient, plus the double-double or float64
     * sum's own error, which cols*u covers); and every finite row sums to 1 within {@code cols*u}, exactly.
     *
     * @param logits the logits, widened exactly to double
     * @return the number of rows checked
     */
    public static int softmaxOracle(DType t, double[] logits, Output out, int rows, int cols) {
        Dyadic one = Dyadic.ofLong(1);
        Dyadic colsU = Dyadic.ofLong(cols).multiply(t.u());
        Dyadic factor = t.u().scaleByPowerOfTwo(1).multiply(one.add(colsU));
        int checked = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            double max = Double.NEGATIVE_INFINITY;
            boolean finite = true;
            for (int i = base; i < base + cols; i++) {
                finite &= !Double.isNaN(logits[i]) && logits[i] != Double.POSITIVE_INFINITY; // -Inf is fine
                max = Math.max(max, logits[i]);
            }
            if (!finite || cols == 0 || max == Double.NEGATIVE_INFINITY) {
                continue;
            }
            Dyadic[] e = new Dyadic[cols];
            Dyadic s = Dyadic.ZERO;
            Dyadic sumOut = Dyadic.ZERO;
            for (int j = 0; j < cols; j++) {
                e[j] = Dyadic.of(StrictMath.exp(logits[base + j] - max));
                s = s.add(e[j]);
                double o = out.get(base + j);
                if (!Double.isFinite(o)) {
                    throw new AssertionError("softmax " + t + " row " + r + ": out[" + j + "] = " + o
                            + " for finite logits");
                }
                sumOut = sumOut.add(Dyadic.of(o));
            }
            Dyadic slack = t.minSub().multiply(s);
            for (int j = 0; j < cols; j++) {
                Dyadic lhs = Dyadic.of(out.get(base + j)).multiply(s).subtract(e[j]).abs();
                Dyadic rhs = factor.multiply(e[j]).add(slack);
                if (lhs.compareTo(rhs) > 0) {
                    double exact = e[j].toBigDecimal().divide(s.toBigDecimal(), new MathContext(30)).doubleValue();
                    throw new AssertionError("softmax " + t + " row " + r + " col " + j + ": out "
                            + out.describe(base + j) + " vs exact exp/sum " + exact + " (" + Math.abs(out.get(base + j)
                            - exact) / t.ulp(exact) + " ulp)");
                }
            }
            if (sumOut.subtract(one).abs().compareTo(colsU) > 0) {
                throw new AssertionError("softmax " + t + " row " + r + ": sum(out) - 1 = "
                        + sumOut.subtract(one).toShortString() + ", beyond cols*u = " + colsU.toShortString());
            }
            checked++;
        }
        return checked;
    }

    /** Entrywise {@code |expected - actual| <= ulps} units in the last place of expected, NaN matching NaN. */
    public static void withinUlps(String what, Output expected, Output actual, int ulps) {
        for (int i = 0; i < expected.length(); i++) {
            double e = expected.get(i);
            double a = actual.get(i);
            if ((Double.isNaN(e) && Double.isNaN(a)) || e == a) {
                continue;
            }
            if (!(Math.abs(e - a) <= ulps * expected.dtype().ulp(e))) {
                throw new AssertionError(what + ": [" + i + "] expected " + expected.describe(i) + " within " + ulps
                        + " ulp, got " + actual.describe(i));
            }
        }
    }

    // ---- crossEntropyBackward -----------------------------------------------------------------------

    /**
     * {@code gradIn = scale * (y - onehot(label))} exactly as the contract writes it (float32: in float64,
     * rounded once), and +0.0 (bits all zero) in every entry of a row whose label is -100.
     */
    public static void crossEntropy(Batch yOnly, int[] labels, double scale, Output out) {
        int cols = yOnly.cols();
        boolean f32 = yOnly.dtype() == DType.FLOAT32;
        for (int r = 0; r < yOnly.rows(); r++) {
            for (int j = 0; j < cols; j++) {
                int i = r * cols + j;
                if (labels[r] == -100) {
                    if (out.rawBits(i) != 0) {
                        throw new AssertionError("crossEntropyBackward row " + r + " (ignore index -100): gradIn["
                                + j + "] = " + out.describe(i) + ", not +0.0");
                    }
                    continue;
                }
                double oneHot = j == labels[r] ? 1.0 : 0.0;
                double want = f32 ? (float) ((double) (float) scale * (yOnly.y(i) - oneHot)) : scale * (yOnly.y(i) - oneHot);
                long wantBits = f32 ? Integer.toUnsignedLong(Float.floatToRawIntBits((float) want))
                        : Double.doubleToRawLongBits(want);
                if (out.rawBits(i) != wantBits && !(Double.isNaN(want) && Double.isNaN(out.get(i)))) {
                    throw new AssertionError("crossEntropyBackward row " + r + " col " + j + " (label " + labels[r]
                            + ", scale " + scale + ", y " + yOnly.y(i) + "): gradIn " + out.describe(i)
                            + ", expected scale*(y - onehot) = " + want);
                }
            }
        }
    }
}
