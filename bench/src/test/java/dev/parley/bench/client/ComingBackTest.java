package dev.parley.bench.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A simulated user coming back, against a scripted server on loopback: the first connection logs in
 * and is then told {@code goodbye server-shutdown}; the next answers nothing at all (a connection
 * the server's kernel completed and the server never took); the one after answers {@code
 * already-online}; the last logs the user in again, sends again a message it had delivered before,
 * and a new one. The user comes back as Parley's client does: with the resumption token of its
 * first login, and with its password once the server refuses the token.
 */
class ComingBackTest {

  private static final Duration PATIENCE = Duration.ofSeconds(20);
  private static final String HELLO =
      "{\"type\":\"hello\",\"version\":2,\"server\":\"fake\","
          + "\"commandRate\":{\"perSecond\":20.0,\"burst\":100}}";

  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger connections = new AtomicInteger();

  /** The resumption tokens the user presented, in order. */
  private final List<String> tokensPresented = new CopyOnWriteArrayList<>();

  /** Whether the server refuses the token (on the third connection) rather than take it. */
  private volatile boolean refuseResume;

  /**
   * Whether the silent connection is given up by the connect timeout (nothing from the server since
   * it opened), as Parley's client does, rather than by the login timeout.
   */
  private boolean silenceEndedByConnectTimeout;

  private ServerSocket server;
  private Fleet fleet;

  @AfterEach
  void tearDown() throws IOException {
    if (fleet != null) {
      fleet.close();
    }
    for (Socket socket : sockets) {
      socket.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void shouldComeBackThroughSilenceAndRefusalsByResumingItsSession() throws Exception {
    Reconnects.Storm storm = comeBack();

    // Connection 3 was refused (already online) with the token, which stayed good for connection 4.
    assertEquals(List.of("t1", "t1"), tokensPresented);
    assertEquals(1, storm.resumed());
    assertEquals(0, storm.resumeRefused());
  }

  @Test
  void shouldGiveThePasswordOnceTheServerRefusesTheToken() throws Exception {
    refuseResume = true;

    Reconnects.Storm storm = comeBack();

    // Refused on connection 3, whose username then met already-online; the password on 4.
    assertEquals(List.of("t1"), tokensPresented);
    assertEquals(0, storm.resumed());
    assertEquals(1, storm.resumeRefused());
  }

  @Test
  void shouldGiveUpAConnectionTheServerSaysNothingOnAsTheClientDoes() throws Exception {
    silenceEndedByConnectTimeout = true;

    Reconnects.Storm storm = comeBack();

    assertEquals(List.of("t1", "t1"), tokensPresented);
    assertEquals(1, storm.resumed());
  }

  private Reconnects.Storm comeBack() throws Exception {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "fake-server");
    acceptor.setDaemon(true);
    acceptor.start();

    fleet =
        Fleet.start(
            new Fleet.Settings(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()),
                // A fake server speaking the protocol over plain TCP.
                Optional.empty(),
                "u",
                "pw",
                1,
                1,
                1,
                64 * 1024 + 1,
                16,
                Duration.ZERO));
    Fleet.LoginResult login = fleet.logIn(() -> {});
    assertEquals(1, login.loggedIn(), login.failures().toString());
    assertEquals(new Fleet.CommandRate(20.0, 100), fleet.commandRate().orElseThrow());
    Backoff quick = new Backoff(Duration.ofMillis(10), Duration.ofMillis(40), 0);
    long silence = Duration.ofMillis(300).toNanos();
    Reconnects reconnects =
        silenceEndedByConnectTimeout
            ? new Reconnects(quick, 0, silence, true)
            : new Reconnects(quick, silence, 0, true);
    fleet.reconnect(reconnects);
    AtomicInteger received = new AtomicInteger();
    fleet.install(
        (user, type, line, from, to) -> {
          if (type == FrameType.MESSAGE_RECEIVED) {
            received.incrementAndGet();
          }
        },
        loop -> {});

    // The first connection delivers message 1, then the server goes away politely.
    write(
        sockets.get(0), "{\"type\":\"message-received\",\"from\":\"x\",\"text\":\"t\",\"seq\":1}");
    awaitTrue(() -> received.get() == 1, "the first message");
    write(sockets.get(0), "{\"type\":\"goodbye\",\"reason\":\"server-shutdown\"}");
    sockets.get(0).close();

    Reconnects.Storm storm = reconnects.storm();
    awaitTrue(() -> storm.back() == 1, "back");
    assertEquals(0, reconnects.away());
    assertEquals(Map.of("goodbye-server-shutdown", 1L), storm.lostBy());
    assertEquals(Map.of("no-answer", 1L, "login-failed-already-online", 1L), storm.refusedBy());
    assertEquals(3, storm.attempts());
    assertEquals(4, connections.get());
    // Message 1 came again (never acknowledged), and was passed on once; message 2 is new.
    awaitTrue(() -> received.get() == 2, "the new message");
    assertEquals(2, fleet.user(0).logins());
    return storm;
  }

