package dev.parley.it.fuzz;

import dev.parley.it.support.RawConnection;
import dev.parley.transport.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

/**
 * TLS for the fuzzers: the connections that speak the protocol go over TLS as a client does ({@link
 * #wrap}), and one kind of connection attacks TLS itself ({@link #attack}): what reaches a TLS port
 * before or instead of a proper handshake.
 */
final class FuzzTls {

  /** Presents a client certificate, as Parley's client does; checks no server (a fuzzer). */
  private static final SSLContext CLIENT =
      TestTls.context(Optional.of(RawConnection.CLIENT), Optional.empty());

  /** What is sent instead of, or as, a handshake. */
  enum Attack {
    /** Random bytes. */
    GARBAGE,
    /** A frame of the protocol, in plain text. */
    PLAINTEXT_LINE,
    /** A real ClientHello cut short, then a pause and a close or a reset. */
    PARTIAL_CLIENT_HELLO,
    /** A real ClientHello, then random bytes where the rest of the handshake belongs. */
    CLIENT_HELLO_THEN_GARBAGE,
    /** A handshake record whose header announces more than a record may hold. */
    OVERSIZED_RECORD
  }

  /** Longest pause of a handshake left unfinished: well within the fuzz run. */
  private static final int MAX_STALL_MILLIS = 3_000;

  /**
   * Above the largest record the JDK waits for: 2^14 bytes of data plus the expansion RFC 8446 5.2
   * allows, doubled for peers that send records over the limit (its "large record" allowance, about
   * 33 KB). A header announcing less could be the start of a record still on its way, which a
   * server rightly waits for until its login timeout.
   */
  private static final int BEYOND_ANY_RECORD = 0x8400;

  /** Not a TLS content type (20 to 23, and 24 for heartbeats): bytes that cannot start a record. */
  private static final byte NOT_A_CONTENT_TYPE = 0x42;

  private FuzzTls() {}

  /** {@code socket}, connected, under TLS with its handshake done. */
  static Socket wrap(Socket socket, int port) throws IOException {
    SSLSocket tls =
        (SSLSocket) CLIENT.getSocketFactory().createSocket(socket, "127.0.0.1", port, true);
    tls.startHandshake();
    return tls;
  }

  /**
   * Opens a plain connection to a TLS {@code port} and sends one {@link Attack}; the other end must
   * close it (an unfinished handshake may be left to its timeout: this end closes it after a pause)
   * without a single frame of the protocol in the clear.
   */
  static void attack(
      String role,
      int port,
      String plaintextLine,
      FuzzRandom random,
      FuzzStats stats,
      Duration patience) {
    Attack attack = random.pick(Attack.values());
    stats.count(role + " TLS attacks: " + attack);
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), (int) patience.toMillis());
      socket.setSoTimeout((int) patience.toMillis());
      OutputStream out = socket.getOutputStream();
      byte[] sent =
          switch (attack) {
            case GARBAGE -> random.bytes(random.between(1, 4_096));
            case PLAINTEXT_LINE -> (plaintextLine + "\n").getBytes(StandardCharsets.UTF_8);
            case PARTIAL_CLIENT_HELLO -> {
              byte[] hello = clientHello(port);
              yield Arrays.copyOf(hello, random.between(1, hello.length - 1));
            }
            case CLIENT_HELLO_THEN_GARBAGE -> concat(clientHello(port), notARecord(random));
            case OVERSIZED_RECORD -> oversizedRecord(random);
          };
      out.write(sent);
      out.flush();
      stats.sent(role + ": TLS attack " + attack, sent.length);
      if (attack == Attack.PARTIAL_CLIENT_HELLO) {
        // An unfinished handshake is closed by the other end only at its handshake or login
        // timeout; what matters here is that it costs nothing meanwhile and ends cleanly.
        LockSupport.parkNanos(Duration.ofMillis(random.between(0, MAX_STALL_MILLIS)).toNanos());
        if (random.chance(0.5)) {
          socket.setSoLinger(true, 0);
        }
        return;
      }
      byte[] answer = readToEnd(socket.getInputStream());
      if (answer == null) {
        stats.anomaly(
            role + " kept a connection open for " + patience + " after a TLS attack: " + attack,
            "");
      } else if (new String(answer, StandardCharsets.ISO_8859_1).contains("{\"type\"")) {
        stats.violation(
            role + " answered a TLS attack with a frame in the clear",
            attack + ": " + WireConnection.show(answer));
      } else {
        stats.count(role + " closed a TLS attack: " + attack);
      }
    } catch (IOException e) {
      stats.count(role + " TLS attacks that broke: " + e.getClass().getSimpleName());
    }
  }

  /** What came until the other end closed; null if it did not within the socket's timeout. */
  private static byte[] readToEnd(InputStream in) throws IOException {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    byte[] buffer = new byte[4_096];
    try {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        seen.write(buffer, 0, n);
      }
    } catch (SocketTimeoutException e) {
      return null;
    } catch (IOException reset) {
      // A reset is a close too.
    }
    return seen.toByteArray();
  }

  /** The first flight of a real client handshake, as a TLS 1.3 client sends it. */
  private static byte[] clientHello(int port) throws SSLException {
    SSLEngine engine = CLIENT.createSSLEngine("127.0.0.1", port);
    engine.setUseClientMode(true);
    engine.beginHandshake();
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    out.flip();
    byte[] hello = new byte[out.remaining()];
    out.get(hello);
    return hello;
  }

  /** A handshake record header that announces a body over the limit, and some of that body. */
  private static byte[] oversizedRecord(FuzzRandom random) {
    int announced = random.between(BEYOND_ANY_RECORD, 0xFFFF);
    byte[] header = {0x16, 0x03, 0x03, (byte) (announced >>> 8), (byte) announced};
    return concat(header, random.bytes(random.between(0, 1_024)));
  }

  /**
   * Random bytes that cannot be taken for the start of a record (random ones sometimes can, and a
   * record announced is a record waited for).
   */
  private static byte[] notARecord(FuzzRandom random) {
    byte[] garbage = random.bytes(random.between(1, 2_048));
    garbage[0] = NOT_A_CONTENT_TYPE;
    return garbage;
  }

  private static byte[] concat(byte[] first, byte[] second) {
    byte[] both = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, both, first.length, second.length);
    return both;
  }
}
