package dev.softmaxbackward.conformance;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.conformance.Inputs.GradientKind;
import java.math.BigDecimal;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A check that cannot fail is a defect: each checker is shown here to accept the reference's output
 * and to reject a deliberately wrong one (a few ulps off, a wrong d, a lost write, a flipped sign).
 */
class CheckerSelfTest {

    // ---- Dyadic -------------------------------------------------------------------------------------

    @Test
    void dyadicIsExact() {
        for (double x : new double[] {0.1, -0.3, 1e300, -1e-300, Double.MIN_VALUE, Double.MAX_VALUE, 3 * Double.MIN_VALUE,
            Double.MIN_NORMAL, 1.0, -0.0}) {
            assertEquals(0, new BigDecimal(x).compareTo(Dyadic.of(x).toBigDecimal()), "exact value of " + x);
        }
        Dyadic a = Dyadic.of(0.1);
        Dyadic b = Dyadic.of(0.2);
        assertEquals(0, new BigDecimal(0.1).add(new BigDecimal(0.2)).compareTo(a.add(b).toBigDecimal()));
        assertEquals(0, new BigDecimal(0.1).multiply(new BigDecimal(0.2)).compareTo(a.multiply(b).toBigDecimal()));
        assertTrue(Dyadic.of(0.1).add(Dyadic.of(0.2)).compareTo(Dyadic.of(0.3)) > 0, "0.1 + 0.2 > 0.3 exactly");
        assertEquals(Dyadic.of(1.5), Dyadic.of(3).scaleByPowerOfTwo(-1));
    }

    // ---- bits ---------------------------------------------------------------------------------------

    @Test
    void sameBitsRejectsOneUlpAndSignedZeroButAcceptsAnyNaN() {
        Output a = Output.of(new double[] {1.0, 0.0, Double.NaN});
        assertDoesNotThrow(() -> Checks.sameBits("same", a, Output.of(new double[] {1.0, 0.0, Double.NaN})));
        assertDoesNotThrow(() -> Checks.sameBits("NaN payload", a,
                Output.of(new double[] {1.0, 0.0, Double.longBitsToDouble(0x7ff8_0000_0000_1234L)})));
        assertThrows(AssertionError.class, () -> Checks.sameBits("1 ulp", a, a.perturbed(0, 1)));
        assertThrows(AssertionError.class, () -> Checks.sameBits("-0.0", a, a.with(1, -0.0)));
        Output f = Output.of(new float[] {1f, 0f});
        assertThrows(AssertionError.class, () -> Checks.sameBits("float 1 ulp", f, f.perturbed(0, -1)));
        assertThrows(AssertionError.class, () -> Checks.sameBits("dtype", f, a));
    }

    @Test
    void allWrittenRejectsALeftOverSentinel() {
        Batch batch = Inputs.batch(new Random(1), DType.FLOAT32, 2, 3, 1, GradientKind.UNIT, 0);
        Output untouched = batch.sentinelOutput();
        assertThrows(AssertionError.class, () -> Checks.allWritten("fresh", untouched));
        Output out = batch.backward(Conformance.REFERENCE);
        assertDoesNotThrow(() -> Checks.allWritten("written", out));
        assertThrows(AssertionError.class, () -> Checks.allWritten("one left", out.with(4, Batch.SENTINEL_F)));
    }

    // ---- oracle bound -------------------------------------------------------------------------------

    @Test
    void oracleRejectsEightUlpsOnTheWorkedExample() {
        Batch batch = Batch.of(new double[] {0.2, 0.3, 0.5}, new double[] {1, 0, 0}, 1, 3);
        Output out = batch.backward(Conformance.REFERENCE);
        assertEquals(1, Checks.oracleBound(batch, out));
        // entry 0: e = 0.16, y*max|g| = 0.2: the bound is u*(0.32 + 0.4) = 2.9 ulp(0.16)
        assertDoesNotThrow(() -> Checks.oracleBound(batch, out.perturbed(0, 1)));
        assertThrows(AssertionError.class, () -> Checks.oracleBound(batch, out.perturbed(0, 8)));
        assertThrows(AssertionError.class, () -> Checks.oracleBound(batch, out.perturbed(0, -8)));
        assertThrows(AssertionError.class, () -> Checks.oracleBound(batch, out.with(1, Double.NaN)));
        Batch f = Batch.of(new float[] {0.2f, 0.3f, 0.5f}, new float[] {1, 0, 0}, 1, 3);
        Output fo = f.backward(Conformance.REFERENCE);
        assertEquals(1, Checks.oracleBound(f, fo));
        assertThrows(AssertionError.class, () -> Checks.oracleBound(f, fo.perturbed(0, 8)));
    }

