package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;

import dev.softmaxbackward.spi.Arguments;
import dev.softmaxbackward.spi.RowNumerics;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The forward softmax and the cross-entropy gradient, one row at a time, in the reference's exact
 * steps. Neither is a bandwidth target: the forward pass is dominated by the exp, which must be
 * {@link StrictMath#exp}'s bits (bit-identity with every Java backend); {@link FdlibmExp} computes them
 * once per entry into the scratch row, reused for the output instead of being recomputed as the
 * reference does. The max, the exps and the sums run {@code VectorRowOps} when {@code jdk.incubator.vector}
 * is in the boot layer and {@value Kernels#VECTOR_PROPERTY} is not {@code false} (the backward kernel's
 * choice), else the scalar loops here; both give the same bits.
 */
final class RowOps {
    private static final Logger LOG = LoggerFactory.getLogger(CpuBackend.class);

    /**
     * Entries per call of {@link Loops#expShiftedVectors}: a chunk with an entry outside the general path
     * (tiny, underflowing, NaN) is rescanned vector by vector, so one such entry costs a rescan of 2048
     * entries, not of the whole row.
     */
    private static final int EXP_CHUNK = 2048;

    private RowOps() {}

    /** The forward pass's loops on the Vector API ({@code VectorRowOps}), loaded by name so that no class links the incubator module when it is absent. */
    interface Loops {
        /** The largest of {@code x[0, n)} (NaN if any is NaN; -Inf for n = 0): {@link Math#max}'s, but a zero's sign may differ. */
        double max(double[] x, int n);

        /** The lanes of a vector: the vector part of a row is its first {@code n - n % length()} entries. */
        int length();

        /**
         * {@code out[i] = exp(x[i] - shift)} for {@code [from, to)}, whole vectors, by e_exp.c's general
         * path only: right for the vectors of which {@link #general} holds. Returns whether it holds for all.
         */
        boolean expShiftedVectors(double[] x, double shift, double[] out, int from, int to);

        /** Whether {@code exp(x[j] - shift)} for the vector at {@code i} is in the general path. */
        boolean general(double[] x, double shift, int i);

        /** The canonical float64 partials of {@code e[0, cols)}'s segments into {@code s.segAS}; returns their number. */
        int plainSums(double[] e, int cols, Scratch s);

        /** The canonical double-double partials of {@code e[0, cols)}'s segments into {@code s.segAS/segAC}; returns their number. */
        int compensatedSums(double[] e, int cols, Scratch s);
    }

    private static final class Holder {
        static final Loops VECTOR = load();
    }

    private static Loops load() {
        if ("false".equalsIgnoreCase(System.getProperty(Kernels.VECTOR_PROPERTY, "").strip())
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return null;
        }
        try {
            return Class.forName("dev.softmaxbackward.cpu.VectorRowOps").asSubclass(Loops.class)
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.debug("softmax-backward cpu: the Vector API row loops cannot load: {}", e.toString());
            return null;
        }
    }

    /** Which loops the forward pass runs: "vector(...)" or "scalar". */
    static String loop() {
        return Holder.VECTOR == null ? "scalar" : Holder.VECTOR.toString();
    }

    /** {@code out[i] = exp(x[i] - shift)} for {@code i < n}: the exps of a softmax row. */
    static void expShifted(double[] x, double shift, double[] out, int n) {
        expShifted(Holder.VECTOR, x, shift, out, n);
    }

    /**
     * {@link #expShifted} by {@code loops}' vectors, the vectors outside their general path and the tail
     * by the scalar {@link FdlibmExp#exp}; all by the scalar exp if {@code loops} is null.
     */
    static void expShifted(Loops loops, double[] x, double shift, double[] out, int n) {
        if (loops == null) {
            FdlibmExp.scalarExpShifted(x, shift, out, 0, n);
            return;
        }
        int l = loops.length();
        int vectors = n - n % l;
        for (int from = 0; from < vectors; from += EXP_CHUNK) {
            int to = Math.min(vectors, from + EXP_CHUNK);
            if (!loops.expShiftedVectors(x, shift, out, from, to)) {
                for (int i = from; i < to; i += l) {
                    if (!loops.general(x, shift, i)) {
                        FdlibmExp.scalarExpShifted(x, shift, out, i, i + l);
                    }
                }
            }
        }
        FdlibmExp.scalarExpShifted(x, shift, out, vectors, n);
    }

    /**
     * The largest of {@code x[0, n)}, NaN if any is NaN: {@link Math#max}'s, but the vector loop may give
     * -0 for +0. That changes no {@code x - max} but a zero's, and {@code exp(-0) = exp(+0)}: the shift only.
     */
    static double max(double[] x, int n) {
        Loops v = Holder.VECTOR;
        if (v != null) {
            return v.max(x, n);
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < n; k++) {
            max = Math.max(max, x[k]);
        }
        return max;
    }

    static void softmax(float[] x, float[] out, int base, int cols, Scratch s) {
        double[] in = s.input();
        for (int k = 0; k < cols; k++) {
            in[k] = x[base + k]; // exact
        }
        double sum = exps(in, max(in, cols), cols, false, s);
        double[] e = s.row();
        for (int k = 0; k < cols; k++) {
            out[base + k] = (float) (e[k] / sum);
        }
    }

    static void softmax(double[] x, double[] out, int base, int cols, Scratch s) {
        double[] in = s.input();
        System.arraycopy(x, base, in, 0, cols);
        double sum = exps(in, max(in, cols), cols, true, s);
        double[] e = s.row();
        for (int k = 0; k < cols; k++) {
            out[base + k] = e[k] / sum;
        }
    }

    /**
     * The reference's softmax steps up to the division, for one row already widened to float64 in
     * {@code x[0, cols)} whose {@link #max} is {@code max}: {@code e[k] = exp(x[k] - max)} into {@link Scratch#row()}, and their canonical
     * sum, returned: double-double for float64 rows ({@code compensated}), float64 otherwise (float32
     * rows, and 16-bit rows, which follow the float32 steps). Each output is then {@code e[k] / sum}
     * rounded once to the row's dtype.
     */
    static double exps(double[] x, double max, int cols, boolean compensated, Scratch s) {
        if (cols == 0) {
            return 0.0;
        }
        double[] e = s.row();
        expShifted(x, max, e, cols); // StrictMath.exp's bits, without its native call
        return compensated ? compensatedSum(e, cols, s) : plainSum(e, cols, s);
    }

    /** The canonical order with float64 accumulators. */
    private static double plainSum(double[] e, int cols, Scratch s) {
        Loops v = Holder.VECTOR;
        if (v != null) {
            return RowNumerics.reduceSegments(s.segAS, v.plainSums(e, cols, s));
        }
        double[] a = s.aS;
        int segments = SegmentWalk.walk(cols, (seg, start, full, length) -> {
            Arrays.fill(a, 0.0);
            for (int k = 0; k < length; k++) {
                int l = k & (LANES - 1);
                a[l] = a[l] + e[start + k];
            }
            s.segAS[seg] = RowNumerics.reduceLanes(a);
        });
        return RowNumerics.reduceSegments(s.segAS, segments);
    }

    /**
     * The canonical order with double-double accumulators (plain TwoSum steps), rounded by {@code value}:
     * the {@code sum(y)} half of the float64 kernel's sums, with {@code e} as both operands (the other
     * half is not needed; the exp dominates this row's cost).
     */
    private static double compensatedSum(double[] e, int cols, Scratch s) {
        Loops v = Holder.VECTOR;
        int segments;
        if (v != null) {
            segments = v.compensatedSums(e, cols, s);
        } else {
            segments = RowNumerics.segments(cols);
            ScalarKernel.sums(e, 0, e, 0, cols, s);
        }
        RowNumerics.reduceSegments(s.segAS, s.segAC, segments);
        return RowNumerics.value(s.segAS[0], s.segAC[0]);
    }

    static void crossEntropyBackward(float[] y, int label, float scale, float[] out, int base, int cols) {
        double sc = scale;
        for (int i = 0; i < cols; i++) {
            out[base + i] = (float) crossEntropyGradient(y[base + i], i, label, sc);
        }
    }

    static void crossEntropyBackward(double[] y, int label, double scale, double[] out, int base, int cols) {
        for (int i = 0; i < cols; i++) {
            out[base + i] = crossEntropyGradient(y[base + i], i, label, scale);
        }
    }

    /**
     * Entry {@code i} of a row's cross-entropy gradient before its rounding to the row's dtype:
     * {@code scale * (y - onehot(label))} in float64, +0.0 on an ignored row. For float32 (and 16-bit)
     * rows {@code scale} is a float32 value and {@code y} a widened entry, so this is the reference's
     * float64 value, which the caller rounds once.
     */
    static double crossEntropyGradient(double y, int i, int label, double scale) {
        return label == Arguments.IGNORE_INDEX ? 0.0 : scale * (y - (i == label ? 1.0 : 0.0));
    }
}
