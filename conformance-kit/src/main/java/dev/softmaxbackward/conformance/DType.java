package dev.softmaxbackward.conformance;

/** The two dtypes of the array API, with the constants the contract's bounds are stated in. */
public enum DType {
    FLOAT32(0x1.0p-24, Float.MIN_VALUE, -24, -149),
    FLOAT64(0x1.0p-53, Double.MIN_VALUE, -53, -1074);

    private final double unitRoundoff;
    private final double minSubnormal;
    private final int unitRoundoffExponent;
    private final int minSubnormalExponent;

    DType(double unitRoundoff, double minSubnormal, int unitRoundoffExponent, int minSubnormalExponent) {
        this.unitRoundoff = unitRoundoff;
        this.minSubnormal = minSubnormal;
        this.unitRoundoffExponent = unitRoundoffExponent;
        this.minSubnormalExponent = minSubnormalExponent;
    }

    /** "float32" or "float64", as the contract and the API's messages name it. */
    public String label() {
        return this == FLOAT32 ? "float32" : "float64";
    }

    /** Bytes per entry: 4 or 8. */
    public int bytes() {
        return this == FLOAT32 ? Float.BYTES : Double.BYTES;
    }

    /** u: 2^-24 for float32, 2^-53 for float64. */
    public double unitRoundoff() {
        return unitRoundoff;
    }

    /** The smallest positive subnormal of the dtype. */
    public double minSubnormal() {
        return minSubnormal;
    }

    /** u, exactly. */
    public Dyadic u() {
        return Dyadic.powerOfTwo(unitRoundoffExponent);
    }

    /** The smallest subnormal, exactly. */
    public Dyadic minSub() {
        return Dyadic.powerOfTwo(minSubnormalExponent);
    }

    /** Rounds a double to this dtype (identity for float64). */
    public double round(double x) {
        return this == FLOAT32 ? (double) (float) x : x;
    }

    /** One unit in the last place of x in this dtype. */
    public double ulp(double x) {
        return this == FLOAT32 ? Math.ulp((float) x) : Math.ulp(x);
    }
}
