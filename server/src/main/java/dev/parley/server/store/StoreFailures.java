package dev.parley.server.store;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * What a failure of the store means, decided in one place: an <em>outage</em> (the database cannot
 * be reached or cannot work: nothing the server sent is at fault, and the same change may succeed
 * later) or a <em>data failure</em> (the database refused what it was given: sending it again will
 * not help). The journal retries the first and isolates the second (see {@link IsolatingWriter}).
 *
 * <p>Also the only way store failures are described for a log: the drivers put the statement's
 * parameters, message texts included, into some exception messages (pgjdbc's {@code
 * BatchUpdateException}, H2's "value too long"), so a data failure is described by its SQLState,
 * vendor code and class only.
 */
public final class StoreFailures {

  /**
   * SQLState classes of outages: 08 connection exception, 53 insufficient resources (disk full, out
   * of memory, too many connections), 57 operator intervention (shutdown, cancel), 58 system error
   * (I/O).
   */
  private static final Set<String> OUTAGE_CLASSES = Set.of("08", "53", "57", "58");

  /**
   * H2's codes for a connection or a database that is gone: connection broken (90067), database
   * closed (90098), I/O errors (90028, 90031), database in use by another process (90020), closed
   * during shutdown (90121), object already closed (90007). H2 gives them as both the vendor code
   * and the SQLState.
   */
  private static final Set<Integer> H2_OUTAGE_CODES =
      Set.of(90067, 90098, 90028, 90031, 90020, 90121, 90007);

  /** How far down causes and next-exceptions are followed (chains can be long, or cycle). */
  private static final int MAX_CHAIN = 32;

  private StoreFailures() {}

  /**
   * Whether {@code failure} means the database is out of reach or out of order, rather than that it
   * refused the data it was given. Anything in its chain of causes and next-exceptions counts: a
   * batch failure whose next exception is a lost connection is an outage.
   */
  public static boolean isOutage(Throwable failure) {
    for (Throwable t : chain(failure)) {
      if (isOutageItself(t)) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code failure} described for a log: class, SQLState and vendor code of each exception in its
   * chain, and the driver's message only for the exceptions that are themselves about the
   * connection or the server (they name hosts and reasons, never data). Never a message text or a
   * password: a batch failure that merely has a lost connection in its chain keeps its message,
   * with the parameters in it, to itself.
   */
  public static String describe(Throwable failure) {
    StringBuilder text = new StringBuilder(isOutage(failure) ? "outage" : "refused");
    for (Throwable t : chain(failure)) {
      if (t instanceof CompletionException || t instanceof ExecutionException) {
        // Only the wrappers of an asynchronous call: the cause inside says what happened.
        continue;
      }
      text.append(" [").append(t.getClass().getName());
      if (t instanceof SQLException e) {
        text.append(" sqlState=")
            .append(e.getSQLState())
            .append(" vendorCode=")
            .append(e.getErrorCode());
      }
      if (isOutageItself(t) && t.getMessage() != null) {
        text.append(" message=").append(firstLine(t.getMessage()));
      }
      text.append(']');
    }
    return text.toString();
  }

  private static boolean isOutageItself(Throwable t) {
    if (t instanceof SQLTransientConnectionException
        || t instanceof SQLNonTransientConnectionException
        || t instanceof SQLRecoverableException) {
      return true;
    }
    if (!(t instanceof SQLException e)) {
      return false;
    }
    String state = e.getSQLState();
    if (state != null && state.length() >= 2 && OUTAGE_CLASSES.contains(state.substring(0, 2))) {
      return true;
    }
    return H2_OUTAGE_CODES.contains(e.getErrorCode()) || isH2OutageState(state);
  }

  private static boolean isH2OutageState(String state) {
    if (state == null || state.length() != 5 || !state.startsWith("90")) {
      return false;
    }
    try {
      return H2_OUTAGE_CODES.contains(Integer.parseInt(state));
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /**
   * {@code failure}, its causes and (for SQL exceptions) their next-exceptions, each once, the
   * outermost first.
   */
  private static Iterable<Throwable> chain(Throwable failure) {
    Map<Throwable, Boolean> seen = new IdentityHashMap<>();
    Deque<Throwable> order = new ArrayDeque<>();
    Deque<Throwable> todo = new ArrayDeque<>();
    if (failure != null) {
      todo.add(failure);
    }
    while (!todo.isEmpty() && order.size() < MAX_CHAIN) {
      Throwable t = todo.pollFirst();
      if (seen.put(t, Boolean.TRUE) != null) {
        continue;
      }
      order.addLast(t);
      if (t.getCause() != null) {
        todo.addLast(t.getCause());
      }
      if (t instanceof SQLException e && e.getNextException() != null) {
        todo.addLast(e.getNextException());
      }
    }
    return order;
  }

  private static String firstLine(String message) {
    int end = message.indexOf('\n');
    return end < 0 ? message : message.substring(0, end);
  }
}
