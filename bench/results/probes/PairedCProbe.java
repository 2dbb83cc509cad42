/*
 * A probe, not part of the build (JDK 22+: java.lang.foreign): the cpu backend and the bench's C kernel
 * (bench/src/main/c/softmax_backward_ref.c, built as a shared library) called alternately in ONE process,
 * on the SAME memory: Java arrays (passed to C as heap segments, Linker.Option.critical(true)) and ND4J's
 * off-heap INDArrays (passed to C by address). The two sides of each ratio run microseconds apart under
 * the same load, which JMH's forks, seconds apart, cannot give on this VM. Both sides write their own
 * output, and the probe checks that the bits agree. Used in stop 26 (bench/results/cpu-history.md); since stop
 * 28 (bench/results/cpu-stop28.md) every other call runs C first, and the cc/jj modes control the probe.
 *
 *   printf '#define main unused_main\n#include "softmax_backward_ref.c"\nvoid sb_backward(int f, const void *g,
 *     const void *y, void *o, int r, int c, int t) { backward(f, g, y, o, r, c, t); }\n' > /tmp/pp/sbref_lib.c
 *   gcc -O3 -march=native -ffp-contract=off -fopenmp -shared -fPIC -I bench/src/main/c \
 *       -o /tmp/pp/libsbref.so /tmp/pp/sbref_lib.c -lm
 *   javac -cp $(cat /tmp/cp.txt) -d /tmp/pp bench/results/probes/PairedCProbe.java
 *   OMP_WAIT_POLICY=passive java --add-modules jdk.incubator.vector -Xmx8g -Dsoftmaxbackward.cpu.threads=2 \
 *       --enable-native-access=ALL-UNNAMED -cp /tmp/pp:$(cat /tmp/cp.txt) PairedCProbe /tmp/pp/libsbref.so ROWS COLS f32|f64 CALLS [SLEEP_MS, default 2] [jc|cc|jj]
 *
 * OMP_WAIT_POLICY=passive: the OpenMP threads sleep between calls, as the backend's pool threads do;
 * spinning ones would take a core from the Java call that follows. Prints per-call medians and the
 * median of the per-pair ratios C time / Java time (>= 1: Java as fast as C or faster).
 */
import dev.softmaxbackward.cpu.CpuBackend;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

public final class PairedCProbe {
    public static void main(String[] args) throws Throwable {
        Path lib = Path.of(args[0]);
        int rows = Integer.parseInt(args[1]);
        int cols = Integer.parseInt(args[2]);
        boolean f32 = args[3].equals("f32");
        int calls = Integer.parseInt(args[4]);
        long sleepMs = args.length > 5 ? Long.parseLong(args[5]) : 2; // between calls; 0: back to back
        // controls of the probe itself: "cc" runs C in the Java slots too, "jj" Java in the C slots; each
        // slot keeps its own output, so a ratio away from 1 there is the slot's bias, not a kernel's
        String mode = args.length > 6 ? args[6] : "jc";
        boolean javaSlots = !mode.equals("cc"), cSlots = !mode.equals("jj");
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        double[] g = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            g[i] = rnd.nextGaussian();
            y[i] = rnd.nextDouble() * 2 / cols;
        }
        Linker linker = Linker.nativeLinker();
        SymbolLookup lookup = SymbolLookup.libraryLookup(lib, java.lang.foreign.Arena.global());
        FunctionDescriptor fd = FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
        MethodHandle cHeap = linker.downcallHandle(lookup.find("sb_backward").orElseThrow(), fd,
                Linker.Option.critical(true));
        MethodHandle cOff = linker.downcallHandle(lookup.find("sb_backward").orElseThrow(), fd);
        CpuBackend cpu = new CpuBackend();
        int threads = cpu.threads();

        Object ga, ya, oj, oc;
        if (f32) {
            float[] gf = new float[n], yf = new float[n];
            for (int i = 0; i < n; i++) {
                gf[i] = (float) g[i];
                yf[i] = (float) y[i];
            }
            ga = gf;
            ya = yf;
            oj = new float[n];
            oc = new float[n];
        } else {
            ga = g;
            ya = y;
            oj = new double[n];
            oc = new double[n];
        }
        MemorySegment gs = f32 ? MemorySegment.ofArray((float[]) ga) : MemorySegment.ofArray((double[]) ga);
        MemorySegment ys = f32 ? MemorySegment.ofArray((float[]) ya) : MemorySegment.ofArray((double[]) ya);
        MemorySegment os = f32 ? MemorySegment.ofArray((float[]) oc) : MemorySegment.ofArray((double[]) oc);
        INDArray gn = (f32 ? Nd4j.createFromArray((float[]) ga) : Nd4j.createFromArray((double[]) ga)).reshape('c', rows, cols);
        INDArray yn = (f32 ? Nd4j.createFromArray((float[]) ya) : Nd4j.createFromArray((double[]) ya)).reshape('c', rows, cols);
        DataType dt = f32 ? DataType.FLOAT : DataType.DOUBLE;
        INDArray onJ = Nd4j.create(dt, rows, cols);
        INDArray onC = Nd4j.create(dt, rows, cols);
        MemorySegment gAddr = MemorySegment.ofAddress(gn.data().address());
        MemorySegment yAddr = MemorySegment.ofAddress(yn.data().address());
        MemorySegment oAddr = MemorySegment.ofAddress(onC.data().address());
        MemorySegment osJ = f32 ? MemorySegment.ofArray((float[]) oj) : MemorySegment.ofArray((double[]) oj);
        MemorySegment oAddrJ = MemorySegment.ofAddress(onJ.data().address());
        int flag = f32 ? 1 : 0;
        System.out.printf("INDArray addresses mod 2 MiB: g %x, y %x, out (Java) %x, out (C) %x%n",
                gn.data().address() & 0x1fffff, yn.data().address() & 0x1fffff, onJ.data().address() & 0x1fffff,
                onC.data().address() & 0x1fffff);
        System.out.println("kernel " + cpu.kernel() + ", threads " + threads + ", [" + rows + "," + cols + "] "
                + args[3] + ", mode " + mode + ", sleep " + sleepMs + " ms, OMP_WAIT_POLICY=" + System.getenv("OMP_WAIT_POLICY") + ", JDK "
                + Runtime.version());

