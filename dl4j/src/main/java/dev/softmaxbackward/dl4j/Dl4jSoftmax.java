package dev.softmaxbackward.dl4j;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A drop-in for DL4J's {@link ActivationSoftmax} that runs this library's forward softmax and its
 * softmax backward (bit-identical across backends). It extends {@code ActivationSoftmax}, so losses that
 * special-case softmax (LossMCXENT, LossNegativeLogLikelihood) keep their fast path.
 *
 * <p>Stateless: serialises to JSON as its class name only, like DL4J's own activations.
 */
public class Dl4jSoftmax extends ActivationSoftmax {
    private static final long serialVersionUID = 1L;

    public Dl4jSoftmax() {
    }

    /** softmax of each row of {@code in}, in place (as ND4J's); returns {@code in}. */
    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        return Backends.softmax(in, in);
    }

    /**
     * dL/d(in) from dL/d(softmax(in)) = {@code epsilon}: y is recomputed from {@code in} with the same
     * forward pass (into a new array; {@code in} is untouched), and the gradient is written into
     * {@code epsilon}, as DL4J's activations do. No parameters: the second element is null.
     */
    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        INDArray y = Backends.softmax(in, in.ulike());
        Backends.softmaxBackward(epsilon, y, epsilon);
        return new Pair<>(epsilon, null);
    }

    @Override
    public String toString() {
        return "softmax-backward";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dl4jSoftmax;
    }

    @Override
    public int hashCode() {
        return Dl4jSoftmax.class.hashCode();
    }
}
