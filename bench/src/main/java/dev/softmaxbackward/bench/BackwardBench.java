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
import org.nd4j.linalg.ops.transforms.Transforms;
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

/**
 * The backward pass of a [rows, cols] batch, every way this project and ND4J offer, side by side, plus
 * two copies of the same number of bytes (the bandwidth ceiling). One operation reads y and g and
 * writes gradIn: 12 bytes per entry in float32, 24 in float64; each copy moves half that many bytes
 * per entry from one array to another, so it also reads and writes 12 (24) bytes per entry.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class BackwardBench {
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

    @Setup(Level.Trial)
    public void setUp() {
        String[] rc = shape.split("x");
        rows = Integer.parseInt(rc[0]);
        cols = Integer.parseInt(rc[1]);
        f32 = dtype.equals("f32");
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        DataType type = f32 ? DataType.FLOAT : DataType.DOUBLE;

        // logits, y = softmax(logits) (by ND4J: only the data matters here), g gaussian
        x = Nd4j.rand(DataType.DOUBLE, rows, cols).muli(8).castTo(type);
        y = Transforms.softmax(x.castTo(DataType.DOUBLE), true).castTo(type);
        double[] gv = new double[n];
        for (int i = 0; i < n; i++) {
            gv[i] = rnd.nextGaussian();
        }
        g = Nd4j.createFromArray(gv).reshape('c', rows, cols).castTo(type);
        out = Nd4j.create(type, rows, cols);
        tmp = Nd4j.create(type, rows, cols);
        if (f32) {
            gF = g.data().asFloat();
            yF = y.data().asFloat();
            outF = new float[n];
            copySrcF = new float[n + n / 2];
            copyDstF = new float[n + n / 2];
        } else {
            gD = g.data().asDouble();
            yD = y.data().asDouble();
            outD = new double[n];
            copySrcD = new double[n + n / 2];
            copyDstD = new double[n + n / 2];
        }
        auto = SoftmaxBackward.backend();
        if (!(auto instanceof CpuBackend c)) {
            throw new IllegalStateException("the auto-selected backend is " + auto.name() + ", not cpu: "
                    + SoftmaxBackward.backends());
        }
        cpu = c;
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
        if (f32) {
            auto.softmaxBackward(gF, yF, outF, rows, cols);
            return outF;
        }
        auto.softmaxBackward(gD, yD, outD, rows, cols);
        return outD;
    }

    /** The same backend's INDArray entry point, into a preallocated INDArray. */
    @Benchmark
    public Object autoNdArray() {
        return cpu.softmaxBackward(g, y, out);
    }

    /** The scalar reference backend (the oracle, not written for speed). */
    @Benchmark
    public Object reference() {
        if (f32) {
            reference.softmaxBackward(gF, yF, outF, rows, cols);
            return outF;
        }
        reference.softmaxBackward(gD, yD, outD, rows, cols);
        return outD;
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
