package dev.softmaxbackward.spark;

import dev.softmaxbackward.ShardPartials;
import dev.softmaxbackward.ShardedBackward;
import dev.softmaxbackward.SoftmaxBackwardBackend;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Vocab parallel: rows too long for one machine, cut into column shards stored as chunks
 * {@code (rowId: long, shardId: int, gradOut: array, softmaxOut: array)}, with the bits of the unsharded
 * pass on one machine ({@link ShardedBackward}).
 *
 * <ol>
 *   <li>Phase 1, on each chunk where it lives: {@link SoftmaxBackwardBackend#shardPartials} gives
 *       the chunk's per-segment partial sums (16 bytes per 4096 columns for float32).</li>
 *   <li>Exchange: the partials, and only they, are shuffled by {@code rowId}; per row they are put in
 *       shard order, checked, and reduced to the row's {@code d}
 *       ({@link ShardedBackward#meansFloat}); the {@code d}s (8 bytes per row) are collected and
 *       broadcast.</li>
 *   <li>Phase 2, on each chunk where it lives: {@code gradIn = y * (gradOut - d)}.</li>
 * </ol>
 * The data itself is never shuffled; it is read twice (phase 1 is a job of its own), so cache the
 * input if it is expensive to compute. The result has columns {@code rowId, shardId, gradIn}.
 *
 * <p>Every row must have shards {@code 0..n-1}, each once, whose widths add up to {@code cols}, with every
 * cut a multiple of 4096; a chunk's two arrays must have one length. Anything else fails the job with
 * a message naming the row and the shard.
 */
public final class VocabParallel {
    public static final String ROW_ID = "rowId";
    public static final String SHARD_ID = "shardId";
    public static final String GRAD_OUT = "gradOut";
    public static final String SOFTMAX_OUT = "softmaxOut";
    public static final String GRAD_IN = "gradIn";

    private VocabParallel() {}

    /** The chunks' schema for float32 ({@code isDouble == false}) or float64 rows. */
    public static StructType chunkSchema(boolean isDouble) {
        return new StructType()
                .add(ROW_ID, DataTypes.LongType, false)
                .add(SHARD_ID, DataTypes.IntegerType, false)
                .add(GRAD_OUT, Columns.arrayOf(isDouble), false)
                .add(SOFTMAX_OUT, Columns.arrayOf(isDouble), false);
    }

    /** The backward pass of rows of {@code cols} columns stored as shard chunks (see the class comment). */
    public static Dataset<Row> softmaxBackward(Dataset<Row> chunks, int cols) {
        if (cols < 1) {
            throw new IllegalArgumentException("cols " + cols + " < 1");
        }
        StructType schema = chunks.schema();
        Columns.requireIntegral(schema, ROW_ID, "the row a chunk belongs to");
        Columns.requireIntegral(schema, SHARD_ID, "the chunk's shard");
        boolean isDouble = Columns.isDouble(schema, GRAD_OUT);
        if (Columns.isDouble(schema, SOFTMAX_OUT) != isDouble) {
            throw new IllegalArgumentException("columns gradOut and softmaxOut differ in element type");
        }
        JavaRDD<Row> rows = chunks.select(ROW_ID, SHARD_ID, GRAD_OUT, SOFTMAX_OUT).javaRDD();
        chunks.sparkSession().sparkContext().setJobDescription("softmax-backward vocab parallel: phase 1 and exchange");

        JavaPairRDD<Long, Shard> partials = rows.mapToPair(row -> {
            Chunk c = Chunk.of(row, isDouble);
            SoftmaxBackwardBackend backend = ExecutorBackend.get();
            ShardPartials p = isDouble ? backend.shardPartials(c.g64, c.y64, 1, c.width)
                    : backend.shardPartials(c.g32, c.y32, 1, c.width);
            return new Tuple2<>(c.rowId, new Shard(c.rowId, c.shardId, c.width, p));
        });
        Map<Long, Double> means = partials.groupByKey()
                .mapValues(shards -> mean(shards, cols, isDouble))
                .collectAsMap();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(chunks.sparkSession().sparkContext());
        Broadcast<Map<Long, Double>> d = jsc.broadcast(new java.util.HashMap<>(means));

        chunks.sparkSession().sparkContext().setJobDescription("softmax-backward vocab parallel: phase 2");
        JavaRDD<Row> out = rows.map(row -> {
            Chunk c = Chunk.of(row, isDouble);
            Double mean = d.value().get(c.rowId);
            if (mean == null) {
                throw new IllegalStateException("row " + c.rowId + ", shard " + c.shardId
                        + ": no d from phase 1 (the input changed between the two reads?)");
            }
            SoftmaxBackwardBackend backend = ExecutorBackend.get();
            Object gradIn;
            if (isDouble) {
                double[] o = new double[c.width];
                backend.shardBackward(c.g64, c.y64, new double[] {mean}, o, 1, c.width);
                gradIn = o;
            } else {
                float[] o = new float[c.width];
                backend.shardBackward(c.g32, c.y32, new float[] {(float) (double) mean}, o, 1, c.width);
                gradIn = o;
            }
            return RowFactory.create(c.rowId, c.shardId, gradIn);
        });
        StructType outSchema = new StructType()
                .add(ROW_ID, DataTypes.LongType, false)
                .add(SHARD_ID, DataTypes.IntegerType, false)
                .add(GRAD_IN, Columns.arrayOf(isDouble), false);
        return chunks.sparkSession().createDataFrame(out, outSchema);
    }

    /** One row's d from its shards' partials; float32 d is exact in a double. */
    static double mean(Iterable<Shard> shards, int cols, boolean isDouble) {
        List<Shard> ordered = new ArrayList<>();
        shards.forEach(ordered::add);
        ordered.sort(Comparator.comparingInt(s -> s.shardId));
        long rowId = ordered.get(0).rowId;
        List<ShardPartials> partials = new ArrayList<>();
        long column = 0;
        for (int i = 0; i < ordered.size(); i++) {
            Shard s = ordered.get(i);
            if (s.shardId != i) {
                if (s.shardId < i) {
                    throw new IllegalArgumentException("row " + rowId + ", shard " + s.shardId + ": duplicated shard");
                }
                throw new IllegalArgumentException("row " + rowId + ", shard " + i + ": missing shard (shards "
                        + ordered.stream().map(x -> x.shardId).toList() + " present)");
            }
            try {
                ShardedBackward.requireAlignedCut(i, column);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("row " + rowId + ", " + e.getMessage(), e);
            }
            column += s.width;
            partials.add(s.partials);
        }
        if (column != cols) {
            throw new IllegalArgumentException("row " + rowId + ", shard " + (ordered.size() - 1) + ": the row's "
                    + ordered.size() + " shards hold " + column + " columns, but rows have " + cols);
        }
        return isDouble ? ShardedBackward.meansDouble(partials)[0] : ShardedBackward.meansFloat(partials)[0];
    }

    /** A chunk's phase-1 result, as shuffled. */
    static final class Shard implements Serializable {
        private static final long serialVersionUID = 1L;
        final long rowId;
        final int shardId;
        final int width;
        final ShardPartials partials;

        Shard(long rowId, int shardId, int width, ShardPartials partials) {
            this.rowId = rowId;
            this.shardId = shardId;
            this.width = width;
            this.partials = partials;
        }
    }

    /** A chunk read from a row of the input. */
    private static final class Chunk {
        long rowId;
        int shardId;
        int width;
        float[] g32;
        float[] y32;
        double[] g64;
        double[] y64;

        static Chunk of(Row row, boolean isDouble) {
            Chunk c = new Chunk();
            if (row.isNullAt(0) || row.isNullAt(1)) {
                throw new IllegalArgumentException("a chunk has a null rowId or shardId: " + row);
            }
            c.rowId = Columns.integral(row, 0, ROW_ID);
            long shard = Columns.integral(row, 1, "row " + c.rowId + ": " + SHARD_ID);
            if (shard != (int) shard) {
                throw new IllegalArgumentException("row " + c.rowId + ": shardId " + shard + " is not an int");
            }
            c.shardId = (int) shard;
            String where = "row " + c.rowId + ", shard " + c.shardId;
            int gn = Columns.length(row, 2, where + ": gradOut");
            int yn = Columns.length(row, 3, where + ": softmaxOut");
            if (gn != yn) {
                throw new IllegalArgumentException(where + ": ragged shard, gradOut has " + gn
                        + " values but softmaxOut has " + yn);
            }
            if (gn == 0) {
                throw new IllegalArgumentException(where + ": empty shard");
            }
            c.width = gn;
            if (isDouble) {
                c.g64 = new double[gn];
                c.y64 = new double[gn];
                Columns.read(row, 2, c.g64, 0, where + ": gradOut");
                Columns.read(row, 3, c.y64, 0, where + ": softmaxOut");
            } else {
                c.g32 = new float[gn];
                c.y32 = new float[gn];
                Columns.read(row, 2, c.g32, 0, where + ": gradOut");
                Columns.read(row, 3, c.y32, 0, where + ": softmaxOut");
            }
            return c;
        }
    }
}
