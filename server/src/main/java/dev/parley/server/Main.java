package dev.parley.server;

import akka.Done;
import akka.actor.CoordinatedShutdown;
import ch.qos.logback.classic.LoggerContext;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.admin.AccountImport;
import dev.parley.server.admin.UserAdmin;
import dev.parley.server.cluster.ClusterSettings;
import dev.parley.server.http.HttpSettings;
import dev.parley.server.login.CredentialsFile;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSettings;
import dev.parley.server.store.StoreSnapshot;
import dev.parley.server.tls.ServerCertificate;
import dev.parley.server.tls.TlsSettings;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsMaterialException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts a Parley server node, or runs an account command: reads the command line and
 * configuration, finds the TLS certificate (making one on the first start), opens the store
 * (migrating its schema), imports a credentials file, reads the stored state, and creates the actor
 * system. Exit status: 0 after a clean stop, 1 when the server cannot start (or an account command
 * is refused), 2 on a bad command line (or cluster options that cannot work together), 70 when a
 * core actor stopped and took the node down, 75 when the cluster removed the node.
 */
public final class Main {

  private static final int EXIT_CANNOT_START = 1;
  private static final int EXIT_USAGE = 2;

  /**
   * The coordinated shutdown's phase that flushes the logs (application.conf): after
   * before-actor-system-terminate, whose tasks may still log.
   */
  private static final String FLUSH_LOGS_PHASE = "parley-flush-logs";

  /** The cluster downed this node, or it could not join: try again later (EX_TEMPFAIL). */
  static final int EXIT_REMOVED_FROM_CLUSTER = 75;

  private static final String COMMON_POOL_PARALLELISM =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  /** CompletableFuture uses the common pool from two threads on (see ensureCommonPoolThreads). */
  private static final int COMMON_POOL_MIN_THREADS = 2;

  private Main() {}

  public static void main(String[] args) {
    ensureCommonPoolThreads();
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
    System.exit(
        invocation.admin().isPresent() ? admin(invocation) : serve(invocation, log, server -> {}));
  }

