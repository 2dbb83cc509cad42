package dev.softmaxbackward.spi;

import dev.softmaxbackward.ShardPartials;

/** Argument validation for the two phases of {@link dev.softmaxbackward.ShardedBackward}, shared by every backend. */
public final class ShardArguments {
    private ShardArguments() {}

    /** Checks phase 1's arguments and returns empty partials for them. */
    public static ShardPartials partials(float[] gradOut, float[] softmaxOut, int rows, int cols) {
        inputs(Arguments.notNull(gradOut, "gradOut").length, Arguments.notNull(softmaxOut, "softmaxOut").length,
                rows, cols);
        return ShardPartials.float32(rows, cols);
    }

    /** Checks phase 1's arguments and returns empty partials for them. */
    public static ShardPartials partials(double[] gradOut, double[] softmaxOut, int rows, int cols) {
        inputs(Arguments.notNull(gradOut, "gradOut").length, Arguments.notNull(softmaxOut, "softmaxOut").length,
                rows, cols);
        return ShardPartials.float64(rows, cols);
    }

    /** Checks phase 2's arguments. */
    public static void backward(float[] gradOut, float[] softmaxOut, float[] means, float[] gradIn, int rows,
                                int cols) {
        Arguments.softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols);
        means(Arguments.notNull(means, "means").length, rows, cols);
    }

    /** Checks phase 2's arguments. */
    public static void backward(double[] gradOut, double[] softmaxOut, double[] means, double[] gradIn, int rows,
                                int cols) {
        Arguments.softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols);
        means(Arguments.notNull(means, "means").length, rows, cols);
    }

    private static void inputs(int gradOutLength, int softmaxOutLength, int rows, int cols) {
        Arguments.size(rows, cols);
        if (cols == 0) {
            throw new IllegalArgumentException("shard cols 0: a shard has at least one column");
        }
        Arguments.length("gradOut", gradOutLength, rows, cols);
        Arguments.length("softmaxOut", softmaxOutLength, rows, cols);
    }

    private static void means(int meansLength, int rows, int cols) {
        if (cols == 0) {
            throw new IllegalArgumentException("shard cols 0: a shard has at least one column");
        }
        if (meansLength != rows) {
            throw new IllegalArgumentException("means.length " + meansLength + " != rows " + rows);
        }
    }
}
