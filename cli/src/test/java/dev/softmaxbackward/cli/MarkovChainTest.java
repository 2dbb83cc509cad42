package dev.softmaxbackward.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The train command's yardstick: the entropy rate must be right, or "within 5% of H" means nothing. */
class MarkovChainTest {
    private static double h(double p) {
        return -p * Math.log(p) - (1 - p) * Math.log(1 - p);
    }

    @Test
    void twoStateChainHasTheTextbookStationaryDistributionAndEntropyRate() {
        double a = 0.1;
        double b = 0.3;
        TrainCommand.MarkovChain chain = TrainCommand.MarkovChain.of(2, new double[] {1 - a, a, b, 1 - b});
        // pi = (b, a) / (a + b); H = pi_0 h(a) + pi_1 h(b)
        assertEquals(b / (a + b), chain.pi[0], 1e-14);
        assertEquals(a / (a + b), chain.pi[1], 1e-14);
        assertEquals(b / (a + b) * h(a) + a / (a + b) * h(b), chain.entropyRate, 1e-14);
    }

    @Test
    void aTableHoldingLnPReachesTheEntropyRateAndAUniformOneReachesLnV() {
        TrainCommand.MarkovChain chain = TrainCommand.MarkovChain.random(16, 2.0, new SplittableRandom(3));
        float[] w = new float[16 * 16];
        float[] q = new float[16 * 16];
        ReferenceBackend ref = new ReferenceBackend();
        assertEquals(Math.log(16), chain.crossEntropy(ref, w, q), 1e-6);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) Math.log(chain.p[i]);
        }
        // only the float32 rounding of the table separates it from the source
        assertEquals(chain.entropyRate, chain.crossEntropy(ref, w, q), 1e-5);
        assertTrue(chain.entropyRate < Math.log(16) - 0.1, "a random chain is far from uniform");
    }

    @Test
    void samplingFollowsTheTransitions() {
        double a = 0.1;
        double b = 0.3;
        TrainCommand.MarkovChain chain = TrainCommand.MarkovChain.of(2, new double[] {1 - a, a, b, 1 - b});
        SplittableRandom rnd = new SplittableRandom(5);
        int n = 200_000;
        int ones = 0;
        for (int k = 0; k < n; k++) {
            ones += chain.sample(0, rnd);
        }
        // binomial(n, a): standard deviation about 134, so 6 sigma is about 0.004 n
        assertEquals(a, (double) ones / n, 0.004);
    }
}
