package dev.softmaxbackward.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.Random;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;

class Dl4jDropInTest {
    static final int N_IN = 5;
    static final int HIDDEN = 7;

    static MultiLayerNetwork net(int v, IActivation act, ILossFunction loss, DataType dt, double lr, boolean hidden) {
        var b = new NeuralNetConfiguration.Builder().seed(42).dataType(dt)
                .updater(lr == 0 ? new NoOp() : new Sgd(lr)).list();
        if (hidden) {
            b.layer(new DenseLayer.Builder().nIn(N_IN).nOut(HIDDEN).activation(Activation.TANH).build());
        }
        b.layer(new OutputLayer.Builder().nIn(hidden ? HIDDEN : v).nOut(v).activation(act).lossFunction(loss).build());
        MultiLayerNetwork net = new MultiLayerNetwork(b.build());
        net.init();
        return net;
    }

    static INDArray indices(int[] l) {
        INDArray a = Nd4j.create(DataType.DOUBLE, l.length, 1);
        for (int r = 0; r < l.length; r++) {
            a.putScalar(r, 0, l[r]);
        }
        return a;
    }

    static INDArray oneHot(int[] l, int v) {
        INDArray a = Nd4j.zeros(DataType.DOUBLE, l.length, v);
        for (int r = 0; r < l.length; r++) {
            if (l[r] >= 0) {
                a.putScalar(r, l[r], 1.0);
            }
        }
        return a;
    }

    static int[] randomLabels(int b, int v, Random rnd) {
        int[] l = new int[b];
        for (int r = 0; r < b; r++) {
            l[r] = rnd.nextInt(v);
        }
        return l;
    }

    /** score and flat gradient after computeGradientAndScore */
    static double[] scoreAndGradient(MultiLayerNetwork net, INDArray x, INDArray labels, INDArray mask) {
        net.setInput(x);
        net.setLabels(labels);
        net.setLayerMaskArrays(null, mask);
        net.computeGradientAndScore();
        double[] g = net.gradient().gradient().toDoubleVector();
        double[] out = new double[g.length + 1];
        out[0] = net.score();
        System.arraycopy(g, 0, out, 1, g.length);
        return out;
    }

