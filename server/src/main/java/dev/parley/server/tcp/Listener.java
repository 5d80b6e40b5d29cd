package dev.parley.server.tcp;

import akka.Done;
import akka.NotUsed;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.http.javadsl.model.ws.Message;
import akka.http.javadsl.model.ws.TextMessage;
import akka.io.Inet;
import akka.io.TcpSO;
import akka.stream.Attributes;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.stream.typed.javadsl.ActorSink;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.ServerSettings;
import dev.parley.server.http.WebSocketFrames;
import dev.parley.server.limits.AddressBuckets;
import dev.parley.server.metrics.Metrics;
import dev.parley.server.session.Session;
import dev.parley.server.session.SessionPort;
import dev.parley.transport.ServerTls;
import dev.parley.transport.nio.SocketIo;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Binds the server's TCP port and turns each accepted connection into a {@link Session} child, up
 * to the connection limit (beyond it, the client is told the server is busy). Connections are
 * accepted with backpressure: the next is taken once the previous has its session.
 *
 * <p>With TLS (the default), each connection is wrapped in a TLS session under the protocol stack
 * (see {@link SessionConnection}): the handshake comes first, and a client that fails it is simply
 * closed.
 *
 * <p>Per-address limits (unless the address is exempt or the limits are off): new connections from
 * one address are rate limited, and only so many may be open at once; a connection over either is
 * told {@code goodbye rate-limited} and closed before a session exists for it, so a flood from one
 * address costs the server almost nothing and never crowds out the others. Under TLS such a
 * connection is closed without a word instead: a goodbye would first cost the server a handshake,
 * which is what the flood would then buy.
 *
 * <p>The sockets are Parley's own ({@code socket-io = nio}, {@link SocketIo}: each connection's
 * stream reads and writes its socket itself), or Akka IO's TCP with {@code socket-io = akka}; above
 * the socket the two are the same.
 *
 * <p>On {@link Drain} (the server is stopping) it unbinds, asks every session to say goodbye, and
 * answers once they have all ended.
 */
public final class Listener extends AbstractBehavior<Listener.Command> {

  /** What the listener understands. */
  public sealed interface Command {}

  /** Stop accepting, close every session, and answer when none is left. */
  public record Drain(ActorRef<Done> replyTo) implements Command {}

  /**
   * A WebSocket connection has been upgraded on the HTTP port: admit it as a TCP connection is
   * admitted (the same limits, counted with them, drained with them) and complete {@code handler}
   * with its flow: a session's, or one that says goodbye and closes.
   */
  public record AttachWebSocket(
      InetSocketAddress remote, CompletableFuture<Flow<Message, Message, NotUsed>> handler)
      implements Command {}

  /**
   * @param unbind releases the port; what Akka's and Parley's own bindings have in common
   */
  private record BindSucceeded(InetSocketAddress address, Supplier<CompletionStage<Done>> unbind)
      implements Command {}

  private record BindFailed(Throwable cause) implements Command {}

  private record AcceptStarted(ActorRef<AcceptAck> ackTo) implements Command {}

  private record ConnectionAccepted(ActorRef<AcceptAck> ackTo, Tcp.IncomingConnection connection)
      implements Command {}

  private enum AcceptEnded implements Command {
    INSTANCE
  }

  private record AcceptFailed(Throwable cause) implements Command {}

  private record SessionEnded(ActorRef<Session.Command> session, Metrics.SessionTracker tracker)
      implements Command {}

  /** The connection of an ended session has handed its last frame down, or gave up. */
  private record ConnectionWritten(ActorRef<Session.Command> session) implements Command {}

  private record Unbound(Done done) implements Command {}

  private enum AcceptAck {
    INSTANCE
  }

  /** A listener in plain TCP (tests that speak the protocol over bare sockets). */
  public static Behavior<Command> create(
      ServerSettings settings,
      Session.Services services,
      Clock clock,
      CompletableFuture<InetSocketAddress> bound) {
    return create(settings, Optional.empty(), services, clock, bound);
  }

  /**
   * @param tls the TLS engines of the connections; empty for plain TCP
   * @param bound completed with the bound address, or with the reason the port could not be bound
   */
  public static Behavior<Command> create(
      ServerSettings settings,
      Optional<ServerTls> tls,
      Session.Services services,
      Clock clock,
      CompletableFuture<InetSocketAddress> bound) {
    return Behaviors.setup(
        context -> new Listener(context, settings, tls.orElse(null), services, clock, bound));
  }

  /**
   * What an address may not keep in an actor's name (an IPv6 address's colons, its zone's percent
   * sign); compiled once, since every accepted connection is named.
   */
  private static final Pattern NOT_IN_SESSION_NAME = Pattern.compile("[^A-Za-z0-9.]");

