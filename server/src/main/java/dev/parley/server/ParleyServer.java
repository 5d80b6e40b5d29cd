package dev.parley.server;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.server.Directives;
import akka.http.javadsl.server.Route;
import com.typesafe.config.Config;
import dev.parley.server.cluster.ClusterSettings;
import dev.parley.server.http.HttpEndpoint;
import dev.parley.server.http.HttpSettings;
import dev.parley.server.http.OpsRoutes;
import dev.parley.server.http.WebClientRoute;
import dev.parley.server.http.WebSocketRoute;
import dev.parley.server.metrics.Metrics;
import dev.parley.server.store.StoreCalls;
import dev.parley.server.tcp.Listener;
import dev.parley.server.tls.ServerCertificate;
import dev.parley.server.tls.TlsSettings;
import dev.parley.transport.Fingerprint;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsMaterialException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Parley server node: its actor system, and when it is listening and when it has ended.
 */
public final class ParleyServer {

  /** The actor system's name, which appears in logs and actor paths. */
  public static final String SYSTEM_NAME = "parley-server";

  private static final Logger LOG = LoggerFactory.getLogger(ParleyServer.class);

  private final ActorSystem<Void> system;
  private final CompletableFuture<InetSocketAddress> bound;
  private final CompletableFuture<InetSocketAddress> httpBound;
  private final Optional<ServerTls> tls;

  private ParleyServer(
      ActorSystem<Void> system,
      CompletableFuture<InetSocketAddress> bound,
      CompletableFuture<InetSocketAddress> httpBound,
      Optional<ServerTls> tls) {
    this.system = system;
    this.bound = bound;
    this.httpBound = httpBound;
    this.tls = tls;
  }

  /**
   * Starts a server node, with TLS as the configuration says ({@code parley.server.tls}; a
   * generated certificate goes in the store's data directory).
   *
   * @param config the full configuration (Akka's and {@code parley.server}); settings are read from
   *     it by the caller so that command-line overrides apply to both. With {@code
   *     parley.server.cluster.enabled} the node joins a cluster (see {@link ClusterSettings})
   * @param storage the open store and the state read from it; the caller closes the store once the
   *     node has {@link #terminated()}
   * @param clock the clock of login and logout times (tests pass a controllable one)
   */
  public static ParleyServer start(
      Config config, ServerSettings settings, Guardian.Storage storage, Clock clock) {
    Optional<ServerTls> tls;
    try {
      tls =
          ServerCertificate.load(TlsSettings.fromConfig(config), storage.settings().dataDir(), LOG);
    } catch (TlsMaterialException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
    return start(config, settings, storage, clock, tls);
  }

  /**
   * Starts a server node whose connections use {@code tls}, as {@link ServerCertificate#load} found
   * it; plain TCP when it is empty.
   */
  public static ParleyServer start(
      Config config,
      ServerSettings settings,
      Guardian.Storage storage,
      Clock clock,
      Optional<ServerTls> tls) {
    CompletableFuture<InetSocketAddress> bound = new CompletableFuture<>();
    CompletableFuture<Executor> readPool = new CompletableFuture<>();
    HttpSettings http = HttpSettings.fromConfig(config);
    ClusterSettings cluster = ClusterSettings.fromConfig(config);
    // A cluster member gets Akka's cluster settings over the file configuration; a standalone
    // node keeps the local actor provider and opens no port but the clients'.
    Config systemConfig =
        cluster.enabled() ? cluster.akkaConfig(SYSTEM_NAME).withFallback(config) : config;
    CompletableFuture<ActorRef<Listener.Command>> listener = new CompletableFuture<>();
    ActorSystem<Void> system =
        ActorSystem.create(
            Guardian.create(settings, cluster, storage, clock, tls, bound, readPool, listener),
            SYSTEM_NAME,
            systemConfig);
    // Made now, before any request can ask for it; the actors find the same one.
    Metrics metrics = Metrics.get(system);
    CompletableFuture<InetSocketAddress> httpBound = new CompletableFuture<>();
    if (http.port().isPresent()) {
      Route route =
          Directives.concat(
              new OpsRoutes(readiness(system, bound, storage, readPool, http), metrics).route(),
              new WebSocketRoute(listener, http).route(),
              new WebClientRoute().route());
      HttpEndpoint.start(system, http, tls, route)
          .whenComplete(
              (address, failure) -> {
                if (failure != null) {
                  httpBound.completeExceptionally(failure);
                } else {
                  httpBound.complete(address);
                }
              });
    }
    // If the node stops before it ever listened, say so to whoever waits for the address.
    system
        .getWhenTerminated()
        .thenRun(() -> bound.completeExceptionally(new IllegalStateException("server stopped")));
    system
        .getWhenTerminated()
        .thenRun(
            () -> httpBound.completeExceptionally(new IllegalStateException("server stopped")));
    return new ParleyServer(system, bound, httpBound, tls);
  }

  /**
   * Ready: the clients' port is bound, the node is not stopping, and the store answers a cheap
   * query on its read pool (never on an actor's or Akka HTTP's threads) within the timeout.
   */
  private static OpsRoutes.Checks readiness(
      ActorSystem<?> system,
      CompletableFuture<InetSocketAddress> bound,
      Guardian.Storage storage,
      CompletableFuture<Executor> readPool,
      HttpSettings http) {
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    return new OpsRoutes.Checks() {
      @Override
      public boolean listening() {
        return bound.isDone()
            && !bound.isCompletedExceptionally()
            && shutdown.getShutdownReason().isEmpty();
      }

      @Override
      public CompletionStage<Boolean> storeReachable() {
        return readPool
            .thenCompose(reads -> StoreCalls.supply(storage.store()::lastAccountEventId, reads))
            .toCompletableFuture()
            // The query itself carries on if the database hangs; the read pool's bounded queue
            // keeps probes that pile up from growing without end (then: refused, not ready).
            .orTimeout(http.readinessTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .thenApply(id -> true);
      }
    };
  }

  /** The fingerprint of the certificate clients see; empty when TLS is off. */
  public Optional<Fingerprint> tlsFingerprint() {
    return tls.map(ServerTls::fingerprint);
  }

  /** Completes with the address the server listens on, or fails if it could not bind. */
  public CompletionStage<InetSocketAddress> bound() {
    return bound;
  }

  /**
   * Completes with the address of the HTTP port (health, metrics), or fails if it could not be
   * bound; when the node has none ({@code parley.server.http.port} unset), fails once the node has
   * stopped.
   */
  public CompletionStage<InetSocketAddress> httpBound() {
    return httpBound;
  }

  /** The node's meters. */
  public Metrics metrics() {
    return Metrics.get(system);
  }

  /** Stops the node as SIGTERM would: sessions are told goodbye, then the system terminates. */
  public CompletionStage<Done> stop() {
    return CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.unknownReason());
  }

  /** Completes when the node has stopped. */
  public CompletionStage<Done> terminated() {
    return system.getWhenTerminated();
  }

  /** The node's actor system, for tests that need to look inside. */
  public ActorSystem<Void> system() {
    return system;
  }
}
