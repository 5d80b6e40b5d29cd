package dev.parley.client.testing;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A TCP listener on a free loopback port whose accepted connections the test takes one by one. */
public final class TestListener {

  public static final String LOOPBACK = "127.0.0.1";
  private static final Duration BIND_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration QUIET = Duration.ofMillis(200);

  private final Tcp.ServerBinding binding;
  private final TestProbe<Tcp.IncomingConnection> connections;

  private TestListener(Tcp.ServerBinding binding, TestProbe<Tcp.IncomingConnection> connections) {
    this.binding = binding;
    this.connections = connections;
  }

  public static TestListener bind(ActorTestKit testKit) {
    TestProbe<Tcp.IncomingConnection> connections = testKit.createTestProbe();
    try {
      Tcp.ServerBinding binding =
          Tcp.get(testKit.system())
              .bind(LOOPBACK, 0)
              .to(Sink.foreach(connections.ref()::tell))
              .run(testKit.system())
              .toCompletableFuture()
              .get(BIND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return new TestListener(binding, connections);
    } catch (InterruptedException | ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot bind a test listener", e);
    }
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  public Tcp.IncomingConnection expectConnection() {
    return connections.receiveMessage();
  }

  /** No connection arrives for a moment (real time, since nothing here runs on manual time). */
  public void expectNoConnection() {
    connections.expectNoMessage(QUIET);
  }

  /** Stops listening; completes once the port is closed. */
  public CompletionStage<?> unbind() {
    return binding.unbind();
  }
}
