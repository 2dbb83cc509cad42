/*
 * A probe, not part of the build: the float32 sums of a row of whole 32-lane groups (one segment) with the
 * lane tree done four ways, interleaved in one JVM on one thread: the scalar tree on the stored lanes
 * (RowNumerics.reduceLanes), its levels off >= L on vectors loaded back from the array
 * (VectorKernel.reduceLanes(double[])), the whole tree on the pass's own vectors with the last 8 lanes
 * extracted (VectorKernel.reduceLanes(DoubleVector x4), what the kernels use since stop 28), and the
 * vectors' levels followed by a store of 8 lanes and the scalar tree. Prints ns per row and a checksum
 * that must agree across the four (same adds, same bits). Used in stop 28 (bench/results/cpu-stop28.md).
 *
 *   javac --add-modules jdk.incubator.vector -cp $(cat /tmp/cp.txt) -d /tmp/tp bench/results/probes/TreeProbe.java
 *   java --add-modules jdk.incubator.vector -cp /tmp/tp:$(cat /tmp/cp.txt) dev.softmaxbackward.cpu.TreeProbe 4096 32 2000
 */
package dev.softmaxbackward.cpu;

import static dev.softmaxbackward.cpu.VectorKernel.D;
import static dev.softmaxbackward.cpu.VectorKernel.F;
import static dev.softmaxbackward.cpu.VectorKernel.L;
import static dev.softmaxbackward.spi.RowNumerics.LANES;

import dev.softmaxbackward.spi.RowNumerics;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;

/** The float32 sums of full 32-lane segments, [rows, cols], with the lane tree done four ways. */
public final class TreeProbe {
    static double sink;

    public static void main(String[] a) {
        int rows = Integer.parseInt(a[0]), cols = Integer.parseInt(a[1]), calls = Integer.parseInt(a[2]);
        float[] g = new float[rows * cols], y = new float[rows * cols];
        java.util.SplittableRandom r = new java.util.SplittableRandom(1);
        for (int i = 0; i < g.length; i++) { g[i] = (float) r.nextGaussian(); y[i] = (float) (r.nextDouble() / cols); }
        Scratch s = new Scratch(cols);
        String[] names = {"scalar", "vecArr", "reg+lane", "reg+store"};
        double[] check = new double[4];
        for (int round = 0; round < 6; round++) {
            for (int v = 0; v < 4; v++) {
                long t0 = System.nanoTime();
                double acc = 0;
                for (int c = 0; c < calls; c++) {
                    for (int row = 0; row < rows; row++) {
                        acc += sums(v, g, row * cols, y, row * cols, cols, s);
                    }
                }
                long t = System.nanoTime() - t0;
                check[v] = acc;
                if (round >= 2) System.out.printf("%-10s %7.1f ns/row  check %s%n", names[v], t / (double) calls / rows, Double.toHexString(acc));
            }
        }
    }

    static double sums(int v, float[] g, int go, float[] y, int yo, int cols, Scratch s) {
        // one segment, cols a multiple of 32 (<= 4096)
        DoubleVector a0 = DoubleVector.zero(D), a1 = a0, a2 = a0, a3 = a0;
        DoubleVector b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int stride = VectorKernel.floatStride;
        for (int k = 0; k < cols; k += stride) {
            int yi = yo + k, gi = go + k;
            DoubleVector y0 = VectorKernel.widen(FloatVector.fromArray(F, y, yi));
            DoubleVector y1 = VectorKernel.widen(FloatVector.fromArray(F, y, yi + L));
            DoubleVector y2 = VectorKernel.widen(FloatVector.fromArray(F, y, yi + 2 * L));
            DoubleVector y3 = VectorKernel.widen(FloatVector.fromArray(F, y, yi + 3 * L));
            a0 = a0.add(y0); a1 = a1.add(y1); a2 = a2.add(y2); a3 = a3.add(y3);
            b0 = y0.fma(VectorKernel.widen(FloatVector.fromArray(F, g, gi)), b0);
            b1 = y1.fma(VectorKernel.widen(FloatVector.fromArray(F, g, gi + L)), b1);
            b2 = y2.fma(VectorKernel.widen(FloatVector.fromArray(F, g, gi + 2 * L)), b2);
            b3 = y3.fma(VectorKernel.widen(FloatVector.fromArray(F, g, gi + 3 * L)), b3);
        }
        if (v <= 1) {
            a0.intoArray(s.aS, 0); a1.intoArray(s.aS, L); a2.intoArray(s.aS, 2 * L); a3.intoArray(s.aS, 3 * L);
            b0.intoArray(s.bS, 0); b1.intoArray(s.bS, L); b2.intoArray(s.bS, 2 * L); b3.intoArray(s.bS, 3 * L);
            if (v == 0) {
                return RowNumerics.reduceLanes(s.aS) + RowNumerics.reduceLanes(s.bS);
            }
            return VectorKernel.reduceLanes(s.aS) + VectorKernel.reduceLanes(s.bS);
        }
        DoubleVector a = a0.add(a2).add(a1.add(a3));
        DoubleVector b = b0.add(b2).add(b1.add(b3));
        if (v == 2) {
            return lanes(a) + lanes(b);
        }
        a.intoArray(s.aS, 0);
        b.intoArray(s.bS, 0);
        return RowNumerics.reduceLanes(s.aS, L) + RowNumerics.reduceLanes(s.bS, L);
    }

    static double lanes(DoubleVector v) {
        double l0 = v.lane(0), l1 = v.lane(1), l2 = v.lane(2), l3 = v.lane(3);
        double l4 = v.lane(4), l5 = v.lane(5), l6 = v.lane(6), l7 = v.lane(7);
        double e0 = l0 + l4, e1 = l1 + l5, e2 = l2 + l6, e3 = l3 + l7;
        return (e0 + e2) + (e1 + e3);
    }
}
