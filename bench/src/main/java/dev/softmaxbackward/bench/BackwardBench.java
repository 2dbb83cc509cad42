package dev.softmaxbackward.bench;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.cpu.CpuBackend;
import dev.softmaxbackward.cpu.Strategy;
import dev.softmaxbackward.reference.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.gradient.SoftmaxBp;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * The backward pass of a [rows, cols] batch, every way this project and ND4J offer, side by side, plus
 * two copies of the same number of bytes (the bandwidth ceiling). One operation reads y and g and
 * writes gradIn: 12 bytes per entry in float32, 24 in float64; each copy moves half that many bytes
 * per entry from one array to another, so it also reads and writes 12 (24) bytes per entry.
 *
 * <p>The cpu backend fixes its thread count and kernel per JVM (system properties read once), so the
 * methods that pin them ({@code _t1}, {@code _t2}, {@code scalar*}) carry their own {@link Fork}
 * arguments; JMH runs every method and parameter set in a fresh fork anyway. {@code scalar*} runs
 * without {@code --add-modules jdk.incubator.vector}: the plain-Java kernel a user without the flag gets.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", BackwardBench.VECTOR_FLAG, BackwardBench.VECTOR_MODULE})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BackwardBench {
    static final String VECTOR_FLAG = "--add-modules";
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final String ONE_THREAD = "-Dsoftmaxbackward.cpu.threads=1";
    private static final String TWO_THREADS = "-Dsoftmaxbackward.cpu.threads=2";

    @Param({"64x50257", "4096x1024", "1024x32000", "32x128", "1x1024"})
    public String shape;

    @Param({"f32", "f64"})
    public String dtype;

    private int rows;
    private int cols;
    private boolean f32;

    private float[] gF;
    private float[] yF;
    private float[] outF;
    private double[] gD;
    private double[] yD;
    private double[] outD;
    private float[] copySrcF;
    private float[] copyDstF;
    private double[] copySrcD;
    private double[] copyDstD;

    private INDArray x;
    private INDArray g;
    private INDArray y;
    private INDArray out;
    private INDArray tmp;

    private SoftmaxBackwardBackend auto;
    private CpuBackend cpu;
    private CpuBackend nd4jOps;
    private ReferenceBackend reference;
    private ExecutorService copyPool;
    private int threads;

    private INDArray copySrcNd;
    private INDArray copyDstNd;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        String[] rc = shape.split("x");
        rows = Integer.parseInt(rc[0]);
        cols = Integer.parseInt(rc[1]);
        f32 = dtype.equals("f32");
        int n = rows * cols;
        String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        // logits uniform in [0, 8), y = softmax(logits) per row in float64, g gaussian; in plain Java, so
        // that a fork which never touches ND4J does not start it.
        SplittableRandom rnd = new SplittableRandom(1);
        double[] xv = new double[n];
        double[] yv = new double[n];
        double[] gv = new double[n];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                xv[i] = 8 * rnd.nextDouble();
                yv[i] = Math.exp(xv[i]);
                sum += yv[i];
            }
            for (int i = r * cols; i < (r + 1) * cols; i++) {
                yv[i] /= sum;
                gv[i] = rnd.nextGaussian();
            }
        }
        boolean copy = method.startsWith("copy") && !method.contains("Nd4j");
        if (f32) {
            gF = Floats.of(gv);
            yF = Floats.of(yv);
            outF = new float[n];
            copySrcF = copy ? new float[n + n / 2] : null;
            copyDstF = copy ? new float[n + n / 2] : null;
        } else {
            gD = gv;
            yD = yv;
            outD = new double[n];
            copySrcD = copy ? new double[n + n / 2] : null;
            copyDstD = copy ? new double[n + n / 2] : null;
        }
        if (method.contains("NdArray") || method.startsWith("nd4j") || method.contains("Nd4j")) {
            DataType type = f32 ? DataType.FLOAT : DataType.DOUBLE;
            x = f32 ? Nd4j.createFromArray(Floats.of(xv)).reshape('c', rows, cols)
                    : Nd4j.createFromArray(xv).reshape('c', rows, cols);
            g = f32 ? Nd4j.createFromArray(gF).reshape('c', rows, cols) : Nd4j.createFromArray(gD).reshape('c', rows, cols);
            y = f32 ? Nd4j.createFromArray(yF).reshape('c', rows, cols) : Nd4j.createFromArray(yD).reshape('c', rows, cols);
            out = Nd4j.create(type, rows, cols);
            tmp = Nd4j.create(type, rows, cols);
            if (method.contains("Nd4j")) {
                copySrcNd = Nd4j.create(type, n + n / 2);
                copyDstNd = Nd4j.create(type, n + n / 2);
            }
        }
        auto = SoftmaxBackward.backend();
        if (!(auto instanceof CpuBackend c)) {
            throw new IllegalStateException("the auto-selected backend is " + auto.name() + ", not cpu: "
                    + SoftmaxBackward.backends());
        }
        cpu = c;
        if (method.startsWith("scalar") ? !cpu.kernel().startsWith("scalar") : !cpu.kernel().startsWith("vector")) {
            // a wrong kernel would make every ratio below meaningless: stop instead of measuring it
            throw new IllegalStateException(method + " runs on kernel " + cpu.kernel());
        }
        nd4jOps = cpu.withStrategy(Strategy.ND4J_OPS);
        reference = new ReferenceBackend();
        threads = cpu.threads();
        copyPool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "copy");
            t.setDaemon(true);
            return t;
        });
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        copyPool.shutdownNow();
    }

    /** The facade's backend (cpu, fused kernel) on Java arrays. */
    @Benchmark
    public Object autoArrays() {
        return arrays(auto);
    }

    /** The same backend's INDArray entry point, into a preallocated INDArray. */
    @Benchmark
    public Object autoNdArray() {
        return cpu.softmaxBackward(g, y, out);
    }

    /** The scalar reference backend (the oracle, not written for speed). */
    @Benchmark
    public Object reference() {
        return arrays(reference);
    }

    /** The cpu backend's nd4j-ops strategy (ND4J row-wise ops in float64) on INDArrays. */
    @Benchmark
    public Object nd4jOpsStrategy() {
        return nd4jOps.softmaxBackward(g, y, out);
    }

    /** ND4J composed ops, as a user would write them: {@code y.mul(g.subColumnVector(y.mul(g).sum(true, 1)))}. */
    @Benchmark
    public Object nd4jComposed() {
        return y.mul(g.subColumnVector(y.mul(g).sum(true, 1)));
    }

    /** ND4J in-place ops into preallocated arrays: tmp = y*g, d = sum(tmp), out = (g - d) * y. */
    @Benchmark
    public Object nd4jInPlace() {
        INDArray d = tmp.assign(y).muli(g).sum(true, 1);
        return out.assign(g).subiColumnVector(d).muli(y);
    }

    /** ND4J's own softmax_bp op: takes the logits, recomputes softmax, then the backward pass. */
    @Benchmark
    public Object nd4jSoftmaxBp() {
        Nd4j.exec(new SoftmaxBp(x, g, out, 1));
        return out;
    }

    /** The cpu backend on arrays, one thread. */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Xmx6g", VECTOR_FLAG, VECTOR_MODULE, ONE_THREAD})
    public Object cpuArrays_t1() {
        return arrays(cpu);
    }

    /** The cpu backend on arrays, two threads. */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Xmx6g", VECTOR_FLAG, VECTOR_MODULE, TWO_THREADS})
    public Object cpuArrays_t2() {
        return arrays(cpu);
    }

    /** The cpu backend on INDArrays (zero-copy, off-heap), one thread. */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Xmx6g", VECTOR_FLAG, VECTOR_MODULE, ONE_THREAD})
    public Object cpuNdArray_t1() {
        return cpu.softmaxBackward(g, y, out);
    }

    /** The cpu backend on INDArrays, two threads. */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Xmx6g", VECTOR_FLAG, VECTOR_MODULE, TWO_THREADS})
    public Object cpuNdArray_t2() {
        return cpu.softmaxBackward(g, y, out);
    }

    /** The plain-Java kernel (no Vector API module in this fork) on arrays, one thread. */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Xmx6g", ONE_THREAD})
    public Object scalarArrays_t1() {
        return arrays(cpu);
    }

    /** The plain-Java kernel on arrays, two threads. */
    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"-Xmx6g", TWO_THREADS})
    public Object scalarArrays_t2() {
        return arrays(cpu);
    }

    /** One call of {@code backend} on the Java arrays of the trial's dtype; returns the output. */
    private Object arrays(SoftmaxBackwardBackend backend) {
        if (f32) {
            backend.softmaxBackward(gF, yF, outF, rows, cols);
            return outF;
        }
        backend.softmaxBackward(gD, yD, outD, rows, cols);
        return outD;
    }

    /** ND4J's assign of one INDArray into another, as many bytes as the operation reads and writes. */
    @Benchmark
    public Object copyNd4jAssign() {
        return copyDstNd.assign(copySrcNd);
    }

    /** System.arraycopy of as many bytes as the operation reads and writes. */
    @Benchmark
    public Object copyArraycopy() {
        if (f32) {
            System.arraycopy(copySrcF, 0, copyDstF, 0, copySrcF.length);
            return copyDstF;
        }
        System.arraycopy(copySrcD, 0, copyDstD, 0, copySrcD.length);
        return copyDstD;
    }

    /** The same copy split over the backend's thread count. */
    @Benchmark
    public Object copyParallel() throws Exception {
        Object src = f32 ? copySrcF : copySrcD;
        Object dst = f32 ? copyDstF : copyDstD;
        int length = f32 ? copySrcF.length : copySrcD.length;
        if (threads == 1 || (long) rows * cols < (1 << 15)) {
            System.arraycopy(src, 0, dst, 0, length);
            return dst;
        }
        List<Future<?>> parts = new ArrayList<>(threads);
        for (int t = 1; t < threads; t++) {
            int from = (int) ((long) t * length / threads);
            int to = (int) ((long) (t + 1) * length / threads);
            parts.add(copyPool.submit(() -> System.arraycopy(src, from, dst, from, to - from)));
        }
        System.arraycopy(src, 0, dst, 0, (int) ((long) length / threads));
        for (Future<?> f : parts) {
            f.get();
        }
        return dst;
    }
}
