package dev.parley.it.support;

import dev.parley.transport.Fingerprint;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsMaterialException;
import dev.parley.transport.testing.TestTls;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;

/**
 * A bare connection to the server speaking the wire protocol by hand, for input no real client
 * would send. Reads wait at most {@link HeadlessClient#PATIENCE}.
 *
 * <p>Over TLS, as the server speaks by default, presenting a client certificate: {@link #CLIENT}
 * unless another identity is given, so that connections made without one are the same client (a
 * resumption from one of them is not a stolen token). The server's certificate is not checked:
 * these tests are about the protocol; the client's checks have tests of their own.
 */
public final class RawConnection implements AutoCloseable {

  /** The identity of every raw connection that is not given another. */
  public static final TlsIdentity CLIENT = identity("raw test client");

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
    this(localAddress, host, port, anyServer(Optional.of(CLIENT)));
  }

  /** A TLS connection presenting {@code identity} (none, if empty). */
  public static RawConnection as(Optional<TlsIdentity> identity, String host, int port) {
    return new RawConnection(null, host, port, anyServer(identity));
  }

  /** A TLS connection that accepts only the certificate with {@code fingerprint}. */
  public static RawConnection pinned(Fingerprint fingerprint, String host, int port) {
    return new RawConnection(
        null, host, port, TestTls.context(Optional.of(CLIENT), Optional.of(fingerprint)));
  }

  /** A plain TCP connection: to a server started with --plaintext, or to see TLS refuse it. */
  public static RawConnection plaintext(String host, int port) {
    return new RawConnection(null, host, port, null);
  }

  /** A new identity, as a client makes at start. */
  public static TlsIdentity identity(String name) {
    try {
      return TlsIdentity.selfSigned(name, Duration.ofDays(1));
    } catch (TlsMaterialException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A client context presenting {@code identity} that does not check the server. */
  private static SSLContext anyServer(Optional<TlsIdentity> identity) {
    return TestTls.context(identity, Optional.empty());
  }

  /**
   * @param tls the context to speak TLS with; null for plain TCP
   */
  private RawConnection(InetAddress localAddress, String host, int port, SSLContext tls) {
    try {
      Socket plain = new Socket(host, port, localAddress, 0);
      this.socket =
          tls != null ? tls.getSocketFactory().createSocket(plain, host, port, true) : plain;
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

  /**
   * Completes the TLS handshake now (a plain connection has none); false if the server closed the
   * connection instead, as it does, without a word, to a connection over its address's limits.
   */
  public boolean handshake() {
    if (!(socket instanceof javax.net.ssl.SSLSocket tls)) {
      return true;
    }
    try {
      tls.startHandshake();
      return true;
    } catch (IOException closed) {
      return false;
    }
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

  /**
   * Reads until the other end closes and returns what came, whatever it is (a TLS alert to a plain
   * connection, say); fails if the connection is still open after {@link HeadlessClient#PATIENCE}.
   */
  public String awaitEnd() {
    StringBuilder seen = new StringBuilder();
    try {
      int c;
      while ((c = in.read()) >= 0) {
        seen.append((char) c);
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the other end did not close the connection; it sent: " + seen, e);
    } catch (IOException reset) {
      // A reset is a close too.
    }
    return seen.toString();
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
