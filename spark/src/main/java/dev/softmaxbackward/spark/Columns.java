package dev.softmaxbackward.spark;

import java.lang.reflect.Array;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Array columns of float or double, read into and written from primitive arrays. */
final class Columns {
    private Columns() {}

    /** Whether column {@code name} is {@code array<double>} (true) or {@code array<float>} (false). */
    static boolean isDouble(StructType schema, String name) {
        DataType type = schema.apply(name).dataType();
        if (type instanceof ArrayType a) {
            if (a.elementType().equals(DataTypes.DoubleType)) {
                return true;
            }
            if (a.elementType().equals(DataTypes.FloatType)) {
                return false;
            }
        }
        throw new IllegalArgumentException("column " + name + " is " + type.simpleString()
                + ", expected array<float> or array<double>");
    }

    static ArrayType arrayOf(boolean isDouble) {
        return DataTypes.createArrayType(isDouble ? DataTypes.DoubleType : DataTypes.FloatType, false);
    }

    static int length(Row row, int field, String what) {
        if (row.isNullAt(field)) {
            throw new IllegalArgumentException(what + " is null");
        }
        return row.getList(field).size();
    }

    /**
     * Copies the array in {@code row[field]} into {@code out[at, at+n)}, {@code out} a {@code float[]}
     * or a {@code double[]} as the column is; a null element is an error.
     */
    static void read(Row row, int field, Object out, int at, String what) {
        List<Object> values = row.getList(field);
        for (int i = 0; i < values.size(); i++) {
            Object v = values.get(i);
            if (v == null) {
                throw new IllegalArgumentException(what + "[" + i + "] is null");
            }
            if (out instanceof float[] f) {
                f[at + i] = (Float) v;
            } else {
                ((double[]) out)[at + i] = (Double) v;
            }
        }
    }

    /**
     * Throws unless column {@code name} holds integers (byte, short, int or long): label and id columns.
     * Spark reads a Python int or a JSON number as long, so long is as usual as int; checked on the
     * driver, so that a string or double column is a clear error there rather than a cast failure in a task.
     */
    static void requireIntegral(StructType schema, String name, String what) {
        DataType type = schema.apply(name).dataType();
        if (!(type.equals(DataTypes.IntegerType) || type.equals(DataTypes.LongType) || type.equals(DataTypes.ShortType)
                || type.equals(DataTypes.ByteType))) {
            throw new IllegalArgumentException("column " + name + " is " + type.simpleString() + ", expected int or long ("
                    + what + ")");
        }
    }

    /** The integer in {@code row[field]} of a column {@link #requireIntegral} accepted; {@code what} names a null. */
    static long integral(Row row, int field, String what) {
        if (row.isNullAt(field)) {
            throw new IllegalArgumentException(what + " is null");
        }
        return ((Number) row.get(field)).longValue();
    }

    /** A copy of {@code a[from, from+n)}, of {@code a}'s type ({@code float[]} or {@code double[]}). */
    static Object slice(Object a, int from, int n) {
        Object out = Array.newInstance(a.getClass().getComponentType(), n);
        System.arraycopy(a, from, out, 0, n);
        return out;
    }
}
