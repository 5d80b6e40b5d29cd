package dev.parley.server.login;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The accounts the server knows: usernames and their passwords, as read from a credentials file
 * ({@code username password} per line, one space between them, case-sensitive). Immutable.
 *
 * <p>Read once at start-up, before any actor runs, so that no actor does file I/O.
 */
public final class Accounts {

  /** The demo accounts bundled with the server (the five users of the reference sample run). */
  public static final String DEMO_RESOURCE = "/demo-credentials.txt";

  private static final String BYTE_ORDER_MARK = "\uFEFF";

  private final Map<String, byte[]> passwords;

  private Accounts(Map<String, byte[]> passwords) {
    this.passwords = Map.copyOf(passwords);
  }

  /** What reading a credentials file produced: the accounts, and one note per line skipped. */
  public record Loaded(Accounts accounts, List<String> problems) {
    public Loaded {
      problems = List.copyOf(problems);
    }
  }

  /** Accounts from {@code username password} pairs, for tests and tools. */
  public static Accounts of(Map<String, String> usernameToPassword) {
    Map<String, byte[]> encoded = new LinkedHashMap<>();
    usernameToPassword.forEach((user, password) -> encoded.put(user, utf8(password)));
    return new Accounts(encoded);
  }

  /** Reads a credentials file. */
  public static Loaded read(Path file) throws IOException {
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return parse(reader, file.toString());
    }
  }

  /** Reads the demo accounts bundled with the server. */
  public static Loaded readDemo() {
    try (InputStream in = Accounts.class.getResourceAsStream(DEMO_RESOURCE)) {
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
    Map<String, byte[]> passwords = new LinkedHashMap<>();
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
      if (passwords.containsKey(user)) {
        problems.add(source + ":" + lineNumber + ": duplicate username '" + user + "' ignored");
        continue;
      }
      passwords.put(user, utf8(line.substring(space + 1)));
    }
    return new Loaded(new Accounts(passwords), problems);
  }

  /** Every username, in no particular order. */
  public Set<String> usernames() {
    return passwords.keySet();
  }

  /** Whether an account has this username. */
  public boolean exists(String username) {
    return passwords.containsKey(username);
  }

  /** Whether the password is this account's, compared in constant time. */
  public boolean passwordMatches(String username, String password) {
    byte[] expected = passwords.get(username);
    return expected != null && MessageDigest.isEqual(expected, utf8(password));
  }

  /** How many accounts there are. */
  public int size() {
    return passwords.size();
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
