package dev.softmaxbackward.conformance;

import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Every bad input of docs/contract.md §5, for all six methods: the documented exception, a message
 * that names the argument and the number, and an output array that still holds its sentinel (nothing
 * written before validation passed).
 */
public final class BadInputs {
    private static final int ROWS = 2;
    private static final int COLS = 4;
    private static final int N = ROWS * COLS;

    private BadInputs() {}

    /** A sentinel-filled output array of {@code n} entries: {@code float[]} or {@code double[]}. */
    private static Object out(boolean f32, int n) {
        Output o = Output.sentinel(f32 ? DType.FLOAT32 : DType.FLOAT64, n);
        return f32 ? o.floats() : o.doubles();
    }

    /** {@code count} of those, of {@code N} entries each, one per case so that no case sees another's writes. */
    private static Object[] outs(boolean f32, int count) {
        Object[] out = new Object[count];
        for (int k = 0; k < count; k++) {
            out[k] = out(f32, N);
        }
        return out;
    }

    /** The check: the call throws {@code type}, the message mentions each string, output untouched. */
    static Runnable rejects(Class<? extends RuntimeException> type, Runnable call, Object output,
                            String... mentions) {
        return () -> {
            RuntimeException e = thrown(type, call);
            String m = e.getMessage();
            if (m == null) {
                throw new AssertionError("exception without a message: " + e, e);
            }
            for (String s : mentions) {
                if (!m.contains(s)) {
                    throw new AssertionError("message '" + m + "' should mention '" + s + "'", e);
                }
            }
            Checks.allSentinel(output);
        };
    }

