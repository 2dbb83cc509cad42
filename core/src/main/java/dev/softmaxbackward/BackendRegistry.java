package dev.softmaxbackward;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the backends once, probes each once, and applies the selection rule. A backend whose
 * probe fails, or whose class cannot even be loaded, is kept with its reason rather than thrown.
 */
final class BackendRegistry {
    static final String PROPERTY = "softmaxbackward.backend";
    static final String ENVIRONMENT = "SOFTMAX_BACKWARD_BACKEND";

    private static final Logger LOG = LoggerFactory.getLogger(SoftmaxBackward.class);

    /** A discovered backend (or the provider that failed to instantiate) and its probe result. */
    record Entry(SoftmaxBackwardBackend backend, BackendStatus status) {}

    /** The outcome of selection: the backend, or why none could be chosen; and how it was chosen. */
    record Selection(SoftmaxBackwardBackend backend, RuntimeException failure, String reason) {}

    private final List<Entry> entries;
    private final Selection selection;

    BackendRegistry(Iterable<ServiceLoader.Provider<SoftmaxBackwardBackend>> providers,
                    Function<String, String> properties, Function<String, String> environment) {
        this.entries = discover(providers);
        this.selection = select(entries, properties.apply(PROPERTY), environment.apply(ENVIRONMENT));
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

    List<Entry> entries() {
        return entries;
    }

    Selection selection() {
        return selection;
    }

    private static List<Entry> discover(Iterable<ServiceLoader.Provider<SoftmaxBackwardBackend>> providers) {
        List<Entry> found = new ArrayList<>();
        for (ServiceLoader.Provider<SoftmaxBackwardBackend> provider : providers) {
            Entry entry = probe(provider);
            if (found.stream().anyMatch(e -> e.status().name().equals(entry.status().name()))) {
                LOG.warn("softmax-backward: a second backend named '{}' ({}) is ignored",
                        entry.status().name(), provider.type().getName());
                continue;
            }
            found.add(entry);
            if (!entry.status().available()) {
                LOG.info("softmax-backward: backend '{}' is unavailable: {}",
                        entry.status().name(), entry.status().reason());
            }
        }
        found.sort(Comparator.comparingInt((Entry e) -> e.status().priority()).reversed()
                .thenComparing(e -> e.status().name()));
        return List.copyOf(found);
    }

    /** Instantiates and probes one provider; never throws, whatever the backend does. */
    private static Entry probe(ServiceLoader.Provider<SoftmaxBackwardBackend> provider) {
        SoftmaxBackwardBackend backend;
        try {
            backend = provider.get();
        } catch (Throwable t) { // ServiceConfigurationError, LinkageError from missing natives, ...
            String name = provider.type().getSimpleName();
            return new Entry(null, new BackendStatus(name, Integer.MIN_VALUE, false, t));
        }
        String name;
        int priority;
        try {
            name = backend.name();
            priority = backend.priority();
        } catch (Throwable t) {
            return new Entry(null, new BackendStatus(provider.type().getSimpleName(), Integer.MIN_VALUE, false, t));
        }
        boolean available;
        Optional<Throwable> cause;
        try {
            available = backend.isAvailable();
            cause = available ? Optional.empty() : backend.unavailabilityCause();
        } catch (Throwable t) {
            available = false;
            cause = Optional.of(t);
        }
        return new Entry(available ? backend : null, new BackendStatus(name, priority, available, cause.orElse(null)));
    }

    private static Selection select(List<Entry> entries, String property, String environment) {
        String requested;
        String how;
        if (property != null && !property.isBlank()) {
            requested = property.strip();
            how = "system property " + PROPERTY + "=" + requested;
        } else if (environment != null && !environment.isBlank()) {
            requested = environment.strip();
            how = "environment variable " + ENVIRONMENT + "=" + requested;
        } else {
            for (Entry e : entries) {
                if (e.status().available()) {
                    return new Selection(e.backend(), null,
                            "highest priority available (" + e.status().priority() + ")");
                }
            }
            return new Selection(null, new BackendUnavailableException(
                    "no softmax-backward backend is available; found: " + describe(entries)), "none");
        }
        try {
            return new Selection(byName(entries, requested), null, how);
        } catch (BackendUnavailableException e) {
            return new Selection(null, new BackendUnavailableException(how + ": " + e.getMessage(), e.getCause()),
                    how);
        }
    }

    static SoftmaxBackwardBackend byName(List<Entry> entries, String name) {
        String wanted = name.strip().toLowerCase(Locale.ROOT);
        for (Entry e : entries) {
            if (e.status().name().toLowerCase(Locale.ROOT).equals(wanted)) {
                if (e.status().available()) {
                    return e.backend();
                }
                throw new BackendUnavailableException("backend '" + e.status().name() + "' is unavailable: "
                        + e.status().reason(), e.status().cause().orElse(null));
            }
        }
        throw new BackendUnavailableException("no backend named '" + name + "'; found: " + describe(entries));
    }

    private static String describe(List<Entry> entries) {
        if (entries.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        for (Entry e : entries) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(e.status().name()).append(e.status().available() ? " (available)" : " (unavailable)");
        }
        return sb.toString();
    }
}
