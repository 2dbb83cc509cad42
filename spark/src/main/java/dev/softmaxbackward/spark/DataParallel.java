package dev.softmaxbackward.spark;

import dev.softmaxbackward.SoftmaxBackwardBackend;
import dev.softmaxbackward.spi.Arguments;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;

/**
 * Data parallel: every row is independent, so each task computes the rows of its partition on its
 * executor's backend ({@link ExecutorBackend}: ServiceLoader, the task's GPU on a GPU executor) and the
 * results are the bits of one machine, whatever the partitioning. Rows are array columns,
 * {@code array<float>} or {@code array<double>}; the result is the input with one more array column of
 * the same type. Consecutive rows of one length are computed as one batch (up to
 * {@value #MAX_BATCH_ENTRIES} entries), which changes no bits: each row is computed on its own.
 *
 * <p>Bad input (a null array or element, arrays of one row whose lengths differ, a label outside the
 * row) fails the task, and so the job, with a message naming the partition and the row.
 */
public final class DataParallel {
    /** Entries per batch handed to the backend. */
    public static final int MAX_BATCH_ENTRIES = 1 << 22;

    private DataParallel() {}

    /** {@code out = softmaxOut * (gradOut - d)} per row (see {@link SoftmaxBackwardBackend}). */
    public static Dataset<Row> softmaxBackward(Dataset<Row> rows, String gradOutCol, String softmaxOutCol,
                                               String outCol) {
        return apply(rows, new String[] {gradOutCol, softmaxOutCol}, null, outCol, new Kernel() {
            @Override
            public void run(SoftmaxBackwardBackend b, float[][] in, int[] labels, float[] out, int n, int cols) {
                b.softmaxBackward(in[0], in[1], out, n, cols);
            }

            @Override
            public void run(SoftmaxBackwardBackend b, double[][] in, int[] labels, double[] out, int n, int cols) {
                b.softmaxBackward(in[0], in[1], out, n, cols);
            }
        });
    }

    /** {@code out = scale * (softmaxOut - onehot(label))} per row; label -100 gives a zero row. */
    public static Dataset<Row> crossEntropyBackward(Dataset<Row> rows, String softmaxOutCol, String labelCol,
                                                    double scale, String outCol) {
        return apply(rows, new String[] {softmaxOutCol}, labelCol, outCol, new Kernel() {
            @Override
            public void run(SoftmaxBackwardBackend b, float[][] in, int[] labels, float[] out, int n, int cols) {
                b.crossEntropyBackward(in[0], labels, (float) scale, out, n, cols);
            }

            @Override
            public void run(SoftmaxBackwardBackend b, double[][] in, int[] labels, double[] out, int n, int cols) {
                b.crossEntropyBackward(in[0], labels, scale, out, n, cols);
            }
        });
    }

    /** Forward softmax per row, max-subtracted. */
    public static Dataset<Row> softmax(Dataset<Row> rows, String logitsCol, String outCol) {
        return apply(rows, new String[] {logitsCol}, null, outCol, new Kernel() {
            @Override
            public void run(SoftmaxBackwardBackend b, float[][] in, int[] labels, float[] out, int n, int cols) {
                b.softmax(in[0], out, n, cols);
            }

            @Override
            public void run(SoftmaxBackwardBackend b, double[][] in, int[] labels, double[] out, int n, int cols) {
                b.softmax(in[0], out, n, cols);
            }
        });
    }

    /** One backend call on a batch of rows. */
    interface Kernel extends Serializable {
        void run(SoftmaxBackwardBackend backend, float[][] in, int[] labels, float[] out, int rows, int cols);

        void run(SoftmaxBackwardBackend backend, double[][] in, int[] labels, double[] out, int rows, int cols);
    }

    private static Dataset<Row> apply(Dataset<Row> rows, String[] inputs, String labelCol, String outCol,
                                      Kernel kernel) {
        StructType schema = rows.schema();
        boolean isDouble = Columns.isDouble(schema, inputs[0]);
        int[] fields = new int[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            if (Columns.isDouble(schema, inputs[i]) != isDouble) {
                throw new IllegalArgumentException("column " + inputs[i] + " and column " + inputs[0]
                        + " differ in element type; both must be float or both double");
            }
            fields[i] = schema.fieldIndex(inputs[i]);
        }
        int labelField = labelCol == null ? -1 : schema.fieldIndex(labelCol);
        if (labelCol != null) {
            Columns.requireIntegral(schema, labelCol, "class indices, " + Arguments.IGNORE_INDEX + " to ignore a row");
        }
        StructType out = schema.add(outCol, Columns.arrayOf(isDouble), false);
        Plan plan = new Plan(inputs, fields, labelCol, labelField, isDouble, kernel);
        JavaRDD<Row> result = rows.javaRDD().mapPartitions(partition -> new Batches(partition, plan));
        return rows.sparkSession().createDataFrame(result, out);
    }