    private static RuntimeException thrown(Class<? extends RuntimeException> type, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            if (!type.isInstance(e)) {
                throw new AssertionError("expected " + type.getName() + ", got " + e, e);
            }
            return e;
        }
        throw new AssertionError("expected " + type.getName() + ", but nothing was thrown");
    }

    /** Every bad input of docs/contract.md §5 for all six methods, one {@link Case} each. */
    public static List<Case> all(SoftmaxBackwardBackend b) {
        List<Case> t = new ArrayList<>();
        Class<NullPointerException> npe = NullPointerException.class;
        Class<IllegalArgumentException> iae = IllegalArgumentException.class;
        String big = "65536";

        // softmaxBackward, float32 and float64
        for (boolean f32 : new boolean[] {true, false}) {
            String m = "softmaxBackward " + (f32 ? "float32" : "float64") + ": ";
            Object[] out = outs(f32, 12);
            t.add(new Case(m + "gradOut null", rejects(npe, () -> sb(b, f32, null, arr(f32, N), out[0], ROWS, COLS),
                    out[0], "gradOut")));
            t.add(new Case(m + "softmaxOut null", rejects(npe,
                    () -> sb(b, f32, arr(f32, N), null, out[1], ROWS, COLS), out[1], "softmaxOut")));
            t.add(new Case(m + "gradIn null", rejects(npe, () -> sb(b, f32, arr(f32, N), arr(f32, N), null, ROWS, COLS),
                    null, "gradIn")));
            t.add(new Case(m + "rows -1", rejects(iae, () -> sb(b, f32, arr(f32, N), arr(f32, N), out[2], -1, COLS),
                    out[2], "rows", "-1")));
            t.add(new Case(m + "cols -3", rejects(iae, () -> sb(b, f32, arr(f32, N), arr(f32, N), out[3], ROWS, -3),
                    out[3], "cols", "-3")));
            t.add(new Case(m + "rows*cols = 65536*65536 overflows int (wraps to 0; arrays empty)", rejects(iae,
                    () -> sb(b, f32, arr(f32, 0), arr(f32, 0), out(f32, 0), 65536, 65536), null,
                    "rows", "cols", big)));
            t.add(new Case(m + "rows*cols = 46341*46341 overflows int", rejects(iae,
                    () -> sb(b, f32, arr(f32, N), arr(f32, N), out[4], 46341, 46341), out[4], "rows", "cols", "46341")));
            t.add(new Case(m + "gradOut.length 6 != 2*4", rejects(iae,
                    () -> sb(b, f32, arr(f32, 6), arr(f32, N), out[5], ROWS, COLS), out[5], "gradOut", "6")));
            t.add(new Case(m + "softmaxOut.length 9 != 2*4", rejects(iae,
                    () -> sb(b, f32, arr(f32, N), arr(f32, 9), out[6], ROWS, COLS), out[6], "softmaxOut", "9")));
            Object long9 = out(f32, 9);
            t.add(new Case(m + "gradIn.length 9 != 2*4", rejects(iae,
                    () -> sb(b, f32, arr(f32, N), arr(f32, N), long9, ROWS, COLS), long9, "gradIn", "9")));
            Object short7 = out(f32, 7);
            t.add(new Case(m + "gradIn.length 7 != 2*4", rejects(iae,
                    () -> sb(b, f32, arr(f32, N), arr(f32, N), short7, ROWS, COLS), short7, "gradIn", "7")));
        }

        // softmax, float32 and float64
        for (boolean f32 : new boolean[] {true, false}) {
            String m = "softmax " + (f32 ? "float32" : "float64") + ": ";
            Object[] out = outs(f32, 8);
            t.add(new Case(m + "logits null", rejects(npe, () -> sm(b, f32, null, out[0], ROWS, COLS), out[0],
                    "logits")));
            t.add(new Case(m + "out null", rejects(npe, () -> sm(b, f32, arr(f32, N), null, ROWS, COLS), null, "out")));
            t.add(new Case(m + "rows -1", rejects(iae, () -> sm(b, f32, arr(f32, N), out[1], -1, COLS), out[1],
                    "rows", "-1")));
            t.add(new Case(m + "cols -3", rejects(iae, () -> sm(b, f32, arr(f32, N), out[2], ROWS, -3), out[2],
                    "cols", "-3")));
            t.add(new Case(m + "rows*cols = 65536*65536 overflows int", rejects(iae,
                    () -> sm(b, f32, arr(f32, 0), out(f32, 0), 65536, 65536), null, "rows", "cols", big)));
            t.add(new Case(m + "logits.length 7 != 2*4", rejects(iae, () -> sm(b, f32, arr(f32, 7), out[3], ROWS, COLS),
                    out[3], "logits", "7")));
            Object long9 = out(f32, 9);
            t.add(new Case(m + "out.length 9 != 2*4", rejects(iae, () -> sm(b, f32, arr(f32, N), long9, ROWS, COLS),
                    long9, "out", "9")));
        }

        // crossEntropyBackward, float32 and float64
        for (boolean f32 : new boolean[] {true, false}) {
            String m = "crossEntropyBackward " + (f32 ? "float32" : "float64") + ": ";
            Object[] out = outs(f32, 16);
            int[] ok = {1, -100};
            t.add(new Case(m + "softmaxOut null", rejects(npe, () -> ce(b, f32, null, ok, out[0], ROWS, COLS), out[0],
                    "softmaxOut")));
            t.add(new Case(m + "labels null", rejects(npe, () -> ce(b, f32, arr(f32, N), null, out[1], ROWS, COLS),
                    out[1], "labels")));
            t.add(new Case(m + "gradIn null", rejects(npe, () -> ce(b, f32, arr(f32, N), ok, null, ROWS, COLS), null,
                    "gradIn")));
            t.add(new Case(m + "rows -1", rejects(iae, () -> ce(b, f32, arr(f32, N), ok, out[2], -1, COLS), out[2],
                    "rows", "-1")));
            t.add(new Case(m + "cols -3", rejects(iae, () -> ce(b, f32, arr(f32, N), ok, out[3], ROWS, -3), out[3],
                    "cols", "-3")));
            t.add(new Case(m + "rows*cols = 65536*65536 overflows int", rejects(iae,
                    () -> ce(b, f32, arr(f32, 0), new int[65536], out(f32, 0), 65536, 65536), null,
                    "rows", "cols", big)));
            t.add(new Case(m + "softmaxOut.length 7 != 2*4", rejects(iae,
                    () -> ce(b, f32, arr(f32, 7), ok, out[4], ROWS, COLS), out[4], "softmaxOut", "7")));
            Object long9 = out(f32, 9);
            t.add(new Case(m + "gradIn.length 9 != 2*4", rejects(iae,
                    () -> ce(b, f32, arr(f32, N), ok, long9, ROWS, COLS), long9, "gradIn", "9")));
            t.add(new Case(m + "labels.length 3 != rows 2", rejects(iae,
                    () -> ce(b, f32, arr(f32, N), new int[] {0, 1, 2}, out[5], ROWS, COLS), out[5], "labels", "3")));
            t.add(new Case(m + "labels.length 1 != rows 2", rejects(iae,
                    () -> ce(b, f32, arr(f32, N), new int[] {0}, out[6], ROWS, COLS), out[6], "labels", "1")));
            int[][] badLabels = {{0, 4}, {0, -1}, {-101, 0}, {Integer.MIN_VALUE, 0}, {1, Integer.MAX_VALUE}, {7, -100}};
            for (int k = 0; k < badLabels.length; k++) {
                int[] labels = badLabels[k];
                int bad = labels[0] >= 0 && labels[0] < COLS ? 1 : 0;
                Object o = out[7 + k];
                t.add(new Case(m + "labels " + Arrays.toString(labels) + " with cols 4: label out of range", rejects(iae,
                        () -> ce(b, f32, arr(f32, N), labels, o, ROWS, COLS), o, "labels[" + bad + "]",
                        Integer.toString(labels[bad]))));
            }
            // the bad label in the last of many rows: a backend that writes row by row as it checks fails here
            int rows = 64;
            int[] lastBad = new int[rows];
            lastBad[rows - 1] = COLS;
            Object wide = out(f32, rows * COLS);
            t.add(new Case(m + "label out of range in the last of 64 rows: nothing written", rejects(iae,
                    () -> ce(b, f32, arr(f32, rows * COLS), lastBad, wide, rows, COLS), wide, "labels[63]", "4")));
        }
        return t;
    }

    /** A valid input array of {@code n} entries, all 0.25 (exact in both dtypes). */
    private static Object arr(boolean f32, int n) {
        double[] a = new double[n];
        Arrays.fill(a, 0.25);
        return f32 ? Batch.narrowed(a) : a;
    }

    private static void sb(SoftmaxBackwardBackend b, boolean f32, Object g, Object y, Object out, int rows, int cols) {
        if (f32) {
            b.softmaxBackward((float[]) g, (float[]) y, (float[]) out, rows, cols);
        } else {
            b.softmaxBackward((double[]) g, (double[]) y, (double[]) out, rows, cols);
        }
    }

    private static void sm(SoftmaxBackwardBackend b, boolean f32, Object x, Object out, int rows, int cols) {
        if (f32) {
            b.softmax((float[]) x, (float[]) out, rows, cols);
        } else {
            b.softmax((double[]) x, (double[]) out, rows, cols);
        }
    }

    private static void ce(SoftmaxBackwardBackend b, boolean f32, Object y, int[] labels, Object out, int rows,
                           int cols) {
        if (f32) {
            b.crossEntropyBackward((float[]) y, labels, 0.5f, (float[]) out, rows, cols);
        } else {
            b.crossEntropyBackward((double[]) y, labels, 0.5, (double[]) out, rows, cols);
        }
    }
}
