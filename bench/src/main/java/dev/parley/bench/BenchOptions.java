package dev.parley.bench;

import dev.parley.bench.client.Backoff;
import dev.parley.transport.Fingerprint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;

/**
 * The command line of {@code parley-bench}: a scenario and {@code --option value} pairs (or {@code
 * --option=value}), checked against what that scenario accepts, with the defaults filled in.
 *
 * @param servers the servers to connect to, in order: user {@code i} connects to server {@code i %
 *     servers.size()} ({@code --servers}, or the one of {@code --host} and {@code --port})
 * @param rate offered messages (or broadcasts) per second; empty for {@code max}
 * @param step the sweep's increment; empty to double
 * @param restarts reconnect: the server restarts to wait for
 * @param backoffMinSeconds reconnect: the wait before a user's first attempt to come back
 * @param backoffMaxSeconds reconnect: the longest wait between attempts
 * @param backoffRandomFactor reconnect: the largest random share by which a wait is longer
 * @param probes reconnect: users who keep sending commands during a storm
 * @param probeIntervalSeconds reconnect: how often each probe sends one
 * @param loginTimeoutSeconds reconnect: how long a login attempt may take (0: as long as it takes)
 * @param connectTimeoutSeconds reconnect: how long a connection may stay without a word from the
 *     server before the attempt is given up, as Parley's client does (0: as long as it takes)
 * @param kept reconnect: messages kept for each laggard when the server goes down
 * @param laggards reconnect: users who stop acknowledging before each restart
 * @param probeIds reconnect: the file to append each storm's accepted probe messages to; empty for
 *     none
 * @param plaintext plain TCP instead of TLS, for a server run with {@code --plaintext}
 * @param serverPids the servers' processes, whose CPU and memory are summed; empty for none
 * @param trustFingerprints the servers' certificate fingerprints to trust, one per server in the
 *     order of {@link #servers}; empty to trust any
 * @param tlsWarmUp TLS handshakes made in memory before connecting, to compile the generator's
 *     cryptography first
 * @param resume reconnect: users come back by resuming their sessions with the token of their last
 *     login, as Parley's client does ({@code --no-resume}: with the password)
 */
