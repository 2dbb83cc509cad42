/*
 * A probe, not part of the build (stop 31, bench/results/cpu-stop31.md): the plain-Java kernel's float64 double-double lane
 * sums of a row's 4096-entry segments in three forms, checked lane for lane against each other:
 *   passes  - the kernel's form before stop 31 §9: two lanes in locals per pass, each segment read sixteen times;
 *   lanes   - one sweep per segment, 32 entries at a time into lane arrays (an inner loop over the lanes,
 *             which C2 vectorizes only for float32 on JDK 20+: for float64 the lane arrays and the row are
 *             all double[], which SuperWord cannot tell apart);
 *   passes4 - four lanes a pass, eight passes (the kernel's form since stop 31 §9).
 *   chunked (in the file, no longer run) - the passes over 512- or 1024-entry chunks (-Dchunk=N): no faster.
 *   javac -d /tmp/sw bench/results/probes/LaneSweepProbe.java
 *   java -cp /tmp/sw LaneSweepProbe ROWS COLS REPS      # e.g. 1024 32768 2 (memory), 32 32768 20 (L3), 1 4096 100000 (L1)
 */
import java.util.SplittableRandom;

public final class LaneSweepProbe {
    static final int LANES = 32;
    // current: two lanes per pass, 16 passes per segment
    static void passes(double[] g, double[] y, int start, int full, double[] aS, double[] aC, double[] bS, double[] bC) {
        for (int lo = 0; lo < LANES; lo += 2) {
            int gi0 = start + lo, yi0 = start + lo;
            double as0 = 0, ac0 = 0, bs0 = 0, bc0 = 0, as1 = 0, ac1 = 0, bs1 = 0, bc1 = 0;
            for (int k = 0; k < full; k += LANES) {
                double y0 = y[yi0 + k], g0 = g[gi0 + k], y1 = y[yi0 + k + 1], g1 = g[gi0 + k + 1];
                double t = as0 + y0, v = t - as0;
                ac0 = ac0 + ((as0 - (t - v)) + (y0 - v));
                as0 = t;
                double p = y0 * g0, q = Math.fma(y0, g0, -p);
                t = bs0 + p;
                v = t - bs0;
                bc0 = bc0 + (q + ((bs0 - (t - v)) + (p - v)));
                bs0 = t;
                t = as1 + y1;
                v = t - as1;
                ac1 = ac1 + ((as1 - (t - v)) + (y1 - v));
                as1 = t;
                p = y1 * g1;
                q = Math.fma(y1, g1, -p);
                t = bs1 + p;
                v = t - bs1;
                bc1 = bc1 + (q + ((bs1 - (t - v)) + (p - v)));
                bs1 = t;
            }
            aS[lo] = as0; aC[lo] = ac0; bS[lo] = bs0; bC[lo] = bc0;
            aS[lo + 1] = as1; aC[lo + 1] = ac1; bS[lo + 1] = bs1; bC[lo + 1] = bc1;
        }
    }
    static void chunked(double[] g, double[] y, int start, int full, double[] aS, double[] aC, double[] bS, double[] bC) {
        java.util.Arrays.fill(aS, 0, LANES, 0.0);
        java.util.Arrays.fill(aC, 0, LANES, 0.0);
        java.util.Arrays.fill(bS, 0, LANES, 0.0);
        java.util.Arrays.fill(bC, 0, LANES, 0.0);
        for (int c = 0; c < full; c += CHUNK) {
            int end = Math.min(CHUNK, full - c);
            for (int lo = 0; lo < LANES; lo += 2) {
                int gi0 = start + c + lo, yi0 = start + c + lo;
                double as0 = aS[lo], ac0 = aC[lo], bs0 = bS[lo], bc0 = bC[lo];
                double as1 = aS[lo + 1], ac1 = aC[lo + 1], bs1 = bS[lo + 1], bc1 = bC[lo + 1];
                for (int k = 0; k < end; k += LANES) {
                    double y0 = y[yi0 + k], g0 = g[gi0 + k], y1 = y[yi0 + k + 1], g1 = g[gi0 + k + 1];
                    double t = as0 + y0, v = t - as0;
                    ac0 = ac0 + ((as0 - (t - v)) + (y0 - v));
                    as0 = t;
                    double p = y0 * g0, q = Math.fma(y0, g0, -p);
                    t = bs0 + p;
                    v = t - bs0;
                    bc0 = bc0 + (q + ((bs0 - (t - v)) + (p - v)));
                    bs0 = t;
                    t = as1 + y1;
                    v = t - as1;
                    ac1 = ac1 + ((as1 - (t - v)) + (y1 - v));
                    as1 = t;
                    p = y1 * g1;
                    q = Math.fma(y1, g1, -p);
                    t = bs1 + p;
                    v = t - bs1;
                    bc1 = bc1 + (q + ((bs1 - (t - v)) + (p - v)));
                    bs1 = t;
                }
                aS[lo] = as0; aC[lo] = ac0; bS[lo] = bs0; bC[lo] = bc0;
                aS[lo + 1] = as1; aC[lo + 1] = ac1; bS[lo + 1] = bs1; bC[lo + 1] = bc1;
            }
        }
    }
    static void passes4(double[] g, double[] y, int start, int full, double[] aS, double[] aC, double[] bS, double[] bC) {
        for (int lo = 0; lo < LANES; lo += 4) {
            int i0 = start + lo;
            double as0 = 0, ac0 = 0, bs0 = 0, bc0 = 0, as1 = 0, ac1 = 0, bs1 = 0, bc1 = 0;
            double as2 = 0, ac2 = 0, bs2 = 0, bc2 = 0, as3 = 0, ac3 = 0, bs3 = 0, bc3 = 0;
            for (int k = 0; k < full; k += LANES) {
                int i = i0 + k;
                double y0 = y[i], g0 = g[i], y1 = y[i + 1], g1 = g[i + 1], y2 = y[i + 2], g2 = g[i + 2], y3 = y[i + 3], g3 = g[i + 3];
                double t, v, p, q;
                t = as0 + y0; v = t - as0; ac0 = ac0 + ((as0 - (t - v)) + (y0 - v)); as0 = t;
                p = y0 * g0; q = Math.fma(y0, g0, -p); t = bs0 + p; v = t - bs0; bc0 = bc0 + (q + ((bs0 - (t - v)) + (p - v))); bs0 = t;
                t = as1 + y1; v = t - as1; ac1 = ac1 + ((as1 - (t - v)) + (y1 - v)); as1 = t;
                p = y1 * g1; q = Math.fma(y1, g1, -p); t = bs1 + p; v = t - bs1; bc1 = bc1 + (q + ((bs1 - (t - v)) + (p - v))); bs1 = t;
                t = as2 + y2; v = t - as2; ac2 = ac2 + ((as2 - (t - v)) + (y2 - v)); as2 = t;
                p = y2 * g2; q = Math.fma(y2, g2, -p); t = bs2 + p; v = t - bs2; bc2 = bc2 + (q + ((bs2 - (t - v)) + (p - v))); bs2 = t;
                t = as3 + y3; v = t - as3; ac3 = ac3 + ((as3 - (t - v)) + (y3 - v)); as3 = t;
                p = y3 * g3; q = Math.fma(y3, g3, -p); t = bs3 + p; v = t - bs3; bc3 = bc3 + (q + ((bs3 - (t - v)) + (p - v))); bs3 = t;
            }
            aS[lo] = as0; aC[lo] = ac0; bS[lo] = bs0; bC[lo] = bc0;
            aS[lo + 1] = as1; aC[lo + 1] = ac1; bS[lo + 1] = bs1; bC[lo + 1] = bc1;
            aS[lo + 2] = as2; aC[lo + 2] = ac2; bS[lo + 2] = bs2; bC[lo + 2] = bc2;
            aS[lo + 3] = as3; aC[lo + 3] = ac3; bS[lo + 3] = bs3; bC[lo + 3] = bc3;
        }
    }
    static int CHUNK = Integer.getInteger("chunk", 1024);
    // superword: all 32 lanes in arrays, an inner loop over the lanes
    static void lanes(double[] g, double[] y, int start, int full, double[] aS, double[] aC, double[] bS, double[] bC) {
        java.util.Arrays.fill(aS, 0, LANES, 0.0);
        java.util.Arrays.fill(aC, 0, LANES, 0.0);
        java.util.Arrays.fill(bS, 0, LANES, 0.0);
        java.util.Arrays.fill(bC, 0, LANES, 0.0);
        for (int k = 0; k < full; k += LANES) {
            int at = start + k;
            for (int l = 0; l < LANES; l++) {
                double yv = y[at + l], gv = g[at + l];
                double as = aS[l];
                double t = as + yv, v = t - as;
                aC[l] = aC[l] + ((as - (t - v)) + (yv - v));
                aS[l] = t;
                double bs = bS[l];
                double p = yv * gv, q = Math.fma(yv, gv, -p);
                double u = bs + p, w = u - bs;
                bC[l] = bC[l] + (q + ((bs - (u - w)) + (p - w)));
                bS[l] = u;
            }
        }
    }

