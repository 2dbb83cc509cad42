package dev.softmaxbackward.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxbackward.spi.RowNumerics;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Unit checks of the reference's own steps; the conformance suite in module tests checks the contract. */
class ReferenceBackendTest {
    final ReferenceBackend reference = new ReferenceBackend();

    static double[] softmaxLike(Random random, int n, double scale) {
        double[] y = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            y[i] = Math.exp(scale * random.nextGaussian());
            sum += y[i];
        }
        for (int i = 0; i < n; i++) {
            y[i] /= sum;
        }
        return y;
    }

    @Test
    void constantRowsGiveZeroMagnitudeEvenWhereProductsUnderflowOrOverflow() {
        Random random = new Random(7);
        for (double c : new double[] {1e-310, 3e-320, Double.MIN_VALUE, -1e-300, 0.1, 1e300, Double.MAX_VALUE}) {
            for (int n : new int[] {1, 2, 3, 4095, 4097, 10_000}) {
                double[] y = softmaxLike(random, n, 5);
                double[] g = new double[n];
                java.util.Arrays.fill(g, c);
                double[] out = new double[n];
                reference.softmaxBackward(g, y, out, 1, n);
                for (double o : out) {
                    assertEquals(0.0, Math.abs(o), "c=" + c + " n=" + n);
                }
            }
        }
    }

    @Test
    void float64SumsFollowTheCanonicalOrderNotLeftToRight() {
        // 33 entries: lane 0 gets entries 0 and 32. A left-to-right sum of y would differ in the last bits.
        Random random = new Random(11);
        double[] y = softmaxLike(random, 5000, 3);
        CanonicalSum sums = new CanonicalSum(y.length);
        double[] lanes = new double[32];
        double[] segments = new double[2];
        for (int seg = 0; seg < 2; seg++) {
            java.util.Arrays.fill(lanes, 0.0);
            for (int k = 0; k < Math.min(4096, y.length - seg * 4096); k++) {
                lanes[k % 32] += y[seg * 4096 + k];
            }
            segments[seg] = RowNumerics.reduceLanes(lanes);
        }
        assertEquals(segments[0] + segments[1], sums.plain(y.length, k -> y[k]));
        CanonicalSum.Pair pair = sums.compensated(y.length, k -> y[k]);
        java.math.BigDecimal exact = java.math.BigDecimal.ZERO;
        for (double v : y) {
            exact = exact.add(new java.math.BigDecimal(v));
        }
        // double-double: the pair rounds to the exact sum correctly here (error far below half an ulp)
        assertEquals(exact.doubleValue(), pair.value());
    }
}
