package dev.parley.server;

import dev.parley.server.cluster.ClusterSettings;
import dev.parley.server.http.HttpSettings;
import dev.parley.server.store.StoreSettings;
import dev.parley.server.tls.TlsSettings;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The server's command line: {@code [server_port block_duration timeout] [options]} to run a node,
 * or {@code user add|remove|passwd|list [NAME] [options]} to manage accounts. Positional arguments
 * and options become configuration overrides, so the configuration stays the single place where
 * settings are read.
 */
public final class CommandLine {

  /** Printed for {@code --help} and after a usage error. */
  public static final String USAGE =
      String.join(
          "\n",
          "Usage: parley-server [server_port block_duration timeout] [options]",
          "       parley-server user add|passwd|remove NAME [options]",
          "       parley-server user list [options]",
          "",
          "  server_port      TCP port to listen on (0 picks a free one)",
          "  block_duration   seconds a username stays blocked after 3 wrong passwords",
          "  timeout          seconds without a command before a user is logged out",
          "",
          "  user add NAME      create an account; the password is asked for (not echoed),",
          "                     or read from the first line of standard input when piped",
          "  user passwd NAME   set a new password (and lift a lockout)",
          "  user remove NAME   delete an account with its blocks and messages",
          "  user list          list the accounts",
          "",
          "Options:",
          "  --host ADDRESS       address to listen on (default 127.0.0.1; 0.0.0.0 for all)",
          "  --http-port N        HTTP port for the web client (/), the protocol over WebSocket",
          "                       (/ws), health checks and metrics (docs/operations.md); HTTPS",
          "                       unless --plaintext; 0 picks a free one (default: none)",
          "  --credentials FILE   accounts to import at start, one 'username password' per line",
          "                       (default: credentials.txt in the working directory if it exists;",
          "                       on a first start without one, the bundled demo accounts)",
          "  --data-dir DIR       directory of the embedded database (default ./data)",
          "  --db-url URL         JDBC URL of a PostgreSQL database instead of the embedded one;",
          "                       user and password from PARLEY_DB_USER / PARLEY_DB_PASSWORD",
          "  --tls-cert FILE      PEM certificate chain to present (a CA's fullchain.pem), with",
          "  --tls-key FILE       its PEM private key; without them the server makes its own",
          "                       self-signed certificate in DATA_DIR/tls on its first start",
          "  --plaintext          no TLS: plain TCP, readable by anyone on the network path",
          "                       (for clients on this machine only; they need --plaintext too)",
          "  --cluster-port N     join a cluster of Parley nodes, talking to the other nodes on",
          "                       TCP port N (docs/cluster.md); needs --db-url: every node of a",
          "                       cluster uses the same PostgreSQL database",
          "  --seed-nodes HOST:PORT[,HOST:PORT...]",
          "                       cluster ports of the nodes to join through (default: none, this",
          "                       node starts a new cluster)",
          "  --cluster-host ADDRESS",
          "                       address the other nodes reach this one at (default 127.0.0.1)",
          "  --config FILE        HOCON file layered over the defaults (see reference.conf)",
          "  -h, --help           show this help",
          "",
          "Any setting can also be given as a system property, e.g."
              + " JAVA_OPTS=-Dparley.server.max-connections=100");

  /** An account operation of the admin command line. */
  public enum AdminAction {
    ADD,
    PASSWD,
    REMOVE,
    LIST
  }

  /** {@code user ACTION [NAME]}. */
  public record Admin(AdminAction action, Optional<String> username) {}

  /** What the command line asks for. */
  public record Invocation(
      boolean help,
      Map<String, Object> overrides,
      Optional<Path> configFile,
      Optional<Path> credentialsFile,
      Optional<Admin> admin) {}

  /** A command line that cannot be run; the message says what is wrong. */
  public static final class UsageException extends Exception {
    public UsageException(String message) {
      super(message);
    }
  }

  private static final Pattern NUMBER = Pattern.compile("-?\\d+");

  private CommandLine() {}

