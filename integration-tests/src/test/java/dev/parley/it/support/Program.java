package dev.parley.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One of Parley's packaged programs running as a separate process, with its standard output and
 * error read into {@link Screen}s as they arrive and its standard input piped from the test.
 */
public final class Program implements Typist, AutoCloseable {

  private final String name;
  private final Process process;
  private final Screen stdout = new Screen();
  private final Screen stderr = new Screen();
  private final List<Thread> pumps = new ArrayList<>();

  private Program(String name, Process process) {
    this.name = name;
    this.process = process;
    pumps.add(pump(process.getInputStream(), stdout, name + "-stdout"));
    pumps.add(pump(process.getErrorStream(), stderr, name + "-stderr"));
  }

  /** The environment variable that moves a client's own directory. */
  public static final String PARLEY_HOME = "PARLEY_HOME";

  /** Runs {@code java -jar jar args...} in {@code workingDirectory}. */
  public static Program start(String name, Path jar, Path workingDirectory, String... args) {
    return start(name, jar, workingDirectory, List.of(), args);
  }

  /** Runs {@code java jvmOptions... -jar jar args...} in {@code workingDirectory}. */
  public static Program start(
      String name, Path jar, Path workingDirectory, List<String> jvmOptions, String... args) {
    return start(name, jar, workingDirectory, jvmOptions, Map.of(), args);
  }

  /**
   * Runs {@code java jvmOptions... -jar jar args...} in {@code workingDirectory}, with {@code
   * environment} added to this process's environment.
   */
  public static Program start(
      String name,
      Path jar,
      Path workingDirectory,
      List<String> jvmOptions,
      Map<String, String> environment,
      String... args) {
    return new Program(
        name, launch(command(jar, jvmOptions, args), workingDirectory, environment, null));
  }

  /**
   * Runs the repository's launch script {@code bin/<script>} with {@code args}, as a user types it
   * ({@code bin/parley HOST PORT}, say), in {@code workingDirectory} with {@code environment}
   * added.
   */
  public static Program script(
      String name,
      String script,
      Path workingDirectory,
      Map<String, String> environment,
      String... args) {
    String bin = System.getProperty("parley.bin");
    if (bin == null) {
      throw new IllegalStateException("system property parley.bin is not set (run through Maven)");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(bin, script).toString());
    command.addAll(List.of(args));
    return new Program(name, launch(command, workingDirectory, environment, null));
  }

  /**
   * Like {@link #start(String, Path, Path, List, String...)}, with standard output and error
   * written to {@code log} instead of read into {@link Screen}s: for a program that logs a lot
   * while a test runs long, and whose log is worth keeping after the test.
   */
  public static Program startLoggingTo(
      Path log,
      String name,
      Path jar,
      Path workingDirectory,
      List<String> jvmOptions,
      String... args) {
    return new Program(
        name, launch(command(jar, jvmOptions, args), workingDirectory, Map.of(), log));
  }

