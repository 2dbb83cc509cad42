package dev.softmaxbackward.conformance.example;

import dev.softmaxbackward.conformance.BackendConformanceTest;

/**
 * How a backend module reuses the suite from its own tests (from another package, as it would):
 * here for the reference backend, which is always available, so this run must not be skipped.
 */
class ReferenceBackendConformanceTest extends BackendConformanceTest {
    @Override
    protected String backendName() {
        return "reference";
    }
}