        long[][] t = new long[4][calls];
        for (int call = -5; call < calls; call++) {
            for (int step = 0; step < 4; step++) {
                // every other call runs each pair C first: whichever side runs second gains or loses
                // (the cc control measured up to 14 % for C against itself), so the order alternates
                int v = (call & 1) == 0 ? step : step ^ 1;
                long t0 = System.nanoTime();
                switch (v) {
                    case 0 -> {
                        if (!javaSlots) {
                            cHeap.invokeExact(flag, gs, ys, osJ, rows, cols, threads);
                        } else if (f32) {
                            cpu.softmaxBackward((float[]) ga, (float[]) ya, (float[]) oj, rows, cols);
                        } else {
                            cpu.softmaxBackward((double[]) ga, (double[]) ya, (double[]) oj, rows, cols);
                        }
                    }
                    case 1 -> {
                        if (cSlots) {
                            cHeap.invokeExact(flag, gs, ys, os, rows, cols, threads);
                        } else if (f32) {
                            cpu.softmaxBackward((float[]) ga, (float[]) ya, (float[]) oc, rows, cols);
                        } else {
                            cpu.softmaxBackward((double[]) ga, (double[]) ya, (double[]) oc, rows, cols);
                        }
                    }
                    case 2 -> {
                        if (javaSlots) {
                            cpu.softmaxBackward(gn, yn, onJ);
                        } else {
                            cOff.invokeExact(flag, gAddr, yAddr, oAddrJ, rows, cols, threads);
                        }
                    }
                    default -> {
                        if (cSlots) {
                            cOff.invokeExact(flag, gAddr, yAddr, oAddr, rows, cols, threads);
                        } else {
                            cpu.softmaxBackward(gn, yn, onC);
                        }
                    }
                }
                long dt0 = System.nanoTime() - t0;
                if (call >= 0) {
                    t[v][call] = dt0;
                }
                if (sleepMs > 0) {
                    Thread.sleep(sleepMs); // as between a training loop's calls: both sides' threads go to sleep
                }
            }
        }
        boolean arraysSame = f32 ? Arrays.equals((float[]) oj, (float[]) oc) : Arrays.equals((double[]) oj, (double[]) oc);
        boolean ndSame = Arrays.equals(onJ.data().asBytes(), onC.data().asBytes());
        double bytes = (double) n * (f32 ? 12 : 24);
        String[] names = {"Java, arrays", "C, on the arrays", "Java, INDArrays", "C, on the INDArrays' memory"};
        for (int v = 0; v < 4; v++) {
            long m = median(t[v]);
            System.out.printf("%-28s median %9.1f us  p10 %9.1f  p90 %9.1f  %6.2f GB/s%n", names[v], m / 1e3,
                    pct(t[v], 0.1) / 1e3, pct(t[v], 0.9) / 1e3, bytes / m);
        }
        System.out.printf("x C, arrays:    median of pair ratios %.3f (p10 %.3f, p90 %.3f)%n", ratio(t[1], t[0], 0.5),
                ratio(t[1], t[0], 0.1), ratio(t[1], t[0], 0.9));
        System.out.printf("x C, INDArrays: median of pair ratios %.3f (p10 %.3f, p90 %.3f)%n", ratio(t[3], t[2], 0.5),
                ratio(t[3], t[2], 0.1), ratio(t[3], t[2], 0.9));
        System.out.println("same bits as C: arrays " + arraysSame + ", INDArrays " + ndSame);
    }

    private static long median(long[] a) {
        return (long) pct(a, 0.5);
    }

    private static double pct(long[] a, double p) {
        long[] s = a.clone();
        Arrays.sort(s);
        return s[(int) Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
    }

    /** The p-quantile of c[i] / java[i]. */
    private static double ratio(long[] c, long[] java, double p) {
        double[] r = new double[c.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (double) c[i] / java[i];
        }
        Arrays.sort(r);
        return r[(int) Math.min(r.length - 1, Math.round(p * (r.length - 1)))];
    }
}
