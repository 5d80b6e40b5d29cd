package dev.parley.bench.scenario;

import dev.parley.bench.client.EventLoop;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.FrameType;
import dev.parley.bench.client.Frames;
import dev.parley.bench.client.MonotonicClock;
import dev.parley.bench.client.Payload;
import dev.parley.bench.client.Reconnects;
import dev.parley.bench.client.SimUser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The bystanders of one reconnect storm: a few of the users (the probes) who, once they have come
 * back in this storm and while they are logged in, keep asking the server for things, to show
 * whether it still answers the users who are back while the others are still coming back. Every
 * interval a probe sends one command, {@code whoelse} and a direct {@code message} to a random
 * other user in turn, with at most one unanswered. It measures the time to each answer, and counts
 * the messages accepted and whether each reached its recipient exactly once (a recipient still away
 * gets it from the store when it logs in again). A command whose session was lost before its answer
 * came is counted apart: the connection took it.
 */
final class ProbeTraffic implements dev.parley.bench.client.Traffic {

  private static final byte[] ID_KEY = Frames.key("id");
  private static final byte[] COMMAND_KEY = Frames.key("command");
  private static final byte[] CODE_KEY = Frames.key("code");
  private static final byte[] STORED_KEY = Frames.key("stored");
  private static final byte[] MESSAGE_COMMAND = Frames.ascii("\"message\"");
  private static final byte[] WHOELSE_COMMAND = Frames.ascii("\"whoelse\"");
  private static final int PAYLOAD_BYTES = 64;

  /** One probing user's state, on its loop's thread only. */
  private static final class Probe {
    private final SimUser user;

    /** The user's sessions before the storm: it probes from its next one on. */
    private int sessionsBefore;

    private boolean waiting;
    private long sentAt;
    private int session;
    private boolean messageNext;
    private long messages;

    /** Per message number: its recipient, when it was sent, and what the server said. */
    private final java.util.ArrayList<Integer> recipients = new java.util.ArrayList<>();

    private final java.util.ArrayList<Long> stamps = new java.util.ArrayList<>();
    private final java.util.BitSet accepted = new java.util.BitSet();
    private final java.util.BitSet stored = new java.util.BitSet();

    Probe(SimUser user) {
      this.user = user;
    }
  }

  private final Fleet fleet;
  private final Reconnects reconnects;
  private final byte[] token;
  private final byte[] idPrefix;
  private final long intervalNanos;
  private final Probe[] byUser;
  private final List<List<Probe>> byLoop;
  private final DeliveryLog deliveries;
  private final Payload.Reader[] readers;
  private final Latency latency;
  private final LongAdder sent = new LongAdder();
  private final LongAdder sentInStorm = new LongAdder();
  private final LongAdder answered = new LongAdder();
  private final LongAdder lostWithSession = new LongAdder();
  private final LongAdder messagesSent = new LongAdder();
  private final LongAdder accepted = new LongAdder();
  private final LongAdder stored = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder duplicated = new LongAdder();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private volatile boolean running;

  /** {@code probes} users, spread evenly over the fleet, probe every {@code intervalNanos}. */
  ProbeTraffic(Fleet fleet, Reconnects reconnects, int probes, long intervalNanos) {
    this.fleet = fleet;
    this.reconnects = reconnects;
    this.token = ScenarioContext.newToken();
    this.idPrefix = Frames.ascii("\"" + new String(token, StandardCharsets.US_ASCII) + "-");
    this.intervalNanos = intervalNanos;
    this.byUser = new Probe[fleet.size()];
    int loops = fleet.loops().size();
    this.byLoop = new ArrayList<>();
    for (int i = 0; i < loops; i++) {
      byLoop.add(new ArrayList<>());
    }
    for (int i = 0; i < probes; i++) {
      SimUser user = fleet.user((int) ((long) i * fleet.size() / probes));
      Probe probe = new Probe(user);
      byUser[user.index()] = probe;
      byLoop.get(user.loop().index()).add(probe);
    }
    this.deliveries = new DeliveryLog(fleet.size());
    this.readers = new Payload.Reader[loops];
    for (int i = 0; i < loops; i++) {
      readers[i] = new Payload.Reader(token);
    }
    this.latency = new Latency(loops);
  }

  /** On each loop, once installed: starts the probes' clocks; they send once back. */
  void start(EventLoop loop) {
    running = true;
    for (Probe probe : byLoop.get(loop.index())) {
      probe.sessionsBefore = probe.user.logins();
    }
    loop.schedule(intervalNanos, () -> tick(loop));
  }

  /** No further commands; answers and deliveries are still counted. */
  void stop() {
    running = false;
  }

  /** Every command answered (or taken by a lost session) and every accepted message delivered. */
  boolean settled() {
    return sent.sum() == answered.sum() + lostWithSession.sum()
        && delivered.sum() >= accepted.sum();
  }

  long sent() {
    return sent.sum();
  }

  long sentInStorm() {
    return sentInStorm.sum();
  }

  long answered() {
    return answered.sum();
  }

  long lostWithSession() {
    return lostWithSession.sum();
  }

  long messagesSent() {
    return messagesSent.sum();
  }

  long accepted() {
    return accepted.sum();
  }

