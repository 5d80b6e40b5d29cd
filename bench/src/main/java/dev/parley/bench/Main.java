package dev.parley.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code parley-bench SCENARIO [options]}: a load generator for Parley's own protocol.
 *
 * <ul>
 *   <li>{@code credentials --clients N --out FILE}: writes N accounts for a server to import.
 *   <li>{@code direct --port P --clients N --messages M [--window W]}: direct messages between
 *       random users; prints one {@code key=value} line.
 * </ul>
 */
public final class Main {

  static final String USAGE =
      String.join(
          "\n",
          "Usage: parley-bench credentials --clients N --out FILE [--password PW] [--prefix P]",
          "       parley-bench direct --port P --clients N --messages M [--window W] [--host H]",
          "                            [--payload BYTES] [--password PW] [--prefix P] [--acks"
              + " false]");

  private Main() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("--help")) {
      System.out.println(USAGE);
      return;
    }
    Map<String, String> options = options(args);
    String prefix = options.getOrDefault("prefix", "bench");
    String password = options.getOrDefault("password", "bench-password");
    int clients = Integer.parseInt(options.getOrDefault("clients", "10"));
    switch (args[0]) {
      case "credentials" -> {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
          lines.add(username(prefix, i) + " " + password);
        }
        Files.write(Path.of(require(options, "out")), lines);
      }
      case "direct" ->
          System.out.println(
              new DirectScenario(
                      new DirectScenario.Settings(
                          options.getOrDefault("host", "127.0.0.1"),
                          Integer.parseInt(require(options, "port")),
                          clients,
                          Integer.parseInt(options.getOrDefault("messages", "1000")),
                          Integer.parseInt(options.getOrDefault("window", "16")),
                          prefix,
                          password,
                          Integer.parseInt(options.getOrDefault("payload", "64")),
                          Boolean.parseBoolean(options.getOrDefault("acks", "true"))))
                  .run());
      default -> {
        System.err.println("parley-bench: unknown scenario " + args[0]);
        System.err.println(USAGE);
        System.exit(2);
      }
    }
  }

  static String username(String prefix, int index) {
    return prefix + index;
  }

  private static Map<String, String> options(String[] args) throws IOException {
    Map<String, String> options = new HashMap<>();
    for (int i = 1; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IOException("expected --option value, got " + args[i]);
      }
      options.put(args[i].substring(2), args[i + 1]);
    }
    return options;
  }

  private static String require(Map<String, String> options, String name) {
    String value = options.get(name);
    if (value == null) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return value;
  }
}
