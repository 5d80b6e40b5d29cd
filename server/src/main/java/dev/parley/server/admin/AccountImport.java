package dev.parley.server.admin;

import dev.parley.server.login.CredentialsFile;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Store;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adds the accounts of a credentials file to the store, hashing their passwords; accounts that
 * exist already are left as they are (the store is the authority once an account is in it). Runs
 * at start-up, before any actor.
 */
public final class AccountImport {

  private AccountImport() {}

  /** What an import did. */
  public record Result(List<String> added, List<String> kept) {
    public Result {
      added = List.copyOf(added);
      kept = List.copyOf(kept);
    }
  }

  public static Result run(
      Store store, CredentialsFile.Loaded file, PasswordHasher hasher, Instant now)
      throws SQLException {
    Set<String> existing = new HashSet<>(store.usernames());
    List<String> added = new ArrayList<>();
    List<String> kept = new ArrayList<>();
    for (Map.Entry<String, String> account : file.passwords().entrySet()) {
      String user = account.getKey();
      if (existing.contains(user)) {
        kept.add(user);
      } else if (store.addAccount(user, hasher.hash(account.getValue()), now)) {
        added.add(user);
      } else {
        kept.add(user);
      }
    }
    return new Result(added, kept);
  }
}
