package dev.softmaxbackward.cpu;

import dev.softmaxbackward.ShardPartials;
import dev.softmaxbackward.spi.RowNumerics;
import dev.softmaxbackward.spi.ShardArguments;

/**
 * The {@code cpu} backend's two phases of {@link dev.softmaxbackward.ShardedBackward}: rows split over
 * the backend's {@link RowExecutor}, each shard row's segments summed by {@link ScalarKernel}'s loops in
 * the canonical lane order, so the partials are the reference's bits.
 */
final class CpuShards {
    private CpuShards() {}

    static ShardPartials partials(RowExecutor executor, float[] g, float[] y, int rows, int cols) {
        ShardPartials p = ShardArguments.partials(g, y, rows, cols);
        RowBody.forEach(executor, rows, cols, (r, s) -> {
            ScalarKernel.INSTANCE.sums(g, r * cols, y, r * cols, cols, s);
            setSegments(p, r, cols, s, false);
            p.setRowFrom(r, g, r * cols, (r + 1) * cols);
        });
        return p;
    }

    static ShardPartials partials(RowExecutor executor, double[] g, double[] y, int rows, int cols) {
        ShardPartials p = ShardArguments.partials(g, y, rows, cols);
        RowBody.forEach(executor, rows, cols, (r, s) -> {
            ScalarKernel.sums(g, r * cols, y, r * cols, cols, s);
            setSegments(p, r, cols, s, true);
            p.setRowFrom(r, g, y, r * cols, (r + 1) * cols);
        });
        return p;
    }

    /** Row {@code r}'s segment partials; float32 sums have no compensation (their {@code s.seg*C} are stale). */
    private static void setSegments(ShardPartials p, int r, int cols, Scratch s, boolean f64) {
        for (int seg = 0; seg < RowNumerics.segments(cols); seg++) {
            p.setSegment(r, seg, s.segAS[seg], f64 ? s.segAC[seg] : 0.0, s.segBS[seg], f64 ? s.segBC[seg] : 0.0);
        }
    }

    static void backward(RowExecutor e, float[] g, float[] y, float[] means, float[] gradIn, int rows, int cols) {
        ShardArguments.backward(g, y, means, gradIn, rows, cols);
        RowBody.forEach(e, rows, cols,
                (r, s) -> ScalarKernel.outputs(g, r * cols, y, r * cols, gradIn, r * cols, cols, means[r]));
    }

    static void backward(RowExecutor e, double[] g, double[] y, double[] means, double[] gradIn, int rows, int cols) {
        ShardArguments.backward(g, y, means, gradIn, rows, cols);
        RowBody.forEach(e, rows, cols,
                (r, s) -> ScalarKernel.outputs(g, r * cols, y, r * cols, gradIn, r * cols, cols, means[r]));
    }
}
