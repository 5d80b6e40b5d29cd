package dev.parley.server.login;

import dev.parley.protocol.Protocol;
import dev.parley.protocol.WireText;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A credentials file of the classic application: one {@code username password} per line, one space
 * between them, case-sensitive. Parley imports it into its store (hashing the passwords) and
 * otherwise never keeps a password in clear.
 */
public final class CredentialsFile {

  /** The demo accounts bundled with the server (the five users of the reference sample run). */
  public static final String DEMO_RESOURCE = "/demo-credentials.txt";

  private static final String BYTE_ORDER_MARK = "\uFEFF";

  private static final String INVALID_NAME =
      "invalid username (1 to "
          + Protocol.MAX_NAME_LENGTH
          + " characters, without whitespace, control characters or unpaired surrogates)";

  /**
   * What reading a credentials file produced: the accounts in file order, and one note per line
   * skipped.
   */
  public record Loaded(Map<String, String> passwords, List<String> problems) {
    public Loaded {
      passwords = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(passwords));
      problems = List.copyOf(problems);
    }

    @Override
    public String toString() {
      return "Loaded[users=" + passwords.keySet() + ", problems=" + problems + "]";
    }
  }

  private CredentialsFile() {}

  /** Reads a credentials file. */
  public static Loaded read(Path file) throws IOException {
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return parse(reader, file.toString());
    }
  }

  /** Reads the demo accounts bundled with the server. */
  public static Loaded readDemo() {
    try (InputStream in = CredentialsFile.class.getResourceAsStream(DEMO_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("bundled resource " + DEMO_RESOURCE + " is missing");
      }
      return parse(
          new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)), DEMO_RESOURCE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Loaded parse(BufferedReader reader, String source) throws IOException {
    Map<String, String> passwords = new LinkedHashMap<>();
    List<String> problems = new ArrayList<>();
    int lineNumber = 0;
    for (String line = reader.readLine(); line != null; line = reader.readLine()) {
      lineNumber++;
      if (lineNumber == 1 && line.startsWith(BYTE_ORDER_MARK)) {
        // Editors on Windows start UTF-8 files with one; it is not part of the first username.
        line = line.substring(BYTE_ORDER_MARK.length());
      }
      if (line.isBlank()) {
        continue;
      }
      int space = line.indexOf(' ');
      // The format is exactly two fields; whitespace inside a username would make it unaddressable.
      if (space <= 0 || space == line.length() - 1 || line.indexOf(' ', space + 1) >= 0) {
        problems.add(source + ":" + lineNumber + ": expected 'username password'");
        continue;
      }
      String user = line.substring(0, space);
      if (!WireText.isValidName(user)) {
        // Not echoed: it may hold control characters, which have no place in a log line.
        problems.add(source + ":" + lineNumber + ": " + INVALID_NAME);
        continue;
      }
      if (passwords.containsKey(user)) {
        problems.add(source + ":" + lineNumber + ": duplicate username '" + user + "' ignored");
        continue;
      }
      passwords.put(user, line.substring(space + 1));
    }
    return new Loaded(passwords, problems);
  }
}
