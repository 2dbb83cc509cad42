package dev.softmaxbackward;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the backends once and applies the selection rule, probing only what selection needs: the
 * forced backend, or the backends in priority order until one is available. {@link #entries()} probes
 * all of them. A backend's name and priority come from its {@link BackendDescriptor} when it has one,
 * so that the others are never instantiated (and their native libraries never loaded). A backend whose
 * probe fails, or whose class cannot even be loaded, is kept with its reason rather than thrown.
 */
final class BackendRegistry {
    static final String PROPERTY = "softmaxbackward.backend";
    static final String ENVIRONMENT = "SOFTMAX_BACKWARD_BACKEND";

    private static final Logger LOG = LoggerFactory.getLogger(SoftmaxBackward.class);

    /** The system property that, set to {@code true}, disables the backend {@code name}. */
    static String disabledProperty(String name) {
        return "softmaxbackward." + name.toLowerCase(Locale.ROOT) + ".disabled";
    }

    /** A probed backend (null unless available) and its status. */
    record Entry(SoftmaxBackwardBackend backend, BackendStatus status) {}

    /** The outcome of selection: the backend, or why none could be chosen; and how it was chosen. */
    record Selection(SoftmaxBackwardBackend backend, RuntimeException failure, String reason) {}

    /**
     * One discovered provider: its name and priority, its descriptor (null without one), the backend when
     * it had to be created to learn them (else null), and its probe, run at most once.
     */
    private record Candidate(ServiceLoader.Provider<SoftmaxBackwardBackend> provider, String name, int priority,
                             BackendDescriptor descriptor, SoftmaxBackwardBackend created, Once probe) {}

    /** A candidate's entry: given up front (a provider that could not even say its name), or probed once. */
    private static final class Once {
        private Entry entry;

        Once(Entry entry) {
            this.entry = entry;
        }

        synchronized Entry get(Supplier<Entry> probe) {
            if (entry == null) {
                entry = probe.get();
            }
            return entry;
        }
    }

    /** The candidate's entry, probing it on the first call. */
    private Entry entry(Candidate c) {
        return c.probe().get(() -> {
            Entry e = probe(c);
            if (!e.status().available()) {
                LOG.debug("softmax-backward: backend '{}' is unavailable: {}", c.name(), e.status().reason());
            }
            return e;
        });
    }

    private final Function<String, String> properties;
    private final List<Candidate> candidates;
    private final Selection selection;

    BackendRegistry(Iterable<ServiceLoader.Provider<SoftmaxBackwardBackend>> providers,
                    Function<String, String> properties, Function<String, String> environment) {
        this.properties = properties;
        this.candidates = discover(providers);
        this.selection = select(properties.apply(PROPERTY), environment.apply(ENVIRONMENT));
        if (selection.backend() != null) {
            LOG.info("softmax-backward: using backend '{}' ({})", selection.backend().name(), selection.reason());
        } else {
            LOG.info("softmax-backward: no backend selected: {}", selection.failure().getMessage());
        }
    }

    static BackendRegistry fromServiceLoader() {
        List<ServiceLoader.Provider<SoftmaxBackwardBackend>> providers = new ArrayList<>();
        try {
            ServiceLoader.load(SoftmaxBackwardBackend.class).stream().forEach(providers::add);
        } catch (ServiceConfigurationError e) {
            // A broken META-INF/services entry: the rest of the backends are still usable.
            LOG.warn("softmax-backward: backend discovery stopped early: {}", BackendStatus.describe(e));
        }
        return new BackendRegistry(providers, System::getProperty, System::getenv);
    }

    /** Every discovered backend, highest priority first, each probed (once). */
    List<Entry> entries() {
        List<Entry> all = new ArrayList<>(candidates.size());
        for (Candidate c : candidates) {
            all.add(entry(c));
        }
        return List.copyOf(all);
    }

    Selection selection() {
        return selection;
    }

    /** The available backend with this name (case-insensitive); probes that one only. */
    SoftmaxBackwardBackend byName(String name) {
        String wanted = name.strip().toLowerCase(Locale.ROOT);
        for (Candidate c : candidates) {
            if (c.name().toLowerCase(Locale.ROOT).equals(wanted)) {
                Entry e = entry(c);
                if (e.status().available()) {
                    return e.backend();
                }
                throw new BackendUnavailableException("backend '" + c.name() + "' is unavailable: "
                        + e.status().reason(), e.status().cause().orElse(null));
            }
        }
        throw new BackendUnavailableException("no backend named '" + name + "'; found: " + describe());
    }

    private List<Candidate> discover(Iterable<ServiceLoader.Provider<SoftmaxBackwardBackend>> providers) {
        List<Candidate> found = new ArrayList<>();
        for (ServiceLoader.Provider<SoftmaxBackwardBackend> provider : providers) {
            Candidate c = identify(provider);
            if (found.stream().anyMatch(other -> other.name().equals(c.name()))) {
                LOG.warn("softmax-backward: a second backend named '{}' ({}) is ignored", c.name(), typeName(provider));
                continue;
            }
            found.add(c);
        }
        found.sort(Comparator.comparingInt(Candidate::priority).reversed().thenComparing(Candidate::name));
        return List.copyOf(found);
    }

    /**
     * The name and priority of one provider: from its descriptor without creating it, else by creating
     * it. Never throws; a provider that cannot say is a candidate whose entry is already its failure.
     */
    private Candidate identify(ServiceLoader.Provider<SoftmaxBackwardBackend> provider) {
        BackendDescriptor descriptor;
        try {
            descriptor = provider.type().getAnnotation(BackendDescriptor.class);
        } catch (Throwable t) { // LinkageError while reading the class
            return failed(provider, t);
        }
        if (descriptor != null) {
            return new Candidate(provider, descriptor.name(), descriptor.priority(), descriptor, null, new Once(null));
        }
        SoftmaxBackwardBackend backend;
        String name;
        int priority;
        try {
            backend = provider.get();
            name = backend.name();
            priority = backend.priority();
        } catch (Throwable t) { // ServiceConfigurationError, LinkageError from missing natives, ...
            return failed(provider, t);
        }
        return new Candidate(provider, name, priority, null, backend, new Once(null));
    }

    private Candidate failed(ServiceLoader.Provider<SoftmaxBackwardBackend> provider, Throwable t) {
        String name = simpleTypeName(provider);
        return new Candidate(provider, name, Integer.MIN_VALUE, null, null,
                new Once(new Entry(null, new BackendStatus(name, Integer.MIN_VALUE, false, t))));
    }

    /** Instantiates (if not yet) and probes one candidate; never throws, whatever the backend does. */
    private Entry probe(Candidate c) {
        String disabled = properties.apply(disabledProperty(c.name()));
        if (disabled != null && disabled.strip().equalsIgnoreCase("true")) {
            return unavailable(c, new BackendUnavailableException(
                    "disabled by system property " + disabledProperty(c.name()) + "=" + disabled.strip()));
        }
        SoftmaxBackwardBackend backend = c.created();
        try {
            if (backend == null) {
                backend = c.provider().get();
            }
            BackendDescriptor d = c.descriptor();
            if (d != null && !(d.name().equals(backend.name()) && d.priority() == backend.priority())) {
                return unavailable(c, new IllegalStateException("its @BackendDescriptor(name = \""
                        + d.name() + "\", priority = " + d.priority() + ") disagrees with name() \""
                        + backend.name() + "\", priority() " + backend.priority()));
            }
        } catch (Throwable t) {
            return unavailable(c, t);
        }
        try {
            if (backend.isAvailable()) {
                return new Entry(backend, new BackendStatus(c.name(), c.priority(), true, null));
            }
            return unavailable(c, backend.unavailabilityCause().orElse(null));
        } catch (Throwable t) {
            return unavailable(c, t);
        }
    }

    private static Entry unavailable(Candidate c, Throwable cause) {
        return new Entry(null, new BackendStatus(c.name(), c.priority(), false, cause));
    }

    private Selection select(String property, String environment) {
        String requested;
        String how;
        if (property != null && !property.isBlank()) {
            requested = property.strip();
            how = "system property " + PROPERTY + "=" + requested;
        } else if (environment != null && !environment.isBlank()) {
            requested = environment.strip();
            how = "environment variable " + ENVIRONMENT + "=" + requested;
        } else {
            for (Candidate c : candidates) {
                Entry e = entry(c);
                if (e.status().available()) {
                    return new Selection(e.backend(), null, "highest priority available (" + c.priority() + ")");
                }
            }
            return new Selection(null, new BackendUnavailableException(
                    "no softmax-backward backend is available; found: " + describe()), "none");
        }
        try {
            return new Selection(byName(requested), null, how);
        } catch (BackendUnavailableException e) {
            return new Selection(null, new BackendUnavailableException(how + ": " + e.getMessage(), e.getCause()),
                    how);
        }
    }

    /** "top (unavailable), mid (available), ...": for error messages only, so probing all is fine there. */
    private String describe() {
        if (candidates.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(e.status().name()).append(e.status().available() ? " (available)" : " (unavailable)");
        }
        return sb.toString();
    }

    private static String typeName(ServiceLoader.Provider<SoftmaxBackwardBackend> provider) {
        try {
            return provider.type().getName();
        } catch (Throwable t) {
            return "?";
        }
    }

    private static String simpleTypeName(ServiceLoader.Provider<SoftmaxBackwardBackend> provider) {
        try {
            return provider.type().getSimpleName();
        } catch (Throwable t) {
            return "?";
        }
    }
}
