/*
 * A probe, not part of the build (stop 31, bench/results/cpu-stop31.md): the plain-Java kernel's float32 lane
 * sums of a row's 4096-entry segments in three forms, checked lane for lane against each other:
 *   passes  - the kernel's form on JDK 17-19 (and on all JDKs before stop 31): four lanes in locals per pass, each segment read eight times;
 *   lanes   - one sweep per segment, 32 entries at a time into lane arrays (an inner loop over the lanes,
 *             which C2 vectorizes only for float32 on JDK 20+: for float64 the lane arrays and the row are
 *             all double[], which SuperWord cannot tell apart);
 *   lanes4  - the sweep with four blocks per lane step.
 *   javac -d /tmp/sw bench/results/probes/LaneSweepProbe32.java
 *   java -cp /tmp/sw LaneSweepProbe32 ROWS COLS REPS      # e.g. 1024 32768 2 (memory), 32 32768 20 (L3), 1 4096 100000 (L1)
 */
import java.util.SplittableRandom;

public final class LaneSweepProbe32 {
    static final int LANES = 32;
    static void passes(float[] g, float[] y, int start, int full, double[] aS, double[] bS) {
        for (int lo = 0; lo < LANES; lo += 4) {
            int gi0 = start + lo, yi0 = start + lo;
            double a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
            for (int k = 0; k < full; k += LANES) {
                int yi = yi0 + k, gi = gi0 + k;
                double y0 = y[yi], y1 = y[yi + 1], y2 = y[yi + 2], y3 = y[yi + 3];
                a0 += y0; a1 += y1; a2 += y2; a3 += y3;
                b0 += y0 * (double) g[gi]; b1 += y1 * (double) g[gi + 1];
                b2 += y2 * (double) g[gi + 2]; b3 += y3 * (double) g[gi + 3];
            }
            aS[lo] = a0; aS[lo + 1] = a1; aS[lo + 2] = a2; aS[lo + 3] = a3;
            bS[lo] = b0; bS[lo + 1] = b1; bS[lo + 2] = b2; bS[lo + 3] = b3;
        }
    }
    static void lanes(float[] g, float[] y, int start, int full, double[] aS, double[] bS) {
        java.util.Arrays.fill(aS, 0, LANES, 0.0);
        java.util.Arrays.fill(bS, 0, LANES, 0.0);
        for (int k = 0; k < full; k += LANES) {
            int at = start + k;
            for (int l = 0; l < LANES; l++) {
                double yv = y[at + l];
                aS[l] = aS[l] + yv;
                bS[l] = bS[l] + yv * (double) g[at + l];
            }
        }
    }

    static void lanes4(float[] g, float[] y, int start, int full, double[] aS, double[] bS) {
        java.util.Arrays.fill(aS, 0, LANES, 0.0);
        java.util.Arrays.fill(bS, 0, LANES, 0.0);
        int k = 0;
        for (; k + 4 * LANES <= full; k += 4 * LANES) {
            int at = start + k;
            for (int l = 0; l < LANES; l++) {
                double y0 = y[at + l], y1 = y[at + 32 + l], y2 = y[at + 64 + l], y3 = y[at + 96 + l];
                aS[l] = aS[l] + y0 + y1 + y2 + y3;
                bS[l] = bS[l] + y0 * (double) g[at + l] + y1 * (double) g[at + 32 + l] + y2 * (double) g[at + 64 + l] + y3 * (double) g[at + 96 + l];
            }
        }
        for (; k < full; k += LANES) {
            int at = start + k;
            for (int l = 0; l < LANES; l++) {
                double yv = y[at + l];
                aS[l] = aS[l] + yv;
                bS[l] = bS[l] + yv * (double) g[at + l];
            }
        }
    }

    public static void main(String[] a) {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), reps = Integer.parseInt(a[2]);
        int n = rows * cols;
        float[] g = new float[n], y = new float[n];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < n; i++) { g[i] = (float) r.nextGaussian(); y[i] = (float) (r.nextDouble() * 2 / cols); }
        double[] aS = new double[40], bS = new double[40], xS = new double[40], zS = new double[40];
        int seg = 4096;
        for (int row = 0; row < rows; row++) for (int st = 0; st + seg <= cols; st += seg) {
            passes(g, y, row * cols + st, seg, aS, bS);
            lanes4(g, y, row * cols + st, seg, xS, zS);
            for (int l = 0; l < 32; l++) if (aS[l] != xS[l] || bS[l] != zS[l]) throw new AssertionError("lane " + l);
        }
        for (int round = 0; round < 6; round++) {
            for (int m = 0; m < 3; m++) {
                long t0 = System.nanoTime();
                for (int rep = 0; rep < reps; rep++)
                    for (int row = 0; row < rows; row++) for (int st = 0; st + seg <= cols; st += seg)
                        if (m == 0) passes(g, y, row * cols + st, seg, aS, bS); else if (m == 1) lanes(g, y, row * cols + st, seg, xS, zS); else lanes4(g, y, row * cols + st, seg, xS, zS);
                long dt = System.nanoTime() - t0;
                double ent = (double) reps * rows * (cols / seg * seg);
                System.out.printf("%s %.2f ns/entry %.1f GB/s%n", m == 0 ? "passes" : m == 1 ? "lanes " : "lanes4", dt / ent, ent * 8 / dt);
            }
        }
    }
}