  /**
   * Gives the JVM's common pool at least {@value #COMMON_POOL_MIN_THREADS} threads, unless the
   * command line chose. CompletableFuture runs asynchronous callbacks there, and every callback on
   * a future from Akka's Java API is asynchronous (Scala's conversion turns whenComplete, thenApply
   * and the rest into their async variants). With fewer threads in the pool, the JVM's choice on a
   * machine with two cores or fewer, CompletableFuture starts a new thread for each such callback
   * instead. A node stopping with 10,000 sessions started 10,000 threads that way, and took 5 s
   * more to close them (docs/performance.md, issue 11's seventh round). Must run before anything
   * touches the pool, which reads the setting once.
   */
  private static void ensureCommonPoolThreads() {
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null
        && Runtime.getRuntime().availableProcessors() - 1 < COMMON_POOL_MIN_THREADS) {
      System.setProperty(COMMON_POOL_PARALLELISM, String.valueOf(COMMON_POOL_MIN_THREADS));
    }
  }

  private static int admin(CommandLine.Invocation invocation) {
    try {
      Config config = loadConfig(invocation);
      ServerSettings settings = ServerSettings.fromConfig(config);
      try (Store store = Store.open(StoreSettings.fromConfig(config))) {
        BufferedReader stdin =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        return new UserAdmin(
                store,
                new PasswordHasher(settings.passwordHashIterations()),
                UserAdmin.interactive(stdin, System.err),
                System.out,
                System.err)
            .run(invocation.admin().orElseThrow());
      }
    } catch (IOException | SQLException | RuntimeException e) {
      System.err.println("parley-server: " + e.getMessage());
      return EXIT_CANNOT_START;
    }
  }

  /**
   * Runs a node until it stops, and returns the process's exit status.
   *
   * @param listening told the node once it listens (on every port asked for); the class archive's
   *     training run ({@link ClassArchiveTraining}) drives and stops it from there
   */
  static int serve(
      CommandLine.Invocation invocation, Logger log, Consumer<ParleyServer> listening) {
    Config config;
    ServerSettings settings;
    StoreSettings storeSettings;
    Optional<ServerTls> tls;
    Store store;
    StoreSnapshot snapshot;
    try {
      config = loadConfig(invocation);
      settings = ServerSettings.fromConfig(config);
      storeSettings = StoreSettings.fromConfig(config);
      ClusterSettings cluster = ClusterSettings.fromConfig(config);
      Optional<String> refusal = cluster.refusal(storeSettings);
      if (refusal.isPresent()) {
        // A combination of options that cannot work, so the status of a bad command line.
        System.err.println("parley-server: " + refusal.get());
        return EXIT_USAGE;
      }
      // Before the store: a certificate that cannot be used stops the start at once.
      tls = ServerCertificate.load(TlsSettings.fromConfig(config), storeSettings.dataDir(), log);
      store = Store.open(storeSettings);
      log.info("store opened db={}", store.description());
      importAccounts(store, invocation, settings, log);
      // A cluster's users are loaded one at a time by their owners, wherever they run; loading
      // everyone here would also record as logged out the users online on the other nodes.
      snapshot =
          cluster.enabled() ? StoreSnapshot.empty() : store.load(Clock.systemUTC().instant());
      log.info(
          "state loaded accounts={} undelivered={}",
          snapshot.usernames().size(),
          snapshot.pending().values().stream()
              .mapToInt(StoreSnapshot.PendingMessages::count)
              .sum());
    } catch (IOException | SQLException | TlsMaterialException | RuntimeException e) {
      System.err.println("parley-server: " + e.getMessage());
      return EXIT_CANNOT_START;
    }

    ParleyServer server;
    try {
      server =
          ParleyServer.start(
              config,
              settings,
              new Guardian.Storage(store, storeSettings, snapshot),
              Clock.systemUTC(),
              tls);
    } catch (RuntimeException e) {
      // The actor system did not start: in a cluster, most likely its port is taken (Akka has
      // logged the details). One line, as for the clients' port, rather than a stack trace.
      System.err.println("parley-server: cannot start the node: " + e.getMessage());
      store.close();
      return EXIT_CANNOT_START;
    }
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(server.system());
    StopSignals.install(shutdown::runAll);
    // After the journal has written what it held (service-stop), before the logs are flushed.
    shutdown.addTask(
        CoordinatedShutdown.PhaseClusterShutdown(),
        "close-store",
        () -> {
          store.close();
          return CompletableFuture.completedFuture(Done.getInstance());
        });
    shutdown.addTask(
        FLUSH_LOGS_PHASE,
        "flush-logs",
        () -> {
          flushLogs();
          return CompletableFuture.completedFuture(Done.getInstance());
        });
    try {
      server.bound().toCompletableFuture().join();
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
      return EXIT_CANNOT_START;
    }
    HttpSettings http = HttpSettings.fromConfig(config);
    if (http.port().isPresent()) {
      try {
        server.httpBound().toCompletableFuture().join();
      } catch (CompletionException e) {
        // As for the clients' port: an operator who asked for the HTTP port relies on it.
        System.err.println(
            "parley-server: cannot listen for HTTP on "
                + http.host()
                + ":"
                + http.port().getAsInt()
                + ": "
                + e.getCause().getMessage());
        server.stop();
        server.terminated().toCompletableFuture().join();
        return EXIT_CANNOT_START;
      }
    }
    listening.accept(server);
    server.terminated().toCompletableFuture().join();
    return exitStatus(shutdown.getShutdownReason());
  }

  /**
   * The exit status of a node that stopped for {@code reason}: after a signal, the JVM's own status
   * for it (128 plus the signal's number); 0 after {@link ParleyServer#stop()} or a requested leave
   * of the cluster; {@link Guardian#EXIT_CORE_ACTOR_STOPPED} when a core actor stopped; {@link
   * #EXIT_REMOVED_FROM_CLUSTER} when the cluster downed the node (the Split Brain Resolver kept the
   * other side of a partition) or it could not join, so that a supervisor that restarts failed
   * services starts it again.
   */
  static int exitStatus(Optional<CoordinatedShutdown.Reason> reason) {
    if (reason.orElse(null) instanceof StopSignals.SignalReceived signal) {
      return signal.exitStatus();
    }
    if (reason.filter(Guardian.CORE_ACTOR_STOPPED::equals).isPresent()) {
      return Guardian.EXIT_CORE_ACTOR_STOPPED;
    }
    if (reason
        .filter(
            r ->
                r.equals(CoordinatedShutdown.clusterDowningReason())
                    || r.equals(CoordinatedShutdown.clusterJoinUnsuccessfulReason()))
        .isPresent()) {
      return EXIT_REMOVED_FROM_CLUSTER;
    }
    return 0;
  }

  /**
   * Adds the accounts of the credentials file that the store lacks. Without a file (and none named
   * on the command line), a store with no accounts at all gets the bundled demo accounts.
   */
  private static void importAccounts(
      Store store, CommandLine.Invocation invocation, ServerSettings settings, Logger log)
      throws IOException, SQLException {
    Path file = settings.credentialsFile();
    CredentialsFile.Loaded loaded;
    String source = file.toString();
    if (Files.exists(file)) {
      loaded = CredentialsFile.read(file);
    } else if (invocation.credentialsFile().isPresent()) {
      throw new IOException("credentials file " + file + " does not exist");
    } else if (store.usernames().isEmpty()) {
      loaded = CredentialsFile.readDemo();
      source = "bundled demo accounts";
      log.warn(
          "no accounts yet and no {} in {}: adding the bundled demo accounts ({});"
              + " give --credentials FILE or use 'parley-server user add' for real ones",
          file,
          Path.of("").toAbsolutePath(),
          String.join(", ", loaded.passwords().keySet().stream().sorted().toList()));
    } else {
      return;
    }
    loaded.problems().forEach(problem -> log.warn("skipped credentials line: {}", problem));
    AccountImport.Result result =
        AccountImport.run(
            store,
            loaded,
            new PasswordHasher(settings.passwordHashIterations()),
            Clock.systemUTC().instant());
    log.info(
        "accounts imported from={} added={} already-present={}",
        source,
        result.added().size(),
        result.kept().size());
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
}
