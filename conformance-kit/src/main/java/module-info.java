/**
 * The conformance checkers of docs/contract.md §3, without a test framework: each check throws
 * {@link AssertionError} with the numbers when an invariant does not hold. Used by the JUnit/jqwik
 * suite ({@code softmax-backward-tests}) and by the CLI's {@code check}.
 *
 * <p>The suite's adapters in {@code softmax-backward-tests} share this package and run on the class
 * path only (as surefire runs them).
 */
module dev.softmaxbackward.conformance {
    requires transitive dev.softmaxbackward;

    exports dev.softmaxbackward.conformance;
}
