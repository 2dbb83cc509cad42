package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.spi.RowNumerics.LANES;
import static dev.softmaxbackward.spi.RowNumerics.SEGMENT;

import dev.softmaxbackward.spi.RowNumerics;

/**
 * The walk over a row's segments of the canonical order ({@value RowNumerics#SEGMENT} entries, the last
 * one shorter) that every kernel's sums take: one home for the segment bookkeeping, the loops over the
 * lanes stay with each kernel. Called once per segment, not per entry.
 */
@FunctionalInterface
interface SegmentWalk {
    /**
     * Segment {@code seg}: entries {@code [start, start + length)} of the row, of which the first
     * {@code full} (a multiple of 32) fill whole groups of the 32 lanes and the rest is the tail.
     */
    void segment(int seg, int start, int full, int length);

    /** {@code body} for every segment of a row of {@code cols} entries; returns the number of segments. */
    static int walk(int cols, SegmentWalk body) {
        int segments = RowNumerics.segments(cols);
        for (int seg = 0; seg < segments; seg++) {
            int start = seg * SEGMENT;
            int length = Math.min(SEGMENT, cols - start);
            body.segment(seg, start, length & -LANES, length);
        }
        return segments;
    }
}
