package dev.parley.server.login;

import dev.parley.server.store.Store;
import dev.parley.server.store.StoreCalls;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The accounts' passwords, asked about without blocking: the lookup runs on the store's dispatcher
 * and the (deliberately slow) hash comparison on the password dispatcher, and both answer with a
 * {@link CompletionStage} for the {@link LoginGuard} to pipe to itself. Reading the store on every
 * login means an account changed with the admin command line takes effect at once.
 */
public final class Credentials {

  /** What checking a password found. */
  public enum Verdict {
    /** No such account. */
    NO_ACCOUNT,
    /** The password is right. */
    MATCH,
    /** The password is wrong. */
    MISMATCH
  }

  /**
   * @param storedHash the hash the password was checked against (null without an account)
   * @param rehash a new hash of the password with the current parameters, when it matched and its
   *     stored hash was made with weaker ones; otherwise null
   */
  public record Verification(Verdict verdict, String storedHash, String rehash) {
    @Override
    public String toString() {
      return "Verification[" + verdict + (rehash == null ? "" : ", rehashed") + "]";
    }
  }

  private final Store store;
  private final Executor storeExecutor;
  private final PasswordHasher hasher;
  private final Executor hashExecutor;

  public Credentials(
      Store store, Executor storeExecutor, PasswordHasher hasher, Executor hashExecutor) {
    this.store = store;
    this.storeExecutor = storeExecutor;
    this.hasher = hasher;
    this.hashExecutor = hashExecutor;
  }

  /** Whether an account has this username. */
  public CompletionStage<Boolean> exists(String username) {
    return lookUp(username).thenApply(Optional::isPresent);
  }

  /** Whether {@code password} is {@code username}'s. */
  public CompletionStage<Verification> verify(String username, String password) {
    return lookUp(username)
        .thenApplyAsync(
            stored -> {
              if (stored.isEmpty()) {
                return new Verification(Verdict.NO_ACCOUNT, null, null);
              }
              if (!hasher.verify(password, stored.get())) {
                return new Verification(Verdict.MISMATCH, stored.get(), null);
              }
              String rehash = hasher.needsRehash(stored.get()) ? hasher.hash(password) : null;
              return new Verification(Verdict.MATCH, stored.get(), rehash);
            },
            hashExecutor);
  }

  private CompletionStage<Optional<String>> lookUp(String username) {
    return StoreCalls.supply(() -> store.passwordHash(username), storeExecutor);
  }
}
