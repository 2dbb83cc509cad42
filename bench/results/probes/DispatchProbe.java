/*
 * A probe, not part of the build: where the 2-thread time of the cpu backend's array kernel goes. In one JVM, in
 * blocks of 10 back-to-back calls, variant after variant on the same arrays:
 *   1       the backend with a 1-thread RowExecutor (the calling thread does every row);
 *   2       the backend with a 2-thread RowExecutor (what users get on this VM);
 *   2sN     the same with the caller's spin before it parks at the end of a call set to N µs (2s0: no spin;
 *           stop 24 compared 2s0, 2s100, 2s200 and 2s400 before settling on RowExecutor.CALLER_SPIN_NANOS);
 *   halves  the same kernel split by hand: the calling thread does rows [0, B/2), a helper thread that is already
 *           spinning (no wake-up, no queue) does [B/2, B);
 *   inter   the same, but in 8 chunks dealt alternately (0, 2, 4, 6 and 1, 3, 5, 7), like RowExecutor's chunks.
 * The helper parks outside its own blocks, so it takes no core from the pool threads of variant 2. Used in stop 23
 * (bench/results/cpu-history.md) for the 2-thread scaling of [64,50257] float32.
 *
 *   ./mvnw -B -q -o -pl bench -am package -DskipTests dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 *   javac --add-modules jdk.incubator.vector -cp $(cat /tmp/cp.txt) -d /tmp/dp bench/results/probes/DispatchProbe.java
 *   java --add-modules jdk.incubator.vector -Xmx8g -cp /tmp/dp:$(cat /tmp/cp.txt) \
 *       dev.softmaxbackward.cpu.DispatchProbe ROWS COLS f32|f64 BLOCKS 1,2,halves,inter
 *
 * Prints, per variant, the median, 10th and 90th percentile over BLOCKS x 10 calls (after 3 warm-up blocks), and
 * GB/s counted as three arrays.
 */
package dev.softmaxbackward.cpu;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

public final class DispatchProbe {
    private static final int CALLS_PER_BLOCK = 10;
    private static final int CHUNKS = 8;

    private static volatile int go;
    private static volatile int done;
    private static volatile boolean interleaved;
    private static volatile boolean active;
    private static volatile boolean spinning;

    private final int rows;
    private final int cols;
    private final boolean f32;
    private final float[] gf;
    private final float[] yf;
    private final float[] of;
    private final double[] gd;
    private final double[] yd;
    private final double[] od;
    private final RowKernel kernel = Kernels.defaultKernel();

    private DispatchProbe(int rows, int cols, boolean f32) {
        this.rows = rows;
        this.cols = cols;
        this.f32 = f32;
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        gf = new float[f32 ? n : 0];
        yf = new float[gf.length];
        of = new float[gf.length];
        gd = new double[f32 ? 0 : n];
        yd = new double[gd.length];
        od = new double[gd.length];
        for (int i = 0; i < gf.length; i++) {
            gf[i] = (float) rnd.nextGaussian();
            yf[i] = (float) (rnd.nextDouble() / cols);
        }
        for (int i = 0; i < gd.length; i++) {
            gd[i] = rnd.nextGaussian();
            yd[i] = rnd.nextDouble() / cols;
        }
    }

    /** Chunk c of CHUNKS, row by row, on this thread. */
    private void chunk(int c, Scratch s) {
        for (int r = c * rows / CHUNKS; r < (c + 1) * rows / CHUNKS; r++) {
            if (f32) {
                kernel.backward(gf, r * cols, yf, r * cols, of, r * cols, cols, s);
            } else {
                kernel.backward(gd, r * cols, yd, r * cols, od, r * cols, cols, s);
            }
        }
    }

    /** The chunks one thread does: the caller's (0) or the helper's (1). */
    private void share(int who, boolean inter, Scratch s) {
        if (inter) {
            for (int c = who; c < CHUNKS; c += 2) {
                chunk(c, s);
            }
        } else {
            for (int c = who * CHUNKS / 2; c < (who + 1) * CHUNKS / 2; c++) {
                chunk(c, s);
            }
        }
    }

