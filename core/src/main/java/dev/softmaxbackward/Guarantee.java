package dev.softmaxbackward;

/** What a backend promises beyond the contract's bounds (docs/contract.md §3, invariant 6). */
public enum Guarantee {
    /** {@code softmaxBackward} and {@code crossEntropyBackward} return exactly the {@code reference} bits. */
    BIT_EXACT_BACKWARD,
    /**
     * Forward {@code softmax} returns exactly the {@code reference} bits ({@code StrictMath.exp});
     * without it, each entry is within 2 ulp of them.
     */
    BIT_EXACT_FORWARD
}
