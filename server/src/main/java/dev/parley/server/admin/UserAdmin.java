package dev.parley.server.admin;

import dev.parley.protocol.Protocol;
import dev.parley.protocol.WireText;
import dev.parley.server.CommandLine;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Store;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.PrintStream;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;

/**
 * {@code parley-server user add|passwd|remove|list}: account management on the same store the
 * server uses. The password is read from the terminal without echo (asked twice), or from the first
 * line of standard input when it is not a terminal, so that scripts can pipe it in; it is never
 * taken from the command line, where other users of the machine could see it.
 */
public final class UserAdmin {

  /** Exit status when the operation could not be done (no such account, passwords differ). */
  public static final int EXIT_REFUSED = 1;

  static final String INVALID_NAME =
      "invalid username: 1 to "
          + Protocol.MAX_NAME_LENGTH
          + " characters, without whitespace, control characters or unpaired surrogates";

  private final Store store;
  private final PasswordHasher hasher;
  private final PrintStream out;
  private final PrintStream err;
  private final PasswordSource passwords;

  /** Where a new password comes from. */
  public interface PasswordSource {
    /** The new password, or null if none was given (or the two entries differ, on a terminal). */
    String read(String username) throws IOException;
  }

  public UserAdmin(
      Store store,
      PasswordHasher hasher,
      PasswordSource passwords,
      PrintStream out,
      PrintStream err) {
    this.store = store;
    this.hasher = hasher;
    this.passwords = passwords;
    this.out = out;
    this.err = err;
  }

  /** Performs {@code admin} and returns the exit status. */
  public int run(CommandLine.Admin admin) throws SQLException, IOException {
    String name = admin.username().orElse(null);
    // An account nobody could log in to or be addressed by: the protocol refuses such names. A
    // remove still takes one, to clear an account made before names were checked.
    if ((admin.action() == CommandLine.AdminAction.ADD
            || admin.action() == CommandLine.AdminAction.PASSWD)
        && !WireText.isValidName(name)) {
      // The name itself is not echoed: it may hold control characters.
      err.println("parley-server: " + INVALID_NAME);
      return EXIT_REFUSED;
    }
    switch (admin.action()) {
      case LIST -> {
        store.usernames().forEach(out::println);
        return 0;
      }
      case REMOVE -> {
        if (!store.removeAccount(name)) {
          err.println("parley-server: no account " + name);
          return EXIT_REFUSED;
        }
        out.println("removed " + name);
        return 0;
      }
      case ADD, PASSWD -> {
        boolean exists = store.passwordHash(name).isPresent();
        if (admin.action() == CommandLine.AdminAction.ADD && exists) {
          err.println("parley-server: account " + name + " exists (use user passwd to change it)");
          return EXIT_REFUSED;
        }
        if (admin.action() == CommandLine.AdminAction.PASSWD && !exists) {
          err.println("parley-server: no account " + name);
          return EXIT_REFUSED;
        }
        String password = passwords.read(name);
        if (password == null || password.isEmpty()) {
          err.println("parley-server: no password given, nothing changed");
          return EXIT_REFUSED;
        }
        String hash = hasher.hash(password);
        boolean done =
            admin.action() == CommandLine.AdminAction.ADD
                ? store.addAccount(name, hash, Instant.now())
                : store.setPasswordHash(name, hash);
        if (!done) {
          err.println("parley-server: account " + name + " changed meanwhile, nothing done");
          return EXIT_REFUSED;
        }
        out.println(
            (admin.action() == CommandLine.AdminAction.ADD ? "added " : "password set for ")
                + name);
        return 0;
      }
      default -> throw new IllegalArgumentException("unknown action " + admin.action());
    }
  }

  /** Passwords from the terminal without echo, or from standard input when it is piped. */
  public static PasswordSource interactive(BufferedReader stdin, PrintStream err) {
    return username -> {
      Console console = System.console();
      if (console == null) {
        return stdin.readLine();
      }
      char[] first = console.readPassword("Password for %s: ", username);
      char[] second = console.readPassword("Again: ");
      try {
        if (first == null || !Arrays.equals(first, second)) {
          err.println("parley-server: the passwords differ");
          return null;
        }
        return new String(first);
      } finally {
        if (first != null) {
          Arrays.fill(first, '\0');
        }
        if (second != null) {
          Arrays.fill(second, '\0');
        }
      }
    };
  }
}