    /** float64: the two differ only by rounding in softmax and the row sums, a few ulps of the largest value */
    static void assertClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double max = 0;
        for (double e : expected) {
            max = Math.max(max, Math.abs(e));
        }
        double tol = 1e-12 * max + Double.MIN_NORMAL;
        int bad = -1;
        for (int i = 0; i < expected.length && bad < 0; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tol)) {
                bad = i;
            }
        }
        final int at = bad;
        assertTrue(bad < 0, () -> what + " differs at " + at + ": " + expected[at] + " vs " + actual[at] + " tol " + tol);
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 37, 1000, 50_000})
    void sameScoreAndGradientsAsStock(int v) {
        Random rnd = new Random(v);
        int b = 6;
        INDArray x = Nd4j.rand(DataType.DOUBLE, b, N_IN).subi(0.5);
        int[] l = randomLabels(b, v, rnd);
        MultiLayerNetwork stock = net(v, new ActivationSoftmax(), new LossMCXENT(), DataType.DOUBLE, 0, true);
        MultiLayerNetwork ours = net(v, new Dl4jSoftmax(), new FusedSoftmaxCrossEntropy(), DataType.DOUBLE, 0, true);
        ours.setParams(stock.params().dup());
        double[] expected = scoreAndGradient(stock, x, oneHot(l, v), null);
        assertClose(expected, scoreAndGradient(ours, x, indices(l), null), "index labels V=" + v);
        assertClose(expected, scoreAndGradient(ours, x, oneHot(l, v), null), "one-hot labels V=" + v);
    }

    @Test
    void classWeightsAndMasksAsStock() {
        int v = 11;
        int b = 8;
        Random rnd = new Random(3);
        double[] w = new double[v];
        for (int i = 0; i < v; i++) {
            w[i] = 0.5 + rnd.nextDouble();
        }
        INDArray x = Nd4j.rand(DataType.DOUBLE, b, N_IN);
        int[] l = randomLabels(b, v, rnd);
        INDArray mask = Nd4j.createFromArray(new double[] {1, 0, 1, 1, 0.5, 1, 0, 1}).reshape(b, 1);
        MultiLayerNetwork stock = net(v, new ActivationSoftmax(), new LossMCXENT(Nd4j.createFromArray(w)),
                DataType.DOUBLE, 0, true);
        MultiLayerNetwork ours = net(v, new Dl4jSoftmax(), new FusedSoftmaxCrossEntropy(w), DataType.DOUBLE, 0, true);
        ours.setParams(stock.params().dup());
        assertClose(scoreAndGradient(stock, x, oneHot(l, v), mask), scoreAndGradient(ours, x, indices(l), mask.dup()),
                "weights and mask");
    }

    @Test
    void newActivationBehindMseGivesStockGradients() {
        int v = 9;
        INDArray x = Nd4j.rand(DataType.DOUBLE, 5, N_IN);
        INDArray labels = Nd4j.rand(DataType.DOUBLE, 5, v);
        MultiLayerNetwork stock = net(v, new ActivationSoftmax(), new LossMSE(), DataType.DOUBLE, 0, true);
        MultiLayerNetwork ours = net(v, new Dl4jSoftmax(), new LossMSE(), DataType.DOUBLE, 0, true);
        ours.setParams(stock.params().dup());
        assertClose(scoreAndGradient(stock, x, labels, null), scoreAndGradient(ours, x, labels.dup(), null), "LossMSE");
    }

    @Test
    void gradientCheckPasses() {
        int v = 6;
        Random rnd = new Random(5);
        INDArray x = Nd4j.rand(DataType.DOUBLE, 4, N_IN);
        int[] l = randomLabels(4, v, rnd);
        l[2] = FusedSoftmaxCrossEntropy.IGNORE_INDEX;
        DataType was = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
        try {
        for (ILossFunction loss : new ILossFunction[] {new FusedSoftmaxCrossEntropy(), new LossMSE()}) {
            MultiLayerNetwork net = net(v, new Dl4jSoftmax(), loss, DataType.DOUBLE, 0, true);
            INDArray labels = loss instanceof LossMSE ? Nd4j.rand(DataType.DOUBLE, 4, v) : indices(l);
            assertTrue(GradientCheckUtil.checkGradients(new GradientCheckUtil.MLNConfig().net(net).input(x)
                    .labels(labels).epsilon(1e-6).maxRelError(1e-5).minAbsoluteError(1e-9)), "gradient check " + loss);
        }
        } finally {
            Nd4j.setDefaultDataTypes(was, was);
        }
    }

    @Test
    void maskedAndIgnoredRowsGiveZeroGradientAndNoScore() {
        int v = 10;
        int b = 4;
        INDArray pre = Nd4j.rand(DataType.DOUBLE, b, v).muli(4);
        INDArray preCopy = pre.dup();
        int[] l = {3, FusedSoftmaxCrossEntropy.IGNORE_INDEX, 7, 1};
        INDArray mask = Nd4j.createFromArray(new double[] {1, 1, 1, 0}).reshape(b, 1);
        FusedSoftmaxCrossEntropy loss = new FusedSoftmaxCrossEntropy();
        var gs = loss.computeGradientAndScore(indices(l), pre, new Dl4jSoftmax(), mask, false);
        assertEquals(preCopy, pre, "preOutput untouched");
        INDArray scores = loss.computeScoreArray(indices(l), pre, new Dl4jSoftmax(), mask);
        for (int r : new int[] {1, 3}) {
            assertEquals(0.0, scores.getDouble(r, 0), "score of row " + r);
            assertEquals(0.0, gs.getSecond().getRow(r).norm1Number().doubleValue(), "gradient of row " + r);
        }
        assertTrue(scores.getDouble(0, 0) > 0 && scores.getDouble(2, 0) > 0);
        assertEquals(scores.sumNumber().doubleValue(), gs.getFirst(), 1e-12);
        assertEquals(gs.getFirst(), loss.computeScore(indices(l), pre, new Dl4jSoftmax(), mask, false), 0.0);
        assertEquals(gs.getSecond(), loss.computeGradient(indices(l), pre, new Dl4jSoftmax(), mask));
        // the gradient of a kept row sums to 0 and is y - onehot
        assertEquals(0.0, gs.getSecond().getRow(0).sumNumber().doubleValue(), 1e-12);
    }

    /** The CLI's training data: a Markov chain with rows softmax(2 z), z standard normal; predict the next token. */
    @Test
    void trainingConvergesLikeStock() {
        int v = 16;
        int batch = 64;
        int steps = 150;
        Random rnd = new Random(1);
        double[][] cdf = new double[v][v];
        for (int i = 0; i < v; i++) {
            double[] e = new double[v];
            double s = 0;
            for (int j = 0; j < v; j++) {
                e[j] = Math.exp(2 * rnd.nextGaussian());
                s += e[j];
            }
            double c = 0;
            for (int j = 0; j < v; j++) {
                c += e[j] / s;
                cdf[i][j] = c;
            }
        }
        MultiLayerNetwork stock = net(v, new ActivationSoftmax(), new LossMCXENT(), DataType.DOUBLE, 0.5, false);
        MultiLayerNetwork ours = net(v, new Dl4jSoftmax(), new FusedSoftmaxCrossEntropy(), DataType.DOUBLE, 0.5, false);
        ours.setParams(stock.params().dup());
        int[] prev = new int[batch];
        for (int k = 0; k < batch; k++) {
            prev[k] = rnd.nextInt(v);
        }
        double first = 0;
        for (int step = 0; step < steps; step++) {
            int[] next = new int[batch];
            for (int k = 0; k < batch; k++) {
                double u = rnd.nextDouble();
                int j = 0;
                while (j < v - 1 && cdf[prev[k]][j] < u) {
                    j++;
                }
                next[k] = j;
            }
            INDArray x = oneHot(prev, v);
            stock.fit(new DataSet(x, oneHot(next, v)));
            ours.fit(new DataSet(x.dup(), indices(next)));
            if (step == 0) {
                first = stock.score();
            }
            prev = next;
        }
        double s = stock.score();
        double o = ours.score();
        assertTrue(s < 0.9 * first, "stock learned: " + first + " -> " + s);
        assertEquals(s, o, 0.01 * s, "final loss, stock " + s + " ours " + o);
    }

    @Test
    void jsonAndModelSerializerRoundTrips(@TempDir Path dir) throws Exception {
        MultiLayerNetwork net = net(12, new Dl4jSoftmax(), new FusedSoftmaxCrossEntropy(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
                DataType.DOUBLE, 0.1, true);
        String json = net.getLayerWiseConfigurations().toJson();
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        assertEquals(net.getLayerWiseConfigurations(), back);
        assertEquals(json, back.toJson());
        File f = dir.resolve("net.zip").toFile();
        ModelSerializer.writeModel(net, f, true);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(f, true);
        assertEquals(net.params(), restored.params());
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, N_IN);
        assertEquals(net.output(x), restored.output(x));
        var out = (org.deeplearning4j.nn.conf.layers.OutputLayer) restored.getLayerWiseConfigurations().getConf(1).getLayer();
        assertTrue(out.getActivationFn() instanceof Dl4jSoftmax);
        assertEquals(new FusedSoftmaxCrossEntropy(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), out.getLossFn());
    }

    @Test
    void badInputThrowsAndLeavesParametersUntouched() {
        int v = 8;
        MultiLayerNetwork net = net(v, new Dl4jSoftmax(), new FusedSoftmaxCrossEntropy(), DataType.DOUBLE, 0.1, true);
        INDArray before = net.params().dup();
        INDArray x = Nd4j.rand(DataType.DOUBLE, 3, N_IN);
        assertMessage(() -> net.fit(new DataSet(x, indices(new int[] {1, 8, 2}))), "labels[1] = 8.0", "[0, 8)");
        assertMessage(() -> net.fit(new DataSet(x, indices(new int[] {1, -1, 2}))), "labels[1] = -1.0");
        assertMessage(() -> net.fit(new DataSet(x, Nd4j.zeros(DataType.DOUBLE, 3, 5))), "labels shape [3, 5]", "[3, 8]");
        assertEquals(before, net.params(), "parameters untouched");
        FusedSoftmaxCrossEntropy loss = new FusedSoftmaxCrossEntropy();
        INDArray pre = Nd4j.rand(DataType.DOUBLE, 3, 300);
        assertMessage(() -> loss.computeGradient(indices(new int[] {1, 2, 3}).castTo(DataType.BFLOAT16), pre,
                new Dl4jSoftmax(), null), "labels dtype BFLOAT16", "299");
        assertMessage(() -> loss.computeGradient(indices(new int[] {1, 2}), pre, new Dl4jSoftmax(), null),
                "labels shape [2, 1]", "[3, 300]");
        assertMessage(() -> loss.computeGradient(indices(new int[] {1, 2, 3}), pre, new Dl4jSoftmax(),
                Nd4j.ones(DataType.DOUBLE, 2, 1)), "mask shape [2, 1]");
        assertMessage(() -> new FusedSoftmaxCrossEntropy(1, 2).computeGradient(indices(new int[] {1, 2, 3}), pre,
                new Dl4jSoftmax(), null), "weights.length 2 != preOutput columns 300");
        assertMessage(() -> loss.computeGradient(indices(new int[] {1, 2, 3}), pre,
                Activation.SIGMOID.getActivationFunction(), null), "activationFn must be a softmax");
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "'" + e.getMessage() + "' should contain '" + p + "'");
        }
    }
}
