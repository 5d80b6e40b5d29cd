package dev.parley.it.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.client.ClientSettings;
import dev.parley.client.ParleyClient;
import dev.parley.client.server.ServerAddress;
import dev.parley.client.tls.KnownServers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;

/**
 * The real client, driven as a script drives it: lines typed into a pipe, output read back line by
 * line. Each has its own actor system, private-chat listener and connection to the server.
 */
public final class HeadlessClient implements Typist, AutoCloseable {

  /** How long a test waits for something it expects to see. */
  public static final Duration PATIENCE = Duration.ofSeconds(10);

  public static final String WELCOME = "Welcome to the greatest messaging application ever!";

  private final String name;
  private final Pipe.SinkChannel keyboard;
  private final Screen screen = new Screen();
  private final Terminal terminal;
  private final ParleyClient client;

  private HeadlessClient(String name, String host, int port) {
    this(name, host, port, Map.of());
  }

  private HeadlessClient(String name, String host, int port, Map<String, Object> overrides) {
    this(name, List.of(new ServerAddress(host, port)), overrides, Map.of());
  }

  /**
   * A client given several servers, in order (as {@code bin/parley HOST:PORT,HOST:PORT}); {@code
   * known} is written to its known_servers before it starts ({@code host:port} to fingerprint), so
   * that it trusts each of those servers' certificates and no other.
   */
  private HeadlessClient(
      String name,
      List<ServerAddress> servers,
      Map<String, Object> overrides,
      Map<String, String> known) {
    this.name = name;
    try {
      Pipe pipe = Pipe.open();
      this.keyboard = pipe.sink();
      this.terminal =
          new DumbTerminal(
              "headless-" + name,
              Terminal.TYPE_DUMB,
              Channels.newInputStream(pipe.source()),
              screen,
              StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Object> settings = new java.util.HashMap<>();
    // Never the real user's ~/.parley (known_servers): a directory of this client's own.
    java.nio.file.Path home = newHome();
    settings.put("parley.client.home", home.toString());
    settings.putAll(overrides);
    if (!known.isEmpty()) {
      StringBuilder lines = new StringBuilder();
      known.forEach((server, pin) -> lines.append(server).append(' ').append(pin).append('\n'));
      try {
        java.nio.file.Files.writeString(home.resolve(KnownServers.FILE_NAME), lines);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    Config config = ConfigFactory.parseMap(settings).withFallback(ConfigFactory.load()).resolve();
    this.client = ParleyClient.start(config, ClientSettings.fromConfig(config), servers, terminal);
  }

  /** Under the module's build directory, so that {@code mvn clean} removes it. */
  private static java.nio.file.Path newHome() {
    try {
      java.nio.file.Path parent =
          java.nio.file.Files.createDirectories(java.nio.file.Path.of("target", "it-homes"));
      return java.nio.file.Files.createTempDirectory(parent, "client-").toAbsolutePath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The setting that makes a client trust only the certificate with {@code fingerprint}, as {@code
   * --trust-fingerprint} does: the tests pin the server they started, so that no client prints the
   * line of a first use (which has tests of its own). None for a server without TLS.
   */
  public static Map<String, Object> pinned(java.util.Optional<String> fingerprint) {
    return fingerprint
        .<Map<String, Object>>map(pin -> Map.of("parley.client.tls.trust-fingerprint", pin))
        .orElse(Map.of("parley.client.tls.enabled", false));
  }

  /** {@code overrides}, with {@link #pinned} for {@code fingerprint}. */
  public static Map<String, Object> pinned(
      java.util.Optional<String> fingerprint, Map<String, Object> overrides) {
    Map<String, Object> settings = new java.util.HashMap<>(pinned(fingerprint));
    settings.putAll(overrides);
    return settings;
  }

  /** A client connected to {@code server}, at its username prompt. */
  public static HeadlessClient connect(TestServer server, String name) {
    HeadlessClient client =
        new HeadlessClient(
            name,
            server.host(),
            server.port(),
            pinned(server.fingerprint().map(dev.parley.transport.Fingerprint::value)));
    client.screen.awaitPrompts(1, PATIENCE);
    return client;
  }

  /** A client connected to host:port with client settings overridden, at its username prompt. */
  public static HeadlessClient connect(
      String host, int port, String name, Map<String, Object> overrides) {
    HeadlessClient client = new HeadlessClient(name, host, port, overrides);
    client.screen.awaitPrompts(1, PATIENCE);
    return client;
  }

  /**
   * Connects to host:port, trusting the certificate with {@code fingerprint} (none: plain TCP), and
   * logs {@code user} in, up to the welcome line.
   */
  public static HeadlessClient login(
      String host, int port, java.util.Optional<String> fingerprint, String user, String password) {
    HeadlessClient client = connect(host, port, user, pinned(fingerprint));
    client.type(user, password);
    client.expect(WELCOME);
    return client;
  }

  /**
   * A client given several servers ({@code bin/parley HOST:PORT,HOST:PORT,...}), at its username
   * prompt: it connects to the first that answers and, when it loses its connection, reconnects to
   * the next in the list by itself. It trusts exactly the certificates in {@code fingerprints}
   * ({@code host:port} to {@code SHA256:...}), written to its known_servers as if it had met each
   * server before; {@code overrides} are client settings.
   */
  public static HeadlessClient connect(
      List<ServerAddress> servers,
      Map<String, String> fingerprints,
      String name,
      Map<String, Object> overrides) {
    HeadlessClient client = new HeadlessClient(name, servers, overrides, fingerprints);
    client.screen.awaitPrompts(1, PATIENCE);
    return client;
  }

  /** A client for an address where nothing may listen. */
  public static HeadlessClient connectTo(String host, int port, String name) {
    return new HeadlessClient(name, host, port);
  }

  /** Connects and logs {@code user} in with the demo password, up to the welcome line. */
  public static HeadlessClient login(TestServer server, String user) {
    HeadlessClient client = connect(server, user);
    client.type(user, TestServer.PASSWORDS.get(user));
    client.expect(WELCOME);
    return client;
  }

  public String name() {
    return name;
  }

  /** Types lines, each followed by Enter. */
  @Override
  public HeadlessClient type(String... lines) {
    StringBuilder text = new StringBuilder();
    for (String line : lines) {
      text.append(line).append('\n');
    }
    ByteBuffer bytes = ByteBuffer.wrap(text.toString().getBytes(StandardCharsets.UTF_8));
    try {
      while (bytes.hasRemaining()) {
        keyboard.write(bytes);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** Ends the input, as the end of a piped file (or Ctrl-D) does. */
  public void endInput() {
    try {
      keyboard.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The next lines printed are exactly these, in this order. */
  @Override
  public HeadlessClient expect(String... lines) {
    for (String line : lines) {
      assertEquals(
          line, screen.nextLine(PATIENCE), () -> name + "'s terminal:\n" + screen.transcript());
    }
    return this;
  }

  /** The next lines printed are these, in any order (events from independent sources). */
  @Override
  public HeadlessClient expectInAnyOrder(String... lines) {
    List<String> expected = new ArrayList<>(Arrays.asList(lines));
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      seen.add(screen.nextLine(PATIENCE));
    }
    expected.sort(null);
    List<String> sorted = new ArrayList<>(seen);
    sorted.sort(null);
    assertEquals(expected, sorted, () -> name + "'s terminal:\n" + screen.transcript());
    return this;
  }

  /** The next line printed, whatever it is. */
  public String nextLine() {
    return screen.nextLine(PATIENCE);
  }

  /** The next line, or null if the {@code count}-th login prompt comes first. */
  public String nextLineOrPrompts(int count) {
    return screen.nextLineOrPrompts(count, PATIENCE);
  }

  /** Waits until the terminal has shown {@code count} login prompts in all. */
  public HeadlessClient awaitPrompts(int count) {
    screen.awaitPrompts(count, PATIENCE);
    return this;
  }

  public List<String> prompts() {
    return screen.prompts();
  }

  /** Every complete line printed so far, taken by an expectation or not. */
  public List<String> lines() {
    return screen.lines();
  }

  /**
   * Waits for a line holding {@code fragment} among all those printed so far, taken or not, or
   * printed within {@code timeout}; returns it. What was taken stays as it was.
   */
  public String awaitLineContaining(String fragment, Duration timeout) {
    return screen.awaitLineContaining(fragment, timeout);
  }

  /** Lines printed but not yet taken by an expectation. */
  public List<String> unread() {
    return screen.unread();
  }

  @Override
  public String transcript() {
    return screen.transcript();
  }

  /** Waits for the client to finish and returns its exit status. */
  @Override
  public int exitStatus() {
    try {
      return client.exitStatus().toCompletableFuture().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(name + " did not exit; its terminal:\n" + screen.transcript(), e);
    }
  }

  /** Ends the client abruptly, as kill -9 would: no goodbye to the server or to peers. */
  public void kill() {
    client.kill();
    exitStatus();
  }

  @Override
  public void close() {
    client.kill();
    try {
      client.exitStatus().toCompletableFuture().get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
      terminal.close();
      keyboard.close();
    } catch (Exception e) {
      // Closing after a failed test: nothing more to learn here.
    }
  }
}
