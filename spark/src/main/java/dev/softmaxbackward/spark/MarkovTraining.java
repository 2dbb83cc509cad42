package dev.softmaxbackward.spark;

import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Distributed training, data parallel: the CLI's Markov-chain experiment (a V x V logit table learning
 * next-token prediction on a chain whose entropy rate H is known) with each mini-batch split into
 * {@code parts} slices; each slice's gradient (the backend's softmax, then its fused cross-entropy
 * backward) is computed by a task and the slices' gradients are summed by {@code treeAggregate}.
 * {@link #trainLocally} computes the same slices in one JVM, for comparison: the two differ only in
 * the order the slices' gradients are added, so their losses agree closely (tested within 1 %).
 *
 * <p>Pairs (previous, next token) are drawn i.i.d. from the stationary distribution and the chain,
 * seeded by (seed, step, slice), so the data does not depend on where a slice runs.
 */
public final class MarkovTraining implements Serializable {
    private static final long serialVersionUID = 1L;

    final int v;
    final int batch;
    final int parts;
    final long seed;
    final double[] p;      // transitions, row-major
    final double[] pi;     // stationary distribution
    final double entropyRate;

    public MarkovTraining(int vocab, int batch, int parts, long seed) {
        if (vocab < 2 || batch < parts || parts < 1) {
            throw new IllegalArgumentException("vocab " + vocab + " < 2, or batch " + batch + " < parts " + parts
                    + ", or parts < 1");
        }
        this.v = vocab;
        this.batch = batch;
        this.parts = parts;
        this.seed = seed;
        SplittableRandom random = new SplittableRandom(seed);
        p = new double[v * v];
        for (int i = 0; i < v; i++) {
            double sum = 0;
            for (int j = 0; j < v; j++) {
                p[i * v + j] = Math.exp(2.0 * gaussian(random));
                sum += p[i * v + j];
            }
            for (int j = 0; j < v; j++) {
                p[i * v + j] /= sum;
            }
        }
        pi = new double[v];
        Arrays.fill(pi, 1.0 / v);
        for (int iter = 0; iter < 10_000; iter++) { // power iteration; P > 0 so it converges geometrically
            double[] next = new double[v];
            for (int i = 0; i < v; i++) {
                for (int j = 0; j < v; j++) {
                    next[j] += pi[i] * p[i * v + j];
                }
            }
            System.arraycopy(next, 0, pi, 0, v);
        }
        double h = 0;
        for (int i = 0; i < v; i++) {
            for (int j = 0; j < v; j++) {
                h -= pi[i] * p[i * v + j] * Math.log(p[i * v + j]);
            }
        }
        entropyRate = h;
    }

    /** The model's exact expected cross-entropy, {@code -sum_i pi_i sum_j P_ij ln softmax(W_i)_j}. */
    public double crossEntropy(float[] w) {
        double ce = 0;
        for (int i = 0; i < v; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, w[i * v + j]);
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(w[i * v + j] - max);
            }
            for (int j = 0; j < v; j++) {
                ce -= pi[i] * p[i * v + j] * (w[i * v + j] - max - Math.log(sum));
            }
        }
        return ce;
    }

    /** Trains on Spark; {@code progress} gets the step after each. Returns the table. */
    public float[] train(JavaSparkContext jsc, int steps, IntConsumer progress) {
        List<Integer> slices = new ArrayList<>();
        for (int s = 0; s < parts; s++) {
            slices.add(s);
        }
        JavaRDD<Integer> work = jsc.parallelize(slices, parts);
        float[] w = new float[v * v];
        for (int step = 0; step < steps; step++) {
            Broadcast<float[]> table = jsc.broadcast(w);
            int at = step;
            double[] grad = work.treeAggregate(new double[v * v],
                    (acc, slice) -> add(acc, sliceGradient(ExecutorBackend.get(), table.value(), at, slice)),
                    MarkovTraining::add, 2);
            table.destroy();
            update(w, grad, step, steps);
            progress.accept(step);
        }
        return w;
    }

    /** The same slices and updates in this JVM, on {@code backend}. */
    public float[] trainLocally(SoftmaxBackwardBackend backend, int steps) {
        float[] w = new float[v * v];
        for (int step = 0; step < steps; step++) {
            double[] grad = new double[v * v];
            for (int s = 0; s < parts; s++) {
                add(grad, sliceGradient(backend, w, step, s));
            }
            update(w, grad, step, steps);
        }
        return w;
    }

    private void update(float[] w, double[] grad, int step, int steps) {
        float rate = (float) (v / (1 + 3.0 * step / steps));
        for (int i = 0; i < w.length; i++) {
            w[i] -= (float) (rate * grad[i]);
        }
    }

    /** One slice's gradient of the batch-mean loss with respect to the table. */
    double[] sliceGradient(SoftmaxBackwardBackend backend, float[] w, int step, int slice) {
        int n = batch / parts + (slice < batch % parts ? 1 : 0);
        SplittableRandom random = new SplittableRandom(seed ^ (0x9E3779B97F4A7C15L * (step * 1_000_003L + slice + 1)));
        int[] prev = new int[n];
        int[] next = new int[n];
        float[] x = new float[n * v];
        for (int k = 0; k < n; k++) {
            prev[k] = draw(pi, 0, random.nextDouble());
            next[k] = draw(p, prev[k] * v, random.nextDouble());
            System.arraycopy(w, prev[k] * v, x, k * v, v);
        }
        float[] y = new float[n * v];
        backend.softmax(x, y, n, v);
        float[] g = new float[n * v];
        backend.crossEntropyBackward(y, next, 1f / batch, g, n, v);
        double[] grad = new double[v * v];
        for (int k = 0; k < n; k++) {
            for (int j = 0; j < v; j++) {
                grad[prev[k] * v + j] += g[k * v + j];
            }
        }
        return grad;
    }

    private int draw(double[] weights, int from, double u) {
        double c = 0;
        for (int j = 0; j < v - 1; j++) {
            c += weights[from + j];
            if (u < c) {
                return j;
            }
        }
        return v - 1;
    }

    private static double[] add(double[] into, double[] from) {
        for (int i = 0; i < into.length; i++) {
            into[i] += from[i];
        }
        return into;
    }

    private static double gaussian(SplittableRandom random) {
        double u = random.nextDouble();
        double w = random.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * w);
    }
}
