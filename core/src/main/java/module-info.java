/**
 * The softmax backward pass: the facade {@link dev.softmaxbackward.SoftmaxBackward}, the backend SPI
 * {@link dev.softmaxbackward.SoftmaxBackwardBackend}, and the scalar {@code reference} backend.
 *
 * <p>{@code dev.softmaxbackward.spi} holds what backend implementations share with the reference
 * (argument validation, the canonical summation order's building blocks); it is not for callers.
 */
module dev.softmaxbackward {
    requires org.slf4j;

    exports dev.softmaxbackward;
    exports dev.softmaxbackward.spi;

    uses dev.softmaxbackward.SoftmaxBackwardBackend;

    provides dev.softmaxbackward.SoftmaxBackwardBackend
            with dev.softmaxbackward.reference.ReferenceBackend;
}
