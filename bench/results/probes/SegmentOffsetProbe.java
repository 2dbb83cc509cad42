/*
 * A probe, not part of the build: the same float64 output loop (y * (g - d)) on MemorySegments of direct buffers,
 * with int byte offsets widened at each access (outInt), with long offsets from the int index (outLong), and on
 * per-row slices (outSlice), interleaved in one JVM. Used in stop 23 (bench/results/cpu-stop23-long-offsets.md):
 * print the final C2 code of outInt and outLong and compare what stands between the loads.
 *
 *   (JDK 22 or later) javac --add-modules jdk.incubator.vector -d /tmp/seg bench/results/probes/SegmentOffsetProbe.java
 *   java --add-modules jdk.incubator.vector -cp /tmp/seg SegmentOffsetProbe 32 1024 3000
 *   LD_LIBRARY_PATH=<dir of hsdis-amd64.so> java --add-modules jdk.incubator.vector -XX:+UnlockDiagnosticVMOptions \
 *       -XX:CompileCommand=print,SegmentOffsetProbe::outLong -XX:PrintAssemblyOptions=intel -cp /tmp/seg \
 *       SegmentOffsetProbe 32 1024 1000
 *
 * On JDK 25.0.3 here: outInt keeps a cmp/jae before every access; outLong's loop is unrolled 8 times without one.
 */
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

public final class SegmentOffsetProbe {
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    static final int L = D.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    static int outInt(MemorySegment g, int go, MemorySegment y, int yo, MemorySegment out, int oo, int cols, double d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int end = cols & -L;
        for (int i = 0; i < end; i += L) {
            DoubleVector.fromMemorySegment(D, y, yo + 8 * i, LE).mul(DoubleVector.fromMemorySegment(D, g, go + 8 * i, LE).sub(dv))
                .intoMemorySegment(out, oo + 8 * i, LE);
        }
        return end;
    }

    static int outLong(MemorySegment g, long go, MemorySegment y, long yo, MemorySegment out, long oo, int cols, double d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int end = cols & -L;
        for (int i = 0; i < end; i += L) {
            long b = 8L * i;
            DoubleVector.fromMemorySegment(D, y, yo + b, LE).mul(DoubleVector.fromMemorySegment(D, g, go + b, LE).sub(dv))
                .intoMemorySegment(out, oo + b, LE);
        }
        return end;
    }

    static int outSlice(MemorySegment g, long go, MemorySegment y, long yo, MemorySegment out, long oo, int cols, double d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int end = cols & -L;
        long bytes = 8L * cols;
        MemorySegment gs = g.asSlice(go, bytes), ys = y.asSlice(yo, bytes), os = out.asSlice(oo, bytes);
        for (int i = 0; i < end; i += L) {
            long b = 8L * i;
            DoubleVector.fromMemorySegment(D, ys, b, LE).mul(DoubleVector.fromMemorySegment(D, gs, b, LE).sub(dv))
                .intoMemorySegment(os, b, LE);
        }
        return end;
    }

    public static void main(String[] a) {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), reps = Integer.parseInt(a[2]);
        ByteBuffer gb = ByteBuffer.allocateDirect(rows * cols * 8), yb = ByteBuffer.allocateDirect(rows * cols * 8), ob = ByteBuffer.allocateDirect(rows * cols * 8);
        MemorySegment g = MemorySegment.ofBuffer(gb), y = MemorySegment.ofBuffer(yb), o = MemorySegment.ofBuffer(ob);
        for (long i = 0; i < (long) rows * cols; i++) { g.setAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, i, i % 7); y.setAtIndex(java.lang.foreign.ValueLayout.JAVA_DOUBLE, i, 0.5); }
        long[][] t = new long[3][reps];
        for (int r = -200; r < reps; r++) {
            for (int v = 0; v < 3; v++) {
                long t0 = System.nanoTime();
                for (int row = 0; row < rows; row++) {
                    int off = row * cols * 8;
                    if (v == 0) outInt(g, off, y, off, o, off, cols, 0.25);
                    else if (v == 1) outLong(g, off, y, off, o, off, cols, 0.25);
                    else outSlice(g, off, y, off, o, off, cols, 0.25);
                }
                if (r >= 0) t[v][r] = System.nanoTime() - t0;
            }
        }
        String[] n = {"int", "long", "slice"};
        for (int v = 0; v < 3; v++) { java.util.Arrays.sort(t[v]); System.out.printf("%s min %.1f med %.1f us%n", n[v], t[v][0] / 1e3, t[v][reps / 2] / 1e3); }
    }
}
