package dev.parley.client.tls;

import dev.parley.transport.Fingerprint;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The servers this user's client has met, as SSH's {@code known_hosts}: the file {@code
 * known_servers} in the client's directory ({@code ~/.parley}, or {@code $PARLEY_HOME}), one line
 * per server, {@code host:port SHA256:...}, the host as the user typed it ({@code [::1]:3331} for
 * an IPv6 address). Blank lines and lines starting with {@code #} are ignored, and so is a line
 * that cannot be read (it is reported, with its number, so that the user can mend it).
 *
 * <p>It is read afresh at each look-up, since another client of the same user may have added to it,
 * and only ever appended to, in one write per line.
 */
public final class KnownServers {

  /** The file's name in the client's directory. */
  public static final String FILE_NAME = "known_servers";

  private static final String COMMENT = "#";

  private final Path file;

  /** A server's line: where it is in the file, and the fingerprint it records. */
  public record Entry(int line, Fingerprint fingerprint) {}

  /** A line that is not a server's: its number and what is wrong with it. */
  public record Problem(int line, String reason) {}

  /**
   * What a look-up found: the server's first line, if any, and the lines that could not be read.
   */
  public record Lookup(Optional<Entry> entry, List<Problem> problems) {
    public Lookup {
      problems = List.copyOf(problems);
    }
  }

  public KnownServers(Path directory) {
    this.file = directory.resolve(FILE_NAME);
  }

  /** The file, for messages that tell the user where to look. */
  public Path file() {
    return file;
  }

  /** The name a server goes by in the file: {@code host:port}, an IPv6 address in brackets. */
  public static String key(String host, int port) {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /** Looks {@code server} (a {@link #key}) up. */
  public synchronized Lookup find(String server) throws IOException {
    // Also when the directory cannot exist (its path runs through a file): nothing is recorded.
    if (!Files.exists(file)) {
      return new Lookup(Optional.empty(), List.of());
    }
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException removedMeanwhile) {
      return new Lookup(Optional.empty(), List.of());
    }
    List<Problem> problems = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      int number = i + 1;
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith(COMMENT)) {
        continue;
      }
      String[] fields = line.split("\\s+");
      if (fields.length != 2) {
        problems.add(new Problem(number, "expected 'host:port SHA256:...'"));
        continue;
      }
      Fingerprint fingerprint;
      try {
        fingerprint = Fingerprint.parse(fields[1]);
      } catch (IllegalArgumentException e) {
        problems.add(new Problem(number, e.getMessage()));
        continue;
      }
      if (fields[0].equals(server)) {
        return new Lookup(Optional.of(new Entry(number, fingerprint)), problems);
      }
    }
    return new Lookup(Optional.empty(), problems);
  }

  /**
   * Records {@code server} with {@code fingerprint} at the end of the file, creating the directory
   * (for its owner only) and the file if need be.
   */
  public synchronized void add(String server, Fingerprint fingerprint) throws IOException {
    Path directory = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(directory)) {
      if (directory.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Files.createDirectories(
            directory,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } else {
        Files.createDirectories(directory);
      }
    }
    // A file written by hand may lack its last line feed: the new line must not join it.
    boolean needsLineFeed = Files.exists(file) && Files.size(file) > 0 && !endsWithLineFeed();
    String line = (needsLineFeed ? "\n" : "") + server + " " + fingerprint + "\n";
    Files.writeString(
        file,
        line,
        StandardCharsets.UTF_8,
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND,
        StandardOpenOption.WRITE);
  }

  private boolean endsWithLineFeed() throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    return bytes[bytes.length - 1] == '\n';
  }
}