  private static List<String> command(Path jar, List<String> jvmOptions, String... args) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: package the modules first (mvn verify)");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(classArchive(jar));
    command.addAll(jvmOptions);
    command.add("-jar");
    command.add(jar.toString());
    command.addAll(List.of(args));
    return command;
  }

  /**
   * The class-data-sharing archive the build makes beside a jar, mapped as {@code
   * bin/parley-server} maps it: the processes run as an operator's would, and each start costs
   * about 1.5 s of CPU less, which the suite's many starts on two cores feel. A stale archive is
   * left out, as the script leaves it out.
   */
  private static List<String> classArchive(Path jar) {
    Path archive = jar.resolveSibling(jar.getFileName().toString().replaceFirst("\\.jar$", ".jsa"));
    try {
      if (Files.isRegularFile(archive)
          && Files.getLastModifiedTime(archive).compareTo(Files.getLastModifiedTime(jar)) > 0) {
        return List.of("-XX:SharedArchiveFile=" + archive, "-Xlog:cds*=off");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return List.of();
  }

  private static Process launch(
      List<String> command, Path workingDirectory, Map<String, String> environment, Path log) {
    ProcessBuilder builder = new ProcessBuilder(command).directory(workingDirectory.toFile());
    // Never the real user's ~/.parley (known_servers): a directory of the test's own.
    builder.environment().put(PARLEY_HOME, workingDirectory.resolve(".parley").toString());
    builder.environment().putAll(environment);
    if (log != null) {
      builder.redirectErrorStream(true).redirectOutput(log.toFile());
    }
    try {
      return builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The jar a Maven property of this module's build names. */
  public static Path jar(String property) {
    String path = System.getProperty(property);
    if (path == null) {
      throw new IllegalStateException(
          "system property " + property + " is not set (run through Maven)");
    }
    return Path.of(path);
  }

  private static Thread pump(InputStream from, OutputStream to, String threadName) {
    Thread thread =
        new Thread(
            () -> {
              try (from) {
                from.transferTo(to);
              } catch (IOException e) {
                // The process ended.
              }
            },
            threadName);
    thread.setDaemon(true);
    thread.start();
    return thread;
  }

  /** The operating system's id of the process, for probes such as {@code /proc/<pid>/status}. */
  public long pid() {
    return process.pid();
  }

  /**
   * Its threads' stacks, as {@code jcmd PID Thread.print} prints them, for a failure message about
   * a program that hangs.
   */
  public String threadDump() {
    return jcmd("Thread.print");
  }

  /** How many threads the JVM has started since it began (its {@code java.threads.started}). */
  public long threadsStarted() {
    String counters = jcmd("PerfCounter.print");
    return counters
        .lines()
        .filter(line -> line.startsWith("java.threads.started="))
        .mapToLong(line -> Long.parseLong(line.substring(line.indexOf('=') + 1).trim()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no java.threads.started in:\n" + counters));
  }

  /** What {@code jcmd PID command} prints, or why it could not run. */
  private String jcmd(String command) {
    try {
      Process jcmd =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                  String.valueOf(process.pid()),
                  command)
              .redirectErrorStream(true)
              .start();
      String output = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      jcmd.waitFor(HeadlessClient.PATIENCE.toSeconds(), TimeUnit.SECONDS);
      return output;
    } catch (IOException e) {
      return "(no jcmd " + command + ": " + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(no jcmd " + command + ": interrupted)";
    }
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Screen stdout() {
    return stdout;
  }

  public Screen stderr() {
    return stderr;
  }

  /** Types lines into the program's standard input. */
  @Override
  public Program type(String... lines) {
    try {
      OutputStream in = process.getOutputStream();
      for (String line : lines) {
        in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      }
      in.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** Closes standard input, as the end of a piped file does. */
  public void endInput() {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The one line a client prints when it meets the server at host:port for the first time, trusts
   * its certificate and records it (as SSH's {@code accept-new} does); returns the fingerprint.
   */
  public String expectFirstUse(String host, int port) {
    String line = stdout.nextLine(HeadlessClient.PATIENCE);
    java.util.regex.Matcher matcher =
        java.util.regex.Pattern.compile(
                "^Trusting "
                    + java.util.regex.Pattern.quote(host + ":" + port)
                    + " for the first time: certificate (SHA256:\\S+) \\(recorded in"
                    + " .*known_servers\\)$")
            .matcher(line);
    org.junit.jupiter.api.Assertions.assertTrue(
        matcher.find(), () -> name + " did not say it trusts a new server: " + line);
    return matcher.group(1);
  }

  /** The next lines on standard output are exactly these, in this order. */
  @Override
  public Program expect(String... lines) {
    for (String line : lines) {
      org.junit.jupiter.api.Assertions.assertEquals(
          line, stdout.nextLine(HeadlessClient.PATIENCE), this::transcript);
    }
    return this;
  }

  @Override
  public Program expectInAnyOrder(String... lines) {
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      seen.add(stdout.nextLine(HeadlessClient.PATIENCE));
    }
    org.junit.jupiter.api.Assertions.assertEquals(
        Arrays.stream(lines).sorted().toList(), seen.stream().sorted().toList(), this::transcript);
    return this;
  }

  /** What it printed on standard output and on standard error. */
  @Override
  public String transcript() {
    return name + " printed:\n" + stdout.transcript() + "\nand on stderr:\n" + stderr.transcript();
  }

  /**
   * Sends SIGTERM, as a service manager does to stop it. Through the process handle: {@code
   * Process.destroy()} would also close our ends of its pipes and lose what it prints while
   * stopping.
   */
  public void terminate() {
    process.toHandle().destroy();
  }

  /** Sends the signal {@code name} ({@code STOP}, {@code CONT}) with the system's kill. */
  public void signal(String name) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).start();
      if (!kill.waitFor(HeadlessClient.PATIENCE.toSeconds(), TimeUnit.SECONDS)
          || kill.exitValue() != 0) {
        throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** Sends SIGKILL: the process dies on the spot, without running any shutdown code. */
  public void kill() {
    process.toHandle().destroyForcibly();
    exitStatus();
  }

  /** Waits for the program to end, and for all it printed to be read; returns its exit status. */
  @Override
  public int exitStatus() {
    try {
      if (!process.waitFor(HeadlessClient.PATIENCE.toSeconds() * 2, TimeUnit.SECONDS)) {
        throw new AssertionError(
            name
                + " did not exit; it printed:\n"
                + stdout.transcript()
                + "\nstderr:\n"
                + stderr.transcript());
      }
      for (Thread pump : pumps) {
        pump.join(HeadlessClient.PATIENCE.toMillis());
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
