package dev.parley.server.http;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.http.javadsl.model.AttributeKeys;
import akka.http.javadsl.model.HttpHeader;
import akka.http.javadsl.model.HttpRequest;
import akka.http.javadsl.model.RemoteAddress;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.Uri;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.stream.javadsl.Flow;
import dev.parley.server.tcp.Listener;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /ws}: the protocol over WebSocket, one JSON frame per text message. Each connection is
 * handed to the {@link Listener} when Akka HTTP runs its flow, which admits it as it admits a TCP
 * connection (the same limits, counted and drained with the TCP sessions) and spawns its session.
 * Pages of other sites are refused ({@link OriginPolicy}).
 */
public final class WebSocketRoute extends AllDirectives {

  private static final Logger LOG = LoggerFactory.getLogger(WebSocketRoute.class);

  private final CompletionStage<ActorRef<Listener.Command>> listener;
  private final OriginPolicy origins;
  private final Duration attachTimeout;

  public WebSocketRoute(
      CompletionStage<ActorRef<Listener.Command>> listener, HttpSettings settings) {
    this.listener = listener;
    this.origins = new OriginPolicy(settings.allowedOrigins());
    this.attachTimeout = settings.attachTimeout();
  }

  public Route route() {
    return path(
        "ws",
        () ->
            extractRequest(
                request -> {
                  Optional<String> origin = request.getHeader("Origin").map(HttpHeader::value);
                  String own = requestOrigin(request);
                  if (!origins.allows(origin, own)) {
                    LOG.warn(
                        "websocket refused: origin {} is neither this node's ({}) nor in"
                            + " http.allowed-origins",
                        origin.orElse(""),
                        own);
                    return complete(StatusCodes.FORBIDDEN, "origin not allowed\n");
                  }
                  return handleWebSocketMessages(
                      connection(
                          request
                              .getAttribute(AttributeKeys.remoteAddress)
                              .map(WebSocketRoute::socketAddress)
                              .orElseGet(WebSocketRoute::unknown)));
                }));
  }

  /** The scheme, host and port the request was made to: the node's own origin, for a browser. */
  private static String requestOrigin(HttpRequest request) {
    Uri uri = request.getUri();
    String scheme = uri.scheme();
    int port = uri.port();
    return scheme + "://" + uri.host().address() + (port > 0 ? ":" + port : "");
  }

  /**
   * Asks the listener for the connection's flow once Akka HTTP runs it (after the upgrade). A
   * listener that does not answer in time (the node is stopping) fails the flow, which closes the
   * connection rather than leaving it open with nobody behind it.
   */
  private Flow<Message, Message, NotUsed> connection(InetSocketAddress remote) {
    return Flow.<Message, Message, CompletionStage<NotUsed>>fromMaterializer(
            (materializer, attributes) -> {
              CompletableFuture<Flow<Message, Message, NotUsed>> handler =
                  new CompletableFuture<>();
              listener.thenAccept(ref -> ref.tell(new Listener.AttachWebSocket(remote, handler)));
              return Flow.completionStageFlow(
                  handler.orTimeout(attachTimeout.toMillis(), TimeUnit.MILLISECONDS));
            })
        .mapMaterializedValue(ignored -> NotUsed.getInstance());
  }

  private static InetSocketAddress socketAddress(RemoteAddress address) {
    return address
        .getAddress()
        .map(inet -> new InetSocketAddress(inet, address.getPort()))
        .orElseGet(WebSocketRoute::unknown);
  }

  /** Without the remote-address attribute; never expected with the server's configuration. */
  private static InetSocketAddress unknown() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  }
}
