/*
 * A probe, not part of the build: times the cpu backend's Vector API array kernel (VectorKernel, package-
 * private, hence the package) on rows at chosen offsets, whole rows or one of its two loops, with each
 * variant interleaved with the others in one JVM. Used in stop 22 (bench/results/cpu-history.md) for two
 * questions: does a 64-byte-aligned start speed up the Java loops (offsets 0 vs 12 floats / 6 doubles:
 * G1 puts a large array's data 16 bytes past a 64-byte boundary), and which loop is slower on JDK 25.
 *
 *   ./mvnw -B -q -o -pl bench -am package -DskipTests dependency:build-classpath -Dmdep.outputFile=/tmp/cp.txt
 *   javac --add-modules jdk.incubator.vector -cp $(cat /tmp/cp.txt) -d /tmp/probe bench/results/probes/RowLoopProbe.java
 *   java --add-modules jdk.incubator.vector -Xmx6g -cp /tmp/probe:$(cat /tmp/cp.txt) \
 *       dev.softmaxbackward.cpu.RowLoopProbe ROWS COLS f32|f64 OFFSET:MODE,... THREADS REPEATS
 *
 * MODE is all (VectorKernel.backward), sums (segmentSums only) or outputs (outputs only, d = 0.5).
 * THREADS > 1 splits the rows in equal halves over a pool; 1 runs on the calling thread. Prints, per
 * variant, the median, min and max over REPEATS calls after 5 warm-up rounds, and GB/s counted as
 * three arrays (g, y, out) whatever the mode.
 */
package dev.softmaxbackward.cpu;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

public final class RowLoopProbe {
    public static void main(String[] args) throws Exception {
        int rows = Integer.parseInt(args[0]);
        int cols = Integer.parseInt(args[1]);
        boolean f32 = args[2].equals("f32");
        String[] specs = args[3].split(",");
        int threads = Integer.parseInt(args[4]);
        int repeats = Integer.parseInt(args[5]);
        int n = rows * cols;
        int pad = 16;
        SplittableRandom rnd = new SplittableRandom(1);
        float[] gf = new float[f32 ? n + pad : 0], yf = new float[gf.length], of = new float[gf.length];
        double[] gd = new double[f32 ? 0 : n + pad], yd = new double[gd.length], od = new double[gd.length];
        for (int i = 0; i < gf.length; i++) {
            gf[i] = (float) rnd.nextGaussian();
            yf[i] = (float) (rnd.nextDouble() / cols);
        }
        for (int i = 0; i < gd.length; i++) {
            gd[i] = rnd.nextGaussian();
            yd[i] = rnd.nextDouble() / cols;
        }
        VectorKernel kernel = new VectorKernel();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long[][] times = new long[specs.length][repeats];
        for (int rep = -5; rep < repeats; rep++) {
            for (int v = 0; v < specs.length; v++) {
                int off = Integer.parseInt(specs[v].split(":")[0]);
                String mode = specs[v].split(":")[1];
                long t0 = System.nanoTime();
                Future<?>[] parts = new Future<?>[threads];
                for (int t = 0; t < threads; t++) {
                    int r0 = rows * t / threads, r1 = rows * (t + 1) / threads;
                    Runnable job = () -> {
                        Scratch s = new Scratch(cols);
                        for (int r = r0; r < r1; r++) {
                            int o = off + r * cols;
                            if (f32) {
                                switch (mode) {
                                    case "sums" -> VectorKernel.segmentSums(gf, o, yf, o, cols, s);
                                    case "outputs" -> VectorKernel.outputs(gf, o, yf, o, of, o, 0, cols, 0.5f);
                                    default -> kernel.backward(gf, o, yf, o, of, o, cols, s);
                                }
                            } else {
                                switch (mode) {
                                    case "sums" -> VectorKernel.segmentSums(gd, o, yd, o, cols, s);
                                    case "outputs" -> VectorKernel.outputs(gd, o, yd, o, od, o, 0, cols, 0.5);
                                    default -> kernel.backward(gd, o, yd, o, od, o, cols, s);
                                }
                            }
                        }
                    };
                    if (threads == 1) {
                        job.run();
                    } else {
                        parts[t] = pool.submit(job);
                    }
                }
                for (Future<?> p : parts) {
                    if (p != null) {
                        p.get();
                    }
                }
                if (rep >= 0) {
                    times[v][rep] = System.nanoTime() - t0;
                }
            }
        }
        pool.shutdown();
        long bytes = 3L * n * (f32 ? 4 : 8);
        for (int v = 0; v < specs.length; v++) {
            long[] t = times[v].clone();
            Arrays.sort(t);
            System.out.printf("[%d,%d] %s %s threads=%d: median %.3f ms, %.1f GB/s (min %.3f, max %.3f)%n", rows, cols,
                    args[2], specs[v], threads, t[repeats / 2] / 1e6, bytes / (double) t[repeats / 2], t[0] / 1e6,
                    t[repeats - 1] / 1e6);
        }
    }
}
