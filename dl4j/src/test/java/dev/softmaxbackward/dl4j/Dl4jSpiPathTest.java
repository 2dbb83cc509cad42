package dev.softmaxbackward.dl4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.cpu.CpuBackend;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The path Backends takes when the selected backend is not cpu: heap arrays through the SPI. Runs in its own
 * surefire execution with -Dsoftmaxbackward.backend=reference (dl4j/pom.xml), and checks that it gives the
 * bits of the cpu backend's INDArray entry points (contract §3 invariant 6), for both dtypes, uniform and
 * per-row scales (the row-by-row SPI calls), and an F-order input.
 */
class Dl4jSpiPathTest {
    static final CpuBackend CPU = SoftmaxBackward.backend("cpu").unwrap(CpuBackend.class);

    @Test
    void theSelectedBackendIsReference() {
        assertEquals("reference", Backends.backend().name(),
                "this test class must run with -Dsoftmaxbackward.backend=reference (surefire execution spi-path)");
    }

    @Test
    void softmaxCrossEntropyAndBackwardGiveTheCpuBits() {
        for (DataType dt : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            int b = 5;
            int v = 4099; // two segments of the canonical order
            INDArray x = Nd4j.rand(dt, b, v).subi(0.5).muli(20);
            INDArray xCopy = x.dup();
            INDArray y = Backends.softmax(x, x.ulike());
            assertBits(CPU.softmax(x, x.ulike()), y, dt + " softmax");
            assertEquals(xCopy, x, "logits untouched");
            INDArray inPlace = x.dup();
            Backends.softmax(inPlace, inPlace);
            assertBits(y, inPlace, dt + " softmax in place");
            INDArray xf = x.dup('f');
            assertBits(y, Backends.softmax(xf, xf.ulike()), dt + " softmax of an F-order input");

            int[] labels = {0, v - 1, FusedSoftmaxCrossEntropy.IGNORE_INDEX, 17, 4096};
            double[] uniform = {0.25, 0.25, 0.25, 0.25, 0.25};
            double[] perRow = {1, 0.5, 3, 0, 1.0 / 3};
            for (double[] scale : new double[][] {uniform, perRow}) {
                INDArray expected = CPU.crossEntropyBackward(y, labels, scale, y.ulike());
                assertBits(expected, Backends.crossEntropyBackward(y, labels, scale, y.ulike()),
                        dt + " crossEntropyBackward scale " + scale[1]);
            }

            INDArray g = Nd4j.rand(dt, b, v).subi(0.5);
            INDArray expected = CPU.softmaxBackward(g, y, g.ulike());
            assertBits(expected, Backends.softmaxBackward(g, y, g.ulike()), dt + " softmaxBackward");
            INDArray gi = g.dup();
            Backends.softmaxBackward(gi, y, gi);
            assertBits(expected, gi, dt + " softmaxBackward in place");
        }
    }

    @Test
    void theLossAndActivationGiveTheCpuBits() {
        int b = 6;
        int v = 1000;
        INDArray pre = Nd4j.rand(DataType.FLOAT, b, v).muli(8);
        int[] l = {3, 999, 0, FusedSoftmaxCrossEntropy.IGNORE_INDEX, 500, 7};
        INDArray labels = Nd4j.create(DataType.FLOAT, b, 1);
        for (int r = 0; r < b; r++) {
            labels.putScalar(r, 0, l[r]);
        }
        INDArray grad = new FusedSoftmaxCrossEntropy().computeGradient(labels, pre, new Dl4jSoftmax(), null);
        INDArray y = CPU.softmax(pre, pre.ulike());
        double[] one = {1, 1, 1, 1, 1, 1};
        assertBits(CPU.crossEntropyBackward(y, l, one, y.ulike()), grad, "FusedSoftmaxCrossEntropy.computeGradient");
        INDArray eps = Nd4j.rand(DataType.FLOAT, b, v);
        INDArray expected = CPU.softmaxBackward(eps, y, eps.ulike());
        assertBits(expected, new Dl4jSoftmax().backprop(pre.dup(), eps.dup()).getFirst(), "Dl4jSoftmax.backprop");
    }

    static void assertBits(INDArray expected, INDArray actual, String what) {
        assertEquals(expected.dataType(), actual.dataType(), what + " dtype");
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        if (expected.dataType() == DataType.DOUBLE) {
            double[] e = expected.dup('c').reshape(expected.length()).toDoubleVector();
            double[] a = actual.dup('c').reshape(actual.length()).toDoubleVector();
            for (int i = 0; i < e.length; i++) {
                assertEquals(Double.doubleToRawLongBits(e[i]), Double.doubleToRawLongBits(a[i]),
                        what + " at " + i + ": " + e[i] + " vs " + a[i]);
            }
        } else {
            float[] e = expected.dup('c').reshape(expected.length()).toFloatVector();
            float[] a = actual.dup('c').reshape(actual.length()).toFloatVector();
            for (int i = 0; i < e.length; i++) {
                assertEquals(Float.floatToRawIntBits(e[i]), Float.floatToRawIntBits(a[i]),
                        what + " at " + i + ": " + e[i] + " vs " + a[i]);
            }
        }
    }
}
