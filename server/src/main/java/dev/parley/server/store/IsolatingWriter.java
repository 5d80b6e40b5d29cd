package dev.parley.server.store;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a journal batch so that one user's bad change cannot fail everyone else's. A batch is one
 * transaction, all or nothing: when the database refuses it because of its data (a text PostgreSQL
 * cannot hold, a value too long), the batch is split in halves, each written in its own
 * transaction, in recorded order, and so on down until the change(s) at fault stand alone. Those
 * are answered {@link Store.Outcome#REFUSED}; everything else is written and answered as usual. A
 * batch of n changes with one bad one takes about 2 log2(n) extra transactions, paid only when it
 * happens.
 *
 * <p>An outage ({@link StoreFailures#isOutage}) is not split: the same change would fail anywhere.
 * The writing stops there, and {@link Written} tells the journal which changes were written before
 * it (when an outage strikes part-way through the halves) so that it answers those and keeps or
 * fails the rest.
 *
 * <p>Runs on the store's thread, blocking, like the store itself; the journal only sees the
 * results.
 */
final class IsolatingWriter {

  /** One all-or-nothing transaction of changes: {@link Store#apply} in the server. */
  @FunctionalInterface
  interface Target {
    List<Store.Result> apply(List<Change> changes) throws SQLException;
  }

  /**
   * What became of a batch.
   *
   * @param results the results of the batch's first {@code results.size()} changes, in order
   * @param outage why the rest of the batch was not written (null when it all was)
   */
  record Written(List<Store.Result> results, Throwable outage) {
    Written {
      results = List.copyOf(results);
    }
  }

  private static final Logger LOG = LoggerFactory.getLogger(IsolatingWriter.class);

  private final Target target;

  IsolatingWriter(Target target) {
    this.target = target;
  }

  /** Writes {@code changes}; never throws for a failure of the database, which it reports. */
  Written write(List<Change> changes) {
    List<Store.Result> results = new ArrayList<>(changes.size());
    Throwable outage = write(changes, results);
    return new Written(results, outage);
  }

  /** Adds the results of {@code changes} to {@code results}; returns the outage that stopped it. */
  private Throwable write(List<Change> changes, List<Store.Result> results) {
    try {
      results.addAll(target.apply(changes));
      return null;
    } catch (SQLException | RuntimeException e) {
      // An empty batch (the journal's probe while the database is down) holds no data to blame.
      if (StoreFailures.isOutage(e) || changes.isEmpty()) {
        return e;
      }
      if (changes.size() == 1) {
        LOG.warn(
            "store refused a change, answered refused {} cause={}",
            Change.summary(changes.get(0)),
            StoreFailures.describe(e));
        results.add(Store.Result.of(Store.Outcome.REFUSED));
        return null;
      }
      LOG.debug(
          "store refused a batch, writing its halves changes={} cause={}",
          changes.size(),
          StoreFailures.describe(e));
      int half = changes.size() / 2;
      Throwable first = write(changes.subList(0, half), results);
      return first != null ? first : write(changes.subList(half, changes.size()), results);
    }
  }
}