    public static void main(String[] a) {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), reps = Integer.parseInt(a[2]);
        int n = rows * cols;
        double[] g = new double[n], y = new double[n];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < n; i++) { g[i] = r.nextGaussian(); y[i] = r.nextDouble() * 2 / cols; }
        double[] aS = new double[40], aC = new double[40], bS = new double[40], bC = new double[40];
        double[] xS = new double[40], xC = new double[40], zS = new double[40], zC = new double[40];
        int seg = 4096;
        // bits
        for (int row = 0; row < rows; row++) for (int st = 0; st + seg <= cols; st += seg) {
            passes(g, y, row * cols + st, seg, aS, aC, bS, bC);
            lanes(g, y, row * cols + st, seg, xS, xC, zS, zC);
            for (int l = 0; l < 32; l++) if (aS[l] != xS[l] || aC[l] != xC[l] || bS[l] != zS[l] || bC[l] != zC[l]) throw new AssertionError("lane " + l);
            passes4(g, y, row * cols + st, seg, xS, xC, zS, zC);
            for (int l = 0; l < 32; l++) if (aS[l] != xS[l] || aC[l] != xC[l] || bS[l] != zS[l] || bC[l] != zC[l]) throw new AssertionError("lane " + l);
        }
        for (int round = 0; round < 6; round++) {
            for (int m = 0; m < 3; m++) {
                long t0 = System.nanoTime();
                for (int rep = 0; rep < reps; rep++)
                    for (int row = 0; row < rows; row++) for (int st = 0; st + seg <= cols; st += seg)
                        if (m == 0) passes(g, y, row * cols + st, seg, aS, aC, bS, bC); else if (m == 1) lanes(g, y, row * cols + st, seg, xS, xC, zS, zC); else passes4(g, y, row * cols + st, seg, xS, xC, zS, zC);
                long dt = System.nanoTime() - t0;
                double ent = (double) reps * rows * (cols / seg * seg);
                System.out.printf("%s %.2f ns/entry %.1f GB/s%n", m == 0 ? "passes " : m == 1 ? "lanes  " : "passes4", dt / ent, ent * 16 / dt);
            }
        }
    }
}
