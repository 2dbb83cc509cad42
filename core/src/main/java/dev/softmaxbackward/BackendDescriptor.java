package dev.softmaxbackward;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A backend's name and priority, readable from its class without creating it. Selection reads it from
 * {@link java.util.ServiceLoader.Provider#type()}, which loads the class but neither initialises it nor
 * the libraries it uses, so that only the backends selection needs are instantiated and probed
 * (forcing {@code reference} loads no ND4J, JCuda or JavaCPP class). A backend without it is
 * instantiated to learn its name and priority. Both must equal what {@code name()} and
 * {@code priority()} return; a backend whose descriptor disagrees is reported unavailable. The SPI's
 * default {@code name()} and {@code priority()} read this annotation, so a backend that keeps the
 * defaults states its name and priority once, here.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface BackendDescriptor {
    /** The backend's {@link SoftmaxBackwardBackend#name()}. */
    String name();

    /** The backend's {@link SoftmaxBackwardBackend#priority()}. */
    int priority();
}
