package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * FdlibmExp (scalar) and VectorRowOps (the Vector API loop) against {@link StrictMath#exp}, bit for bit,
 * NaN payloads included: over 7 x 8 million random doubles drawn from the whole range and from each of
 * e_exp.c's branches, over every branch boundary and its neighbours, over every double between -0.5 ln2
 * and the end of its high word, and over the special values.
 */
class FdlibmExpTest {
    private static final int PER_DISTRIBUTION = 8_000_000;
    /** Not a multiple of any vector length, so the scalar tail runs too. */
    private static final int CHUNK = 4099;

    @Test
    void theVectorLoopIsTheOneInUseWhenItsModuleIsPresent() {
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        boolean off = "false".equalsIgnoreCase(System.getProperty(Kernels.VECTOR_PROPERTY, "").strip());
        assertEquals(module && !off, RowOps.loop().startsWith("vector"), RowOps.loop());
        // surefire starts the tests with the module (pom argLine), so the vector loop is tested below
        assertTrue(module, "the tests must run with --add-modules jdk.incubator.vector");
    }

    @Test
    void specialValuesAndBranchBoundaries() {
        List<Double> xs = new ArrayList<>();
        double[] specials = {0.0, -0.0, 1.0, -1.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
            Double.MIN_VALUE, -Double.MIN_VALUE, Double.MIN_NORMAL, -Double.MIN_NORMAL, Double.MAX_VALUE,
            -Double.MAX_VALUE, FdlibmExp.O_THRESHOLD, FdlibmExp.U_THRESHOLD, Math.log(2) / 2, Math.log(2),
            1.5 * Math.log(2), -1021 * Math.log(2), -1022 * Math.log(2), -1074 * Math.log(2), 1024 * Math.log(2),
            Double.longBitsToDouble(0x7ff0000000000001L), Double.longBitsToDouble(0x7ff8000000000000L),
            Double.longBitsToDouble(0xfff8000000000123L), Double.longBitsToDouble(0x7ff4000000000000L)};
        for (double s : specials) {
            xs.add(s);
        }
        // the high-word bounds of e_exp.c, with both signs, and the doubles around them
        int[] highWords = {0x40862E42, 0x7ff00000, 0x3fd62e42, 0x3fd62e43, 0x3FF0A2B2, 0x3FF0A2B1, 0x3e300000,
            0x3e2fffff};
        for (int hw : highWords) {
            for (long low : new long[] {0L, 1L, 0xffffffffL, 0x80000000L}) {
                double b = Double.longBitsToDouble(((long) hw << 32) | low);
                neighbours(xs, b);
                neighbours(xs, -b);
            }
        }
        neighbours(xs, FdlibmExp.O_THRESHOLD);
        neighbours(xs, FdlibmExp.U_THRESHOLD);
        // where (int)(x/ln2 +- 0.5) changes: every k from -1080 to 1030, and the k = -1021 scaling switch
        for (int k = -1080; k <= 1030; k++) {
            neighbours(xs, (k + 0.5) * Math.log(2));
            neighbours(xs, k * Math.log(2));
        }
        double[] x = new double[xs.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = xs.get(i);
        }
        check("specials and boundaries", x);
    }

    /**
     * Every double from just inside -0.5 ln2 to just past -0x3fd62e42_ffffffff: e_exp.c takes k = 0 by its
     * high word up to the latter, a reduction by rounding x/ln2 takes k = -1 from the former. The vector
     * loop got 1,168,511 of these 17,155,601 doubles wrong before it followed the high word.
     */
    @Test
    void everyDoubleBetweenHalfLn2AndTheEndOfItsHighWord() {
        long from = Double.doubleToRawLongBits(0.5 * Math.log(2)) - (1 << 16);
        long to = 0x3fd62e42_ffffffffL + (1 << 16);
        double[] x = new double[CHUNK];
        for (long b = from; b <= to; b += CHUNK) {
            for (int i = 0; i < CHUNK; i++) {
                x[i] = -Double.longBitsToDouble(Math.min(b + i, to));
            }
            check("-(0.5 ln2 .. 0x3fd62e42_ffffffff)", x);
        }
    }

    @Test
    void randomBitPatternsOverTheWholeRange() {
        SplittableRandom r = new SplittableRandom(1);
        draw("all bit patterns", () -> Double.longBitsToDouble(r.nextLong()));
    }

    @Test
    void randomDoublesByExponent() {
        // every binade from subnormal to 2^10 equally often, both signs: every branch and every tiny input
        SplittableRandom r = new SplittableRandom(2);
        draw("by exponent", () -> {
            long exponent = r.nextInt(0, 1034); // biased exponents 0 (subnormal) .. 1033 (2^10)
            long bits = (exponent << 52) | (r.nextLong() & 0x000f_ffff_ffff_ffffL);
            return Double.longBitsToDouble(r.nextBoolean() ? bits : bits | Long.MIN_VALUE);
        });
    }

    @Test
    void randomDoublesOverTheFiniteResultRange() {
        SplittableRandom r = new SplittableRandom(3);
        draw("uniform [-746, 710]", () -> r.nextDouble(-746, 710));
    }

    @Test
    void randomDoublesWithSubnormalResults() {
        SplittableRandom r = new SplittableRandom(4);
        draw("uniform [-746, -707] (k < -1021, subnormal results)", () -> r.nextDouble(-746, -707));
    }

    @Test
    void randomSoftmaxArguments() {
        // x - max of a softmax row: <= 0, mostly within a few tens of the max
        SplittableRandom r = new SplittableRandom(5);
        draw("uniform [-40, 0]", () -> -r.nextDouble(0, 40));
        draw("uniform [-1.5 ln2, 1.5 ln2]", () -> r.nextDouble(-1.04, 1.04));
    }

    @Test
    void shiftedRowsAsTheForwardPassCallsIt() {
        SplittableRandom r = new SplittableRandom(6);
        for (int n = 0; n < 70; n++) {
            double[] x = new double[n];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                x[i] = (float) (r.nextGaussian() * 4); // widened float32 logits
                max = Math.max(max, x[i]);
            }
            double[] out = new double[n + 3];
            out[n] = 7.0; // beyond n: untouched
            RowOps.expShifted(x, max, out, n);
            for (int i = 0; i < n; i++) {
                same("row of " + n + " entry " + i, x[i] - max, StrictMath.exp(x[i] - max), out[i]);
            }
            assertEquals(7.0, out[n]);
        }
    }

    private static void neighbours(List<Double> xs, double b) {
        double d = b;
        double u = b;
        for (int i = 0; i < 4; i++) {
            xs.add(d);
            xs.add(u);
            d = Math.nextDown(d);
            u = Math.nextUp(u);
        }
    }

    private static void draw(String what, DoubleSupplier next) {
        double[] x = new double[CHUNK];
        for (int done = 0; done < PER_DISTRIBUTION; done += CHUNK) {
            for (int i = 0; i < CHUNK; i++) {
                x[i] = next.getAsDouble();
            }
            check(what, x);
        }
    }

    private static final RowOps.Loops VECTOR = new VectorRowOps();

    /** Scalar, vector and the row loop in use, each against StrictMath.exp. */
    private static void check(String what, double[] x) {
        double[] v = new double[x.length];
        RowOps.expShifted(VECTOR, x, 0.0, v, x.length);
        double[] used = new double[x.length];
        RowOps.expShifted(x, 0.0, used, x.length);
        for (int i = 0; i < x.length; i++) {
            double expected = StrictMath.exp(x[i]);
            same(what + " scalar", x[i], expected, FdlibmExp.exp(x[i]));
            same(what + " vector", x[i], expected, v[i]);
            same(what + " in use", x[i], expected, used[i]);
        }
    }

    private static void same(String what, double x, double expected, double actual) {
        if (Double.doubleToRawLongBits(expected) != Double.doubleToRawLongBits(actual)) {
            fail(what + ": exp(" + x + " = 0x" + Long.toHexString(Double.doubleToRawLongBits(x)) + ") = " + actual
                    + " (0x" + Long.toHexString(Double.doubleToRawLongBits(actual)) + "), StrictMath.exp gives "
                    + expected + " (0x" + Long.toHexString(Double.doubleToRawLongBits(expected)) + ")");
        }
    }
}
