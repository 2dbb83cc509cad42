package dev.softmaxbackward.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.softmaxbackward.reference.ReferenceBackend;
import dev.softmaxbackward.spi.RowNumerics;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Both modes on a real local[2] session, bit for bit against the reference on one machine. */
class SparkBackwardTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    static final AtomicInteger INJECTED_FAILURES = new AtomicInteger();

    private final SparkSession spark = SparkTestSession.get();

    @Test
    void dataParallelEqualsReferenceBitForBit() {
        Random random = new Random(1);
        int rows = 40;
        int cols = 5000;
        for (boolean isDouble : new boolean[] {false, true}) {
            Batch b = Batch.random(random, rows, cols);
            List<Row> input = new ArrayList<>();
            int[] labels = new int[rows];
            for (int r = 0; r < rows; r++) {
                labels[r] = r % 9 == 8 ? -100 : random.nextInt(cols);
                input.add(RowFactory.create((long) r, labels[r], b.row(b.g, r, isDouble), b.row(b.y, r, isDouble)));
            }
            StructType schema = new StructType().add("id", DataTypes.LongType).add("label", DataTypes.IntegerType)
                    .add("g", Columns.arrayOf(isDouble)).add("y", Columns.arrayOf(isDouble));
            Dataset<Row> df = spark.createDataFrame(input, schema).repartition(3);
            List<Row> back = DataParallel.softmaxBackward(df, "g", "y", "gradIn").collectAsList();
            List<Row> ce = DataParallel.crossEntropyBackward(df, "y", "label", 0.125, "ce").collectAsList();
            List<Row> sm = DataParallel.softmax(df, "g", "p").collectAsList();
            assertEquals(rows, back.size());
            Object expected = b.reference(isDouble);
            Object expectedCe = isDouble ? new double[rows * cols] : new float[rows * cols];
            Object expectedSm = isDouble ? new double[rows * cols] : new float[rows * cols];
            if (isDouble) {
                REFERENCE.crossEntropyBackward(b.y, labels, 0.125, (double[]) expectedCe, rows, cols);
                REFERENCE.softmax(b.g, (double[]) expectedSm, rows, cols);
            } else {
                REFERENCE.crossEntropyBackward(b.f32(b.y), labels, 0.125f, (float[]) expectedCe, rows, cols);
                REFERENCE.softmax(b.f32(b.g), (float[]) expectedSm, rows, cols);
            }
            for (int i = 0; i < rows; i++) {
                int r = (int) back.get(i).getLong(0);
                Bits.assertRow(expected, r, cols, back.get(i).getList(4), "data parallel backward, row " + r);
                Bits.assertRow(expectedCe, (int) ce.get(i).getLong(0), cols, ce.get(i).getList(4), "cross entropy");
                Bits.assertRow(expectedSm, (int) sm.get(i).getLong(0), cols, sm.get(i).getList(4), "softmax");
            }
        }
    }

    /**
     * Spark reads Python ints and JSON numbers as long: a long label column gives the int column's bits.
     * A label column of another type fails on the driver naming it; a label out of range, or null, fails
     * the job naming the partition, the row and the column.
     */
    @Test
    void labelColumnsOfLongWorkAndBadLabelsNameTheirRow() {
        int rows = 12;
        int cols = 30;
        Batch b = Batch.random(new Random(5), rows, cols);
        List<Row> ints = new ArrayList<>();
        List<Row> longs = new ArrayList<>();
        int[] labels = new int[rows];
        for (int r = 0; r < rows; r++) {
            labels[r] = r == 4 ? -100 : (r * 7) % cols;
            ints.add(RowFactory.create((long) r, labels[r], b.row(b.y, r, true)));
            longs.add(RowFactory.create((long) r, (long) labels[r], b.row(b.y, r, true)));
        }
        StructType intSchema = new StructType().add("id", DataTypes.LongType).add("label", DataTypes.IntegerType)
                .add("y", Columns.arrayOf(true));
        StructType longSchema = new StructType().add("id", DataTypes.LongType).add("label", DataTypes.LongType)
                .add("y", Columns.arrayOf(true));
        List<Row> fromInts = DataParallel.crossEntropyBackward(spark.createDataFrame(ints, intSchema), "y", "label", 0.5,
                "ce").collectAsList();
        List<Row> fromLongs = DataParallel.crossEntropyBackward(spark.createDataFrame(longs, longSchema), "y", "label",
                0.5, "ce").collectAsList();
        double[] expected = new double[rows * cols];
        REFERENCE.crossEntropyBackward(b.y, labels, 0.5, expected, rows, cols);
        assertEquals(rows, fromLongs.size());
        for (int i = 0; i < rows; i++) {
            Bits.assertRow(expected, (int) fromLongs.get(i).getLong(0), cols, fromLongs.get(i).getList(3), "long labels");
            Bits.assertRow(expected, (int) fromInts.get(i).getLong(0), cols, fromInts.get(i).getList(3), "int labels");
        }
        StructType stringSchema = new StructType().add("id", DataTypes.LongType).add("label", DataTypes.StringType)
                .add("y", Columns.arrayOf(true));
        List<Row> strings = List.of(RowFactory.create(0L, "3", b.row(b.y, 0, true)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DataParallel.crossEntropyBackward(spark.createDataFrame(strings, stringSchema), "y", "label", 1.0, "ce"));
        assertTrue(e.getMessage().startsWith("column label is string, expected int or long"), e.getMessage());
        List<Row> bad = new ArrayList<>(longs.subList(0, 6));
        bad.set(5, RowFactory.create(5L, (long) cols, b.row(b.y, 5, true)));
        Dataset<Row> one = spark.createDataFrame(bad, longSchema).coalesce(1);
        Exception job = assertThrows(Exception.class,
                () -> DataParallel.crossEntropyBackward(one, "y", "label", 1.0, "ce").collectAsList());
        assertTrue(causes(job).contains("partition 0, row 5: column label = 30 is not a class index in [0, 30)"),
                causes(job));
        List<Row> nulls = new ArrayList<>(longs.subList(0, 3));
        nulls.set(2, RowFactory.create(2L, null, b.row(b.y, 2, true)));
        Dataset<Row> withNull = spark.createDataFrame(nulls, longSchema).coalesce(1);
        Exception nullJob = assertThrows(Exception.class,
                () -> DataParallel.crossEntropyBackward(withNull, "y", "label", 1.0, "ce").collectAsList());
        assertTrue(causes(nullJob).contains("partition 0, row 2: column label is null"), causes(nullJob));
    }

    @Test
    void vocabParallelEqualsUnshardedReferenceBitForBit() {
        Random random = new Random(2);
        for (boolean isDouble : new boolean[] {false, true}) {
            for (int layout = 0; layout < 2; layout++) {
                int rows = 14;
                int cols = 5 * RowNumerics.SEGMENT - 123;
                Batch b = Batch.random(random, rows, cols);
                List<Row> chunks = b.chunks(random, isDouble, Integer.MAX_VALUE);
                Dataset<Row> df = spark.createDataFrame(chunks, VocabParallel.chunkSchema(isDouble)).repartition(3);
                check(b, isDouble, VocabParallel.softmaxBackward(df, cols).collectAsList(), "layout " + layout);
            }
        }
    }

    @Test
    void aTaskThatFailsOnItsFirstAttemptIsRetriedAndTheResultIsUnchanged() {
        Random random = new Random(3);
        int rows = 8;
        int cols = 3 * RowNumerics.SEGMENT;
        Batch b = Batch.random(random, rows, cols);
        List<Row> chunks = b.chunks(random, false, Integer.MAX_VALUE);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int before = INJECTED_FAILURES.get();
        Dataset<Row> df = spark.createDataFrame(jsc.parallelize(chunks, 2).map(row -> {
            TaskContext task = TaskContext.get();
            if (task.attemptNumber() == 0 && task.partitionId() == 1) {
                INJECTED_FAILURES.incrementAndGet();
                throw new IllegalStateException("injected failure of the first attempt");
            }
            return row;
        }), VocabParallel.chunkSchema(false));
        check(b, false, VocabParallel.softmaxBackward(df, cols).collectAsList(), "retried");
        assertTrue(INJECTED_FAILURES.get() > before, "a first attempt failed");
    }

    @Test
    void badChunksFailTheJobNamingTheRowAndTheShard() {
        int cols = 2 * RowNumerics.SEGMENT;
        float[] seg = new float[RowNumerics.SEGMENT];
        assertBad("row 7, shard 1: ragged shard, gradOut has 4096 values but softmaxOut has 4000", cols,
                chunk(7, 0, seg, seg), chunk(7, 1, seg, new float[4000]));
        assertBad("row 3, shard 1: missing shard (shards [0, 2] present)", 3 * RowNumerics.SEGMENT,
                chunk(3, 0, seg, seg), chunk(3, 2, seg, seg));
        assertBad("row 4, shard 1: duplicated shard", cols,
                chunk(4, 0, seg, seg), chunk(4, 1, seg, seg), chunk(4, 1, seg, seg));
        float[] unaligned = new float[5000];
        assertBad("row 5, shard 1 starts at column 5000, a cut that is not a multiple of 4096", 5000 + 3192,
                chunk(5, 0, unaligned, unaligned), chunk(5, 1, new float[3192], new float[3192]));
        assertBad("row 6, shard 0: the row's 1 shards hold 4096 columns, but rows have 8192", cols,
                chunk(6, 0, seg, seg), chunk(8, 0, seg, seg), chunk(8, 1, seg, seg));
    }

    private void assertBad(String message, int cols, Row... chunks) {
        Dataset<Row> df = spark.createDataFrame(List.of(chunks), VocabParallel.chunkSchema(false));
        Exception e = assertThrows(Exception.class, () -> VocabParallel.softmaxBackward(df, cols).collectAsList());
        assertTrue(causes(e).contains(message), "expected '" + message + "' in:\n" + causes(e));
    }

    private static String causes(Throwable t) {
        StringBuilder s = new StringBuilder();
        for (; t != null; t = t.getCause()) {
            s.append(t.getMessage()).append('\n');
        }
        return s.toString();
    }

    private static Row chunk(long row, int shard, float[] g, float[] y) {
        return RowFactory.create(row, shard, g, y);
    }

    private static void check(Batch b, boolean isDouble, List<Row> out, String what) {
        Object expected = b.reference(isDouble);
        int[] filled = new int[b.rows];
        for (Row r : out) {
            int row = (int) r.getLong(0);
            int shard = r.getInt(1);
            int from = b.bounds[shard];
            List<Object> values = r.getList(2);
            assertEquals(b.bounds[shard + 1] - from, values.size());
            Bits.assertSlice(expected, row * b.cols + from, values, what + " row " + row + " shard " + shard);
            filled[row] += values.size();
        }
        for (int r = 0; r < b.rows; r++) {
            assertEquals(b.cols, filled[r], what + " row " + r + " complete");
        }
    }
}
