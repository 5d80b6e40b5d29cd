package dev.parley.bench.scenario;

import dev.parley.bench.client.EventLoop;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.FrameType;
import dev.parley.bench.client.Frames;
import dev.parley.bench.client.MonotonicClock;
import dev.parley.bench.client.Payload;
import dev.parley.bench.client.SimUser;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * The traffic of one measured {@code fanout} phase: users {@code 0 .. senders-1} broadcast, paced
 * (due sends split over the senders) or closed-loop ({@code max}, each sender keeping its window of
 * broadcasts unanswered); every other member should receive each broadcast once. A receiver sees a
 * sender's broadcasts in the order they were sent, so a number not above the last one seen from
 * that sender is a duplicate (or out of order, which is as wrong).
 */
final class FanoutTraffic extends WindowedTraffic {

  private static final byte[] COMPLETE_KEY = Frames.key("complete");
  private static final byte[] CODE_KEY = Frames.key("code");

  private final int senders;
  private final long[] lastSeen;
  private final LongAdder incomplete = new LongAdder();

  FanoutTraffic(
      Fleet fleet, byte[] token, int senders, int window, int payloadBytes, boolean paced) {
    super(fleet, token, window, payloadBytes, paced);
    this.senders = senders;
    this.lastSeen = new long[fleet.size() * senders];
    Arrays.fill(lastSeen, -1);
  }

  /** Deliveries the accepted broadcasts should have made: one per other member. */
  long expected() {
    return accepted.sum() * (fleet.size() - 1);
  }

  long incomplete() {
    return incomplete.sum();
  }

  @Override
  public boolean settled() {
    Snapshot now = snapshot();
    return now.backlog() == 0 && now.unanswered() <= 0 && now.delivered() >= expected();
  }

  // ---------------------------------------------------------------- on the loops

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
      due(sender, pacer.dueAt(k));
    }
  }

  @Override
  protected void send(SimUser sender, long stamp) {
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
        countError(String.valueOf(code));
        if (user.index() < senders && user.inFlight > 0) {
          refused.increment();
          answered(user);
        }
      }
      default -> {}
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
    deliveredAt(loop, now, payload.stamp());
  }
}
