package dev.parley.server;

import dev.parley.transport.Fingerprint;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The training run of the server's class-data-sharing archive, made with the jar by the build (see
 * {@code server/pom.xml} and {@code bin/parley-server}): {@code java
 * -XX:ArchiveClassesAtExit=parley-server.jsa -cp parley-server.jar
 * dev.parley.server.ClassArchiveTraining}.
 *
 * <p>The JVM archives at exit every class the run loaded, so the run goes through what a node loads
 * at its start and in its first seconds of work: it starts a node exactly as {@link Main} does (TLS
 * certificate, store and migrations, account import, actor system, listener), in a temporary
 * directory, and two clients log in over TLS, exchange a direct message, an acknowledgement and a
 * broadcast, ask who is online, and one of them loses its connection and resumes its session, as
 * every client does after a restart. Then the node stops as it does on SIGTERM. A node started with
 * the archive maps those classes instead of finding, reading and verifying them one by one: its
 * start, and the storm of clients that follows a restart, cost less CPU (docs/performance.md, issue
 * 11's eighth round).
 *
 * <p>Any step that goes wrong fails the run (exit status 1), and with it the build: it would mean
 * that a node cannot serve two clients.
 */
public final class ClassArchiveTraining {

  private static final Logger LOG = LoggerFactory.getLogger(ClassArchiveTraining.class);

  /** How long the training waits for any one answer of the node on loopback. */
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  private static final Pattern RESUME_TOKEN = Pattern.compile("\"resumeToken\":\"([^\"]+)\"");
  private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");

  /** The node's positional arguments: any free port, and the README's example durations. */
  private static final String ANY_PORT = "0";

  private static final String BLOCK_SECONDS = "60";
  private static final String IDLE_TIMEOUT_SECONDS = "600";

  private static final String ALICE = "alice";
  private static final String BOB = "bob";
  private static final String PASSWORD = "training-only";

  private ClassArchiveTraining() {}

  public static void main(String[] args) throws IOException {
    Path dir = Files.createTempDirectory("parley-class-archive-");
    int status;
    try {
      Path credentials = dir.resolve("credentials.txt");
      Files.writeString(credentials, ALICE + " " + PASSWORD + "\n" + BOB + " " + PASSWORD + "\n");
      CommandLine.Invocation invocation =
          CommandLine.parse(
              new String[] {
                ANY_PORT,
                BLOCK_SECONDS,
                IDLE_TIMEOUT_SECONDS,
                "--host",
                "127.0.0.1",
                "--data-dir",
                dir.resolve("data").toString(),
                "--credentials",
                credentials.toString()
              });
      AtomicReference<RuntimeException> failure = new AtomicReference<>();
      status =
          Main.serve(
              invocation,
              LOG,
              server -> {
                try {
                  train(server);
                } catch (RuntimeException e) {
                  failure.set(e);
                }
                server.stop();
              });
      if (failure.get() != null) {
        System.err.println("class archive training failed: " + failure.get());
        failure.get().printStackTrace();
        status = 1;
      }
    } catch (CommandLine.UsageException | RuntimeException e) {
      System.err.println("class archive training failed: " + e);
      e.printStackTrace();
      status = 1;
    } finally {
      deleteTree(dir);
    }
    if (status != 0) {
      System.exit(status);
    }
  }

  private static void train(ParleyServer server) {
    InetSocketAddress address = server.bound().toCompletableFuture().join();
    Fingerprint fingerprint =
        server.tlsFingerprint().orElseThrow(() -> new IllegalStateException("TLS is off"));
    SSLContext tls;
    try {
      tls = SSLContext.getInstance("TLS");
      tls.init(null, new TrustManager[] {new Pinned(fingerprint)}, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
    try (Line alice = new Line(tls, address);
        Line bob = new Line(tls, address)) {
      String token = alice.login(ALICE);
      bob.login(BOB);
      alice.send("{\"type\":\"message\",\"to\":\"bob\",\"text\":\"hello\",\"id\":\"t-1\"}");
      alice.await("message-accepted");
      Matcher seq = SEQ.matcher(bob.await("message-received"));
      if (!seq.find()) {
        throw new IllegalStateException("message-received without seq");
      }
      bob.send("{\"type\":\"ack\",\"seq\":" + seq.group(1) + "}");
      alice.send("{\"type\":\"broadcast\",\"text\":\"hello all\"}");
      bob.await("broadcast-received");
      alice.await("broadcast-sent");
      bob.send("{\"type\":\"whoelse\"}");
      bob.await("online-users");
      bob.send("{\"type\":\"whoelsesince\",\"seconds\":60}");
      bob.await("recent-users");
      // Lost without a logout, and taken up again with the token, as after a restart.
      alice.close();
      try (Line again = new Line(tls, address)) {
        again.hello();
        again.send("{\"type\":\"resume\",\"username\":\"alice\",\"token\":\"" + token + "\"}");
        again.await("login-accepted");
        again.send("{\"type\":\"logout\"}");
        again.await("goodbye");
      }
      bob.send("{\"type\":\"logout\"}");
      bob.await("goodbye");
    }
  }

  /**
   * Trusts the node's own certificate only. (The client's verifier works on engines, as the client
   * does; these connections are plain sockets, and present no certificate of their own.)
   */
  private record Pinned(Fingerprint expected) implements X509TrustManager {

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      if (!Fingerprint.of(chain[0]).equals(expected)) {
        throw new CertificateException("not the node's certificate");
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a client only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  /** One TLS connection to the node, speaking the protocol's lines by hand. */
  private static final class Line implements AutoCloseable {

    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;

    Line(SSLContext tls, InetSocketAddress address) {
      try {
        socket = tls.getSocketFactory().createSocket(address.getHostString(), address.getPort());
        socket.setSoTimeout((int) PATIENCE.toMillis());
        in =
            new BufferedReader(
                new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        out = socket.getOutputStream();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void hello() {
      send("{\"type\":\"hello\",\"version\":3}");
      await("hello");
    }

    /** Logs in with the password and returns the resumption token. */
    String login(String user) {
      hello();
      send("{\"type\":\"username\",\"username\":\"" + user + "\"}");
      await("password-required");
      send("{\"type\":\"password\",\"password\":\"" + PASSWORD + "\"}");
      Matcher token = RESUME_TOKEN.matcher(await("login-accepted"));
      if (!token.find()) {
        throw new IllegalStateException("login-accepted without a resumption token");
      }
      return token.group(1);
    }

    void send(String line) {
      try {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** Reads up to the first frame of {@code type}, skipping others (presence notices). */
    String await(String type) {
      String marker = "\"type\":\"" + type + "\"";
      try {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          if (line.contains(marker)) {
            return line;
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      throw new IllegalStateException("the node closed the connection before " + type);
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
