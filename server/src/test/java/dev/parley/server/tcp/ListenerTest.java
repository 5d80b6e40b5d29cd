package dev.parley.server.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.session.Session;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestKits;
import dev.parley.server.testing.TestSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The listener over real loopback TCP, with plain sockets as clients: it binds, gives each
 * connection a session (through {@link SessionConnection}), enforces the connection limit, and
 * drains on shutdown.
 */
@ExtendWith(LogCapturingExtension.class)
// One instance for all tests, so that a subclass (another socket-io) gets a test kit of its own.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ListenerTest {

  private final ActorTestKit testKit = TestKits.create();

  private static final int READ_TIMEOUT_MILLIS = 5_000;
  private static final String CLIENT_HELLO = "{\"type\":\"hello\",\"version\":1}";
  private static final String SERVER_HELLO =
      "{\"type\":\"hello\",\"version\":3,\"server\":\"parley\","
          + "\"commandRate\":{\"perSecond\":20.0,\"burst\":100}}";
  private static final String SERVER_BUSY = "{\"type\":\"goodbye\",\"reason\":\"server-busy\"}";
  private static final String RATE_LIMITED = "{\"type\":\"goodbye\",\"reason\":\"rate-limited\"}";
  private static final String SERVER_SHUTDOWN =
      "{\"type\":\"goodbye\",\"reason\":\"server-shutdown\"}";

  private final List<Client> clients = new ArrayList<>();
  private TestProbe<Done> drained;
  private ActorRef<Listener.Command> listener;

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void createProbes() {
    drained = testKit.createTestProbe(Done.class);
  }

  @AfterEach
  void stopListener() throws IOException {
    for (Client client : clients) {
      client.close();
    }
    if (listener != null) {
      listener.tell(new Listener.Drain(drained.ref()));
      drained.expectMessage(Done.getInstance());
      testKit.stop(listener);
    }
  }

  @Test
  void shouldGiveEachConnectionASessionThatAnswersHello() throws Exception {
    InetSocketAddress address = start(settings(""));

    Client first = connect(address);
    Client second = connect(address);
    second.send(CLIENT_HELLO);
    first.send(CLIENT_HELLO);

    assertEquals(SERVER_HELLO, second.readLine());
    assertEquals(SERVER_HELLO, first.readLine());
  }

  @Test
  void shouldAnswerAnUnreadableLineAndKeepTheConnection() throws Exception {
    InetSocketAddress address = start(settings(""));
    Client client = connect(address);
    client.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, client.readLine());

    client.send("{\"type\":\"username\"}");
    assertEquals(
        "{\"type\":\"error\",\"code\":\"malformed-frame\",\"subject\":\"field 'username' is"
            + " required\"}",
        client.readLine());
    client.send("");
    client.send("not json");
    assertEquals(
        "{\"type\":\"error\",\"code\":\"malformed-frame\",\"subject\":\"a frame must be a JSON"
            + " object\"}",
        client.readLine());
  }

  @Test
  void shouldCloseTheConnectionAfterTheGoodbye() throws Exception {
    InetSocketAddress address = start(settings(""));
    Client client = connect(address);

    client.send("{\"type\":\"hello\",\"version\":4}");

    assertEquals("{\"type\":\"goodbye\",\"reason\":\"unsupported-version\"}", client.readLine());
    assertNull(client.readLine());
  }

  @Test
  void shouldSayFrameTooLongAndCloseWhenALineExceedsTheLimit() throws Exception {
    // The smallest frame limit there can be: room for the envelope and a text of one byte.
    InetSocketAddress address = start(settings("max-frame-bytes = 4097\nmax-text-bytes = 1"));
    Client client = connect(address);
    client.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, client.readLine());

    // No line feed needed: the server notices as soon as the limit is passed.
    client.sendWithoutLineFeed("{\"type\":\"username\",\"username\":\"" + "x".repeat(5000));

    assertEquals("{\"type\":\"goodbye\",\"reason\":\"frame-too-long\"}", client.readLine());
    assertNull(client.readLine());
  }

  @Test
  void shouldRefuseConnectionsFromOneAddressOverItsRateButNotFromAnother() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-12-05T12:00:00Z"));
    InetSocketAddress address =
        start(
            settings("limits.exempt = []\nlimits.connections { per-second = 1, burst = 2 }"),
            clock);

    // A burst of two is served...
    for (int i = 0; i < 2; i++) {
      Client served = connect(address, "127.0.0.1");
      served.send(CLIENT_HELLO);
      assertEquals(SERVER_HELLO, served.readLine());
    }
    // ...the third is told why and closed, before any session exists for it...
    Client refused = connect(address, "127.0.0.1");
    assertEquals(RATE_LIMITED, refused.readLine());
    assertNull(refused.readLine());
    // ...while another address is served as usual...
    Client neighbour = connect(address, "127.0.0.2");
    neighbour.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, neighbour.readLine());
    // ...and the first address again once its bucket has refilled.
    clock.advance(Duration.ofSeconds(1));
    Client later = connect(address, "127.0.0.1");
    later.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, later.readLine());
  }

  @Test
  void shouldLimitTheConnectionsOpenAtOnceFromOneAddress() throws Exception {
    InetSocketAddress address =
        start(settings("limits.exempt = []\nlimits.max-connections-per-address = 2"));
    Client first = connect(address, "127.0.0.1");
    first.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, first.readLine());
    Client second = connect(address, "127.0.0.1");
    second.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, second.readLine());

    Client third = connect(address, "127.0.0.1");
    assertEquals(RATE_LIMITED, third.readLine());

    // Once one closes, there is room again (as soon as the listener has seen its session end).
    first.close();
    for (int attempt = 1; ; attempt++) {
      Client again = connect(address, "127.0.0.1");
      String line = again.readLineAfterHello();
      if (SERVER_HELLO.equals(line)) {
        break;
      }
      assertEquals(RATE_LIMITED, line);
      assertTrue(attempt < 100, "the closed connection's place was never freed");
    }
  }

  @Test
  void shouldNotLimitAnExemptAddress() throws Exception {
    InetSocketAddress address = start(settings("limits.connections { per-second = 1, burst = 1 }"));
    // 127.0.0.0/8 is exempt by default.
    for (int i = 0; i < 5; i++) {
      Client client = connect(address, "127.0.0.1");
      client.send(CLIENT_HELLO);
      assertEquals(SERVER_HELLO, client.readLine());
    }
  }

  @Test
  void shouldTellAClientOverTheConnectionLimitThatTheServerIsBusy() throws Exception {
    InetSocketAddress address = start(settings("max-connections = 1"));
    Client admitted = connect(address);
    admitted.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, admitted.readLine());

    Client refused =
        LoggingTestKit.warn("connection limit reached")
            .expect(
                testKit.system(),
                () -> {
                  try {
                    Client client = connect(address);
                    assertEquals(SERVER_BUSY, client.readLine());
                    return client;
                  } catch (IOException e) {
                    throw new UncheckedIOException(e);
                  }
                });

    assertNull(refused.readLine());
    // The admitted client is untouched.
    admitted.send("{\"type\":\"whoelse\"}");
    assertTrue(admitted.readLine().startsWith("{\"type\":\"error\",\"code\":\"unexpected-frame\""));
  }

  @Test
  void shouldAdmitANewConnectionOnceASessionHasEnded() throws Exception {
    InetSocketAddress address = start(settings("max-connections = 1"));
    Client first = connect(address);
    first.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, first.readLine());

    first.close();

    // The listener learns of the end asynchronously: until then a newcomer may still be refused.
    drained.awaitAssert(
        Duration.ofSeconds(10),
        Duration.ofMillis(100),
        () -> {
          Client next = connect(address);
          next.send(CLIENT_HELLO);
          assertEquals(SERVER_HELLO, next.readLine());
          return null;
        });
  }

  @Test
  void shouldSayGoodbyeToEveryClientAndAnswerDoneOnDrain() throws Exception {
    InetSocketAddress address = start(settings(""));
    Client first = connect(address);
    Client second = connect(address);
    first.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, first.readLine());
    second.send(CLIENT_HELLO);
    assertEquals(SERVER_HELLO, second.readLine());

    listener.tell(new Listener.Drain(drained.ref()));

    assertEquals(SERVER_SHUTDOWN, first.readLine());
    assertNull(first.readLine());
    assertEquals(SERVER_SHUTDOWN, second.readLine());
    assertNull(second.readLine());
    drained.expectMessage(Done.getInstance());
    assertNotServed(address);
  }

  @Test
  void shouldAnswerDrainAtOnceWithoutSessions() throws Exception {
    InetSocketAddress address = start(settings(""));

    listener.tell(new Listener.Drain(drained.ref()));

    drained.expectMessage(Done.getInstance());
    assertNotServed(address);
  }

  // ---- helpers ----

  /** The listener's settings: the defaults (Akka IO's TCP) with {@code overrides}. */
  ServerSettings settings(String overrides) {
    return TestSettings.with(overrides);
  }

  private InetSocketAddress start(ServerSettings settings) throws Exception {
    return start(settings, Clock.systemUTC());
  }

  private InetSocketAddress start(ServerSettings settings, Clock clock) throws Exception {
    CompletableFuture<InetSocketAddress> bound = new CompletableFuture<>();
    Session.Services services =
        new Session.Services(
            testKit.<UserRegistry.Command>createTestProbe().ref(),
            testKit.<LoginGuard.Command>createTestProbe().ref(),
            testKit.<Broadcaster.Command>createTestProbe().ref());
    listener = testKit.spawn(Listener.create(settings, services, clock, bound));
    InetSocketAddress address = bound.get(5, TimeUnit.SECONDS);
    assertEquals("127.0.0.1", address.getAddress().getHostAddress());
    assertTrue(address.getPort() > 0, "bound to a free port");
    return address;
  }

  private Client connect(InetSocketAddress address) throws IOException {
    return connect(address, null);
  }

  /** A connection from {@code from} (any address of 127.0.0.0/8 reaches loopback on Linux). */
  private Client connect(InetSocketAddress address, String from) throws IOException {
    Client client = new Client(address, from);
    clients.add(client);
    return client;
  }

  /**
   * A connection attempt after a drain is not served: it is refused, reset, closed, or told the
   * server is shutting down, but never answered as a new session would be.
   */
  private void assertNotServed(InetSocketAddress address) throws IOException {
    Client client;
    try {
      client = connect(address);
    } catch (ConnectException refused) {
      return;
    }
    try {
      client.send(CLIENT_HELLO);
      String line = client.readLine();
      if (line != null) {
        assertEquals(SERVER_SHUTDOWN, line);
        assertNull(client.readLine());
      }
    } catch (SocketException reset) {
      // The listening socket closed with the connection still in its backlog.
    }
  }

  /** A line-oriented client on a plain socket; every read gives up after a few seconds. */
  private static final class Client implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;

    Client(InetSocketAddress address, String from) throws IOException {
      socket = new Socket();
      if (from != null) {
        socket.bind(new InetSocketAddress(from, 0));
      }
      socket.connect(address, READ_TIMEOUT_MILLIS);
      socket.setSoTimeout(READ_TIMEOUT_MILLIS);
      in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      out = socket.getOutputStream();
    }

    void send(String line) throws IOException {
      sendWithoutLineFeed(line + "\n");
    }

    void sendWithoutLineFeed(String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    /** Says hello and returns the answer: the server's hello, or the goodbye it sent first. */
    String readLineAfterHello() throws IOException {
      try {
        send(CLIENT_HELLO);
      } catch (SocketException closed) {
        // A refused connection may already be closed; its goodbye is still there to read.
      }
      return readLine();
    }

    /** The next line, or null at the end of the stream. */
    String readLine() throws IOException {
      return in.readLine();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }
}
