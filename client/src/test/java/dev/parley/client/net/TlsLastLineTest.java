package dev.parley.client.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.stream.TLSClosing;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The last line a private chat's end writes before it closes ({@code bye}) reaches the peer. The
 * writing side's protocol stream is coupled: the moment its outbound completes, its inbound is
 * cancelled; over {@link Connections#tls} the connection must still carry the line, then close.
 * With Akka's eager close the TLS stage could act on the cancellation first and drop the line.
 */
class TlsLastLineTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final int CONNECTIONS = 40;
  private static final Duration PATIENCE = Duration.ofSeconds(10);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldDeliverTheLastLineWrittenBeforeTheClose() throws Exception {
    ServerTls server = ServerTls.create(TlsIdentity.selfSigned("server", Duration.ofDays(1)));
    ClientTls client =
        ClientTls.create(Optional.of(TlsIdentity.selfSigned("client", Duration.ofDays(1))));
    Tcp.ServerBinding binding =
        Tcp.get(testKit.system())
            .bind("127.0.0.1", 0)
            .to(
                Sink.foreach(
                    connection ->
                        connection.handleWith(
                            Connections.tls(server::newEngine)
                                .join(
                                    // Writes its line and completes, which cancels its inbound.
                                    Flow.fromSinkAndSourceCoupled(
                                        Sink.<ByteString>ignore(),
                                        Source.single(ByteString.fromString("bye\n")))),
                            testKit.system())))
            .run(testKit.system())
            .toCompletableFuture()
            .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    int port = binding.localAddress().getPort();

    List<String> lost = new ArrayList<>();
    for (int i = 0; i < CONNECTIONS; i++) {
      ByteString got =
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
                  Source.<ByteString>maybe(),
                  Sink.fold(ByteString.emptyByteString(), ByteString::concat),
                  testKit.system())
              .second()
              .toCompletableFuture()
              .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
      if (!got.utf8String().equals("bye\n")) {
        lost.add("connection " + i + " got '" + got.utf8String() + "'");
      }
    }
    assertEquals(List.of(), lost, "connections whose last line did not arrive");
    binding.unbind();
  }
}
