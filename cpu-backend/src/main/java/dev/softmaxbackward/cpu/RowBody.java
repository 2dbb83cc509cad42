package dev.softmaxbackward.cpu;

/** The work on one row of a row-parallel loop, given the worker thread's scratch. */
@FunctionalInterface
interface RowBody {
    void row(int r, Scratch s);

    /** {@code body} for every row of a {@code rows x cols} batch, the rows split over {@code executor}'s threads. */
    static void forEach(RowExecutor executor, int rows, int cols, RowBody body) {
        executor.forEachRow(rows, cols, (from, to, s) -> {
            for (int r = from; r < to; r++) {
                body.row(r, s);
            }
        });
    }
}
