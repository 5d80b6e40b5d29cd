package dev.parley.it.support;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The packaged server (the jar {@code bin/parley-server} runs) as a process of its own, run as an
 * operator runs it: in a directory of the test's (its data directory and home inside), with cheap
 * password hashes, on a port it picks and logs. Without a credentials file among the options it
 * adds the bundled demo accounts on its first start ({@link TestServer#PASSWORDS}). It can be
 * killed with SIGKILL and started again on the same data, and everything it printed, in every run,
 * is kept for tests that check what reaches its log.
 */
public final class ServerProcess implements AutoCloseable {

  /**
   * A packaged server starts in a second or two alone. The end-to-end tests run two classes at a
   * time, and on two busy cores a start has taken over 30 s (its main thread given 4.3 s of CPU in
   * 32 s, with the other class of the pair running beside it), so a server that has not listened by
   * then is slow, not stuck. Only a server that never starts pays this.
   */
  public static final Duration STARTUP = Duration.ofSeconds(120);

  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

  /** The line in which the server offers its certificate's fingerprint for pinning. */
  public static final Pattern FINGERPRINT = Pattern.compile("--trust-fingerprint (SHA256:\\S+)");

  private static final Pattern HTTP_ENDPOINT =
      Pattern.compile("Parley HTTP endpoint on (https?://127\\.0\\.0\\.1:\\d+/)");

  private final Path directory;
  private final List<String> jvmOptions;
  private final Map<String, String> environment;
  private final List<String> options;
  private final List<Program> runs = new ArrayList<>();
  private int port;
  private Optional<String> fingerprint = Optional.empty();

  private ServerProcess(
      Path directory,
      List<String> jvmOptions,
      Map<String, String> environment,
      List<String> options) {
    this.directory = directory;
    this.jvmOptions = List.copyOf(jvmOptions);
    this.environment = Map.copyOf(environment);
    this.options = List.copyOf(options);
  }

  /**
   * Starts a server in {@code directory} with {@code jvmOptions} (such as {@code
   * -Dparley.server.mailbox-bytes=256KiB}), {@code environment} added to the process's, and the
   * command-line {@code options} (such as {@code --config FILE}); returns once it listens.
   */
  public static ServerProcess start(
      Path directory, List<String> jvmOptions, Map<String, String> environment, String... options) {
    ServerProcess server = new ServerProcess(directory, jvmOptions, environment, List.of(options));
    server.launch(0);
    return server;
  }

  /** Starts a server in {@code directory} with these JVM options; returns once it listens. */
  public static ServerProcess start(Path directory, String... jvmOptions) {
    return start(directory, List.of(jvmOptions), Map.of());
  }

  private void launch(int onPort) {
    // server_port block_duration timeout, as the positional arguments of bin/parley-server.
    Program program = run("server", String.valueOf(onPort), "60", "600");
    runs.add(program);
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline && program.isAlive()) {
      String line = program.stdout().pollLine(Duration.ofMillis(200));
      Matcher pin = FINGERPRINT.matcher(line == null ? "" : line);
      if (pin.find()) {
        fingerprint = Optional.of(pin.group(1));
      }
      Matcher matcher = LISTENING.matcher(line == null ? "" : line);
      if (matcher.find()) {
        port = Integer.parseInt(matcher.group(1));
        return;
      }
    }
    if (program.isAlive()) {
      throw new AssertionError(
          "the server is not listening after "
              + STARTUP
              + "; it printed:\n"
              + log()
              + "\nits threads:\n"
              + program.threadDump());
    }
    program.exitStatus();
    throw new AssertionError("the server exited before listening; it printed:\n" + log());
  }

  /** The jar with {@code arguments}, then the store and the options of this server. */
  private Program run(String name, String... arguments) {
    List<String> jvm = new ArrayList<>();
    jvm.add("-Dparley.server.password-hash-iterations=1000");
    jvm.add("-Duser.home=" + directory);
    jvm.addAll(jvmOptions);
    List<String> args = new ArrayList<>(List.of(arguments));
    args.addAll(List.of("--data-dir", directory.resolve("data").toString()));
    args.addAll(options);
    return Program.start(
        name,
        Program.jar("parley.server.jar"),
        directory,
        jvm,
        environment,
        args.toArray(String[]::new));
  }

  /**
   * Runs an admin command ({@code user passwd hans}, say) on this server's store, as a second
   * process beside the running server, as {@code bin/parley-server user ...} does.
   */
  public Program admin(String... command) {
    return run("admin", command);
  }

  /** Waits for a line of the server's log that holds {@code fragment}, and returns it. */
  public String awaitLog(String fragment, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
      String line = program().stdout().nextLine(left);
      if (line.contains(fragment)) {
        return line;
      }
    }
  }

  /**
   * Waits for a line of the running (or last) process's log that holds {@code fragment}, whether it
   * came before or after the lines already taken, and returns it; for lines whose order against the
   * others does not matter (a cluster's members come up while the node starts listening).
   */
  public String awaitLogLine(String fragment, Duration timeout) {
    return program().stdout().awaitLineContaining(fragment, timeout);
  }

  /**
   * The base address of the node's HTTP port ({@code https://127.0.0.1:PORT/}, or http with
   * --plaintext), from the line it logs once bound; for a server started with {@code --http-port}.
   */
  public URI httpEndpoint() {
    Matcher matcher = HTTP_ENDPOINT.matcher(awaitLogLine("Parley HTTP endpoint on", STARTUP));
    if (!matcher.find()) {
      throw new AssertionError("no HTTP address in the server's log:\n" + log());
    }
    return URI.create(matcher.group(1));
  }

  public String host() {
    return "127.0.0.1";
  }

  /** The fingerprint of the certificate the server presents; empty with --plaintext. */
  public Optional<String> fingerprint() {
    return fingerprint;
  }

  public int port() {
    return port;
  }

  /** The directory the server runs in (its working directory). */
  public Path directory() {
    return directory;
  }

  /** The running (or last) process. */
  public Program program() {
    return runs.get(runs.size() - 1);
  }

  /** SIGKILL: the server dies on the spot, without running any shutdown code. */
  public void kill() {
    program().kill();
  }

  /** SIGTERM, as a service manager stops it; returns its exit status once it has ended. */
  public int stop() {
    program().terminate();
    return program().exitStatus();
  }

  /**
   * Starts the server again on the same data and options; returns once it listens. It picks a port
   * again: the one it had may have been taken meanwhile by another program's connection, and the
   * tests connect new clients after a restart.
   */
  public ServerProcess restart() {
    if (program().isAlive()) {
      throw new IllegalStateException("the server is still running: kill or stop it first");
    }
    launch(0);
    return this;
  }

  /**
   * Starts the server again on the same data, options and port, for a test of what clients that
   * knew it at that address see; fails if the port was taken meanwhile.
   */
  public ServerProcess restartOnTheSamePort() {
    if (program().isAlive()) {
      throw new IllegalStateException("the server is still running: kill or stop it first");
    }
    launch(port);
    return this;
  }

  /** Everything every run printed so far, standard output and error, line by line. */
  public String log() {
    StringBuilder log = new StringBuilder();
    for (Program run : runs) {
      run.stdout().lines().forEach(line -> log.append(line).append('\n'));
      run.stderr().lines().forEach(line -> log.append(line).append('\n'));
    }
    return log.toString();
  }

  @Override
  public void close() {
    runs.forEach(Program::close);
  }
}