    public static void main(String[] args) {
        int rows = Integer.parseInt(args[0]);
        int cols = Integer.parseInt(args[1]);
        boolean f32 = args[2].equals("f32");
        int blocks = Integer.parseInt(args[3]);
        String[] variants = args[4].split(",");
        DispatchProbe p = new DispatchProbe(rows, cols, f32);
        Thread helper = new Thread(() -> {
            Scratch s = new Scratch(cols);
            int seen = 0;
            while (true) {
                while (!active) {
                    spinning = false;
                    LockSupport.park();
                }
                spinning = true;
                int g;
                while ((g = go) == seen && active) {
                    Thread.onSpinWait();
                }
                if (g != seen) {
                    seen = g;
                    p.share(1, interleaved, s);
                    done = g;
                }
            }
        }, "probe-helper");
        helper.setDaemon(true);
        helper.start();
        RowExecutor one = new RowExecutor(1);
        RowExecutor two = new RowExecutor(2);
        CpuBackend b1 = new CpuBackend(() -> null, () -> one, p.kernel, Strategy.FUSED);
        CpuBackend b2 = new CpuBackend(() -> null, () -> two, p.kernel, Strategy.FUSED);
        Scratch mine = new Scratch(cols);
        Map<String, CpuBackend> spun = new HashMap<>();
        System.out.println("kernel " + p.kernel.name() + ", [" + rows + "," + cols + "] " + args[2]);
        long[][] t = new long[variants.length][blocks * CALLS_PER_BLOCK];
        int gen = 0;
        for (int blk = -3; blk < blocks; blk++) {
            for (int v = 0; v < variants.length; v++) {
                String variant = variants[v];
                boolean byHand = variant.equals("halves") || variant.equals("inter");
                if (byHand) {
                    interleaved = variant.equals("inter");
                    active = true;
                    LockSupport.unpark(helper);
                    while (!spinning) {
                        Thread.onSpinWait();
                    }
                }
                for (int i = 0; i < CALLS_PER_BLOCK; i++) {
                    long t0 = System.nanoTime();
                    if (byHand) {
                        go = ++gen;
                        p.share(0, interleaved, mine);
                        while (done != gen) {
                            Thread.onSpinWait();
                        }
                    } else {
                        CpuBackend b = variant.equals("1") ? b1 : variant.equals("2") ? b2
                                : spun.computeIfAbsent(variant, k -> {
                                    RowExecutor e = new RowExecutor(2, 1000 * Long.parseLong(k.substring(2)));
                                    return new CpuBackend(() -> null, () -> e, p.kernel, Strategy.FUSED);
                                });
                        if (f32) {
                            b.softmaxBackward(p.gf, p.yf, p.of, rows, cols);
                        } else {
                            b.softmaxBackward(p.gd, p.yd, p.od, rows, cols);
                        }
                    }
                    long dt = System.nanoTime() - t0;
                    if (blk >= 0) {
                        t[v][blk * CALLS_PER_BLOCK + i] = dt;
                    }
                }
                if (byHand) {
                    active = false;
                    while (spinning) {
                        Thread.onSpinWait();
                    }
                }
            }
        }
        double bytes = (f32 ? 4.0 : 8.0) * 3 * rows * cols;
        for (int v = 0; v < variants.length; v++) {
            long[] s = t[v].clone();
            Arrays.sort(s);
            System.out.printf("%-7s median %9.1f us  p10 %9.1f  p90 %9.1f  %6.2f GB/s%n", variants[v],
                    s[s.length / 2] / 1e3, s[s.length / 10] / 1e3, s[s.length * 9 / 10] / 1e3, bytes / s[s.length / 2]);
        }
        one.shutdown();
        two.shutdown();
    }
}
