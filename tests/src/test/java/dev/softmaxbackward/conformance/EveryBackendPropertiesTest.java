package dev.softmaxbackward.conformance;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.util.List;

/**
 * The jqwik properties for every available backend on the test classpath (unavailable ones are
 * reported as skipped by {@link EveryBackendConformanceTest}).
 */
class EveryBackendPropertiesTest extends SoftmaxBackwardProperties {
    @Override
    protected List<SoftmaxBackwardBackend> backendsUnderTest() {
        return SoftmaxBackward.backends().stream().filter(BackendStatus::available)
                .map(s -> SoftmaxBackward.backend(s.name())).toList();
    }
}