  long stored() {
    return stored.sum();
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

  /** The errors the probes' commands got, by code. */
  Map<String, Long> errors() {
    Map<String, Long> copy = new TreeMap<>();
    errors.forEach((code, count) -> copy.put(code, count.sum()));
    return copy;
  }

  /** The time from each command to its answer (controlling thread, once, at the end). */
  org.HdrHistogram.Histogram answerTimes() {
    latency.harvest();
    return latency.total();
  }

  // ---------------------------------------------------------------- on the loops

  private void tick(EventLoop loop) {
    if (!running) {
      return;
    }
    long now = MonotonicClock.now();
    for (Probe probe : byLoop.get(loop.index())) {
      SimUser user = probe.user;
      if (probe.waiting && (!user.isActive() || user.logins() != probe.session)) {
        // The session ended before the answer came: the connection took the command with it.
        probe.waiting = false;
        lostWithSession.increment();
      }
      if (!probe.waiting && user.isActive() && user.logins() > probe.sessionsBefore) {
        send(probe, now);
      }
    }
    loop.schedule(intervalNanos, () -> tick(loop));
  }

  private void send(Probe probe, long now) {
    SimUser user = probe.user;
    probe.waiting = true;
    probe.sentAt = now;
    probe.session = user.logins();
    sent.increment();
    if (reconnects.away() > 0) {
      sentInStorm.increment();
    }
    if (probe.messageNext) {
      int to = user.loop().random().nextInt(fleet.size() - 1);
      if (to >= user.index()) {
        to++;
      }
      probe.recipients.add(to);
      probe.stamps.add(now);
      user.sendMessage(fleet.user(to), token, probe.messages++, now, PAYLOAD_BYTES);
      messagesSent.increment();
    } else {
      user.sendWhoelse();
    }
    probe.messageNext = !probe.messageNext && fleet.size() > 1;
  }

  @Override
  public void onFrame(SimUser user, FrameType type, byte[] line, int from, int to) {
    switch (type) {
      case MESSAGE_RECEIVED -> received(user, line, from, to);
      case ONLINE_USERS -> answered(user);
      case MESSAGE_ACCEPTED -> {
        if (ours(line, from, to)) {
          accepted.increment();
          boolean kept = Frames.isTrue(line, from, to, STORED_KEY);
          if (kept) {
            stored.increment();
          }
          noteAccepted(user, line, from, to, kept);
          answered(user);
        }
      }
      case ERROR -> {
        int command = Frames.valueAt(line, from, to, COMMAND_KEY);
        boolean aboutMessage = Frames.startsWith(line, command, to, MESSAGE_COMMAND);
        if ((aboutMessage && ours(line, from, to))
            || Frames.startsWith(line, command, to, WHOELSE_COMMAND)) {
          if (aboutMessage) {
            refused.increment();
          }
          String code = String.valueOf(Frames.stringField(line, from, to, CODE_KEY));
          errors.computeIfAbsent(code, c -> new LongAdder()).increment();
          answered(user);
        }
      }
      default -> {}
    }
  }

  /** Which message of the probe's was accepted: the number at the end of its id. */
  private void noteAccepted(SimUser user, byte[] line, int from, int to, boolean kept) {
    Probe probe = byUser[user.index()];
    String id = Frames.stringField(line, from, to, ID_KEY);
    if (probe == null || id == null) {
      return;
    }
    try {
      int number = Integer.parseInt(id.substring(id.lastIndexOf('-') + 1));
      probe.accepted.set(number);
      probe.stored.set(number, kept);
    } catch (NumberFormatException e) {
      // Not an id this traffic wrote: counted above, not described.
    }
  }

  /** One message of the probes' the server accepted, and what became of it. */
  private record AcceptedMessage(
      String id, String sender, String recipient, boolean stored, boolean delivered) {}

  /**
   * The messages accepted and not delivered, described for a person (at most {@code max}): who sent
   * it to whom, its id, and whether it was kept for an absent recipient or handed over live.
   */
  List<String> undelivered(int max) throws InterruptedException {
    return accepted(true, max).stream()
        .map(
            m ->
                m.sender()
                    + " -> "
                    + m.recipient()
                    + " id "
                    + m.id()
                    + " ("
                    + (m.stored() ? "stored" : "live")
                    + ")")
        .toList();
  }

  /**
   * Every message of the probes' the server accepted, one line each (its id, sender, recipient,
   * whether it was kept for an absent recipient or handed over live, and whether it arrived), so
   * that a run can be held against the database message by message.
   */
  List<String> acceptedIds() throws InterruptedException {
    return accepted(false, Integer.MAX_VALUE).stream()
        .map(
            m ->
                String.join(
                    " ",
                    m.id(),
                    m.sender(),
                    m.recipient(),
                    m.stored() ? "stored" : "live",
                    m.delivered() ? "delivered" : "undelivered"))
        .toList();
  }

  /** The accepted messages (only those not delivered, if asked), at most {@code max}. */
  private List<AcceptedMessage> accepted(boolean onlyUndelivered, int max)
      throws InterruptedException {
    List<AcceptedMessage> found = new java.util.concurrent.CopyOnWriteArrayList<>();
    String tokenText = new String(token, StandardCharsets.US_ASCII);
    fleet.onEachLoop(
        loop -> {
          for (Probe probe : byLoop.get(loop.index())) {
            int sender = probe.user.index();
            for (int n = probe.accepted.nextSetBit(0);
                n >= 0 && found.size() < max;
                n = probe.accepted.nextSetBit(n + 1)) {
              boolean delivered = deliveries.delivered(sender, n);
              if (onlyUndelivered && delivered) {
                continue;
              }
              found.add(
                  new AcceptedMessage(
                      String.format(
                          java.util.Locale.ROOT,
                          "%s-%016x-%d-%d",
                          tokenText,
                          probe.stamps.get(n),
                          sender,
                          n),
                      fleet.user(sender).name(),
                      fleet.user(probe.recipients.get(n)).name(),
                      probe.stored.get(n),
                      delivered));
            }
          }
        });
    return found;
  }

  private void answered(SimUser user) {
    Probe probe = byUser[user.index()];
    if (probe != null && probe.waiting) {
      probe.waiting = false;
      answered.increment();
      latency.record(user.loop().index(), MonotonicClock.now() - probe.sentAt);
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
