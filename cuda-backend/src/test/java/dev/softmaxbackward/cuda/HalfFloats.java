package dev.softmaxbackward.cuda;

/**
 * bf16 and fp16 in Java, as the kernels do them: widening is exact, and a double is rounded ONCE to
 * the 16-bit format (round to nearest, ties to even) by the same integer algorithm as
 * {@code round_once} in softmax_backward.cu. Tests use it for the expected bf16/fp16 outputs.
 */
final class HalfFloats {
    private HalfFloats() {}

    static double bf16ToDouble(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    static double fp16ToDouble(short bits) {
        int b = bits & 0xffff;
        int sign = (b & 0x8000) != 0 ? -1 : 1;
        int exponent = (b >>> 10) & 0x1f;
        int mantissa = b & 0x3ff;
        if (exponent == 0x1f) {
            return mantissa == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (exponent == 0) {
            return sign * mantissa * 0x1p-24; // subnormal (and zero, keeping its sign)
        }
        return sign * (1024 + mantissa) * Math.scalb(1.0, exponent - 25);
    }

    static short doubleToBf16(double x) {
        return roundOnce(x, -126, 7, 127, 0x7f80, 0x7fc0);
    }

    static short doubleToFp16(double x) {
        return roundOnce(x, -14, 10, 15, 0x7c00, 0x7e00);
    }

    /** The kernel's round_once, line for line. */
    static short roundOnce(double x, int emin, int p, int emax, int inf, int qnan) {
        long b = Double.doubleToRawLongBits(x);
        int sign = (int) (b >>> 48) & 0x8000;
        long a = b & 0x7fffffffffffffffL;
        if (a >= 0x7ff0000000000000L) {
            return (short) (sign | (a == 0x7ff0000000000000L ? inf : qnan));
        }
        int e = (int) (a >>> 52) - 1023;
        if (e > emax) {
            return (short) (sign | inf);
        }
        if (e < emin - p - 2) {
            return (short) sign;
        }
        long m = (a & 0xfffffffffffffL) | (1L << 52);
        int q = Math.max(e, emin) - p;
        int shift = q - e + 52;
        long r = m >>> shift;
        long rem = m & ((1L << shift) - 1);
        long half = 1L << (shift - 1);
        if (rem > half || (rem == half && (r & 1L) != 0)) {
            r++;
        }
        long bits = e >= emin ? ((long) (e - emin) << p) + r : r;
        if (bits > inf) {
            bits = inf;
        }
        return (short) (sign | bits);
    }
}