    /** The same with a wrong d: d one part in 2^50 (float64) or 2^21 (float32) off, g nearly cancelling. */
    @ParameterizedTest
    @EnumSource(DType.class)
    void oracleRejectsASlightlyWrongD(DType dt) {
        Batch batch = Inputs.batch(new Random(3), dt, 4, 300, 1.0, GradientKind.OFFSET, 0);
        assertEquals(4, Checks.oracleBound(batch, batch.backward(Conformance.REFERENCE)));
        double rel = dt == DType.FLOAT32 ? 0x1p-21 : 0x1p-50;
        assertThrows(AssertionError.class, () -> Checks.oracleBound(batch, withD(batch, rel)));
    }

    /** The textbook y*(g - dot(y,g)) (no division by sum(y)) on y that does not sum to 1. */
    @ParameterizedTest
    @EnumSource(DType.class)
    void oracleRejectsTheUndividedFormulaWhenYDoesNotSumToOne(DType dt) {
        Random rnd = new Random(4);
        double[] y = new double[64];
        for (int i = 0; i < y.length; i++) {
            y[i] = rnd.nextDouble() / 20; // sums to about 1.6
        }
        Batch batch = Batch.rounded(dt, y, Inputs.gradient(rnd, dt, GradientKind.UNIT, 1, 64, 0), 1, 64);
        assertEquals(1, Checks.oracleBound(batch, batch.backward(Conformance.REFERENCE)));
        double[] out = new double[64];
        double dot = 0;
        for (int i = 0; i < 64; i++) {
            dot += batch.y(i) * batch.g(i);
        }
        for (int i = 0; i < 64; i++) {
            out[i] = dt.round(batch.y(i) * (batch.g(i) - dot));
        }
        assertThrows(AssertionError.class, () -> Checks.oracleBound(batch, toOutput(dt, out)));
    }

    /** Outputs computed with d moved by a relative {@code rel} from the reference's d. */
    private static Output withD(Batch b, double rel) {
        double[] out = new double[b.size()];
        for (int r = 0; r < b.rows(); r++) {
            double n = 0;
            double s = 0;
            for (int i = r * b.cols(); i < (r + 1) * b.cols(); i++) {
                n += b.y(i) * b.g(i);
                s += b.y(i);
            }
            double d = b.dtype().round(n / s) * (1 + rel);
            for (int i = r * b.cols(); i < (r + 1) * b.cols(); i++) {
                out[i] = b.dtype().round(b.y(i) * (b.g(i) - d));
            }
        }
        return toOutput(b.dtype(), out);
    }

