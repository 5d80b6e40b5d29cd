package dev.parley.server.http;

import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.http.javadsl.model.AttributeKeys;
import akka.http.javadsl.model.RemoteAddress;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.stream.javadsl.Flow;
import dev.parley.server.tcp.Listener;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code /ws}: the protocol over WebSocket, one JSON frame per text message. Each connection is
 * handed to the {@link Listener} when Akka HTTP runs its flow, which admits it as it admits a TCP
 * connection (the same limits, counted and drained with the TCP sessions) and spawns its session.
 */
public final class WebSocketRoute extends AllDirectives {

  private final CompletionStage<ActorRef<Listener.Command>> listener;

  public WebSocketRoute(CompletionStage<ActorRef<Listener.Command>> listener) {
    this.listener = listener;
  }

  public Route route() {
    return path(
        "ws",
        () ->
            extractRequest(
                request ->
                    handleWebSocketMessages(
                        connection(
                            request
                                .getAttribute(AttributeKeys.remoteAddress)
                                .map(WebSocketRoute::socketAddress)
                                .orElseGet(WebSocketRoute::unknown)))));
  }

  /** Asks the listener for the connection's flow once Akka HTTP runs it (after the upgrade). */
  private Flow<Message, Message, NotUsed> connection(InetSocketAddress remote) {
    return Flow.<Message, Message, CompletionStage<NotUsed>>fromMaterializer(
            (materializer, attributes) -> {
              CompletableFuture<Flow<Message, Message, NotUsed>> handler =
                  new CompletableFuture<>();
              listener.thenAccept(ref -> ref.tell(new Listener.AttachWebSocket(remote, handler)));
              return Flow.completionStageFlow(handler);
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