  public static Invocation parse(String... args) throws UsageException {
    Map<String, Object> overrides = new LinkedHashMap<>();
    Optional<Path> configFile = Optional.empty();
    Optional<Path> credentials = Optional.empty();
    Optional<Admin> admin = Optional.empty();
    int first = 0;
    if (args.length > 0 && args[0].equals("user")) {
      admin = Optional.of(admin(args));
      first = admin.get().username().isPresent() ? 3 : 2;
    }
    int positional = 0;
    for (int i = first; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "-h", "--help" -> {
          return new Invocation(true, Map.of(), Optional.empty(), Optional.empty(), admin);
        }
        case "--host" -> overrides.put(key("host"), value(args, ++i, arg));
        case "--http-port" ->
            overrides.put(
                HttpSettings.PATH + ".port",
                integer(value(args, ++i, arg), "--http-port", 0, 65_535));
        case "--credentials" -> credentials = Optional.of(Path.of(value(args, ++i, arg)));
        case "--config" -> configFile = Optional.of(Path.of(value(args, ++i, arg)));
        case "--data-dir" -> overrides.put(storeKey("data-dir"), value(args, ++i, arg));
        case "--db-url" -> overrides.put(storeKey("url"), value(args, ++i, arg));
        case "--tls-cert" -> overrides.put(tlsKey("certificate"), value(args, ++i, arg));
        case "--tls-key" -> overrides.put(tlsKey("private-key"), value(args, ++i, arg));
        case "--plaintext" -> overrides.put(tlsKey("enabled"), false);
        case "--cluster-port" -> {
          overrides.put(clusterKey("enabled"), true);
          overrides.put(
              clusterKey("port"), integer(value(args, ++i, arg), "--cluster-port", 1, 65_535));
        }
        case "--seed-nodes" ->
            overrides.put(clusterKey("seed-nodes"), seedNodes(value(args, ++i, arg)));
        case "--cluster-host" -> overrides.put(clusterKey("host"), value(args, ++i, arg));
        default -> {
          // A negative number is a (bad) positional argument, not an option.
          if (arg.startsWith("-") && !NUMBER.matcher(arg).matches()) {
            throw new UsageException("unknown option " + arg);
          }
          if (admin.isPresent()) {
            throw new UsageException("unexpected argument " + arg);
          }
          switch (positional++) {
            case 0 -> overrides.put(key("port"), integer(arg, "server_port", 0, 65_535));
            case 1 -> overrides.put(key("block-duration"), seconds(arg, "block_duration"));
            case 2 -> overrides.put(key("idle-timeout"), seconds(arg, "timeout"));
            default -> throw new UsageException("unexpected argument " + arg);
          }
        }
      }
    }
    credentials.ifPresent(file -> overrides.put(key("credentials-file"), file.toString()));
    return new Invocation(false, overrides, configFile, credentials, admin);
  }

  private static Admin admin(String[] args) throws UsageException {
    if (args.length < 2 || args[1].startsWith("-")) {
      throw new UsageException("user needs one of add, passwd, remove, list");
    }
    AdminAction action;
    switch (args[1]) {
      case "add" -> action = AdminAction.ADD;
      case "passwd" -> action = AdminAction.PASSWD;
      case "remove" -> action = AdminAction.REMOVE;
      case "list" -> action = AdminAction.LIST;
      default -> throw new UsageException("unknown user command " + args[1]);
    }
    if (action == AdminAction.LIST) {
      return new Admin(action, Optional.empty());
    }
    if (args.length < 3 || args[2].startsWith("-")) {
      throw new UsageException("user " + args[1] + " needs a NAME");
    }
    String name = args[2];
    if (name.isEmpty() || name.length() > 64 || !name.chars().allMatch(c -> c > ' ' && c != 0x7f)) {
      throw new UsageException("a username is 1 to 64 characters without spaces");
    }
    return new Admin(action, Optional.of(name));
  }

  private static String key(String name) {
    return ServerSettings.PATH + "." + name;
  }

  private static String storeKey(String name) {
    return StoreSettings.PATH + "." + name;
  }

  private static String tlsKey(String name) {
    return TlsSettings.PATH + "." + name;
  }

  private static String clusterKey(String name) {
    return ClusterSettings.PATH + "." + name;
  }

  /** {@code HOST:PORT[,HOST:PORT...]}, checked here so that a typo is a usage error. */
  private static List<String> seedNodes(String arg) throws UsageException {
    List<String> seeds = new ArrayList<>();
    for (String seed : arg.split(",", -1)) {
      try {
        seeds.add(ClusterSettings.SeedNode.parse(seed).toString());
      } catch (IllegalArgumentException e) {
        throw new UsageException("--seed-nodes: " + e.getMessage());
      }
    }
    return List.copyOf(seeds);
  }

  private static String value(String[] args, int index, String option) throws UsageException {
    if (index >= args.length || args[index].startsWith("--")) {
      throw new UsageException(option + " needs a value");
    }
    return args[index];
  }

  private static String seconds(String arg, String name) throws UsageException {
    return integer(arg, name, 1, Integer.MAX_VALUE) + "s";
  }

  private static int integer(String arg, String name, int min, int max) throws UsageException {
    if (!NUMBER.matcher(arg).matches()) {
      throw new UsageException(name + " must be a whole number, not '" + arg + "'");
    }
    long value;
    try {
      value = Long.parseLong(arg);
    } catch (NumberFormatException tooLong) {
      value = arg.startsWith("-") ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    if (value < min || value > max) {
      throw new UsageException(name + " must be between " + min + " and " + max + ", not " + arg);
    }
    return (int) value;
  }
}
