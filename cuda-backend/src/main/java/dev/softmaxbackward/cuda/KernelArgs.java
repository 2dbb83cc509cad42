package dev.softmaxbackward.cuda;

import java.util.ArrayList;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;

/**
 * Typed kernel launch arguments. Each kernel family has one factory below, whose parameter list is
 * the kernel's, in its order and with its C types; {@code KernelArgsTest} checks every factory's
 * {@link #signature()} against the {@code .param} list of the PTX entries it is used for, so an
 * argument out of order or of the wrong width is caught without a GPU.
 */
final class KernelArgs {
    /** The PTX parameter type of each argument, as {@code .param} declares it. */
    enum Type {
        /** A device pointer (64-bit). */
        U64_POINTER("u64"),
        /** {@code long long}. */
        U64("u64"),
        /** {@code int}. */
        U32("u32"),
        /** {@code double}. */
        F64("f64");

        final String ptx;

        Type(String ptx) {
            this.ptx = ptx;
        }
    }

    private final List<Pointer> pointers = new ArrayList<>(8);
    private final List<Type> types = new ArrayList<>(8);

    private KernelArgs() {}

    private KernelArgs add(Pointer value, Type type) {
        pointers.add(value);
        types.add(type);
        return this;
    }

    private KernelArgs pointer(NativePointerObject p) {
        return add(Pointer.to(p), Type.U64_POINTER);
    }

    private KernelArgs int64(long v) {
        return add(Pointer.to(new long[] {v}), Type.U64);
    }

    private KernelArgs int32(int v) {
        return add(Pointer.to(new int[] {v}), Type.U32);
    }

    private KernelArgs float64(double v) {
        return add(Pointer.to(new double[] {v}), Type.F64);
    }

    /** The kernelParams array of cuLaunchKernel. */
    Pointer[] parameters() {
        return pointers.toArray(new Pointer[0]);
    }

    /** The PTX types in order, e.g. [u64, u64, u32]. */
    List<String> signature() {
        return types.stream().map(t -> t.ptx).toList();
    }

    // ---- one factory per kernel family (see the entry points at the end of softmax_backward.cu) ----

    /** sb_warp_*, sb_block_*, sb_reread_*: (g, y, out, long long rows, int cols, long long stride). */
    static KernelArgs row(Pointer g, Pointer y, Pointer out, long rows, int cols, long stride) {
        return new KernelArgs().pointer(g).pointer(y).pointer(out).int64(rows).int32(cols).int64(stride);
    }

    /** sb_split_partials_*: (g, y, long long rows, int cols, long long stride, int spb, ws, int staged). */
    static KernelArgs splitPartials(Pointer g, Pointer y, long rows, int cols, long stride, int segmentsPerBlock,
                                    Pointer workspace, int staged) {
        return new KernelArgs().pointer(g).pointer(y).int64(rows).int32(cols).int64(stride).int32(segmentsPerBlock)
                .pointer(workspace).int32(staged);
    }

    /** sb_split_finish_*: (g, y, long long rows, int cols, long long stride, ws, double* dws). */
    static KernelArgs splitFinish(Pointer g, Pointer y, long rows, int cols, long stride, Pointer workspace,
                                  Pointer d) {
        return new KernelArgs().pointer(g).pointer(y).int64(rows).int32(cols).int64(stride).pointer(workspace)
                .pointer(d);
    }

    /** sb_split_output_*: (g, y, out, long long rows, int cols, long long stride, int spb, const double* dws). */
    static KernelArgs splitOutput(Pointer g, Pointer y, Pointer out, long rows, int cols, long stride,
                                  int segmentsPerBlock, Pointer d) {
        return new KernelArgs().pointer(g).pointer(y).pointer(out).int64(rows).int32(cols).int64(stride)
                .int32(segmentsPerBlock).pointer(d);
    }

    /** sm_fwd_*: (x, out, long long rows, int cols, long long stride, ws). */
    static KernelArgs forward(Pointer x, Pointer out, long rows, int cols, long stride, Pointer workspace) {
        return new KernelArgs().pointer(x).pointer(out).int64(rows).int32(cols).int64(stride).pointer(workspace);
    }

    /** ce_bwd_*: (y, const int* labels, double scale, out, long long rows, int cols, long long stride). */
    static KernelArgs crossEntropy(Pointer y, Pointer labels, double scale, Pointer out, long rows, int cols,
                                   long stride) {
        return new KernelArgs().pointer(y).pointer(labels).float64(scale).pointer(out).int64(rows).int32(cols)
                .int64(stride);
    }
}