  // ---------------------------------------------------------------- the scripted server

  private void accept() {
    try {
      while (!server.isClosed()) {
        Socket socket = server.accept();
        sockets.add(socket);
        int number = connections.incrementAndGet();
        Thread handler = new Thread(() -> serve(socket, number), "fake-connection-" + number);
        handler.setDaemon(true);
        handler.start();
      }
    } catch (IOException e) {
      // Closed by the test.
    }
  }

  private void serve(Socket socket, int number) {
    try (BufferedReader in =
        new BufferedReader(
            new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (number == 2) {
          continue; // Taken by the kernel, never by the server: silence.
        }
        if (line.contains("\"logout\"")) {
          write(socket, "{\"type\":\"goodbye\",\"reason\":\"logged-out\"}");
          socket.close();
        } else if (line.contains("\"hello\"")) {
          write(socket, HELLO);
        } else if (line.contains("\"resume\"")) {
          tokensPresented.add(line.replaceAll(".*\"token\":\"([^\"]*)\".*", "$1"));
          if (number == 3) {
            write(
                socket,
                refuseResume
                    ? "{\"type\":\"login-failed\",\"reason\":\"resume-refused\",\"username\":\"u0\"}"
                    : "{\"type\":\"login-failed\",\"reason\":\"already-online\",\"username\":\"u0\"}");
          } else {
            write(
                socket, "{\"type\":\"login-accepted\",\"username\":\"u0\",\"resumeToken\":\"t2\"}");
            messagesAfterReturn(socket, number);
          }
        } else if (line.contains("\"username\"")) {
          write(
              socket,
              number == 3
                  ? "{\"type\":\"login-failed\",\"reason\":\"already-online\",\"username\":\"u0\"}"
                  : "{\"type\":\"password-required\",\"username\":\"u0\"}");
        } else if (line.contains("\"password\"")) {
          write(
              socket,
              "{\"type\":\"login-accepted\",\"username\":\"u0\",\"resumeToken\":\"t"
                  + (number == 1 ? 1 : 2)
                  + "\"}");
          messagesAfterReturn(socket, number);
        }
      }
    } catch (IOException e) {
      // The connection ended.
    }
  }

  private static void messagesAfterReturn(Socket socket, int number) throws IOException {
    if (number == 4) {
      write(
          socket,
          "{\"type\":\"message-received\",\"from\":\"x\",\"text\":\"t\",\"seq\":1}",
          "{\"type\":\"message-received\",\"from\":\"x\",\"text\":\"t\",\"seq\":2}");
    }
  }

  private static void write(Socket socket, String... frames) throws IOException {
    OutputStream out = socket.getOutputStream();
    synchronized (socket) {
      for (String frame : frames) {
        out.write((frame + "\n").getBytes(StandardCharsets.UTF_8));
      }
      out.flush();
    }
  }

  private static void awaitTrue(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "no " + what + " within " + PATIENCE);
      Thread.sleep(5);
    }
  }
}
