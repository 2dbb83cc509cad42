package dev.softmaxbackward.dl4j;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The one place where the DL4J classes call the library: forward softmax, fused cross-entropy backward
 * and softmax backward on [B, V] INDArrays of FLOAT or DOUBLE.
 *
 * <p>When the selected backend is {@code cpu}, its INDArray entry points run on ND4J's off-heap memory
 * with no copy; any other backend ({@code reference}, {@code cuda}) gets heap arrays through the SPI.
 * cpu-backend is an optional dependency: {@link CpuPath} is loaded only when {@code cpu} is selected.
 */
final class Backends {
    /** Forward softmax passes over a batch since class load: tests count them to pin the one-pass claims. */
    static final java.util.concurrent.atomic.LongAdder SOFTMAX_PASSES = new java.util.concurrent.atomic.LongAdder();

    private Backends() {
    }

    static SoftmaxBackwardBackend backend() {
        return SoftmaxBackward.backend();
    }

    /** out = softmax(logits) per row; out may be logits. Returns out. */
    static INDArray softmax(INDArray logits, INDArray out) {
        int[] rc = rowsCols("logits", logits);
        requireSameShape("out", out, "logits", logits);
        SOFTMAX_PASSES.increment();
        SoftmaxBackwardBackend b = backend();
        if (isCpu(b)) {
            return CpuPath.softmax(b, logits, out);
        }
        if (logits.dataType() == DataType.DOUBLE) {
            double[] x = flatDouble(logits);
            double[] y = new double[x.length];
            b.softmax(x, y, rc[0], rc[1]);
            write(out, Nd4j.createFromArray(y));
        } else {
            float[] x = flatFloat(logits);
            float[] y = new float[x.length];
            b.softmax(x, y, rc[0], rc[1]);
            write(out, Nd4j.createFromArray(y));
        }
        return out;
    }

    /**
     * {@link #crossEntropyBackward} of {@link #softmax}{@code (logits)} in one softmax pass, with no
     * softmax array on the cpu backend (its fused entry point); {@code yAtLabel[r]} is the softmax's entry
     * at row r's label (NaN for an ignored row), for the score; logits are copied into logitsCopy (a dense
     * C-order array, or null: no copy) in the same pass. gradIn may be logits. Returns gradIn.
     */
    static INDArray softmaxCrossEntropy(INDArray logits, int[] labels, double[] rowScale, INDArray gradIn,
            double[] yAtLabel, INDArray logitsCopy) {
        SoftmaxBackwardBackend b = backend();
        if (!isCpu(b)) {
            if (logitsCopy != null) {
                logitsCopy.assign(logits);
            }
            INDArray y = softmax(logits, gradIn);
            for (int r = 0; r < labels.length; r++) {
                yAtLabel[r] = labels[r] == FusedSoftmaxCrossEntropy.IGNORE_INDEX ? Double.NaN : entry(y, r, labels[r]);
            }
            return crossEntropyBackward(y, labels, rowScale, y);
        }
        rowsCols("logits", logits);
        requireSameShape("gradIn", gradIn, "logits", logits);
        SOFTMAX_PASSES.increment();
        return CpuPath.softmaxCrossEntropy(b, logits, labels, rowScale, gradIn, yAtLabel, logitsCopy);
    }

    /**
     * Entry [r, c] through the buffer and strides: INDArray.getDouble(r, c) allocates on the heap per call.
     * A view's data() is a buffer of its own that starts at the view's offset (indices relative to it).
     */
    static double entry(INDArray a, long r, long c) {
        return a.data().getDouble(r * a.stride(0) + c * a.stride(1));
    }

