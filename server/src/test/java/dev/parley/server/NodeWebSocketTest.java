package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Store;
import dev.parley.server.testing.TestDatabase;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The protocol over both transports of one node: a user on the clients' TCP port and a user on the
 * HTTP port's {@code /ws} reach each other's sessions, with the same frames.
 */
class NodeWebSocketTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;

  private TestDatabase database;
  private Store store;
  private ParleyServer server;

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    if (database != null) {
      database.close();
    }
  }

  private void start(String overrides) throws Exception {
    database = TestDatabase.h2(dir);
    store = database.open();
    PasswordHasher hasher = new PasswordHasher(1_000);
    Clock clock = Clock.systemUTC();
    store.addAccount("alice", hasher.hash("alice-pw"), clock.instant());
    store.addAccount("bob", hasher.hash("bob-pw"), clock.instant());
    Config config =
        ConfigFactory.parseString(
                "parley.server { port = 0, host = \"127.0.0.1\", tls.enabled = off, http.port = 0, "
                    + overrides
                    + " }")
            .withFallback(ConfigFactory.load());
    server =
        ParleyServer.start(
            config,
            ServerSettings.fromConfig(config),
            new Guardian.Storage(store, database.settings(), store.load(clock.instant())),
            clock);
  }

  private Frames openWebSocket() throws Exception {
    InetSocketAddress http =
        server.httpBound().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    Frames frames = new Frames();
    frames.socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .buildAsync(URI.create("ws://127.0.0.1:" + http.getPort() + "/ws"), frames)
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    return frames;
  }

  @Test
  void shouldCountWebSocketSessionsAgainstMaxConnectionsWithTcpOnes() throws Exception {
    start("max-connections = 1");
    InetSocketAddress tcp =
        server.bound().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    try (Socket alice = new Socket(tcp.getAddress(), tcp.getPort())) {
      alice.setSoTimeout((int) WAIT.toMillis());
      alice
          .getOutputStream()
          .write("{\"type\":\"hello\",\"version\":3}\n".getBytes(StandardCharsets.UTF_8));
      BufferedReader aliceIn =
          new BufferedReader(new InputStreamReader(alice.getInputStream(), StandardCharsets.UTF_8));
      // Alice's session exists once it has answered.
      awaitLine(aliceIn, "\"hello\"");
      Frames bob = openWebSocket();
      String goodbye = bob.await("goodbye");
      assertTrue(goodbye.contains("server-busy"), goodbye);
      bob.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  @Test
  void shouldSayGoodbyeToWebSocketSessionsWhenStopping() throws Exception {
    start("");
    server.bound().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    Frames bob = openWebSocket();
    send(bob.socket, "{\"type\":\"hello\",\"version\":3}");
    bob.await("\"hello\"");

    server.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
    server = null;

    String goodbye = bob.await("goodbye");
    assertTrue(goodbye.contains("server-shutdown"), goodbye);
  }

  @Test
  void shouldCarryMessagesBetweenTcpAndWebSocketUsers() throws Exception {
    start("");
    InetSocketAddress tcp =
        server.bound().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    InetSocketAddress http =
        server.httpBound().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);

    try (Socket alice = new Socket(tcp.getAddress(), tcp.getPort())) {
      alice.setSoTimeout((int) WAIT.toMillis());
      BufferedReader aliceIn =
          new BufferedReader(new InputStreamReader(alice.getInputStream(), StandardCharsets.UTF_8));
      OutputStream aliceOut = alice.getOutputStream();
      TcpLines aliceLines =
          line -> {
            aliceOut.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            aliceOut.flush();
          };

      Frames bobIn = new Frames();
      WebSocket bob =
          HttpClient.newHttpClient()
              .newWebSocketBuilder()
              .buildAsync(URI.create("ws://127.0.0.1:" + http.getPort() + "/ws"), bobIn)
              .get(WAIT.toSeconds(), TimeUnit.SECONDS);

      aliceLines.send("{\"type\":\"hello\",\"version\":3}");
      awaitLine(aliceIn, "\"hello\"");
      aliceLines.send("{\"type\":\"username\",\"username\":\"alice\"}");
      awaitLine(aliceIn, "password-required");
      aliceLines.send("{\"type\":\"password\",\"password\":\"alice-pw\",\"peerPort\":50001}");
      awaitLine(aliceIn, "login-accepted");

      send(bob, "{\"type\":\"hello\",\"version\":3}");
      bobIn.await("\"hello\"");
      send(bob, "{\"type\":\"username\",\"username\":\"bob\"}");
      bobIn.await("password-required");
      send(bob, "{\"type\":\"password\",\"password\":\"bob-pw\",\"peerPort\":50002}");
      bobIn.await("login-accepted");

      aliceLines.send("{\"type\":\"message\",\"to\":\"bob\",\"text\":\"over tcp\",\"id\":\"a1\"}");
      awaitLine(aliceIn, "message-accepted");
      String received = bobIn.await("message-received");
      assertTrue(received.contains("over tcp") && received.contains("alice"), received);

      send(
          bob, "{\"type\":\"message\",\"to\":\"alice\",\"text\":\"over websocket\",\"id\":\"b1\"}");
      bobIn.await("message-accepted");
      String back = awaitLine(aliceIn, "message-received");
      assertTrue(back.contains("over websocket") && back.contains("bob"), back);

      bob.sendClose(WebSocket.NORMAL_CLOSURE, "").get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  private interface TcpLines {
    void send(String line) throws Exception;
  }

  private static void send(WebSocket socket, String frame) throws Exception {
    socket.sendText(frame, true).get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The first line containing {@code marker}; the lines before it are skipped. */
  private static String awaitLine(BufferedReader in, String marker) throws Exception {
    while (true) {
      String line = in.readLine();
      assertNotNull(line, "closed before " + marker);
      if (line.contains(marker)) {
        return line;
      }
    }
  }

  /** The text messages a WebSocket receives, each whole. */
  private static final class Frames implements WebSocket.Listener {
    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private WebSocket socket;

    @Override
    public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
      closed.complete(statusCode);
      return null;
    }

    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        messages.add(partial.toString());
        partial.setLength(0);
      }
      socket.request(1);
      return null;
    }

    String await(String marker) throws Exception {
      while (true) {
        String message = messages.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(message, "no message containing " + marker);
        if (message.contains(marker)) {
          return message;
        }
      }
    }
  }
}
