package dev.softmaxbackward.spark;

import dev.softmaxbackward.SoftmaxBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.spi.RowNumerics;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.StageInfo;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code SparkMain verify [--master M] [--rows R] [--cols V]}: both modes on random data, float32 and
 * float64, several shard layouts, compared bit for bit with a single-machine run; one summary line;
 * exit 0 only if every result is identical.
 * {@code SparkMain bench --mode data|vocab [--master M] [--rows R] [--cols V] [--shards S] [--reps K]}:
 * throughput of one mode. Under {@code spark-submit} the master comes from spark-submit; {@code --master}
 * overrides it. A line is printed per completed stage; Spark's UI stays on.
 */
public final class SparkMain {
    private SparkMain() {}

    public static void main(String[] args) {
        if (args.length == 0 || !(args[0].equals("verify") || args[0].equals("bench") || args[0].equals("train"))) {
            System.err.println("usage: SparkMain verify|bench|train [--master M] [--rows R] [--cols V] [--mode data|vocab]"
                    + " [--shards S] [--reps K]");
            System.exit(2);
        }
        String master = option(args, "--master", null);
        SparkSession.Builder builder = SparkSession.builder().appName("softmax-backward " + args[0]);
        if (master != null) {
            builder.master(master);
        }
        SparkSession spark = builder.getOrCreate();
        spark.sparkContext().addSparkListener(new SparkListener() {
            @Override
            public void onStageCompleted(SparkListenerStageCompleted done) {
                StageInfo s = done.stageInfo();
                long ms = s.completionTime().isDefined() && s.submissionTime().isDefined()
                        ? (Long) s.completionTime().get() - (Long) s.submissionTime().get() : -1;
                System.out.printf("stage %d done: %s, %d tasks, %d ms%s%n", s.stageId(), s.name(), s.numTasks(), ms,
                        s.failureReason().isDefined() ? " FAILED: " + s.failureReason().get() : "");
            }
        });
        System.out.println("Spark UI: " + (spark.sparkContext().uiWebUrl().isDefined()
                ? spark.sparkContext().uiWebUrl().get() : "off"));
        int code;
        try {
            code = switch (args[0]) {
                case "verify" -> verify(spark, args);
                case "train" -> train(spark, args);
                default -> bench(spark, args);
            };
        } finally {
            spark.stop();
        }
        System.exit(code);
    }

    private static int verify(SparkSession spark, String[] args) {
        int rows = Integer.parseInt(option(args, "--rows", "24"));
        int cols = Integer.parseInt(option(args, "--cols", String.valueOf(16 * RowNumerics.SEGMENT + 77)));
        SoftmaxBackwardBackend local = SoftmaxBackward.backend();
        Random random = new Random(20261202);
        int checks = 0;
        int identical = 0;
        List<String> differing = new ArrayList<>();
        for (boolean isDouble : new boolean[] {false, true}) {
            String type = isDouble ? "float64" : "float32";
            double[][] data = randomRows(random, rows, cols);
            Object expected = singleMachine(local, data, rows, cols, isDouble);
            // data parallel
            List<Row> input = new ArrayList<>();
            for (int r = 0; r < rows; r++) {
                input.add(RowFactory.create((long) r, slice(data[0], r * cols, cols, isDouble),
                        slice(data[1], r * cols, cols, isDouble)));
            }
            StructType schema = new StructType().add("id", DataTypes.LongType)
                    .add("g", Columns.arrayOf(isDouble)).add("y", Columns.arrayOf(isDouble));
            Dataset<Row> df = spark.createDataFrame(input, schema).repartition(4);
            System.out.println("verify: data parallel, " + type + ", " + rows + " x " + cols);
            boolean same = true;
            int[] filled = new int[rows]; // values that came back per row: each row whole, once
            for (Row row : DataParallel.softmaxBackward(df, "g", "y", "gradIn").collectAsList()) {
                int r = (int) row.getLong(0);
                same &= row.getList(3).size() == cols && sameBits(expected, r * cols, row.getList(3));
                filled[r] += row.getList(3).size();
            }
            same &= complete(filled, cols);
            checks++;
            identical += same ? 1 : 0;
            if (!same) {
                differing.add("data parallel " + type);
            }
            // vocab parallel, several layouts
            int segments = RowNumerics.segments(cols);
            for (int[] bounds : new int[][] {{0, cols}, randomBounds(random, segments, 3, cols),
                    randomBounds(random, segments, 16, cols)}) {
                List<Row> chunks = new ArrayList<>();
                for (int r = 0; r < rows; r++) {
                    for (int s = 0; s + 1 < bounds.length; s++) {
                        int w = bounds[s + 1] - bounds[s];
                        chunks.add(RowFactory.create((long) r, s, slice(data[0], r * cols + bounds[s], w, isDouble),
                                slice(data[1], r * cols + bounds[s], w, isDouble)));
                    }
                }
                java.util.Collections.shuffle(chunks, random);
                Dataset<Row> c = spark.createDataFrame(chunks, VocabParallel.chunkSchema(isDouble)).repartition(4);
                System.out.println("verify: vocab parallel, " + type + ", " + (bounds.length - 1) + " shards "
                        + java.util.Arrays.toString(bounds));
                same = true;
                filled = new int[rows];
                for (Row row : VocabParallel.softmaxBackward(c, cols).collectAsList()) {
                    int r = (int) row.getLong(0);
                    int shard = row.getInt(1);
                    same &= row.getList(2).size() == bounds[shard + 1] - bounds[shard]
                            && sameBits(expected, r * cols + bounds[shard], row.getList(2));
                    filled[r] += row.getList(2).size();
                }
                same &= complete(filled, cols);
                checks++;
                identical += same ? 1 : 0;
                if (!same) {
                    differing.add("vocab parallel " + type + " " + (bounds.length - 1) + " shards");
                }
            }
        }
        System.out.println("verify: " + identical + "/" + checks + " results identical to one machine (" + local.name()
                + "), " + rows + " x " + cols + ", master " + spark.sparkContext().master()
                + (differing.isEmpty() ? "" : "; DIFFERENT: " + differing));
        return identical == checks ? 0 : 1;
    }

