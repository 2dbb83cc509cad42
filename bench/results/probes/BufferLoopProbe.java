/*
 * A probe, not part of the build (JDK 22+): the float32 loops of the cpu backend on off-heap memory
 * (MemorySegment views of direct buffers, as SegmentKernel gets from ND4J) next to the same loops on
 * arrays, interleaved in one JVM on one thread, rows in cache or not. Used in stop 27 (bench/results/cpu-history.md)
 * to find where float32 INDArrays lose to arrays and C on JDK 25: the backend's own kernels (whole rows),
 * and local copies of BufferKernel's sums pass and output loop in variants.
 *
 *   ./mvnw -B -q -o -pl bench -am package -DskipTests dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 *   javac --add-modules jdk.incubator.vector -cp $(cat /tmp/cp.txt) -d /tmp/blp bench/results/probes/BufferLoopProbe.java
 *   java --add-modules jdk.incubator.vector -cp /tmp/blp:$(cat /tmp/cp.txt) dev.softmaxbackward.cpu.BufferLoopProbe \
 *       ROWS COLS REPEATS VARIANT,...
 *
 * Variants: arrayRow, bufferRow (the backend's kernels, whole rows), arraySums, arrayOut (VectorKernel's
 * loops), segSums (BufferKernel.passFloat's loop as it was: constant stride), segSumsField (stride from a
 * field that C2 does not fold), segSumsWide (one 2L-float load widened in two halves), segOut, segOutWide.
 * Prints per variant the median, p10 and p90 over REPEATS calls (each call all rows) and GB/s counted as
 * three arrays whatever the loop.
 */
package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.cpu.VectorKernel.D;
import static dev.softmaxbackward.cpu.VectorKernel.F;
import static dev.softmaxbackward.cpu.VectorKernel.L;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

