/*
 * A probe, not part of the build (stop 31, bench/results/cpu-stop31.md §2): the plain-Java float32 outputs
 * loop y * (g - d) (float to double and back) in three forms on one 32768-entry row, next to the bare
 * conversion loops: "loads-first" (four entries a step, the loads first: the kernel's form on JDK 17-19),
 * "statements" (four statements a step), "plain" (one entry a step: the kernel's form on JDK 20+).
 *   javac -d /tmp/sw bench/results/probes/PlainOutputsProbe.java && java -cp /tmp/sw PlainOutputsProbe 3000
 */
public final class PlainOutputsProbe {
    static void f2d(float[] a, double[] b, int n) { for (int i = 0; i < n; i++) b[i] = a[i]; }
    static void d2f(double[] a, float[] b, int n) { for (int i = 0; i < n; i++) b[i] = (float) a[i]; }
    static void out32u(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, float d) {
        double dd = d;
        int i = 0;
        for (; i + 4 <= cols; i += 4) {
            double y0 = y[yo + i], y1 = y[yo + i + 1], y2 = y[yo + i + 2], y3 = y[yo + i + 3];
            double g0 = g[go + i], g1 = g[go + i + 1], g2 = g[go + i + 2], g3 = g[go + i + 3];
            out[oo + i] = (float) (y0 * (g0 - dd));
            out[oo + i + 1] = (float) (y1 * (g1 - dd));
            out[oo + i + 2] = (float) (y2 * (g2 - dd));
            out[oo + i + 3] = (float) (y3 * (g3 - dd));
        }
        for (; i < cols; i++) out[oo + i] = (float) ((double) y[yo + i] * ((double) g[go + i] - dd));
    }
    static float gi(float y, float g, float d) { return (float) ((double) y * ((double) g - (double) d)); }
    static void out32s(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, float d) {
        int i = 0;
        for (int end = cols & -4; i < end; i += 4) {
            out[oo + i] = gi(y[yo + i], g[go + i], d);
            out[oo + i + 1] = gi(y[yo + i + 1], g[go + i + 1], d);
            out[oo + i + 2] = gi(y[yo + i + 2], g[go + i + 2], d);
            out[oo + i + 3] = gi(y[yo + i + 3], g[go + i + 3], d);
        }
        for (; i < cols; i++) out[oo + i] = gi(y[yo + i], g[go + i], d);
    }
    static void out32p(float[] g, int go, float[] y, int yo, float[] out, int oo, int cols, float d) {
        for (int i = 0; i < cols; i++) out[oo + i] = gi(y[yo + i], g[go + i], d);
    }
    public static void main(String[] a) {
        int n = 32768, reps = Integer.parseInt(a[0]);
        float[] f = new float[n], f2 = new float[n], f3 = new float[n]; double[] d = new double[n];
        for (int i = 0; i < n; i++) { f[i] = i * 0.001f; f2[i] = 1f / (i + 1); d[i] = i * 0.5; }
        for (int round = 0; round < 5; round++) {
            long t0 = System.nanoTime();
            for (int r = 0; r < reps; r++) f2d(f, d, n);
            long t1 = System.nanoTime();
            for (int r = 0; r < reps; r++) d2f(d, f3, n);
            long t2 = System.nanoTime();
            for (int r = 0; r < reps; r++) out32u(f, 0, f2, 0, f3, 0, n, 0.5f);
            long t3 = System.nanoTime();
            for (int r = 0; r < reps; r++) out32s(f, 0, f2, 0, f3, 0, n, 0.5f);
            long t4 = System.nanoTime();
            for (int r = 0; r < reps; r++) out32p(f, 0, f2, 0, f3, 0, n, 0.5f);
            long t5 = System.nanoTime();
            double m = (double) reps * n;
            System.out.printf("f2d %.3f d2f %.3f out32 loads-first %.3f statements %.3f plain %.3f ns/entry%n", (t1 - t0) / m, (t2 - t1) / m, (t3 - t2) / m, (t4 - t3) / m, (t5 - t4) / m);
        }
    }
}
