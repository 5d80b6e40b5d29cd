package dev.parley.client.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.client.ClientSettings;
import dev.parley.client.testing.RawPeer;
import dev.parley.client.testing.TestKits;
import dev.parley.client.testing.TestListener;
import dev.parley.client.testing.TestSettings;
import dev.parley.protocol.JsonCodec;
import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class PeerListenerTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final ClientSettings settings = TestSettings.defaults();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ClientSettings onPort(int port) {
    return TestSettings.with("peer-port = " + port);
  }

  @Test
  void shouldReportTheBoundPortAndHandOverEveryConnection() {
    TestProbe<PrivateChats.AcceptConnection> chats = testKit.createTestProbe();
    TestProbe<PeerListener.ListenResult> result = testKit.createTestProbe();
    ActorRef<PeerListener.Command> listener =
        testKit.spawn(PeerListener.create(settings, chats.ref()));

    listener.tell(new PeerListener.Listen(TestListener.LOOPBACK, result.ref()));
    PeerListener.Listening listening = result.expectMessageClass(PeerListener.Listening.class);
    int port = listening.address().getPort();
    assertTrue(port > 0, "bound to " + listening.address());

    RawPeer.connect(port, JsonCodec.PEER, JsonCodec.PEER, testKit.system());
    RawPeer.connect(port, JsonCodec.PEER, JsonCodec.PEER, testKit.system());
    assertEquals(port, chats.receiveMessage().connection().localAddress().getPort());
    assertEquals(port, chats.receiveMessage().connection().localAddress().getPort());

    // Asked again, it reports the same binding instead of binding twice.
    listener.tell(new PeerListener.Listen(TestListener.LOOPBACK, result.ref()));
    result.expectMessage(listening);
    testKit.stop(listener);
  }

  @Test
  void shouldReportAPortThatCannotBeBound() throws IOException {
    try (ServerSocket taken = new ServerSocket(0)) {
      TestProbe<PeerListener.ListenResult> result = testKit.createTestProbe();
      ActorRef<PeerListener.Command> listener =
          testKit.spawn(
              PeerListener.create(
                  onPort(taken.getLocalPort()),
                  testKit.<PrivateChats.AcceptConnection>createTestProbe().ref()));
      listener.tell(new PeerListener.Listen(TestListener.LOOPBACK, result.ref()));
      PeerListener.ListenFailed failed = result.expectMessageClass(PeerListener.ListenFailed.class);
      assertEquals(TestListener.LOOPBACK, failed.host());
      assertTrue(failed.reason().toLowerCase().contains("in use"), failed.reason());
    }
  }
}
