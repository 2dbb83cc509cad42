package dev.softmaxbackward.spark;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend a task runs on: {@link SoftmaxBackward#backend()} (ServiceLoader, cuda &gt; cpu &gt;
 * reference, or {@code -Dsoftmaxbackward.backend=...} in {@code spark.executor.extraJavaOptions}).
 * On an executor that Spark gave a GPU, the first task's {@code TaskContext.resources()} "gpu" address
 * becomes {@code softmaxbackward.cuda.device} before the backend is chosen, so the cuda backend opens
 * the GPU Spark assigned. The choice is made once per executor JVM; with one GPU per executor (the
 * usual {@code spark.executor.resource.gpu.amount=1}) that is the task's GPU.
 */
final class ExecutorBackend {
    static final String CUDA_DEVICE_PROPERTY = "softmaxbackward.cuda.device";
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorBackend.class);
    private static volatile SoftmaxBackwardBackend chosen;

    private ExecutorBackend() {}

    static SoftmaxBackwardBackend get() {
        SoftmaxBackwardBackend b = chosen;
        if (b == null) {
            synchronized (ExecutorBackend.class) {
                b = chosen;
                if (b == null) {
                    assignGpu(TaskContext.get());
                    b = SoftmaxBackward.backend();
                    LOG.info("softmax-backward on this executor: backend {}", b.name());
                    chosen = b;
                }
            }
        }
        return b;
    }

    private static void assignGpu(TaskContext task) {
        if (task == null || System.getProperty(CUDA_DEVICE_PROPERTY) != null) {
            return;
        }
        Map<String, ResourceInformation> resources = task.resourcesJMap();
        ResourceInformation gpu = resources.get("gpu");
        if (gpu != null && gpu.addresses().length > 0) {
            System.setProperty(CUDA_DEVICE_PROPERTY, gpu.addresses()[0]);
            LOG.info("task {} was given GPU {}: {}={}", task.taskAttemptId(), gpu.addresses()[0],
                    CUDA_DEVICE_PROPERTY, gpu.addresses()[0]);
        }
    }
}
