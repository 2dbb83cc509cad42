package dev.softmaxbackward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.reference.ReferenceBackend;
import dev.softmaxbackward.spi.RowNumerics;
import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class ShardedBackwardTest {
    private static final SoftmaxBackwardBackend REFERENCE = new ReferenceBackend();

    /** Random segment-aligned cuts of [0, cols) into 1..16 shards (fewer when the row is short). */
    static int[] randomCuts(Random random, int cols) {
        int segments = RowNumerics.segments(cols);
        int shards = 1 + random.nextInt(Math.min(16, segments));
        TreeSet<Integer> cuts = new TreeSet<>();
        while (cuts.size() < shards - 1) {
            cuts.add((1 + random.nextInt(segments - 1)) * RowNumerics.SEGMENT);
        }
        int[] bounds = new int[shards + 1];
        int i = 1;
        for (int c : cuts) {
            bounds[i++] = c;
        }
        bounds[shards] = cols;
        return bounds;
    }

    /** Rows with ordinary values, constant rows (also where the rule matters), zeros, NaN, mixed zeros. */
    static double[][] rows(Random random, int rows, int cols) {
        double[] g = new double[rows * cols];
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int kind = r % 7;
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                y[i] = random.nextDouble() / cols;
                g[i] = switch (kind) {
                    case 0, 1 -> random.nextGaussian();
                    case 2 -> 0.375;                               // constant
                    case 3 -> 1e-300;                              // constant, products underflow
                    case 4 -> (i & 1) == 0 ? 0.0 : -0.0;           // constant of mixed zeros
                    case 5 -> i == (r + 1) * cols - 1 ? Double.NaN : 1.5; // NaN in the last shard
                    default -> i == (r + 1) * cols - 1 ? 2.0 : 2.0 + (i % 2); // differs somewhere
                };
            }
            if (kind == 6) {
                Arrays.fill(y, r * cols, (r + 1) * cols, 0.0); // sum of y is zero: d = 0
                y[r * cols + cols / 2] = random.nextDouble();
            }
        }
        return new double[][] {g, y};
    }

    /** Columns [from, to) of every row of a row-major {@code float[]} or {@code double[]}, as a new array. */
    static Object slice(Object a, int rows, int cols, int from, int to) {
        Object out = Array.newInstance(a.getClass().getComponentType(), rows * (to - from));
        for (int r = 0; r < rows; r++) {
            System.arraycopy(a, r * cols + from, out, r * (to - from), to - from);
        }
        return out;
    }

    /**
     * The sharded pass with one backend for both phases, on {@code float[]} or {@code double[]} inputs;
     * returns the outputs re-assembled, of the inputs' type.
     */
    static Object sharded(SoftmaxBackwardBackend backend, Object g, Object y, int rows, int cols, int[] bounds) {
        boolean f32 = g instanceof float[];
        List<ShardPartials> partials = new ArrayList<>();
        for (int s = 0; s + 1 < bounds.length; s++) {
            Object gs = slice(g, rows, cols, bounds[s], bounds[s + 1]);
            Object ys = slice(y, rows, cols, bounds[s], bounds[s + 1]);
            int w = bounds[s + 1] - bounds[s];
            partials.add(f32 ? backend.shardPartials((float[]) gs, (float[]) ys, rows, w)
                    : backend.shardPartials((double[]) gs, (double[]) ys, rows, w));
        }
        Object means = f32 ? ShardedBackward.meansFloat(partials) : ShardedBackward.meansDouble(partials);
        Object out = Array.newInstance(g.getClass().getComponentType(), rows * cols);
        for (int s = 0; s + 1 < bounds.length; s++) {
            Object gs = slice(g, rows, cols, bounds[s], bounds[s + 1]);
            Object ys = slice(y, rows, cols, bounds[s], bounds[s + 1]);
            int w = bounds[s + 1] - bounds[s];
            Object o = Array.newInstance(g.getClass().getComponentType(), rows * w);
            if (f32) {
                backend.shardBackward((float[]) gs, (float[]) ys, (float[]) means, (float[]) o, rows, w);
            } else {
                backend.shardBackward((double[]) gs, (double[]) ys, (double[]) means, (double[]) o, rows, w);
            }
            for (int r = 0; r < rows; r++) {
                System.arraycopy(o, r * w, out, r * cols + bounds[s], w);
            }
        }
        return out;
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    @Test
    void randomShardLayoutsGiveTheUnshardedBitsFloat32AndFloat64() {
        Random random = new Random(14);
        int layouts = 0;
        for (int trial = 0; trial < 24; trial++) {
            int cols = (1 + random.nextInt(17)) * RowNumerics.SEGMENT - (trial % 3 == 0 ? 0 : random.nextInt(4000));
            int rows = 7;
            double[][] data = rows(random, rows, cols);
            int[] bounds = randomCuts(random, cols);
            layouts += bounds.length - 1;

            double[] expected64 = new double[rows * cols];
            REFERENCE.softmaxBackward(data[0], data[1], expected64, rows, cols);
            double[] actual64 = (double[]) sharded(REFERENCE, data[0], data[1], rows, cols, bounds);
            assertArrayEquals(bits(expected64), bits(actual64), "float64 cuts " + Arrays.toString(bounds));

            float[] g = toFloat(data[0]);
            float[] y = toFloat(data[1]);
            float[] expected32 = new float[rows * cols];
            REFERENCE.softmaxBackward(g, y, expected32, rows, cols);
            float[] actual32 = (float[]) sharded(REFERENCE, g, y, rows, cols, bounds);
            assertArrayEquals(bits(expected32), bits(actual32), "float32 cuts " + Arrays.toString(bounds));
        }
        assertTrue(layouts > 24, "some layouts have several shards");
    }

    /**
     * float64 rows near overflow (numerics §2, float64 step 3a): sums that overflow only in the segment
     * tree, inside segments, in sum(y); g - d overflowing; the same with a NaN or an infinity; a
     * constant row of MAX; an ordinary row.
     */
    static double[][] overflowRows(Random random, int rows, int cols) {
        double[] g = new double[rows * cols];
        double[] y = new double[rows * cols];
        double max = Double.MAX_VALUE;
        for (int r = 0; r < rows; r++) {
            int kind = r % 8;
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                double u = random.nextDouble();
                y[i] = switch (kind) {
                    case 0, 6 -> 1.0;
                    case 2 -> 1e308 * u;
                    case 3, 7 -> u / cols;
                    default -> u / 64;
                };
                g[i] = switch (kind) {
                    case 0 -> max / cols * (1.5 + u * 1e-3);
                    case 1, 4, 5 -> max * (u - 0.25);
                    case 2 -> random.nextGaussian() * 1e-10;
                    case 3 -> (i % 4 == 0 ? -max : max) * (1 - u * 1e-3);
                    case 6 -> max;
                    default -> random.nextGaussian();
                };
            }
            if (kind == 4) {
                g[r * cols + cols - 1] = Double.NaN;
            } else if (kind == 5) {
                g[r * cols + cols / 2] = Double.NEGATIVE_INFINITY;
            }
        }
        return new double[][] {g, y};
    }

    @Test
    void rowsNearOverflowGiveTheUnshardedBitsOnAnyLayout() {
        Random random = new Random(15);
        for (int trial = 0; trial < 12; trial++) {
            int cols = (2 + random.nextInt(6)) * RowNumerics.SEGMENT - random.nextInt(3000);
            int rows = 8;
            double[][] data = overflowRows(random, rows, cols);
            int[] bounds = randomCuts(random, cols);
            double[] expected = new double[rows * cols];
            REFERENCE.softmaxBackward(data[0], data[1], expected, rows, cols);
            for (int r : new int[] {0, 1, 2, 3, 6}) { // the rescaled rows come out finite
                for (int i = r * cols; i < (r + 1) * cols; i++) {
                    assertTrue(Double.isFinite(expected[i]), "row kind " + r + " entry " + (i - r * cols));
                }
            }
            double[] actual = (double[]) sharded(REFERENCE, data[0], data[1], rows, cols, bounds);
            assertArrayEquals(bits(expected), bits(actual), "cols " + cols + " cuts " + Arrays.toString(bounds));
        }
    }

    @Test
    void constantRowsAcrossShardsGiveZerosWhereTheSumsAloneWouldNot() {
        // g = 1e-300 constant: y*g underflows and d from the sums alone is not g (numerics.md §4).
        int cols = 3 * RowNumerics.SEGMENT;
        double[] g = new double[cols];
        double[] y = new double[cols];
        Random random = new Random(3);
        for (int i = 0; i < cols; i++) {
            g[i] = 1e-300;
            y[i] = random.nextDouble() / cols;
        }
        double[] out = (double[]) sharded(REFERENCE, g, y, 1, cols, new int[] {0, RowNumerics.SEGMENT, cols});
        for (double v : out) {
            assertEquals(0.0, Math.abs(v));
        }
        // One shard not constant: the rule must not fire, exactly as unsharded.
        g[cols - 1] = 2e-300;
        double[] expected = new double[cols];
        REFERENCE.softmaxBackward(g, y, expected, 1, cols);
        assertArrayEquals(bits(expected), bits((double[]) sharded(REFERENCE, g, y, 1, cols,
                new int[] {0, RowNumerics.SEGMENT, cols})));;
    }

    @Test
    void anUnalignedCutIsRejectedNamingTheCut() {
        ShardPartials first = REFERENCE.shardPartials(new float[5000], new float[5000], 1, 5000);
        ShardPartials second = REFERENCE.shardPartials(new float[100], new float[100], 1, 100);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ShardedBackward.meansFloat(List.of(first, second)));
        assertEquals("shard 1 starts at column 5000, a cut that is not a multiple of 4096 (RowNumerics.SEGMENT)",
                e.getMessage());
    }

    @Test
    void mismatchedShardsAreRejected() {
        ShardPartials a = REFERENCE.shardPartials(new float[4096], new float[4096], 1, 4096);
        ShardPartials b = REFERENCE.shardPartials(new double[8], new double[8], 2, 4);
        assertEquals("shards[1] holds float64 partials, expected float32",
                assertThrows(IllegalArgumentException.class, () -> ShardedBackward.meansFloat(List.of(a, b))).getMessage());
        ShardPartials c = REFERENCE.shardPartials(new float[8], new float[8], 2, 4);
        assertEquals("shards[1].rows 2 != shards[0].rows 1",
                assertThrows(IllegalArgumentException.class, () -> ShardedBackward.meansFloat(List.of(a, c))).getMessage());
        assertEquals("means.length 1 != rows 2", assertThrows(IllegalArgumentException.class,
                () -> REFERENCE.shardBackward(new float[8], new float[8], new float[1], new float[8], 2, 4)).getMessage());
        assertEquals("gradOut.length 7 != rows*cols = 2*4", assertThrows(IllegalArgumentException.class,
                () -> REFERENCE.shardPartials(new float[7], new float[8], 2, 4)).getMessage());
    }

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    static long[] bits(double[] a) {
        long[] b = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Double.doubleToRawLongBits(a[i]);
        }
        return b;
    }
}