    private static int bench(SparkSession spark, String[] args) {
        String mode = option(args, "--mode", "data");
        int rows = Integer.parseInt(option(args, "--rows", "256"));
        int cols = Integer.parseInt(option(args, "--cols", "131072"));
        int shards = Integer.parseInt(option(args, "--shards", "4"));
        int reps = Integer.parseInt(option(args, "--reps", "3"));
        int parts = Integer.parseInt(option(args, "--partitions", "8"));
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Integer> seeds = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            seeds.add(p);
        }
        int width = mode.equals("vocab") ? cols / shards : cols;
        if (mode.equals("vocab") && (cols % shards != 0 || width % RowNumerics.SEGMENT != 0)) {
            throw new IllegalArgumentException("--cols " + cols + " / --shards " + shards + " must be a multiple of "
                    + RowNumerics.SEGMENT);
        }
        int pieces = mode.equals("vocab") ? shards : 1;
        // Data made on the executors, cached: the timed part is the backward pass and its exchange.
        JavaRDD<Row> data = jsc.parallelize(seeds, parts).flatMap(p -> {
            Random random = new Random(p);
            List<Row> out = new ArrayList<>();
            for (int r = p; r < rows; r += parts) {
                for (int s = 0; s < pieces; s++) {
                    float[] g = new float[width];
                    float[] y = new float[width];
                    for (int i = 0; i < width; i++) {
                        g[i] = (float) random.nextGaussian();
                        y[i] = random.nextFloat() / cols;
                    }
                    out.add(RowFactory.create((long) r, s, g, y));
                }
            }
            return out.iterator();
        });
        Dataset<Row> df = spark.createDataFrame(data, VocabParallel.chunkSchema(false)).cache();
        System.out.println("bench: " + mode + ", " + rows + " x " + cols + (mode.equals("vocab") ? ", " + shards
                + " shards" : "") + ", " + df.count() + " input rows cached");
        double best = Double.MAX_VALUE;
        for (int k = 0; k < reps; k++) {
            long t0 = System.nanoTime();
            Dataset<Row> out = mode.equals("vocab") ? VocabParallel.softmaxBackward(df, cols)
                    : DataParallel.softmaxBackward(df, VocabParallel.GRAD_OUT, VocabParallel.SOFTMAX_OUT, "gradIn");
            long n = out.javaRDD().map(r -> r.getList(r.length() - 1).size()).reduce(Integer::sum);
            double s = (System.nanoTime() - t0) / 1e9;
            best = Math.min(best, s);
            System.out.printf("bench: rep %d: %.2f s, %d outputs, %.1f M entries/s%n", k, s, n, n / s / 1e6);
        }
        System.out.printf("bench: %s master %s best %.2f s = %.1f M entries/s (%.1f MB/s of float32 gradOut)%n", mode,
                spark.sparkContext().master(), best, (double) rows * cols / best / 1e6, rows * (double) cols * 4 / best / 1e6);
        return 0;
    }

    private static int train(SparkSession spark, String[] args) {
        int vocab = Integer.parseInt(option(args, "--vocab", "64"));
        int batch = Integer.parseInt(option(args, "--batch", "1024"));
        int steps = Integer.parseInt(option(args, "--steps", "300"));
        int parts = Integer.parseInt(option(args, "--parts", "8"));
        MarkovTraining training = new MarkovTraining(vocab, batch, parts, 1);
        System.out.printf("train: Markov source of %d tokens, entropy rate H = %.6f; batch %d in %d slices, %d steps%n",
                vocab, training.entropyRate, batch, parts, steps);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        long t0 = System.nanoTime();
        float[] w = training.train(jsc, steps, step -> {
            if ((step + 1) % Math.max(1, steps / 10) == 0) {
                System.out.printf("train: step %d/%d%n", step + 1, steps);
            }
        });
        double seconds = (System.nanoTime() - t0) / 1e9;
        double distributed = training.crossEntropy(w);
        double local = training.crossEntropy(training.trainLocally(SoftmaxBackward.backend(), steps));
        double diff = Math.abs(distributed - local) / local;
        System.out.printf("train: final cross-entropy %.6f on Spark (%.1f s) vs %.6f on one machine: %.4f%% apart (%s 1%%);"
                + " H = %.6f%n", distributed, seconds, local, 100 * diff, diff <= 0.01 ? "within" : "NOT within",
                training.entropyRate);
        return diff <= 0.01 ? 0 : 1;
    }

    private static Object singleMachine(SoftmaxBackwardBackend b, double[][] data, int rows, int cols, boolean isDouble) {
        if (isDouble) {
            double[] out = new double[rows * cols];
            b.softmaxBackward(data[0], data[1], out, rows, cols);
            return out;
        }
        float[] g = (float[]) slice(data[0], 0, rows * cols, false);
        float[] y = (float[]) slice(data[1], 0, rows * cols, false);
        float[] out = new float[rows * cols];
        b.softmaxBackward(g, y, out, rows, cols);
        return out;
    }

    /** Ordinary rows, constant rows, a constant 1e-300 row, zero rows and a NaN row. */
    private static double[][] randomRows(Random random, int rows, int cols) {
        double[] g = new double[rows * cols];
        double[] y = new double[rows * cols];
        for (int i = 0; i < g.length; i++) {
            int kind = (i / cols) % 6;
            y[i] = random.nextDouble() / cols;
            g[i] = kind == 2 ? 0.625 : kind == 3 ? 1e-300 : kind == 4 ? 0.0
                    : kind == 5 && i % cols == 17 ? Double.NaN : random.nextGaussian();
        }
        return new double[][] {g, y};
    }

    private static int[] randomBounds(Random random, int segments, int shards, int cols) {
        java.util.TreeSet<Integer> cuts = new java.util.TreeSet<>();
        int n = Math.min(shards, segments);
        while (cuts.size() < n - 1) {
            cuts.add((1 + random.nextInt(segments - 1)) * RowNumerics.SEGMENT);
        }
        int[] b = new int[n + 1];
        int k = 1;
        for (int c : cuts) {
            b[k++] = c;
        }
        b[n] = cols;
        return b;
    }

    private static Object slice(double[] a, int from, int n, boolean isDouble) {
        if (isDouble) {
            return Columns.slice(a, from, n);
        }
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) a[from + i];
        }
        return f;
    }

    /** Whether every row got exactly {@code cols} values back: none missing, none twice. */
    private static boolean complete(int[] filled, int cols) {
        for (int n : filled) {
            if (n != cols) {
                return false;
            }
        }
        return true;
    }

    private static boolean sameBits(Object expected, int from, List<Object> actual) {
        for (int i = 0; i < actual.size(); i++) {
            boolean same = expected instanceof double[] e
                    ? Double.doubleToRawLongBits(e[from + i]) == Double.doubleToRawLongBits((Double) actual.get(i))
                    : Float.floatToRawIntBits(((float[]) expected)[from + i]) == Float.floatToRawIntBits((Float) actual.get(i));
            if (!same) {
                return false;
            }
        }
        return true;
    }

    private static String option(String[] args, String name, String fallback) {
        for (int i = 1; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }
}
