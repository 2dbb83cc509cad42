/*
 * A probe, not part of the build: PairedCProbe.java for JDK 17, through JDK 17's incubating foreign API
 * (jdk.incubator.foreign, JEP 412). The cpu backend and the bench's C kernel called alternately in ONE
 * process, each pair's order alternating from call to call (as PairedCProbe). JDK 17 cannot pass a heap
 * array to C, so on arrays C runs on an off-heap copy of the same values, placed 16 bytes past a 64-byte
 * line as a large Java array's elements are; on INDArrays it runs on the INDArrays' own memory. Both sides
 * write their own output, and the probe checks that the bits agree. Used in stop 28 (bench/results/cpu-stop28.md).
 *
 *   (build /tmp/pp/libsbref.so as in PairedCProbe.java's header)
 *   javac --add-modules jdk.incubator.foreign -cp $(cat /tmp/cp.txt) -d /tmp/pp17 bench/results/probes/PairedCProbe17.java
 *   OMP_WAIT_POLICY=passive java --add-modules jdk.incubator.vector,jdk.incubator.foreign --enable-native-access=ALL-UNNAMED \
 *       -Xmx8g -Dsoftmaxbackward.cpu.threads=2 -cp /tmp/pp17:$(cat /tmp/cp.txt) PairedCProbe17 /tmp/pp/libsbref.so \
 *       ROWS COLS f32|f64 CALLS [SLEEP_MS, default 2]
 */
import dev.softmaxbackward.cpu.CpuBackend;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.foreign.CLinker;
import jdk.incubator.foreign.FunctionDescriptor;
import jdk.incubator.foreign.MemoryAddress;
import jdk.incubator.foreign.MemorySegment;
import jdk.incubator.foreign.ResourceScope;
import jdk.incubator.foreign.SymbolLookup;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

public final class PairedCProbe17 {
    public static void main(String[] args) throws Throwable {
        System.load(args[0]);
        int rows = Integer.parseInt(args[1]);
        int cols = Integer.parseInt(args[2]);
        boolean f32 = args[3].equals("f32");
        int calls = Integer.parseInt(args[4]);
        long sleepMs = args.length > 5 ? Long.parseLong(args[5]) : 2;
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        double[] g = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            g[i] = rnd.nextGaussian();
            y[i] = rnd.nextDouble() * 2 / cols;
        }
        MemoryAddress fn = SymbolLookup.loaderLookup().lookup("sb_backward").orElseThrow();
        MethodHandle c = CLinker.getInstance().downcallHandle(fn,
                MethodType.methodType(void.class, int.class, MemoryAddress.class, MemoryAddress.class,
                        MemoryAddress.class, int.class, int.class, int.class),
                FunctionDescriptor.ofVoid(CLinker.C_INT, CLinker.C_POINTER, CLinker.C_POINTER, CLinker.C_POINTER,
                        CLinker.C_INT, CLinker.C_INT, CLinker.C_INT));
        CpuBackend cpu = new CpuBackend();
        int threads = cpu.threads();
        int width = f32 ? 4 : 8;
        Object ga, ya, oj;
        if (f32) {
            float[] gf = new float[n], yf = new float[n];
            for (int i = 0; i < n; i++) {
                gf[i] = (float) g[i];
                yf[i] = (float) y[i];
            }
            ga = gf;
            ya = yf;
            oj = new float[n];
        } else {
            ga = g;
            ya = y;
            oj = new double[n];
        }
        MemorySegment gc = offHeapCopy(f32 ? MemorySegment.ofArray((float[]) ga) : MemorySegment.ofArray((double[]) ga));
        MemorySegment yc = offHeapCopy(f32 ? MemorySegment.ofArray((float[]) ya) : MemorySegment.ofArray((double[]) ya));
        MemorySegment oc = offHeapCopy(MemorySegment.ofArray(new byte[n * width]));
        INDArray gn = (f32 ? Nd4j.createFromArray((float[]) ga) : Nd4j.createFromArray((double[]) ga)).reshape('c', rows, cols);
        INDArray yn = (f32 ? Nd4j.createFromArray((float[]) ya) : Nd4j.createFromArray((double[]) ya)).reshape('c', rows, cols);
        DataType dt = f32 ? DataType.FLOAT : DataType.DOUBLE;
        INDArray onJ = Nd4j.create(dt, rows, cols);
        INDArray onC = Nd4j.create(dt, rows, cols);
        MemoryAddress gAddr = MemoryAddress.ofLong(gn.data().address());
        MemoryAddress yAddr = MemoryAddress.ofLong(yn.data().address());
        MemoryAddress oAddr = MemoryAddress.ofLong(onC.data().address());
        int flag = f32 ? 1 : 0;
        System.out.println("kernel " + cpu.kernel() + ", threads " + threads + ", [" + rows + "," + cols + "] "
                + args[3] + ", sleep " + sleepMs + " ms, OMP_WAIT_POLICY=" + System.getenv("OMP_WAIT_POLICY") + ", JDK "
                + Runtime.version());

        long[][] t = new long[4][calls];
        for (int call = -5; call < calls; call++) {
            for (int step = 0; step < 4; step++) {
                int v = (call & 1) == 0 ? step : step ^ 1; // every other call C first, as PairedCProbe
                long t0 = System.nanoTime();
                switch (v) {
                    case 0 -> {
                        if (f32) {
                            cpu.softmaxBackward((float[]) ga, (float[]) ya, (float[]) oj, rows, cols);
                        } else {
                            cpu.softmaxBackward((double[]) ga, (double[]) ya, (double[]) oj, rows, cols);
                        }
                    }
                    case 1 -> c.invokeExact(flag, gc.address(), yc.address(), oc.address(), rows, cols, threads);
                    case 2 -> cpu.softmaxBackward(gn, yn, onJ);
                    default -> c.invokeExact(flag, gAddr, yAddr, oAddr, rows, cols, threads);
                }
                long dt0 = System.nanoTime() - t0;
                if (call >= 0) {
                    t[v][call] = dt0;
                }
                if (sleepMs > 0) {
                    Thread.sleep(sleepMs);
                }
            }
        }
        boolean arraysSame = f32 ? Arrays.equals((float[]) oj, oc.toFloatArray())
                : Arrays.equals((double[]) oj, oc.toDoubleArray());
        boolean ndSame = Arrays.equals(onJ.data().asBytes(), onC.data().asBytes());
        double bytes = (double) n * (f32 ? 12 : 24);
        String[] names = {"Java, arrays", "C, on a copy off-heap", "Java, INDArrays", "C, on the INDArrays' memory"};
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

    /** An off-heap copy of {@code src}, 16 bytes past a 64-byte line (where a large Java array's elements start). */
    private static MemorySegment offHeapCopy(MemorySegment src) {
        MemorySegment s = MemorySegment.allocateNative(src.byteSize() + 64, 64, ResourceScope.globalScope())
                .asSlice(16, src.byteSize());
        s.copyFrom(src);
        return s;
    }

    private static long median(long[] a) {
        return (long) pct(a, 0.5);
    }

    private static double pct(long[] a, double p) {
        long[] s = a.clone();
        Arrays.sort(s);
        return s[(int) Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
    }

    private static double ratio(long[] c, long[] java, double p) {
        double[] r = new double[c.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = (double) c[i] / java[i];
        }
        Arrays.sort(r);
        return r[(int) Math.min(r.length - 1, Math.round(p * (r.length - 1)))];
    }
}
