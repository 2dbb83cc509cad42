package dev.softmaxbackward.cpu;

/**
 * fdlibm's {@code e_exp.c} ({@code __ieee754_exp}) in Java, step for step: the function
 * {@link StrictMath#exp} is specified to be, so {@link #exp} returns its bits for every double (the
 * contract's forward softmax is defined by {@code StrictMath.exp}, contract §2; {@code FdlibmExpTest}
 * checks the claim over many millions of doubles and every branch boundary). It exists for speed only:
 * on JDK 17-20 {@code StrictMath.exp} is a native call that C2 cannot inline (about 20 ns), and a Java
 * port can also be vectorised ({@code VectorRowOps}, which {@link RowOps} runs when it can). Java's double
 * arithmetic is IEEE round-to-nearest with no FMA contraction, as fdlibm's C assumes.
 */
final class FdlibmExp {
    static final double ONE = 1.0;
    static final double HUGE = 1.0e+300;
    static final double TWOM1000 = 0x1.0p-1000; // 9.33263618503218878990e-302
    static final double O_THRESHOLD = 7.09782712893383973096e+02; // 0x40862E42 FEFA39EF
    static final double U_THRESHOLD = -7.45133219101941108420e+02; // 0xc0874910 D52D3051
    static final double LN2_HI = 6.93147180369123816490e-01; // 0x3fe62e42 fee00000
    static final double LN2_LO = 1.90821492927058770002e-10; // 0x3dea39ef 35793c76
    static final double INV_LN2 = 1.44269504088896338700e+00; // 0x3ff71547 652b82fe
    static final double P1 = 1.66666666666666019037e-01; // 0x3FC55555 5555553E
    static final double P2 = -2.77777777770155933842e-03; // 0xBF66C16C 16BEBD93
    static final double P3 = 6.61375632143793436117e-05; // 0x3F11566A AF25DE2C
    static final double P4 = -1.65339022054652515390e-06; // 0xBEBBBD41 C5D26BF1
    static final double P5 = 4.13813679705723846039e-08; // 0x3E663769 72BEA4D0

    private FdlibmExp() {}

    /** {@code StrictMath.exp(x)}, bit for bit. */
    static double exp(double x) {
        long bits = Double.doubleToRawLongBits(x);
        int hx = (int) (bits >>> 32);
        int xsb = (hx >>> 31) & 1; // sign bit of x
        hx &= 0x7fffffff; // high word of |x|

        // non-finite and out-of-range arguments
        if (hx >= 0x40862E42) { // |x| >= 709.78...
            if (hx >= 0x7ff00000) {
                if (((hx & 0xfffff) | (int) bits) != 0) {
                    return x + x; // NaN
                }
                return xsb == 0 ? x : 0.0; // exp(+-inf) = {inf, 0}
            }
            if (x > O_THRESHOLD) {
                return HUGE * HUGE; // overflow
            }
            if (x < U_THRESHOLD) {
                return TWOM1000 * TWOM1000; // underflow
            }
        }

        // argument reduction: x = k ln2 + r, |r| <= 0.5 ln2, r held as hi - lo
        double hi = 0.0;
        double lo = 0.0;
        int k = 0;
        if (hx > 0x3fd62e42) { // |x| > 0.5 ln2
            if (hx < 0x3FF0A2B2) { // and |x| < 1.5 ln2
                hi = xsb == 0 ? x - LN2_HI : x + LN2_HI;
                lo = xsb == 0 ? LN2_LO : -LN2_LO;
                k = 1 - xsb - xsb;
            } else {
                k = (int) (INV_LN2 * x + (xsb == 0 ? 0.5 : -0.5));
                double t = k;
                hi = x - t * LN2_HI; // t*ln2HI is exact here
                lo = t * LN2_LO;
            }
            x = hi - lo;
        } else if (hx < 0x3e300000) { // |x| < 2^-28
            if (HUGE + x > ONE) {
                return ONE + x; // trigger inexact
            }
        }

        // x is now in the primary range
        double t = x * x;
        double c = x - t * (P1 + t * (P2 + t * (P3 + t * (P4 + t * P5))));
        if (k == 0) {
            return ONE - ((x * c) / (c - 2.0) - x);
        }
        double y = ONE - ((lo - (x * c) / (2.0 - c)) - hi);
        long yb = Double.doubleToRawLongBits(y);
        if (k >= -1021) {
            return Double.longBitsToDouble(yb + ((long) k << 52)); // add k to y's exponent
        }
        return Double.longBitsToDouble(yb + ((long) (k + 1000) << 52)) * TWOM1000;
    }

    /** {@code out[i] = exp(x[i] - shift)} for {@code from <= i < to}: the scalar loop of a softmax row's exps. */
    static void scalarExpShifted(double[] x, double shift, double[] out, int from, int to) {
        for (int i = from; i < to; i++) {
            out[i] = exp(x[i] - shift);
        }
    }
}