    private static Output toOutput(DType dt, double[] v) {
        if (dt == DType.FLOAT64) {
            return Output.of(v);
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return Output.of(f);
    }

    // ---- sum bound, constant rows -------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(DType.class)
    void sumBoundRejectsEightUlpsOnAHalf(DType dt) {
        Batch batch = Batch.rounded(dt, new double[] {0.5, 0.5}, new double[] {1, -1}, 1, 2);
        Output out = batch.backward(Conformance.REFERENCE); // [0.5, -0.5]: the sum is exactly 0
        assertEquals(1, Checks.sumBound(batch, out));
        // float64: ulp(0.5) = u, float32: ulp(0.5) = 2u; 8 ulp > 4u*max|g| = 4u, 1 ulp is within it
        assertDoesNotThrow(() -> Checks.sumBound(batch, out.perturbed(0, 1)));
        assertThrows(AssertionError.class, () -> Checks.sumBound(batch, out.perturbed(0, 8)));
    }

    @Test
    void sumBoundSkipsRowsWhoseYDoesNotSumToOne() {
        Batch batch = Batch.of(new double[] {0.5, 0.6}, new double[] {1, -1}, 1, 2);
        assertEquals(0, Checks.sumBound(batch, batch.backward(Conformance.REFERENCE)));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void constantRowsRejectsTheSmallestSubnormal(DType dt) {
        Batch batch = Batch.rounded(dt, new double[] {0.25, 0.75, 0.5, 0.5}, new double[] {3, 3, 1, 2}, 2, 2);
        Output out = batch.backward(Conformance.REFERENCE);
        assertEquals(1, Checks.constantRows(batch, out), "row 0 is constant, row 1 is not");
        assertThrows(AssertionError.class, () -> Checks.constantRows(batch, out.with(1, dt.minSubnormal())));
        assertDoesNotThrow(() -> Checks.constantRows(batch, out.with(1, -0.0)));
    }

    // ---- Jacobian and finite differences ------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(DType.class)
    void jacobianAndFiniteDifferencesRejectAnErrorTwiceTheirTolerance(DType dt) {
        Random rnd = new Random(5);
        double[] x = Inputs.logits(rnd, 2, 20, 2.0);
        double[] g = Inputs.gradient(rnd, dt, GradientKind.UNIT, 2, 20, 0);
        Batch batch = Batch.rounded(dt, Inputs.softmax(x, 2, 20), g, 2, 20);
        Output out = batch.backward(Conformance.REFERENCE);
        double jacTol = dt == DType.FLOAT32 ? 1e-6 : 1e-12;
        double fdTol = dt == DType.FLOAT32 ? 1e-3 : 1e-7;
        Checks.jacobian(batch, out, jacTol);
        Checks.finiteDifferences(x, batch, out, fdTol);
        assertThrows(AssertionError.class, () -> Checks.jacobian(batch, out.with(25, out.get(25) + 2 * jacTol), jacTol));
        assertThrows(AssertionError.class,
                () -> Checks.finiteDifferences(x, batch, out.with(7, out.get(7) - 2 * fdTol), fdTol));
    }

    // ---- forward softmax and cross-entropy ----------------------------------------------------------

    @ParameterizedTest
    @EnumSource(DType.class)
    void softmaxOracleRejectsEightUlpsAndARowThatDoesNotSumToOne(DType dt) {
        double[] x = Inputs.logits(new Random(6), 2, 50, 3.0);
        Output out = Conformance.forward(Conformance.REFERENCE, dt, x, 2, 50, "reference");
        double[] widened = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            widened[i] = dt.round(x[i]);
        }
        assertEquals(2, Checks.softmaxOracle(dt, widened, out, 2, 50));
        assertThrows(AssertionError.class, () -> Checks.softmaxOracle(dt, widened, out.perturbed(60, 8), 2, 50));
        // every entry of row 0 two ulps up: the row no longer matches exp/sum (entrywise or in its sum)
        Output up = out;
        for (int i = 0; i < 50; i++) {
            up = up.perturbed(i, 2);
        }
        Output allUp = up;
        AssertionError e = assertThrows(AssertionError.class, () -> Checks.softmaxOracle(dt, widened, allUp, 2, 50));
        assertTrue(e.getMessage().contains("ulp") || e.getMessage().contains("sum"), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void crossEntropyCheckRejectsOneUlpAndANegativeZeroInAnIgnoredRow(DType dt) {
        Batch y = Batch.rounded(dt, Inputs.softmax(Inputs.logits(new Random(9), 2, 5, 1.0), 2, 5), new double[10], 2, 5);
        int[] labels = {3, -100};
        Output out = y.sentinelOutput();
        if (dt == DType.FLOAT32) {
            Conformance.REFERENCE.crossEntropyBackward(y.yFloats(), labels, 0.5f, out.floats(), 2, 5);
        } else {
            Conformance.REFERENCE.crossEntropyBackward(y.yDoubles(), labels, 0.5, out.doubles(), 2, 5);
        }
        Checks.crossEntropy(y, labels, 0.5, out);
        assertThrows(AssertionError.class, () -> Checks.crossEntropy(y, labels, 0.5, out.perturbed(3, 1)));
        assertThrows(AssertionError.class, () -> Checks.crossEntropy(y, labels, 0.5, out.with(7, -0.0)));
    }
}
