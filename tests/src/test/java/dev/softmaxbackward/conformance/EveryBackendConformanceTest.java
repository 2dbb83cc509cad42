package dev.softmaxbackward.conformance;

/**
 * The conformance suite for every backend on this module's test classpath (reference, and cpu and cuda
 * through their test-scoped dependencies); unavailable ones are reported as skipped with their reason.
 */
class EveryBackendConformanceTest extends EveryBackendConformance {
}
