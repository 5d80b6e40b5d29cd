package dev.parley.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The packaged server ({@code parley-server.jar}, named by the build's {@code parley.server.jar}
 * property) running as its own process on a given port and data directory, with its console written
 * to a log file that the test reads (and keeps, for after a failure). Started the way an operator
 * starts it; stopped with SIGTERM as a service manager does, or killed with SIGKILL.
 */
final class PackagedServer implements AutoCloseable {

  private static final Duration STARTUP = Duration.ofSeconds(60);
  private static final Duration EXIT = Duration.ofSeconds(60);
  private static final long POLL_MILLIS = 20;

  private final Process process;
  private final Path log;

  private PackagedServer(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * Starts {@code java jvmOptions... -jar parley-server.jar PORT 60 600 --credentials FILE
   * --data-dir DIR} and returns once it listens.
   */
  static PackagedServer start(
      int port, Path credentials, Path dataDir, Path log, List<String> jvmOptions) {
    Path jar =
        Path.of(System.getProperty("parley.server.jar", "../server/target/parley-server.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: package the server first (mvn verify)");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(
        List.of(
            "-jar",
            jar.toString(),
            String.valueOf(port),
            "60",
            "600",
            "--credentials",
            credentials.toString(),
            "--data-dir",
            dataDir.toString()));
    try {
      Files.createDirectories(log.toAbsolutePath().getParent());
      Process process =
          new ProcessBuilder(command)
              .directory(dataDir.toAbsolutePath().getParent().toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      PackagedServer server = new PackagedServer(process, log);
      server.awaitLog("listening on 127.0.0.1:" + port, STARTUP);
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  long pid() {
    return process.pid();
  }

  /** SIGTERM, as a service manager stops it: clients are told goodbye server-shutdown. */
  void terminate() {
    process.toHandle().destroy();
  }

  /** SIGKILL: the process dies on the spot, without a word to anyone. */
  void kill() {
    process.toHandle().destroyForcibly();
  }

  /** Waits (boundedly) for the process to end; its exit status. */
  int awaitExit() throws InterruptedException {
    if (!process.waitFor(EXIT.toSeconds(), TimeUnit.SECONDS)) {
      throw new AssertionError("the server did not exit within " + EXIT + ":\n" + tail());
    }
    return process.exitValue();
  }

  /** The console so far. */
  String console() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e.getMessage() + ")";
    }
  }

  /** The last lines of the console, for failure messages. */
  String tail() {
    List<String> lines = console().lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  private void awaitLog(String text, Duration atMost) {
    long deadline = System.nanoTime() + atMost.toNanos();
    while (!console().contains(text)) {
      if (!process.isAlive()) {
        throw new AssertionError("the server exited before '" + text + "':\n" + tail());
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no '" + text + "' within " + atMost + ":\n" + tail());
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
