package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The 16-bit conversions against ND4J's decoding and an independent nearest-value search. */
class Float16Test {
    /** Every non-negative finite value, indexed by bit pattern, decoded from the format's definition. */
    private static final double[] HALF = table(false);
    private static final double[] BF16 = table(true);

    private static double[] table(boolean bf16) {
        int mantissaBits = bf16 ? 7 : 10;
        int bias = bf16 ? 127 : 15;
        int maxPattern = bf16 ? 0x7f7f : 0x7bff;
        double[] t = new double[maxPattern + 1];
        for (int bits = 0; bits <= maxPattern; bits++) {
            int e = bits >>> mantissaBits;
            int m = bits & ((1 << mantissaBits) - 1);
            t[bits] = e == 0 ? Math.scalb((double) m, 1 - bias - mantissaBits)
                    : Math.scalb((double) ((1 << mantissaBits) | m), e - bias - mantissaBits);
        }
        return t;
    }

    /** The value nearest to x in the format (ties to the even bit pattern), as a double: a search, not arithmetic. */
    static double nearest(boolean bf16, double x) {
        if (Double.isNaN(x)) {
            return Double.NaN;
        }
        double[] t = bf16 ? BF16 : HALF;
        double a = Math.abs(x);
        double max = t[t.length - 1];
        double halfUlpOfMax = (max - t[t.length - 2]) / 2;
        double r;
        if (a >= max + halfUlpOfMax) {
            r = Double.POSITIVE_INFINITY;
        } else {
            int lo = 0;
            int hi = t.length - 1;
            while (lo < hi) { // the largest index with t[index] <= a
                int mid = (lo + hi + 1) >>> 1;
                if (t[mid] <= a) {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            if (lo == t.length - 1) {
                r = t[lo];
            } else {
                double below = a - t[lo];
                double above = t[lo + 1] - a;
                r = below < above ? t[lo] : above < below ? t[lo + 1] : t[(lo & 1) == 0 ? lo : lo + 1];
            }
        }
        return Math.copySign(r, x);
    }

    @Test
    void wideningMatchesNd4jForEveryPattern() {
        for (DataType dtype : new DataType[] {DataType.HALF, DataType.BFLOAT16}) {
            boolean bf16 = dtype == DataType.BFLOAT16;
            short[] all = new short[65536];
            for (int i = 0; i < all.length; i++) {
                all[i] = (short) i;
            }
            // ND4J has no short[] -> HALF constructor; write the bit patterns through the buffer directly.
            INDArray a = Nd4j.create(dtype, all.length);
            java.nio.ByteBuffer bb = a.data().asNio().order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < all.length; i++) {
                bb.putShort(2 * i, all[i]);
            }
            float[] nd4j = a.castTo(DataType.FLOAT).data().asFloat();
            for (int i = 0; i < all.length; i++) {
                float ours = Float16.toFloat(bf16, all[i]);
                if (Float.isNaN(ours) || Float.isNaN(nd4j[i])) {
                    assertTrue(Float.isNaN(ours) && Float.isNaN(nd4j[i]), dtype + " pattern " + Integer.toHexString(i));
                } else {
                    assertEquals(Float.floatToRawIntBits(nd4j[i]), Float.floatToRawIntBits(ours),
                            dtype + " pattern " + Integer.toHexString(i));
                }
            }
        }
    }

    @Test
    void narrowingRoundsOnceToNearestEven() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (boolean bf16 : new boolean[] {false, true}) {
            double[] t = bf16 ? BF16 : HALF;
            for (int i = 0; i < 200_000; i++) {
                double x;
                int kind = i % 4;
                if (kind == 0) { // exact midpoints and their neighbours: where rounding through float32 goes wrong
                    int p = rnd.nextInt(t.length - 1);
                    double mid = (t[p] + t[p + 1]) / 2;
                    x = switch (rnd.nextInt(3)) {
                        case 0 -> mid;
                        case 1 -> Math.nextUp(mid);
                        default -> Math.nextDown(mid);
                    };
                } else if (kind == 1) {
                    x = t[rnd.nextInt(t.length)] * (1 + (rnd.nextDouble() - 0.5) * 1e-9);
                } else {
                    x = Math.scalb(rnd.nextDouble(), rnd.nextInt(-140, 140));
                }
                x = rnd.nextBoolean() ? x : -x;
                double expected = nearest(bf16, x);
                double actual = Float16.toFloat(bf16, Float16.fromDouble(bf16, x));
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                        (bf16 ? "bf16 " : "half ") + x + " (" + Double.toHexString(x) + ")");
            }
            for (double x : new double[] {0.0, -0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE,
                    -Double.MIN_VALUE, Double.MAX_VALUE, 65519.99, 65520.0, 0x1.fdp127, 0x1.fep127}) {
                assertEquals(Double.doubleToRawLongBits(nearest(bf16, x)),
                        Double.doubleToRawLongBits(Float16.toFloat(bf16, Float16.fromDouble(bf16, x))),
                        (bf16 ? "bf16 " : "half ") + x);
            }
            assertTrue(Float.isNaN(Float16.toFloat(bf16, Float16.fromDouble(bf16, Double.NaN))));
        }
    }

    @Test
    void genericRoundingAgreesWithTheFloatCast() {
        // roundTo with float32's parameters must be Java's (float) cast: a check of the method itself
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < 200_000; i++) {
            double x = Math.scalb(rnd.nextDouble(), rnd.nextInt(-160, 128));
            if (i % 3 == 0) {
                float f = Float.intBitsToFloat(rnd.nextInt(0x7f7fffff));
                x = ((double) f + (double) Math.nextUp(f)) / 2; // a tie
            }
            double expected = (float) x;
            double actual = Float16.roundTo(x, 24, -126);
            if (actual > Float.MAX_VALUE) {
                actual = Double.POSITIVE_INFINITY;
            }
            assertEquals(expected, actual, Double.toHexString(x));
        }
    }
}
