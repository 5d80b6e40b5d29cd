package dev.parley.bench.scenario;

import dev.parley.bench.client.EventLoop;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.MonotonicClock;
import dev.parley.bench.client.Payload;
import dev.parley.bench.client.SimUser;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the measured scenarios share: each sending user keeps at most {@code window} commands
 * unanswered; paced sends that fall due while its window is full wait in its backlog by due time
 * (or count as unsent when that is full too); in closed loop ({@code max}) every answer makes room
 * for the next send while sending is on. Also the counters, the latency and the readers of payloads
 * (one per loop) that every scenario reports. What is sent, and what counts as an answer or a
 * delivery, is the subclass's.
 */
abstract class WindowedTraffic implements MeasuredTraffic {

  protected final Fleet fleet;
  protected final byte[] token;
  protected final int window;
  protected final int payloadBytes;
  private final boolean paced;
  protected volatile Pacer pacer;
  protected final Latency latency;
  protected final Payload.Reader[] readers;
  protected final LongAdder sent = new LongAdder();
  protected final LongAdder accepted = new LongAdder();
  protected final LongAdder refused = new LongAdder();
  protected final LongAdder delivered = new LongAdder();
  protected final LongAdder duplicated = new LongAdder();
  protected final LongAdder stale = new LongAdder();
  protected final LongAdder unsent = new LongAdder();
  protected final LongAdder backlog = new LongAdder();
  private final Map<String, LongAdder> errorCodes = new ConcurrentHashMap<>();
  private final LongAccumulator lastDelivery = new LongAccumulator(Math::max, 0);
  private volatile boolean sending;

  /** The pacer's batches go round the loops or senders starting one further each time. */
  protected int rotation;

  WindowedTraffic(Fleet fleet, byte[] token, int window, int payloadBytes, boolean paced) {
    this.fleet = fleet;
    this.token = token;
    this.window = window;
    this.payloadBytes = payloadBytes;
    this.paced = paced;
    int loops = fleet.loops().size();
    this.latency = new Latency(loops);
    this.readers = new Payload.Reader[loops];
    for (int i = 0; i < loops; i++) {
      readers[i] = new Payload.Reader(token);
    }
  }

  /** Sends one command from {@code user}, stamped with its due time (paced) or now (max). */
  protected abstract void send(SimUser user, long stamp);

  /** Paced: the pacer whose sends {@link #dispatch} hands out. */
  @Override
  public void pace(Pacer pacer) {
    this.pacer = pacer;
  }

  /** Closed loop: sends go on while this is true (set before {@link #fill}, cleared at the end). */
  @Override
  public void sending(boolean on) {
    sending = on;
  }

  @Override
  public Latency latency() {
    return latency;
  }

  @Override
  public Snapshot snapshot() {
    return new Snapshot(sent.sum(), accepted.sum(), refused.sum(), delivered.sum(), backlog.sum());
  }

  long duplicated() {
    return duplicated.sum();
  }

  long stale() {
    return stale.sum();
  }

  long unsent() {
    return unsent.sum();
  }

  @Override
  public long lastDelivery() {
    return lastDelivery.get();
  }

  Map<String, Long> errorCodes() {
    Map<String, Long> copy = new TreeMap<>();
    errorCodes.forEach((code, count) -> copy.put(code, count.sum()));
    return copy;
  }

  /** A new phase for this loop's users (run by {@link Fleet#install}). */
  @Override
  public void reset(EventLoop loop) {
    for (SimUser user : loop.users()) {
      user.inFlight = 0;
      user.sends = 0;
      user.backlog.clear();
    }
  }

  /** A paced send from {@code user} is due at {@code dueAt}: sent, queued, or counted unsent. */
  protected void due(SimUser user, long dueAt) {
    if (!user.isActive()) {
      unsent.increment();
    } else if (user.inFlight < window) {
      send(user, dueAt);
    } else if (user.backlog.offer(dueAt)) {
      backlog.increment();
    } else {
      unsent.increment();
    }
  }

  /** One of {@code user}'s commands was answered: its window has room for the next send. */
  protected void answered(SimUser user) {
    user.inFlight--;
    if (!user.backlog.isEmpty()) {
      backlog.decrement();
      send(user, user.backlog.poll());
    } else if (!paced && sending && user.isActive()) {
      send(user, MonotonicClock.now());
    }
  }

  protected void countError(String code) {
    errorCodes.computeIfAbsent(code, c -> new LongAdder()).increment();
  }

  /**
   * A first delivery arrived at {@code now} on {@code loop}, of a payload stamped {@code stamp}.
   */
  protected void deliveredAt(int loop, long now, long stamp) {
    delivered.increment();
    latency.record(loop, now - stamp);
    lastDelivery.accumulate(now);
  }
}
