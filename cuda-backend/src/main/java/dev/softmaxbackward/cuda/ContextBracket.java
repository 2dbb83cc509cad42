package dev.softmaxbackward.cuda;

/**
 * Makes the backend's context current for one call and puts back whichever context the calling
 * thread had before (none, ours, or the host application's own), also when the call throws. Use in
 * try-with-resources. The driver calls are behind {@link Driver} so that the bracket is tested
 * without a GPU ({@code HostSideTest}).
 *
 * @param <C> the context handle type (CUcontext in the backend)
 */
final class ContextBracket<C> implements AutoCloseable {
    /** The two driver calls a bracket needs. */
    interface Driver<C> {
        /** cuCtxGetCurrent: the calling thread's current context, or a null handle for none. */
        C current();

        /** cuCtxSetCurrent. */
        void setCurrent(C context);

        /** Whether two handles name the same context (the handle objects themselves may differ). */
        boolean same(C a, C b);
    }

    private final Driver<C> driver;
    private final C previous;
    private final boolean switched;
    private boolean closed;

    private ContextBracket(Driver<C> driver, C previous, boolean switched) {
        this.driver = driver;
        this.previous = previous;
        this.switched = switched;
    }

    /** Remembers the current context and makes {@code ours} current unless it already is. */
    static <C> ContextBracket<C> enter(Driver<C> driver, C ours) {
        C previous = driver.current();
        boolean switched = !driver.same(previous, ours);
        if (switched) {
            driver.setCurrent(ours);
        }
        return new ContextBracket<>(driver, previous, switched);
    }

    /** Puts the previous context back (once); nothing to do when ours was already current. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            if (switched) {
                driver.setCurrent(previous);
            }
        }
    }
}
