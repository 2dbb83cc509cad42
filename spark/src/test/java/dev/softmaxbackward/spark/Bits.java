package dev.softmaxbackward.spark;

import java.util.List;

/** Bitwise comparison of Spark's boxed arrays with primitive expectations. */
final class Bits {
    private Bits() {}

    static void assertRow(Object expected, int row, int cols, List<Object> actual, String what) {
        if (actual.size() != cols) {
            throw new AssertionError(what + ": " + actual.size() + " values, expected " + cols);
        }
        assertSlice(expected, row * cols, actual, what);
    }

    static void assertSlice(Object expected, int from, List<Object> actual, String what) {
        for (int i = 0; i < actual.size(); i++) {
            boolean same = expected instanceof double[] e
                    ? Double.doubleToRawLongBits(e[from + i]) == Double.doubleToRawLongBits((Double) actual.get(i))
                    : Float.floatToRawIntBits(((float[]) expected)[from + i]) == Float.floatToRawIntBits((Float) actual.get(i));
            if (!same) {
                Object e = expected instanceof double[] d ? d[from + i] : ((float[]) expected)[from + i];
                throw new AssertionError(what + ": entry " + i + " is " + actual.get(i) + ", expected " + e);
            }
        }
    }
}
