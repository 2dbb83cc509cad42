/*
 * A probe, not part of the build: the cpu backend's float64 array entry point on [ROWS, COLS], CALLS calls
 * back to back, printing the time per row. Used in stop 27 (bench/results/cpu-stop27-paired-c.md) for the
 * fixed cost of a row (small COLS), with and without JFR:
 *
 *   javac -cp $(cat /tmp/cp.txt) -d /tmp/rowcost bench/results/probes/RowCostProbe.java
 *   java --add-modules jdk.incubator.vector -Dsoftmaxbackward.cpu.threads=1 -cp /tmp/rowcost:$(cat /tmp/cp.txt) \
 *       RowCostProbe 4096 32 20000
 *   (add -XX:StartFlightRecording=filename=rc.jfr,settings=profile, then: jfr print --events jdk.ExecutionSample rc.jfr)
 */
import dev.softmaxbackward.cpu.CpuBackend;
public final class RowCostProbe {
    public static void main(String[] a) {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), calls = Integer.parseInt(a[2]);
        CpuBackend cpu = new CpuBackend();
        double[] g = new double[rows * cols], y = new double[rows * cols], o = new double[rows * cols];
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int i = 0; i < g.length; i++) { g[i] = r.nextGaussian(); y[i] = r.nextDouble() / cols; }
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) cpu.softmaxBackward(g, y, o, rows, cols);
        System.out.printf("%.1f ns/row%n", (System.nanoTime() - t0) / (double) calls / rows);
    }
}