public final class BufferLoopProbe {
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final VectorSpecies<Float> F2 = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize()));
    static int stride = 32;
    static double sink;

    public static void main(String[] args) throws Exception {
        int rows = Integer.parseInt(args[0]);
        int cols = Integer.parseInt(args[1]);
        int repeats = Integer.parseInt(args[2]);
        String[] variants = args[3].split(",");
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        float[] g = new float[n], y = new float[n], o = new float[n];
        // ND4J's buffers start 16 bytes past a 64-byte boundary, like the arrays' data
        ByteBuffer gb = direct(4L * n), yb = direct(4L * n), ob = direct(4L * n);
        for (int i = 0; i < n; i++) {
            g[i] = (float) rnd.nextGaussian();
            y[i] = (float) (rnd.nextDouble() * 2 / cols);
            gb.putFloat(4 * i, g[i]);
            yb.putFloat(4 * i, y[i]);
        }
        MemorySegment gm = MemorySegment.ofBuffer(gb), ym = MemorySegment.ofBuffer(yb), om = MemorySegment.ofBuffer(ob);
        RowKernel kernel = Kernels.vectorKernel();
        System.out.println("kernel " + kernel.name() + ", JDK " + Runtime.version() + ", [" + rows + "," + cols + "] f32");
        Scratch s = new Scratch(cols);
        long[][] t = new long[variants.length][repeats];
        for (int rep = -200; rep < repeats; rep++) {
            for (int v = 0; v < variants.length; v++) {
                long t0 = System.nanoTime();
                for (int r = 0; r < rows; r++) {
                    int at = r * cols;
                    switch (variants[v]) {
                        case "arrayRow" -> kernel.backward(g, at, y, at, o, at, cols, s);
                        case "bufferRow" -> kernel.backwardFloat(gb, 4 * at, yb, 4 * at, ob, 4 * at, cols, s);
                        case "arraySums" -> VectorKernel.segmentSums(g, at, y, at, cols, s);
                        case "arrayOut" -> VectorKernel.outputs(g, at, y, at, o, at, 0, cols, 0.5f);
                        case "segSums" -> segSums(gm, 4L * at, ym, 4L * at, cols & -32, s);
                        case "segSumsField" -> segSumsField(gm, 4L * at, ym, 4L * at, cols & -32, s);
                        case "segSumsWide" -> segSumsWide(gm, 4L * at, ym, 4L * at, cols & -32, s);
                        case "segOut" -> segOut(gm, 4 * at, ym, 4 * at, om, 4 * at, cols, 0.5f);
                        case "segOutWide" -> segOutWide(gm, 4 * at, ym, 4 * at, om, 4 * at, cols, 0.5f);
                        default -> throw new IllegalArgumentException(variants[v]);
                    }
                }
                long dt = System.nanoTime() - t0;
                if (rep >= 0) {
                    t[v][rep] = dt;
                }
            }
        }
        double bytes = 12.0 * n;
        for (int v = 0; v < variants.length; v++) {
            long[] a = t[v].clone();
            Arrays.sort(a);
            long med = a[repeats / 2];
            System.out.printf("%-13s median %9.1f us  p10 %9.1f  p90 %9.1f  %6.2f GB/s%n", variants[v], med / 1e3,
                    a[repeats / 10] / 1e3, a[repeats * 9 / 10] / 1e3, bytes / med);
        }
        sink += s.aS[0] + s.bS[3];
        System.out.println("sink " + sink);
    }

    static ByteBuffer direct(long bytes) {
        ByteBuffer b = ByteBuffer.allocateDirect((int) bytes + 128).order(LE);
        long address = MemorySegment.ofBuffer(b).address();
        int skip = (int) ((16 - address % 64 + 64) % 64);
        return b.slice(skip, (int) bytes).order(LE);
    }

    static FloatVector floats(MemorySegment m, long at) {
        return FloatVector.fromMemorySegment(F, m, at, LE);
    }

    static DoubleVector widen(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D, 0);
    }

    /** BufferKernel.passFloat's loop (lo = 0, the whole row as one segment of full groups). */
    static void segSums(MemorySegment g, long gi0, MemorySegment y, long yi0, int full, Scratch s) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
        DoubleVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int k = 0; k < full; k += 32) {
            long yi = yi0 + 4L * k;
            long gi = gi0 + 4L * k;
            DoubleVector y0 = widen(floats(y, yi));
            DoubleVector y1 = widen(floats(y, yi + 4 * L));
            DoubleVector y2 = widen(floats(y, yi + 8 * L));
            DoubleVector y3 = widen(floats(y, yi + 12 * L));
            a0 = a0.add(y0);
            a1 = a1.add(y1);
            a2 = a2.add(y2);
            a3 = a3.add(y3);
            b0 = y0.fma(widen(floats(g, gi)), b0);
            b1 = y1.fma(widen(floats(g, gi + 4 * L)), b1);
            b2 = y2.fma(widen(floats(g, gi + 8 * L)), b2);
            b3 = y3.fma(widen(floats(g, gi + 12 * L)), b3);
        }
        store(s, a0, a1, a2, a3, b0, b1, b2, b3);
    }

    static void segSumsField(MemorySegment g, long gi0, MemorySegment y, long yi0, int full, Scratch s) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
        DoubleVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int st = stride;
        for (int k = 0; k < full; k += st) {
            long yi = yi0 + 4L * k;
            long gi = gi0 + 4L * k;
            DoubleVector y0 = widen(floats(y, yi));
            DoubleVector y1 = widen(floats(y, yi + 4 * L));
            DoubleVector y2 = widen(floats(y, yi + 8 * L));
            DoubleVector y3 = widen(floats(y, yi + 12 * L));
            a0 = a0.add(y0);
            a1 = a1.add(y1);
            a2 = a2.add(y2);
            a3 = a3.add(y3);
            b0 = y0.fma(widen(floats(g, gi)), b0);
            b1 = y1.fma(widen(floats(g, gi + 4 * L)), b1);
            b2 = y2.fma(widen(floats(g, gi + 8 * L)), b2);
            b3 = y3.fma(widen(floats(g, gi + 12 * L)), b3);
        }
        store(s, a0, a1, a2, a3, b0, b1, b2, b3);
    }

    /** Two float loads of 2L lanes per sum instead of four of L, each widened in two halves. */
    static void segSumsWide(MemorySegment g, long gi0, MemorySegment y, long yi0, int full, Scratch s) {
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
        DoubleVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int k = 0; k < full; k += 32) {
            long yi = yi0 + 4L * k;
            long gi = gi0 + 4L * k;
            FloatVector ya = FloatVector.fromMemorySegment(F2, y, yi, LE);
            FloatVector yb = FloatVector.fromMemorySegment(F2, y, yi + 8 * L, LE);
            FloatVector ga = FloatVector.fromMemorySegment(F2, g, gi, LE);
            FloatVector gb = FloatVector.fromMemorySegment(F2, g, gi + 8 * L, LE);
            DoubleVector y0 = (DoubleVector) ya.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector y1 = (DoubleVector) ya.convertShape(VectorOperators.F2D, D, 1);
            DoubleVector y2 = (DoubleVector) yb.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector y3 = (DoubleVector) yb.convertShape(VectorOperators.F2D, D, 1);
            a0 = a0.add(y0);
            a1 = a1.add(y1);
            a2 = a2.add(y2);
            a3 = a3.add(y3);
            b0 = y0.fma((DoubleVector) ga.convertShape(VectorOperators.F2D, D, 0), b0);
            b1 = y1.fma((DoubleVector) ga.convertShape(VectorOperators.F2D, D, 1), b1);
            b2 = y2.fma((DoubleVector) gb.convertShape(VectorOperators.F2D, D, 0), b2);
            b3 = y3.fma((DoubleVector) gb.convertShape(VectorOperators.F2D, D, 1), b3);
        }
        store(s, a0, a1, a2, a3, b0, b1, b2, b3);
    }

    static void store(Scratch s, DoubleVector a0, DoubleVector a1, DoubleVector a2, DoubleVector a3, DoubleVector b0,
                      DoubleVector b1, DoubleVector b2, DoubleVector b3) {
        a0.intoArray(s.aS, 0);
        a1.intoArray(s.aS, L);
        a2.intoArray(s.aS, 2 * L);
        a3.intoArray(s.aS, 3 * L);
        b0.intoArray(s.bS, 0);
        b1.intoArray(s.bS, L);
        b2.intoArray(s.bS, 2 * L);
        b3.intoArray(s.bS, 3 * L);
    }

    static void segOut(MemorySegment g, int go, MemorySegment y, int yo, MemorySegment out, int oo, int cols, float d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int end = cols & -L;
        for (int i = 0; i < end; i += L) {
            DoubleVector yv = widen(floats(y, yo + 4L * i));
            DoubleVector gv = widen(floats(g, go + 4L * i));
            VectorKernel.narrow(yv.mul(gv.sub(dv))).intoMemorySegment(out, oo + 4L * i, LE);
        }
    }

    static void segOutWide(MemorySegment g, int go, MemorySegment y, int yo, MemorySegment out, int oo, int cols,
                           float d) {
        DoubleVector dv = DoubleVector.broadcast(D, d);
        int end = cols & -(2 * L);
        for (int i = 0; i < end; i += 2 * L) {
            FloatVector yv = FloatVector.fromMemorySegment(F2, y, yo + 4L * i, LE);
            FloatVector gv = FloatVector.fromMemorySegment(F2, g, go + 4L * i, LE);
            DoubleVector y0 = (DoubleVector) yv.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector y1 = (DoubleVector) yv.convertShape(VectorOperators.F2D, D, 1);
            DoubleVector g0 = (DoubleVector) gv.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector g1 = (DoubleVector) gv.convertShape(VectorOperators.F2D, D, 1);
            VectorKernel.narrow(y0.mul(g0.sub(dv))).intoMemorySegment(out, oo + 4L * i, LE);
            VectorKernel.narrow(y1.mul(g1.sub(dv))).intoMemorySegment(out, oo + 4L * (i + L), LE);
        }
    }
}
