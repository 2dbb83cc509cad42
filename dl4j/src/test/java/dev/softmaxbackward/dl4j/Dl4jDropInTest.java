package dev.softmaxbackward.dl4j;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
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
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.lossfunctions.impl.LossMSE;
import org.nd4j.linalg.ops.transforms.Transforms;

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

    static final String[] PARAMS = {"0_W", "0_b", "1_W", "1_b"};

    /** computeGradientAndScore; returns {score} and leaves the gradient in net.gradient() */
    static double score(MultiLayerNetwork net, INDArray x, INDArray labels, INDArray mask) {
        net.setInput(x);
        net.setLabels(labels);
        net.setLayerMaskArrays(null, mask);
        net.computeGradientAndScore();
        return net.score();
    }

    /**
     * Ours against stock, score and every parameter gradient within the sum of the two computations' error
     * bounds (StockBounds: numerics.md §2 "Forward softmax", §5.1's summation bound, propagated through the
     * network's products). {@code scale[r]} is row r's class weight times its mask; labels[r] -100 or scale 0:
     * no score, zero delta.
     */
    static void assertSameAsStock(MultiLayerNetwork stock, ILossFunction stockLoss, INDArray stockLabels,
            MultiLayerNetwork ours, INDArray ourLabels, INDArray x, INDArray mask, int[] labels, double[] scale,
            String what) {
        double stockScore = score(stock, x, stockLabels, mask);
        double ourScore = score(ours, x, ourLabels, mask == null ? null : mask.dup());
        INDArray a = stock.feedForward(x, false).get(1);
        INDArray w2 = stock.getParam("1_W");
        INDArray pre = a.mmul(w2).addiRowVector(stock.getParam("1_b"));
        INDArray dz = stockLoss.computeGradient(stockLabels, pre.dup(), new ActivationSoftmax(),
                mask == null ? null : mask.dup());
        INDArray bz = StockBounds.crossEntropyDelta(pre, dz, StockBounds.column(scale));
        INDArray[] bounds = StockBounds.denseOutputGradients(x, a, w2, dz, bz);
        for (int i = 0; i < PARAMS.length; i++) {
            StockBounds.assertWithin(stock.gradient().getGradientFor(PARAMS[i]),
                    ours.gradient().getGradientFor(PARAMS[i]), bounds[i], what + " gradient " + PARAMS[i]);
        }
        double sb = StockBounds.score(pre, labels, scale, stockScore);
        assertTrue(Math.abs(stockScore - ourScore) <= sb,
                () -> what + " score " + stockScore + " vs " + ourScore + " > bound " + sb);
    }

    static double[] ones(int n) {
        double[] o = new double[n];
        java.util.Arrays.fill(o, 1);
        return o;
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
        assertSameAsStock(stock, new LossMCXENT(), oneHot(l, v), ours, indices(l), x, null, l, ones(b),
                "index labels V=" + v);
        assertSameAsStock(stock, new LossMCXENT(), oneHot(l, v), ours, oneHot(l, v), x, null, l, ones(b),
                "one-hot labels V=" + v);
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
        double[] m = {1, 0, 1, 1, 0.5, 1, 0, 1};
        INDArray mask = Nd4j.createFromArray(m).reshape(b, 1);
        double[] scale = new double[b];
        for (int r = 0; r < b; r++) {
            scale[r] = w[l[r]] * m[r];
        }
        LossMCXENT stockLoss = new LossMCXENT(Nd4j.createFromArray(w));
        MultiLayerNetwork stock = net(v, new ActivationSoftmax(), stockLoss, DataType.DOUBLE, 0, true);
        MultiLayerNetwork ours = net(v, new Dl4jSoftmax(), new FusedSoftmaxCrossEntropy(w), DataType.DOUBLE, 0, true);
        ours.setParams(stock.params().dup());
        assertSameAsStock(stock, stockLoss, oneHot(l, v), ours, indices(l), x, mask, l, scale, "weights and mask");
    }

    /**
     * LossMSE does not special-case softmax: it calls the activation's backprop with its own dL/dy, which
     * depends on each side's y. Bounds: StockBounds.softmaxBackward (numerics.md §5.2 for ours).
     */
    @ParameterizedTest
    @ValueSource(ints = {9, 3000})
    void newActivationBehindMseGivesStockGradients(int v) {
        int b = 5;
        INDArray pre = Nd4j.rand(DataType.DOUBLE, b, v).subi(0.5).muli(6);
        INDArray labels = Nd4j.rand(DataType.DOUBLE, b, v);
        INDArray stock = new LossMSE().computeGradient(labels, pre.dup(), new ActivationSoftmax(), null);
        INDArray ours = new LossMSE().computeGradient(labels, pre.dup(), new Dl4jSoftmax(), null);
        // LossMSE's dL/dy = 2 (y - labels) / V: |Δg| <= (2/V) y (ρ_o + ρ_s) + 3u|g| per side (sub, mul, div)
        INDArray y = StockBounds.exactishSoftmax(pre);
        INDArray g = y.sub(labels).muli(2.0 / v);
        INDArray gBound = y.mul(StockBounds.softmaxRelative(pre)).muli(2.0 / v)
                .addi(org.nd4j.linalg.ops.transforms.Transforms.abs(g, true).muli(6 * StockBounds.U));
        StockBounds.assertWithin(stock, ours, StockBounds.softmaxBackward(pre, g, gBound), "LossMSE V=" + v);
    }

    /**
     * DL4J's fit step (MultiLayerNetwork.computeGradientAndScore) calls computeGradient, then computeScore on
     * freshly recomputed pre-activations: stock LossMCXENT takes two softmax passes, ours one, with the same
     * score as a loss that recomputes it.
     */
    @Test
    void aFitStepTakesOneSoftmaxPass() {
        int v = 300;
        int b = 16;
        Random rnd = new Random(9);
        INDArray x = Nd4j.rand(DataType.DOUBLE, b, N_IN);
        int[] l = randomLabels(b, v, rnd);
        MultiLayerNetwork ours = net(v, new Dl4jSoftmax(), new FusedSoftmaxCrossEntropy(), DataType.DOUBLE, 0, true);
        MultiLayerNetwork stockLoss = net(v, new Dl4jSoftmax(), new LossMCXENT(), DataType.DOUBLE, 0, true);
        stockLoss.setParams(ours.params().dup());
        long before = Backends.SOFTMAX_PASSES.sum();
        double s = score(ours, x, indices(l), null);
        assertEquals(1, Backends.SOFTMAX_PASSES.sum() - before, "softmax passes in one step, ours");
        before = Backends.SOFTMAX_PASSES.sum();
        score(stockLoss, x, oneHot(l, v), null);
        assertEquals(2, Backends.SOFTMAX_PASSES.sum() - before, "softmax passes in one step, LossMCXENT");
        // the kept score is the one a fresh computation gives, bit for bit
        INDArray a = ours.feedForward(x, false).get(1);
        INDArray pre = a.mmul(ours.getParam("1_W")).addiRowVector(ours.getParam("1_b"));
        double fresh = new FusedSoftmaxCrossEntropy().computeScore(indices(l), pre, new Dl4jSoftmax(), null, false) / b;
        assertEquals(fresh, s, 0.0);
    }

    @Test
    void keptScoreIsUsedOnlyForTheSameInputs() {
        int v = 50;
        int b = 4;
        FusedSoftmaxCrossEntropy loss = new FusedSoftmaxCrossEntropy();
        FusedSoftmaxCrossEntropy fresh = new FusedSoftmaxCrossEntropy();
        INDArray pre = Nd4j.rand(DataType.DOUBLE, b, v);
        int[] l = {1, 2, 3, 4};
        Dl4jSoftmax act = new Dl4jSoftmax();
        // one entry differs by one ulp: recomputed, one more pass
        loss.computeGradient(indices(l), pre, act, null);
        INDArray other = pre.dup();
        other.putScalar(2, 7, Math.nextUp(other.getDouble(2, 7)));
        long before = Backends.SOFTMAX_PASSES.sum();
        double got = loss.computeScore(indices(l), other, act, null, false);
        assertEquals(1, Backends.SOFTMAX_PASSES.sum() - before, "a changed entry is a miss");
        assertEquals(fresh.computeScore(indices(l), other, act, null, false), got, 0.0);
        // other labels, another mask: misses
        loss.computeGradient(indices(l), pre, act, null);
        int[] l2 = {1, 2, 3, 5};
        assertEquals(fresh.computeScore(indices(l2), pre, act, null, false),
                loss.computeScore(indices(l2), pre, act, null, false), 0.0);
        loss.computeGradient(indices(l), pre, act, null);
        INDArray mask = Nd4j.createFromArray(new double[] {1, 0, 1, 1}).reshape(b, 1);
        assertEquals(fresh.computeScore(indices(l), pre, act, mask, false),
                loss.computeScore(indices(l), pre, act, mask, false), 0.0);
        // equal inputs: a hit, no pass; used once only
        loss.computeGradient(indices(l), pre, act, null);
        before = Backends.SOFTMAX_PASSES.sum();
        double hit = loss.computeScore(indices(l), pre.dup(), act, null, false);
        assertEquals(0, Backends.SOFTMAX_PASSES.sum() - before, "equal inputs are a hit");
        assertEquals(fresh.computeScore(indices(l), pre, act, null, false), hit, 0.0);
        before = Backends.SOFTMAX_PASSES.sum();
        loss.computeScore(indices(l), pre, act, null, false);
        assertEquals(1, Backends.SOFTMAX_PASSES.sum() - before, "a kept score is used once");
        // another thread does not see this thread's kept score
        loss.computeGradient(indices(l), pre, act, null);
        long[] passes = new long[1];
        Thread t = new Thread(() -> {
            long b0 = Backends.SOFTMAX_PASSES.sum();
            loss.computeScore(indices(l), pre, act, null, false);
            passes[0] = Backends.SOFTMAX_PASSES.sum() - b0;
        });
        t.start();
        assertDoesNotThrow(() -> t.join());
        assertEquals(1, passes[0], "another thread computes its own");
    }

    /** The README's DL4J example, as written there (vocab and data made small). */
    @Test
    void labelViewsAndFOrderPreOutputGiveTheScoresOfDenseCopies() {
        // the loss reads labels and y through their buffers and strides: views with an offset, a row
        // stride other than 1 and F order must read the same entries as dense C-order copies
        int b = 5;
        int v = 7;
        Nd4j.getRandom().setSeed(11);
        INDArray pre = Nd4j.randn(DataType.DOUBLE, b, v);
        INDArray preF = pre.dup('f');
        FusedSoftmaxCrossEntropy loss = new FusedSoftmaxCrossEntropy();
        IActivation act = new Dl4jSoftmax();
        for (DataType dtype : new DataType[] {DataType.FLOAT, DataType.INT}) {
            INDArray big = Nd4j.create(dtype, b + 2, 3);
            for (int r = 0; r < b + 2; r++) {
                big.putScalar(r, 0, 6 - (r % 7));
                big.putScalar(r, 1, (3 * r + 1) % v);
                big.putScalar(r, 2, r % v);
            }
            INDArray view = big.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, b + 2),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 2));
            INDArray dense = view.dup('c');
            double expected = loss.computeScore(dense, pre.dup(), act, null, false);
            INDArray expectedArray = loss.computeScoreArray(dense, pre.dup(), act, null);
            assertEquals(expected, loss.computeScore(view, pre.dup(), act, null, false), 0.0, dtype + " view");
            assertEquals(expected, loss.computeScore(view, preF.dup('f'), act, null, false), 0.0, dtype + " F order");
            assertEquals(expectedArray, loss.computeScoreArray(view, preF.dup('f'), act, null), dtype + " score array");
            double byHand = 0;
            for (int r = 0; r < b; r++) {
                INDArray row = pre.getRow(r);
                double max = row.maxNumber().doubleValue();
                double logSum = Math.log(Transforms.exp(row.sub(max), true).sumNumber().doubleValue()) + max;
                byHand += logSum - pre.getDouble(r, (long) dense.getDouble(r, 0));
            }
            assertEquals(byHand, expected, 1e-12 * b, dtype + ": the score of the labels' rows");
        }
    }

    @Test
    void readmeExampleFits() {
        int vocab = 20;
        INDArray features = Nd4j.rand(DataType.FLOAT, 8, 256);
        INDArray labels = indices(new int[] {1, 2, 3, 4, 5, 6, 7, -100}).castTo(DataType.FLOAT);
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(42).updater(new org.nd4j.linalg.learning.config.Adam(1e-3)).list()
                .layer(new DenseLayer.Builder().nIn(256).nOut(512).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder()
                        .nIn(512).nOut(vocab)
                        .activation(new Dl4jSoftmax())                     // extends ActivationSoftmax
                        .lossFunction(new FusedSoftmaxCrossEntropy())       // labels: [B, 1] indices (-100 ignored) or one-hot
                        .build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        INDArray before = net.params().dup();
        net.fit(features, labels);
        assertTrue(Double.isFinite(net.score()) && !before.equals(net.params()), "one step taken");
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

    /**
     * Padded time steps of variable-length sequences (RnnOutputLayer): all-zero one-hot rows under mask 0.
     * Stock LossMCXENT scores them 0 with a zero gradient; they were refused as "not one-hot".
     */
    @Test
    void maskedRowsWithAllZeroLabelsAreIgnoredAsStockDoes() {
        int v = 12;
        int b = 5;
        INDArray pre = Nd4j.rand(DataType.DOUBLE, b, v).muli(3);
        int[] l = {2, 0, 11, 5, 7};
        INDArray mask = Nd4j.createFromArray(new double[] {1, 0, 1, 0, 1}).reshape(b, 1);
        for (DataType t : new DataType[] {DataType.DOUBLE, DataType.FLOAT}) {
            INDArray labels = oneHot(l, v).castTo(t);
            labels.getRow(1).assign(0);
            labels.getRow(3).assign(0);
            FusedSoftmaxCrossEntropy ours = new FusedSoftmaxCrossEntropy();
            LossMCXENT stock = new LossMCXENT();
            INDArray g = ours.computeGradient(labels, pre.castTo(t), new Dl4jSoftmax(), mask.castTo(t));
            INDArray gs = stock.computeGradient(labels, pre.castTo(t), new ActivationSoftmax(), mask.castTo(t));
            assertTrue(gs.equalsWithEps(g, t == DataType.DOUBLE ? 1e-12 : 1e-6), t + ": " + g + " vs stock " + gs);
            assertEquals(0.0, g.getRow(1).norm1Number().doubleValue(), t + " gradient of masked row 1");
            INDArray scores = ours.computeScoreArray(labels, pre.castTo(t), new Dl4jSoftmax(), mask.castTo(t));
            INDArray stockScores = stock.computeScoreArray(labels, pre.castTo(t), new ActivationSoftmax(), mask.castTo(t));
            assertTrue(stockScores.reshape(b).equalsWithEps(scores.reshape(b), t == DataType.DOUBLE ? 1e-12 : 1e-5),
                    t + ": " + scores + " vs stock " + stockScores);
            assertEquals(0.0, scores.getDouble(3, 0), t + " score of masked row 3");
        }
        // unmasked, the same rows are still refused
        INDArray labels = oneHot(l, v);
        labels.getRow(1).assign(0);
        assertMessage(() -> new FusedSoftmaxCrossEntropy().computeGradient(labels, pre, new Dl4jSoftmax(), null),
                "labels row 1 is not one-hot");
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

    /**
     * One-hot labels: the hot index of every row, -0.0 counting as 0 (as ND4J's CountNonZero counts a
     * FLOAT or DOUBLE one), and rows that are not one-hot
     * (two ones, a 2, a 0.5, a NaN, none) named, for the byte scan (FLOAT, DOUBLE; rows longer than its
     * 64 KiB chunk) and the native reductions (HALF, a view).
     */
    @Test
    void oneHotLabelsAreReadOrRejectedByRow() {
        FusedSoftmaxCrossEntropy loss = new FusedSoftmaxCrossEntropy();
        for (int v : new int[] {5, 20_000}) {
            int b = 4;
            INDArray pre = Nd4j.rand(DataType.DOUBLE, b, v);
            int[] l = {v - 1, 0, v / 2, v / 2 + 1};
            double expected = loss.computeScore(indices(l), pre, new Dl4jSoftmax(), null, false);
            for (DataType t : new DataType[] {DataType.FLOAT, DataType.DOUBLE, DataType.HALF}) {
                INDArray hot = oneHot(l, v).castTo(t);
                if (t != DataType.HALF) { // ND4J's CountNonZero counts a HALF -0.0 as non-zero
                    hot.putScalar(1, v - 1, -0.0);
                    hot.putScalar(2, 0, -0.0);
                }
                assertEquals(expected, loss.computeScore(hot, pre, new Dl4jSoftmax(), null, false), 0.0, t + " V=" + v);
                INDArray wide = Nd4j.zeros(t, b, v + 3);
                wide.get(NDArrayIndex.all(), NDArrayIndex.interval(0, v)).assign(hot);
                INDArray view = wide.get(NDArrayIndex.all(), NDArrayIndex.interval(0, v));
                assertEquals(expected, loss.computeScore(view, pre, new Dl4jSoftmax(), null, false), 0.0,
                        t + " view V=" + v);
                for (double bad : new double[] {1.0, 2.0, 0.5, Double.NaN}) {
                    INDArray labels = oneHot(l, v).castTo(t);
                    labels.putScalar(2, bad == 1.0 ? v - 1 : v / 2, bad); // a second 1 at the row's end
                    assertMessage(() -> loss.computeGradient(labels, pre, new Dl4jSoftmax(), null),
                            "labels row 2 is not one-hot over " + v);
                }
                INDArray none = oneHot(l, v).castTo(t);
                none.putScalar(3, v / 2 + 1, 0.0);
                assertMessage(() -> loss.computeGradient(none, pre, new Dl4jSoftmax(), null), "labels row 3 is not one-hot");
            }
        }
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), () -> "'" + e.getMessage() + "' should contain '" + p + "'");
        }
    }
}
