package dev.parley.client;

import dev.parley.client.server.ServerAddress;
import dev.parley.transport.Fingerprint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The client's command line: the servers, as {@code <server_host> <server_port>} (one) or {@code
 * HOST:PORT[,HOST:PORT...]} (one or more, IPv6 addresses as {@code [addr]:port}), and options, in
 * any order.
 *
 * @param help {@code --help} was given; nothing else matters then
 * @param servers the servers to try, in order (none only with {@code help})
 * @param configFile {@code --config FILE}: extra HOCON layered over the defaults
 * @param peerHost {@code --peer-host ADDR}: where to accept private chats
 * @param peerPort {@code --peer-port N}: the port to accept private chats on
 * @param plaintext {@code --plaintext}: plain TCP to the server instead of TLS
 * @param trustFingerprint {@code --trust-fingerprint FP}: the only server certificate to accept
 * @param noColor {@code --no-color}: plain text on a colour terminal
 * @param timestamps {@code --timestamps}: {@code [HH:MM] } before incoming lines
 */
public record CommandLine(
    boolean help,
    List<ServerAddress> servers,
    Optional<Path> configFile,
    Optional<String> peerHost,
    Optional<Integer> peerPort,
    boolean plaintext,
    Optional<Fingerprint> trustFingerprint,
    boolean noColor,
    boolean timestamps) {

  /** How to call the client, for {@code --help} and usage errors. */
  public static final String USAGE =
      String.join(
          System.lineSeparator(),
          "Usage: parley <server_host> <server_port> [options]",
          "       parley HOST:PORT[,HOST:PORT...] [options]",
          "The second form lists several servers (an IPv6 address as [addr]:port): the client",
          "connects to the first that answers, in order, and after a lost connection tries the",
          "next one each time it reconnects.",
          "Options:",
          "  --config FILE     extra configuration (HOCON) layered over the defaults",
          "  --peer-host ADDR  address to accept private chats on"
              + " (default: the one used to reach the server)",
          "  --peer-port N     port to accept private chats on (default: any free port)",
          "  --trust-fingerprint SHA256:...",
          "                    accept only the server certificate with this fingerprint (the",
          "                    server logs it at start); otherwise a certificate from a CA the",
          "                    system trusts, or the one recorded in ~/.parley/known_servers",
          "                    (PARLEY_HOME moves that directory), recorded the first time",
          "  --plaintext       plain TCP instead of TLS, for a server started with --plaintext:",
          "                    anyone on the network path can read and change everything",
          "  --no-color        no colours on the terminal (so does NO_COLOR in the environment)",
          "  --timestamps      show [HH:MM] before incoming messages, logins and logouts",
          "  --help            show this help and exit",
          "Exit status: 0 logged out, 1 login refused, 2 bad arguments, 3 connection failed or",
          "lost, 4 logged out for inactivity, 5 the server's identity could not be verified");

  private static final int MAX_PORT = 65_535;
  private static final String SERVER_LIST = "HOST:PORT[,HOST:PORT...]";

  public CommandLine {
    servers = List.copyOf(servers);
  }

  /** Thrown for a command line that cannot be used; the message says what is wrong. */
  public static final class UsageException extends Exception {
    public UsageException(String message) {
      super(message);
    }
  }

  /** Parses the arguments of {@code main}. */
  public static CommandLine parse(String[] args) throws UsageException {
    List<String> positional = new ArrayList<>();
    Optional<Path> configFile = Optional.empty();
    Optional<String> peerHost = Optional.empty();
    Optional<Integer> peerPort = Optional.empty();
    boolean plaintext = false;
    Optional<Fingerprint> trustFingerprint = Optional.empty();
    boolean noColor = false;
    boolean timestamps = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "--help", "-h" -> {
          return new CommandLine(
              true,
              List.of(),
              configFile,
              peerHost,
              peerPort,
              plaintext,
              trustFingerprint,
              noColor,
              timestamps);
        }
        case "--config" -> configFile = Optional.of(Path.of(value(args, ++i, arg)));
        case "--peer-host" -> peerHost = Optional.of(value(args, ++i, arg));
        case "--peer-port" -> peerPort = Optional.of(port(value(args, ++i, arg), arg, 0));
        case "--plaintext" -> plaintext = true;
        case "--no-color" -> noColor = true;
        case "--timestamps" -> timestamps = true;
        case "--trust-fingerprint" ->
            trustFingerprint = Optional.of(fingerprint(value(args, ++i, arg)));
        default -> {
          if (arg.startsWith("--")) {
            throw new UsageException("unknown option " + arg);
          }
          positional.add(arg);
        }
      }
    }
    List<ServerAddress> servers =
        switch (positional.size()) {
          case 1 -> serverList(positional.get(0));
          case 2 -> List.of(classic(positional.get(0), positional.get(1)));
          default ->
              throw new UsageException("expected <server_host> <server_port>, or " + SERVER_LIST);
        };
    if (plaintext && trustFingerprint.isPresent()) {
      throw new UsageException("--trust-fingerprint needs TLS: it cannot go with --plaintext");
    }
    return new CommandLine(
        false,
        servers,
        configFile,
        peerHost,
        peerPort,
        plaintext,
        trustFingerprint,
        noColor,
        timestamps);
  }

  /** {@code <server_host> <server_port>}: the host taken as it is, as it always was. */
  private static ServerAddress classic(String host, String port) throws UsageException {
    if (host.isBlank()) {
      throw new UsageException("the server host must not be empty");
    }
    return new ServerAddress(host, port(port, "<server_port>", 1));
  }

  /** {@code HOST:PORT[,HOST:PORT...]}, each server once. */
  private static List<ServerAddress> serverList(String text) throws UsageException {
    List<ServerAddress> servers = new ArrayList<>();
    // -1 keeps empty entries (a trailing comma), so that they are reported, not dropped.
    for (String entry : text.split(",", -1)) {
      ServerAddress server = hostAndPort(entry.strip());
      if (servers.contains(server)) {
        throw new UsageException("the server " + server + " is listed twice");
      }
      servers.add(server);
    }
    return servers;
  }

  /** {@code host:port} or {@code [ipv6]:port}. */
  private static ServerAddress hostAndPort(String entry) throws UsageException {
    String host;
    String port;
    if (entry.startsWith("[")) {
      int close = entry.indexOf(']');
      if (close < 0 || close + 1 >= entry.length() || entry.charAt(close + 1) != ':') {
        throw new UsageException("expected [ADDRESS]:PORT for an IPv6 server, got '" + entry + "'");
      }
      host = entry.substring(1, close);
      port = entry.substring(close + 2);
    } else {
      int colon = entry.lastIndexOf(':');
      if (colon < 0) {
        throw new UsageException(
            "expected <server_host> <server_port>, or " + SERVER_LIST + ", got '" + entry + "'");
      }
      host = entry.substring(0, colon);
      port = entry.substring(colon + 1);
      if (host.contains(":")) {
        // 1::2:4000 could be two addresses: brackets say where the port starts.
        throw new UsageException(
            "an IPv6 server goes in brackets: [ADDRESS]:PORT, got '" + entry + "'");
      }
    }
    if (host.isBlank()) {
      throw new UsageException("the server host must not be empty in '" + entry + "'");
    }
    return new ServerAddress(host, port(port, "the port of " + entry, 1));
  }

  private static Fingerprint fingerprint(String text) throws UsageException {
    try {
      return Fingerprint.parse(text);
    } catch (IllegalArgumentException e) {
      throw new UsageException("--trust-fingerprint: " + e.getMessage());
    }
  }

  private static String value(String[] args, int index, String option) throws UsageException {
    if (index >= args.length || args[index].startsWith("--")) {
      throw new UsageException(option + " needs a value");
    }
    return args[index];
  }

  private static int port(String text, String what, int lowest) throws UsageException {
    try {
      int port = Integer.parseInt(text);
      if (port >= lowest && port <= MAX_PORT) {
        return port;
      }
    } catch (NumberFormatException notANumber) {
      // Reported below, with the accepted range.
    }
    throw new UsageException(what + " must be a port number from " + lowest + " to " + MAX_PORT);
  }
}