  private final ServerSettings settings;

  /** Where the connections' streams run, taken in turn (see {@link ConnectionHost}). */
  private final List<ActorRef<ConnectionHost.Command>> hosts = new ArrayList<>();

  /** The host of the next connection, as an index into {@link #hosts}. */
  private int nextHost;

  /**
   * A WebSocket connection's stack above Akka HTTP's, shared as the TCP one is: messages → frames →
   * the {@link SessionPort} (its session given as an attribute) → messages.
   */
  private final Flow<Message, Message, NotUsed> webSocketStack;

  /** The connections' TLS engines; null for plain TCP. */
  private final ServerTls tls;

  private final Session.Services services;
  private final CompletableFuture<InetSocketAddress> bound;
  private final Materializer materializer;
  private final Clock clock;
  private final Map<ActorRef<Session.Command>, InetAddress> sessions = new HashMap<>();

  /**
   * When each session's connection has handed its last frame down to TLS or the socket. A stopping
   * node waits for those of the sessions it drains (at most close-timeout each): the actor system
   * ends soon after the drain, and would cut goodbyes still queued in the streams.
   */
  private final Map<ActorRef<Session.Command>, CompletionStage<Done>> connectionsWritten =
      new HashMap<>();

  /** Ended sessions whose connections are still writing. */
  private final Set<ActorRef<Session.Command>> stillWriting = new HashSet<>();

  /** Connections open from each limited address; exempt addresses are not counted. */
  private final Map<InetAddress, Integer> openPerAddress = new HashMap<>();

  /** New connections per address; null when the limits are off. */
  private final AddressBuckets newConnections;

  private final List<ActorRef<Done>> drainWaiters = new ArrayList<>();

  /** Releases the bound port; null until bound. */
  private Supplier<CompletionStage<Done>> unbind;

  /** The sockets' own selector threads ({@code socket-io = nio}); null under Akka IO's TCP. */
  private final SocketIo socketIo;

  private boolean draining;

  /** The port is released (or was never bound): no new connection can arrive. */
  private boolean unbound;

  private long accepted;

  private final Metrics metrics;

  private Listener(
      ActorContext<Command> context,
      ServerSettings settings,
      ServerTls tls,
      Session.Services services,
      Clock clock,
      CompletableFuture<InetSocketAddress> bound) {
    super(context);
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(Listener.class);
    this.metrics = Metrics.get(context.getSystem());
    this.settings = settings;
    this.tls = tls;
    this.services = services;
    this.clock = clock;
    this.bound = bound;
    ServerSettings.Limits limits = settings.limits();
    this.newConnections =
        limits.enabled()
            ? new AddressBuckets(
                limits.connections(), limits.exempt(), limits.maxTrackedAddresses())
            : null;
    this.materializer = Materializer.matFromSystem(context.getSystem());
    this.webSocketStack =
        WebSocketFrames.decoder(settings.maxFrameBytes(), materializer)
            .via(Flow.fromGraph(WebSocketFrames.port(settings.outboundBufferBytes())))
            .via(WebSocketFrames.encoder());
    SessionConnection.Layers layers = new SessionConnection.Layers(settings, tls, metrics);
    for (int i = 0; i < settings.connectionHosts(); i++) {
      hosts.add(ConnectionHost.start(layers, "connection-host-" + i, materializer));
    }
    ServerSettings.Sockets sockets = settings.sockets();
    this.socketIo =
        sockets.own()
            ? new SocketIo(
                sockets.selectors(),
                sockets.readBytes(),
                sockets.writeBytes(),
                sockets.writeHold(),
                "parley-socket-io")
            : null;
    bind();
  }

