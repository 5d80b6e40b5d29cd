package dev.parley.server.http;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import akka.actor.typed.ActorSystem;
import akka.http.javadsl.ConnectionContext;
import akka.http.javadsl.Http;
import akka.http.javadsl.server.Route;
import dev.parley.transport.ServerTls;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP port: binds {@code route} with Akka HTTP, in HTTPS with the clients' certificate
 * when TLS is on (the same engines as the clients' port, from {@link ServerTls}), and unbinds it in
 * the coordinated shutdown. Binding is asynchronous: nothing here blocks a thread.
 */
public final class HttpEndpoint {

  private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);

  private HttpEndpoint() {}

  /** Completes with the bound address, or fails when the port cannot be bound. */
  public static CompletionStage<InetSocketAddress> start(
      ActorSystem<?> system, HttpSettings settings, Optional<ServerTls> tls, Route route) {
    int port = settings.port().orElseThrow();
    var builder = Http.get(system).newServerAt(settings.host(), port);
    if (tls.isPresent()) {
      ServerTls serverTls = tls.get();
      builder =
          builder.enableHttps(
              ConnectionContext.httpsServer(serverTls::newEngineAskingNoCertificate));
    }
    return builder
        .bind(route)
        .thenApply(
            binding -> {
              CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
              // With the clients' port: no new requests once the node is stopping...
              shutdown.addTask(
                  CoordinatedShutdown.PhaseServiceUnbind(),
                  "http-unbind",
                  () -> binding.unbind().thenApply(done -> Done.getInstance()));
              // ...and those under way get a moment to finish, once the listener has drained the
              // sessions (service-requests-done), those on /ws with the others: terminating
              // earlier could cut a WebSocket before its session's goodbye is out.
              shutdown.addTask(
                  CoordinatedShutdown.PhaseServiceStop(),
                  "http-terminate",
                  () ->
                      binding
                          .terminate(settings.stopTimeout())
                          .thenApply(terminated -> Done.getInstance()));
              InetSocketAddress address = binding.localAddress();
              // Not "listening on", which names the clients' port for whoever reads the log.
              LOG.info(
                  "Parley HTTP endpoint on {}://{}:{}/ (web client, /ws, health, metrics)",
                  tls.isPresent() ? "https" : "http",
                  address.getHostString(),
                  address.getPort());
              return address;
            });
  }
}