    /**
     * Whether a and b hold the same bits (same dtype and shape): two dense C-order arrays are compared
     * as bytes, split between the calling thread and the common pool; any other layout by an L1
     * distance of exactly 0 (NaN or Inf: not the same).
     */
    static boolean sameBits(INDArray a, INDArray b) {
        if (a.dataType() != b.dataType() || !java.util.Arrays.equals(a.shape(), b.shape())) {
            return false;
        }
        long bytes = a.length() * a.dataType().width();
        if (!CpuPath.isC(a) || !CpuPath.isC(b) || bytes > Integer.MAX_VALUE || a.data().length() != a.length()
                || b.data().length() != b.length()) {
            return a.distance1(b) == 0;
        }
        java.nio.ByteBuffer x = a.data().asNio();
        java.nio.ByteBuffer y = b.data().asNio();
        int n = (int) bytes;
        int parts = n < (1 << 20) ? 1 : 2 * Runtime.getRuntime().availableProcessors();
        try {
            return java.util.stream.IntStream.range(0, parts).parallel().allMatch(p -> {
                int from = (int) ((long) n * p / parts);
                int to = (int) ((long) n * (p + 1) / parts);
                return x.slice(from, to - from).mismatch(y.slice(from, to - from)) == -1;
            });
        } finally {
            java.lang.ref.Reference.reachabilityFence(a); // the ByteBuffers do not keep ND4J's memory allocated
            java.lang.ref.Reference.reachabilityFence(b);
        }
    }

