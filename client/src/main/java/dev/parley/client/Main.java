package dev.parley.client;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import dev.parley.client.console.TerminalSettings;
import dev.parley.client.tls.TlsSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code parley <server_host> <server_port> [options]} or {@code parley HOST:PORT[,HOST:PORT...]
 * [options]}: parses the command line, loads the configuration, opens the terminal and runs a
 * {@link ParleyClient} until it finishes, then exits with its status (see {@link ExitStatus}).
 */
public final class Main {

  private static final String TERMINAL_NAME = "parley";
  private static final String TERMINAL_OPENER = "parley-terminal-opener";

  private Main() {}

  public static void main(String[] args) {
    // Taking a logger before the actor system exists keeps SLF4J from printing its replay notice.
    Logger log = LoggerFactory.getLogger(Main.class);
    int status = run(args, log, System.out, System.err);
    System.exit(status);
  }

  static int run(String[] args, Logger log, PrintStream out, PrintStream err) {
    CommandLine commandLine;
    try {
      commandLine = CommandLine.parse(args);
    } catch (CommandLine.UsageException e) {
      err.println("Error. " + e.getMessage());
      err.println(CommandLine.USAGE);
      return ExitStatus.USAGE;
    }
    if (commandLine.help()) {
      out.println(CommandLine.USAGE);
      return ExitStatus.OK;
    }
    // JLine opens the terminal slowly (it runs infocmp and test as processes): it opens while the
    // configuration loads, on a thread of its own (docs/performance.md, "Terminal client start and
    // idle").
    CompletableFuture<Terminal> opening = new CompletableFuture<>();
    Thread opener = new Thread(() -> open(opening), TERMINAL_OPENER);
    opener.setDaemon(true);
    opener.start();
    Config config;
    ClientSettings settings;
    try {
      config = configuration(commandLine);
      settings = ClientSettings.fromConfig(config);
      // Checked here, where a mistake is a usage error, rather than once the client runs.
      TlsSettings.fromConfig(config);
      TerminalSettings.fromConfig(config, System.getenv());
    } catch (ConfigException | IllegalArgumentException e) {
      err.println("Error. Invalid configuration: " + e.getMessage());
      closeWhenOpen(opening);
      return ExitStatus.USAGE;
    }
    log.info("Starting the client for {}", commandLine.servers());
    try (Terminal terminal = opened(opening)) {
      ParleyClient client = ParleyClient.start(config, settings, commandLine.servers(), terminal);
      int status = client.exitStatus().toCompletableFuture().join();
      log.info("Exiting with status {}", status);
      if (status == ExitStatus.INTERNAL_ERROR) {
        err.println("Error. The client failed unexpectedly; the log file has the details");
      }
      return status;
    } catch (IOException e) {
      err.println("Error. Cannot open the terminal: " + e.getMessage());
      return ExitStatus.INTERNAL_ERROR;
    }
  }

  private static void open(CompletableFuture<Terminal> opening) {
    try {
      opening.complete(
          TerminalBuilder.builder()
              .name(TERMINAL_NAME)
              .system(true)
              // Piped stdin gives a dumb terminal; that is expected, so no warning about it. (With
              // a terminal on stdin but stdout redirected, JLine draws on stderr instead: the
              // password stays masked, which a plain console on a TTY could not promise.)
              .dumb(true)
              .encoding(StandardCharsets.UTF_8)
              .build());
    } catch (Throwable e) {
      // Whatever it is, the main thread rethrows it: it must not wait for ever.
      opening.completeExceptionally(e);
    }
  }

  /** The terminal once open; what kept it from opening, as it was thrown. */
  private static Terminal opened(CompletableFuture<Terminal> opening) throws IOException {
    try {
      return opening.join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      } else if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw (RuntimeException) e.getCause();
    }
  }

  /** Gives the terminal back as it was, once open, when the client is not to run after all. */
  private static void closeWhenOpen(CompletableFuture<Terminal> opening) {
    try {
      opened(opening).close();
    } catch (IOException | RuntimeException e) {
      // Nothing was drawn on it; there is nothing to give back.
    }
  }

  /**
   * The configuration, highest precedence first: command-line options, system properties, the
   * {@code --config} file, {@code application.conf}, the defaults.
   */
  static Config configuration(CommandLine commandLine) {
    Map<String, Object> options = new HashMap<>();
    commandLine
        .peerHost()
        .ifPresent(host -> options.put(ClientSettings.CONFIG_PATH + ".peer-bind-host", host));
    commandLine
        .peerPort()
        .ifPresent(port -> options.put(ClientSettings.CONFIG_PATH + ".peer-port", port));
    if (commandLine.plaintext()) {
      options.put(TlsSettings.PATH + ".enabled", false);
    }
    commandLine
        .trustFingerprint()
        .ifPresent(pin -> options.put(TlsSettings.PATH + ".trust-fingerprint", pin.value()));
    if (commandLine.noColor()) {
      options.put(TerminalSettings.PATH + ".colors", false);
    }
    if (commandLine.timestamps()) {
      options.put(TerminalSettings.PATH + ".timestamps", true);
    }
    Config file =
        commandLine
            .configFile()
            .map(
                path ->
                    ConfigFactory.parseFile(
                        path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)))
            .orElse(ConfigFactory.empty());
    return ConfigFactory.parseMap(options)
        .withFallback(ConfigFactory.defaultOverrides())
        .withFallback(file)
        .withFallback(ConfigFactory.defaultApplication())
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }
}
