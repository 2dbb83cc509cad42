/**
 * The softmax backward pass: the facade {@link dev.softmaxbackward.SoftmaxBackward}, the backend SPI
 * {@link dev.softmaxbackward.SoftmaxBackwardBackend}, and the scalar {@code reference} backend.
 *
 * <p>{@code dev.softmaxbackward.spi} holds what backend implementations share with the reference
 * (argument validation, the canonical summation order's building blocks); it is not for callers.
 * {@code dev.softmaxbackward.reference} holds {@code ReferenceBackend}, the bits every backend must
 * return (docs/contract.md §3, invariant 6).
 */
module dev.softmaxbackward {
    requires org.slf4j;

    exports dev.softmaxbackward;
    exports dev.softmaxbackward.spi;
    // ReferenceBackend is public so that tests, benchmarks and other backends' tests can compare
    // against it directly, on the module path as on the class path
    exports dev.softmaxbackward.reference;

    uses dev.softmaxbackward.SoftmaxBackwardBackend;

    provides dev.softmaxbackward.SoftmaxBackwardBackend
            with dev.softmaxbackward.reference.ReferenceBackend;
}
