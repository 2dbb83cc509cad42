/*
 * A probe, not part of the build (any JDK 17+): the cpu backend on [ROWS, COLS] arrays and INDArrays of one
 * dtype, CALLS calls of each back to back, five rounds, printing ns per row. Used in stop 28
 * (bench/results/cpu-stop28.md) for the fixed cost of a float32 row, and for float64 arrays on JDK 17 against 25.
 *
 *   javac -cp $(cat /tmp/cp.txt) -d /tmp/rc bench/results/probes/RowCostNdProbe.java
 *   java --add-modules jdk.incubator.vector -Dsoftmaxbackward.cpu.threads=1 -cp /tmp/rc:$(cat /tmp/cp.txt) \
 *       RowCostNdProbe ROWS COLS f32|f64 CALLS
 */
import dev.softmaxbackward.cpu.CpuBackend;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

public final class RowCostNdProbe {
    public static void main(String[] a) {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), calls = Integer.parseInt(a[3]);
        boolean f32 = a[2].equals("f32");
        CpuBackend cpu = new CpuBackend();
        int n = rows * cols;
        SplittableRandom r = new SplittableRandom(1);
        float[] gf = new float[n], yf = new float[n], of = new float[n];
        double[] gd = new double[n], yd = new double[n], od = new double[n];
        for (int i = 0; i < n; i++) {
            gd[i] = r.nextGaussian();
            yd[i] = r.nextDouble() / cols;
            gf[i] = (float) gd[i];
            yf[i] = (float) yd[i];
        }
        INDArray gn = (f32 ? Nd4j.createFromArray(gf) : Nd4j.createFromArray(gd)).reshape('c', rows, cols);
        INDArray yn = (f32 ? Nd4j.createFromArray(yf) : Nd4j.createFromArray(yd)).reshape('c', rows, cols);
        INDArray on = Nd4j.create(f32 ? DataType.FLOAT : DataType.DOUBLE, rows, cols);
        System.out.println(cpu.kernel() + ", JDK " + Runtime.version() + ", [" + rows + "," + cols + "] " + a[2]);
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                if (f32) {
                    cpu.softmaxBackward(gf, yf, of, rows, cols);
                } else {
                    cpu.softmaxBackward(gd, yd, od, rows, cols);
                }
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                cpu.softmaxBackward(gn, yn, on);
            }
            long t2 = System.nanoTime();
            System.out.printf("arrays %.1f ns/row, INDArrays %.1f ns/row%n", (t1 - t0) / (double) calls / rows,
                    (t2 - t1) / (double) calls / rows);
        }
    }
}
