package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.RowNumerics;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The fused kernel in plain Java: used when the Vector API module is not in the boot layer (or is
 * switched off), and for float16/bfloat16. Same canonical order as the reference, written as 32
 * accumulators fed by 32 contiguous entries at a time; C2 compiles it to scalar code (JDK 17's
 * auto-vectoriser does not convert float to double), so it runs at a fraction of memory bandwidth.
 */
final class ScalarKernel implements RowKernel {
    static final ScalarKernel INSTANCE = new ScalarKernel();

    private ScalarKernel() {}

    @Override
    public String name() {
        return "scalar";
    }

    // ---- float32 ----------------------------------------------------------------------------------

    @Override
    public void backward(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        double[] a = s.aS;
        double[] b = s.bS;
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            Arrays.fill(a, 0.0);
            Arrays.fill(b, 0.0);
            int full = length & -LANES;
            for (int k = 0; k < full; k += LANES) {
                int yi = yo + start + k;
                int gi = go + start + k;
                for (int l = 0; l < LANES; l++) {
                    double yv = y[yi + l];
                    a[l] = a[l] + yv;
                    b[l] = b[l] + yv * (double) g[gi + l];
                }
            }
            for (int l = 0; l < length - full; l++) {
                double yv = y[yo + start + full + l];
                a[l] = a[l] + yv;
                b[l] = b[l] + yv * (double) g[go + start + full + l];
            }
            s.segAS[seg] = RowNumerics.reduceLanes(a);
            s.segBS[seg] = RowNumerics.reduceLanes(b);
        }
        float d = RowNumerics.constantRowMean(mean32(s, segments), g, go, go + cols);
        for (int i = 0; i < cols; i++) {
            out[oo + i] = (float) ((double) y[yo + i] * ((double) g[go + i] - d));
        }
    }

    @Override
    public void backwardFloat(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                              Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        double[] a = s.aS;
        double[] b = s.bS;
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            Arrays.fill(a, 0.0);
            Arrays.fill(b, 0.0);
            for (int k = 0; k < length; k++) {
                int l = k & (LANES - 1);
                double yv = y.getFloat(yo + 4 * (start + k));
                a[l] = a[l] + yv;
                b[l] = b[l] + yv * (double) g.getFloat(go + 4 * (start + k));
            }
            s.segAS[seg] = RowNumerics.reduceLanes(a);
            s.segBS[seg] = RowNumerics.reduceLanes(b);
        }
        float d = constantRowMeanFloat(mean32(s, segments), g, go, cols);
        for (int i = 0; i < cols; i++) {
            out.putFloat(oo + 4 * i, (float) ((double) y.getFloat(yo + 4 * i) * ((double) g.getFloat(go + 4 * i) - d)));
        }
    }

    /**
     * float16 ({@code bf16 == false}) or bfloat16 rows: entries widen exactly to float, then exactly the
     * float32 steps (float64 sums, {@code d} rounded to float32), and each output {@code y * (g - d)},
     * evaluated in float64, is rounded once, to nearest even, to the 16-bit format.
     */
    static void backward16(boolean bf16, ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo,
                           int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        double[] a = s.aS;
        double[] b = s.bS;
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            Arrays.fill(a, 0.0);
            Arrays.fill(b, 0.0);
            for (int k = 0; k < length; k++) {
                int l = k & (LANES - 1);
                double yv = Float16.toFloat(bf16, y.getShort(yo + 2 * (start + k)));
                a[l] = a[l] + yv;
                b[l] = b[l] + yv * (double) Float16.toFloat(bf16, g.getShort(go + 2 * (start + k)));
            }
            s.segAS[seg] = RowNumerics.reduceLanes(a);
            s.segBS[seg] = RowNumerics.reduceLanes(b);
        }
        float d = constantRowMean16(bf16, mean32(s, segments), g, go, cols);
        for (int i = 0; i < cols; i++) {
            double yv = Float16.toFloat(bf16, y.getShort(yo + 2 * i));
            double gv = Float16.toFloat(bf16, g.getShort(go + 2 * i));
            out.putShort(oo + 2 * i, Float16.fromDouble(bf16, yv * (gv - d)));
        }
    }

    // ---- float64 ----------------------------------------------------------------------------------

    @Override
    public void backward(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            s.clearLanes();
            for (int k = 0; k < length; k++) {
                int l = k & (LANES - 1);
                accumulate(s, l, y[yo + start + k], g[go + start + k]);
            }
            finishSegment(s, seg);
        }
        double d = RowNumerics.constantRowMean(mean64(s, segments), g, go, go + cols);
        if (finishedRare(g, go, y, yo, out, oo, cols, s, d)) {
            return;
        }
        for (int i = 0; i < cols; i++) {
            out[oo + i] = y[yo + i] * (g[go + i] - d);
        }
    }

    @Override
    public void backwardDouble(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                               Scratch s) {
        if (cols == 0) {
            return;
        }
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            s.clearLanes();
            for (int k = 0; k < length; k++) {
                int l = k & (LANES - 1);
                accumulate(s, l, y.getDouble(yo + 8 * (start + k)), g.getDouble(go + 8 * (start + k)));
            }
            finishSegment(s, seg);
        }
        double d = constantRowMeanDouble(mean64(s, segments), g, go, cols);
        if (finishedRare(g, go, y, yo, out, oo, cols, s, d)) {
            return;
        }
        for (int i = 0; i < cols; i++) {
            out.putDouble(oo + 8 * i, y.getDouble(yo + 8 * i) * (g.getDouble(go + 8 * i) - d));
        }
    }

    /** One entry into lane {@code l} of both double-double sums, exactly the reference's steps. */
    static void accumulate(Scratch scratch, int l, double yv, double gv) {
        double[] aS = scratch.aS;
        double[] aC = scratch.aC;
        double[] bS = scratch.bS;
        double[] bC = scratch.bC;
        // sum(y): TwoSum(s, y), c += e
        double s = aS[l];
        double sum = s + yv;
        double v = sum - s;
        double e = (s - (sum - v)) + (yv - v);
        aS[l] = sum;
        aC[l] = aC[l] + e;
        // sum(y*g): TwoProd(y, g) = p + q, TwoSum(s, p), c += q + e
        double p = yv * gv;
        double q = Math.fma(yv, gv, -p);
        s = bS[l];
        sum = s + p;
        v = sum - s;
        e = (s - (sum - v)) + (p - v);
        bS[l] = sum;
        bC[l] = bC[l] + (q + e);
    }

    /** Reduces the lanes of both double-double sums into segment {@code seg}'s partials. */
    static void finishSegment(Scratch s, int seg) {
        RowNumerics.reduceLanes(s.aS, s.aC);
        RowNumerics.reduceLanes(s.bS, s.bC);
        s.segAS[seg] = s.aS[0];
        s.segAC[seg] = s.aC[0];
        s.segBS[seg] = s.bS[0];
        s.segBC[seg] = s.bC[0];
    }

    // ---- the constant-row rule (RowNumerics.constantRowMean) on buffers ------------------------------
    // Same steps as RowNumerics.constantRowMean: when d != g[0] and every g[i] == g[0] (IEEE equality),
    // d becomes g[0] (unless it is NaN), so a constant row gives exact zeros whatever the sums did.

    static float constantRowMeanFloat(float d, ByteBuffer g, int go, int cols) {
        float first = g.getFloat(go);
        if (d == first || cols <= 0) {
            return d;
        }
        for (int i = 1; i < cols; i++) {
            if (g.getFloat(go + 4 * i) != first) {
                return d;
            }
        }
        return first == first ? first : d;
    }

    static double constantRowMeanDouble(double d, ByteBuffer g, int go, int cols) {
        double first = g.getDouble(go);
        if (d == first || cols <= 0) {
            return d;
        }
        for (int i = 1; i < cols; i++) {
            if (g.getDouble(go + 8 * i) != first) {
                return d;
            }
        }
        return first == first ? first : d;
    }

    /** On the entries widened to float, as the float32 rule on those floats. */
    static float constantRowMean16(boolean bf16, float d, ByteBuffer g, int go, int cols) {
        float first = Float16.toFloat(bf16, g.getShort(go));
        if (d == first || cols <= 0) {
            return d;
        }
        for (int i = 1; i < cols; i++) {
            if (Float16.toFloat(bf16, g.getShort(go + 2 * i)) != first) {
                return d;
            }
        }
        return first == first ? first : d;
    }

    /** The segment tree over both float64 sums, then {@code d} for float32 (and 16-bit) inputs. */
    static float mean32(Scratch s, int segments) {
        double sumY = RowNumerics.reduceSegments(s.segAS, segments);
        double sumYG = RowNumerics.reduceSegments(s.segBS, segments);
        return RowNumerics.weightedMean(sumYG, sumY);
    }

    /**
     * Every float64 kernel's one test per row after {@link #mean64} (which leaves the plain sums in
     * {@code segAS[0]}, {@code segBS[0]}): when {@link RowNumerics#needsFinishRow} picks the row (sums
     * that overflowed, {@code |d| >= 2^970}, NaN), core's {@link RowNumerics#finishRow} computes its
     * outputs and this returns true; the fast output loop is never reached for it.
     */
    static boolean finishedRare(double[] g, int go, double[] y, int yo, double[] out, int oo, int cols, Scratch s,
                                double d) {
        if (!RowNumerics.needsFinishRow(s.segAS[0], s.segBS[0], d)) {
            return false;
        }
        RowNumerics.finishRow(g, go, y, yo, out, oo, cols, s.segAS[0], s.segBS[0], d);
        return true;
    }

    /** {@link #finishedRare(double[], int, double[], int, double[], int, int, Scratch, double)} on INDArray rows, via the heap. */
    static boolean finishedRare(ByteBuffer g, int go, ByteBuffer y, int yo, ByteBuffer out, int oo, int cols,
                                Scratch s, double d) {
        if (!RowNumerics.needsFinishRow(s.segAS[0], s.segBS[0], d)) {
            return false;
        }
        double[] gr = s.doubles(0);
        double[] yr = s.doubles(1);
        g.slice(go, 8 * cols).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(0, gr, 0, cols);
        y.slice(yo, 8 * cols).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(0, yr, 0, cols);
        RowNumerics.finishRow(gr, 0, yr, 0, gr, 0, cols, s.segAS[0], s.segBS[0], d);
        out.slice(oo, 8 * cols).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(0, gr, 0, cols);
        return true;
    }

    /** The segment tree over both sums, then {@code d} for float64 inputs. */
    static double mean64(Scratch s, int segments) {
        RowNumerics.reduceSegments(s.segAS, s.segAC, segments);
        RowNumerics.reduceSegments(s.segBS, s.segBC, segments);
        return RowNumerics.weightedMean(s.segBS[0], s.segBC[0], s.segAS[0], s.segAC[0]);
    }
}
