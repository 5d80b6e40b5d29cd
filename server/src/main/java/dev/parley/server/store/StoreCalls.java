package dev.parley.server.store;

import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/** Runs a blocking {@link Store} call on an executor, as a future an actor can pipe. */
public final class StoreCalls {

  /** A call to the store. */
  @FunctionalInterface
  public interface Call<T> {
    T run() throws SQLException;
  }

  private StoreCalls() {}

  /**
   * {@code call} on {@code executor}; an {@link SQLException} fails the future, and so does an
   * executor that rejects the call (a full {@link BoundedExecutor}): an actor piping the future
   * must get an answer either way, and a throw would reach it as a failure of its own.
   */
  public static <T> CompletableFuture<T> supply(Call<T> call, Executor executor) {
    try {
      return CompletableFuture.supplyAsync(
          () -> {
            try {
              return call.run();
            } catch (SQLException e) {
              throw new CompletionException(e);
            }
          },
          executor);
    } catch (RejectedExecutionException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Whether a failed call was turned away by its executor (full, or shut down) rather than run: the
   * answer to its caller is "busy, try again", not "the store failed".
   */
  public static boolean isRejected(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof RejectedExecutionException;
  }
}
