/*
 * A probe, not part of the build: the cpu backend's public entry points on the same data, as Java
 * arrays and as INDArrays (ND4J's off-heap memory), called alternately in one JVM, so that both see the
 * same heap, the same pages and the same neighbours on the VM. Before ND4J starts, the arrays alone are
 * timed too, and again after. Used in stop 22 (bench/results/cpu-history.md) for the INDArray-vs-C gap on JDK 25.
 *
 *   javac -cp $(cat /tmp/cp.txt) -d /tmp/ndprobe bench/results/probes/NdArrayProbe.java
 *   java --add-modules jdk.incubator.vector -Xmx8g -Dsoftmaxbackward.cpu.threads=1|2 \
 *       -cp /tmp/ndprobe:$(cat /tmp/cp.txt) NdArrayProbe ROWS COLS REPEATS [f32|f64]
 *
 * (/tmp/cp.txt as in RowLoopProbe.java.) Prints the median, min and max over REPEATS calls after 5 warm-up calls.
 * The dtype is float64 unless the fourth argument is f32 (added in stop 26).
 */
import dev.softmaxbackward.cpu.CpuBackend;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

public final class NdArrayProbe {
    public static void main(String[] args) {
        int rows = Integer.parseInt(args[0]);
        int cols = Integer.parseInt(args[1]);
        int repeats = Integer.parseInt(args[2]);
        boolean f32 = args.length > 3 && args[3].equals("f32");
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        double[] g = new double[n], y = new double[n], out = new double[n];
        for (int i = 0; i < n; i++) {
            g[i] = rnd.nextGaussian();
            y[i] = rnd.nextDouble() / cols;
        }
        float[] gf = new float[n], yf = new float[n], outf = new float[n];
        for (int i = 0; i < n; i++) {
            gf[i] = (float) g[i];
            yf[i] = (float) y[i];
        }
        CpuBackend cpu = new CpuBackend();
        Runnable arrays = f32 ? () -> cpu.softmaxBackward(gf, yf, outf, rows, cols)
                : () -> cpu.softmaxBackward(g, y, out, rows, cols);
        report("arrays, before ND4J starts", time(repeats, arrays));
        INDArray gn = (f32 ? Nd4j.createFromArray(gf) : Nd4j.createFromArray(g)).reshape('c', rows, cols);
        INDArray yn = (f32 ? Nd4j.createFromArray(yf) : Nd4j.createFromArray(y)).reshape('c', rows, cols);
        INDArray on = Nd4j.create(f32 ? DataType.FLOAT : DataType.DOUBLE, rows, cols);
        Runnable ndArrays = () -> cpu.softmaxBackward(gn, yn, on);
        System.out.println("kernel " + cpu.kernel() + ", threads " + cpu.threads() + ", [" + rows + "," + cols + "] "
                + (f32 ? "float32" : "float64"));
        System.out.println("ND4J buffer addresses mod 64: g " + gn.data().address() % 64 + ", y "
                + yn.data().address() % 64 + ", out " + on.data().address() % 64);
        long[][] t = new long[2][repeats];
        for (int rep = -5; rep < repeats; rep++) {
            for (int v = 0; v < 2; v++) {
                long t0 = System.nanoTime();
                (v == 0 ? arrays : ndArrays).run();
                if (rep >= 0) {
                    t[v][rep] = System.nanoTime() - t0;
                }
            }
        }
        report("arrays, alternating", t[0]);
        report("INDArrays, alternating", t[1]);
        report("arrays, after ND4J started", time(repeats, arrays));
    }

    private static long[] time(int repeats, Runnable call) {
        long[] t = new long[repeats];
        for (int rep = -5; rep < repeats; rep++) {
            long t0 = System.nanoTime();
            call.run();
            if (rep >= 0) {
                t[rep] = System.nanoTime() - t0;
            }
        }
        return t;
    }

    private static void report(String what, long[] times) {
        long[] t = times.clone();
        Arrays.sort(t);
        System.out.printf("%s: median %.3f ms (min %.3f, max %.3f)%n", what, t[t.length / 2] / 1e6, t[0] / 1e6,
                t[t.length - 1] / 1e6);
    }
}
