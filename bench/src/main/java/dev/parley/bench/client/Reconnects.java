package dev.parley.bench.client;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * How the fleet's users come back after losing their connection, as Parley's client does, and what
 * it took. Once {@link Fleet#reconnect} has armed it, a logged-in user whose connection ends (a
 * goodbye, the server closing the connection, a reset) waits its {@link Backoff} and logs in again
 * on a new connection. An attempt that fails for a passing reason ({@link #isPassing}: the server
 * unreachable, busy, shutting down or rate limiting, the user still online on the lost connection)
 * is tried again after the next, longer wait; one that cannot succeed (a wrong password, a locked
 * account) gives the user up.
 *
 * <p>What happens is counted in the current {@link Storm}: the sessions lost, by cause; those lost
 * again by users who had come back in the same storm (a storm feeding itself); the attempts; the
 * refusals, by reason; the users back, and how long each was away. The loops count (from any
 * thread); the controlling thread reads {@link #away()} and ends one storm with {@link #next()}.
 *
 * <p>Causes are short words: {@code goodbye-REASON} for a goodbye, {@code closed} for a connection
 * the server closed without one, {@code reset} for one that broke, {@code unreachable} for a
 * connection that could not be opened, {@code tls-failed} for a TLS handshake that failed, {@code
 * no-answer} for an attempt abandoned after the login timeout, {@code login-failed-REASON} and
 * {@code error-CODE} for refused login steps.
 */
public final class Reconnects {

  /** The cause of a session that ended with the server closing it, without a goodbye. */
  public static final String CLOSED = "closed";

  /** The cause of a connection that broke (reset, broken pipe). */
  public static final String RESET = "reset";

  /** The cause of a connection that could not be opened (refused: the server is down). */
  public static final String UNREACHABLE = "unreachable";

  /**
   * The cause of a connection whose TLS handshake failed: the server's certificate was not the one
   * pinned, or the server does not speak TLS. Not passing: another attempt would fail the same way.
   */
  public static final String TLS_FAILED = "tls-failed";

  /**
   * The cause of a login attempt the server did not complete within the login timeout, or on whose
   * connection it said nothing within the connect timeout.
   */
  public static final String NO_ANSWER = "no-answer";

  /** The prefix of the cause of a session or a login ended by the server's goodbye. */
  public static final String GOODBYE = "goodbye-";

  /** Refusals after which Parley's client, and the generator, simply try again later. */
  private static final Set<String> PASSING =
      Set.of(
          CLOSED,
          RESET,
          UNREACHABLE,
          NO_ANSWER,
          GOODBYE + "server-busy",
          GOODBYE + "server-shutdown",
          GOODBYE + "rate-limited",
          GOODBYE + "timed-out",
          "login-failed-already-online",
          "error-rate-limited");

  private final Backoff backoff;
  private final long loginTimeoutNanos;
  private final long connectTimeoutNanos;
  private final boolean resume;
  private final AtomicInteger away = new AtomicInteger();
  private volatile Storm storm = new Storm();

  /** Users wait for the server's answers as long as it takes. */
  public Reconnects(Backoff backoff) {
    this(backoff, 0, 0, true);
  }

  /**
   * @param loginTimeoutNanos a login attempt not complete this long after it began is abandoned and
   *     tried again after the next wait ({@link #NO_ANSWER}); 0 waits as long as it takes
   * @param connectTimeoutNanos an attempt whose connection has brought nothing from the server this
   *     long after it began is abandoned and tried again after the next wait ({@link #NO_ANSWER}),
   *     as Parley's client does after its connect-timeout; 0 waits as long as it takes
   * @param resume users come back by resuming their session with the token of their last login, as
   *     Parley's client does, and give the password only if that is refused; false: always with the
   *     password
   */
  public Reconnects(
      Backoff backoff, long loginTimeoutNanos, long connectTimeoutNanos, boolean resume) {
    this.backoff = backoff;
    this.loginTimeoutNanos = loginTimeoutNanos;
    this.connectTimeoutNanos = connectTimeoutNanos;
    this.resume = resume;
  }

  /** Whether users come back by resuming their sessions (else with their passwords). */
  public boolean resumes() {
    return resume;
  }

  /** Whether a login attempt that failed with {@code cause} is worth trying again. */
  public static boolean isPassing(String cause) {
    return PASSING.contains(cause);
  }

  /** Whether a session ended with {@code cause} was ended without a goodbye. */
  public static boolean isWithoutGoodbye(String cause) {
    return !cause.startsWith(GOODBYE);
  }

  public Backoff backoff() {
    return backoff;
  }

  /** How long a login attempt may take before it is abandoned; 0 for as long as it takes. */
  public long loginTimeoutNanos() {
    return loginTimeoutNanos;
  }

  /** How long a connection may bring nothing before its attempt is abandoned; 0: as long. */
  public long connectTimeoutNanos() {
    return connectTimeoutNanos;
  }

  /** Users who lost their session and are not back yet (and have not been given up). */
  public int away() {
    return away.get();
  }

  /** The storm being counted now. */
  public Storm storm() {
    return storm;
  }

  /** Ends the current storm and returns it; what happens from now on counts in a new one. */
  public Storm next() {
    Storm ended = storm;
    storm = new Storm();
    return ended;
  }

  // ---------------------------------------------------------------- from the users' loops

  /**
   * A logged-in user lost its session at {@code now}; {@code backIn} is the storm in which it last
   * came back (null if never). Returns the storm it is counted in.
   */
  Storm lost(String cause, long now, Storm backIn) {
    Storm current = storm;
    away.incrementAndGet();
    current.lost(cause, now, backIn == current);
    return current;
  }

  void attempted() {
    storm.attempts.increment();
  }

  void refused(String cause) {
    storm.refused(cause);
  }

  /** Back after {@code awayNanos}; returns the storm it came back in. */
  Storm back(long now, long awayNanos, boolean resumed) {
    Storm current = storm;
    away.decrementAndGet();
    current.back(now, awayNanos, resumed);
    return current;
  }

  void resumeRefused() {
    storm.resumeRefused.increment();
  }

  void gaveUp(String cause, long now) {
    away.decrementAndGet();
    storm.gaveUp(cause, now);
  }

  /**
   * One storm: everything that happened from one quiet moment (when the controlling thread called
   * {@link #next()}) to the next. Times are {@link MonotonicClock} nanoseconds, 0 until they
   * happen.
   */
  public static final class Storm {

    private static final long HIGHEST_NANOS = java.util.concurrent.TimeUnit.HOURS.toNanos(1);

    private final Map<String, LongAdder> lost = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> lostAgain = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> refused = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> gaveUp = new ConcurrentHashMap<>();
    private final LongAdder attempts = new LongAdder();
    private final LongAdder back = new LongAdder();
    private final LongAdder resumed = new LongAdder();
    private final LongAdder resumeRefused = new LongAdder();
    private final LongAccumulator firstLoss = new LongAccumulator(Storm::earliest, 0);
    private final LongAccumulator lastLoss = new LongAccumulator(Math::max, 0);
    private final LongAccumulator firstBack = new LongAccumulator(Storm::earliest, 0);
    private final LongAccumulator lastBack = new LongAccumulator(Math::max, 0);
    private final LongAccumulator lastGaveUp = new LongAccumulator(Math::max, 0);
    private final Recorder awayTimes = new Recorder(1_000, HIGHEST_NANOS, 3);

    Storm() {}

    /** The earlier of two times, 0 meaning "not yet". */
    private static long earliest(long a, long b) {
      if (a == 0) {
        return b;
      }
      return b == 0 ? a : Math.min(a, b);
    }

    private void lost(String cause, long now, boolean again) {
      count(lost, cause);
      if (again) {
        count(lostAgain, cause);
      }
      firstLoss.accumulate(now);
      lastLoss.accumulate(now);
    }

    private void refused(String cause) {
      count(refused, cause);
    }

    private void back(long now, long awayNanos, boolean resumedSession) {
      back.increment();
      if (resumedSession) {
        resumed.increment();
      }
      firstBack.accumulate(now);
      lastBack.accumulate(now);
      awayTimes.recordValue(Math.max(1_000, Math.min(awayNanos, HIGHEST_NANOS)));
    }

    private void gaveUp(String cause, long now) {
      count(gaveUp, cause);
      lastGaveUp.accumulate(now);
    }

    /** Sessions lost, by cause. */
    public Map<String, Long> lostBy() {
      return snapshot(lost);
    }

    /** Sessions lost by users who had already come back in this storm, by cause. */
    public Map<String, Long> lostAgainBy() {
      return snapshot(lostAgain);
    }

    /** Login attempts that failed and were tried again, by cause. */
    public Map<String, Long> refusedBy() {
      return snapshot(refused);
    }

    /** Users given up, by the cause of the attempt that could not succeed. */
    public Map<String, Long> gaveUpBy() {
      return snapshot(gaveUp);
    }

    /** Connections opened to log in again. */
    public long attempts() {
      return attempts.sum();
    }

    /** Users who logged in again. */
    public long back() {
      return back.sum();
    }

    /** Of the users back, those who resumed their session rather than give the password. */
    public long resumed() {
      return resumed.sum();
    }

    /** Resumptions the server refused (the user then gave the password). */
    public long resumeRefused() {
      return resumeRefused.sum();
    }

    public long firstLossAt() {
      return firstLoss.get();
    }

    public long lastLossAt() {
      return lastLoss.get();
    }

    public long firstBackAt() {
      return firstBack.get();
    }

    public long lastBackAt() {
      return lastBack.get();
    }

    /** The last time anything settled a user's fate (a loss, a return, giving up), or 0. */
    public long lastChangeAt() {
      return Math.max(lastLoss.get(), Math.max(lastBack.get(), lastGaveUp.get()));
    }

    /**
     * How long each user that came back was away, from its loss to its new session (nanoseconds).
     * Each call returns what was recorded since the previous one: call it once, at the end.
     */
    public Histogram awayTimes() {
      return awayTimes.getIntervalHistogram();
    }

    private static void count(Map<String, LongAdder> counts, String cause) {
      counts.computeIfAbsent(cause, c -> new LongAdder()).increment();
    }

    private static Map<String, Long> snapshot(Map<String, LongAdder> counts) {
      Map<String, Long> copy = new TreeMap<>();
      counts.forEach((cause, count) -> copy.put(cause, count.sum()));
      return Collections.unmodifiableMap(copy);
    }
  }
}
