package dev.softmaxbackward.conformance;

/** The jqwik properties for every available backend on this module's test classpath. */
class EveryBackendPropertiesTest extends EveryBackendProperties {
}