    /**
     * gradIn = rowScale[r] * (y - onehot(labels[r])) per row (label -100: a zero row); gradIn may be y.
     * Rows with the same scale are batched into one SPI call; with one scale for all rows that is one call.
     */
    static INDArray crossEntropyBackward(INDArray y, int[] labels, double[] rowScale, INDArray gradIn) {
        int[] rc = rowsCols("softmaxOut", y);
        requireSameShape("gradIn", gradIn, "softmaxOut", y);
        int rows = rc[0];
        int cols = rc[1];
        SoftmaxBackwardBackend b = backend();
        if (isCpu(b)) {
            return CpuPath.crossEntropyBackward(b, y, labels, rowScale, gradIn);
        }
        boolean uniform = true;
        for (double s : rowScale) {
            uniform &= s == rowScale[0];
        }
        boolean isDouble = y.dataType() == DataType.DOUBLE;
        Object yy = isDouble ? flatDouble(y) : flatFloat(y);
        Object g = isDouble ? new double[rows * cols] : new float[rows * cols];
        if (uniform) {
            crossEntropy(b, yy, labels, rows == 0 ? 1 : rowScale[0], g, rows, cols);
        } else {
            Object rowY = isDouble ? new double[cols] : new float[cols];
            Object rowG = isDouble ? new double[cols] : new float[cols];
            int[] one = new int[1];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(yy, r * cols, rowY, 0, cols);
                one[0] = labels[r];
                crossEntropy(b, rowY, one, rowScale[r], rowG, 1, cols);
                System.arraycopy(rowG, 0, g, r * cols, cols);
            }
        }
        write(gradIn, isDouble ? Nd4j.createFromArray((double[]) g) : Nd4j.createFromArray((float[]) g));
        return gradIn;
    }

    /** gradIn = y * (gradOut - sum(y*gradOut)/sum(y)) per row; gradIn may be gradOut. */
    static INDArray softmaxBackward(INDArray gradOut, INDArray y, INDArray gradIn) {
        int[] rc = rowsCols("softmaxOut", y);
        requireSameShape("gradOut", gradOut, "softmaxOut", y);
        requireSameShape("gradIn", gradIn, "softmaxOut", y);
        SoftmaxBackwardBackend b = backend();
        if (isCpu(b)) {
            return CpuPath.softmaxBackward(b, gradOut, y, gradIn);
        }
        if (y.dataType() == DataType.DOUBLE) {
            double[] g = flatDouble(gradOut);
            double[] out = new double[g.length];
            b.softmaxBackward(g, flatDouble(y), out, rc[0], rc[1]);
            write(gradIn, Nd4j.createFromArray(out));
        } else {
            float[] g = flatFloat(gradOut);
            float[] out = new float[g.length];
            b.softmaxBackward(g, flatFloat(y), out, rc[0], rc[1]);
            write(gradIn, Nd4j.createFromArray(out));
        }
        return gradIn;
    }

    /** One SPI call on {@code double[]} or {@code float[]} arrays; for float32 the scale is rounded to float. */
    private static void crossEntropy(SoftmaxBackwardBackend b, Object y, int[] labels, double scale, Object g,
                                     int rows, int cols) {
        if (y instanceof double[] yd) {
            b.crossEntropyBackward(yd, labels, scale, (double[]) g, rows, cols);
        } else {
            b.crossEntropyBackward((float[]) y, labels, (float) scale, (float[]) g, rows, cols);
        }
    }

    private static boolean isCpu(SoftmaxBackwardBackend b) {
        return "cpu".equals(b.name());
    }

    /**
     * The cpu backend's INDArray entry points; referencing CpuBackend only here keeps cpu-backend optional.
     * The kernels take row-contiguous arrays only, and DL4J hands layers F-order arrays in places (an
     * activation layer's epsilon, for one): those go through a C-order copy rather than being rejected.
     */
    private static final class CpuPath {
        static INDArray softmax(SoftmaxBackwardBackend b, INDArray logits, INDArray out) {
            INDArray o = cOrderTarget(out);
            ((dev.softmaxbackward.cpu.CpuBackend) b).softmax(o == out && logits == out ? o : cOrder(logits), o);
            return writeBack(o, out);
        }

        static INDArray softmaxCrossEntropy(SoftmaxBackwardBackend b, INDArray logits, int[] labels,
                double[] rowScale, INDArray gradIn, double[] yAtLabel, INDArray logitsCopy) {
            INDArray o = cOrderTarget(gradIn);
            ((dev.softmaxbackward.cpu.CpuBackend) b).softmaxCrossEntropyBackward(
                    o == gradIn && logits == gradIn ? o : cOrder(logits), labels, rowScale, o, yAtLabel, logitsCopy);
            return writeBack(o, gradIn);
        }

        static INDArray crossEntropyBackward(SoftmaxBackwardBackend b, INDArray y, int[] labels, double[] rowScale,
                INDArray gradIn) {
            INDArray o = cOrderTarget(gradIn);
            ((dev.softmaxbackward.cpu.CpuBackend) b).crossEntropyBackward(o == gradIn && y == gradIn ? o : cOrder(y),
                    labels, rowScale, o);
            return writeBack(o, gradIn);
        }

        static INDArray softmaxBackward(SoftmaxBackwardBackend b, INDArray gradOut, INDArray y, INDArray gradIn) {
            INDArray o = cOrderTarget(gradIn);
            ((dev.softmaxbackward.cpu.CpuBackend) b).softmaxBackward(o == gradIn && gradOut == gradIn ? o : cOrder(gradOut),
                    cOrder(y), o);
            return writeBack(o, gradIn);
        }

        static boolean isC(INDArray a) {
            return a.ordering() == 'c' && !a.isView();
        }

        private static INDArray cOrder(INDArray a) {
            return isC(a) ? a : a.dup('c');
        }

        private static INDArray cOrderTarget(INDArray a) {
            return isC(a) ? a : Nd4j.createUninitialized(a.dataType(), a.shape(), 'c');
        }

        private static INDArray writeBack(INDArray computed, INDArray target) {
            return computed == target ? target : target.assign(computed);
        }
    }

    /** The elements in C order, on the heap (the SPI takes Java arrays). */
    private static double[] flatDouble(INDArray a) {
        return a.reshape('c', new long[] {a.length()}).toDoubleVector();
    }

    private static float[] flatFloat(INDArray a) {
        return a.reshape('c', new long[] {a.length()}).toFloatVector();
    }

    private static void write(INDArray target, INDArray flat) {
        target.assign(flat.reshape('c', new long[] {target.size(0), target.size(1)}));
    }

    static int[] rowsCols(String name, INDArray a) {
        if (a == null) {
            throw new NullPointerException(name);
        }
        if (a.rank() != 2) {
            throw new IllegalArgumentException(name + " must be [rows, cols], got rank " + a.rank() + " shape "
                    + java.util.Arrays.toString(a.shape()));
        }
        DataType t = a.dataType();
        if (t != DataType.FLOAT && t != DataType.DOUBLE) {
            throw new IllegalArgumentException(name + " dtype must be FLOAT or DOUBLE, got " + t);
        }
        if (a.size(0) > Integer.MAX_VALUE || a.size(1) > Integer.MAX_VALUE || a.length() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " is too large: shape " + java.util.Arrays.toString(a.shape()));
        }
        return new int[] {(int) a.size(0), (int) a.size(1)};
    }

    static void requireSameShape(String name, INDArray a, String refName, INDArray ref) {
        if (a == null) {
            throw new NullPointerException(name);
        }
        if (!java.util.Arrays.equals(a.shape(), ref.shape()) || a.dataType() != ref.dataType()) {
            throw new IllegalArgumentException(name + " " + a.dataType() + java.util.Arrays.toString(a.shape())
                    + " != " + refName + " " + ref.dataType() + java.util.Arrays.toString(ref.shape()));
        }
    }
}
