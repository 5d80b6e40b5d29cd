package dev.parley.client.chat;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import dev.parley.client.ClientSettings;
import dev.parley.client.net.Failures;
import dev.parley.client.net.StreamAck;
import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * This client's own listener for private chats. Told where to {@link Listen}, it binds (configured
 * port, 0 by default), answers {@link Listening} with the bound address (whose port goes into the
 * login's password frame) or {@link ListenFailed}, and then hands every accepted TCP connection to
 * {@link PrivateChats} as {@link PrivateChats.AcceptConnection}, one at a time. It unbinds when it
 * stops.
 *
 * <p>The port speaks only TLS, presenting the client's own certificate, but the handshake is not
 * made here: the {@link PrivateChat} that takes the connection runs it, so that its handshake
 * timeout bounds it and a failure is logged with the peer's address, and a connection refused
 * outright (before login, after logout) is closed without one.
 */
public final class PeerListener extends AbstractBehavior<PeerListener.Command> {

  /** Connections queued before they are accepted: Akka's own default for a binding. */
  private static final int ACCEPT_BACKLOG = 100;

  /** Everything the listener does. */
  public sealed interface Command {}

  /** Bind on {@code host}; answers {@link ListenResult}. */
  public record Listen(String host, ActorRef<ListenResult> replyTo) implements Command {}

  /** The answer to {@link Listen}. */
  public sealed interface ListenResult {}

  /** Accepting private chats on {@code address}. */
  public record Listening(InetSocketAddress address) implements ListenResult {}

  /** The bind failed; {@code reason} says why. */
  public record ListenFailed(String host, String reason) implements ListenResult {}

  private record BindCompleted(Tcp.ServerBinding binding, Throwable failure, Listen request)
      implements Command {}

  private record AcceptingStarted(ActorRef<StreamAck> ackTo) implements Command {}

  private record ConnectionArrived(ActorRef<StreamAck> ackTo, Tcp.IncomingConnection connection)
      implements Command {}

  private enum AcceptingEnded implements Command {
    INSTANCE
  }

  private record AcceptingFailed(Throwable cause) implements Command {}

  public static Behavior<Command> create(
      ClientSettings settings, ActorRef<PrivateChats.AcceptConnection> chats) {
    return Behaviors.setup(context -> new PeerListener(context, settings, chats));
  }

  private final ClientSettings settings;
  private final ActorRef<PrivateChats.AcceptConnection> chats;
  private Tcp.ServerBinding binding;

  private PeerListener(
      ActorContext<Command> context,
      ClientSettings settings,
      ActorRef<PrivateChats.AcceptConnection> chats) {
    super(context);
    this.settings = settings;
    this.chats = chats;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Listen.class, this::onListen)
        .onMessage(BindCompleted.class, this::onBindCompleted)
        .onMessage(AcceptingStarted.class, this::onAcceptingStarted)
        .onMessage(ConnectionArrived.class, this::onConnectionArrived)
        .onMessageEquals(AcceptingEnded.INSTANCE, this::onAcceptingEnded)
        .onMessage(AcceptingFailed.class, this::onAcceptingFailed)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onListen(Listen listen) {
    if (binding != null) {
      listen.replyTo().tell(new Listening(binding.localAddress()));
      return this;
    }
    CompletionStage<Tcp.ServerBinding> bound =
        Tcp.get(getContext().getSystem())
            // Half-close, as on the side that connects (PrivateChat): the last bytes written are
            // followed by reading until the peer closes, not by a reset that could destroy them.
            .bind(
                listen.host(),
                settings.peerPort(),
                ACCEPT_BACKLOG,
                Collections.emptyList(),
                true,
                Optional.empty())
            .to(
                ActorSink.actorRefWithBackpressure(
                    getContext().getSelf(),
                    ConnectionArrived::new,
                    AcceptingStarted::new,
                    StreamAck.INSTANCE,
                    AcceptingEnded.INSTANCE,
                    AcceptingFailed::new))
            .run(getContext().getSystem());
    getContext()
        .pipeToSelf(bound, (binding, failure) -> new BindCompleted(binding, failure, listen));
    return this;
  }

  private Behavior<Command> onBindCompleted(BindCompleted completed) {
    Listen request = completed.request();
    if (completed.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "Cannot listen for private chats on {}: {}",
              request.host(),
              completed.failure().toString());
      request
          .replyTo()
          .tell(new ListenFailed(request.host(), Failures.describe(completed.failure())));
      return this;
    }
    binding = completed.binding();
    getContext().getLog().info("Listening for private chats on {}", binding.localAddress());
    request.replyTo().tell(new Listening(binding.localAddress()));
    return this;
  }

  private Behavior<Command> onAcceptingStarted(AcceptingStarted started) {
    started.ackTo().tell(StreamAck.INSTANCE);
    return this;
  }

  private Behavior<Command> onConnectionArrived(ConnectionArrived arrived) {
    getContext()
        .getLog()
        .debug("Private chat connection from {}", arrived.connection().remoteAddress());
    chats.tell(new PrivateChats.AcceptConnection(arrived.connection()));
    arrived.ackTo().tell(StreamAck.INSTANCE);
    return this;
  }

  private Behavior<Command> onAcceptingEnded() {
    getContext().getLog().debug("No longer accepting private chats");
    return this;
  }

  private Behavior<Command> onAcceptingFailed(AcceptingFailed failed) {
    // A failed bind also ends up here; onBindCompleted reports that one.
    getContext().getLog().debug("Accepting private chats failed: {}", failed.cause().toString());
    return this;
  }

  private Behavior<Command> onPostStop() {
    if (binding != null) {
      binding.unbind();
    }
    return this;
  }
}