  private void bind() {
    Source<Tcp.IncomingConnection, CompletionStage<BindSucceeded>> connections;
    if (socketIo != null) {
      connections =
          socketIo
              .bind(
                  new InetSocketAddress(settings.host(), settings.port()),
                  settings.acceptBacklog(),
                  settings.sockets().acceptRetry())
              .mapMaterializedValue(
                  bound ->
                      bound.thenApply(
                          binding -> new BindSucceeded(binding.localAddress(), binding::unbind)));
    } else {
      List<Inet.SocketOption> options = List.of(TcpSO.tcpNoDelay(true));
      connections =
          Tcp.get(getContext().getSystem())
              .bind(
                  settings.host(),
                  settings.port(),
                  settings.acceptBacklog(),
                  options,
                  // Half-close: a connection's stack ends the server's side first and reads out
                  // the client's before the socket closes (LingeringClose). Parley's own sockets
                  // always close so.
                  true,
                  Optional.empty())
              .mapMaterializedValue(
                  bound ->
                      bound.thenApply(
                          binding ->
                              new BindSucceeded(
                                  binding.localAddress(),
                                  () -> binding.unbind().thenApply(unit -> Done.getInstance()))));
    }
    CompletionStage<BindSucceeded> binding =
        connections
            .to(
                ActorSink.actorRefWithBackpressure(
                    getContext().getSelf(),
                    ConnectionAccepted::new,
                    AcceptStarted::new,
                    AcceptAck.INSTANCE,
                    AcceptEnded.INSTANCE,
                    AcceptFailed::new))
            .run(materializer);
    getContext()
        .pipeToSelf(binding, (ok, failure) -> failure == null ? ok : new BindFailed(failure));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(ConnectionAccepted.class, this::onConnectionAccepted)
        .onMessage(AttachWebSocket.class, this::onAttachWebSocket)
        .onMessage(AcceptStarted.class, this::onAcceptStarted)
        .onMessage(SessionEnded.class, this::onSessionEnded)
        .onMessage(ConnectionWritten.class, this::onConnectionWritten)
        .onMessage(BindSucceeded.class, this::onBindSucceeded)
        .onMessage(BindFailed.class, this::onBindFailed)
        .onMessage(AcceptEnded.class, ended -> this)
        .onMessage(AcceptFailed.class, this::onAcceptFailed)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(Unbound.class, this::onUnbound)
        .onSignal(PostStop.class, stopped -> onPostStop())
        .build();
  }

  private Behavior<Command> onBindSucceeded(BindSucceeded succeeded) {
    unbind = succeeded.unbind();
    InetSocketAddress address = succeeded.address();
    getContext()
        .getLog()
        .info(
            "Parley server listening on {}:{}",
            address.getAddress().getHostAddress(),
            address.getPort());
    bound.complete(address);
    return this;
  }

  private Behavior<Command> onBindFailed(BindFailed failed) {
    getContext()
        .getLog()
        .error(
            "cannot listen on {}:{}: {}",
            settings.host(),
            settings.port(),
            failed.cause().getMessage());
    bound.completeExceptionally(failed.cause());
    return Behaviors.stopped();
  }

  private Behavior<Command> onAcceptStarted(AcceptStarted started) {
    started.ackTo().tell(AcceptAck.INSTANCE);
    return this;
  }

