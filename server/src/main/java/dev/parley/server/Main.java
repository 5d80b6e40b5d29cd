package dev.parley.server;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import ch.qos.logback.classic.LoggerContext;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.login.Accounts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a Parley server node: reads the command line and configuration, loads the accounts, and
 * creates the actor system. Exit status: 0 after a clean stop, 1 when the server cannot start, 2 on
 * a bad command line.
 */
public final class Main {

  private static final int EXIT_CANNOT_START = 1;
  private static final int EXIT_USAGE = 2;

  private Main() {}

  public static void main(String[] args) {
    // Obtained before the actor system exists so that SLF4J initialises once, quietly.
    Logger log = LoggerFactory.getLogger(Main.class);

    CommandLine.Invocation invocation;
    try {
      invocation = CommandLine.parse(args);
    } catch (CommandLine.UsageException e) {
      System.err.println("parley-server: " + e.getMessage());
      System.err.println(CommandLine.USAGE);
      System.exit(EXIT_USAGE);
      return;
    }
    if (invocation.help()) {
      System.out.println(CommandLine.USAGE);
      return;
    }

    Config config;
    ServerSettings settings;
    Accounts accounts;
    try {
      config = loadConfig(invocation);
      settings = ServerSettings.fromConfig(config);
      accounts = loadAccounts(invocation, settings, log);
    } catch (IOException | RuntimeException e) {
      System.err.println("parley-server: " + e.getMessage());
      System.exit(EXIT_CANNOT_START);
      return;
    }

    ParleyServer server = ParleyServer.start(config, settings, accounts, Clock.systemUTC());
    CoordinatedShutdown.get(server.system())
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "flush-logs",
            () -> {
              flushLogs();
              return CompletableFuture.completedFuture(Done.getInstance());
            });
    try {
      InetSocketAddress address = server.bound().toCompletableFuture().join();
      log.debug("bound {}", address);
    } catch (CompletionException e) {
      System.err.println(
          "parley-server: cannot listen on "
              + settings.host()
              + ":"
              + settings.port()
              + ": "
              + e.getCause().getMessage());
      server.stop();
      server.terminated().toCompletableFuture().join();
      System.exit(EXIT_CANNOT_START);
      return;
    }
    server.terminated().toCompletableFuture().join();
  }

  /** Writes out what the asynchronous log appender still holds; the last step of a shutdown. */
  private static void flushLogs() {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext logback) {
      logback.stop();
    }
  }

  /** Defaults, then the --config file, then system properties, then the command line. */
  static Config loadConfig(CommandLine.Invocation invocation) {
    Config base = ConfigFactory.load();
    if (invocation.configFile().isPresent()) {
      Path file = invocation.configFile().get();
      if (!Files.isReadable(file)) {
        throw new IllegalArgumentException("cannot read config file " + file);
      }
      base =
          ConfigFactory.systemProperties()
              .withFallback(ConfigFactory.parseFile(file.toFile()))
              .withFallback(base);
    }
    return ConfigFactory.parseMap(invocation.overrides()).withFallback(base).resolve();
  }

  private static Accounts loadAccounts(
      CommandLine.Invocation invocation, ServerSettings settings, Logger log) throws IOException {
    Path file = settings.credentialsFile();
    Accounts.Loaded loaded;
    if (Files.exists(file)) {
      loaded = Accounts.read(file);
      log.info("accounts loaded file={} count={}", file.toAbsolutePath(), loaded.accounts().size());
    } else if (invocation.credentialsFile().isPresent()) {
      throw new IOException("credentials file " + file + " does not exist");
    } else {
      loaded = Accounts.readDemo();
      log.warn(
          "no {} in {}: using the bundled demo accounts ({}); give --credentials FILE for real"
              + " ones",
          file,
          Path.of("").toAbsolutePath(),
          String.join(", ", loaded.accounts().usernames().stream().sorted().toList()));
    }
    loaded.problems().forEach(problem -> log.warn("skipped credentials line: {}", problem));
    return loaded.accounts();
  }
}
