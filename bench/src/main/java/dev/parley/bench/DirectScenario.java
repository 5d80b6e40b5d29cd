package dev.parley.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code direct}: N users each send M direct messages to random others, as fast as the server
 * accepts them (each user keeps up to {@code window} unanswered). Every message carries its sender,
 * number and send time; receivers measure latency, count what arrives and acknowledge it.
 */
final class DirectScenario {

  record Settings(
      String host,
      int port,
      int clients,
      int messages,
      int window,
      String userPrefix,
      String password,
      int payloadBytes,
      boolean acknowledge) {}

  private static final int ACK_EVERY = 64;

  private final Settings settings;
  private final Histogram latency = new Histogram();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final ConcurrentHashMap<String, Boolean> seen = new ConcurrentHashMap<>();

  /** Makes this run's message ids new to the server, which recognises and drops a resent id. */
  private final String run = Long.toString(System.currentTimeMillis(), 36);

  DirectScenario(Settings settings) {
    this.settings = settings;
  }

  String run() throws Exception {
    List<BenchClient> clients = new ArrayList<>();
    for (int i = 0; i < settings.clients(); i++) {
      BenchClient client =
          new BenchClient(
              settings.host(),
              settings.port(),
              Main.username(settings.userPrefix(), i),
              settings.window());
      client.login(settings.password());
      clients.add(client);
    }
    long total = (long) settings.clients() * settings.messages();
    CountDownLatch allAccepted = new CountDownLatch(settings.clients());
    for (BenchClient client : clients) {
      AtomicLong lastSeq = new AtomicLong();
      AtomicLong sinceAck = new AtomicLong();
      client.startReading(line -> onLine(client, line, lastSeq, sinceAck));
    }
    long start = System.nanoTime();
    List<Thread> senders = new ArrayList<>();
    for (int i = 0; i < clients.size(); i++) {
      BenchClient client = clients.get(i);
      int me = i;
      Thread sender =
          new Thread(
              () -> {
                Random random = new Random(me);
                try {
                  for (int k = 0; k < settings.messages(); k++) {
                    int to = random.nextInt(settings.clients() - 1);
                    if (to >= me) {
                      to++;
                    }
                    client.request(frame(me, to, k));
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                allAccepted.countDown();
              },
              "bench-sender-" + i);
      sender.start();
      senders.add(sender);
    }
    allAccepted.await();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (delivered.get() + duplicates.get() < accepted.get() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    // The senders have all been answered: wait for the last answers, then for the deliveries.
    while (accepted.get() + refused.get() < total && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    while (delivered.get() < accepted.get() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    clients.forEach(BenchClient::close);
    return String.format(
        Locale.ROOT,
        "scenario=direct clients=%d messages=%d sent=%d accepted=%d refused=%d delivered=%d"
            + " duplicated=%d lost=%d seconds=%.2f delivered_per_s=%.0f"
            + " p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f",
        settings.clients(),
        settings.messages(),
        total,
        accepted.get(),
        refused.get(),
        delivered.get(),
        duplicates.get(),
        accepted.get() - delivered.get(),
        seconds,
        delivered.get() / seconds,
        latency.percentileMillis(0.50),
        latency.percentileMillis(0.95),
        latency.percentileMillis(0.99),
        latency.percentileMillis(0.999),
        latency.percentileMillis(1.0));
  }

  private String frame(int from, int to, int number) {
    StringBuilder text = new StringBuilder();
    text.append(from).append('|').append(number).append('|').append(System.nanoTime()).append('|');
    while (text.length() < settings.payloadBytes()) {
      text.append('x');
    }
    return "{\"type\":\"message\",\"to\":\""
        + Main.username(settings.userPrefix(), to)
        + "\",\"text\":\""
        + text
        + "\",\"id\":\""
        + run
        + "-"
        + from
        + "-"
        + number
        + "\"}";
  }

  private void onLine(BenchClient client, String line, AtomicLong lastSeq, AtomicLong sinceAck) {
    if (line.startsWith("{\"type\":\"message-received\"")) {
      long now = System.nanoTime();
      String text = field(line, "\"text\":\"", '"');
      String[] parts = text.split("\\|", 4);
      if (seen.putIfAbsent(parts[0] + "-" + parts[1], Boolean.TRUE) != null) {
        duplicates.incrementAndGet();
      } else {
        delivered.incrementAndGet();
        latency.record(now - Long.parseLong(parts[2]));
      }
      if (!settings.acknowledge()) {
        return;
      }
      long seq = Long.parseLong(field(line, "\"seq\":", ','));
      lastSeq.set(seq);
      if (sinceAck.incrementAndGet() >= ACK_EVERY) {
        sinceAck.set(0);
        client.send("{\"type\":\"ack\",\"seq\":" + seq + "}");
      }
    } else if (line.startsWith("{\"type\":\"message-accepted\"")) {
      accepted.incrementAndGet();
      client.answered();
    } else if (line.startsWith("{\"type\":\"error\"")) {
      refused.incrementAndGet();
      client.answered();
    }
  }

  private static String field(String line, String key, char end) {
    int from = line.indexOf(key) + key.length();
    int to = line.indexOf(end, from);
    return line.substring(from, to < 0 ? line.length() - 1 : to);
  }
}
