package dev.softmaxbackward.conformance;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.util.List;

/**
 * The jqwik properties for every available backend on the classpath (unavailable ones are reported as
 * skipped by {@link EveryBackendConformance}). Run in this module's build by
 * {@code EveryBackendPropertiesTest}.
 */
public class EveryBackendProperties extends SoftmaxBackwardProperties {
    @Override
    protected List<SoftmaxBackwardBackend> backendsUnderTest() {
        return SoftmaxBackward.backends().stream().filter(BackendStatus::available)
                .map(s -> SoftmaxBackward.backend(s.name())).toList();
    }
}
