/* A probe, not part of the build (stop 31, bench/results/cpu-stop31.md §7): CALLS calls of the cpu backend on
 * [ROWS, COLS] INDArrays (f32|f64), then on float arrays of the same shape, three rounds.
 *   javac -cp $(cat /tmp/cp.txt) -d /tmp/nd bench/results/probes/NdLoop.java
 *   java -Xmx8g -Dsoftmaxbackward.cpu.threads=1 -cp /tmp/nd:$(cat /tmp/cp.txt) NdLoop 4096 1024 100 f32
 */
import dev.softmaxbackward.cpu.CpuBackend;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
public final class NdLoop {
    public static void main(String[] a) {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), calls = Integer.parseInt(a[2]);
        DataType dt = a[3].equals("f32") ? DataType.FLOAT : DataType.DOUBLE;
        INDArray g = Nd4j.rand(dt, rows, cols), y = Nd4j.rand(dt, rows, cols).divi(cols), out = Nd4j.create(dt, rows, cols);
        float[] ga = g.castTo(DataType.FLOAT).data().asFloat(), ya = y.castTo(DataType.FLOAT).data().asFloat(), oa = new float[rows * cols];
        CpuBackend cpu = new CpuBackend();
        System.out.println("kernel " + cpu.kernel());
        for (int r = 0; r < 3; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) cpu.softmaxBackward(g, y, out);
            long t1 = System.nanoTime();
            for (int i = 0; i < calls; i++) cpu.softmaxBackward(ga, ya, oa, rows, cols);
            long t2 = System.nanoTime();
            System.out.printf("INDArray %.1f us, arrays %.1f us a call%n", (t1 - t0) / 1e3 / calls, (t2 - t1) / 1e3 / calls);
        }
    }
}
