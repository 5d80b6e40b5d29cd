package dev.parley.bench.scenario;

import dev.parley.bench.client.EventLoop;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.FrameType;
import dev.parley.bench.client.Frames;
import dev.parley.bench.client.MonotonicClock;
import dev.parley.bench.client.Payload;
import dev.parley.bench.client.SimUser;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The traffic of one measured {@code direct} phase: messages from random users to random other
 * users, either paced (the {@link PaceThread} hands batches of due sends to the loops, each sends
 * them from random users of its own, and a user whose window is full queues them by due time) or
 * closed-loop ({@code max}: every user keeps its window full until sending stops). Receivers check
 * each payload against the phase's token, find duplicates in a {@link DeliveryLog} and record the
 * latency from the due time (paced) or the send (max) to the arrival.
 */
final class DirectTraffic implements MeasuredTraffic {

  private static final byte[] ID_KEY = Frames.key("id");
  private static final byte[] COMMAND_KEY = Frames.key("command");
  private static final byte[] CODE_KEY = Frames.key("code");
  private static final byte[] STORED_KEY = Frames.key("stored");
  private static final byte[] MESSAGE_COMMAND = Frames.ascii("\"message\"");

  private final Fleet fleet;
  private final byte[] token;
  private final byte[] idPrefix;
  private final int window;
  private final int payloadBytes;
  private final boolean paced;
  private volatile Pacer pacer;
  private final DeliveryLog deliveries;
  private final Latency latency;
  private final Payload.Reader[] readers;
  private final List<EventLoop> loops;
  private final LongAdder sent = new LongAdder();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder stored = new LongAdder();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder duplicated = new LongAdder();
  private final LongAdder stale = new LongAdder();
  private final LongAdder unsent = new LongAdder();
  private final LongAdder backlog = new LongAdder();
  private final LongAdder otherErrors = new LongAdder();
  private final Map<String, LongAdder> errorCodes = new ConcurrentHashMap<>();
  private final LongAccumulator lastDelivery = new LongAccumulator(Math::max, 0);
  private volatile boolean sending;
  private int rotation;

  /** Paced ({@link #pace} gives the pacer before sending starts), or closed loop. */
  DirectTraffic(Fleet fleet, byte[] token, int window, int payloadBytes, boolean paced) {
    this.fleet = fleet;
    this.token = token;
    this.idPrefix = Frames.ascii("\"" + new String(token, StandardCharsets.US_ASCII) + "-");
    this.window = window;
    this.payloadBytes = payloadBytes;
    this.paced = paced;
    this.loops = fleet.loops();
    this.deliveries = new DeliveryLog(fleet.size());
    this.latency = new Latency(loops.size());
    this.readers = new Payload.Reader[loops.size()];
    for (int i = 0; i < readers.length; i++) {
      readers[i] = new Payload.Reader(token);
    }
  }

  /** Paced: the pacer whose sends {@link #dispatch} hands out. */
  @Override
  public void pace(Pacer pacer) {
    this.pacer = pacer;
  }

  @Override
  public Latency latency() {
    return latency;
  }

  @Override
  public Snapshot snapshot() {
    return new Snapshot(sent.sum(), accepted.sum(), refused.sum(), delivered.sum(), backlog.sum());
  }

  long stored() {
    return stored.sum();
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

  long otherErrors() {
    return otherErrors.sum();
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

  /** Whether every send was answered and every accepted message delivered. */
  @Override
  public boolean settled() {
    Snapshot now = snapshot();
    return now.backlog() == 0 && now.unanswered() <= 0 && now.delivered() >= now.accepted();
  }

  // ---------------------------------------------------------------- on the loops

  /** A new phase for this loop's users (run by {@link Fleet#install}). */
  @Override
  public void reset(EventLoop loop) {
    for (SimUser user : loop.users()) {
      user.inFlight = 0;
      user.sends = 0;
      user.backlog.clear();
    }
  }

  /** Closed loop: sends go on while this is true (set before {@link #fill}, cleared at the end). */
  @Override
  public void sending(boolean on) {
    sending = on;
  }

  /** Closed loop: every user of this loop fills its window. */
  @Override
  public void fill(EventLoop loop) {
    for (SimUser user : loop.users()) {
      for (int i = 0; i < window && user.isActive(); i++) {
        send(user, MonotonicClock.now());
      }
    }
  }

  /** On the pacer's thread: spreads a batch of due sends over the loops. */
  @Override
  public void dispatch(long first, int count) {
    int[] shares = Pacer.split(count, loops.size(), rotation++);
    long next = first;
    for (int i = 0; i < shares.length; i++) {
      if (shares[i] > 0) {
        EventLoop loop = loops.get(i);
        long from = next;
        int share = shares[i];
        loop.execute(() -> due(loop, from, share));
        next += share;
      }
    }
  }

  /** Sends numbered {@code first ..} are due: each from a random user of this loop. */
  private void due(EventLoop loop, long first, int count) {
    List<SimUser> users = loop.users();
    Pacer pacer = this.pacer;
    for (long k = first; k < first + count; k++) {
      long dueAt = pacer.dueAt(k);
      SimUser user = users.get(loop.random().nextInt(users.size()));
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
  }

  private void send(SimUser user, long stamp) {
    int others = fleet.size() - 1;
    int to = user.loop().random().nextInt(others);
    if (to >= user.index()) {
      to++;
    }
    user.sendMessage(fleet.user(to), token, user.sends++, stamp, payloadBytes);
    user.inFlight++;
    sent.increment();
  }

  @Override
  public void onFrame(SimUser user, FrameType type, byte[] line, int from, int to) {
    switch (type) {
      case MESSAGE_RECEIVED -> received(user, line, from, to);
      case MESSAGE_ACCEPTED -> {
        if (ours(line, from, to)) {
          accepted.increment();
          if (Frames.isTrue(line, from, to, STORED_KEY)) {
            stored.increment();
          }
          answered(user);
        }
      }
      case ERROR -> {
        String code = Frames.stringField(line, from, to, CODE_KEY);
        boolean aboutMessage =
            Frames.startsWith(
                line, Frames.valueAt(line, from, to, COMMAND_KEY), to, MESSAGE_COMMAND);
        if (aboutMessage && ours(line, from, to)) {
          refused.increment();
          errorCodes.computeIfAbsent(String.valueOf(code), c -> new LongAdder()).increment();
          answered(user);
        } else if (!aboutMessage) {
          otherErrors.increment();
          errorCodes.computeIfAbsent("other:" + code, c -> new LongAdder()).increment();
        }
      }
      default -> {}
    }
  }

  /** A reply to one of this phase's messages (an earlier phase's replies are ignored). */
  private boolean ours(byte[] line, int from, int to) {
    int at = Frames.valueAt(line, from, to, ID_KEY);
    return Frames.startsWith(line, at, to, idPrefix);
  }

  private void answered(SimUser user) {
    user.inFlight--;
    if (!user.backlog.isEmpty()) {
      backlog.decrement();
      send(user, user.backlog.poll());
    } else if (!paced && sending && user.isActive()) {
      send(user, MonotonicClock.now());
    }
  }

  private void received(SimUser user, byte[] line, int from, int to) {
    long now = MonotonicClock.now();
    int loop = user.loop().index();
    Payload.Reader payload = readers[loop];
    if (!payload.read(line, from, to)) {
      stale.increment();
    } else if (deliveries.firstDelivery(payload.sender(), payload.number())) {
      delivered.increment();
      latency.record(loop, now - payload.stamp());
      lastDelivery.accumulate(now);
    } else {
      duplicated.increment();
    }
  }
}
