package dev.parley.bench.scenario;

import dev.parley.bench.client.EventLoop;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.FrameType;
import dev.parley.bench.client.Frames;
import dev.parley.bench.client.MonotonicClock;
import dev.parley.bench.client.Payload;
import dev.parley.bench.client.SimUser;
import dev.parley.bench.client.Traffic;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Messages kept for the laggards when the server goes down. Before a restart a few users (the
 * laggards) stop acknowledging, as the client of someone who walked away or a client that hung
 * would, and the other users send each of them {@code perLaggard} messages: the server hands a
 * laggard its delivery window and keeps the rest. After the restart the laggards log in again and
 * acknowledge as usual (see {@link SimUser#holdAcks}), and the server must send them every kept
 * message, paced by their acknowledgements: none lost, none twice, and no laggard cut off as a slow
 * reader. The senders keep under the rate the server announced for their connections.
 *
 * <p>What a laggard had received before the restart it never acknowledged, so the server must send
 * it all again after the restart: the messages sent again are counted ({@link #resent}), and one
 * missing means the server lost a message it had stored, accepted and delivered. (Only while each
 * laggard's messages fit its delivery window: beyond it the server sends the rest as acks come.)
 */
final class KeptTraffic implements Traffic {

  private static final byte[] ID_KEY = Frames.key("id");
  private static final byte[] COMMAND_KEY = Frames.key("command");
  private static final byte[] CODE_KEY = Frames.key("code");
  private static final byte[] MESSAGE_COMMAND = Frames.ascii("\"message\"");
  private static final int PAYLOAD_BYTES = 64;
  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** Messages a sender sends at once, at most: well within any burst the server allows. */
  private static final int FIRST_BURST = 16;

  private final Fleet fleet;
  private final byte[] token;
  private final byte[] idPrefix;
  private final List<SimUser> laggards = new ArrayList<>();
  private final boolean[] isLaggard;
  private final int[] quota;
  private final long[] numbers;
  private final int perTick;
  private final long total;
  private final DeliveryLog deliveries;
  private final DeliveryLog resends;
  private final Payload.Reader[] readers;
  private final LongAdder sent = new LongAdder();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder duplicated = new LongAdder();
  private final LongAdder resent = new LongAdder();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();

  /**
   * {@code laggards} users (spread over the fleet, none of them a probe, if the fleet is large
   * enough) are each sent {@code perLaggard} messages by the others.
   */
  KeptTraffic(Fleet fleet, int laggardCount, int perLaggard) {
    this.fleet = fleet;
    this.token = ScenarioContext.newToken();
    this.idPrefix = Frames.ascii("\"" + new String(token, StandardCharsets.US_ASCII) + "-");
    int users = fleet.size();
    this.isLaggard = new boolean[users];
    int count = perLaggard == 0 ? 0 : Math.min(laggardCount, users - 1);
    for (int i = 0; i < count; i++) {
      // Halfway between two probes (which sit at i * users / probes).
      int index = (int) (((long) i * users + users / 2) / Math.max(1, count)) % users;
      while (isLaggard[index]) {
        index = (index + 1) % users;
      }
      isLaggard[index] = true;
      laggards.add(fleet.user(index));
    }
    this.total = (long) count * perLaggard;
    this.quota = new int[users];
    this.numbers = new long[users];
    int senders = users - count;
    for (int i = 0, s = 0; i < users && senders > 0; i++) {
      if (!isLaggard[i]) {
        quota[i] = (int) (total / senders + (s < total % senders ? 1 : 0));
        s++;
      }
    }
    // A tenth of the announced rate per 100 ms tick, at half speed; unlimited: a burst per tick.
    this.perTick =
        fleet
            .commandRate()
            .map(rate -> (int) Math.max(1, rate.perSecond() * 0.5 / 10))
            .orElse(FIRST_BURST);
    this.deliveries = new DeliveryLog(users);
    this.resends = new DeliveryLog(users);
    int loops = fleet.loops().size();
    this.readers = new Payload.Reader[loops];
    for (int i = 0; i < loops; i++) {
      readers[i] = new Payload.Reader(token);
    }
  }

  /** Messages to keep in all. */
  long total() {
    return total;
  }

  int laggards() {
    return laggards.size();
  }

  /** On each loop: its laggards stop acknowledging (before anyone sends them anything). */
  void holdAcks(EventLoop loop) {
    for (SimUser laggard : laggards) {
      if (laggard.loop() == loop) {
        laggard.holdAcks();
      }
    }
  }

  /** On each loop, once every laggard holds its acks: the loop's senders start. */
  void start(EventLoop loop) {
    if (total > 0) {
      tick(loop, FIRST_BURST);
    }
  }

  /** Every message sent and answered (accepted, or refused). */
  boolean allAnswered() {
    return sent.sum() == total && accepted.sum() + refused.sum() == total;
  }

  /** Every accepted message delivered. */
  boolean settled() {
    return delivered.sum() >= accepted.sum();
  }

  long sent() {
    return sent.sum();
  }

  long accepted() {
    return accepted.sum();
  }

  long refused() {
    return refused.sum();
  }

  long delivered() {
    return delivered.sum();
  }

  long duplicated() {
    return duplicated.sum();
  }

  /** Kept messages the laggards had before, sent again after they came back (each counted once). */
  long resent() {
    return resent.sum();
  }

  Map<String, Long> errors() {
    Map<String, Long> copy = new TreeMap<>();
    errors.forEach((code, count) -> copy.put(code, count.sum()));
    return copy;
  }

  // ---------------------------------------------------------------- on the loops

  /** Each sender of this loop sends up to {@code allowance} of its quota, then waits a tick. */
  private void tick(EventLoop loop, int allowance) {
    boolean more = false;
    long now = MonotonicClock.now();
    for (SimUser user : loop.users()) {
      int index = user.index();
      for (int i = 0; i < allowance && quota[index] > 0 && user.isActive(); i++) {
        SimUser to = laggards.get((int) ((index + numbers[index]) % laggards.size()));
        user.sendMessage(to, token, numbers[index]++, now, PAYLOAD_BYTES);
        quota[index]--;
        sent.increment();
      }
      more |= quota[index] > 0;
    }
    if (more) {
      loop.schedule(TICK_NANOS, () -> tick(loop, perTick));
    }
  }

  @Override
  public void onFrame(SimUser user, FrameType type, byte[] line, int from, int to) {
    switch (type) {
      case MESSAGE_RECEIVED -> received(user, line, from, to);
      case MESSAGE_ACCEPTED -> {
        if (ours(line, from, to)) {
          accepted.increment();
        }
      }
      case ERROR -> {
        int command = Frames.valueAt(line, from, to, COMMAND_KEY);
        if (Frames.startsWith(line, command, to, MESSAGE_COMMAND) && ours(line, from, to)) {
          refused.increment();
          String code = String.valueOf(Frames.stringField(line, from, to, CODE_KEY));
          errors.computeIfAbsent(code, c -> new LongAdder()).increment();
        }
      }
      default -> {}
    }
  }

  @Override
  public void onResent(SimUser user, byte[] line, int from, int to) {
    Payload.Reader payload = readers[user.loop().index()];
    if (payload.read(line, from, to) && resends.firstDelivery(payload.sender(), payload.number())) {
      resent.increment();
    }
  }

  private boolean ours(byte[] line, int from, int to) {
    return Frames.startsWith(line, Frames.valueAt(line, from, to, ID_KEY), to, idPrefix);
  }

  private void received(SimUser user, byte[] line, int from, int to) {
    Payload.Reader payload = readers[user.loop().index()];
    if (!payload.read(line, from, to)) {
      return;
    }
    if (deliveries.firstDelivery(payload.sender(), payload.number())) {
      delivered.increment();
    } else {
      duplicated.increment();
    }
  }
}
