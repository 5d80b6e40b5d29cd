package dev.parley.bench.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.transport.Fingerprint;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsPolicy;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The generator's TLS over a non-blocking socket against the JDK's own TLS server on a free
 * loopback port (presenting a certificate as Parley's server does, asking for the client's): the
 * handshake, lines both ways, a frame of many records, records cut at every few bytes by the reads
 * and writes, many records in one read, the two ends of a stream, the pinned fingerprint, and a
 * full handshake on every connection. Every wait is a selector's, bounded by a deadline.
 */
class TlsChannelTest {

  private static final Duration DEADLINE = Duration.ofSeconds(20);
  private static final long SELECT_MILLIS = 50;

  /** Small enough to cut every TLS record, and the handshake's, into many pieces. */
  private static final int TRICKLE_BYTES = 7;

  /** Accepts any client certificate, as Parley's server does. */
  private static final X509TrustManager ANY_CLIENT =
      new X509TrustManager() {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType)
            throws CertificateException {
          throw new CertificateException("a server does not check servers");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
          return new X509Certificate[0];
        }
      };

  private static TlsIdentity serverIdentity;
  private static SSLContext serverContext;

  private ServerSocket listener;
  private CompletableFuture<Void> serverDone;
  private Client client;

  /** What the server does with the one connection it accepts. */
  @FunctionalInterface
  private interface Script {
    void run(SSLSocket tls, Socket raw) throws Exception;
  }

  @BeforeAll
  static void makeServerCertificate() throws Exception {
    serverIdentity = TlsIdentity.selfSigned("test server", Duration.ofDays(1));
    char[] password = new char[0];
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    store.setKeyEntry(
        "server",
        serverIdentity.privateKey(),
        password,
        serverIdentity.chain().toArray(X509Certificate[]::new));
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, password);
    serverContext = SSLContext.getInstance("TLS");
    // No trust managers: the JDK's default would refuse the client's self-signed certificate,
    // and a server that only wants one does not need to trust it (Parley's accepts any).
    serverContext.init(keys.getKeyManagers(), new TrustManager[] {ANY_CLIENT}, null);
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (listener != null) {
      listener.close();
    }
  }

  @Test
  void shouldHandshakeThenExchangeLines() throws Exception {
    serve(TlsChannelTest::echo);
    client = connect(Optional.empty(), 0);
    client.send("hello\nworld\n");
    client.runUntil(() -> client.received().equals("hello\nworld\n"));
    assertTrue(client.tls.handshakeDone());
    assertEquals("TLSv1.3", client.tls.engine().getSession().getProtocol());
  }

  @Test
  void shouldCopeWithRecordsCutIntoPiecesByEveryReadAndWrite() throws Exception {
    serve(TlsChannelTest::echo);
    client = connect(Optional.empty(), TRICKLE_BYTES);
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < 200; i++) {
      lines.append("line ").append(i).append('\n');
    }
    client.send(lines.toString());
    client.runUntil(() -> client.received().length() >= lines.length());
    assertEquals(lines.toString(), client.received());
  }

  @Test
  void shouldSendAndReceiveAFrameOfManyRecords() throws Exception {
    serve(TlsChannelTest::echo);
    client = connect(Optional.empty(), 0);
    // Larger than the protocol's frame limit and than the outgoing buffers: many records, and
    // several rounds of writing.
    byte[] frame = new byte[300 * 1024];
    for (int i = 0; i < frame.length - 1; i++) {
      frame[i] = (byte) ('a' + i % 26);
    }
    frame[frame.length - 1] = '\n';
    client.send(frame);
    client.runUntil(() -> client.receivedBytes() >= frame.length);
    assertArrayEquals(frame, client.receivedArray());
  }

  @Test
  void shouldReadManyRecordsArrivingTogetherThenTheServersCloseNotify() throws Exception {
    int lines = 2_000;
    serve(
        (tls, raw) -> {
          OutputStream out = tls.getOutputStream();
          for (int i = 0; i < lines; i++) {
            // One record each.
            out.write(("record " + i + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
          }
          tls.close();
        });
    client = connect(Optional.empty(), 0);
    client.runUntil(() -> client.ended);
    String[] received = client.received().split("\n");
    assertEquals(lines, received.length);
    assertEquals("record " + (lines - 1), received[lines - 1]);
  }

  @Test
  void shouldSeeTheEndOfAStreamCutWithoutCloseNotify() throws Exception {
    serve(
        (tls, raw) -> {
          tls.getOutputStream().write("bye\n".getBytes(StandardCharsets.US_ASCII));
          tls.getOutputStream().flush();
          // The socket under TLS, closed without TLS's closing alert: as a crash would.
          raw.close();
        });
    client = connect(Optional.empty(), TRICKLE_BYTES);
    client.runUntil(() -> client.ended);
    assertEquals("bye\n", client.received());
  }

  @Test
  void shouldCloseWithCloseNotify() throws Exception {
    CompletableFuture<Integer> serverRead = new CompletableFuture<>();
    serve(
        (tls, raw) -> {
          InputStream in = tls.getInputStream();
          int first = in.read();
          // The alert ends TLS's stream: -1 rather than an exception.
          serverRead.complete(in.read());
          assertEquals('x', first);
        });
    client = connect(Optional.empty(), 0);
    client.send("x");
    client.runUntil(() -> client.out.position() == 0 && client.tls.handshakeDone());
    client.tls.close();
    assertEquals(-1, serverRead.get(DEADLINE.toSeconds(), TimeUnit.SECONDS));
    // Closed: nothing more goes out, and nothing is left to wait for.
    assertTrue(client.tls.write(ByteBuffer.wrap(new byte[] {'y'})));
  }

  @Test
  void shouldTrustTheServerWhoseFingerprintIsPinned() throws Exception {
    serve(TlsChannelTest::echo);
    client = connect(Optional.of(serverIdentity.fingerprint()), 0);
    client.send("pinned\n");
    client.runUntil(() -> client.received().equals("pinned\n"));
  }

  @Test
  void shouldRefuseAServerWithAnotherCertificateBeforeSendingAnything() throws Exception {
    CompletableFuture<Integer> serverRead = new CompletableFuture<>();
    serve(
        (tls, raw) -> {
          try {
            serverRead.complete(tls.getInputStream().read());
          } catch (IOException refused) {
            serverRead.complete(-2);
          }
        });
    Fingerprint other = Fingerprint.ofDer(new byte[] {1, 2, 3});
    client = connect(Optional.of(other), 0);
    client.send("secret\n");
    SSLHandshakeException refused =
        assertThrows(SSLHandshakeException.class, () -> client.runUntil(() -> false));
    assertTrue(refused.getMessage().contains("not the expected " + other), refused.getMessage());
    client.close();
    // The server saw the handshake fail, never the line.
    assertTrue(serverRead.get(DEADLINE.toSeconds(), TimeUnit.SECONDS) < 0);
  }

  @Test
  void shouldRefuseAServerThatDoesNotSpeakTls() throws Exception {
    listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    serverDone =
        CompletableFuture.runAsync(
            () -> {
              try (Socket raw = listener.accept()) {
                raw.getOutputStream()
                    .write("{\"type\":\"hello\",\"version\":3}\n".getBytes(StandardCharsets.UTF_8));
                raw.getInputStream().read();
              } catch (IOException e) {
                // The client gave up.
              }
            });
    client = connect(Optional.empty(), 0);
    assertThrows(SSLException.class, () -> client.runUntil(() -> false));
  }

  @Test
  void shouldMakeAFullHandshakeOnEveryConnection() throws Exception {
    AtomicInteger certificatesSeen = new AtomicInteger();
    TlsDialer dialer =
        TlsDialer.create(
            (chain, authType, engine) -> certificatesSeen.incrementAndGet(), "counting");
    for (int i = 1; i <= 3; i++) {
      serve(TlsChannelTest::echo);
      client = new Client(listener.getLocalPort(), dialer, 0);
      client.send("again\n");
      // The echo follows the server's session ticket: a resumption could use it from now on.
      client.runUntil(() -> client.received().equals("again\n"));
      client.close();
      serverDone.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
      listener.close();
      assertEquals(i, certificatesSeen.get(), "no session resumed: the certificate seen each time");
    }
    client = null;
    listener = null;
  }

  @Test
  void shouldStopWrappingWhileTheSocketIsFullAndKeepWhatWaitsBounded() throws Exception {
    CompletableFuture<Void> release = new CompletableFuture<>();
    serve(
        (tls, raw) -> {
          tls.startHandshake();
          // Reads nothing until told: the client's socket fills up.
          release.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
          InputStream in = tls.getInputStream();
          while (in.read(new byte[8192]) >= 0) {
            // Drains.
          }
        });
    client = connect(Optional.empty(), 0);
    client.runUntil(() -> client.tls.handshakeDone());
    ByteBuffer lots = ByteBuffer.allocate(64 * 1024 * 1024);
    boolean all = true;
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (all && System.nanoTime() < deadline) {
      all = client.tls.write(lots);
      assertTrue(lots.hasRemaining(), "64 MiB must not fit any socket buffer");
    }
    assertFalse(all, "the socket filled up");
    int wrapped = lots.position();
    // Full: nothing more is wrapped, so what waits in the client stays bounded.
    assertFalse(client.tls.write(lots));
    assertFalse(client.tls.write(lots));
    assertTrue(client.tls.wantsWrite());
    assertTrue(
        lots.position() - wrapped <= TlsChannel.RECORDS_PER_WRITE * 16 * 1024,
        "wrapped while full: " + (lots.position() - wrapped));
    release.complete(null);
  }

  // ---------------------------------------------------------------- the server

  /** Starts a TLS server that runs {@code script} on the one connection it accepts. */
  private void serve(Script script) throws IOException {
    listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    ServerSocket accepting = listener;
    serverDone =
        CompletableFuture.runAsync(
            () -> {
              try (Socket raw = accepting.accept()) {
                SSLSocket tls =
                    (SSLSocket)
                        serverContext
                            .getSocketFactory()
                            .createSocket(raw, null, raw.getPort(), false);
                tls.setUseClientMode(false);
                tls.setWantClientAuth(true);
                tls.setEnabledProtocols(TlsPolicy.PROTOCOLS.toArray(String[]::new));
                tls.setSoTimeout((int) DEADLINE.toMillis());
                script.run(tls, raw);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
  }

  /** Echoes every byte it reads until the stream ends. */
  private static void echo(SSLSocket tls, Socket raw) throws IOException {
    InputStream in = tls.getInputStream();
    OutputStream out = tls.getOutputStream();
    byte[] buffer = new byte[32 * 1024];
    for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
      out.write(buffer, 0, read);
      out.flush();
    }
  }

  private Client connect(Optional<Fingerprint> pinned, int trickle) throws Exception {
    return new Client(listener.getLocalPort(), TlsDialer.create(pinned), trickle);
  }

  // ---------------------------------------------------------------- the client

  /** A non-blocking connection with TLS, driven by a selector in the test's thread. */
  private static final class Client implements AutoCloseable {
    final SocketChannel socket;
    final Selector selector;
    final SelectionKey key;
    final TlsChannel tls;
    ByteBuffer out = ByteBuffer.allocate(1024 * 1024);
    final ByteArrayOutputStream received = new ByteArrayOutputStream();
    boolean ended;

    Client(int port, TlsDialer dialer, int trickle) throws IOException {
      socket = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
      socket.configureBlocking(false);
      selector = Selector.open();
      key = socket.register(selector, SelectionKey.OP_READ);
      ByteChannel wire = trickle > 0 ? new Trickle(socket, trickle) : socket;
      tls = new TlsChannel(dialer.newEngine(), wire, dialer.newScratch());
      tls.begin();
    }

    void send(String text) {
      send(text.getBytes(StandardCharsets.UTF_8));
    }

    void send(byte[] bytes) {
      out.put(bytes);
    }

    String received() {
      return received.toString(StandardCharsets.UTF_8);
    }

    int receivedBytes() {
      return received.size();
    }

    byte[] receivedArray() {
      return received.toByteArray();
    }

    /** Writes and reads as the socket allows until {@code done}, within the deadline. */
    void runUntil(BooleanSupplier done) throws IOException {
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (!done.getAsBoolean()) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("not done within " + DEADLINE + "; received: " + received());
        }
        out.flip();
        boolean all = tls.write(out);
        out.compact();
        key.interestOps(SelectionKey.OP_READ | (all ? 0 : SelectionKey.OP_WRITE));
        selector.select(SELECT_MILLIS);
        selector.selectedKeys().clear();
        if (!ended && tls.read(received::write) == TlsChannel.END) {
          ended = true;
        }
      }
    }

    @Override
    public void close() throws IOException {
      tls.close();
      selector.close();
      socket.close();
    }
  }

  /** A channel that moves at most a few bytes per read and per write. */
  private record Trickle(SocketChannel channel, int bytes) implements ByteChannel {

    @Override
    public int read(ByteBuffer target) throws IOException {
      int limit = target.limit();
      target.limit(Math.min(limit, target.position() + bytes));
      try {
        return channel.read(target);
      } finally {
        target.limit(limit);
      }
    }

    @Override
    public int write(ByteBuffer source) throws IOException {
      int limit = source.limit();
      source.limit(Math.min(limit, source.position() + bytes));
      try {
        return channel.write(source);
      } finally {
        source.limit(limit);
      }
    }

    @Override
    public boolean isOpen() {
      return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
