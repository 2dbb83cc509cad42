package dev.softmaxbackward.spi;

/**
 * Argument validation shared by every backend, so that every backend rejects the same inputs with
 * the same messages, and does so before writing anything.
 *
 * <p>Messages name the argument and the numbers, e.g. {@code gradOut.length 6 != rows*cols = 2*4}.
 */
public final class Arguments {
    /** The label that {@code crossEntropyBackward} treats as "ignore this row" (PyTorch's default). */
    public static final int IGNORE_INDEX = -100;

    private Arguments() {}

    /** The arguments of {@code softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols)}. */
    public static void softmaxBackward(float[] gradOut, float[] softmaxOut, float[] gradIn, int rows, int cols) {
        threeArrays(notNull(gradOut, "gradOut").length, notNull(softmaxOut, "softmaxOut").length,
                notNull(gradIn, "gradIn").length, rows, cols);
    }

    /** The arguments of {@code softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols)}. */
    public static void softmaxBackward(double[] gradOut, double[] softmaxOut, double[] gradIn, int rows, int cols) {
        threeArrays(notNull(gradOut, "gradOut").length, notNull(softmaxOut, "softmaxOut").length,
                notNull(gradIn, "gradIn").length, rows, cols);
    }

    /** The arguments of {@code softmax(logits, out, rows, cols)}. */
    public static void softmax(float[] logits, float[] out, int rows, int cols) {
        twoArrays("logits", notNull(logits, "logits").length, "out", notNull(out, "out").length, rows, cols);
    }

    /** The arguments of {@code softmax(logits, out, rows, cols)}. */
    public static void softmax(double[] logits, double[] out, int rows, int cols) {
        twoArrays("logits", notNull(logits, "logits").length, "out", notNull(out, "out").length, rows, cols);
    }

    /** The arguments of {@code crossEntropyBackward(softmaxOut, labels, scale, gradIn, rows, cols)}. */
    public static void crossEntropyBackward(float[] softmaxOut, int[] labels, float[] gradIn, int rows, int cols) {
        twoArrays("softmaxOut", notNull(softmaxOut, "softmaxOut").length, "gradIn", notNull(gradIn, "gradIn").length,
                rows, cols);
        labels(labels, rows, cols);
    }

    /** The arguments of {@code crossEntropyBackward(softmaxOut, labels, scale, gradIn, rows, cols)}. */
    public static void crossEntropyBackward(double[] softmaxOut, int[] labels, double[] gradIn, int rows, int cols) {
        twoArrays("softmaxOut", notNull(softmaxOut, "softmaxOut").length, "gradIn", notNull(gradIn, "gradIn").length,
                rows, cols);
        labels(labels, rows, cols);
    }

    /**
     * Checks {@code rows} and {@code cols} are non-negative and their product fits an {@code int}.
     *
     * @return {@code rows * cols}
     */
    public static int size(int rows, int cols) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows " + rows + " < 0");
        }
        if (cols < 0) {
            throw new IllegalArgumentException("cols " + cols + " < 0");
        }
        long size = (long) rows * cols;
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(
                    "rows*cols = " + rows + "*" + cols + " = " + size + " overflows int (max " + Integer.MAX_VALUE + ")");
        }
        return (int) size;
    }

    /** Checks one flat array's length is {@code rows*cols}; {@link #size} must have passed. */
    public static void length(String name, int length, int rows, int cols) {
        if (length != rows * cols) {
            throw new IllegalArgumentException(
                    name + ".length " + length + " != rows*cols = " + rows + "*" + cols);
        }
    }

    /**
     * Checks there is one label per row, each in {@code [0, cols)} or {@link #IGNORE_INDEX}.
     */
    public static void labels(int[] labels, int rows, int cols) {
        notNull(labels, "labels");
        size(rows, cols);
        if (labels.length != rows) {
            throw new IllegalArgumentException("labels.length " + labels.length + " != rows " + rows);
        }
        for (int r = 0; r < rows; r++) {
            int label = labels[r];
            if (label != IGNORE_INDEX && (label < 0 || label >= cols)) {
                throw new IllegalArgumentException("labels[" + r + "] = " + label + " is outside [0, cols) = [0, "
                        + cols + ") and is not the ignore index " + IGNORE_INDEX);
            }
        }
    }

    /** Throws {@link NullPointerException} "{@code name} must not be null". */
    public static <T> T notNull(T argument, String name) {
        if (argument == null) {
            throw new NullPointerException(name + " must not be null");
        }
        return argument;
    }

    private static void threeArrays(int gradOutLength, int softmaxOutLength, int gradInLength, int rows, int cols) {
        size(rows, cols);
        length("gradOut", gradOutLength, rows, cols);
        length("softmaxOut", softmaxOutLength, rows, cols);
        length("gradIn", gradInLength, rows, cols);
    }

    private static void twoArrays(String inName, int inLength, String outName, int outLength, int rows, int cols) {
        size(rows, cols);
        length(inName, inLength, rows, cols);
        length(outName, outLength, rows, cols);
    }
}
