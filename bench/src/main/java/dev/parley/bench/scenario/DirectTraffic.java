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
import java.util.concurrent.atomic.LongAdder;

/**
 * The traffic of one measured {@code direct} phase: messages from random users to random other
 * users, either paced (the {@link PaceThread} hands batches of due sends to the loops, each sends
 * them from random users of its own, and a user whose window is full queues them by due time) or
 * closed-loop ({@code max}: every user keeps its window full until sending stops). Receivers check
 * each payload against the phase's token, find duplicates in a {@link DeliveryLog} and record the
 * latency from the due time (paced) or the send (max) to the arrival.
 */
final class DirectTraffic extends WindowedTraffic {

  private static final byte[] ID_KEY = Frames.key("id");
  private static final byte[] COMMAND_KEY = Frames.key("command");
  private static final byte[] CODE_KEY = Frames.key("code");
  private static final byte[] STORED_KEY = Frames.key("stored");
  private static final byte[] MESSAGE_COMMAND = Frames.ascii("\"message\"");

  private final byte[] idPrefix;
  private final DeliveryLog deliveries;
  private final List<EventLoop> loops;
  private final LongAdder stored = new LongAdder();
  private final LongAdder otherErrors = new LongAdder();

  /** Paced ({@link #pace} gives the pacer before sending starts), or closed loop. */
  DirectTraffic(Fleet fleet, byte[] token, int window, int payloadBytes, boolean paced) {
    super(fleet, token, window, payloadBytes, paced);
    this.idPrefix = Frames.ascii("\"" + new String(token, StandardCharsets.US_ASCII) + "-");
    this.loops = fleet.loops();
    this.deliveries = new DeliveryLog(fleet.size());
  }

  long stored() {
    return stored.sum();
  }

  long otherErrors() {
    return otherErrors.sum();
  }

  /** Whether every send was answered and every accepted message delivered. */
  @Override
  public boolean settled() {
    Snapshot now = snapshot();
    return now.backlog() == 0 && now.unanswered() <= 0 && now.delivered() >= now.accepted();
  }

  // ---------------------------------------------------------------- on the loops

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
      due(users.get(loop.random().nextInt(users.size())), dueAt);
    }
  }

  @Override
  protected void send(SimUser user, long stamp) {
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
          countError(String.valueOf(code));
          answered(user);
        } else if (!aboutMessage) {
          otherErrors.increment();
          countError("other:" + code);
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

  private void received(SimUser user, byte[] line, int from, int to) {
    long now = MonotonicClock.now();
    int loop = user.loop().index();
    Payload.Reader payload = readers[loop];
    if (!payload.read(line, from, to)) {
      stale.increment();
    } else if (deliveries.firstDelivery(payload.sender(), payload.number())) {
      deliveredAt(loop, now, payload.stamp());
    } else {
      duplicated.increment();
    }
  }
}
