/*
 * A probe, not part of the build (stop 30): JDK 17's float32 INDArray sums pass (BufferKernel.passFloat on
 * fromByteBuffer) with 256-bit float loads (as shipped: 8 per 32 entries, each with the ByteBuffer's checks
 * and fences) against 512-bit loads (4 per 32 entries) widened in two halves: 1 the upper half by
 * convertShape(F2D, D, 1), 2 by a rearrange that swaps the halves and a reinterpretShape to 256 bits. Same
 * sums, same bits (checked). Results in bench/results/cpu-stop30.md: 1 is 2.7-5.3 x the time (JDK 17 does
 * not intrinsify it), 2 takes 0.81 x in cache and 0.95 x memory-bound, too little for the row (its outputs
 * pass, not its sums, holds the loss: probes/Float32OutputsProbe.java).
 *
 *   javac --add-modules jdk.incubator.vector -d /tmp/fb bench/results/probes/Float32LoadProbe.java
 *   java --add-modules jdk.incubator.vector -Xmx8g -cp /tmp/fb Float32LoadProbe ROWS COLS CALLS THREADS [VARIANTS, default 012]
 */
import java.nio.*;
import java.util.*;
import java.util.concurrent.*;
import jdk.incubator.vector.*;
public final class Float32LoadProbe {
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_512;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Float> F2 = FloatVector.SPECIES_512;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static int stride = 32;
    static final VectorShuffle<Float> SWAP = VectorShuffle.fromOp(F2, i -> (i + 8) % 16);
    static DoubleVector widen(FloatVector v) { return (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0); }
    static DoubleVector widenHi(FloatVector v) { return (DoubleVector) v.convertShape(VectorOperators.F2D, D, 1); }
    static DoubleVector widenSwap(FloatVector v) { return widen((FloatVector) v.rearrange(SWAP).reinterpretShape(F, 0)); }
    static DoubleVector widenLo(FloatVector v) { return widen((FloatVector) v.reinterpretShape(F, 0)); }

