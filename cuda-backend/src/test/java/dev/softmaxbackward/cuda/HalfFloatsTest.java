package dev.softmaxbackward.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The one rounding of a double to bf16/fp16 (the algorithm the kernels use) against an oracle that
 * knows nothing of bits: the nearest of all finite 16-bit values by exact BigDecimal distance, ties
 * to the even pattern, and infinity past the largest finite value plus half an ulp.
 */
class HalfFloatsTest {

    interface Format {
        double widen(short bits);

        short round(double x);
    }

    static final Format BF16 = new Format() {
        public double widen(short bits) {
            return HalfFloats.bf16ToDouble(bits);
        }

        public short round(double x) {
            return HalfFloats.doubleToBf16(x);
        }
    };

    static final Format FP16 = new Format() {
        public double widen(short bits) {
            return HalfFloats.fp16ToDouble(bits);
        }

        public short round(double x) {
            return HalfFloats.doubleToFp16(x);
        }
    };

    /** The non-negative finite values of a format, in increasing order (patterns 0x0000 up to inf-1). */
    static double[] positives(Format f, int infBits) {
        double[] v = new double[infBits];
        for (int i = 0; i < infBits; i++) {
            v[i] = f.widen((short) i);
        }
        return v;
    }

    static short oracle(double x, double[] pos, int infBits) {
        int sign = Double.doubleToRawLongBits(x) < 0 ? 0x8000 : 0;
        BigDecimal a = new BigDecimal(Math.abs(x));
        BigDecimal max = new BigDecimal(pos[infBits - 1]);
        BigDecimal ulp = max.subtract(new BigDecimal(pos[infBits - 2]));
        if (a.compareTo(max.add(ulp.divide(BigDecimal.valueOf(2)))) >= 0) {
            return (short) (sign | infBits); // at or past the rounding boundary of the largest finite value
        }
        int lo = 0;
        int hi = infBits - 1;
        while (lo < hi) { // the first value >= a
            int mid = (lo + hi) >>> 1;
            if (new BigDecimal(pos[mid]).compareTo(a) >= 0) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        int best = lo;
        if (lo > 0) {
            BigDecimal up = new BigDecimal(pos[lo]).subtract(a);
            BigDecimal down = a.subtract(new BigDecimal(pos[lo - 1]));
            int c = down.compareTo(up);
            best = c < 0 || (c == 0 && ((lo - 1) & 1) == 0) ? lo - 1 : lo;
        }
        return (short) (sign | best);
    }

    static void check(Format f, int infBits) {
        double[] pos = positives(f, infBits);
        List<Double> xs = new ArrayList<>();
        Random random = new Random(16);
        for (int i = 0; i + 1 < infBits; i += 1 + random.nextInt(7)) {
            double a = pos[i];
            double b = pos[i + 1];
            double mid = (a + b) / 2; // exact: both have few bits
            xs.add(a);
            xs.add(mid);
            xs.add(Math.nextUp(mid));
            xs.add(Math.nextDown(mid));
            xs.add(a + (b - a) * random.nextDouble());
        }
        xs.add(pos[infBits - 1] * 1.5);
        xs.add(Double.MIN_VALUE);
        xs.add(pos[1] / 2); // exactly half the smallest subnormal: ties to even, 0
        xs.add(Math.nextUp(pos[1] / 2));
        for (double x : xs) {
            for (double s : new double[] {x, -x}) {
                assertEquals(oracle(s, pos, infBits), f.round(s), () -> "x = " + s);
            }
        }
        assertEquals((short) infBits, f.round(Double.POSITIVE_INFINITY));
        assertEquals((short) (0x8000 | infBits), f.round(Double.NEGATIVE_INFINITY));
        assertEquals(true, Double.isNaN(f.widen(f.round(Double.NaN))));
    }

    @Test
    void bf16RoundsOnceToNearestEven() {
        check(BF16, 0x7f80);
    }

    @Test
    void fp16RoundsOnceToNearestEven() {
        check(FP16, 0x7c00);
    }

    @Test
    void roundingThroughFloatWouldDifferSoTheDirectRoundingMatters() {
        // 1 + 2^-8 + 2^-30 rounds up to 1 + 2^-7 in bf16; through float it would be a tie, rounded to 1
        double x = 1 + 0x1p-8 + 0x1p-30;
        assertEquals(HalfFloats.doubleToBf16(1 + 0x1p-7), HalfFloats.doubleToBf16(x));
        assertEquals(HalfFloats.doubleToBf16(1.0), HalfFloats.doubleToBf16((float) x));
    }
}
