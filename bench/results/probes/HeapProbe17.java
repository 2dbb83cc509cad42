/*
 * A probe, not part of the build (stop 29): on JDK 17, the C kernel on the Java heap arrays themselves
 * (through JNI's critical regions, HeapC below) beside C on an off-heap copy and the cpu backend on the
 * arrays, each call's order rotated. It ruled out the arrays' placement as the cause of JDK 17's float64
 * array loss: C on the heap arrays ran as fast as on its copy (0.86-0.93 x the backend's time before stop
 * 29's fix, the same as the copy). Needs the JNI shim at the end of this file, saved as HeapC.c:
 *
 *   gcc -O3 -march=native -ffp-contract=off -fopenmp -shared -fPIC -I bench/src/main/c \
 *       -I$JAVA_HOME/include -I$JAVA_HOME/include/linux -o /tmp/hc/libheapc.so HeapC.c -lm
 *   javac --add-modules jdk.incubator.foreign -cp $(cat /tmp/cp.txt) -d /tmp/hc bench/results/probes/HeapProbe17.java
 *   OMP_WAIT_POLICY=passive java --add-modules jdk.incubator.vector,jdk.incubator.foreign --enable-native-access=ALL-UNNAMED \
 *       -Xmx8g -Dsoftmaxbackward.cpu.threads=2 -cp /tmp/hc:$(cat /tmp/cp.txt) HeapProbe17 /tmp/pp/libsbref.so ROWS COLS f32|f64 CALLS [VARIANTS]
 *
 * HeapC.c:
 *   #include <jni.h>
 *   #include "softmax_backward_ref.c"
 *   JNIEXPORT void JNICALL Java_HeapC_run(JNIEnv *env, jclass cls, jint f, jobject g, jobject y, jobject o, jint r, jint c, jint t) {
 *     void *gp = (*env)->GetPrimitiveArrayCritical(env, g, NULL), *yp = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
 *     void *op = (*env)->GetPrimitiveArrayCritical(env, o, NULL);
 *     backward(f, gp, yp, op, r, c, t);
 *     (*env)->ReleasePrimitiveArrayCritical(env, o, op, 0);
 *     (*env)->ReleasePrimitiveArrayCritical(env, y, yp, JNI_ABORT);
 *     (*env)->ReleasePrimitiveArrayCritical(env, g, gp, JNI_ABORT);
 *   }
 *   JNIEXPORT jlong JNICALL Java_HeapC_addr(JNIEnv *env, jclass cls, jobject a) {
 *     void *p = (*env)->GetPrimitiveArrayCritical(env, a, NULL);
 *     (*env)->ReleasePrimitiveArrayCritical(env, a, p, JNI_ABORT);
 *     return (jlong) p;
 *   }
 */
import dev.softmaxbackward.cpu.CpuBackend;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.foreign.*;

