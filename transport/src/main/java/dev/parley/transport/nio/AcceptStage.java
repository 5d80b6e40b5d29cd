package dev.parley.transport.nio;

import akka.Done;
import akka.stream.Attributes;
import akka.stream.Outlet;
import akka.stream.SourceShape;
import akka.stream.javadsl.Tcp;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStageLogic;
import akka.stream.stage.GraphStageWithMaterializedValue;
import akka.stream.stage.TimerGraphStageLogic;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * A listening socket as a source of connections, each a {@link Tcp.IncomingConnection} whose flow
 * is a {@link SocketStage}: the shape Akka's own TCP gives, so that what handles a connection does
 * not depend on which of the two accepted it. A connection is accepted only when downstream asks
 * for one, so a busy consumer leaves the rest in the kernel's backlog.
 *
 * <p>The socket is bound when the stream starts; the materialized value completes with the binding,
 * or with the reason the port could not be bound.
 *
 * <p>An accept that fails (out of file descriptors, mostly) is logged and retried after {@code
 * acceptRetry}: the connection waiting stays in the backlog, and retrying at once would spin.
 */
final class AcceptStage
    extends GraphStageWithMaterializedValue<
        SourceShape<Tcp.IncomingConnection>, CompletionStage<SocketBinding>> {

  private static final Logger LOG = LoggerFactory.getLogger(AcceptStage.class);

  private final Outlet<Tcp.IncomingConnection> out = Outlet.create("AcceptStage.out");
  private final SourceShape<Tcp.IncomingConnection> shape = SourceShape.of(out);

  private final SocketIo io;
  private final InetSocketAddress address;
  private final int backlog;
  private final Duration acceptRetry;

  AcceptStage(SocketIo io, InetSocketAddress address, int backlog, Duration acceptRetry) {
    this.io = io;
    this.address = address;
    this.backlog = backlog;
    this.acceptRetry = acceptRetry;
  }

  @Override
  public SourceShape<Tcp.IncomingConnection> shape() {
    return shape;
  }

  @Override
  public Tuple2<GraphStageLogic, CompletionStage<SocketBinding>> createLogicAndMaterializedValue(
      Attributes inheritedAttributes) {
    CompletableFuture<SocketBinding> bound = new CompletableFuture<>();
    return Tuple2.apply(new Logic(bound), bound);
  }

  private final class Logic extends TimerGraphStageLogic implements SelectorLoop.ReadyHandler {

    private final CompletableFuture<SocketBinding> bound;
    private final CompletableFuture<Done> unbound = new CompletableFuture<>();
    private final SelectorLoop loop = io.nextLoop();
    private ServerSocketChannel server;
    private SelectionKey key;
    private AsyncCallback<Integer> onReady;
    private boolean armed;

    private Logic(CompletableFuture<SocketBinding> bound) {
      super(shape);
      this.bound = bound;
      setHandler(
          out,
          new AbstractOutHandler() {
            @Override
            public void onPull() {
              if (!armed) {
                accept();
              }
            }
          });
    }

    @Override
    public void preStart() {
      onReady = createAsyncCallback(ops -> onReady());
      AsyncCallback<Done> onUnbind = createAsyncCallback(done -> completeStage());
      try {
        server = ServerSocketChannel.open();
        server.bind(address, backlog);
        server.configureBlocking(false);
        key = loop.register(server, this);
      } catch (IOException e) {
        bound.completeExceptionally(e);
        failStage(e);
        return;
      }
      InetSocketAddress local = (InetSocketAddress) server.socket().getLocalSocketAddress();
      bound.complete(
          new SocketBinding(
              local,
              () -> {
                onUnbind.invoke(Done.getInstance());
                return unbound;
              }));
    }

    @Override
    public void ready(int readyOps) {
      onReady.invoke(readyOps);
    }

    private void onReady() {
      armed = false;
      if (isAvailable(out)) {
        accept();
      }
    }

    private void accept() {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (IOException e) {
        LOG.warn("accepting a connection failed, retrying in {}: {}", acceptRetry, e.toString());
        armed = true;
        scheduleOnce(AcceptStage.class, acceptRetry);
        return;
      }
      if (channel == null) {
        armed = true;
        loop.arm(key, SelectionKey.OP_ACCEPT);
        return;
      }
      try {
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        InetSocketAddress remote = (InetSocketAddress) channel.getRemoteAddress();
        push(
            out,
            new Tcp.IncomingConnection(
                new akka.stream.scaladsl.Tcp.IncomingConnection(
                    (InetSocketAddress) channel.getLocalAddress(),
                    remote,
                    io.connection(channel).asScala())));
      } catch (IOException e) {
        // Gone before it could be set up (reset by the client): only that connection.
        LOG.debug("accepted connection lost before it started: {}", e.toString());
        loop.close(channel);
        accept();
      }
    }

    @Override
    public void onTimer(Object timerKey) {
      onReady();
    }

    @Override
    public void postStop() {
      if (server != null) {
        loop.close(server);
      }
      bound.completeExceptionally(new IOException("the listening socket closed before binding"));
      unbound.complete(Done.getInstance());
    }
  }
}
