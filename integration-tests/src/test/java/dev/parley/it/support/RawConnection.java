package dev.parley.it.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A bare TCP connection to the server speaking the wire protocol by hand, for input no real client
 * would send. Reads wait at most {@link HeadlessClient#PATIENCE}.
 */
public final class RawConnection implements AutoCloseable {

  private final Socket socket;
  private final BufferedReader in;
  private final OutputStream out;

  public RawConnection(TestServer server) {
    try {
      this.socket = new Socket(server.host(), server.port());
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
    RawConnection connection = new RawConnection(server);
    connection.send("{\"type\":\"hello\",\"version\":2}");
    connection.expectHello();
    connection.send("{\"type\":\"username\",\"username\":\"" + user + "\"}");
    connection.expect("{\"type\":\"password-required\",\"username\":\"" + user + "\"}");
    connection.send(
        "{\"type\":\"password\",\"password\":\""
            + TestServer.PASSWORDS.get(user)
            + "\",\"peerPort\":9}");
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

  /** The server's hello (with the command rate it announces, whatever that is). */
  public RawConnection expectHello() {
    String hello = readLine();
    org.junit.jupiter.api.Assertions.assertTrue(
        hello != null && hello.startsWith(SERVER_HELLO), "not the server's hello: " + hello);
    return this;
  }

  /** How the server's hello starts. */
  public static final String SERVER_HELLO = "{\"type\":\"hello\",\"version\":2,\"server\":\"parley\"";

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
