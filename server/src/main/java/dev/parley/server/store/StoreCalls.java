package dev.parley.server.store;

import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;

/** Runs a blocking {@link Store} call on the store's dispatcher, as a future an actor can pipe. */
public final class StoreCalls {

  /** A call to the store. */
  @FunctionalInterface
  public interface Call<T> {
    T run() throws SQLException;
  }

  private StoreCalls() {}

  /** {@code call} on {@code executor}; an {@link SQLException} fails the future. */
  public static <T> CompletableFuture<T> supply(Call<T> call, Executor executor) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return call.run();
          } catch (SQLException e) {
            throw new CompletionException(e);
          }
        },
        executor);
  }
}
