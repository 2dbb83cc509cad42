/*
 * A probe, not part of the build (stop 29): the float64 sums pass over arrays, as VectorKernel.pass, in ten
 * forms, timed alternately in one process on 2 threads (the caller and one pool thread), each call's order
 * rotated (GB/s: the two input streams / time): 0 the fma(-1)/fma(1) forms of TwoSum's adds and subtracts
 * (as shipped until stop 29), 1 the same with the stride in a field, 2 plain adds and subtracts (the same
 * bits; shipped since stop 29), 3 plain in two passes of 16 lanes each, 4 plain written vector by vector,
 * 5 the fma forms on a direct ByteBuffer (JDK 17 only: fromByteBuffer is gone from JDK 20); added in stop 30:
 * 6 and 7 plain with one constant vector, -1, for two or four of each chain's subtracts in fma(-1) form
 * (to move them to the FMA pipes without the second constant), 8 plain with the two sums in two loops over
 * the segment (8 accumulators each; the second loop reads y again, from cache), 9 plain with its loads in
 * address order, a VarHandle.loadLoadFence() between each y/g pair and the next. It found
 * JDK 17's float64 array loss: C2 on JDK 17 spills seven accumulators of the fma-form loop to the stack
 * (disassembly of the nmethod, -XX:CompileCommand=print), and memory-bound that loop ran at 20-33 GB/s
 * against 33-44 for plain adds and 36-46 for the buffer loop. Results in bench/results/cpu-stop29.md
 * and (6-9, none faster than 2 on JDK 17 beyond the noise) cpu-stop30.md.
 *
 *   javac --add-modules jdk.incubator.vector -d /tmp/pp2 bench/results/probes/PassProbe.java
 *   java --add-modules jdk.incubator.vector -Xmx8g -cp /tmp/pp2 PassProbe ROWS COLS CALLS THREADS [VARIANTS, default 012345; 6-9 by digit]
 *   (on JDK 20+ leave out variant 5: VARIANTS 01234)
 */
import java.nio.*;
import java.util.*;
import jdk.incubator.vector.*;
import java.util.concurrent.*;
public final class PassProbe {
    interface RowFn { void row(int r, double[] s); }
    public static void main(String[] a) throws Exception {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), calls = Integer.parseInt(a[2]), threads = Integer.parseInt(a[3]);
        String sel = a.length > 4 ? a[4] : "012345";
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        double[] g = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) { g[i] = rnd.nextGaussian(); y[i] = rnd.nextDouble() * 2 / cols; }
        ByteBuffer gb = ByteBuffer.allocateDirect(8 * n + 64).order(ByteOrder.LITTLE_ENDIAN), yb = ByteBuffer.allocateDirect(8 * n + 64).order(ByteOrder.LITTLE_ENDIAN);
        gb.asDoubleBuffer().put(g); yb.asDoubleBuffer().put(y);
        int full = 4096;
        RowFn[] fns = {
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.arrFma(g, r * cols + st, y, r * cols + st, Math.min(full, cols - st) & -32, s); },
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.arrFmaField(g, r * cols + st, y, r * cols + st, Math.min(full, cols - st) & -32, s); },
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.arrPlain(g, r * cols + st, y, r * cols + st, Math.min(full, cols - st) & -32, s); },
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.arrHalves(g, r * cols + st, y, r * cols + st, Math.min(full, cols - st) & -32, s); },
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.arrGrouped(g, r * cols + st, y, r * cols + st, Math.min(full, cols - st) & -32, s); },
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.bufFma(gb, r * cols + st, yb, r * cols + st, Math.min(full, cols - st) & -32, s); },
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.arrMinus(g, r * cols + st, y, r * cols + st, Math.min(full, cols - st) & -32, s, false); },
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.arrMinus(g, r * cols + st, y, r * cols + st, Math.min(full, cols - st) & -32, s, true); },
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.arrSplit(g, r * cols + st, y, r * cols + st, Math.min(full, cols - st) & -32, s); },
            (r, s) -> { for (int st = 0; st < cols; st += full) Passes.arrFenced(g, r * cols + st, y, r * cols + st, Math.min(full, cols - st) & -32, s); },
        };
        String[] names = {"arrays, fma (until stop 29)", "arrays, fma, stride field", "arrays, plain add/sub", "arrays, plain, two halves", "arrays, plain, grouped", "direct buffer, fma", "arrays, minus: 2 subs/chain", "arrays, minus: 4 subs/chain", "arrays, plain, split sums", "arrays, plain, fence y,g pairs"};
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads - 1));
        double[][] scratch = new double[threads][128 + 64];
        long[][] t = new long[fns.length][calls];
        double[] check = new double[fns.length];
        for (int c = -20; c < calls; c++) for (int s = 0; s < fns.length; s++) {
            int v = (s + Math.floorMod(c, fns.length)) % fns.length;
            if (sel.indexOf('0' + v) < 0) continue;
            RowFn f = fns[v];
            long t0 = System.nanoTime();
            int per = rows / threads;
            List<Future<?>> fs = new ArrayList<>();
            for (int th = 1; th < threads; th++) { final int th0 = th; fs.add(pool.submit(() -> { for (int r = th0 * per; r < (th0 == threads - 1 ? rows : (th0 + 1) * per); r++) f.row(r, scratch[th0]); })); }
            for (int r = 0; r < per; r++) f.row(r, scratch[0]);
            for (Future<?> x : fs) x.get();
            long d = System.nanoTime() - t0;
            if (c >= 0) t[v][c] = d;
            check[v] = scratch[0][5] + scratch[0][70];
            Thread.sleep(2);
        }
        pool.shutdown();
        System.out.println("[" + rows + "," + cols + "] threads " + threads + " JDK " + Runtime.version());
        for (int v = 0; v < fns.length; v++) {
            if (sel.indexOf('0' + v) < 0) continue;
            long[] s = t[v].clone(); Arrays.sort(s);
            double[] rr = new double[calls]; for (int i = 0; i < calls; i++) rr[i] = (double) t[v][i] / t[0][i]; Arrays.sort(rr);
            System.out.printf("%-28s median %8.1f us p10 %8.1f p90 %8.1f  %6.2f GB/s  time x shipped %.3f  (%s)%n", names[v], s[calls/2]/1e3, s[calls/10]/1e3, s[calls*9/10]/1e3, n*16.0/s[calls/2], rr[calls/2], check[v]);
        }
    }
}

