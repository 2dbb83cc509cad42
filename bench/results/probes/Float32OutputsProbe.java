/*
 * A probe, not part of the build (stop 30): JDK 17's float32 INDArray outputs loop (BufferKernel.outputs on
 * fromByteBuffer/intoByteBuffer): 256-bit loads and stores (as shipped: 3 accesses per 8 entries, each with
 * the ByteBuffer's checks and fences) against 512-bit loads widened in two halves, with two 256-bit stores
 * or one 512-bit store of the two halves blended, and (3) the same 256-bit loop on heap arrays. Same
 * outputs, same bits (checked against variant 0). Results in bench/results/cpu-stop30.md: memory-bound the
 * buffer loop runs as fast as the array loop (0.88-1.16), in cache it takes 1.7 x the array loop's time,
 * and the 512-bit loads gain nothing (1.00-1.02 x in cache, 1.0-1.56 x memory-bound). In a row the outputs
 * pass reads the rows that the sums pass has just brought into cache.
 *
 *   javac --add-modules jdk.incubator.vector -d /tmp/fb bench/results/probes/Float32OutputsProbe.java
 *   java --add-modules jdk.incubator.vector -Xmx8g -cp /tmp/fb Float32OutputsProbe ROWS COLS CALLS THREADS [VARIANTS, default 0123]
 */
import java.nio.*;
import java.util.*;
import java.util.concurrent.*;
import jdk.incubator.vector.*;
public final class Float32OutputsProbe {
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_512;
    static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    static final VectorSpecies<Float> F2 = FloatVector.SPECIES_512;
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final VectorShuffle<Float> SWAP = VectorShuffle.fromOp(F2, i -> (i + 8) % 16);
    static final VectorMask<Float> HI = VectorMask.fromLong(F2, 0xff00L);
    static DoubleVector widen(FloatVector v) { return (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0); }
    static FloatVector narrow(DoubleVector v) { return (FloatVector) v.convertShape(VectorOperators.D2F, F, 0); }
    static DoubleVector lo(FloatVector v) { return widen((FloatVector) v.reinterpretShape(F, 0)); }
    static DoubleVector hi(FloatVector v) { return widen((FloatVector) v.rearrange(SWAP).reinterpretShape(F, 0)); }

    static void out256(ByteBuffer g, ByteBuffer y, ByteBuffer o, long base, int cols, float d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        for (int i = 0; i < cols; i += 8) {
            long at = base + 4L * i;
            DoubleVector yv = widen(FloatVector.fromByteBuffer(F, y, (int) at, LE));
            DoubleVector gv = widen(FloatVector.fromByteBuffer(F, g, (int) at, LE));
            narrow(yv.mul(gv.sub(dv))).intoByteBuffer(o, (int) at, LE);
        }
    }
    static void out512(ByteBuffer g, ByteBuffer y, ByteBuffer o, long base, int cols, float d, boolean blend) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        for (int i = 0; i < cols; i += 16) {
            long at = base + 4L * i;
            FloatVector yv = FloatVector.fromByteBuffer(F2, y, (int) at, LE);
            FloatVector gv = FloatVector.fromByteBuffer(F2, g, (int) at, LE);
            FloatVector r0 = narrow(lo(yv).mul(lo(gv).sub(dv)));
            FloatVector r1 = narrow(hi(yv).mul(hi(gv).sub(dv)));
            if (blend) {
                FloatVector a = (FloatVector) r0.reinterpretShape(F2, 0);
                FloatVector b = (FloatVector) r1.reinterpretShape(F2, -1);
                a.blend(b, HI).intoByteBuffer(o, (int) at, LE);
            } else {
                r0.intoByteBuffer(o, (int) at, LE);
                r1.intoByteBuffer(o, (int) (at + 32), LE);
            }
        }
    }

    static void outArr(float[] g, float[] y, float[] o, int base, int cols, float d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        for (int i = 0; i < cols; i += 8) {
            DoubleVector yv = widen(FloatVector.fromArray(F, y, base + i));
            DoubleVector gv = widen(FloatVector.fromArray(F, g, base + i));
            narrow(yv.mul(gv.sub(dv))).intoArray(o, base + i);
        }
    }
    interface RowFn { void row(int r); }
    public static void main(String[] a) throws Exception {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), calls = Integer.parseInt(a[2]), threads = Integer.parseInt(a[3]);
        String sel = a.length > 4 ? a[4] : "0123";
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        ByteBuffer gb = ByteBuffer.allocateDirect(4 * n + 64).order(LE), yb = ByteBuffer.allocateDirect(4 * n + 64).order(LE);
        ByteBuffer[] ob = new ByteBuffer[3];
        for (int i = 0; i < 3; i++) ob[i] = ByteBuffer.allocateDirect(4 * n + 64).order(LE);
        for (int i = 0; i < n; i++) { gb.putFloat(4 * i, (float) rnd.nextGaussian()); yb.putFloat(4 * i, (float) (rnd.nextDouble() * 2 / cols)); }
        float d = 0.0123f;
        float[] ga = new float[n], ya = new float[n], oa = new float[n];
        gb.asFloatBuffer().get(0, ga, 0, n); yb.asFloatBuffer().get(0, ya, 0, n);
        int c16 = cols & -16;
        RowFn[] fns = {
            r -> out256(gb, yb, ob[0], 4L * r * cols, c16, d),
            r -> out512(gb, yb, ob[1], 4L * r * cols, c16, d, false),
            r -> out512(gb, yb, ob[2], 4L * r * cols, c16, d, true),
            r -> outArr(ga, ya, oa, r * cols, c16, d),
        };
        String[] names = {"256-bit (shipped)", "512-bit loads, 2 stores", "512-bit loads, blend, 1 store", "heap arrays, 256-bit"};
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads - 1));
        long[][] t = new long[fns.length][calls];
        for (int c = -30; c < calls; c++) for (int s = 0; s < fns.length; s++) {
            int v = (s + Math.floorMod(c, fns.length)) % fns.length;
            if (sel.indexOf('0' + v) < 0) continue;
            RowFn f = fns[v];
            long t0 = System.nanoTime();
            int per = rows / threads;
            List<Future<?>> fs = new ArrayList<>();
            for (int th = 1; th < threads; th++) { final int th0 = th; fs.add(pool.submit(() -> { for (int r = th0 * per; r < (th0 == threads - 1 ? rows : (th0 + 1) * per); r++) f.row(r); })); }
            for (int r = 0; r < per; r++) f.row(r);
            for (Future<?> x : fs) x.get();
            long dd = System.nanoTime() - t0;
            if (c >= 0) t[v][c] = dd;
            Thread.sleep(2);
        }
        pool.shutdown();
        System.out.println("[" + rows + "," + cols + "] threads " + threads + " JDK " + Runtime.version());
        for (int v = 0; v < fns.length; v++) {
            if (sel.indexOf('0' + v) < 0) continue;
            long[] s = t[v].clone(); Arrays.sort(s);
            double[] rr = new double[calls]; for (int i = 0; i < calls; i++) rr[i] = (double) t[v][i] / t[0][i]; Arrays.sort(rr);
            System.out.printf("%-30s median %8.1f us p10 %8.1f p90 %8.1f  %6.2f GB/s  time x shipped %.3f  same bits %b%n", names[v], s[calls/2]/1e3, s[calls/10]/1e3, s[calls*9/10]/1e3, n*12.0/s[calls/2], rr[calls/2], v == 3 ? true : ob[v].equals(ob[0]));
        }
    }
}
