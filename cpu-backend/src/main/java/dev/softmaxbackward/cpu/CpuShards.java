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
        executor.forEachRow(rows, cols, (from, to, s) -> {
            for (int r = from; r < to; r++) {
                int base = r * cols;
                ScalarKernel.INSTANCE.sums(g, base, y, base, cols, s);
                for (int seg = 0; seg < RowNumerics.segments(cols); seg++) {
                    p.setSegment(r, seg, s.segAS[seg], 0.0, s.segBS[seg], 0.0);
                }
                p.setRowFrom(r, g, base, base + cols);
            }
        });
        return p;
    }

    static ShardPartials partials(RowExecutor executor, double[] g, double[] y, int rows, int cols) {
        ShardPartials p = ShardArguments.partials(g, y, rows, cols);
        executor.forEachRow(rows, cols, (from, to, s) -> {
            for (int r = from; r < to; r++) {
                int base = r * cols;
                ScalarKernel.sums(g, base, y, base, cols, s);
                for (int seg = 0; seg < RowNumerics.segments(cols); seg++) {
                    p.setSegment(r, seg, s.segAS[seg], s.segAC[seg], s.segBS[seg], s.segBC[seg]);
                }
                p.setRowFrom(r, g, y, base, base + cols);
            }
        });
        return p;
    }

    static void backward(RowExecutor executor, float[] g, float[] y, float[] means, float[] gradIn, int rows,
                         int cols) {
        ShardArguments.backward(g, y, means, gradIn, rows, cols);
        executor.forEachRow(rows, cols, (from, to, unused) -> {
            for (int r = from; r < to; r++) {
                ScalarKernel.outputs(g, r * cols, y, r * cols, gradIn, r * cols, cols, means[r]);
            }
        });
    }

    static void backward(RowExecutor executor, double[] g, double[] y, double[] means, double[] gradIn, int rows,
                         int cols) {
        ShardArguments.backward(g, y, means, gradIn, rows, cols);
        executor.forEachRow(rows, cols, (from, to, unused) -> {
            for (int r = from; r < to; r++) {
                ScalarKernel.outputs(g, r * cols, y, r * cols, gradIn, r * cols, cols, means[r]);
            }
        });
    }
}
