package dev.parley.client;

import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.client.server.ServerAddress;
import dev.parley.client.tls.LazySecurity;
import dev.parley.client.tls.Security;
import dev.parley.client.tls.TlsSettings;
import dev.parley.transport.TlsIdentity;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jline.terminal.Terminal;

/**
 * A running client: its own actor system talking to a server (one of those it was given) through
 * one terminal. {@link Main} runs one on the process's terminal; tests run several in one JVM over
 * piped dumb terminals.
 */
public final class ParleyClient {

  private static final String SYSTEM_NAME = "parley-client";

  private final ActorSystem<Guardian.Command> system;
  private final LazySecurity security;
  private final CompletableFuture<Integer> status;
  private final CompletionStage<Integer> exitStatus;

  private ParleyClient(
      ActorSystem<Guardian.Command> system,
      LazySecurity security,
      CompletableFuture<Integer> status) {
    this.system = system;
    this.security = security;
    this.status = status;
    this.exitStatus =
        system.getWhenTerminated().thenApply(terminated -> status.getNow(unfinishedStatus()));
  }

  /** Starts a client with its own ActorSystem talking to host:port through the given terminal. */
  public static ParleyClient start(
      ClientSettings settings, String host, int port, Terminal terminal) {
    return start(ConfigFactory.load(), settings, host, port, terminal);
  }

  /**
   * Like {@link #start(ClientSettings, String, int, Terminal)}, with the configuration the actor
   * system is created from (for settings outside {@code parley.client}, such as Akka's own, and
   * {@code parley.client.tls}). The client makes its identity (a key pair and a certificate) when
   * its session first needs it (see {@link LazySecurity}); if that fails, the client ends with
   * {@link ExitStatus#INTERNAL_ERROR}.
   *
   * @throws IllegalArgumentException if the TLS settings are not usable (a malformed fingerprint)
   */
  public static ParleyClient start(
      Config config, ClientSettings settings, String host, int port, Terminal terminal) {
    return start(config, settings, List.of(new ServerAddress(host, port)), terminal);
  }

  /**
   * Like {@link #start(Config, ClientSettings, String, int, Terminal)}, with several servers: the
   * client connects to the first that answers, in order, and reconnects to the next one each time
   * (see {@code ServerConnection}).
   */
  public static ParleyClient start(
      Config config, ClientSettings settings, List<ServerAddress> servers, Terminal terminal) {
    LazySecurity security = LazySecurity.of(TlsSettings.fromConfig(config));
    CompletableFuture<Integer> status = new CompletableFuture<>();
    ActorSystem<Guardian.Command> system =
        ActorSystem.create(
            Guardian.create(settings, security, servers, terminal, status), SYSTEM_NAME, config);
    return new ParleyClient(system, security, status);
  }

  /**
   * The client's identity: its certificate (presented to the server, and fingerprinted at login)
   * and private key. Completes once the session has made it: before connecting over TLS, by the
   * password frame over plain TCP.
   */
  public CompletionStage<TlsIdentity> identity() {
    return security.whenMade().thenApply(Security::identity);
  }

  /** Completes with the exit status once the client has finished and its ActorSystem terminated. */
  public CompletionStage<Integer> exitStatus() {
    return exitStatus;
  }

  /**
   * The status when the system ended before the session could finish: a signal to the JVM (its
   * shutdown hook stops the system) ends the client as {@link #kill()} does; anything else was a
   * failure.
   */
  private int unfinishedStatus() {
    boolean jvmExiting =
        CoordinatedShutdown.get(system)
            .getShutdownReason()
            .map(CoordinatedShutdown.jvmExitReason()::equals)
            .orElse(false);
    return jvmExiting ? ExitStatus.KILLED : ExitStatus.INTERNAL_ERROR;
  }

  /** Simulates a crash: terminates the ActorSystem at once, sending no goodbye/bye frames. */
  public void kill() {
    status.complete(ExitStatus.KILLED);
    system.terminate();
  }
}
