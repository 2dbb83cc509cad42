package dev.softmaxbackward.conformance;

/**
 * One named check of the kit, free of any test framework: {@code check} throws {@link AssertionError}
 * (with the numbers) when the backend gets it wrong. The JUnit suite makes each a dynamic test; the
 * CLI's {@code check} runs them itself.
 */
public record Case(String title, Runnable check) {}
