package dev.softmaxbackward.cpu;

import dev.softmaxbackward.BackendDescriptor;
import dev.softmaxbackward.BackendUnavailableException;
import dev.softmaxbackward.ShardPartials;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.spi.Arguments;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code cpu} backend (priority 100): the fused per-row kernel, row-parallel, on float/double
 * arrays and on ND4J {@code INDArray}s; ND4J 1.0.0-M2.1's native CPU backend underneath.
 *
 * <h2>Numerics</h2>
 * With the default {@link Strategy#FUSED} strategy every result is bit-identical to the
 * {@code reference} backend for float32 and float64 (docs/contract.md §3, invariant 6): same lanes, same lane
 * and segment trees, same rounding steps, whatever the thread count or batch size. For HALF and
 * BFLOAT16 INDArrays, entries widen exactly to float32 and follow the float32 steps exactly (float64
 * sums, {@code d} rounded to float32), and each output {@code y * (g - d)}, evaluated in float64, is
 * rounded once, to nearest even, directly to the 16-bit dtype (with gradual underflow; overflow gives
 * infinity). {@link Strategy#ND4J_OPS} uses ND4J's own row-wise ops in float64 and is exempt from
 * invariant 6 (see there).
 *
 * <h2>Availability</h2>
 * {@code cpu} is available exactly when ND4J's native backend loads and runs an op here (probed once,
 * on the first {@link #isAvailable()}; this takes ND4J's start-up time, about 2 s). The float-array
 * fused kernel itself does not call ND4J, but the backend is the ND4J backend: its INDArray entry
 * point and the {@code nd4j-ops} strategy need the natives, so one answer covers all. When the
 * natives fail to load, {@link #unavailabilityCause()} is the loader's error and selection falls back
 * to {@code reference}; calling an unavailable backend throws {@link BackendUnavailableException}.
 *
 * <h2>Threads and speed</h2>
 * A batch is split into ranges of whole rows over at most {@code min(threads, rows, entries / 32768)}
 * threads: the caller and a pool of daemon threads this backend creates on first need, which exit after
 * 30 s idle. Batches under 65536 entries (such as [1, 1024] or [32, 128]) run on the calling thread.
 * {@code threads} is the system property {@value #THREADS_PROPERTY}, default
 * {@link Runtime#availableProcessors()}. The kernel runs on JDK 17's incubating Vector API when the JVM
 * is started with {@code --add-modules jdk.incubator.vector}, and in plain Java otherwise (same bits,
 * at 0.3-0.9 x the speed: bench/results/cpu.md); {@value Kernels#VECTOR_PROPERTY}{@code =false} forces plain Java.
 *
 * <p>Instances are immutable and safe for concurrent callers.
 */
@BackendDescriptor(name = CpuBackend.NAME, priority = CpuBackend.PRIORITY)
public final class CpuBackend implements SoftmaxBackwardBackend {
    public static final String NAME = "cpu";
    public static final int PRIORITY = 100;
    /** System property: the number of threads a batch is split over (default: available processors). */
    public static final String THREADS_PROPERTY = "softmaxbackward.cpu.threads";
    /** System property: {@code fused} (default) or {@code nd4j-ops}. */
    public static final String STRATEGY_PROPERTY = "softmaxbackward.cpu.strategy";

    private static final Logger LOG = LoggerFactory.getLogger(CpuBackend.class);

    /** The executor every default-constructed instance shares: created on first use, threads on first need. */
    private static final class Shared {
        static final RowExecutor EXECUTOR = new RowExecutor(threadsFromProperty());
    }

    /** The probe's result, computed once and shared by {@link #withStrategy} copies. */
    private static final class Availability {
        private final Supplier<Throwable> probe;
        private volatile boolean probed;
        private volatile Throwable cause;

        Availability(Supplier<Throwable> probe) {
            this.probe = probe;
        }

        Throwable cause() {
            if (!probed) {
                synchronized (this) {
                    if (!probed) {
                        Throwable t;
                        try {
                            t = probe.get();
                        } catch (Throwable e) { // a probe must not throw, but if it does, that is the reason
                            t = e;
                        }
                        cause = t;
                        probed = true;
                    }
                }
            }
            return cause;
        }
    }

    private final Availability availability;
    private final Supplier<RowExecutor> executor;
    private final RowKernel kernel;
    private final Strategy strategy;

    /** The instance {@link java.util.ServiceLoader} creates: system properties decide threads and strategy. */
    public CpuBackend() {
        this(Nd4jProbe::probe, () -> Shared.EXECUTOR, Kernels.defaultKernel(), strategyFromProperty());
    }

    /** For tests: a given probe (null result = available), executor, kernel and strategy. */
    CpuBackend(Supplier<Throwable> probe, Supplier<RowExecutor> executor, RowKernel kernel, Strategy strategy) {
        this(new Availability(probe), executor, kernel, strategy);
    }

    private CpuBackend(Availability availability, Supplier<RowExecutor> executor, RowKernel kernel,
                       Strategy strategy) {
        this.availability = availability;
        this.executor = executor;
        this.kernel = kernel;
        this.strategy = strategy;
    }

    /** This backend with another strategy (same threads, same availability). */
    public CpuBackend withStrategy(Strategy strategy) {
        Objects.requireNonNull(strategy, "strategy must not be null");
        return strategy == this.strategy ? this : new CpuBackend(availability, executor, kernel, strategy);
    }

    /** The strategy the backward pass uses. */
    public Strategy strategy() {
        return strategy;
    }

    /** The number of threads a large batch is split over. */
    public int threads() {
        return executor.get().threads();
    }

    /** Which fused kernel runs: {@code "vector(512-bit, 8 doubles)"}, {@code "scalar"}, ... */
    public String kernel() {
        return kernel.name();
    }

    @Override
    public Optional<Throwable> unavailabilityCause() {
        return Optional.ofNullable(availability.cause());
    }

    private void requireAvailable() {
        Throwable cause = availability.cause();
        if (cause != null) {
            throw new BackendUnavailableException("backend 'cpu' is unavailable: " + cause, cause);
        }
    }

    // ---- arrays -----------------------------------------------------------------------------------

    @Override
    public void softmaxBackward(float[] gradOut, float[] softmaxOut, float[] gradIn, int rows, int cols) {
        Arguments.softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols);
        backwardRows(rows, cols, () -> Nd4jOps.backward(gradOut, softmaxOut, gradIn, rows, cols),
                (r, s) -> kernel.backward(gradOut, r * cols, softmaxOut, r * cols, gradIn, r * cols, cols, s));
    }

    @Override
    public void softmaxBackward(double[] gradOut, double[] softmaxOut, double[] gradIn, int rows, int cols) {
        Arguments.softmaxBackward(gradOut, softmaxOut, gradIn, rows, cols);
        backwardRows(rows, cols, () -> Nd4jOps.backward(gradOut, softmaxOut, gradIn, rows, cols),
                (r, s) -> kernel.backward(gradOut, r * cols, softmaxOut, r * cols, gradIn, r * cols, cols, s));
    }

    /** The array backward pass after the argument checks: ND4J's ops or the fused kernel, row by row. */
    private void backwardRows(int rows, int cols, Runnable nd4jOps, RowBody fused) {
        requireAvailable();
        if (rows == 0 || cols == 0) {
            return;
        }
        if (strategy == Strategy.ND4J_OPS) {
            nd4jOps.run();
        } else {
            RowBody.forEach(executor.get(), rows, cols, fused);
        }
    }

    /** Every row of an array batch, once the backend is known to be available. */
    private void eachRow(int rows, int cols, RowBody body) {
        requireAvailable();
        RowBody.forEach(executor.get(), rows, cols, body);
    }

    @Override
    public void softmax(float[] logits, float[] out, int rows, int cols) {
        Arguments.softmax(logits, out, rows, cols);
        eachRow(rows, cols, (r, s) -> RowOps.softmax(logits, out, r * cols, cols, s));
    }

    @Override
    public void softmax(double[] logits, double[] out, int rows, int cols) {
        Arguments.softmax(logits, out, rows, cols);
        eachRow(rows, cols, (r, s) -> RowOps.softmax(logits, out, r * cols, cols, s));
    }

    @Override
    public void crossEntropyBackward(float[] softmaxOut, int[] labels, float scale, float[] gradIn, int rows,
                                     int cols) {
        Arguments.crossEntropyBackward(softmaxOut, labels, gradIn, rows, cols);
        eachRow(rows, cols, (r, s) -> RowOps.crossEntropyBackward(softmaxOut, labels[r], scale, gradIn, r * cols, cols));
    }

    @Override
    public void crossEntropyBackward(double[] softmaxOut, int[] labels, double scale, double[] gradIn, int rows,
                                     int cols) {
        Arguments.crossEntropyBackward(softmaxOut, labels, gradIn, rows, cols);
        eachRow(rows, cols, (r, s) -> RowOps.crossEntropyBackward(softmaxOut, labels[r], scale, gradIn, r * cols, cols));
    }

    // ---- INDArrays --------------------------------------------------------------------------------

    /**
     * The backward pass of a {@code [B, V]} batch of INDArrays into a new C-order array of the same
     * shape and dtype. See {@link #softmaxBackward(INDArray, INDArray, INDArray)}.
     */
    public INDArray softmaxBackward(INDArray gradOut, INDArray softmaxOut) {
        long[] shape = NdArrays.matrixShape(Arguments.notNull(gradOut, "gradOut"), "gradOut");
        Arguments.notNull(softmaxOut, "softmaxOut");
        requireAvailable();
        INDArray gradIn = Nd4j.createUninitialized(gradOut.dataType(), shape, 'c');
        return softmaxBackward(gradOut, softmaxOut, gradIn);
    }

    /**
     * The backward pass of a {@code [B, V]} batch, written into {@code gradIn}, which is returned.
     *
     * <p>All three arrays must have rank 2, the same shape and the same dtype, one of FLOAT, DOUBLE,
     * HALF and BFLOAT16 (see the class comment for the 16-bit rounding). Each must be row-contiguous:
     * C order, or a view whose rows are contiguous with any row stride (a row range or column range of
     * a larger C-order matrix); F-order and column-strided views are rejected (use {@code dup('c')}).
     * The kernel reads and writes ND4J's off-heap buffers in place, never copying them to the heap; each
     * array may span at most 2^31-1 bytes of its buffer. {@code gradIn} may be {@code gradOut} or
     * {@code softmaxOut} itself (the same entries, through any INDArray); a {@code gradIn} that shares
     * only some memory with either, such as the same matrix shifted by a row, is refused. The other
     * INDArray entry points refuse such outputs too.
     *
     * @throws NullPointerException     for a null argument
     * @throws IllegalArgumentException for a wrong rank, mismatched shapes or dtypes, an unsupported
     *                                  dtype or layout, or a partly shared gradIn; nothing has been
     *                                  written then
     */
    public INDArray softmaxBackward(INDArray gradOut, INDArray softmaxOut, INDArray gradIn) {
        NdArrays.Batch b = NdArrays.check(gradOut, softmaxOut, gradIn);
        requireAvailable();
        if (b.empty()) {
            return gradIn;
        }
        try {
            if (strategy == Strategy.ND4J_OPS) {
                Nd4jOps.backward(gradOut, softmaxOut, gradIn);
            } else {
                fused(b);
            }
        } finally {
            b.keepAlive(); // the kernel holds only ByteBuffers, which do not keep ND4J's memory allocated
        }
        return gradIn;
    }

    private void fused(NdArrays.Batch b) {
        NdArrays.View g = b.view(0);
        NdArrays.View y = b.view(1);
        NdArrays.View o = b.view(2);
        RowKernel k = kernel;
        DataType dtype = b.dtype();
        int cols = b.cols();
        executor.get().forEachRow(b.rows(), cols, (from, to, s) -> {
            for (int r = from; r < to; r++) {
                int go = g.row(r);
                int yo = y.row(r);
                int oo = o.row(r);
                switch (dtype) {
                    case FLOAT -> k.backwardFloat(g.buffer(), go, y.buffer(), yo, o.buffer(), oo, cols, s);
                    case DOUBLE -> k.backwardDouble(g.buffer(), go, y.buffer(), yo, o.buffer(), oo, cols, s);
                    case HALF -> ScalarKernel.backward16(k, false, g.buffer(), go, y.buffer(), yo, o.buffer(), oo, cols,
                            s);
                    case BFLOAT16 -> ScalarKernel.backward16(k, true, g.buffer(), go, y.buffer(), yo, o.buffer(), oo,
                            cols, s);
                    default -> throw new AssertionError(dtype); // NdArrays.check admits only these four
                }
            }
        });
    }

    /** Every row of a checked INDArray batch, ND4J's memory kept alive until the last row is done. */
    private void eachRow(NdArrays.Batch b, RowBody body) {
        requireAvailable();
        if (b.empty()) {
            return;
        }
        try {
            RowBody.forEach(executor.get(), b.rows(), b.cols(), body);
        } finally {
            b.keepAlive(); // the rows hold only ByteBuffers, which do not keep ND4J's memory allocated
        }
    }

    /**
     * The forward softmax of a {@code [B, V]} batch, row by row, written into {@code out}, which is
     * returned; {@code out} may be {@code logits} itself (in place). Same checks as
     * {@link #softmaxBackward(INDArray, INDArray, INDArray)} (dtype FLOAT, DOUBLE, HALF or BFLOAT16,
     * the same shape and dtype, row-contiguous, usable memory). FLOAT and DOUBLE give exactly the bits
     * of the array method of {@code reference}; HALF and BFLOAT16 follow the float32 steps and round
     * each quotient once to the 16-bit dtype.
     *
     * @throws NullPointerException     for a null argument
     * @throws IllegalArgumentException for bad shapes, dtypes, layouts or memory; nothing is written then
     */
    public INDArray softmax(INDArray logits, INDArray out) {
        NdArrays.Batch b = NdArrays.check(new String[] {"logits", "out"}, 1, logits, out);
        DataType dtype = b.dtype();
        int cols = b.cols();
        boolean f64 = dtype == DataType.DOUBLE;
        boolean wide = f64 || dtype == DataType.FLOAT;
        RowKernel k = kernel;
        NdArrays.View in = b.view(0);
        NdArrays.View o = b.view(1);
        eachRow(b, (r, s) -> {
            double[] x = s.input();
            if (wide) {
                double sum = RowOps.exps(x, k.readRow(f64, in.buffer(), in.row(r), x, cols, s), cols, f64, s);
                k.writeQuotients(f64, s.row(), sum, o.buffer(), o.row(r), cols, s);
            } else {
                NdArrays.readRow(dtype, in, r, x, cols);
                double sum = RowOps.exps(x, RowOps.max(x, cols), cols, false, s);
                double[] e = s.row();
                for (int i = 0; i < cols; i++) {
                    e[i] = e[i] / sum;
                }
                NdArrays.writeRow(dtype, o, r, e, cols);
            }
        });
        return out;
    }

    /** The forward softmax into a new C-order array of the same shape and dtype; see {@link #softmax(INDArray, INDArray)}. */
    public INDArray softmax(INDArray logits) {
        Arguments.notNull(logits, "logits");
        NdArrays.requireUsable(logits, "logits");
        long[] shape = NdArrays.matrixShape(logits, "logits");
        requireAvailable();
        return softmax(logits, Nd4j.createUninitialized(logits.dataType(), shape, 'c'));
    }

    /**
     * The gradient of the mean-free cross-entropy loss with respect to the logits, {@code scale *
     * (softmaxOut - onehot(label))} per row, written into {@code gradIn} (which may be
     * {@code softmaxOut}) and returned. A label of {@value Arguments#IGNORE_INDEX} gives a zero row.
     * Same checks as {@link #softmax(INDArray, INDArray)}, and one label per row in {@code [0, V)} or
     * the ignore index. FLOAT and DOUBLE give exactly the bits of the array method of {@code reference}
     * (for FLOAT, {@code scale} is first rounded to float32, as that method takes a float); HALF and
     * BFLOAT16 follow the float32 steps and round once.
     *
     * @throws NullPointerException     for a null argument
     * @throws IllegalArgumentException for a bad label (naming its row), shape, dtype, layout or memory;
     *                                  nothing is written then
     */
    public INDArray crossEntropyBackward(INDArray softmaxOut, int[] labels, double scale, INDArray gradIn) {
        return crossEntropyBackward(softmaxOut, labels, null, scale, gradIn);
    }

    /**
     * {@link #crossEntropyBackward(INDArray, int[], double, INDArray)} with a scale per row:
     * {@code rowScale.length} must be the number of rows.
     */
    public INDArray crossEntropyBackward(INDArray softmaxOut, int[] labels, double[] rowScale, INDArray gradIn) {
        Arguments.notNull(rowScale, "rowScale");
        return crossEntropyBackward(softmaxOut, labels, rowScale, Double.NaN, gradIn);
    }

    private INDArray crossEntropyBackward(INDArray softmaxOut, int[] labels, double[] rowScale, double scale,
                                          INDArray gradIn) {
        Arguments.notNull(labels, "labels");
        NdArrays.Batch b = NdArrays.check(new String[] {"softmaxOut", "gradIn"}, 1, softmaxOut, gradIn);
        Arguments.labels(labels, b.rows(), b.cols());
        if (rowScale != null && rowScale.length != b.rows()) {
            throw new IllegalArgumentException("rowScale.length " + rowScale.length + " != rows " + b.rows());
        }
        DataType dtype = b.dtype();
        int cols = b.cols();
        boolean f64 = dtype == DataType.DOUBLE;
        boolean wide = f64 || dtype == DataType.FLOAT;
        RowKernel k = kernel;
        NdArrays.View in = b.view(0);
        NdArrays.View o = b.view(1);
        eachRow(b, (r, s) -> {
            double sc = rowScale == null ? scale : rowScale[r];
            // float32 and 16-bit rows take a float32 scale, as the float[] method does
            sc = f64 ? sc : (float) sc;
            if (wide) {
                k.crossEntropyRow(f64, in.buffer(), in.row(r), labels[r], sc, o.buffer(), o.row(r), cols, s);
                return;
            }
            double[] y = s.input();
            double[] out = s.row();
            NdArrays.readRow(dtype, in, r, y, cols);
            for (int i = 0; i < cols; i++) {
                out[i] = RowOps.crossEntropyGradient(y[i], i, labels[r], sc);
            }
            NdArrays.writeRow(dtype, o, r, out, cols);
        });
        return gradIn;
    }

    /**
     * {@link #softmax(INDArray, INDArray)} of {@code logits} and then
     * {@link #crossEntropyBackward(INDArray, int[], double[], INDArray)} of the result, in one pass over
     * each row: the same bits in {@code gradIn}, which is returned, with no softmax array written. Each
     * row's softmax entry at its label, rounded to the dtype as the softmax would write it, goes to
     * {@code yAtLabel[r]} (NaN for an ignored row): what a cross-entropy score reads. {@code gradIn} may
     * be {@code logits}. Same checks as those two methods, and {@code yAtLabel.length} must be the
     * number of rows; nothing is written before they pass.
     *
     * @throws NullPointerException     for a null argument
     * @throws IllegalArgumentException for a bad label (naming its row), shape, dtype, layout, memory or length
     */
    public INDArray softmaxCrossEntropyBackward(INDArray logits, int[] labels, double[] rowScale, INDArray gradIn,
                                                double[] yAtLabel) {
        return softmaxCrossEntropyBackward(logits, labels, rowScale, gradIn, yAtLabel, null);
    }

    /**
     * {@link #softmaxCrossEntropyBackward(INDArray, int[], double[], INDArray, double[])}, also writing a
     * copy of {@code logits} into {@code logitsCopy} (same checks; not {@code gradIn}) in the same pass,
     * unless it is null: what a caller keeps to recognise the same logits later, for the cost of the
     * writes alone. FLOAT and DOUBLE entries are copied as values (a signalling NaN may become quiet).
     */
    public INDArray softmaxCrossEntropyBackward(INDArray logits, int[] labels, double[] rowScale, INDArray gradIn,
                                                double[] yAtLabel, INDArray logitsCopy) {
        Arguments.notNull(labels, "labels");
        Arguments.notNull(rowScale, "rowScale");
        Arguments.notNull(yAtLabel, "yAtLabel");
        if (logitsCopy != null && logitsCopy == gradIn) {
            throw new IllegalArgumentException("logitsCopy must not be gradIn");
        }
        NdArrays.Batch b = logitsCopy == null ? NdArrays.check(new String[] {"logits", "gradIn"}, 1, logits, gradIn)
                : NdArrays.check(new String[] {"logits", "gradIn", "logitsCopy"}, 1, logits, gradIn,
                        logitsCopy);
        Arguments.labels(labels, b.rows(), b.cols());
        if (rowScale.length != b.rows()) {
            throw new IllegalArgumentException("rowScale.length " + rowScale.length + " != rows " + b.rows());
        }
        if (yAtLabel.length != b.rows()) {
            throw new IllegalArgumentException("yAtLabel.length " + yAtLabel.length + " != rows " + b.rows());
        }
        DataType dtype = b.dtype();
        if (dtype != DataType.FLOAT && dtype != DataType.DOUBLE) {
            // 16-bit rows: the two passes, y read at each label in between
            if (logitsCopy != null) {
                logitsCopy.assign(logits);
            }
            softmax(logits, gradIn);
            for (int r = 0; r < b.rows(); r++) {
                yAtLabel[r] = labels[r] == Arguments.IGNORE_INDEX ? Double.NaN : gradIn.getDouble(r, labels[r]);
            }
            return crossEntropyBackward(gradIn, labels, rowScale, gradIn);
        }
        boolean f64 = dtype == DataType.DOUBLE;
        int cols = b.cols();
        RowKernel k = kernel;
        NdArrays.View in = b.view(0);
        NdArrays.View o = b.view(1);
        NdArrays.View copy = logitsCopy == null ? null : b.view(2);
        eachRow(b, (r, s) -> {
            double[] x = s.input();
            double max = k.readRow(f64, in.buffer(), in.row(r), x, cols, s);
            if (copy != null) {
                k.writeQuotients(f64, x, 1.0, copy.buffer(), copy.row(r), cols, s); // x / 1 = x: the entries again
            }
            double sum = RowOps.exps(x, max, cols, f64, s);
            int label = labels[r];
            double[] e = s.row();
            yAtLabel[r] = label == Arguments.IGNORE_INDEX ? Double.NaN : f64 ? e[label] / sum : (float) (e[label] / sum);
            // float32 rows take a float32 scale, as the float[] method does
            double sc = f64 ? rowScale[r] : (float) rowScale[r];
            k.crossEntropyOfQuotients(f64, e, sum, label, sc, o.buffer(), o.row(r), cols, s);
        });
        return gradIn;
    }

    // ---- configuration ----------------------------------------------------------------------------

    static int threadsFromProperty() {
        int available = Runtime.getRuntime().availableProcessors();
        String value = System.getProperty(THREADS_PROPERTY);
        if (value == null || value.isBlank()) {
            return available;
        }
        try {
            int threads = Integer.parseInt(value.strip());
            if (threads >= 1) {
                return threads;
            }
        } catch (NumberFormatException e) {
            // falls through to the warning
        }
        LOG.warn("softmax-backward cpu: {}={} is not a positive integer; using {}", THREADS_PROPERTY, value,
                available);
        return available;
    }

    static Strategy strategyFromProperty() {
        String value = System.getProperty(STRATEGY_PROPERTY);
        if (value == null || value.isBlank()) {
            return Strategy.FUSED;
        }
        try {
            return Strategy.of(value);
        } catch (IllegalArgumentException e) {
            LOG.warn("softmax-backward cpu: {}={} is unknown (fused or nd4j-ops); using fused", STRATEGY_PROPERTY,
                    value);
            return Strategy.FUSED;
        }
    }

    // ---- sharded rows (CpuShards) -----------------------------------------------------------------

    @Override
    public ShardPartials shardPartials(float[] gradOut, float[] softmaxOut, int rows, int cols) {
        requireAvailable();
        return CpuShards.partials(executor.get(), gradOut, softmaxOut, rows, cols);
    }

    @Override
    public ShardPartials shardPartials(double[] gradOut, double[] softmaxOut, int rows, int cols) {
        requireAvailable();
        return CpuShards.partials(executor.get(), gradOut, softmaxOut, rows, cols);
    }

    @Override
    public void shardBackward(float[] gradOut, float[] softmaxOut, float[] means, float[] gradIn, int rows, int cols) {
        requireAvailable();
        CpuShards.backward(executor.get(), gradOut, softmaxOut, means, gradIn, rows, cols);
    }

    @Override
    public void shardBackward(double[] gradOut, double[] softmaxOut, double[] means, double[] gradIn, int rows,
                              int cols) {
        requireAvailable();
        CpuShards.backward(executor.get(), gradOut, softmaxOut, means, gradIn, rows, cols);
    }

    @Override
    public String toString() {
        return NAME + "[" + strategy + ", " + kernel.name() + "]";
    }

    /** The line {@code info} prints: strategy, kernel and threads. */
    @Override
    public String describe() {
        return strategy + " strategy, " + kernel.name() + " kernel, " + threads() + " threads";
    }
}