final class Passes {
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_512;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static int stride = 32;

    static void arrFma(double[] g, int gi0, double[] y, int yi0, int full, double[] s) {

        DoubleVector z = DoubleVector.zero(D);
        DoubleVector one = DoubleVector.broadcast(D, 1.0), minus = DoubleVector.broadcast(D, -1.0);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;

        int st = 32;
        for (int k = 0; k < full; k += st) {
            int yi = yi0 + k, gi = gi0 + k;

            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), y1 = DoubleVector.fromArray(D, y, yi + 8);
            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 16), y3 = DoubleVector.fromArray(D, y, yi + 24);
            DoubleVector g0 = DoubleVector.fromArray(D, g, gi), g1 = DoubleVector.fromArray(D, g, gi + 8);
            DoubleVector g2 = DoubleVector.fromArray(D, g, gi + 16), g3 = DoubleVector.fromArray(D, g, gi + 24);

            DoubleVector t0 = as0.add(y0), t1 = as1.add(y1), t2 = as2.add(y2), t3 = as3.add(y3);
            DoubleVector v0 = as0.fma(minus, t0), v1 = as1.fma(minus, t1), v2 = as2.fma(minus, t2), v3 = as3.fma(minus, t3);
            ac0 = ac0.add(t0.sub(v0).fma(minus, as0).fma(one, y0.sub(v0)));
            ac1 = ac1.add(t1.sub(v1).fma(minus, as1).fma(one, y1.sub(v1)));
            ac2 = ac2.add(t2.sub(v2).fma(minus, as2).fma(one, y2.sub(v2)));
            ac3 = ac3.add(t3.sub(v3).fma(minus, as3).fma(one, y3.sub(v3)));
            as0 = t0; as1 = t1; as2 = t2; as3 = t3;
            DoubleVector p0 = y0.mul(g0), p1 = y1.mul(g1), p2 = y2.mul(g2), p3 = y3.mul(g3);
            DoubleVector q0 = y0.fma(g0, p0.neg()), q1 = y1.fma(g1, p1.neg());
            DoubleVector q2 = y2.fma(g2, p2.neg()), q3 = y3.fma(g3, p3.neg());
            DoubleVector u0 = bs0.add(p0), u1 = bs1.add(p1), u2 = bs2.add(p2), u3 = bs3.add(p3);
            DoubleVector w0 = bs0.fma(minus, u0), w1 = bs1.fma(minus, u1), w2 = bs2.fma(minus, u2), w3 = bs3.fma(minus, u3);
            bc0 = bc0.add(q0.add(u0.sub(w0).fma(minus, bs0).fma(one, p0.sub(w0))));
            bc1 = bc1.add(q1.add(u1.sub(w1).fma(minus, bs1).fma(one, p1.sub(w1))));
            bc2 = bc2.add(q2.add(u2.sub(w2).fma(minus, bs2).fma(one, p2.sub(w2))));
            bc3 = bc3.add(q3.add(u3.sub(w3).fma(minus, bs3).fma(one, p3.sub(w3))));
            bs0 = u0; bs1 = u1; bs2 = u2; bs3 = u3;

        }

        as0.intoArray(s, 0); as1.intoArray(s, 8); as2.intoArray(s, 16); as3.intoArray(s, 24);
        ac0.intoArray(s, 32); ac1.intoArray(s, 40); ac2.intoArray(s, 48); ac3.intoArray(s, 56);
        bs0.intoArray(s, 64); bs1.intoArray(s, 72); bs2.intoArray(s, 80); bs3.intoArray(s, 88);
        bc0.intoArray(s, 96); bc1.intoArray(s, 104); bc2.intoArray(s, 112); bc3.intoArray(s, 120);

    }

    static void arrFmaField(double[] g, int gi0, double[] y, int yi0, int full, double[] s) {

        DoubleVector z = DoubleVector.zero(D);
        DoubleVector one = DoubleVector.broadcast(D, 1.0), minus = DoubleVector.broadcast(D, -1.0);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;

        int st = stride;
        for (int k = 0; k < full; k += st) {
            int yi = yi0 + k, gi = gi0 + k;

            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), y1 = DoubleVector.fromArray(D, y, yi + 8);
            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 16), y3 = DoubleVector.fromArray(D, y, yi + 24);
            DoubleVector g0 = DoubleVector.fromArray(D, g, gi), g1 = DoubleVector.fromArray(D, g, gi + 8);
            DoubleVector g2 = DoubleVector.fromArray(D, g, gi + 16), g3 = DoubleVector.fromArray(D, g, gi + 24);

            DoubleVector t0 = as0.add(y0), t1 = as1.add(y1), t2 = as2.add(y2), t3 = as3.add(y3);
            DoubleVector v0 = as0.fma(minus, t0), v1 = as1.fma(minus, t1), v2 = as2.fma(minus, t2), v3 = as3.fma(minus, t3);
            ac0 = ac0.add(t0.sub(v0).fma(minus, as0).fma(one, y0.sub(v0)));
            ac1 = ac1.add(t1.sub(v1).fma(minus, as1).fma(one, y1.sub(v1)));
            ac2 = ac2.add(t2.sub(v2).fma(minus, as2).fma(one, y2.sub(v2)));
            ac3 = ac3.add(t3.sub(v3).fma(minus, as3).fma(one, y3.sub(v3)));
            as0 = t0; as1 = t1; as2 = t2; as3 = t3;
            DoubleVector p0 = y0.mul(g0), p1 = y1.mul(g1), p2 = y2.mul(g2), p3 = y3.mul(g3);
            DoubleVector q0 = y0.fma(g0, p0.neg()), q1 = y1.fma(g1, p1.neg());
            DoubleVector q2 = y2.fma(g2, p2.neg()), q3 = y3.fma(g3, p3.neg());
            DoubleVector u0 = bs0.add(p0), u1 = bs1.add(p1), u2 = bs2.add(p2), u3 = bs3.add(p3);
            DoubleVector w0 = bs0.fma(minus, u0), w1 = bs1.fma(minus, u1), w2 = bs2.fma(minus, u2), w3 = bs3.fma(minus, u3);
            bc0 = bc0.add(q0.add(u0.sub(w0).fma(minus, bs0).fma(one, p0.sub(w0))));
            bc1 = bc1.add(q1.add(u1.sub(w1).fma(minus, bs1).fma(one, p1.sub(w1))));
            bc2 = bc2.add(q2.add(u2.sub(w2).fma(minus, bs2).fma(one, p2.sub(w2))));
            bc3 = bc3.add(q3.add(u3.sub(w3).fma(minus, bs3).fma(one, p3.sub(w3))));
            bs0 = u0; bs1 = u1; bs2 = u2; bs3 = u3;

        }

        as0.intoArray(s, 0); as1.intoArray(s, 8); as2.intoArray(s, 16); as3.intoArray(s, 24);
        ac0.intoArray(s, 32); ac1.intoArray(s, 40); ac2.intoArray(s, 48); ac3.intoArray(s, 56);
        bs0.intoArray(s, 64); bs1.intoArray(s, 72); bs2.intoArray(s, 80); bs3.intoArray(s, 88);
        bc0.intoArray(s, 96); bc1.intoArray(s, 104); bc2.intoArray(s, 112); bc3.intoArray(s, 120);

    }

    static void arrPlain(double[] g, int gi0, double[] y, int yi0, int full, double[] s) {

        DoubleVector z = DoubleVector.zero(D);
        DoubleVector one = DoubleVector.broadcast(D, 1.0), minus = DoubleVector.broadcast(D, -1.0);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;

        int st = 32;
        for (int k = 0; k < full; k += st) {
            int yi = yi0 + k, gi = gi0 + k;

            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), y1 = DoubleVector.fromArray(D, y, yi + 8);
            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 16), y3 = DoubleVector.fromArray(D, y, yi + 24);
            DoubleVector g0 = DoubleVector.fromArray(D, g, gi), g1 = DoubleVector.fromArray(D, g, gi + 8);
            DoubleVector g2 = DoubleVector.fromArray(D, g, gi + 16), g3 = DoubleVector.fromArray(D, g, gi + 24);

            DoubleVector t0 = as0.add(y0), t1 = as1.add(y1), t2 = as2.add(y2), t3 = as3.add(y3);
            DoubleVector v0 = t0.sub(as0), v1 = t1.sub(as1), v2 = t2.sub(as2), v3 = t3.sub(as3);
            ac0 = ac0.add(as0.sub(t0.sub(v0)).add(y0.sub(v0)));
            ac1 = ac1.add(as1.sub(t1.sub(v1)).add(y1.sub(v1)));
            ac2 = ac2.add(as2.sub(t2.sub(v2)).add(y2.sub(v2)));
            ac3 = ac3.add(as3.sub(t3.sub(v3)).add(y3.sub(v3)));
            as0 = t0; as1 = t1; as2 = t2; as3 = t3;
            DoubleVector p0 = y0.mul(g0), p1 = y1.mul(g1), p2 = y2.mul(g2), p3 = y3.mul(g3);
            DoubleVector q0 = y0.fma(g0, p0.neg()), q1 = y1.fma(g1, p1.neg());
            DoubleVector q2 = y2.fma(g2, p2.neg()), q3 = y3.fma(g3, p3.neg());
            DoubleVector u0 = bs0.add(p0), u1 = bs1.add(p1), u2 = bs2.add(p2), u3 = bs3.add(p3);
            DoubleVector w0 = u0.sub(bs0), w1 = u1.sub(bs1), w2 = u2.sub(bs2), w3 = u3.sub(bs3);
            bc0 = bc0.add(q0.add(bs0.sub(u0.sub(w0)).add(p0.sub(w0))));
            bc1 = bc1.add(q1.add(bs1.sub(u1.sub(w1)).add(p1.sub(w1))));
            bc2 = bc2.add(q2.add(bs2.sub(u2.sub(w2)).add(p2.sub(w2))));
            bc3 = bc3.add(q3.add(bs3.sub(u3.sub(w3)).add(p3.sub(w3))));
            bs0 = u0; bs1 = u1; bs2 = u2; bs3 = u3;

        }

        as0.intoArray(s, 0); as1.intoArray(s, 8); as2.intoArray(s, 16); as3.intoArray(s, 24);
        ac0.intoArray(s, 32); ac1.intoArray(s, 40); ac2.intoArray(s, 48); ac3.intoArray(s, 56);
        bs0.intoArray(s, 64); bs1.intoArray(s, 72); bs2.intoArray(s, 80); bs3.intoArray(s, 88);
        bc0.intoArray(s, 96); bc1.intoArray(s, 104); bc2.intoArray(s, 112); bc3.intoArray(s, 120);

    }

    static void arrGrouped(double[] g, int gi0, double[] y, int yi0, int full, double[] s) {

        DoubleVector z = DoubleVector.zero(D);
        DoubleVector one = DoubleVector.broadcast(D, 1.0), minus = DoubleVector.broadcast(D, -1.0);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;

        int st = 32;
        for (int k = 0; k < full; k += st) {
            int yi = yi0 + k, gi = gi0 + k;

            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), y1 = DoubleVector.fromArray(D, y, yi + 8);
            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 16), y3 = DoubleVector.fromArray(D, y, yi + 24);
            DoubleVector g0 = DoubleVector.fromArray(D, g, gi), g1 = DoubleVector.fromArray(D, g, gi + 8);
            DoubleVector g2 = DoubleVector.fromArray(D, g, gi + 16), g3 = DoubleVector.fromArray(D, g, gi + 24);


            DoubleVector t0 = as0.add(y0);
            DoubleVector v0 = t0.sub(as0);
            ac0 = ac0.add(as0.sub(t0.sub(v0)).add(y0.sub(v0)));
            as0 = t0;
            DoubleVector p0 = y0.mul(g0);
            DoubleVector q0 = y0.fma(g0, p0.neg());
            DoubleVector u0 = bs0.add(p0);
            DoubleVector w0 = u0.sub(bs0);
            bc0 = bc0.add(q0.add(bs0.sub(u0.sub(w0)).add(p0.sub(w0))));
            bs0 = u0;

            DoubleVector t1 = as1.add(y1);
            DoubleVector v1 = t1.sub(as1);
            ac1 = ac1.add(as1.sub(t1.sub(v1)).add(y1.sub(v1)));
            as1 = t1;
            DoubleVector p1 = y1.mul(g1);
            DoubleVector q1 = y1.fma(g1, p1.neg());
            DoubleVector u1 = bs1.add(p1);
            DoubleVector w1 = u1.sub(bs1);
            bc1 = bc1.add(q1.add(bs1.sub(u1.sub(w1)).add(p1.sub(w1))));
            bs1 = u1;

            DoubleVector t2 = as2.add(y2);
            DoubleVector v2 = t2.sub(as2);
            ac2 = ac2.add(as2.sub(t2.sub(v2)).add(y2.sub(v2)));
            as2 = t2;
            DoubleVector p2 = y2.mul(g2);
            DoubleVector q2 = y2.fma(g2, p2.neg());
            DoubleVector u2 = bs2.add(p2);
            DoubleVector w2 = u2.sub(bs2);
            bc2 = bc2.add(q2.add(bs2.sub(u2.sub(w2)).add(p2.sub(w2))));
            bs2 = u2;

            DoubleVector t3 = as3.add(y3);
            DoubleVector v3 = t3.sub(as3);
            ac3 = ac3.add(as3.sub(t3.sub(v3)).add(y3.sub(v3)));
            as3 = t3;
            DoubleVector p3 = y3.mul(g3);
            DoubleVector q3 = y3.fma(g3, p3.neg());
            DoubleVector u3 = bs3.add(p3);
            DoubleVector w3 = u3.sub(bs3);
            bc3 = bc3.add(q3.add(bs3.sub(u3.sub(w3)).add(p3.sub(w3))));
            bs3 = u3;
        }

        as0.intoArray(s, 0); as1.intoArray(s, 8); as2.intoArray(s, 16); as3.intoArray(s, 24);
        ac0.intoArray(s, 32); ac1.intoArray(s, 40); ac2.intoArray(s, 48); ac3.intoArray(s, 56);
        bs0.intoArray(s, 64); bs1.intoArray(s, 72); bs2.intoArray(s, 80); bs3.intoArray(s, 88);
        bc0.intoArray(s, 96); bc1.intoArray(s, 104); bc2.intoArray(s, 112); bc3.intoArray(s, 120);

    }

    static void bufFma(ByteBuffer g, int gi0, ByteBuffer y, int yi0, int full, double[] s) {

        DoubleVector z = DoubleVector.zero(D);
        DoubleVector one = DoubleVector.broadcast(D, 1.0), minus = DoubleVector.broadcast(D, -1.0);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;

        int st = 32;
        for (int k = 0; k < full; k += st) {
            int yi = yi0 + k, gi = gi0 + k;

            DoubleVector y0 = DoubleVector.fromByteBuffer(D, y, 8 * yi, LE), y1 = DoubleVector.fromByteBuffer(D, y, 8 * yi + 64, LE);
            DoubleVector y2 = DoubleVector.fromByteBuffer(D, y, 8 * yi + 128, LE), y3 = DoubleVector.fromByteBuffer(D, y, 8 * yi + 192, LE);
            DoubleVector g0 = DoubleVector.fromByteBuffer(D, g, 8 * gi, LE), g1 = DoubleVector.fromByteBuffer(D, g, 8 * gi + 64, LE);
            DoubleVector g2 = DoubleVector.fromByteBuffer(D, g, 8 * gi + 128, LE), g3 = DoubleVector.fromByteBuffer(D, g, 8 * gi + 192, LE);

            DoubleVector t0 = as0.add(y0), t1 = as1.add(y1), t2 = as2.add(y2), t3 = as3.add(y3);
            DoubleVector v0 = as0.fma(minus, t0), v1 = as1.fma(minus, t1), v2 = as2.fma(minus, t2), v3 = as3.fma(minus, t3);
            ac0 = ac0.add(t0.sub(v0).fma(minus, as0).fma(one, y0.sub(v0)));
            ac1 = ac1.add(t1.sub(v1).fma(minus, as1).fma(one, y1.sub(v1)));
            ac2 = ac2.add(t2.sub(v2).fma(minus, as2).fma(one, y2.sub(v2)));
            ac3 = ac3.add(t3.sub(v3).fma(minus, as3).fma(one, y3.sub(v3)));
            as0 = t0; as1 = t1; as2 = t2; as3 = t3;
            DoubleVector p0 = y0.mul(g0), p1 = y1.mul(g1), p2 = y2.mul(g2), p3 = y3.mul(g3);
            DoubleVector q0 = y0.fma(g0, p0.neg()), q1 = y1.fma(g1, p1.neg());
            DoubleVector q2 = y2.fma(g2, p2.neg()), q3 = y3.fma(g3, p3.neg());
            DoubleVector u0 = bs0.add(p0), u1 = bs1.add(p1), u2 = bs2.add(p2), u3 = bs3.add(p3);
            DoubleVector w0 = bs0.fma(minus, u0), w1 = bs1.fma(minus, u1), w2 = bs2.fma(minus, u2), w3 = bs3.fma(minus, u3);
            bc0 = bc0.add(q0.add(u0.sub(w0).fma(minus, bs0).fma(one, p0.sub(w0))));
            bc1 = bc1.add(q1.add(u1.sub(w1).fma(minus, bs1).fma(one, p1.sub(w1))));
            bc2 = bc2.add(q2.add(u2.sub(w2).fma(minus, bs2).fma(one, p2.sub(w2))));
            bc3 = bc3.add(q3.add(u3.sub(w3).fma(minus, bs3).fma(one, p3.sub(w3))));
            bs0 = u0; bs1 = u1; bs2 = u2; bs3 = u3;

        }

        as0.intoArray(s, 0); as1.intoArray(s, 8); as2.intoArray(s, 16); as3.intoArray(s, 24);
        ac0.intoArray(s, 32); ac1.intoArray(s, 40); ac2.intoArray(s, 48); ac3.intoArray(s, 56);
        bs0.intoArray(s, 64); bs1.intoArray(s, 72); bs2.intoArray(s, 80); bs3.intoArray(s, 88);
        bc0.intoArray(s, 96); bc1.intoArray(s, 104); bc2.intoArray(s, 112); bc3.intoArray(s, 120);

    }

    static void half(double[] g, int gi0, double[] y, int yi0, int full, double[] s, int lo) {
        DoubleVector z = DoubleVector.zero(D);
        DoubleVector as0 = z, as1 = z, ac0 = z, ac1 = z, bs0 = z, bs1 = z, bc0 = z, bc1 = z;
        for (int k = 0; k < full; k += 32) {
            int yi = yi0 + k + lo, gi = gi0 + k + lo;
            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), y1 = DoubleVector.fromArray(D, y, yi + 8);
            DoubleVector g0 = DoubleVector.fromArray(D, g, gi), g1 = DoubleVector.fromArray(D, g, gi + 8);

            DoubleVector t0 = as0.add(y0);
            DoubleVector v0 = t0.sub(as0);
            ac0 = ac0.add(as0.sub(t0.sub(v0)).add(y0.sub(v0)));
            as0 = t0;
            DoubleVector p0 = y0.mul(g0);
            DoubleVector q0 = y0.fma(g0, p0.neg());
            DoubleVector u0 = bs0.add(p0);
            DoubleVector w0 = u0.sub(bs0);
            bc0 = bc0.add(q0.add(bs0.sub(u0.sub(w0)).add(p0.sub(w0))));
            bs0 = u0;

            DoubleVector t1 = as1.add(y1);
            DoubleVector v1 = t1.sub(as1);
            ac1 = ac1.add(as1.sub(t1.sub(v1)).add(y1.sub(v1)));
            as1 = t1;
            DoubleVector p1 = y1.mul(g1);
            DoubleVector q1 = y1.fma(g1, p1.neg());
            DoubleVector u1 = bs1.add(p1);
            DoubleVector w1 = u1.sub(bs1);
            bc1 = bc1.add(q1.add(bs1.sub(u1.sub(w1)).add(p1.sub(w1))));
            bs1 = u1;

        }
        as0.intoArray(s, lo); as1.intoArray(s, lo + 8); ac0.intoArray(s, 32 + lo); ac1.intoArray(s, 40 + lo);
        bs0.intoArray(s, 64 + lo); bs1.intoArray(s, 72 + lo); bc0.intoArray(s, 96 + lo); bc1.intoArray(s, 104 + lo);
    }
    static void arrHalves(double[] g, int gi0, double[] y, int yi0, int full, double[] s) {
        half(g, gi0, y, yi0, full, s, 0);
        half(g, gi0, y, yi0, full, s, 16);
    }

    static void arrSplit(double[] g, int gi0, double[] y, int yi0, int full, double[] s) {
        DoubleVector z = DoubleVector.zero(D);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        for (int k = 0; k < full; k += 32) {
            int yi = yi0 + k;
            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), y1 = DoubleVector.fromArray(D, y, yi + 8);
            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 16), y3 = DoubleVector.fromArray(D, y, yi + 24);
            DoubleVector t0 = as0.add(y0), t1 = as1.add(y1), t2 = as2.add(y2), t3 = as3.add(y3);
            DoubleVector v0 = t0.sub(as0), v1 = t1.sub(as1), v2 = t2.sub(as2), v3 = t3.sub(as3);
            ac0 = ac0.add(as0.sub(t0.sub(v0)).add(y0.sub(v0)));
            ac1 = ac1.add(as1.sub(t1.sub(v1)).add(y1.sub(v1)));
            ac2 = ac2.add(as2.sub(t2.sub(v2)).add(y2.sub(v2)));
            ac3 = ac3.add(as3.sub(t3.sub(v3)).add(y3.sub(v3)));
            as0 = t0; as1 = t1; as2 = t2; as3 = t3;
        }
        as0.intoArray(s, 0); as1.intoArray(s, 8); as2.intoArray(s, 16); as3.intoArray(s, 24);
        ac0.intoArray(s, 32); ac1.intoArray(s, 40); ac2.intoArray(s, 48); ac3.intoArray(s, 56);
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;
        for (int k = 0; k < full; k += 32) {
            int yi = yi0 + k, gi = gi0 + k;
            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), y1 = DoubleVector.fromArray(D, y, yi + 8);
            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 16), y3 = DoubleVector.fromArray(D, y, yi + 24);
            DoubleVector g0 = DoubleVector.fromArray(D, g, gi), g1 = DoubleVector.fromArray(D, g, gi + 8);
            DoubleVector g2 = DoubleVector.fromArray(D, g, gi + 16), g3 = DoubleVector.fromArray(D, g, gi + 24);
            DoubleVector p0 = y0.mul(g0), p1 = y1.mul(g1), p2 = y2.mul(g2), p3 = y3.mul(g3);
            DoubleVector q0 = y0.fma(g0, p0.neg()), q1 = y1.fma(g1, p1.neg());
            DoubleVector q2 = y2.fma(g2, p2.neg()), q3 = y3.fma(g3, p3.neg());
            DoubleVector u0 = bs0.add(p0), u1 = bs1.add(p1), u2 = bs2.add(p2), u3 = bs3.add(p3);
            DoubleVector w0 = u0.sub(bs0), w1 = u1.sub(bs1), w2 = u2.sub(bs2), w3 = u3.sub(bs3);
            bc0 = bc0.add(q0.add(bs0.sub(u0.sub(w0)).add(p0.sub(w0))));
            bc1 = bc1.add(q1.add(bs1.sub(u1.sub(w1)).add(p1.sub(w1))));
            bc2 = bc2.add(q2.add(bs2.sub(u2.sub(w2)).add(p2.sub(w2))));
            bc3 = bc3.add(q3.add(bs3.sub(u3.sub(w3)).add(p3.sub(w3))));
            bs0 = u0; bs1 = u1; bs2 = u2; bs3 = u3;
        }
        bs0.intoArray(s, 64); bs1.intoArray(s, 72); bs2.intoArray(s, 80); bs3.intoArray(s, 88);
        bc0.intoArray(s, 96); bc1.intoArray(s, 104); bc2.intoArray(s, 112); bc3.intoArray(s, 120);
    }

    static void arrMinus(double[] g, int gi0, double[] y, int yi0, int full, double[] s, boolean more) {
        DoubleVector z = DoubleVector.zero(D);
        DoubleVector minus = DoubleVector.broadcast(D, -1.0);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;
        for (int k = 0; k < full; k += 32) {
            int yi = yi0 + k, gi = gi0 + k;
            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), y1 = DoubleVector.fromArray(D, y, yi + 8);
            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 16), y3 = DoubleVector.fromArray(D, y, yi + 24);
            DoubleVector g0 = DoubleVector.fromArray(D, g, gi), g1 = DoubleVector.fromArray(D, g, gi + 8);
            DoubleVector g2 = DoubleVector.fromArray(D, g, gi + 16), g3 = DoubleVector.fromArray(D, g, gi + 24);
            DoubleVector t0 = as0.add(y0), t1 = as1.add(y1), t2 = as2.add(y2), t3 = as3.add(y3);
            DoubleVector v0 = t0.sub(as0), v1 = t1.sub(as1), v2 = t2.sub(as2), v3 = t3.sub(as3);
            if (more) {
                ac0 = ac0.add(t0.sub(v0).fma(minus, as0).add(v0.fma(minus, y0)));
                ac1 = ac1.add(t1.sub(v1).fma(minus, as1).add(v1.fma(minus, y1)));
                ac2 = ac2.add(t2.sub(v2).fma(minus, as2).add(v2.fma(minus, y2)));
                ac3 = ac3.add(t3.sub(v3).fma(minus, as3).add(v3.fma(minus, y3)));
            } else {
                ac0 = ac0.add(t0.sub(v0).fma(minus, as0).add(y0.sub(v0)));
                ac1 = ac1.add(t1.sub(v1).fma(minus, as1).add(y1.sub(v1)));
                ac2 = ac2.add(t2.sub(v2).fma(minus, as2).add(y2.sub(v2)));
                ac3 = ac3.add(t3.sub(v3).fma(minus, as3).add(y3.sub(v3)));
            }
            as0 = t0; as1 = t1; as2 = t2; as3 = t3;
            DoubleVector p0 = y0.mul(g0), p1 = y1.mul(g1), p2 = y2.mul(g2), p3 = y3.mul(g3);
            DoubleVector q0 = y0.fma(g0, p0.neg()), q1 = y1.fma(g1, p1.neg());
            DoubleVector q2 = y2.fma(g2, p2.neg()), q3 = y3.fma(g3, p3.neg());
            DoubleVector u0 = bs0.add(p0), u1 = bs1.add(p1), u2 = bs2.add(p2), u3 = bs3.add(p3);
            DoubleVector w0 = u0.sub(bs0), w1 = u1.sub(bs1), w2 = u2.sub(bs2), w3 = u3.sub(bs3);
            if (more) {
                bc0 = bc0.add(q0.add(u0.sub(w0).fma(minus, bs0).add(w0.fma(minus, p0))));
                bc1 = bc1.add(q1.add(u1.sub(w1).fma(minus, bs1).add(w1.fma(minus, p1))));
                bc2 = bc2.add(q2.add(u2.sub(w2).fma(minus, bs2).add(w2.fma(minus, p2))));
                bc3 = bc3.add(q3.add(u3.sub(w3).fma(minus, bs3).add(w3.fma(minus, p3))));
            } else {
                bc0 = bc0.add(q0.add(u0.sub(w0).fma(minus, bs0).add(p0.sub(w0))));
                bc1 = bc1.add(q1.add(u1.sub(w1).fma(minus, bs1).add(p1.sub(w1))));
                bc2 = bc2.add(q2.add(u2.sub(w2).fma(minus, bs2).add(p2.sub(w2))));
                bc3 = bc3.add(q3.add(u3.sub(w3).fma(minus, bs3).add(p3.sub(w3))));
            }
            bs0 = u0; bs1 = u1; bs2 = u2; bs3 = u3;
        }
        as0.intoArray(s, 0); as1.intoArray(s, 8); as2.intoArray(s, 16); as3.intoArray(s, 24);
        ac0.intoArray(s, 32); ac1.intoArray(s, 40); ac2.intoArray(s, 48); ac3.intoArray(s, 56);
        bs0.intoArray(s, 64); bs1.intoArray(s, 72); bs2.intoArray(s, 80); bs3.intoArray(s, 88);
        bc0.intoArray(s, 96); bc1.intoArray(s, 104); bc2.intoArray(s, 112); bc3.intoArray(s, 120);
    }


    static void arrFenced(double[] g, int gi0, double[] y, int yi0, int full, double[] s) {
        DoubleVector z = DoubleVector.zero(D);
        DoubleVector as0 = z, as1 = z, as2 = z, as3 = z, ac0 = z, ac1 = z, ac2 = z, ac3 = z;
        DoubleVector bs0 = z, bs1 = z, bs2 = z, bs3 = z, bc0 = z, bc1 = z, bc2 = z, bc3 = z;
        for (int k = 0; k < full; k += 32) {
            int yi = yi0 + k, gi = gi0 + k;
            // loads in address order: each y/g pair fenced from the next, so C2 may not reorder them
            DoubleVector y0 = DoubleVector.fromArray(D, y, yi), g0 = DoubleVector.fromArray(D, g, gi);
            java.lang.invoke.VarHandle.loadLoadFence();
            DoubleVector y1 = DoubleVector.fromArray(D, y, yi + 8), g1 = DoubleVector.fromArray(D, g, gi + 8);
            java.lang.invoke.VarHandle.loadLoadFence();
            DoubleVector y2 = DoubleVector.fromArray(D, y, yi + 16), g2 = DoubleVector.fromArray(D, g, gi + 16);
            java.lang.invoke.VarHandle.loadLoadFence();
            DoubleVector y3 = DoubleVector.fromArray(D, y, yi + 24), g3 = DoubleVector.fromArray(D, g, gi + 24);
            DoubleVector t0 = as0.add(y0), t1 = as1.add(y1), t2 = as2.add(y2), t3 = as3.add(y3);
            DoubleVector v0 = t0.sub(as0), v1 = t1.sub(as1), v2 = t2.sub(as2), v3 = t3.sub(as3);
            ac0 = ac0.add(as0.sub(t0.sub(v0)).add(y0.sub(v0)));
            ac1 = ac1.add(as1.sub(t1.sub(v1)).add(y1.sub(v1)));
            ac2 = ac2.add(as2.sub(t2.sub(v2)).add(y2.sub(v2)));
            ac3 = ac3.add(as3.sub(t3.sub(v3)).add(y3.sub(v3)));
            as0 = t0; as1 = t1; as2 = t2; as3 = t3;
            DoubleVector p0 = y0.mul(g0), p1 = y1.mul(g1), p2 = y2.mul(g2), p3 = y3.mul(g3);
            DoubleVector q0 = y0.fma(g0, p0.neg()), q1 = y1.fma(g1, p1.neg());
            DoubleVector q2 = y2.fma(g2, p2.neg()), q3 = y3.fma(g3, p3.neg());
            DoubleVector u0 = bs0.add(p0), u1 = bs1.add(p1), u2 = bs2.add(p2), u3 = bs3.add(p3);
            DoubleVector w0 = u0.sub(bs0), w1 = u1.sub(bs1), w2 = u2.sub(bs2), w3 = u3.sub(bs3);
            bc0 = bc0.add(q0.add(bs0.sub(u0.sub(w0)).add(p0.sub(w0))));
            bc1 = bc1.add(q1.add(bs1.sub(u1.sub(w1)).add(p1.sub(w1))));
            bc2 = bc2.add(q2.add(bs2.sub(u2.sub(w2)).add(p2.sub(w2))));
            bc3 = bc3.add(q3.add(bs3.sub(u3.sub(w3)).add(p3.sub(w3))));
            bs0 = u0; bs1 = u1; bs2 = u2; bs3 = u3;
        }
        as0.intoArray(s, 0); as1.intoArray(s, 8); as2.intoArray(s, 16); as3.intoArray(s, 24);
        ac0.intoArray(s, 32); ac1.intoArray(s, 40); ac2.intoArray(s, 48); ac3.intoArray(s, 56);
        bs0.intoArray(s, 64); bs1.intoArray(s, 72); bs2.intoArray(s, 80); bs3.intoArray(s, 88);
        bc0.intoArray(s, 96); bc1.intoArray(s, 104); bc2.intoArray(s, 112); bc3.intoArray(s, 120);
    }
}
