package dev.softmaxbackward.conformance;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.Objects;

/**
 * An exact dyadic rational {@code m * 2^e}: every finite float and double is one, and sums and
 * products of them stay exact. The oracle works in these rather than in {@link BigDecimal} because
 * a double's exact decimal expansion can run to 750 digits (subnormals), while its binary form is
 * never more than 53 bits wide; the results are the same exact numbers.
 */
public final class Dyadic implements Comparable<Dyadic> {
    public static final Dyadic ZERO = new Dyadic(BigInteger.ZERO, 0);

    private final BigInteger mantissa;
    private final int exponent;

    private Dyadic(BigInteger mantissa, int exponent) {
        this.mantissa = mantissa;
        this.exponent = exponent;
    }

    /** The exact value of a finite double. */
    public static Dyadic of(double x) {
        if (!Double.isFinite(x)) {
            throw new IllegalArgumentException("not finite: " + x);
        }
        if (x == 0.0) {
            return ZERO;
        }
        long bits = Double.doubleToRawLongBits(x);
        int biased = (int) ((bits >>> 52) & 0x7ff);
        long fraction = bits & 0x000f_ffff_ffff_ffffL;
        long m = biased == 0 ? fraction : fraction | (1L << 52);
        int e = biased == 0 ? -1074 : biased - 1075;
        int trailing = Long.numberOfTrailingZeros(m);
        m >>= trailing;
        e += trailing;
        return new Dyadic(BigInteger.valueOf(x < 0 ? -m : m), e);
    }

    /** {@code 2^e}. */
    public static Dyadic powerOfTwo(int e) {
        return new Dyadic(BigInteger.ONE, e);
    }

    public static Dyadic ofLong(long v) {
        return new Dyadic(BigInteger.valueOf(v), 0);
    }

    public Dyadic add(Dyadic o) {
        if (mantissa.signum() == 0) {
            return o;
        }
        if (o.mantissa.signum() == 0) {
            return this;
        }
        int e = Math.min(exponent, o.exponent);
        BigInteger a = mantissa.shiftLeft(exponent - e);
        BigInteger b = o.mantissa.shiftLeft(o.exponent - e);
        return new Dyadic(a.add(b), e);
    }

    public Dyadic subtract(Dyadic o) {
        return add(o.negate());
    }

    public Dyadic multiply(Dyadic o) {
        if (mantissa.signum() == 0 || o.mantissa.signum() == 0) {
            return ZERO;
        }
        return new Dyadic(mantissa.multiply(o.mantissa), exponent + o.exponent);
    }

    /** {@code this * 2^k}, exact. */
    public Dyadic scaleByPowerOfTwo(int k) {
        return mantissa.signum() == 0 ? ZERO : new Dyadic(mantissa, exponent + k);
    }

    public Dyadic negate() {
        return new Dyadic(mantissa.negate(), exponent);
    }

    public Dyadic abs() {
        return mantissa.signum() < 0 ? negate() : this;
    }

    public int signum() {
        return mantissa.signum();
    }

    @Override
    public int compareTo(Dyadic o) {
        return subtract(o).signum();
    }

    /** Exact, for messages. */
    public BigDecimal toBigDecimal() {
        BigDecimal m = new BigDecimal(mantissa);
        return exponent >= 0 ? m.multiply(new BigDecimal(BigInteger.TWO.pow(exponent)))
                : m.divide(new BigDecimal(BigInteger.TWO.pow(-exponent)));
    }

    /** Rounded to 17 significant digits, for messages. */
    public String toShortString() {
        return toBigDecimal().round(new MathContext(17)).toString();
    }

    /** This number rounded to the nearest double (for messages and for tolerance arithmetic only). */
    public double doubleValue() {
        return toBigDecimal().doubleValue();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dyadic d && compareTo(d) == 0;
    }

    @Override
    public int hashCode() {
        // normalise: strip trailing zero bits so equal values hash alike
        if (mantissa.signum() == 0) {
            return 0;
        }
        int t = mantissa.getLowestSetBit();
        return Objects.hash(mantissa.shiftRight(t), exponent + t);
    }

    @Override
    public String toString() {
        return toShortString();
    }
}
