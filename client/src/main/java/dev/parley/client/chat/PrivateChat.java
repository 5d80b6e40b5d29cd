package dev.parley.client.chat;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.japi.Pair;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import akka.util.ByteString;
import dev.parley.client.ClientSettings;
import dev.parley.client.console.Console;
import dev.parley.client.net.Connections;
import dev.parley.client.net.StreamAck;
import dev.parley.client.text.Texts;
import dev.parley.client.tls.Security;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage;
import dev.parley.protocol.PeerMessage.Ack;
import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.PeerMessage.Hello;
import dev.parley.protocol.PeerMessage.Text;
import dev.parley.protocol.Protocol;
import dev.parley.transport.Fingerprint;
import dev.parley.transport.ReportingEngine;
import dev.parley.transport.ServerVerifier;
import dev.parley.transport.UntrustedServerException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One private chat: a direct TLS connection to one peer, either opened by this client after {@code
 * startprivate} ({@link #connect}) or accepted by the {@link PeerListener} ({@link #accept}).
 *
 * <p>TLS: both sides present the certificate of their client's {@link Security#identity()}. The
 * connecting side accepts only the certificate whose fingerprint the server gave with the peer's
 * address ({@link Contact#fingerprint()}), whatever the address (an IP address names no one): any
 * other ends the handshake before anything is sent, and the user is told that the peer is not who
 * it should be. The accepting side is the TLS server on the accepted TCP connection; whatever is
 * not a TLS handshake (a plain-text hello, random bytes) or does not finish one within the
 * handshake timeout is closed without a line for the user, one line in the log saying why. What
 * follows the handshake is the peer protocol, unchanged.
 *
 * <p>Peer protocol: the connecting side sends {@link Hello} with its user name and the one-time
 * token the server gave it for this chat (none from a server older than protocol 3); the accepting
 * side reports both to its parent ({@link Identified}), which answers {@link Accept} (the accepting
 * side then answers with its own {@link Hello}), {@link Reject} when a chat with that user exists
 * ({@link Bye} with {@code ALREADY_CHATTING}), or {@link Drop} when the token is not one this
 * client was invited with (the connection is closed without a word). A connection that has not been
 * accepted within the handshake timeout is closed, whether its hello is missing or its verdict is.
 * The token is checked by the parent alone and never logged. Then each side sends {@link Text},
 * numbered from 1, and the other answers {@link Ack} once the text is on its terminal;
 * unacknowledged texts are kept (up to the configured bound) and reported as undelivered when the
 * chat ends.
 *
 * <p>Closing: {@link Bye} is the last frame a side sends. Before it, the side acknowledges every
 * text it has handed to its terminal; after it, it keeps its side open and reads on, counting the
 * acknowledgements still coming, until the peer closes (or the close timeout passes). The side that
 * reads a bye acknowledges the texts it is still showing, then closes. So a text shown just as the
 * chat ends is not reported undelivered to its sender: a user who types {@code stopprivate} right
 * after a text is told it was delivered if it was. A bye for a broken protocol or a duplicate chat
 * ({@link #closesAtOnce}) owes no acknowledgements: this side closes right after it.
 *
 * <p>Bad input: a frame of a type this version does not know is skipped (a newer peer may send
 * some); a malformed frame, or a line over the frame limit (after which nothing more could be
 * read), ends the chat with {@link Bye} {@code PROTOCOL_VIOLATION}, and the user is told.
 *
 * <p>Commands: {@link Send} a text, {@link Stop} the chat (stopprivate, logout, timeout, or the
 * client giving up on the server after a lost connection). When the connection has ended, the chat
 * tells its parent {@link Ended} and keeps answering late {@link Send}s with an undelivered notice
 * until the parent, which then routes no more texts to it, answers {@link Release}; then it stops.
 * So a text typed just as a chat ends is reported, never silently lost.
 */
public final class PrivateChat {

  /** Everything a private chat does. */
  public sealed interface Command {}

  /** Send a text to the peer. */
  public record Send(String text) implements Command {}

  /** End the chat, telling the peer why. */
  public record Stop(Bye.Reason reason) implements Command {}

  /** From the parent, for an accepted connection: no other chat with this user, go ahead. */
  public enum Accept implements Command {
    INSTANCE
  }

  /** From the parent, for an accepted connection: a chat with this user exists already. */
  public enum Reject implements Command {
    INSTANCE
  }

  /**
   * From the parent, for an accepted connection: its hello does not prove who it claims to be (no
   * token, or one this client was not invited with). Closed without a frame or a line: an impostor
   * learns nothing, and the user is not bothered by someone else's attempt.
   */
  public enum Drop implements Command {
    INSTANCE
  }

  /** From the parent, after {@link Ended}: no more texts will come, stop. */
  public enum Release implements Command {
    INSTANCE
  }

  /** What a chat tells its parent. */
  public sealed interface Notification {}

  /**
   * For an accepted connection: the peer said hello as {@code user}, presenting {@code token} (null
   * if its hello had none).
   */
  public record Identified(String user, String token, ActorRef<Command> chat)
      implements Notification {

    /** Never let the token reach a log line. */
    @Override
    public String toString() {
      return "Identified[user="
          + user
          + ", token="
          + (token == null ? "none" : "<hidden>")
          + ", chat="
          + chat
          + "]";
    }
  }

  /**
   * Where and how to open a chat with {@code peer}: its listener's address, the fingerprint of the
   * certificate its listener must present (the only one accepted), and the one-time {@code token}
   * to present in the hello (null from a server that issues none).
   */
  public record Contact(String peer, String host, int port, Fingerprint fingerprint, String token) {

    public Contact {
      Objects.requireNonNull(fingerprint, "a private chat is opened only to a known certificate");
    }

    /** Never let the token reach a log line. */
    @Override
    public String toString() {
      return "Contact[peer="
          + peer
          + ", host="
          + host
          + ", port="
          + port
          + ", fingerprint="
          + fingerprint
          + ", token="
          + (token == null ? "none" : "<hidden>")
          + "]";
    }
  }

  /**
   * The connection has ended; the chat waits for {@link Release}. {@code farewell} are the lines to
   * show the user about it, once texts are no longer routed to this chat.
   */
  public record Ended(ActorRef<Command> chat, List<String> farewell) implements Notification {
    public Ended {
      farewell = List.copyOf(farewell);
    }
  }

  private record StreamStarted(ActorRef<StreamAck> ackTo) implements Command {}

  private record FrameReceived(ActorRef<StreamAck> ackTo, Inbound<PeerMessage> inbound)
      implements Command {}

  private enum StreamCompleted implements Command {
    INSTANCE
  }

  private record StreamFailed(Throwable cause) implements Command {}

  /** The connection's bytes from the peer have ended: the peer closed, or the socket did. */
  private enum ConnectionClosed implements Command {
    INSTANCE
  }

  private record TextShown(long seq) implements Command {}

  private enum HandshakeTimedOut implements Command {
    INSTANCE
  }

  private enum CloseTimedOut implements Command {
    INSTANCE
  }

  private static final long FIRST_SEQ = 1;

  /**
   * For what TLS engines report: they do from the stream's thread, where the actor's own logger
   * must not be used.
   */
  private static final Logger TLS_LOG = LoggerFactory.getLogger(PrivateChat.class);

  /**
   * A chat this client opens to {@code contact}'s peer, over TLS presenting {@code security}'s
   * identity.
   */
  public static Behavior<Command> connect(
      ClientSettings settings,
      ActorRef<Console.Command> console,
      Security security,
      String me,
      Contact contact,
      ActorRef<Notification> parent) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new PrivateChat(context, timers, settings, console, security, me, parent)
                        .connectTo(contact)));
  }

  /**
   * A chat the peer opened: the TCP connection arrived on this client's listener, and this side
   * runs TLS on it, presenting {@code security}'s identity.
   */
  public static Behavior<Command> accept(
      ClientSettings settings,
      ActorRef<Console.Command> console,
      Security security,
      String me,
      Tcp.IncomingConnection connection,
      ActorRef<Notification> parent) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new PrivateChat(context, timers, settings, console, security, me, parent)
                        .acceptFrom(connection)));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ClientSettings settings;
  private final ActorRef<Console.Command> console;
  private final Security security;
  private final String me;
  private final ActorRef<Notification> parent;
  private final ActorRef<Console.Receipt> receiptAdapter;
  private final Deque<Text> unacknowledged = new ArrayDeque<>();

  /** The peer's texts handed to the console and not yet shown: each is acknowledged once it is. */
  private int beingShown;

  /** Lines to show the user when the chat has ended (see {@link #sayFarewell}). */
  private final List<String> farewell = new ArrayList<>();

  /**
   * Why TLS failed on a connection this side opened, if it did: the pin's refusal, told by the
   * verifier before the handshake fails, or the engine's failure. Completed on the stream's thread,
   * before the stream ends; read by the actor once it has.
   */
  private final CompletableFuture<Throwable> tlsFailure = new CompletableFuture<>();

  private Connections.Link<PeerMessage> link;

  /** Closes the connection under TLS ({@link Connections#tls}). */
  private UniqueKillSwitch transport;

  /** Done once the TCP connection is established (or could not be). */
  private CompletionStage<?> connected;

  /**
   * Done once the bytes from the peer have ended, below TLS: with half-close, after the peer has
   * read what this side wrote last and closed in turn.
   */
  private CompletionStage<Done> closedBelow;

  private long nextSeq = FIRST_SEQ;

  private PrivateChat(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ClientSettings settings,
      ActorRef<Console.Command> console,
      Security security,
      String me,
      ActorRef<Notification> parent) {
    this.context = context;
    // Otherwise named after whichever class Akka finds building the behavior, which varies by
    // phase.
    context.setLoggerName(PrivateChat.class);
    this.timers = timers;
    this.settings = settings;
    this.console = console;
    this.security = security;
    this.me = me;
    this.parent = parent;
    this.receiptAdapter =
        context.messageAdapter(Console.Receipt.class, receipt -> new TextShown(receipt.ticket()));
    timers.startSingleTimer(HandshakeTimedOut.INSTANCE, settings.peerHandshakeTimeout());
  }

  private Flow<ByteString, ByteString, Connections.Link<PeerMessage>> protocolFlow() {
    Sink<Inbound<PeerMessage>, NotUsed> receiver =
        ActorSink.actorRefWithBackpressure(
            context.getSelf(),
            FrameReceived::new,
            StreamStarted::new,
            StreamAck.INSTANCE,
            StreamCompleted.INSTANCE,
            StreamFailed::new);
    return Connections.protocolFlow(
        JsonCodec.PEER,
        JsonCodec.PEER,
        settings.maxFrameBytes(),
        settings.outboundBufferBytes(),
        receiver,
        PrivateChat::closesAtOnce);
  }

  /**
   * A bye after which nothing can be owed, so this side's output closes right after it: the peer
   * broke the protocol, or the chat never opened. After any other bye this side reads on for the
   * peer's last acknowledgements, and closes when the peer does (see {@link #closing}).
   */
  private static boolean closesAtOnce(PeerMessage frame) {
    return frame instanceof Bye bye
        && (bye.reason() == Bye.Reason.PROTOCOL_VIOLATION
            || bye.reason() == Bye.Reason.ALREADY_CHATTING);
  }

  // Phase: this side connected and said hello; waiting for the peer's hello.

  private Behavior<Command> connectTo(Contact contact) {
    String host = contact.host();
    int port = contact.port();
    ServerVerifier pinned = ServerVerifier.pinned(contact.fingerprint());
    ServerVerifier verifier =
        (chain, authType, engine) -> {
          try {
            pinned.verify(chain, authType, engine);
          } catch (UntrustedServerException refused) {
            // Before the handshake fails: the stream may end without saying why.
            tlsFailure.complete(refused);
            throw refused;
          }
        };
    // No host name check: the pin names the one certificate to accept, and the host is an address.
    Supplier<SSLEngine> engines =
        () ->
            ReportingEngine.of(
                security.tls().newEngine(host, port, verifier), tlsFailure::complete);
    // Half-close: once this side has written its last bytes (a bye, TLS's closing alert) it shuts
    // its output and reads on until the peer closes. A full close there meets the peer's last
    // bytes (its ack, its own closing alert) with a reset, which can destroy the bye before the
    // peer has read it: the peer then saw "connection lost" instead of why the chat ended.
    Flow<ByteString, ByteString, CompletionStage<Tcp.OutgoingConnection>> tcp =
        Tcp.get(context.getSystem())
            .outgoingConnection(
                InetSocketAddress.createUnresolved(host, port),
                Optional.empty(),
                Collections.emptyList(),
                true,
                Optional.of(settings.connectTimeout()),
                Optional.empty());
    Pair<
            CompletionStage<Tcp.OutgoingConnection>,
            Pair<Pair<CompletionStage<Done>, UniqueKillSwitch>, Connections.Link<PeerMessage>>>
        running = tcp.joinMat(stack(engines), Keep.both()).run(context.getSystem());
    connected = running.first();
    closedBelow = running.second().first().first();
    transport = running.second().first().second();
    link = running.second().second();
    // Written once the handshake is done and the peer's certificate accepted; a failed connect or
    // handshake ends the stream instead, and it is never sent.
    link.outbound().tell(new Hello(Protocol.VERSION, me, contact.token()));
    return opening(contact);
  }

  private Behavior<Command> opening(Contact contact) {
    String peer = contact.peer();
    return Behaviors.receive(Command.class)
        .onMessage(FrameReceived.class, received -> onFrameWhileOpening(received, peer))
        .onMessage(Send.class, send -> queue(send, peer))
        .onMessage(Stop.class, stop -> stop(stop.reason(), peer))
        .onMessageEquals(HandshakeTimedOut.INSTANCE, () -> onOpeningTimedOut(contact))
        .onMessageEquals(StreamCompleted.INSTANCE, () -> notOpened(contact, "connection closed"))
        .onMessage(StreamFailed.class, failed -> notOpened(contact, failed.cause().toString()))
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onOpeningTimedOut(Contact contact) {
    // The peer may not even have finished the TLS handshake.
    cutTransport();
    return notOpened(contact, "no hello");
  }

  /**
   * The connection ended, or the timeout passed, before the peer's hello: the peer's certificate
   * was refused, or the peer could not be reached ({@code why}, unless TLS said more).
   */
  private Behavior<Command> notOpened(Contact contact, String why) {
    String peer = contact.peer();
    Throwable failure = tlsFailure.getNow(null);
    Optional<UntrustedServerException> refusal = UntrustedServerException.find(failure);
    if (refusal.isPresent()) {
      context
          .getLog()
          .warn(
              "Refused the private-chat listener of {} at {}:{}: {}",
              peer,
              contact.host(),
              contact.port(),
              refusal.get().getMessage());
      return endWith(peer, Texts.privatePeerNotVerified(peer));
    }
    return unreachable(peer, failure == null ? why : "TLS failed: " + failure.getMessage());
  }

  private Behavior<Command> onFrameWhileOpening(FrameReceived received, String peer) {
    received.ackTo().tell(StreamAck.INSTANCE);
    PeerMessage frame = frameOf(received.inbound());
    if (frame instanceof Hello hello) {
      if (hello.version() != Protocol.VERSION || !peer.equals(hello.user())) {
        context.getLog().info("Expected {} to answer the hello, got {}", peer, hello);
        sendBye(Bye.Reason.PROTOCOL_VIOLATION);
        return unreachableWhileClosing(peer);
      }
      timers.cancel(HandshakeTimedOut.INSTANCE);
      console.tell(new Console.Print(Texts.privateStarted(peer), Console.Kind.OWN));
      unacknowledged.forEach(link.outbound()::tell);
      return chatting(peer);
    } else if (frame instanceof Bye bye) {
      return endWith(
          peer,
          bye.reason() == Bye.Reason.ALREADY_CHATTING
              ? Texts.privateAlreadyEnabled(peer)
              : Texts.privateUnreachable(peer));
    } else if (isUnknownType(received.inbound())) {
      return Behaviors.same();
    }
    context.getLog().info("Peer {} broke the handshake with {}", peer, received.inbound());
    sendBye(Bye.Reason.PROTOCOL_VIOLATION);
    return unreachableWhileClosing(peer);
  }

  private Behavior<Command> unreachable(String peer, String why) {
    context.getLog().info("Could not open a private chat with {}: {}", peer, why);
    return endWith(peer, Texts.privateUnreachable(peer));
  }

  private Behavior<Command> unreachableWhileClosing(String peer) {
    sayFarewell(Texts.privateUnreachable(peer));
    return closing(Optional.of(peer));
  }

  private Behavior<Command> queue(Send send, String peer) {
    if (unacknowledged.size() >= settings.maxUnackedPrivate()) {
      print(Texts.privateBacklogFull(peer));
    } else {
      unacknowledged.add(new Text(nextSeq++, send.text()));
    }
    return Behaviors.same();
  }

  // Phases: a connection arrived; waiting for the peer's hello, then for the parent's verdict.

  private Behavior<Command> acceptFrom(Tcp.IncomingConnection connection) {
    InetSocketAddress remote = connection.remoteAddress();
    // The only line about a connection that does not speak TLS, or fails its handshake; the chat
    // then ends as for any connection closed before its hello, without a word.
    Supplier<SSLEngine> engines =
        () ->
            security
                .peerListenerTls()
                .newEngine(
                    failure ->
                        TLS_LOG.info(
                            "Private chat connection from {} closed: TLS failed: {}",
                            remote,
                            failure.getMessage()));
    Pair<Pair<CompletionStage<Done>, UniqueKillSwitch>, Connections.Link<PeerMessage>> running =
        connection.handleWith(stack(engines), context.getSystem());
    connected = CompletableFuture.completedFuture(connection);
    closedBelow = running.first().first();
    transport = running.first().second();
    link = running.second();
    return awaitHello();
  }

  private Behavior<Command> awaitHello() {
    return Behaviors.receive(Command.class)
        .onMessage(FrameReceived.class, this::onFrameWhileAwaitingHello)
        .onMessage(Stop.class, stop -> closeUnidentified(stop.reason()))
        .onMessageEquals(HandshakeTimedOut.INSTANCE, this::onHandshakeTimedOut)
        .onMessageEquals(StreamCompleted.INSTANCE, () -> ended(Optional.empty()))
        .onMessage(StreamFailed.class, failed -> ended(Optional.empty()))
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onFrameWhileAwaitingHello(FrameReceived received) {
    received.ackTo().tell(StreamAck.INSTANCE);
    PeerMessage frame = frameOf(received.inbound());
    if (frame instanceof Hello hello && hello.version() == Protocol.VERSION) {
      parent.tell(new Identified(hello.user(), hello.token(), context.getSelf()));
      return awaitVerdict(hello.user());
    } else if (frame instanceof Bye) {
      return ended(Optional.empty());
    } else if (isUnknownType(received.inbound())) {
      return Behaviors.same();
    }
    context.getLog().info("Private chat connection opened without a hello: {}", received.inbound());
    return closeUnidentified(Bye.Reason.PROTOCOL_VIOLATION);
  }

  private Behavior<Command> onHandshakeTimedOut() {
    context.getLog().info("Private chat connection closed: no hello within the timeout");
    // The peer may not even have finished the TLS handshake.
    cutTransport();
    return ended(Optional.empty());
  }

  private Behavior<Command> onVerdictTimedOut(String peer) {
    // The parent holds such a connection while it waits for the invitation of its token, and says
    // why it was refused once it learns it has ended.
    context.getLog().debug("Private chat connection as {} not accepted within the timeout", peer);
    return ended(Optional.empty());
  }

  private Behavior<Command> closeUnidentified(Bye.Reason reason) {
    sendBye(reason);
    return closing(Optional.empty());
  }

  private Behavior<Command> awaitVerdict(String peer) {
    return Behaviors.receive(Command.class)
        .onMessageEquals(Accept.INSTANCE, () -> onAccepted(peer))
        .onMessageEquals(Reject.INSTANCE, () -> closeUnidentified(Bye.Reason.ALREADY_CHATTING))
        .onMessageEquals(Drop.INSTANCE, () -> ended(Optional.empty()))
        .onMessage(FrameReceived.class, received -> onFrameWhileAwaitingVerdict(received))
        .onMessage(Stop.class, stop -> closeUnidentified(stop.reason()))
        .onMessageEquals(HandshakeTimedOut.INSTANCE, () -> onVerdictTimedOut(peer))
        .onMessageEquals(StreamCompleted.INSTANCE, () -> ended(Optional.empty()))
        .onMessage(StreamFailed.class, failed -> ended(Optional.empty()))
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onFrameWhileAwaitingVerdict(FrameReceived received) {
    received.ackTo().tell(StreamAck.INSTANCE);
    if (frameOf(received.inbound()) instanceof Bye) {
      return ended(Optional.empty());
    } else if (isUnknownType(received.inbound())) {
      return Behaviors.same();
    }
    // The connecting side must wait for our hello before it sends anything else.
    return closeUnidentified(Bye.Reason.PROTOCOL_VIOLATION);
  }

  private Behavior<Command> onAccepted(String peer) {
    timers.cancel(HandshakeTimedOut.INSTANCE);
    link.outbound().tell(new Hello(Protocol.VERSION, me));
    print(Texts.privateStartedByPeer(peer));
    return chatting(peer);
  }

  // Phase: both hellos exchanged.

  private Behavior<Command> chatting(String peer) {
    return Behaviors.receive(Command.class)
        .onMessage(Send.class, send -> onSend(send, peer))
        .onMessage(FrameReceived.class, received -> onFrameWhileChatting(received, peer))
        .onMessage(TextShown.class, this::onTextShown)
        .onMessage(Stop.class, stop -> stop(stop.reason(), peer))
        .onMessageEquals(StreamCompleted.INSTANCE, () -> connectionLost(peer))
        .onMessage(StreamFailed.class, failed -> connectionLost(peer))
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onSend(Send send, String peer) {
    if (unacknowledged.size() >= settings.maxUnackedPrivate()) {
      print(Texts.privateBacklogFull(peer));
      return Behaviors.same();
    }
    Text text = new Text(nextSeq++, send.text());
    unacknowledged.add(text);
    link.outbound().tell(text);
    return Behaviors.same();
  }

  private Behavior<Command> onFrameWhileChatting(FrameReceived received, String peer) {
    received.ackTo().tell(StreamAck.INSTANCE);
    Inbound<PeerMessage> inbound = received.inbound();
    PeerMessage frame = frameOf(inbound);
    if (frame instanceof Text text) {
      // Acknowledged only once shown: an Ack promises the user has seen it.
      beingShown++;
      console.tell(
          new Console.PrintWithReceipt(
              Texts.privateReceived(peer, text.text()),
              Console.Kind.PRIVATE,
              text.seq(),
              receiptAdapter));
      console.tell(new Console.UserSeen(peer));
    } else if (frame instanceof Ack ack) {
      acknowledged(ack);
    } else if (frame instanceof Bye bye) {
      return afterShown(peer, () -> endWith(peer, Texts.privateClosed(peer, bye.reason())));
    } else if (frame instanceof Hello) {
      context.getLog().debug("Ignoring a repeated hello from {}", peer);
    } else if (inbound instanceof Inbound.Malformed<PeerMessage> malformed) {
      context.getLog().info("Malformed frame from {}: {}", peer, malformed.reason());
      return protocolViolation(peer, Texts.privateProtocolError(peer));
    } else if (inbound instanceof Inbound.Oversized<PeerMessage> oversized) {
      // Nothing after it could be read: the chat would go deaf if it stayed open.
      context.getLog().info("{} sent a line over {} bytes", peer, oversized.limitBytes());
      return protocolViolation(peer, Texts.privateLineTooLong(peer, oversized.limitBytes()));
    }
    return Behaviors.same();
  }

  /**
   * Ends the chat because the peer broke the protocol, telling both users; {@code line} says how.
   */
  private Behavior<Command> protocolViolation(String peer, String line) {
    sayFarewell(line);
    sendBye(Bye.Reason.PROTOCOL_VIOLATION);
    return closing(Optional.of(peer));
  }

  private void acknowledged(Ack ack) {
    while (!unacknowledged.isEmpty() && unacknowledged.peek().seq() <= ack.seq()) {
      unacknowledged.poll();
    }
  }

  private Behavior<Command> onTextShown(TextShown shown) {
    beingShown--;
    link.outbound().tell(new Ack(shown.seq()));
    return Behaviors.same();
  }

  private Behavior<Command> stop(Bye.Reason reason, String peer) {
    if (reason == Bye.Reason.STOPPED) {
      print(Texts.privateStopped(peer));
    }
    // What is still unacknowledged is reported once the peer has closed: its last acknowledgements
    // may be on their way.
    return afterShown(
        peer,
        () -> {
          sendBye(reason);
          return closing(Optional.of(peer));
        });
  }

  private Behavior<Command> connectionLost(String peer) {
    return endWith(peer, Texts.privateConnectionLost(peer));
  }

  // Phase: the chat is ending; the peer's texts on the console are being shown.

  /**
   * Goes on to {@code then} once every text of the peer handed to the console has been shown and
   * acknowledged (or after the close timeout): the acknowledgements must go before the connection
   * closes, or the peer would report texts its user saw as undelivered. The console answers within
   * moments; the timeout covers one that does not.
   */
  private Behavior<Command> afterShown(String peer, Supplier<Behavior<Command>> then) {
    if (beingShown == 0) {
      return then.get();
    }
    timers.startSingleTimer(CloseTimedOut.INSTANCE, settings.closeTimeout());
    return Behaviors.receive(Command.class)
        .onMessage(TextShown.class, shown -> onTextShownWhileEnding(shown, then))
        .onMessage(FrameReceived.class, this::onFrameWhileEnding)
        .onMessage(Send.class, send -> undeliverable(send, Optional.of(peer)))
        .onMessageEquals(CloseTimedOut.INSTANCE, then::get)
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onSignal(PostStop.class, signal -> onPostStop())
        // A stop, or the stream's end: the chat is ending already.
        .onAnyMessage(message -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onTextShownWhileEnding(
      TextShown shown, Supplier<Behavior<Command>> then) {
    onTextShown(shown);
    return beingShown == 0 ? then.get() : Behaviors.same();
  }

  /**
   * A frame after this side's bye, or while it answers the peer's: acknowledgements count (the
   * peer's user saw those texts); anything else is dropped unacknowledged, so the peer reports it.
   */
  private Behavior<Command> onFrameWhileEnding(FrameReceived received) {
    received.ackTo().tell(StreamAck.INSTANCE);
    if (frameOf(received.inbound()) instanceof Ack ack) {
      acknowledged(ack);
    }
    return Behaviors.same();
  }

  // Phase: Bye sent; waiting for the peer to close.

  private Behavior<Command> closing(Optional<String> peer) {
    timers.cancel(HandshakeTimedOut.INSTANCE);
    timers.startSingleTimer(CloseTimedOut.INSTANCE, settings.closeTimeout());
    // The bye is safe only once the peer has closed its side after reading it: stopping before
    // (the client exits right after) closed the socket under the bye, and the peer saw the
    // connection drop instead. Until then the peer's last acknowledgements still count.
    context.pipeToSelf(closedBelow, (done, failure) -> ConnectionClosed.INSTANCE);
    return Behaviors.receive(Command.class)
        .onMessage(FrameReceived.class, this::onFrameWhileEnding)
        .onMessage(Send.class, send -> undeliverable(send, peer))
        .onMessageEquals(StreamCompleted.INSTANCE, Behaviors::same)
        .onMessage(StreamFailed.class, failed -> ended(peer))
        .onMessageEquals(ConnectionClosed.INSTANCE, () -> ended(peer))
        .onMessageEquals(CloseTimedOut.INSTANCE, () -> onCloseTimedOut(peer))
        .onMessage(StreamStarted.class, this::onStreamStarted)
        .onSignal(PostStop.class, signal -> onPostStop())
        .onAnyMessage(message -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onCloseTimedOut(Optional<String> peer) {
    // Not even TLS's own close went through (a peer that stopped reading, or one that never
    // finished its handshake).
    cutTransport();
    return ended(peer);
  }

  // Phase: the connection is over; waiting for the parent to stop routing texts here.

  /** Ends the chat at once, saying {@code line} (see {@link #sayFarewell}). */
  private Behavior<Command> endWith(String peer, String line) {
    sayFarewell(line);
    return ended(Optional.of(peer));
  }

  /**
   * Keeps {@code line} (why the chat ends) for {@link Ended}, which adds a report of each text not
   * delivered: the parent shows them once it has stopped routing texts here, so that anything the
   * user types after reading them is answered as "not enabled" rather than lost.
   */
  private void sayFarewell(String line) {
    farewell.add(line);
  }

  private Behavior<Command> ended(Optional<String> peer) {
    timers.cancelAll();
    link.killSwitch().shutdown();
    peer.ifPresent(
        name ->
            unacknowledged.forEach(
                text -> farewell.add(Texts.privateUndelivered(name, text.text()))));
    unacknowledged.clear();
    parent.tell(new Ended(context.getSelf(), farewell));
    farewell.clear();
    return Behaviors.receive(Command.class)
        .onMessage(Send.class, send -> undeliverable(send, peer))
        .onMessageEquals(Release.INSTANCE, Behaviors::stopped)
        // Closing everything: the parent will not need to release this one.
        .onMessage(Stop.class, stop -> Behaviors.stopped())
        .onMessage(FrameReceived.class, this::discard)
        .onAnyMessage(message -> Behaviors.same())
        .build();
  }

  private Behavior<Command> discard(FrameReceived received) {
    received.ackTo().tell(StreamAck.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> undeliverable(Send send, Optional<String> peer) {
    peer.ifPresent(name -> print(Texts.privateUndelivered(name, send.text())));
    return Behaviors.same();
  }

  // Shared

  private Behavior<Command> onStreamStarted(StreamStarted started) {
    started.ackTo().tell(StreamAck.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> onPostStop() {
    // Normally the stream has ended already; this covers being stopped from outside.
    link.killSwitch().shutdown();
    return Behaviors.same();
  }

  /**
   * Closes the TCP connection under TLS, without a farewell. Ending the protocol's stream is not
   * enough while TLS is in the middle of a handshake: it holds the connection open until the peer
   * finishes it, which one that never does would never. Only for a connection given up on (a
   * timeout): an orderly end lets TLS finish writing what it has (a {@code Bye}, its closing alert)
   * and close the connection itself.
   */
  private void cutTransport() {
    // Akka's TCP stage fails with an error when its stream ends before the connection is
    // established, so the cut waits for the attempt; the kill switch is thread-safe.
    connected.whenComplete((connection, failure) -> transport.shutdown());
  }

  /**
   * A connection's stack from its bytes up: a watch on the bytes from the peer ({@link
   * #closedBelow}), TLS with its cut-off switch, and the protocol.
   */
  private Flow<
          ByteString,
          ByteString,
          Pair<Pair<CompletionStage<Done>, UniqueKillSwitch>, Connections.Link<PeerMessage>>>
      stack(Supplier<SSLEngine> engines) {
    BidiFlow<ByteString, ByteString, ByteString, ByteString, CompletionStage<Done>> watch =
        BidiFlow.fromFlowsMat(
            Flow.<ByteString>create().watchTermination(Keep.right()),
            Flow.<ByteString>create(),
            Keep.left());
    return watch.atop(Connections.tls(engines), Keep.both()).join(protocolFlow(), Pair::create);
  }

  private void sendBye(Bye.Reason reason) {
    link.outbound().tell(new Bye(reason));
  }

  private void print(String line) {
    console.tell(new Console.Print(line));
  }

  private static PeerMessage frameOf(Inbound<PeerMessage> inbound) {
    return inbound instanceof Inbound.Frame<PeerMessage> frame ? frame.frame() : null;
  }

  /** Frame types this version does not know are skipped, so newer peers can add some. */
  private static boolean isUnknownType(Inbound<PeerMessage> inbound) {
    return inbound instanceof Inbound.UnknownType<PeerMessage>;
  }
}
