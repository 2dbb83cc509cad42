package dev.softmaxbackward.cpu;

import dev.softmaxbackward.spi.RowNumerics;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The {@link Strategy#ND4J_OPS} pipeline: ND4J's row-wise operations in float64. Not bit-identical to
 * the reference (ND4J's reductions have their own order); accurate to the contract's invariants 1-5:
 * float32/16-bit entries widen exactly, the products of float32 entries are exact in float64, the
 * correction step {@code d += sum(y*(g-d))/sum(y)} takes the float64 quotient to within about an ulp of
 * the exact weighted mean (and makes a constant row give {@code d == g}, hence exact zeros), and each
 * output is {@code y * (g - d)} in float64 rounded once to the output dtype by ND4J's cast.
 */
final class Nd4jOps {
    private Nd4jOps() {}

    /** {@code out = y * (g - d)} per row; shapes, dtypes and layouts already checked, rows and cols > 0. */
    static void backward(INDArray g, INDArray y, INDArray out) {
        int rows = (int) y.size(0);
        // castTo returns the array itself when it is already float64: yd and gd are read, never written
        INDArray yd = y.castTo(DataType.DOUBLE);
        INDArray gd = g.castTo(DataType.DOUBLE);
        INDArray sumY = yd.sum(true, 1);
        INDArray t = yd.mul(gd); // the one [B, V] temporary, reused below by in-place ops
        INDArray d0 = t.sum(true, 1).divi(sumY);
        INDArray correction = t.assign(gd).subiColumnVector(d0).muli(yd).sum(true, 1).divi(sumY);
        double[] sy = sumY.reshape(rows).toDoubleVector();
        double[] d = d0.reshape(rows).toDoubleVector();
        double[] d0Plain = d.clone(); // sum(y*g)/sum(y): not finite where sum(y*g) overflowed
        double[] c = correction.reshape(rows).toDoubleVector();
        double[] gMax = gd.max(true, 1).reshape(rows).toDoubleVector();
        double[] gMin = gd.min(true, 1).reshape(rows).toDoubleVector();
        boolean roundToFloat = out.dataType() != DataType.DOUBLE;
        for (int r = 0; r < rows; r++) {
            double dr;
            if (sy[r] == 0.0) {
                dr = 0.0; // the contract's zero row; the quotients above are NaN or infinite there
            } else if (Double.isFinite(d[r]) && Double.isFinite(c[r])) {
                dr = d[r] + c[r];
            } else {
                dr = d[r]; // NaN and infinities propagate as the plain quotient
            }
            if (gMax[r] == gMin[r] && dr != gMax[r] && !hasNaN(gd, r)) {
                // the constant-row rule: a constant row gives exact zeros even where y*g underflows. ND4J's
                // max and min skip NaN, so [x, NaN] has gMax == gMin == x: the row is scanned for NaN (only
                // rows that look constant, so ordinary rows pay nothing)
                dr = gMax[r];
            }
            d[r] = roundToFloat ? (double) (float) dr : dr; // d is rounded once to the working precision
        }
        // float64 rows near overflow (sums not finite, |d| >= 2^970): g and y copied out before out (which
        // may be either) is written, then finished with core's RowNumerics steps below
        double[][] rare = new double[rows][];
        double[][] rareY = new double[rows][];
        for (int r = 0; r < rows; r++) {
            if (!roundToFloat && RowNumerics.needsFinishRow(sy[r], d0Plain[r], d[r])) {
                rare[r] = gd.getRow(r).toDoubleVector();
                rareY[r] = yd.getRow(r).toDoubleVector();
            }
        }
        INDArray dv = Nd4j.createFromArray(d).reshape(rows, 1);
        t.assign(gd).subiColumnVector(dv).muli(yd);
        out.assign(t); // ND4J's assign converts float64 to the output dtype, rounding once
        // y * (g - NaN) is NaN everywhere; written here because ND4J 1.0.0-M2.1 turns a [1, 1] column
        // vector into a scalar op that treats a NaN scalar as absent (the row came back as g unchanged)
        long cols = y.size(1);
        for (int r = 0; r < rows; r++) {
            if (Double.isNaN(d[r])) {
                for (long j = 0; j < cols; j++) {
                    out.putScalar(r, j, Double.NaN);
                }
            }
        }
        for (int r = 0; r < rows; r++) {
            if (rare[r] != null) {
                double[] gr = rare[r];
                double[] yr = rareY[r];
                int n = (int) cols;
                // d from the canonical partials, scaled where they overflow: ND4J's d has no working
                // correction step here (g - d0 overflowed in it)
                double dr = RowNumerics.constantRowMean(RowNumerics.rescaledMean(gr, 0, yr, 0, n, d[r]), gr, 0, n);
                for (int i = 0; i < n; i++) {
                    gr[i] = RowNumerics.gradIn(yr[i], gr[i], dr);
                }
                out.getRow(r).assign(Nd4j.createFromArray(gr));
            }
        }
    }

    private static boolean hasNaN(INDArray gd, int row) {
        for (double v : gd.getRow(row).toDoubleVector()) {
            if (Double.isNaN(v)) {
                return true;
            }
        }
        return false;
    }

    static void backward(float[] g, float[] y, float[] out, int rows, int cols) {
        long[] shape = {rows, cols};
        INDArray o = Nd4j.createUninitialized(DataType.FLOAT, rows, cols);
        backward(Nd4j.create(g, shape, 'c'), Nd4j.create(y, shape, 'c'), o);
        System.arraycopy(o.data().asFloat(), 0, out, 0, rows * cols);
    }

    static void backward(double[] g, double[] y, double[] out, int rows, int cols) {
        long[] shape = {rows, cols};
        INDArray o = Nd4j.createUninitialized(DataType.DOUBLE, rows, cols);
        backward(Nd4j.create(g, shape, 'c'), Nd4j.create(y, shape, 'c'), o);
        System.arraycopy(o.data().asDouble(), 0, out, 0, rows * cols);
    }
}
