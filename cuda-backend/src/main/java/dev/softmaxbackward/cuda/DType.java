package dev.softmaxbackward.cuda;

/**
 * Element types of the device-resident API. Sums are float64 for the 4- and 2-byte types and
 * double-double for {@link #FLOAT64}; each output is rounded once to the element type
 * (docs/contract.md §2). {@link #BFLOAT16} and {@link #FLOAT16} are stored as raw 16-bit patterns.
 */
public enum DType {
    FLOAT32("f32", 4),
    FLOAT64("f64", 8),
    BFLOAT16("bf16", 2),
    FLOAT16("f16", 2);

    private final String suffix;
    private final int bytes;

    DType(String suffix, int bytes) {
        this.suffix = suffix;
        this.bytes = bytes;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    /** The kernel-name suffix in the PTX ({@code sb_block_f32}, ...). */
    String suffix() {
        return suffix;
    }

    /** Elements per 16-byte vector load. */
    int vector() {
        return 16 / bytes;
    }

    /** Bytes of one backward accumulator in the kernels: two doubles, or two (s, c) pairs for float64. */
    int accumulatorBytes() {
        return this == FLOAT64 ? 32 : 16;
    }

    /** Bytes of one forward-softmax accumulator: one double, or one (s, c) pair for float64. */
    int forwardAccumulatorBytes() {
        return this == FLOAT64 ? 16 : 8;
    }
}
