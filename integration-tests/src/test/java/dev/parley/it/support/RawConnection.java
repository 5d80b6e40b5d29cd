package dev.parley.it.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * A bare TCP connection to the server speaking the wire protocol by hand, for input no real client
 * would send. Reads wait at most {@link HeadlessClient#PATIENCE}.
 */
public final class RawConnection implements AutoCloseable {

  private final Socket socket;
  private final BufferedReader in;
  private final OutputStream out;

  public RawConnection(TestServer server) {
    this(null, server.host(), server.port());
  }

  public RawConnection(String host, int port) {
    this(null, host, port);
  }

  /**
   * A connection from {@code localAddress} (any, if null): on Linux every address of 127.0.0.0/8 is
   * this machine, so a test can play a client from another address, such as 127.0.0.2.
   */
  public RawConnection(InetAddress localAddress, String host, int port) {
    try {
      this.socket = new Socket(host, port, localAddress, 0);
      socket.setSoTimeout((int) HeadlessClient.PATIENCE.toMillis());
      this.in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      this.out = socket.getOutputStream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Connects and logs in as {@code user}, reading up to login-accepted. */
  public static RawConnection login(TestServer server, String user) {
    return login(server.host(), server.port(), user, TestServer.PASSWORDS.get(user));
  }

  /** Connects to host:port and logs in as {@code user}, reading up to login-accepted. */
  public static RawConnection login(String host, int port, String user, String password) {
    RawConnection connection = new RawConnection(host, port);
    connection.send("{\"type\":\"hello\",\"version\":2}");
    connection.expectHello();
    connection.send("{\"type\":\"username\",\"username\":\"" + user + "\"}");
    connection.expect("{\"type\":\"password-required\",\"username\":\"" + user + "\"}");
    connection.send("{\"type\":\"password\",\"password\":\"" + password + "\",\"peerPort\":9}");
    connection.expect("{\"type\":\"login-accepted\",\"username\":\"" + user + "\"}");
    return connection;
  }

  /** Sends one line (a line feed is added). */
  public RawConnection send(String line) {
    sendBytes((line + "\n").getBytes(StandardCharsets.UTF_8));
    return this;
  }

  public RawConnection sendBytes(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** The next line from the server, or null at end of stream. */
  public String readLine() {
    try {
      return in.readLine();
    } catch (SocketTimeoutException e) {
      throw new AssertionError("nothing from the server within " + HeadlessClient.PATIENCE, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The next line that is not an event (a presence notice, a message or a broadcast received): the
   * answer to the command sent before it, whatever other users did meanwhile.
   */
  public String nextReply() {
    while (true) {
      String line = readLine();
      if (line == null || !EVENT.matcher(line).lookingAt()) {
        return line;
      }
    }
  }

  /** The next line that is not an event must be this. */
  public RawConnection expectReply(String line) {
    org.junit.jupiter.api.Assertions.assertEquals(line, nextReply());
    return this;
  }

  private static final Pattern EVENT =
      Pattern.compile(
          "\\{\"type\":\"(user-logged-in|user-logged-out|message-received|broadcast-received)\"");

  /** The server's hello (with the command rate it announces, whatever that is). */
  public RawConnection expectHello() {
    String hello = readLine();
    org.junit.jupiter.api.Assertions.assertTrue(
        hello != null && hello.startsWith(SERVER_HELLO), "not the server's hello: " + hello);
    return this;
  }

  /** How the server's hello starts. */
  public static final String SERVER_HELLO =
      "{\"type\":\"hello\",\"version\":3,\"server\":\"parley\"";

  public RawConnection expect(String line) {
    org.junit.jupiter.api.Assertions.assertEquals(line, readLine());
    return this;
  }

  /** The server closed the connection (end of stream, or a reset after it stopped reading). */
  public void expectClosed() {
    try {
      org.junit.jupiter.api.Assertions.assertNull(in.readLine());
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the server did not close the connection", e);
    } catch (IOException reset) {
      // A reset is a close too.
    }
  }

  /** Closes abruptly: no logout, no goodbye. */
  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // Already gone.
    }
  }
}
