package dev.softmaxbackward.spark;

import dev.softmaxbackward.reference.ReferenceBackend;
import dev.softmaxbackward.spi.RowNumerics;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/** Random rows (ordinary, constant, tiny constant, zeros, NaN) and a random segment-aligned shard layout. */
final class Batch {
    final int rows;
    final int cols;
    final double[] g;
    final double[] y;
    int[] bounds;

    private Batch(int rows, int cols) {
        this.rows = rows;
        this.cols = cols;
        g = new double[rows * cols];
        y = new double[rows * cols];
    }

    static Batch random(Random random, int rows, int cols) {
        Batch b = new Batch(rows, cols);
        for (int i = 0; i < rows * cols; i++) {
            int kind = (i / cols) % 6;
            b.y[i] = random.nextDouble() / cols;
            b.g[i] = switch (kind) {
                case 0, 1 -> random.nextGaussian();
                case 2 -> -0.75;
                case 3 -> 1e-300;
                case 4 -> 0.0;
                default -> i % cols == cols - 1 ? Double.NaN : random.nextGaussian();
            };
        }
        return b;
    }

    float[] f32(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    Object row(double[] a, int r, boolean isDouble) {
        double[] d = new double[cols];
        System.arraycopy(a, r * cols, d, 0, cols);
        return isDouble ? d : f32(d);
    }

    /** The unsharded reference result, float[] or double[]. */
    Object reference(boolean isDouble) {
        ReferenceBackend ref = new ReferenceBackend();
        if (isDouble) {
            double[] out = new double[g.length];
            ref.softmaxBackward(g, y, out, rows, cols);
            return out;
        }
        float[] out = new float[g.length];
        ref.softmaxBackward(f32(g), f32(y), out, rows, cols);
        return out;
    }

    /** Chunks of a fresh random layout of at most {@code maxShards} (and 16) shards, shuffled. */
    List<Row> chunks(Random random, boolean isDouble, int maxShards) {
        int segments = RowNumerics.segments(cols);
        int shards = 1 + random.nextInt(Math.min(Math.min(16, segments), maxShards));
        TreeSet<Integer> cuts = new TreeSet<>();
        while (cuts.size() < shards - 1) {
            cuts.add((1 + random.nextInt(segments - 1)) * RowNumerics.SEGMENT);
        }
        bounds = new int[shards + 1];
        int k = 1;
        for (int c : cuts) {
            bounds[k++] = c;
        }
        bounds[shards] = cols;
        List<Row> chunks = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            for (int s = 0; s < shards; s++) {
                int w = bounds[s + 1] - bounds[s];
                double[] gs = new double[w];
                double[] ys = new double[w];
                System.arraycopy(g, r * cols + bounds[s], gs, 0, w);
                System.arraycopy(y, r * cols + bounds[s], ys, 0, w);
                chunks.add(RowFactory.create((long) r, s, isDouble ? gs : f32(gs), isDouble ? ys : f32(ys)));
            }
        }
        java.util.Collections.shuffle(chunks, random);
        return chunks;
    }
}
