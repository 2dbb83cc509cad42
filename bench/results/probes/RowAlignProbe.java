package dev.softmaxbackward.cpu;

import java.util.*;

/**
 * A probe, not part of the build (stop 30): one thread runs VectorKernel's float64 array row on rows that
 * start 16 bytes past a 64-byte line (skew 0, where a large array's elements start) or on a line (skew 6),
 * alternately in one process. It found that line-crossing accesses cost the float64 row up to 1.6 x its time
 * (bench/results/cpu-stop30.md section 4). In the package of the kernel, for its package-private classes:
 *
 *   javac --add-modules jdk.incubator.vector -cp $CP -d /tmp/rk bench/results/probes/RowAlignProbe.java
 *   java --add-modules jdk.incubator.vector -Xmx8g -cp /tmp/rk:$CP dev.softmaxbackward.cpu.RowAlignProbe ROWS COLS CALLS
 *   ($CP: the cpu backend's jar and its dependencies, e.g. from dependency:build-classpath)
 */
public final class RowAlignProbe {
    public static void main(String[] a) throws Exception {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), calls = Integer.parseInt(a[2]);
        int stride = (cols + 7) & -8; // rows keep one alignment
        int n = rows * stride + 64;
        double[] g = new double[n], y = new double[n], o = new double[n];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < n; i++) { g[i] = r.nextGaussian(); y[i] = r.nextDouble() * 2 / cols; }
        VectorKernel k = new VectorKernel();
        Scratch s = new Scratch(cols);
        long[][] t = new long[2][calls];
        for (int c = -20; c < calls; c++) for (int v0 = 0; v0 < 2; v0++) {
            int v = (v0 + c) & 1, sk = v == 0 ? 0 : 6;
            long t0 = System.nanoTime();
            for (int row = 0; row < rows; row++) {
                int at = row * stride + sk;
                k.backward(g, at, y, at, o, at, cols, s);
            }
            if (c >= 0) t[v][c] = System.nanoTime() - t0;
            Thread.sleep(2);
        }
        for (int v = 0; v < 2; v++) { long[] x = t[v].clone(); Arrays.sort(x); System.out.printf("skew %d: median %.1f us (%.1f GB/s)%n", v == 0 ? 0 : 6, x[calls / 2] / 1e3, rows * (double) cols * 24.0 / x[calls / 2]); }
    }
}
