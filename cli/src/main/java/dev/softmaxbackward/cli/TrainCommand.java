package dev.softmaxbackward.cli;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.io.PrintWriter;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code train}: a next-token model trained with the library, on data whose best possible loss is
 * known exactly.
 *
 * <p>The source is a Markov chain over V tokens with transition matrix P (rows: softmax of Gaussian
 * logits). Its entropy rate H = -sum_i pi_i sum_j P_ij ln P_ij (pi the stationary distribution) is the
 * lowest expected next-token cross-entropy any model can reach, and a V x V logit table W (row = the
 * previous token) can reach it exactly (W_i = ln P_i). The model's own expected cross-entropy,
 * -sum_i pi_i sum_j P_ij ln softmax(W_i)_j, is computed in closed form too, so the gap to H is
 * measured without sampling noise.
 */
@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Trains a next-token model (a V x V logit table) by mini-batch SGD on sequences from a "
            + "synthetic Markov chain whose entropy rate H is known in closed form. Forward: the backend's "
            + "softmax; gradient: its crossEntropyBackward; every --check-every steps the same gradient is also "
            + "computed the long way (dL/dy = -onehot/y, scaled, through softmaxBackward) and cross-checked "
            + "against the fused one within the contract's bound. Prints the loss against H as it goes; "
            + "on the defaults the model ends within 5%% of H.",
            "Exit status 1 if a gradient cross-check fails."})