    static void pass256(ByteBuffer g, long gi0, ByteBuffer y, long yi0, int full, double[] s) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int st = stride;
        for (int k = 0; k < full; k += st) {
            long yi = yi0 + 4L * k, gi = gi0 + 4L * k;
            DoubleVector y0 = widen(FloatVector.fromByteBuffer(F, y, (int) yi, LE));
            DoubleVector y1 = widen(FloatVector.fromByteBuffer(F, y, (int) (yi + 32), LE));
            DoubleVector y2 = widen(FloatVector.fromByteBuffer(F, y, (int) (yi + 64), LE));
            DoubleVector y3 = widen(FloatVector.fromByteBuffer(F, y, (int) (yi + 96), LE));
            a0 = a0.add(y0); a1 = a1.add(y1); a2 = a2.add(y2); a3 = a3.add(y3);
            b0 = y0.fma(widen(FloatVector.fromByteBuffer(F, g, (int) gi, LE)), b0);
            b1 = y1.fma(widen(FloatVector.fromByteBuffer(F, g, (int) (gi + 32), LE)), b1);
            b2 = y2.fma(widen(FloatVector.fromByteBuffer(F, g, (int) (gi + 64), LE)), b2);
            b3 = y3.fma(widen(FloatVector.fromByteBuffer(F, g, (int) (gi + 96), LE)), b3);
        }
        a0.intoArray(s, 0); a1.intoArray(s, 8); a2.intoArray(s, 16); a3.intoArray(s, 24);
        b0.intoArray(s, 32); b1.intoArray(s, 40); b2.intoArray(s, 48); b3.intoArray(s, 56);
    }

    static void pass512(ByteBuffer g, long gi0, ByteBuffer y, long yi0, int full, double[] s, boolean swap) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int st = stride;
        for (int k = 0; k < full; k += st) {
            long yi = yi0 + 4L * k, gi = gi0 + 4L * k;
            FloatVector ya = FloatVector.fromByteBuffer(F2, y, (int) yi, LE), yb = FloatVector.fromByteBuffer(F2, y, (int) (yi + 64), LE);
            FloatVector ga = FloatVector.fromByteBuffer(F2, g, (int) gi, LE), gb = FloatVector.fromByteBuffer(F2, g, (int) (gi + 64), LE);
            DoubleVector y0 = widenLo(ya), y1 = swap ? widenSwap(ya) : widenHi(ya), y2 = widenLo(yb), y3 = swap ? widenSwap(yb) : widenHi(yb);
            a0 = a0.add(y0); a1 = a1.add(y1); a2 = a2.add(y2); a3 = a3.add(y3);
            b0 = y0.fma(widenLo(ga), b0);
            b1 = y1.fma(swap ? widenSwap(ga) : widenHi(ga), b1);
            b2 = y2.fma(widenLo(gb), b2);
            b3 = y3.fma(swap ? widenSwap(gb) : widenHi(gb), b3);
        }
        a0.intoArray(s, 0); a1.intoArray(s, 8); a2.intoArray(s, 16); a3.intoArray(s, 24);
        b0.intoArray(s, 32); b1.intoArray(s, 40); b2.intoArray(s, 48); b3.intoArray(s, 56);
    }
    static void passHi(ByteBuffer g, long gi0, ByteBuffer y, long yi0, int full, double[] s) { pass512(g, gi0, y, yi0, full, s, false); }
    static void passSwap(ByteBuffer g, long gi0, ByteBuffer y, long yi0, int full, double[] s) { pass512(g, gi0, y, yi0, full, s, true); }

    interface RowFn { void row(int r, double[] s); }
    public static void main(String[] a) throws Exception {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), calls = Integer.parseInt(a[2]), threads = Integer.parseInt(a[3]);
        String sel = a.length > 4 ? a[4] : "012";
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        ByteBuffer gb = ByteBuffer.allocateDirect(4 * n + 64).order(LE), yb = ByteBuffer.allocateDirect(4 * n + 64).order(LE);
        for (int i = 0; i < n; i++) { gb.putFloat(4 * i, (float) rnd.nextGaussian()); yb.putFloat(4 * i, (float) (rnd.nextDouble() * 2 / cols)); }
        int full = 4096;
        RowFn[] fns = {
            (r, s) -> { for (int st = 0; st < cols; st += full) pass256(gb, 4L * (r * cols + st), yb, 4L * (r * cols + st), Math.min(full, cols - st) & -32, s); },
            (r, s) -> { for (int st = 0; st < cols; st += full) passHi(gb, 4L * (r * cols + st), yb, 4L * (r * cols + st), Math.min(full, cols - st) & -32, s); },
            (r, s) -> { for (int st = 0; st < cols; st += full) passSwap(gb, 4L * (r * cols + st), yb, 4L * (r * cols + st), Math.min(full, cols - st) & -32, s); },
        };
        String[] names = {"256-bit loads (shipped)", "512-bit, convertShape part 1", "512-bit, rearrange+reinterpret"};
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads - 1));
        double[][] scratch = new double[threads][128];
        long[][] t = new long[fns.length][calls];
        double[][] check = new double[fns.length][];
        for (int c = -30; c < calls; c++) for (int s = 0; s < fns.length; s++) {
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
            check[v] = scratch[0].clone();
            Thread.sleep(2);
        }
        pool.shutdown();
        System.out.println("[" + rows + "," + cols + "] threads " + threads + " JDK " + Runtime.version());
        for (int v = 0; v < fns.length; v++) {
            if (sel.indexOf('0' + v) < 0) continue;
            long[] s = t[v].clone(); Arrays.sort(s);
            double[] rr = new double[calls]; for (int i = 0; i < calls; i++) rr[i] = (double) t[v][i] / t[0][i]; Arrays.sort(rr);
            System.out.printf("%-30s median %8.1f us p10 %8.1f p90 %8.1f  %6.2f GB/s  time x shipped %.3f  same bits %b%n", names[v], s[calls/2]/1e3, s[calls/10]/1e3, s[calls*9/10]/1e3, n*8.0/s[calls/2], rr[calls/2], Arrays.equals(check[v], check[0]));
        }
    }
}
