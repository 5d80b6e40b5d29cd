package dev.parley.server;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The server's command line: {@code [server_port block_duration timeout] [options]}. Positional
 * arguments and options become configuration overrides, so the configuration stays the single place
 * where settings are read.
 */
public final class CommandLine {

  /** Printed for {@code --help} and after a usage error. */
  public static final String USAGE =
      String.join(
          "\n",
          "Usage: parley-server [server_port block_duration timeout] [options]",
          "",
          "  server_port      TCP port to listen on (0 picks a free one)",
          "  block_duration   seconds a username stays blocked after 3 wrong passwords",
          "  timeout          seconds without a command before a user is logged out",
          "",
          "Options:",
          "  --host ADDRESS       address to listen on (default 127.0.0.1; 0.0.0.0 for all)",
          "  --credentials FILE   accounts file, one 'username password' per line",
          "                       (default: credentials.txt in the working directory, else a",
          "                       bundled demo file)",
          "  --config FILE        HOCON file layered over the defaults (see reference.conf)",
          "  -h, --help           show this help",
          "",
          "Any setting can also be given as a system property, e.g."
              + " JAVA_OPTS=-Dparley.server.max-connections=100");

  /** What the command line asks for. */
  public record Invocation(
      boolean help,
      Map<String, Object> overrides,
      Optional<Path> configFile,
      Optional<Path> credentialsFile) {}

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
    int positional = 0;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      switch (arg) {
        case "-h", "--help" -> {
          return new Invocation(true, Map.of(), Optional.empty(), Optional.empty());
        }
        case "--host" -> overrides.put(key("host"), value(args, ++i, arg));
        case "--credentials" -> credentials = Optional.of(Path.of(value(args, ++i, arg)));
        case "--config" -> configFile = Optional.of(Path.of(value(args, ++i, arg)));
        default -> {
          // A negative number is a (bad) positional argument, not an option.
          if (arg.startsWith("-") && !NUMBER.matcher(arg).matches()) {
            throw new UsageException("unknown option " + arg);
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
    return new Invocation(false, overrides, configFile, credentials);
  }

  private static String key(String name) {
    return ServerSettings.PATH + "." + name;
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
