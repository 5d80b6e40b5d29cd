package dev.parley.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One client connection to a node, frame by frame, over either of its transports: newline-framed
 * JSON over the clients' TCP port, or one JSON frame per text message over the HTTP port's {@code
 * /ws}. Tests written against it run the same flow over both.
 */
public abstract class Wire implements AutoCloseable {

  /** How long a frame may take to come. */
  public static final Duration WAIT = Duration.ofSeconds(20);

  /** What {@link #next()} returns once the server has closed the connection. */
  public static final String CLOSED = "<closed>";

  private static final String HEARTBEAT = "{\"type\":\"heartbeat\"}";

  private final BlockingQueue<String> frames = new LinkedBlockingQueue<>();
  private volatile boolean answerHeartbeats = true;

  /** The transports a node speaks. */
  public enum Transport {
    TCP,
    WEBSOCKET;

    /** Opens a connection; {@code tcp} and {@code http} are the node's two bound ports. */
    public Wire open(InetSocketAddress tcp, InetSocketAddress http) throws Exception {
      return this == TCP ? new Tcp(tcp) : WebSocketWire.open(http, Optional.empty());
    }
  }

  /** Sends one frame. */
  public abstract void send(String frame) throws Exception;

  /** The next frame from the server, or {@link #CLOSED}; fails after {@link #WAIT}. */
  public String next() throws InterruptedException {
    String frame = frames.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertNotNull(frame, "nothing came within " + WAIT);
    return frame;
  }

  /** The next frame, which must be {@code expected} exactly. */
  public void expect(String expected) throws InterruptedException {
    assertEquals(expected, next());
  }

  /** The first frame containing {@code marker}; those before it are skipped. */
  public String await(String marker) throws InterruptedException {
    while (true) {
      String frame = next();
      if (frame.contains(marker)) {
        return frame;
      }
      if (frame.equals(CLOSED)) {
        fail("closed before a frame with " + marker);
      }
    }
  }

  /** Skips frames up to the end of the connection. */
  public void awaitClosed() throws InterruptedException {
    while (!next().equals(CLOSED)) {
      // The frames before the close (a goodbye) are the caller's to check first if it cares.
    }
  }

  /** hello, username, password: logged in (the frames after login-accepted are left to read). */
  public void login(String user, String password) throws Exception {
    send("{\"type\":\"hello\",\"version\":3}");
    assertTrue(await("\"type\":\"hello\"").contains("\"version\":3"));
    send("{\"type\":\"username\",\"username\":\"" + user + "\"}");
    expect("{\"type\":\"password-required\",\"username\":\"" + user + "\"}");
    send("{\"type\":\"password\",\"password\":\"" + password + "\"}");
    assertTrue(next().startsWith("{\"type\":\"login-accepted\",\"username\":\"" + user + "\""));
  }

  /**
   * Off: the server's heartbeats are left unanswered and read like any frame, as from a client that
   * has stopped. On (the default), they are answered at once, as a live client does, and not read,
   * so that they cannot come between a command and its answer.
   */
  public void answerHeartbeats(boolean answer) {
    answerHeartbeats = answer;
  }

  protected void received(String frame) {
    if (answerHeartbeats && frame.equals(HEARTBEAT)) {
      try {
        send(HEARTBEAT);
      } catch (Exception e) {
        // The connection is closing; its end is read as CLOSED.
      }
      return;
    }
    frames.add(frame);
  }

  protected void ended() {
    frames.add(CLOSED);
  }

  private static final class Tcp extends Wire {
    private final Socket socket;
    private final OutputStream out;

    Tcp(InetSocketAddress address) throws IOException {
      socket = new Socket(address.getAddress(), address.getPort());
      out = socket.getOutputStream();
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      Thread reader =
          new Thread(
              () -> {
                try {
                  for (String line = in.readLine(); line != null; line = in.readLine()) {
                    received(line);
                  }
                } catch (IOException e) {
                  // Closed by either side: the end of the connection, as a clean close is.
                }
                ended();
              },
              "wire-reader");
      reader.setDaemon(true);
      reader.start();
    }

    @Override
    public synchronized void send(String frame) throws IOException {
      // Synchronized: the reader thread answers heartbeats between the test's own frames.
      out.write((frame + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  /** Over {@code /ws}, with Java's own WebSocket client, and an {@code Origin} if given. */
  public static final class WebSocketWire extends Wire implements WebSocket.Listener {
    private final StringBuilder partial = new StringBuilder();
    private final ThreadLocal<Boolean> inListener = ThreadLocal.withInitial(() -> false);
    private CompletableFuture<WebSocket> lastSend = CompletableFuture.completedFuture(null);
    private WebSocket socket;

    public static WebSocketWire open(InetSocketAddress http, Optional<String> origin)
        throws Exception {
      WebSocketWire wire = new WebSocketWire();
      WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder();
      origin.ifPresent(value -> builder.header("Origin", value));
      wire.socket =
          builder
              .buildAsync(URI.create("ws://127.0.0.1:" + http.getPort() + "/ws"), wire)
              .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      return wire;
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        inListener.set(true);
        try {
          received(partial.toString());
        } finally {
          inListener.set(false);
        }
        partial.setLength(0);
      }
      webSocket.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
      ended();
      return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
      ended();
    }

    @Override
    public void send(String frame) throws Exception {
      CompletableFuture<WebSocket> sent;
      // One send at a time (Java's WebSocket refuses overlapping ones), chained rather than
      // awaited, since the listener's thread answers heartbeats through here.
      synchronized (this) {
        sent = lastSend.thenCompose(ignored -> socket.sendText(frame, true));
        lastSend = sent;
      }
      if (!inListener.get()) {
        sent.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      }
    }

    @Override
    public void close() {
      if (!socket.isOutputClosed()) {
        socket.sendClose(WebSocket.NORMAL_CLOSURE, "");
      }
      socket.abort();
    }
  }
}