public final class HeapProbe17 {
    public static void main(String[] args) throws Throwable {
        System.load(args[0]);
        System.load(System.getProperty("heapc", "/tmp/hc/libheapc.so"));
        int rows = Integer.parseInt(args[1]), cols = Integer.parseInt(args[2]);
        boolean f32 = args[3].equals("f32");
        int calls = Integer.parseInt(args[4]);
        int n = rows * cols;
        SplittableRandom rnd = new SplittableRandom(1);
        double[] g = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) { g[i] = rnd.nextGaussian(); y[i] = rnd.nextDouble() * 2 / cols; }
        MemoryAddress fn = SymbolLookup.loaderLookup().lookup("sb_backward").orElseThrow();
        MethodHandle c = CLinker.getInstance().downcallHandle(fn,
                MethodType.methodType(void.class, int.class, MemoryAddress.class, MemoryAddress.class, MemoryAddress.class, int.class, int.class, int.class),
                FunctionDescriptor.ofVoid(CLinker.C_INT, CLinker.C_POINTER, CLinker.C_POINTER, CLinker.C_POINTER, CLinker.C_INT, CLinker.C_INT, CLinker.C_INT));
        CpuBackend cpu = new CpuBackend();
        int threads = cpu.threads();
        int width = f32 ? 4 : 8;
        Object ga, ya, oj, oh;
        if (f32) {
            float[] gf = new float[n], yf = new float[n];
            for (int i = 0; i < n; i++) { gf[i] = (float) g[i]; yf[i] = (float) y[i]; }
            ga = gf; ya = yf; oj = new float[n]; oh = new float[n];
        } else { ga = g; ya = y; oj = new double[n]; oh = new double[n]; }
        MemorySegment gc = offHeapCopy(f32 ? MemorySegment.ofArray((float[]) ga) : MemorySegment.ofArray((double[]) ga));
        MemorySegment yc = offHeapCopy(f32 ? MemorySegment.ofArray((float[]) ya) : MemorySegment.ofArray((double[]) ya));
        MemorySegment oc = offHeapCopy(MemorySegment.ofArray(new byte[n * width]));
        int flag = f32 ? 1 : 0;
        System.out.println("threads " + threads + " [" + rows + "," + cols + "] " + args[3] + " JDK " + Runtime.version());
        for (Object a : new Object[] {ga, ya, oj, oh}) {
            long ad = HeapC.addr(a);
            System.out.printf("heap array at %x mod4K %d mod2M %d%n", ad, ad % 4096, ad % (1 << 21));
        }
        System.out.printf("offheap g %x y %x o %x%n", gc.address().toRawLongValue(), yc.address().toRawLongValue(), oc.address().toRawLongValue());
        String[] names = {"Java, arrays", "C, off-heap copy", "C, same heap arrays (JNI)", "C, heap arrays own out"};
        String sel = args.length > 5 ? args[5] : "0123"; int k = names.length;
        long[][] t = new long[k][calls];
        for (int call = -5; call < calls; call++) {
            for (int step = 0; step < k; step++) {
                int v = (step + Math.floorMod(call, k)) % k; if (sel.indexOf((char) ('0' + v)) < 0) continue;
                long t0 = System.nanoTime();
                switch (v) {
                    case 0 -> { if (f32) cpu.softmaxBackward((float[]) ga, (float[]) ya, (float[]) oj, rows, cols);
                                else cpu.softmaxBackward((double[]) ga, (double[]) ya, (double[]) oj, rows, cols); }
                    case 1 -> c.invokeExact(flag, gc.address(), yc.address(), oc.address(), rows, cols, threads);
                    case 2 -> HeapC.run(flag, ga, ya, oj, rows, cols, threads);
                    default -> HeapC.run(flag, ga, ya, oh, rows, cols, threads);
                }
                long d = System.nanoTime() - t0;
                if (call >= 0) t[v][call] = d;
                Thread.sleep(2);
            }
        }
        double bytes = (double) n * (f32 ? 12 : 24);
        for (int v = 0; v < k; v++) { if (sel.indexOf((char) ('0' + v)) < 0) continue;
            long m = (long) pct(t[v], 0.5);
            System.out.printf("%-28s median %9.1f us  p10 %9.1f  p90 %9.1f  %6.2f GB/s  x Java %.3f%n", names[v], m / 1e3,
                    pct(t[v], 0.1) / 1e3, pct(t[v], 0.9) / 1e3, bytes / m, ratio(t[v], t[0], 0.5));
        }
        boolean same = f32 ? Arrays.equals((float[]) oj, oc.toFloatArray()) : Arrays.equals((double[]) oj, oc.toDoubleArray());
        System.out.println("same bits: " + same);
    }
    private static MemorySegment offHeapCopy(MemorySegment src) {
        MemorySegment s = MemorySegment.allocateNative(src.byteSize() + 64, 64, ResourceScope.globalScope()).asSlice(16, src.byteSize());
        s.copyFrom(src);
        return s;
    }
    private static double pct(long[] a, double p) { long[] s = a.clone(); Arrays.sort(s); return s[(int) Math.min(s.length - 1, Math.round(p * (s.length - 1)))]; }
    private static double ratio(long[] c, long[] java, double p) {
        double[] r = new double[c.length];
        for (int i = 0; i < r.length; i++) r[i] = (double) c[i] / java[i];
        Arrays.sort(r);
        return r[(int) Math.min(r.length - 1, Math.round(p * (r.length - 1)))];
    }
}

final class HeapC {
    static native void run(int f, Object g, Object y, Object o, int r, int c, int t);
    static native long addr(Object a);
}
