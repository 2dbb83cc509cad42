package dev.softmaxbackward.bench;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.cpu.CpuBackend;
import dev.softmaxbackward.dl4j.Dl4jSoftmax;
import dev.softmaxbackward.dl4j.FusedSoftmaxCrossEntropy;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.ILossFunction;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A DL4J output layer with V classes, float32, stock (ActivationSoftmax + LossMCXENT, one-hot labels)
 * against ours (Dl4jSoftmax + FusedSoftmaxCrossEntropy, index or one-hot labels):
 * <ul>
 *   <li>{@code fitStep}: one {@code MultiLayerNetwork.fit} on a minibatch, x [B, 32] → Dense(64, tanh) →
 *       Output(V, softmax), SGD;</li>
 *   <li>{@code lossAsFit}: the loss calls one fit step makes, as DL4J's BaseOutputLayer and
 *       MultiLayerNetwork make them: {@code computeGradient}, then {@code computeScore} on a second array of
 *       the same pre-activations (fit recomputes them). With these losses DL4J never calls the
 *       activation's backprop (LossMCXENT special-cases softmax, ours is fused), so this is the whole of the
 *       output activation's and the loss's work in a step;</li>
 *   <li>{@code lossInWorkspace}: {@code lossAsFit} inside an open workspace, as fit runs it (DL4J's
 *       layers allocate their working memory and gradients in workspaces during fit, so the [B, V] arrays a
 *       loss creates there cost a pointer bump, where outside they are fresh native allocations);</li>
 *   <li>{@code lossFused}: {@code computeGradientAndScore}, for callers outside fit;</li>
 *   <li>{@code partSoftmax}, {@code partCeBackward}: the timing split of the loss part, the forward
 *       softmax of [B, V] alone (stock: ND4J's native softmax op; ours: the cpu backend's INDArray
 *       softmax), and ours' cross-entropy backward alone (stock has no such op: {@code y - labels}).</li>
 * </ul>
 * Time per call, and JMH's gc profiler for heap bytes per call. ND4J's arrays live off-heap, which the gc
 * profiler does not see (ND4J's AllocationsTracker reads 0 for CPU buffers in 1.0.0-M2.1, so it cannot
 * count them either): off-heap allocation is not measured here.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "--add-modules", "jdk.incubator.vector",
        "-Dorg.bytedeco.javacpp.maxbytes=12G", "-Dorg.bytedeco.javacpp.maxphysicalbytes=16G"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class Dl4jBench {
    static final int N_IN = 32;
    /** As DL4J's layer working memory in fit: learns its size over the first loop, then reuses it. */
    static final WorkspaceConfiguration LOSS_WORKSPACE = WorkspaceConfiguration.builder()
            .initialSize(0).overallocationLimit(0.05).policyLearning(LearningPolicy.FIRST_LOOP)
            .policyReset(ResetPolicy.BLOCK_LEFT).policySpill(SpillPolicy.REALLOCATE)
            .policyAllocation(AllocationPolicy.OVERALLOCATE).build();
    static final String LOSS_WORKSPACE_ID = "DL4J_BENCH_LOSS";
    static final int HIDDEN = 64;

    @Param({"32000", "50257"})
    public int v;

    @Param({"64", "256"})
    public int b;

    @Param({"stock", "ours-index", "ours-onehot"})
    public String impl;

    private MultiLayerNetwork net;
    private DataSet data;
    private ILossFunction loss;
    private IActivation act;
    private INDArray labels;
    private INDArray pre;
    private INDArray preAgain;
    private INDArray work;
    private INDArray grad;
    private int[] labelIndex;
    private double[] rowScale;
    private CpuBackend cpu;

    @Setup(Level.Trial)
    public void setUp() {
        boolean stock = impl.equals("stock");
        act = stock ? new ActivationSoftmax() : new Dl4jSoftmax();
        loss = stock ? new LossMCXENT() : new FusedSoftmaxCrossEntropy();
        Random rnd = new Random(7);
        int[] l = new int[b];
        for (int r = 0; r < b; r++) {
            l[r] = rnd.nextInt(v);
        }
        labelIndex = l;
        rowScale = new double[b];
        java.util.Arrays.fill(rowScale, 1.0);
        labels = impl.equals("ours-index") ? Nd4j.createFromArray(toFloat(l)).reshape(b, 1) : oneHot(l);
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.rand(DataType.FLOAT, b, N_IN).subi(0.5);
        net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7).dataType(DataType.FLOAT)
                .updater(new Sgd(1e-3)).list()
                .layer(new DenseLayer.Builder().nIn(N_IN).nOut(HIDDEN).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder().nIn(HIDDEN).nOut(v).activation(act).lossFunction(loss).build())
                .build());
        net.init();
        data = new DataSet(x, labels);
        // logits of the size a trained output layer gives: N(0, 2^2)
        pre = Nd4j.randn(DataType.FLOAT, b, v).muli(2);
        preAgain = pre.dup();
        work = pre.ulike();
        grad = pre.ulike();
        cpu = stock ? null : SoftmaxBackward.backend("cpu").unwrap(CpuBackend.class);
    }

    @Benchmark
    public MultiLayerNetwork fitStep() {
        net.fit(data);
        return net;
    }

    @Benchmark
    public double lossAsFit() {
        INDArray g = loss.computeGradient(labels, pre, act, null);
        return loss.computeScore(labels, preAgain, act, null, false) + g.getFloat(0, 0);
    }

    @Benchmark
    public double lossInWorkspace() {
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(LOSS_WORKSPACE,
                LOSS_WORKSPACE_ID)) {
            return lossAsFit();
        }
    }

    @Benchmark
    public Pair<Double, INDArray> lossFused() {
        return loss.computeGradientAndScore(labels, pre, act, null, false);
    }

    @Benchmark
    public INDArray partSoftmax() {
        if (cpu == null) {
            Nd4j.exec(new SoftMax(pre, work, 1));
            return work;
        }
        return cpu.softmax(pre, work);
    }

    @Benchmark
    public INDArray partCeBackward() {
        if (cpu == null) {
            return work.sub(labels); // LossMCXENT's softmax special case, one-hot labels
        }
        return cpu.crossEntropyBackward(work, labelIndex, rowScale, grad);
    }

    private INDArray oneHot(int[] l) {
        INDArray a = Nd4j.zeros(DataType.FLOAT, b, v);
        for (int r = 0; r < b; r++) {
            a.putScalar(r, l[r], 1f);
        }
        return a;
    }

    private static float[] toFloat(int[] l) {
        float[] f = new float[l.length];
        for (int i = 0; i < l.length; i++) {
            f[i] = l[i];
        }
        return f;
    }
}
