package dev.softmaxbackward.cli;

import dev.softmaxbackward.BackendStatus;
import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.util.ArrayList;
import java.util.List;

/** Turns a {@code --backend NAME|all} value into backends, through the core facade only. */
final class Backends {
    private Backends() {}

    /**
     * {@code all}: every available backend, highest priority first; a name: that backend, or a
     * {@link dev.softmaxbackward.BackendUnavailableException} (exit status 3) saying why not.
     */
    static List<SoftmaxBackwardBackend> resolve(String name) {
        if (!"all".equalsIgnoreCase(name.strip())) {
            return List.of(SoftmaxBackward.backend(name));
        }
        List<SoftmaxBackwardBackend> out = new ArrayList<>();
        for (BackendStatus s : SoftmaxBackward.backends()) {
            if (s.available()) {
                out.add(SoftmaxBackward.backend(s.name()));
            }
        }
        return out;
    }

    /** The reference backend, which every other one must equal bit for bit. */
    static SoftmaxBackwardBackend reference() {
        return SoftmaxBackward.backend("reference");
    }
}
