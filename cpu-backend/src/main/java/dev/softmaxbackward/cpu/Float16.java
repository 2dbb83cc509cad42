package dev.softmaxbackward.cpu;

/**
 * IEEE binary16 (float16, ND4J's HALF) and bfloat16 conversions. Widening to float is exact. Narrowing
 * rounds a double ONCE, to nearest with ties to even, directly to the 16-bit format (never through
 * float32, which would round twice), with gradual underflow and overflow to infinity.
 */
final class Float16 {
    private Float16() {}

    /** Widens a float16 ({@code bf16 == false}) or bfloat16 bit pattern to float, exactly. */
    static float toFloat(boolean bf16, short bits) {
        return bf16 ? Float.intBitsToFloat((bits & 0xffff) << 16) : halfToFloat(bits);
    }

    /** Rounds {@code x} once to float16 ({@code bf16 == false}) or bfloat16; returns the bit pattern. */
    static short fromDouble(boolean bf16, double x) {
        return bf16 ? doubleToBfloat16(x) : doubleToHalf(x);
    }

    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13)); // inf, NaN (payload kept)
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f; // subnormal (or zero): exact
            return sign == 0 ? magnitude : -magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }

    static short doubleToHalf(double x) {
        int sign = Double.doubleToRawLongBits(x) < 0 ? 0x8000 : 0;
        if (Double.isNaN(x)) {
            return (short) (sign | 0x7e00);
        }
        double r = roundTo(Math.abs(x), 11, -14);
        if (r > 65504.0) {
            return (short) (sign | 0x7c00); // overflow (and infinity)
        }
        if (r < 0x1p-14) {
            return (short) (sign | (int) (r * 0x1p24)); // subnormal or zero: an exact integer multiple of 2^-24
        }
        int e = Math.getExponent(r);
        int mantissa = (int) (Math.scalb(r, -e) * 1024.0) - 1024; // exact: r has 11 significant bits
        return (short) (sign | ((e + 15) << 10) | mantissa);
    }

    static short doubleToBfloat16(double x) {
        int sign = Double.doubleToRawLongBits(x) < 0 ? 0x8000 : 0;
        if (Double.isNaN(x)) {
            return (short) (sign | 0x7fc0);
        }
        double r = roundTo(Math.abs(x), 8, -126);
        if (r > 0x1.fep127) { // the largest finite bfloat16, (2 - 2^-7) * 2^127
            return (short) (sign | 0x7f80);
        }
        // r is a bfloat16 value, so it is exactly a float whose low 16 bits are zero.
        return (short) (sign | (Float.floatToRawIntBits((float) r) >>> 16));
    }

    /**
     * Rounds {@code a >= 0} to the nearest value (ties to even) with {@code precision} significant bits
     * and smallest normal exponent {@code minExponent} (below it, the fixed subnormal quantum). Infinity
     * stays infinity; the caller handles overflow. Scaling by a power of two is exact here, and
     * {@link Math#rint} rounds to even, so this is one correct rounding.
     */
    static double roundTo(double a, int precision, int minExponent) {
        if (a == 0.0 || Double.isInfinite(a)) {
            return a;
        }
        int quantum = Math.max(Math.getExponent(a), minExponent) - (precision - 1);
        return Math.scalb(Math.rint(Math.scalb(a, -quantum)), quantum);
    }
}