    /**
     * What one call reads and runs, resolved against the schema once on the driver and shipped to every
     * partition: the input columns' names and indices, the label column's name and index (-1: none),
     * their dtype and the kernel.
     */
    private record Plan(String[] names, int[] fields, String labelName, int labelField, boolean isDouble,
                        Kernel kernel) implements Serializable {}

    /** Reads a partition batch by batch (rows of one length), computes, and yields the rows with the output. */
    private static final class Batches implements Iterator<Row> {
        private final Iterator<Row> input;
        private final Plan plan;
        private final int partition = TaskContext.getPartitionId();
        private Row pending;
        private long rowIndex;
        private List<Row> batch = new ArrayList<>();
        private Object[] outputs;
        private int cols;
        private int next;

        Batches(Iterator<Row> input, Plan plan) {
            this.input = input;
            this.plan = plan;
        }

        @Override
        public boolean hasNext() {
            if (next < batch.size()) {
                return true;
            }
            fill();
            return !batch.isEmpty();
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Row row = batch.get(next);
            Object[] values = new Object[row.length() + 1];
            for (int i = 0; i < row.length(); i++) {
                values[i] = row.get(i);
            }
            values[row.length()] = outputs[next++];
            return RowFactory.create(values);
        }

        private void fill() {
            batch = new ArrayList<>();
            next = 0;
            cols = -1;
            while (pending != null || input.hasNext()) {
                Row row = pending != null ? pending : input.next();
                int length = lengthOf(row, pending != null ? rowIndex - 1 : rowIndex);
                if (pending == null) {
                    rowIndex++;
                }
                pending = null;
                if (cols >= 0 && (length != cols || (long) (batch.size() + 1) * Math.max(cols, 1) > MAX_BATCH_ENTRIES)) {
                    pending = row; // starts the next batch
                    break;
                }
                cols = length;
                batch.add(row);
            }
            if (!batch.isEmpty()) {
                compute();
            }
        }

        private int lengthOf(Row row, long index) {
            int length = -1;
            for (int i = 0; i < plan.fields().length; i++) {
                int n = Columns.length(row, plan.fields()[i], where(index) + ": column " + plan.names()[i]);
                if (length >= 0 && n != length) {
                    throw new IllegalArgumentException(where(index) + ": column " + plan.names()[i] + " has " + n
                            + " values but column " + plan.names()[0] + " has " + length);
                }
                length = n;
            }
            return length;
        }

        private String where(long index) {
            return "partition " + partition + ", row " + index;
        }

        private void compute() {
            int n = batch.size();
            int size = Math.multiplyExact(n, cols);
            long first = rowIndex - (pending != null ? 1 : 0) - n; // the partition's index of batch row 0
            int[] labels = null;
            if (plan.labelField() >= 0) {
                labels = new int[n];
                for (int r = 0; r < n; r++) {
                    String what = where(first + r) + ": column " + plan.labelName();
                    long label = Columns.integral(batch.get(r), plan.labelField(), what);
                    if (label != Arguments.IGNORE_INDEX && (label < 0 || label >= cols)) {
                        throw new IllegalArgumentException(what + " = " + label + " is not a class index in [0, " + cols
                                + ") or the ignore index " + Arguments.IGNORE_INDEX);
                    }
                    labels[r] = (int) label;
                }
            }
            SoftmaxBackwardBackend backend = ExecutorBackend.get();
            outputs = new Object[n];
            // double[][] and float[][] are both Object[]: one loop reads the columns of either dtype
            int inputs = plan.fields().length;
            Object[] in = plan.isDouble() ? new double[inputs][size] : new float[inputs][size];
            for (int f = 0; f < inputs; f++) {
                for (int r = 0; r < n; r++) {
                    Columns.read(batch.get(r), plan.fields()[f], in[f], r * cols,
                            where(first + r) + ": column " + plan.names()[f]);
                }
            }
            Object out = plan.isDouble() ? new double[size] : new float[size];
            if (plan.isDouble()) {
                plan.kernel().run(backend, (double[][]) in, labels, (double[]) out, n, cols);
            } else {
                plan.kernel().run(backend, (float[][]) in, labels, (float[]) out, n, cols);
            }
            for (int r = 0; r < n; r++) {
                outputs[r] = Columns.slice(out, r * cols, cols);
            }
        }
    }
}
