package dev.softmaxbackward.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.softmaxbackward.ShardPartials;
import dev.softmaxbackward.ShardedBackward;
import dev.softmaxbackward.reference.ReferenceBackend;
import dev.softmaxbackward.spi.RowNumerics;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** cpu's phases, on several threads, against the reference's unsharded bits; cpu and reference partials mix. */
class CpuShardsTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final RowExecutor EXECUTOR = new RowExecutor(3);

    @AfterAll
    static void stop() {
        EXECUTOR.shutdown();
    }

    @Test
    void shardedCpuEqualsUnshardedReferenceBitForBit() {
        Random random = new Random(41);
        for (int trial = 0; trial < 12; trial++) {
            int rows = 9;
            int cols = (1 + random.nextInt(12)) * RowNumerics.SEGMENT - random.nextInt(3000);
            int segments = RowNumerics.segments(cols);
            // random segment-aligned cuts, 1..16 shards
            int shards = 1 + random.nextInt(Math.min(16, segments));
            int[] bounds = segments == 1 ? new int[0] : random.ints(1, segments).distinct().limit(shards - 1).sorted()
                    .map(s -> s * RowNumerics.SEGMENT).toArray();
            bounds = concat(bounds, cols);
            double[] g = new double[rows * cols];
            double[] y = new double[rows * cols];
            for (int i = 0; i < g.length; i++) {
                int r = i / cols;
                y[i] = random.nextDouble() / cols;
                g[i] = r % 4 == 0 ? 0.25 : r % 4 == 1 ? 1e-300 : r % 4 == 2 && i % cols == 5 ? Double.NaN
                        : random.nextGaussian();
            }
            assertShardedEqualsReference(g, y, rows, cols, bounds);
        }
    }

    @Test
    void rowsNearOverflowShardedEqualUnshardedReferenceBitForBit() {
        Random random = new Random(43);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(44);
        for (int trial = 0; trial < 8; trial++) {
            int rows = 12;
            int cols = (2 + random.nextInt(6)) * RowNumerics.SEGMENT - random.nextInt(3000);
            int segments = RowNumerics.segments(cols);
            int shards = 2 + random.nextInt(Math.min(15, segments - 1));
            int[] bounds = concat(random.ints(1, segments).distinct().limit(shards - 1).sorted()
                    .map(s -> s * RowNumerics.SEGMENT).toArray(), cols);
            double[] y = new double[rows * cols];
            double[] g = Data.nearOverflowG(rnd, y, rows, cols);
            assertShardedEqualsReference(g, y, rows, cols, bounds);
        }
    }

    /** Phase 1 alternately by the cpu backend and the reference, phase 2 by the cpu: the reference's unsharded bits. */
    private static void assertShardedEqualsReference(double[] g, double[] y, int rows, int cols, int[] bounds) {
        float[] gf = new float[g.length];
        float[] yf = new float[y.length];
        for (int i = 0; i < g.length; i++) {
            gf[i] = (float) g[i];
            yf[i] = (float) y[i];
        }
        double[] expected = new double[g.length];
        REFERENCE.softmaxBackward(g, y, expected, rows, cols);
        float[] expectedF = new float[g.length];
        REFERENCE.softmaxBackward(gf, yf, expectedF, rows, cols);

        List<ShardPartials> p64 = new ArrayList<>();
        List<ShardPartials> p32 = new ArrayList<>();
        for (int s = 0; s + 1 < bounds.length; s++) {
            int w = bounds[s + 1] - bounds[s];
            double[] gs = slice(g, rows, cols, bounds[s], w);
            double[] ys = slice(y, rows, cols, bounds[s], w);
            float[] gfs = slice(gf, rows, cols, bounds[s], w);
            float[] yfs = slice(yf, rows, cols, bounds[s], w);
            // odd shards' partials from the reference: both must be the same numbers
            p64.add(s % 2 == 0 ? CpuShards.partials(EXECUTOR, gs, ys, rows, w) : REFERENCE.shardPartials(gs, ys, rows, w));
            p32.add(s % 2 == 0 ? CpuShards.partials(EXECUTOR, gfs, yfs, rows, w)
                    : REFERENCE.shardPartials(gfs, yfs, rows, w));
        }
        double[] d64 = ShardedBackward.meansDouble(p64);
        float[] d32 = ShardedBackward.meansFloat(p32);
        double[] actual = new double[g.length];
        float[] actualF = new float[g.length];
        for (int s = 0; s + 1 < bounds.length; s++) {
            int w = bounds[s + 1] - bounds[s];
            double[] o = new double[rows * w];
            CpuShards.backward(EXECUTOR, slice(g, rows, cols, bounds[s], w), slice(y, rows, cols, bounds[s], w),
                    d64, o, rows, w);
            float[] of = new float[rows * w];
            CpuShards.backward(EXECUTOR, slice(gf, rows, cols, bounds[s], w), slice(yf, rows, cols, bounds[s], w),
                    d32, of, rows, w);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(o, r * w, actual, r * cols + bounds[s], w);
                System.arraycopy(of, r * w, actualF, r * cols + bounds[s], w);
            }
        }
        String layout = Arrays.toString(bounds);
        assertArrayEquals(Arrays.stream(expected).mapToLong(Double::doubleToRawLongBits).toArray(),
                Arrays.stream(actual).mapToLong(Double::doubleToRawLongBits).toArray(), "float64 " + layout);
        for (int i = 0; i < expectedF.length; i++) {
            if (Float.floatToRawIntBits(expectedF[i]) != Float.floatToRawIntBits(actualF[i])) {
                throw new AssertionError("float32 " + layout + " differs at " + i + ": " + expectedF[i] + " vs " + actualF[i]);
            }
        }
    }

    private static int[] concat(int[] cuts, int cols) {
        int[] b = new int[cuts.length + 2];
        System.arraycopy(cuts, 0, b, 1, cuts.length);
        b[b.length - 1] = cols;
        return b;
    }

    private static double[] slice(double[] a, int rows, int cols, int from, int w) {
        double[] out = new double[rows * w];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(a, r * cols + from, out, r * w, w);
        }
        return out;
    }

    private static float[] slice(float[] a, int rows, int cols, int from, int w) {
        float[] out = new float[rows * w];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(a, r * cols + from, out, r * w, w);
        }
        return out;
    }
}