public record BenchOptions(
    String scenario,
    List<Server> servers,
    int clients,
    String prefix,
    String password,
    Optional<Path> out,
    int threads,
    int loginConcurrency,
    OptionalDouble rate,
    double durationSeconds,
    int window,
    int payloadBytes,
    double graceSeconds,
    int senders,
    double from,
    double to,
    OptionalDouble step,
    double sloP99Millis,
    double keepaliveSeconds,
    int restarts,
    double backoffMinSeconds,
    double backoffMaxSeconds,
    double backoffRandomFactor,
    int probes,
    double probeIntervalSeconds,
    double loginTimeoutSeconds,
    double connectTimeoutSeconds,
    int kept,
    int laggards,
    Optional<Path> probeIds,
    List<Long> serverPids,
    Optional<Path> json,
    boolean quiet,
    boolean plaintext,
    List<Fingerprint> trustFingerprints,
    int tlsWarmUp,
    boolean resume) {

  /** A server to connect to. */
  public record Server(String host, int port) {
    @Override
    public String toString() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /** A command line that cannot be run; the message says what is wrong. */
  public static final class UsageException extends Exception {
    public UsageException(String message) {
      super(message);
    }
  }

  public static final String CREDENTIALS = "credentials";
  public static final String LOGIN = "login";
  public static final String DIRECT = "direct";
  public static final String FANOUT = "fanout";
  public static final String IDLE = "idle";
  public static final String SWEEP = "sweep";
  public static final String RECONNECT = "reconnect";

  private static final List<String> CONNECTING =
      List.of(
          "host",
          "port",
          "servers",
          "clients",
          "prefix",
          "password",
          "threads",
          "login-concurrency",
          "server-pid",
          "json",
          "quiet",
          "keepalive",
          "plaintext",
          "trust-fingerprint",
          "tls-warmup");
  private static final List<String> TRAFFIC = List.of("duration", "window", "payload", "grace");

  /** The server restarts, so its process cannot be followed: no --server-pid. */
  private static final List<String> RECONNECTING =
      List.of(
          "restarts",
          "duration",
          "grace",
          "backoff-min",
          "backoff-max",
          "backoff-random",
          "probes",
          "probe-interval",
          "login-timeout",
          "connect-timeout",
          "kept",
          "laggards",
          "probe-ids",
          "no-resume");

  private static final Map<String, Set<String>> ACCEPTED =
      Map.of(
          CREDENTIALS, Set.of("clients", "out", "prefix", "password"),
          LOGIN, union(CONNECTING),
          DIRECT, union(CONNECTING, TRAFFIC, List.of("rate")),
          FANOUT, union(CONNECTING, TRAFFIC, List.of("rate", "senders")),
          IDLE, union(CONNECTING, List.of("duration")),
          SWEEP, union(CONNECTING, TRAFFIC, List.of("from", "to", "step", "slo-p99-ms")),
          RECONNECT, without(union(CONNECTING, RECONNECTING), "server-pid"));

  private static final Set<String> FLAGS = Set.of("quiet", "plaintext", "no-resume");

  /**
   * Enough for the JIT to compile the elliptic-curve code that dominates a handshake: measured
   * here, a fresh JVM's first handshakes cost 10-100 ms of CPU, the 300th about 6 ms, a warm one
   * about 5 ms (both sides together), so that 300 take 2-3 s.
   */
  static final int DEFAULT_TLS_WARM_UP = 300;

  /** The client's own {@code connect-timeout}, which it also gives the server's first word. */
  static final double DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

  private static final int MAX_TLS_WARM_UP = 100_000;

  /** Parsed options, or {@code null} when the command line asks for help. */
  public static BenchOptions parse(String... args) throws UsageException {
    if (args.length == 0) {
      throw new UsageException("no scenario given");
    }
    String scenario = args[0];
    if (scenario.equals("-h") || scenario.equals("--help") || scenario.equals("help")) {
      return null;
    }
    Set<String> accepted = ACCEPTED.get(scenario);
    if (accepted == null) {
      throw new UsageException("unknown scenario '" + scenario + "'");
    }
    Map<String, String> given = new HashMap<>();
    for (int i = 1; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("-h") || arg.equals("--help")) {
        return null;
      }
      if (!arg.startsWith("--")) {
        throw new UsageException("unexpected argument '" + arg + "'");
      }
      String name = arg.substring(2);
      String value;
      int equals = name.indexOf('=');
      if (equals >= 0) {
        value = name.substring(equals + 1);
        name = name.substring(0, equals);
      } else if (FLAGS.contains(name)) {
        value = "true";
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new UsageException("--" + name + " needs a value");
      }
      if (!accepted.contains(name)) {
        throw new UsageException(scenario + " has no option --" + name);
      }
      if (given.put(name, value) != null) {
        throw new UsageException("--" + name + " given twice");
      }
    }
    return build(scenario, new Reader(given));
  }

  private static BenchOptions build(String scenario, Reader in) throws UsageException {
    int cores = Runtime.getRuntime().availableProcessors();
    String prefix = in.text("prefix", "bench");
    String password = in.text("password", "bench-pw");
    if (!prefix.chars().allMatch(c -> c > ' ' && c != 0x7f) || prefix.length() > 48) {
      throw new UsageException("--prefix must be at most 48 characters without spaces");
    }
    if (password.isEmpty() || !password.chars().allMatch(c -> c > ' ' && c != 0x7f)) {
      throw new UsageException("--password must be non-empty, without spaces");
    }
    int clients = in.integer("clients", 100, 1, 1_000_000);
    if ((scenario.equals(DIRECT) || scenario.equals(SWEEP) || scenario.equals(FANOUT))
        && clients < 2) {
      throw new UsageException(scenario + " needs --clients 2 or more");
    }
    int senders = in.integer("senders", 1, 1, 1_000_000);
    if (senders > clients) {
      throw new UsageException("--senders " + senders + " is more than --clients " + clients);
    }
    double from = in.decimal("from", 5_000, 0.001);
    double to = in.decimal("to", 320_000, 0.001);
    if (to < from) {
      throw new UsageException("--to must not be below --from");
    }
    OptionalDouble step =
        in.has("step") ? OptionalDouble.of(in.decimal("step", 0, 0.001)) : OptionalDouble.empty();
    Optional<Path> out =
        in.has("out") ? Optional.of(Path.of(in.text("out", ""))) : Optional.empty();
    if (scenario.equals(CREDENTIALS) && out.isEmpty()) {
      throw new UsageException("credentials needs --out FILE");
    }
    double backoffMin = in.decimal("backoff-min", 0.2, 0.001);
    double backoffMax = in.decimal("backoff-max", 5, 0.001);
    if (backoffMax < backoffMin) {
      throw new UsageException("--backoff-max must not be below --backoff-min");
    }
    boolean reconnect = scenario.equals(RECONNECT);
    boolean plaintext = in.has("plaintext");
    if (plaintext && in.has("tls-warmup")) {
      throw new UsageException("--tls-warmup is for TLS: it does not go with --plaintext");
    }
    List<Server> servers = servers(in);
    List<Fingerprint> trustFingerprints = new ArrayList<>();
    if (in.has("trust-fingerprint")) {
      if (plaintext) {
        throw new UsageException("--trust-fingerprint is for TLS: it does not go with --plaintext");
      }
      for (String fingerprint : in.list("trust-fingerprint")) {
        try {
          trustFingerprints.add(Fingerprint.parse(fingerprint));
        } catch (IllegalArgumentException e) {
          throw new UsageException("--trust-fingerprint: " + e.getMessage());
        }
      }
      if (trustFingerprints.size() != servers.size()) {
        throw new UsageException(
            "--trust-fingerprint needs one fingerprint per server, in the order of --servers: "
                + trustFingerprints.size()
                + " for "
                + servers.size()
                + " server(s)");
      }
    }
    List<Long> serverPids = new ArrayList<>();
    if (in.has("server-pid")) {
      for (String pid : in.list("server-pid")) {
        long parsed = Reader.parseInteger("server-pid", pid, 1, Integer.MAX_VALUE);
        if (serverPids.contains(parsed)) {
          throw new UsageException("--server-pid " + parsed + " given twice");
        }
        serverPids.add(parsed);
      }
    }
    return new BenchOptions(
        scenario,
        List.copyOf(servers),
        clients,
        prefix,
        password,
        out,
        in.integer("threads", Math.min(4, Math.max(1, cores)), 1, 64),
        in.integer("login-concurrency", 64, 1, 100_000),
        in.rate("rate"),
        // reconnect: how long to wait for the restarts, which someone else makes.
        in.decimal("duration", reconnect ? 600 : 10, 0.001),
        in.integer("window", 16, 1, 100_000),
        in.integer("payload", 64, 1, 60_000),
        in.decimal("grace", 10, 0),
        senders,
        from,
        to,
        step,
        in.decimal("slo-p99-ms", 100, 0.001),
        in.decimal("keepalive", 300, 0),
        in.integer("restarts", 1, 1, 1_000),
        backoffMin,
        backoffMax,
        in.decimal("backoff-random", 0.2, 0),
        in.integer("probes", Math.min(10, clients), 0, clients),
        in.decimal("probe-interval", 0.2, 0.001),
        in.decimal("login-timeout", 0, 0),
        in.decimal("connect-timeout", DEFAULT_CONNECT_TIMEOUT_SECONDS, 0),
        in.integer("kept", 0, 0, 1_000_000),
        in.integer("laggards", Math.min(10, Math.max(1, clients - 1)), 1, clients),
        in.has("probe-ids") ? Optional.of(Path.of(in.text("probe-ids", ""))) : Optional.empty(),
        List.copyOf(serverPids),
        in.has("json") ? Optional.of(Path.of(in.text("json", ""))) : Optional.empty(),
        in.has("quiet"),
        plaintext,
        List.copyOf(trustFingerprints),
        in.integer("tls-warmup", DEFAULT_TLS_WARM_UP, 0, MAX_TLS_WARM_UP),
        !in.has("no-resume"));
  }

  /** The servers: one from --host and --port, or those of --servers. */
  private static List<Server> servers(Reader in) throws UsageException {
    if (!in.has("servers")) {
      return List.of(new Server(in.text("host", "127.0.0.1"), in.integer("port", 3331, 1, 65_535)));
    }
    if (in.has("host") || in.has("port")) {
      throw new UsageException(
          "--servers does not go with --host or --port: give every server in --servers");
    }
    List<Server> servers = new ArrayList<>();
    for (String server : in.list("servers")) {
      int colon = server.lastIndexOf(':');
      String host = colon > 0 ? server.substring(0, colon) : "";
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (host.isEmpty() || colon == server.length() - 1) {
        throw new UsageException("--servers: '" + server + "' is not HOST:PORT");
      }
      Server parsed =
          new Server(
              host, (int) Reader.parseInteger("servers", server.substring(colon + 1), 1, 65_535));
      if (servers.contains(parsed)) {
        throw new UsageException("--servers: " + parsed + " given twice");
      }
      servers.add(parsed);
    }
    return servers;
  }

  /** The first server's address (the only one without --servers). */
  public String host() {
    return servers.get(0).host();
  }

  /** The first server's port (the only one without --servers). */
  public int port() {
    return servers.get(0).port();
  }

  /** The servers as people read them: {@code HOST:PORT[,HOST:PORT...]}. */
  public String serversText() {
    return String.join(",", servers.stream().map(Server::toString).toList());
  }

  /** reconnect: the waits of a user coming back. */
  public Backoff backoff() {
    return new Backoff(
        Duration.ofNanos((long) (backoffMinSeconds * 1e9)),
        Duration.ofNanos((long) (backoffMaxSeconds * 1e9)),
        backoffRandomFactor);
  }

  /**
   * How the generator reaches the server, as summaries say it: {@code tls} or {@code plaintext}.
   */
  public String transport() {
    return plaintext ? "plaintext" : "tls";
  }

  /** The offered rate as the summary shows it: a number, or {@code max}. */
  public String rateText() {
    return rate.isPresent() ? String.format(Locale.ROOT, "%.0f", rate.getAsDouble()) : "max";
  }

  /** The rates a sweep tries, in order: from, then adding step (or doubling), up to to. */
  public List<Double> sweepRates() {
    java.util.ArrayList<Double> rates = new java.util.ArrayList<>();
    double rate = from;
    while (rate <= to * (1 + 1e-9) && rates.size() < 1_000) {
      rates.add(rate);
      rate = step.isPresent() ? rate + step.getAsDouble() : rate * 2;
    }
    if (rates.get(rates.size() - 1) < to * (1 - 1e-9) && step.isEmpty()) {
      rates.add(to);
    }
    return rates;
  }

  private static Set<String> without(Set<String> options, String option) {
    Set<String> rest = new LinkedHashSet<>(options);
    rest.remove(option);
    return Set.copyOf(rest);
  }

  @SafeVarargs
  private static Set<String> union(List<String>... lists) {
    Set<String> all = new LinkedHashSet<>();
    for (List<String> list : lists) {
      all.addAll(list);
    }
    return Set.copyOf(all);
  }

  /** Typed access to the given options. */
  private record Reader(Map<String, String> given) {

    boolean has(String name) {
      return given.containsKey(name);
    }

    String text(String name, String otherwise) {
      return given.getOrDefault(name, otherwise);
    }

    int integer(String name, int otherwise, int min, int max) throws UsageException {
      if (!has(name)) {
        return otherwise;
      }
      return (int) parseInteger(name, given.get(name), min, max);
    }

    /** A comma-separated list: no empty items. */
    List<String> list(String name) throws UsageException {
      String value = given.get(name);
      List<String> items = List.of(value.split(",", -1));
      if (items.stream().anyMatch(item -> item.trim().isEmpty())) {
        throw new UsageException("--" + name + " has an empty item in '" + value + "'");
      }
      return items.stream().map(String::trim).toList();
    }

    static long parseInteger(String name, String text, long min, long max) throws UsageException {
      String value = text.replace("_", "");
      try {
        long parsed = Long.parseLong(value);
        if (parsed < min || parsed > max) {
          throw new UsageException("--" + name + " must be between " + min + " and " + max);
        }
        return parsed;
      } catch (NumberFormatException e) {
        throw new UsageException("--" + name + " must be a whole number, not '" + value + "'");
      }
    }

    double decimal(String name, double otherwise, double min) throws UsageException {
      if (!has(name)) {
        return otherwise;
      }
      String value = given.get(name).replace("_", "");
      try {
        double parsed = Double.parseDouble(value);
        if (!(parsed >= min) || Double.isInfinite(parsed)) {
          throw new UsageException("--" + name + " must be a number of at least " + min);
        }
        return parsed;
      } catch (NumberFormatException e) {
        throw new UsageException("--" + name + " must be a number, not '" + value + "'");
      }
    }

    OptionalDouble rate(String name) throws UsageException {
      if (!has(name) || given.get(name).equals("max")) {
        return OptionalDouble.empty();
      }
      return OptionalDouble.of(decimal(name, 0, 0.001));
    }
  }
}
