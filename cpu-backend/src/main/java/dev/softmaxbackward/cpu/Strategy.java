package dev.softmaxbackward.cpu;

import java.util.Locale;

/**
 * How the {@code cpu} backend computes the backward pass.
 *
 * <p>Choose one with the system property {@value CpuBackend#STRATEGY_PROPERTY} ({@code fused} or
 * {@code nd4j-ops}) or with {@link CpuBackend#withStrategy(Strategy)}; the default is {@link #FUSED}.
 */
public enum Strategy {
    /**
     * The fused per-row kernel: one sweep for the two sums in the canonical order, one for the outputs;
     * bit-identical to the {@code reference} backend (docs/contract.md §3, invariant 6).
     */
    FUSED("fused"),
    /**
     * ND4J's own row-wise operations, in float64: {@code sum(y*g, 1)}, {@code sum(y, 1)}, their quotient
     * {@code d} with one correction step {@code d += sum(y*(g-d), 1)/sum(y, 1)}, then
     * {@code y * (g - d)} by broadcast subtract and multiply, rounded once to the output dtype. Meets
     * invariants 1-5 but NOT invariant 6: ND4J sums in its own order (and may split it across its own
     * threads), so the last bit can differ from {@code reference}. Applies to the backward pass only;
     * {@code softmax} and {@code crossEntropyBackward} always run the fused code.
     */
    ND4J_OPS("nd4j-ops");

    private final String id;

    Strategy(String id) {
        this.id = id;
    }

    /** {@code "fused"} or {@code "nd4j-ops"}. */
    public String id() {
        return id;
    }

    /** The strategy with this {@link #id()} (case-insensitive, also the enum constant's name). */
    public static Strategy of(String id) {
        String wanted = id.strip().toLowerCase(Locale.ROOT);
        for (Strategy s : values()) {
            if (s.id.equals(wanted) || s.name().toLowerCase(Locale.ROOT).equals(wanted)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown cpu strategy '" + id + "' (fused or nd4j-ops)");
    }

    @Override
    public String toString() {
        return id;
    }
}
