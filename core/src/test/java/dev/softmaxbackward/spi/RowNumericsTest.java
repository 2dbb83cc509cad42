package dev.softmaxbackward.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RowNumericsTest {

    @Test
    void segmentTreePairsNeighboursAndPassesTheOddOneUp() {
        // Leaves chosen so that every association gives different bits; the tree for 5 leaves is
        // ((0+1)+(2+3))+4.
        double[] v = {1e16, 1.0, -1e16, 1.0, 3.0};
        double expected = ((1e16 + 1.0) + (-1e16 + 1.0)) + 3.0;
        assertEquals(expected, RowNumerics.reduceSegments(v.clone(), 5));
        double[] seven = {1e16, 1, 1, 1, -1e16, 1, 1};
        double expected7 = ((1e16 + 1.0) + (1.0 + 1.0)) + ((-1e16 + 1.0) + 1.0);
        assertEquals(expected7, RowNumerics.reduceSegments(seven.clone(), 7));
    }

    @Test
    void laneTreeIsTheShuffleDownTree() {
        double[] v = new double[32];
        for (int l = 0; l < 32; l++) {
            v[l] = (l % 2 == 0 ? 1e16 : 1.0) * (l % 4 < 2 ? 1 : -1);
        }
        double[] w = v.clone();
        for (int off = 16; off > 0; off /= 2) {
            double[] next = w.clone();
            for (int l = 0; l < off; l++) {
                next[l] = w[l] + w[l + off];
            }
            w = next;
        }
        assertEquals(w[0], RowNumerics.reduceLanes(v));
    }

    @Test
    void segmentCountDoesNotOverflow() {
        assertEquals(0, RowNumerics.segments(0));
        assertEquals(1, RowNumerics.segments(4096));
        assertEquals(2, RowNumerics.segments(4097));
        assertEquals(524288, RowNumerics.segments(Integer.MAX_VALUE));
    }

    @Test
    void weightedMeanEdgeCases() {
        assertEquals(0.0f, RowNumerics.weightedMean(5.0, 0.0));
        assertEquals(0.0, RowNumerics.weightedMean(5.0, 0.0, 0.0, 0.0));
        assertEquals(Double.NaN, RowNumerics.weightedMean(Double.NaN, 0.0, 1.0, 0.0));
        assertEquals(Double.POSITIVE_INFINITY, RowNumerics.weightedMean(Double.POSITIVE_INFINITY, Double.NaN, 2.0, 0));
        assertEquals(0.0, RowNumerics.weightedMean(Double.POSITIVE_INFINITY, Double.NaN, 0.0, 0.0));
        assertEquals(Double.POSITIVE_INFINITY, RowNumerics.weightedMean(Double.MAX_VALUE, 0, Double.MIN_VALUE, 0));
        // The pair (s, c) is s + c exactly; the mean is the correctly rounded quotient here.
        assertEquals(1.0 / 3.0, RowNumerics.weightedMean(1.0, 0.0, 3.0, 0.0));
    }

    @Test
    void doubleDoubleMeanIsWithinOneUlpOfTheExactQuotientOfTheExactPairs() {
        Random random = new Random(42);
        MathContext mc = new MathContext(60);
        for (int i = 0; i < 10_000; i++) {
            double sN = random.nextGaussian();
            double cN = sN * 0x1p-60 * random.nextGaussian();
            double sD = random.nextDouble() + 0.01;
            double cD = sD * 0x1p-60 * random.nextGaussian();
            BigDecimal exact = new BigDecimal(sN).add(new BigDecimal(cN))
                    .divide(new BigDecimal(sD).add(new BigDecimal(cD)), mc);
            double d = RowNumerics.weightedMean(sN, cN, sD, cD);
            double error = new BigDecimal(d).subtract(exact).abs().doubleValue();
            // one rounding to float64 plus the double-double remainder: within one ulp
            assertEquals(0.0, Math.max(0.0, error - Math.ulp(d)), "sN=" + sN + " cN=" + cN + " sD=" + sD + " cD=" + cD);
        }
    }

    @Test
    void constantRowRuleOnAnEmptyRangeReadsNothing() {
        // regression: g[from] was read before from >= to was checked (ArrayIndexOutOfBoundsException)
        assertEquals(0.25f, RowNumerics.constantRowMean(0.25f, new float[0], 0, 0));
        assertEquals(0.25, RowNumerics.constantRowMean(0.25, new double[0], 0, 0));
        assertEquals(0.25f, RowNumerics.constantRowMean(0.25f, new float[] {1f, 2f}, 2, 2));
        assertEquals(0.25, RowNumerics.constantRowMean(0.25, new double[] {1, 2}, 2, 2));
    }
}
