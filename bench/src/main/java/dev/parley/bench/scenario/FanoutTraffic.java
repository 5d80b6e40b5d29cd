package dev.parley.bench.scenario;

import dev.parley.bench.client.EventLoop;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.FrameType;
import dev.parley.bench.client.Frames;
import dev.parley.bench.client.MonotonicClock;
import dev.parley.bench.client.Payload;
import dev.parley.bench.client.SimUser;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAccumulator;
import java.util.concurrent.atomic.LongAdder;

/**
 * The traffic of one measured {@code fanout} phase: users {@code 0 .. senders-1} broadcast, paced
 * (due sends split over the senders) or closed-loop ({@code max}, each sender keeping its window of
 * broadcasts unanswered); every other member should receive each broadcast once. A receiver sees a
 * sender's broadcasts in the order they were sent, so a number not above the last one seen from
 * that sender is a duplicate (or out of order, which is as wrong).
 */
final class FanoutTraffic implements MeasuredTraffic {

  private static final byte[] COMPLETE_KEY = Frames.key("complete");
  private static final byte[] CODE_KEY = Frames.key("code");

  private final Fleet fleet;
  private final byte[] token;
  private final int senders;
  private final int window;
  private final int payloadBytes;
  private final boolean paced;
  private volatile Pacer pacer;
  private final long[] lastSeen;
  private final Latency latency;
  private final Payload.Reader[] readers;
  private final LongAdder sent = new LongAdder();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder incomplete = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder duplicated = new LongAdder();
  private final LongAdder stale = new LongAdder();
  private final LongAdder unsent = new LongAdder();
  private final LongAdder backlog = new LongAdder();
  private final Map<String, LongAdder> errorCodes = new ConcurrentHashMap<>();
  private final LongAccumulator lastDelivery = new LongAccumulator(Math::max, 0);
  private volatile boolean sending;
  private int rotation;

  FanoutTraffic(
      Fleet fleet, byte[] token, int senders, int window, int payloadBytes, boolean paced) {
    this.fleet = fleet;
    this.token = token;
    this.senders = senders;
    this.window = window;
    this.payloadBytes = payloadBytes;
    this.paced = paced;
    this.lastSeen = new long[fleet.size() * senders];
    Arrays.fill(lastSeen, -1);
    int loops = fleet.loops().size();
    this.latency = new Latency(loops);
    this.readers = new Payload.Reader[loops];
    for (int i = 0; i < loops; i++) {
      readers[i] = new Payload.Reader(token);
    }
  }

  @Override
  public void pace(Pacer pacer) {
    this.pacer = pacer;
  }

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

  /** Deliveries the accepted broadcasts should have made: one per other member. */
  long expected() {
    return accepted.sum() * (fleet.size() - 1);
  }

  long incomplete() {
    return incomplete.sum();
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

  @Override
  public boolean settled() {
    Snapshot now = snapshot();
    return now.backlog() == 0 && now.unanswered() <= 0 && now.delivered() >= expected();
  }

  // ---------------------------------------------------------------- on the loops

  @Override
  public void reset(EventLoop loop) {
    for (SimUser user : loop.users()) {
      user.inFlight = 0;
      user.sends = 0;
      user.backlog.clear();
    }
  }

  /** Closed loop: every sender of this loop fills its window. */
  @Override
  public void fill(EventLoop loop) {
    for (SimUser user : loop.users()) {
      if (user.index() < senders) {
        for (int i = 0; i < window && user.isActive(); i++) {
          send(user, MonotonicClock.now());
        }
      }
    }
  }

  /** On the pacer's thread: spreads a batch of due broadcasts over the senders. */
  @Override
  public void dispatch(long first, int count) {
    int[] shares = Pacer.split(count, senders, rotation++);
    long next = first;
    for (int i = 0; i < shares.length; i++) {
      if (shares[i] > 0) {
        SimUser sender = fleet.user(i);
        long from = next;
        int share = shares[i];
        sender.loop().execute(() -> due(sender, from, share));
        next += share;
      }
    }
  }

  private void due(SimUser sender, long first, int count) {
    Pacer pacer = this.pacer;
    for (long k = first; k < first + count; k++) {
      long dueAt = pacer.dueAt(k);
      if (!sender.isActive()) {
        unsent.increment();
      } else if (sender.inFlight < window) {
        send(sender, dueAt);
      } else if (sender.backlog.offer(dueAt)) {
        backlog.increment();
      } else {
        unsent.increment();
      }
    }
  }

  private void send(SimUser sender, long stamp) {
    sender.sendBroadcast(token, sender.sends++, stamp, payloadBytes);
    sender.inFlight++;
    sent.increment();
  }

  @Override
  public void onFrame(SimUser user, FrameType type, byte[] line, int from, int to) {
    switch (type) {
      case BROADCAST_RECEIVED -> received(user, line, from, to);
      case BROADCAST_SENT -> {
        if (user.index() < senders && user.inFlight > 0) {
          accepted.increment();
          if (!Frames.isTrue(line, from, to, COMPLETE_KEY)) {
            incomplete.increment();
          }
          answered(user);
        }
      }
      case ERROR -> {
        String code = Frames.stringField(line, from, to, CODE_KEY);
        errorCodes.computeIfAbsent(String.valueOf(code), c -> new LongAdder()).increment();
        if (user.index() < senders && user.inFlight > 0) {
          refused.increment();
          answered(user);
        }
      }
      default -> {}
    }
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
    if (!payload.read(line, from, to) || payload.sender() >= senders) {
      stale.increment();
      return;
    }
    int slot = user.index() * senders + payload.sender();
    if (payload.number() <= lastSeen[slot]) {
      duplicated.increment();
      return;
    }
    lastSeen[slot] = payload.number();
    delivered.increment();
    latency.record(loop, now - payload.stamp());
    lastDelivery.accumulate(now);
  }
}