  private Behavior<Command> onConnectionAccepted(ConnectionAccepted accept) {
    Tcp.IncomingConnection connection = accept.connection();
    if (draining) {
      SessionConnection.refuse(
          connection,
          new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.SERVER_SHUTDOWN),
          tls,
          settings.closeTimeout(),
          metrics,
          materializer);
    } else if (!admitted(connection.remoteAddress().getAddress())) {
      // Before the server-wide limit: a full server must not pay a TLS handshake (the busy
      // goodbye's) for every connection a flooder opens.
      if (tls == null) {
        SessionConnection.refuse(
            connection,
            new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.RATE_LIMITED),
            null,
            settings.closeTimeout(),
            materializer);
      } else {
        SessionConnection.drop(connection, materializer);
      }
    } else if (sessions.size() >= settings.maxConnections()) {
      getContext()
          .getLog()
          .warn(
              "connection limit reached, refusing remote={} limit={}",
              connection.remoteAddress(),
              settings.maxConnections());
      SessionConnection.refuse(
          connection,
          new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.SERVER_BUSY),
          tls,
          settings.closeTimeout(),
          metrics,
          materializer);
    } else {
      CompletableFuture<Done> written = new CompletableFuture<>();
      ActorRef<ConnectionHost.Command> host = hosts.get(nextHost);
      nextHost = (nextHost + 1) % hosts.size();
      spawnSession(
          connection.remoteAddress(),
          Metrics.Transport.TCP,
          self -> host.tell(new ConnectionHost.Attach(connection, self, written)),
          written);
    }
    accept.ackTo().tell(AcceptAck.INSTANCE);
    return this;
  }

  private Behavior<Command> onAttachWebSocket(AttachWebSocket attach) {
    InetSocketAddress remote = attach.remote();
    ServerMessage.Goodbye.Reason refusal = null;
    if (draining) {
      refusal = ServerMessage.Goodbye.Reason.SERVER_SHUTDOWN;
    } else if (!admitted(remote.getAddress())) {
      refusal = ServerMessage.Goodbye.Reason.RATE_LIMITED;
    } else if (sessions.size() >= settings.maxConnections()) {
      getContext()
          .getLog()
          .warn(
              "connection limit reached, refusing websocket remote={} limit={}",
              remote,
              settings.maxConnections());
      refusal = ServerMessage.Goodbye.Reason.SERVER_BUSY;
    }
    if (refusal != null) {
      attach
          .handler()
          .complete(
              Flow.fromSinkAndSourceCoupled(
                  Sink.<Message>ignore(),
                  Source.single(
                      (Message)
                          TextMessage.create(
                              JsonCodec.SERVER.toJson(new ServerMessage.Goodbye(refusal))))));
      return this;
    }
    spawnSession(
        remote,
        Metrics.Transport.WEBSOCKET,
        self ->
            attach
                .handler()
                .complete(
                    webSocketStack.addAttributes(Attributes.apply(new SessionPort.Target(self)))),
        // Akka HTTP's terminate, after the drain, lets the goodbyes of /ws out.
        CompletableFuture.completedFuture(Done.getInstance()));
    return this;
  }

  private void spawnSession(
      InetSocketAddress remote,
      Metrics.Transport transport,
      Consumer<ActorRef<Session.Command>> connect,
      CompletionStage<Done> written) {
    Metrics.SessionTracker tracker = metrics.newSession(transport);
    ActorRef<Session.Command> session =
        getContext()
            .spawn(
                Session.create(settings, services, remote, clock, connect, tracker),
                sessionName(remote));
    getContext().watchWith(session, new SessionEnded(session, tracker));
    sessions.put(session, remote.getAddress());
    connectionsWritten.put(session, written);
    if (newConnections != null && !newConnections.isExempt(remote.getAddress())) {
      openPerAddress.merge(remote.getAddress(), 1, Integer::sum);
    }
    getContext()
        .getLog()
        .debug("connection accepted remote={} sessions={}", remote, sessions.size());
  }

  private Behavior<Command> onSessionEnded(SessionEnded ended) {
    InetAddress address = sessions.remove(ended.session());
    ended.tracker().end();
    if (address != null) {
      openPerAddress.computeIfPresent(address, (from, open) -> open > 1 ? open - 1 : null);
    }
    CompletionStage<Done> written = connectionsWritten.remove(ended.session());
    if (written != null && !written.toCompletableFuture().isDone()) {
      stillWriting.add(ended.session());
      getContext()
          .pipeToSelf(
              written
                  .toCompletableFuture()
                  .orTimeout(settings.closeTimeout().toMillis(), TimeUnit.MILLISECONDS),
              (done, failure) -> new ConnectionWritten(ended.session()));
    }
    answerDrainWaitersIfDone();
    return this;
  }

  private Behavior<Command> onConnectionWritten(ConnectionWritten written) {
    stillWriting.remove(written.session());
    answerDrainWaitersIfDone();
    return this;
  }

  private Behavior<Command> onAcceptFailed(AcceptFailed failed) {
    // The listening socket itself failed: without it the server is useless, so stop and let the
    // guardian bring the node down.
    getContext().getLog().error("listening socket failed: {}", failed.cause().toString());
    return Behaviors.stopped();
  }

  private Behavior<Command> onDrain(Drain drain) {
    drainWaiters.add(drain.replyTo());
    if (!draining) {
      draining = true;
      getContext().getLog().info("stopping: closing {} sessions", sessions.size());
      if (unbind != null) {
        getContext().pipeToSelf(unbind.get(), (done, failure) -> new Unbound(Done.getInstance()));
      } else {
        unbound = true;
      }
      sessions.keySet().forEach(session -> session.tell(Session.Shutdown.INSTANCE));
    }
    answerDrainWaitersIfDone();
    return this;
  }

  private Behavior<Command> onPostStop() {
    // The node is going: its connections' streams end with the actor system.
    if (socketIo != null) {
      socketIo.close();
    }
    return this;
  }

  private Behavior<Command> onUnbound(Unbound done) {
    unbound = true;
    answerDrainWaitersIfDone();
    return this;
  }

  private void answerDrainWaitersIfDone() {
    if (draining && unbound && sessions.isEmpty() && stillWriting.isEmpty()) {
      drainWaiters.forEach(waiter -> waiter.tell(Done.getInstance()));
      drainWaiters.clear();
    }
  }

  /** Whether the per-address limits let one more connection from {@code address} in. */
  private boolean admitted(InetAddress address) {
    if (newConnections == null || newConnections.isExempt(address)) {
      return true;
    }
    int open = openPerAddress.getOrDefault(address, 0);
    boolean admitted =
        open < settings.limits().maxConnectionsPerAddress()
            && newConnections.tryTake(address, TimeUnit.MILLISECONDS.toNanos(clock.millis()));
    if (!admitted) {
      getContext()
          .getLog()
          .info("connection rate limited remote={} open={}", address.getHostAddress(), open);
    }
    return admitted;
  }

  /** Unique, and readable in logs: the accept count and the client's address. */
  private String sessionName(InetSocketAddress remote) {
    accepted++;
    String host = NOT_IN_SESSION_NAME.matcher(remote.getAddress().getHostAddress()).replaceAll("_");
    return "session-" + accepted + "-" + host + "-" + remote.getPort();
  }
}