final class TrainCommand extends Subcommand {
    @Option(names = "--vocab", paramLabel = "V", defaultValue = "256", description = "tokens (default: ${DEFAULT-VALUE})")
    int vocab;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "512",
            description = "sequences per mini-batch, one next-token prediction each (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "2000", description = "SGD steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "seed of the Markov chain and the sampling (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--lr", paramLabel = "LR",
            description = "initial learning rate, decayed as LR / (1 + 3 step / N) (default: V; the loss is a batch "
                + "mean, so each row of the table moves by about LR / V per step)")
    Double lr;

    @Option(names = "--check-every", paramLabel = "K", defaultValue = "50",
            description = "steps between long-way gradient cross-checks (default: ${DEFAULT-VALUE})")
    int checkEvery;

    @Option(names = "--backend", paramLabel = "NAME",
            description = "backend to train with (default: the one your code gets, see info)")
    String backend;

    @Override
    boolean execute(PrintWriter out) {
        if (vocab < 2 || vocab > 8192) {
            throw badOption("--vocab must be in [2, 8192] (got " + vocab + ")");
        }
        if (batch < 1 || (long) batch * vocab > 1 << 28) {
            throw badOption("--batch must be at least 1 and batch * vocab at most 2^28 (got " + batch + ")");
        }
        if (steps < 1) {
            throw badOption("--steps must be at least 1 (got " + steps + ")");
        }
        if (checkEvery < 1) {
            throw badOption("--check-every must be at least 1 (got " + checkEvery + ")");
        }
        if (lr != null && !(lr > 0 && lr < 1e9)) {
            throw badOption("--lr must be positive (got " + lr + ")");
        }
        Memory.require(heapBytes(vocab, batch), String.format("--vocab %d --batch %d (a %d x %d table, %d x %d "
                + "batches)", vocab, batch, vocab, vocab, batch, vocab));
        SoftmaxBackwardBackend b = backend == null ? SoftmaxBackward.backend() : SoftmaxBackward.backend(backend);
        return train(b, out);
    }

    /**
     * The arrays {@link #train} allocates: the chain's transitions and their running sums (float64, V x V
     * each), the table and its softmax (float32, V x V each), five float32 B x V batches (logits, softmax,
     * fused gradient, dL/dy, long-way gradient) and two int token arrays.
     */
    static long heapBytes(int vocab, int batch) {
        long table = (long) vocab * vocab;
        long rows = (long) batch * vocab;
        return 2 * 8 * table + 2 * 4 * table + 5 * 4 * rows + 2 * 4L * batch;
    }

    private boolean train(SoftmaxBackwardBackend b, PrintWriter out) {
        final int v = vocab;
        SplittableRandom rnd = new SplittableRandom(seed);
        MarkovChain chain = MarkovChain.random(v, 2.0, rnd);
        double lr0 = lr == null ? v : lr;
        out.printf("Markov source: %d tokens, entropy rate H = %.6f nats/token (uniform would be ln V = %.4f)%n", v,
                chain.entropyRate, Math.log(v));
        out.printf("Model: %d x %d logit table, float32, SGD lr %.4g / (1 + 3 step / %d), batch %d, %d steps, "
                + "backend %s%n", v, v, lr0, steps, batch, steps, b.name());
        out.printf("%8s  %12s  %14s  %10s%n", "step", "batch loss", "model CE (exact)", "gap to H");

        float[] w = new float[v * v];
        float[] x = new float[batch * v];
        float[] y = new float[batch * v];
        float[] grad = new float[batch * v];
        float[] gy = new float[batch * v];
        float[] longWay = new float[batch * v];
        float[] q = new float[v * v];
        int[] prev = new int[batch];
        int[] next = new int[batch];
        for (int k = 0; k < batch; k++) {
            prev[k] = chain.sampleStationary(rnd);
        }
        float scale = 1f / batch;
        int logEvery = Math.max(1, steps / 20);
        double lossSinceLog = 0;
        int stepsSinceLog = 0;
        int checks = 0;
        double worstRatio = 0;
        String checkFailure = null;
        long t0 = System.nanoTime();
        for (int step = 1; step <= steps; step++) {
            for (int k = 0; k < batch; k++) {
                next[k] = chain.sample(prev[k], rnd);
                System.arraycopy(w, prev[k] * v, x, k * v, v);
            }
            b.softmax(x, y, batch, v);
            double loss = 0;
            for (int k = 0; k < batch; k++) {
                loss -= Math.log(y[k * v + next[k]]);
            }
            lossSinceLog += loss / batch;
            stepsSinceLog++;
            // d(mean cross-entropy)/d(logits), fused: (y - onehot) / batch
            b.crossEntropyBackward(y, next, scale, grad, batch, v);
            if (step % checkEvery == 0 || step == 1) {
                // the long way: dL/dy = -onehot / y (scaled), then through the softmax Jacobian
                java.util.Arrays.fill(gy, 0f);
                for (int k = 0; k < batch; k++) {
                    int i = k * v + next[k];
                    gy[i] = (float) (-(double) scale / y[i]);
                }
                b.softmaxBackward(gy, y, longWay, batch, v);
                checks++;
                for (int k = 0; k < batch && checkFailure == null; k++) {
                    double maxG = Math.abs(gy[k * v + next[k]]);
                    for (int j = k * v; j < (k + 1) * v; j++) {
                        // the contract's bound (invariant 5) with the fused gradient standing in for the exact
                        // value: u (2 |e| + 2 y max|g|) + the smallest subnormal. The two differ only by
                        // rounding and by sum(y) being a few ulps from 1, both far inside it.
                        double bound = 0x1p-24 * (2 * Math.abs(grad[j]) + 2 * y[j] * maxG) + Float.MIN_VALUE;
                        double diff = Math.abs((double) longWay[j] - grad[j]);
                        worstRatio = Math.max(worstRatio, diff / bound);
                        if (!(diff <= bound)) {
                            checkFailure = String.format("step %d row %d entry %d: long way %s, fused %s, bound %.3g",
                                    step, k, j - k * v, longWay[j], grad[j], bound);
                        }
                    }
                }
            }
            float rate = (float) (lr0 / (1 + 3.0 * (step - 1) / steps));
            for (int k = 0; k < batch; k++) {
                int row = prev[k] * v;
                int g0 = k * v;
                for (int j = 0; j < v; j++) {
                    w[row + j] -= rate * grad[g0 + j];
                }
            }
            int[] swap = prev;
            prev = next;
            next = swap;
            if (step % logEvery == 0 || step == steps) {
                double ce = chain.crossEntropy(b, w, q);
                out.printf("%8d  %12.6f  %14.6f  %+9.2f%%%n", step, lossSinceLog / stepsSinceLog, ce,
                        100 * (ce - chain.entropyRate) / chain.entropyRate);
                out.flush();
                lossSinceLog = 0;
                stepsSinceLog = 0;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double ce = chain.crossEntropy(b, w, q);
        double gap = (ce - chain.entropyRate) / chain.entropyRate;
        out.printf("Result: model cross-entropy %.6f vs entropy rate %.6f nats/token: %+.2f%% (%s 5%%), %d steps "
                + "in %.1f s on %s%n", ce, chain.entropyRate, 100 * gap, Math.abs(gap) <= 0.05 ? "within" : "NOT within",
                steps, seconds, b.name());
        if (checkFailure == null) {
            out.printf("Gradient cross-check (long way vs fused) passed %d times; largest difference %.3f of the "
                    + "bound%n", checks, worstRatio);
        } else {
            out.println("Gradient cross-check FAILED: " + checkFailure);
        }
        return checkFailure == null;
    }

    /** A Markov chain over V tokens: its transitions, stationary distribution and entropy rate. */
    static final class MarkovChain {
        final int v;
        final double[] p;
        final double[] cdf;
        final double[] pi;
        final double[] piCdf;
        final double entropyRate;

        private MarkovChain(int v, double[] p) {
            this.v = v;
            this.p = p;
            this.cdf = new double[v * v];
            for (int i = 0; i < v; i++) {
                double c = 0;
                for (int j = 0; j < v; j++) {
                    c += p[i * v + j];
                    cdf[i * v + j] = c;
                }
            }
            this.pi = stationary(v, p);
            this.piCdf = new double[v];
            double c = 0;
            for (int i = 0; i < v; i++) {
                c += pi[i];
                piCdf[i] = c;
            }
            double h = 0;
            for (int i = 0; i < v; i++) {
                double row = 0;
                for (int j = 0; j < v; j++) {
                    double pij = p[i * v + j];
                    if (pij > 0) {
                        row -= pij * Math.log(pij);
                    }
                }
                h += pi[i] * row;
            }
            this.entropyRate = h;
        }

        /** A chain with these transitions (row-major, rows summing to 1). */
        static MarkovChain of(int v, double[] p) {
            return new MarkovChain(v, p.clone());
        }

        /** Rows are softmax(sigma * z) with z standard normal: dense, all positive, so the chain is ergodic. */
        static MarkovChain random(int v, double sigma, SplittableRandom rnd) {
            double[] p = new double[v * v];
            for (int i = 0; i < v; i++) {
                double sum = 0;
                for (int j = 0; j < v; j++) {
                    double e = Math.exp(sigma * Data.gaussian(rnd));
                    p[i * v + j] = e;
                    sum += e;
                }
                for (int j = 0; j < v; j++) {
                    p[i * v + j] /= sum;
                }
            }
            return new MarkovChain(v, p);
        }

        /** pi P = pi by power iteration: every entry of P is positive, so it converges geometrically. */
        private static double[] stationary(int v, double[] p) {
            double[] pi = new double[v];
            java.util.Arrays.fill(pi, 1.0 / v);
            double[] nextPi = new double[v];
            for (int iter = 0; iter < 100_000; iter++) {
                java.util.Arrays.fill(nextPi, 0);
                for (int i = 0; i < v; i++) {
                    double pii = pi[i];
                    for (int j = 0; j < v; j++) {
                        nextPi[j] += pii * p[i * v + j];
                    }
                }
                double sum = 0;
                for (double e : nextPi) {
                    sum += e;
                }
                double change = 0;
                for (int j = 0; j < v; j++) {
                    nextPi[j] /= sum;
                    change += Math.abs(nextPi[j] - pi[j]);
                }
                double[] t = pi;
                pi = nextPi;
                nextPi = t;
                if (change < 1e-15) {
                    break;
                }
            }
            return pi;
        }

        int sample(int from, SplittableRandom rnd) {
            return search(cdf, from * v, rnd.nextDouble());
        }

        int sampleStationary(SplittableRandom rnd) {
            return search(piCdf, 0, rnd.nextDouble());
        }

        /** The first j with c[base + j] > u (the last one if rounding left the row's total below u). */
        private int search(double[] c, int base, double u) {
            int lo = 0;
            int hi = v - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (c[base + mid] > u) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            return lo;
        }

        /** The model's exact expected next-token loss: -sum_i pi_i sum_j P_ij ln softmax(W_i)_j. */
        double crossEntropy(SoftmaxBackwardBackend b, float[] w, float[] q) {
            b.softmax(w, q, v, v);
            double ce = 0;
            for (int i = 0; i < v; i++) {
                double row = 0;
                for (int j = 0; j < v; j++) {
                    row -= p[i * v + j] * Math.log(q[i * v + j]);
                }
                ce += pi[i] * row;
            }
            return ce;
        }
    }
}
