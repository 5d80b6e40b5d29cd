package dev.parley.server.metrics;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Extension;
import akka.actor.typed.ExtensionId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's meters, in one Prometheus registry per actor system: an Akka extension, so that it is
 * made once per node when first asked for (at start, by {@code ParleyServer}) and every actor of
 * that node finds the same one, while two nodes in one JVM (tests) never share counts. Actors look
 * it up once, when they start, and keep references to the meters they record to: recording is then
 * an increment, with no lookup and no allocation per message.
 *
 * <p>Micrometer's meters are thread-safe (counters are {@code DoubleAdder}s, gauges read atomics),
 * so actors record from their own threads and the HTTP endpoint scrapes from its own.
 *
 * <p>Names are Micrometer's dotted ones; the Prometheus registry writes them as {@code parley_...}
 * with the unit and {@code _total} suffixes (see docs/operations.md).
 */
public final class Metrics implements Extension {

  private static final ExtensionId<Metrics> ID =
      new ExtensionId<>() {
        @Override
        public Metrics createExtension(ActorSystem<?> system) {
          Metrics metrics = new Metrics();
          // The GC binder listens to the JVM's notifications: stop listening with the node.
          system.getWhenTerminated().thenRun(metrics::close);
          return metrics;
        }
      };

  /** The metrics of {@code system}'s node, made on first use. */
  public static Metrics get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gc;

  public final Counter loginsSucceeded;
  public final Counter loginsFailed;
  public final Counter lockouts;
  public final Counter messagesAccepted;
  public final Counter messagesDelivered;
  public final Counter acknowledgements;
  public final Counter storeOutages;
  public final Counter tlsHandshakesSucceeded;
  public final Counter tlsHandshakesFailed;
  public final DistributionSummary journalBatchSize;
  public final Timer journalCommit;

  /** Messages waiting in the mailboxes (stored, not acknowledged): a sample the registry takes. */
  public final AtomicLong mailboxMessages = new AtomicLong();

  /** Their text's bytes, as encoded on the wire. */
  public final AtomicLong mailboxBytes = new AtomicLong();

  /** The phases of a session, as {@code parley_sessions{phase=...}} counts them. */
  public enum SessionPhase {
    /** Connected; the protocol's hello not yet exchanged. */
    HANDSHAKE,
    /** Logging in or resuming. */
    LOGIN,
    /** Logged in. */
    ACTIVE,
    /** Logging out or saying goodbye. */
    CLOSING
  }

  /** How a session's client is connected, as {@code parley_sessions{transport=...}} tells. */
  public enum Transport {
    /** The clients' port: newline-framed JSON over TCP (in TLS unless the node is plaintext). */
    TCP,
    /** The HTTP port's {@code /ws}: one frame per WebSocket text message (the web client). */
    WEBSOCKET
  }

  /** Sessions in each phase over each transport, by the two ordinals. */
  private final AtomicInteger[][] sessionsByPhase =
      new AtomicInteger[Transport.values().length][SessionPhase.values().length];

  /**
   * One session's place in {@code parley_sessions}: the session moves it from phase to phase (a
   * handful of times in its life, never per message), and whoever sees it stop ends it, so that a
   * session that stops for whatever reason (a failure too) leaves the gauge.
   */
  public final class SessionTracker {
    private final AtomicInteger[] byPhase;
    // Written by the session, ended by the listener once the session has stopped.
    private volatile SessionPhase phase;

    private SessionTracker(Transport transport) {
      byPhase = sessionsByPhase[transport.ordinal()];
      enter(SessionPhase.HANDSHAKE);
    }

    public void enter(SessionPhase next) {
      SessionPhase current = phase;
      if (current == next) {
        return;
      }
      if (current != null) {
        byPhase[current.ordinal()].decrementAndGet();
      }
      phase = next;
      byPhase[next.ordinal()].incrementAndGet();
    }

    public void end() {
      SessionPhase current = phase;
      if (current != null) {
        byPhase[current.ordinal()].decrementAndGet();
        phase = null;
      }
    }
  }

  /** Counts a new session over {@code transport}, in its handshake. */
  public SessionTracker newSession(Transport transport) {
    return new SessionTracker(transport);
  }

  public Metrics() {
    this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  private Metrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    loginsSucceeded =
        Counter.builder("parley.logins")
            .tag("outcome", "succeeded")
            .description("Password logins accepted")
            .register(registry);
    loginsFailed =
        Counter.builder("parley.logins")
            .tag("outcome", "failed")
            .description("Password logins refused for a wrong password (lockouts included)")
            .register(registry);
    lockouts =
        Counter.builder("parley.lockouts")
            .description("Usernames blocked after too many wrong passwords")
            .register(registry);
    messagesAccepted =
        Counter.builder("parley.messages.accepted")
            .description("Messages stored and answered as accepted to their sender")
            .register(registry);
    messagesDelivered =
        Counter.builder("parley.messages.delivered")
            .description("Messages handed to a recipient's connection (again after a reconnection)")
            .register(registry);
    acknowledgements =
        Counter.builder("parley.messages.acknowledged")
            .description(
                "Acknowledgements stored; each covers every message of its user up to its number")
            .register(registry);
    storeOutages =
        Counter.builder("parley.store.outages")
            .description("Journal writes that found the database out of reach")
            .register(registry);
    tlsHandshakesSucceeded =
        Counter.builder("parley.tls.handshakes")
            .tag("outcome", "succeeded")
            .description("Client connections whose TLS handshake completed")
            .register(registry);
    tlsHandshakesFailed =
        Counter.builder("parley.tls.handshakes")
            .tag("outcome", "failed")
            .description(
                "Client connections whose TLS failed: in the handshake, or rarely a record after"
                    + " it")
            .register(registry);
    journalBatchSize =
        DistributionSummary.builder("parley.journal.batch.size")
            .baseUnit("changes")
            .description("Changes written per journal transaction")
            .publishPercentileHistogram()
            .register(registry);
    journalCommit =
        Timer.builder("parley.journal.commit")
            .description("Time to write and commit one journal batch")
            .publishPercentileHistogram()
            .register(registry);
    Gauge.builder("parley.mailbox.messages", mailboxMessages, AtomicLong::get)
        .description("Messages stored and not yet acknowledged, across every user's mailbox")
        .register(registry);
    Gauge.builder("parley.mailbox", mailboxBytes, AtomicLong::get)
        .baseUnit("bytes")
        .description("The text of those messages, as encoded on the wire")
        .register(registry);
    for (Transport transport : Transport.values()) {
      for (SessionPhase phase : SessionPhase.values()) {
        AtomicInteger count = new AtomicInteger();
        sessionsByPhase[transport.ordinal()][phase.ordinal()] = count;
        Gauge.builder("parley.sessions", count, AtomicInteger::get)
            .tag("phase", phase.name().toLowerCase(Locale.ROOT))
            .tag("transport", transport.name().toLowerCase(Locale.ROOT))
            .description("Client connections with a session, by the session's phase and transport")
            .register(registry);
      }
    }
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gc = new JvmGcMetrics();
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
  }

  /** Records one journal batch of {@code changes} that took {@code nanos} to commit. */
  public void journalBatch(int changes, long nanos) {
    journalBatchSize.record(changes);
    journalCommit.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** Every meter in the Prometheus text format (version 0.0.4). */
  public String scrape() {
    return registry.scrape();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  private void close() {
    gc.close();
    registry.close();
  }
}
