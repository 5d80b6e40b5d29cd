package dev.parley.bench;

import dev.parley.bench.client.Fleet;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code credentials}: writes the accounts of the simulated users, {@code PREFIX0 .. PREFIX(N-1)}
 * with one password, as the {@code username password} lines the server imports with {@code
 * --credentials FILE}.
 */
final class Credentials {

  private Credentials() {}

  static void write(Path file, String prefix, String password, int clients) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (int i = 0; i < clients; i++) {
        out.write(Fleet.username(prefix, i));
        out.write(' ');
        out.write(password);
        out.write('\n');
      }
    }
  }
}
