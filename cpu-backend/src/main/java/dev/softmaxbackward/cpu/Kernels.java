package dev.softmaxbackward.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the fused kernel once per class loader: the Vector API kernel when the incubating module
 * {@code jdk.incubator.vector} is in the boot layer (the JVM was started with
 * {@code --add-modules jdk.incubator.vector}) and {@value #VECTOR_PROPERTY} is not {@code false};
 * otherwise the scalar kernel. Both return the same bits; only their speed differs (about 10x).
 */
final class Kernels {
    static final String VECTOR_PROPERTY = "softmaxbackward.cpu.vector";
    private static final Logger LOG = LoggerFactory.getLogger(CpuBackend.class);

    private Kernels() {}

    /**
     * The one warning a value of {@value #VECTOR_PROPERTY} other than unset, {@code true} or {@code false}
     * (any case) gets; null for those. Such a value is treated as unset.
     */
    static String vectorPropertyWarning(String value) {
        String v = value == null ? "" : value.strip();
        if (v.isEmpty() || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return null;
        }
        return "softmax-backward cpu: " + VECTOR_PROPERTY + "=" + value + " is unknown (true or false);"
                + " using the default (the Vector API kernel when its module is present)";
    }

    private static final class Holder {
        static final RowKernel DEFAULT = choose();
    }

    static RowKernel defaultKernel() {
        return Holder.DEFAULT;
    }

    /**
     * The Vector API kernel for this JDK, or null when this JVM cannot run it (and why is logged at
     * debug). Arrays always run {@link VectorKernel}. INDArrays (off-heap ByteBuffers) need an access
     * path that exists on the running JDK:
     * <ul>
     *   <li>JDK 17-19: {@link ByteBufferKernel}, through {@code FloatVector.fromByteBuffer};</li>
     *   <li>JDK 22+: {@code SegmentKernel}, through {@code MemorySegment}, from the multi-release jar's
     *       {@code META-INF/versions/22} (final API there; it is absent from a jar built without a
     *       JDK 22+ javac, and from a plain class directory);</li>
     *   <li>JDK 20-21, or 22+ without that variant: {@link StagedKernel}, rows copied to the heap and
     *       back, because {@code fromByteBuffer} is gone and {@code MemorySegment} is a preview API there.</li>
     * </ul>
     */
    static RowKernel vectorKernel() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return null;
        }
        RowKernel arrays;
        try {
            // By name, so that this class never links against the incubator module when it is absent.
            Class<?> type = Class.forName("dev.softmaxbackward.cpu.VectorKernel");
            if (!(boolean) type.getDeclaredMethod("usable").invoke(null)) {
                LOG.debug("softmax-backward cpu: the preferred vector shape does not fit 32 lanes");
                return null;
            }
            arrays = (RowKernel) type.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.debug("softmax-backward cpu: the Vector API kernel cannot load: {}", e.toString());
            return null;
        }
        int feature = Runtime.version().feature();
        if (feature < 20) {
            return new ByteBufferKernel(arrays);
        }
        if (feature >= 22) {
            try {
                return Class.forName("dev.softmaxbackward.cpu.SegmentKernel").asSubclass(RowKernel.class)
                        .getDeclaredConstructor(RowKernel.class).newInstance(arrays);
            } catch (ReflectiveOperationException | LinkageError e) {
                LOG.debug("softmax-backward cpu: no JDK 22 MemorySegment kernel in this jar ({}); INDArray rows"
                        + " are staged through the heap", e.toString());
            }
        }
        return new StagedKernel(arrays);
    }

    private static RowKernel choose() {
        String value = System.getProperty(VECTOR_PROPERTY, "");
        String warning = vectorPropertyWarning(value);
        if (warning != null) {
            LOG.warn(warning);
        }
        if ("false".equalsIgnoreCase(value.strip())) {
            LOG.info("softmax-backward cpu: scalar kernel ({}=false)", VECTOR_PROPERTY);
            return ScalarKernel.INSTANCE;
        }
        RowKernel vector = vectorKernel();
        if (vector == null) {
            LOG.info("softmax-backward cpu: scalar kernel; start the JVM with --add-modules jdk.incubator.vector"
                    + " for the vectorised one (same bits, about 10x faster)");
            return ScalarKernel.INSTANCE;
        }
        LOG.debug("softmax-backward cpu: {} kernel", vector.name());
        return vector;
    }
}
