package dev.parley.client.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.NotUsed;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.stream.TLSClosing;
import akka.stream.TLSProtocol;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.TLS;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import dev.parley.client.testing.TestKits;
import dev.parley.transport.ClientTls;
import dev.parley.transport.ServerTls;
import dev.parley.transport.ServerVerifier;
import dev.parley.transport.TlsIdentity;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Both ends on Akka Streams' TLS, as a client and the server (or two clients in a private chat)
 * are: a line the connecting side writes as soon as the handshake allows reaches the other side.
 * Over TLS 1.3 the line often travels in the same read as the client's {@code Finished}, and Akka
 * 2.6's stage held such plaintext back until more data came ({@code ReportingEngine}); about half
 * of these connections lost their line before the engines worked around it.
 */
class TlsFirstLineTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final int CONNECTIONS = 40;

  /** Generous: a line that is held back never arrives, however long one waits. */
  private static final Duration PATIENCE = Duration.ofSeconds(10);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldDeliverTheFirstLineOfEveryConnection() throws Exception {
    ServerTls server = ServerTls.create(TlsIdentity.selfSigned("server", Duration.ofDays(1)));
    ClientTls client =
        ClientTls.create(Optional.of(TlsIdentity.selfSigned("client", Duration.ofDays(1))));
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    Tcp.ServerBinding binding =
        Tcp.get(testKit.system())
            .bind("127.0.0.1", 0)
            .to(
                Sink.foreach(
                    connection ->
                        connection.handleWith(
                            serverTls(server)
                                .join(
                                    Flow.fromSinkAndSource(
                                        Sink.<ByteString>foreach(
                                            bytes -> received.add(bytes.utf8String())),
                                        Source.<ByteString>maybe())),
                            testKit.system())))
            .run(testKit.system())
            .toCompletableFuture()
            .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    int port = binding.localAddress().getPort();

    List<String> lost = new ArrayList<>();
    for (int i = 0; i < CONNECTIONS; i++) {
      String line = "hello " + i + "\n";
      Tcp.get(testKit.system())
          .outgoingConnectionWithTls(
              InetSocketAddress.createUnresolved("127.0.0.1", port),
              () -> client.newEngine("127.0.0.1", port, ServerVerifier.trustAll()),
              Optional.empty(),
              Collections.emptyList(),
              Optional.empty(),
              Optional.empty(),
              session -> Optional.empty(),
              TLSClosing.eagerClose())
          .runWith(
              Source.single(ByteString.fromString(line)).concat(Source.maybe()),
              Sink.ignore(),
              testKit.system());
      String got = received.poll(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
      if (!line.equals(got)) {
        lost.add(line.strip() + " (got " + got + ")");
      }
    }
    assertEquals(List.of(), lost, "lines that did not arrive as written");
    binding.unbind();
  }

  private static BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> serverTls(
      ServerTls server) {
    return TLS.create(server::newEngine, TLSClosing.eagerClose())
        .reversed()
        .atop(
            BidiFlow.fromFlows(
                Flow.<TLSProtocol.SslTlsInbound>create()
                    .collectType(TLSProtocol.SessionBytes.class)
                    .map(TLSProtocol.SessionBytes::bytes),
                Flow.<ByteString>create().map(TLSProtocol.SendBytes::new)));
  }
}
