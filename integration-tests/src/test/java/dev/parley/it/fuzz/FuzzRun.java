package dev.parley.it.fuzz;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One fuzz run: the server fuzz workers, the peer fuzz workers and the two bystanders' exchange,
 * all on their own threads until the deadline, and a sampler of the server's resident memory. When
 * the time is up the workers finish their current step; connections still open after a grace period
 * (a reader that never reads may be blocked writing) are closed for them.
 */
public final class FuzzRun {

  /** How long workers get after the deadline to finish what they are doing. */
  private static final Duration GRACE = Duration.ofSeconds(20);

  private final long seed;
  private final int port;
  private final int peerPort;
  private final Map<String, String> passwords;
  private final FuzzStats stats;
  private final Duration duration;
  private final Set<String> introduced = ConcurrentHashMap.newKeySet();
  private final Map<String, LongAdder> validHellos = new ConcurrentHashMap<>();
  private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
  private final AtomicLong peakRss = new AtomicLong();
  private int serverWorkers = 14;
  private int peerWorkers = 4;
  private Bystander first;
  private Bystander second;
  private Duration interval = Duration.ofMillis(25);
  private ProcessProbe probe;
  private PeerTokens tokens;

  public FuzzRun(
      long seed,
      int port,
      int peerPort,
      Map<String, String> passwords,
      FuzzStats stats,
      Duration duration) {
    this.seed = seed;
    this.port = port;
    this.peerPort = peerPort;
    this.passwords = Map.copyOf(passwords);
    this.stats = stats;
    this.duration = duration;
  }

  public FuzzRun withWorkers(int server, int peer) {
    this.serverWorkers = server;
    this.peerWorkers = peer;
    return this;
  }

  /** Two ordinary users who keep talking to each other, one command every {@code interval}. */
  public FuzzRun withBystanders(Bystander first, Bystander second, Duration interval) {
    this.first = first;
    this.second = second;
    this.interval = interval;
    return this;
  }

  /** Where the peer fuzzers get real tokens for the client's private chats. */
  public FuzzRun withPeerTokens(PeerTokens tokens) {
    this.tokens = tokens;
    return this;
  }

  /** Samples the server's resident memory every second. */
  public FuzzRun sampling(ProcessProbe probe) {
    this.probe = probe;
    return this;
  }

  public void run() throws InterruptedException {
    if (peerWorkers > 0 && tokens == null) {
      throw new IllegalStateException("peer fuzzers need a source of tokens (withPeerTokens)");
    }
    long deadline = System.nanoTime() + duration.toNanos();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < serverWorkers; i++) {
      threads.add(
          thread(
              "fuzz-server-" + i,
              new ServerFuzzer(
                  port,
                  FuzzRandom.forWorker(seed, "server", i),
                  stats,
                  passwords,
                  deadline,
                  open)));
    }
    for (int i = 0; i < peerWorkers; i++) {
      threads.add(
          thread(
              "fuzz-peer-" + i,
              new PeerFuzzer(
                  peerPort,
                  i,
                  FuzzRandom.forWorker(seed, "peer", i),
                  stats,
                  deadline,
                  introduced,
                  validHellos,
                  tokens,
                  open)));
    }
    if (first != null) {
      FuzzRandom a = FuzzRandom.forWorker(seed, "bystander", 0);
      FuzzRandom b = FuzzRandom.forWorker(seed, "bystander", 1);
      threads.add(
          thread(
              "bystander-" + first.user(),
              () -> first.exchangeWith(second, a, deadline, interval)));
      threads.add(
          thread(
              "bystander-" + second.user(),
              () -> second.exchangeWith(first, b, deadline, interval)));
    }
    ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
    if (probe != null) {
      sampler.scheduleAtFixedRate(
          () -> peakRss.accumulateAndGet(probe.rssKib(), Math::max), 0, 1, TimeUnit.SECONDS);
    }
    threads.forEach(Thread::start);
    try {
      long graceEnd = deadline + GRACE.toNanos();
      for (Thread thread : threads) {
        thread.join(Math.max(1, (graceEnd - System.nanoTime()) / 1_000_000));
      }
      // Whoever still runs is blocked on a connection: closing them all sets it free.
      open.forEach(FuzzRun::closeQuietly);
      for (Thread thread : threads) {
        thread.join(GRACE.toMillis());
        if (thread.isAlive()) {
          stats.anomaly("a fuzz thread did not stop (a fault of the test)", thread.getName());
        }
      }
    } finally {
      sampler.shutdownNow();
    }
    if (probe != null) {
      peakRss.accumulateAndGet(probe.rssKib(), Math::max);
    }
  }

  /** The user names the peer fuzzers sent in hellos with a fresh token. */
  public Set<String> introducedPeers() {
    return Set.copyOf(introduced);
  }

  /**
   * How many hellos with a fresh token the peer fuzzers sent, by user: each opens a chat at most.
   */
  public Map<String, Long> validHellos() {
    Map<String, Long> counts = new java.util.HashMap<>();
    validHellos.forEach((user, count) -> counts.put(user, count.sum()));
    return counts;
  }

  public long peakRssKib() {
    return peakRss.get();
  }

  private Thread thread(String name, Runnable work) {
    Thread thread = new Thread(work, name);
    thread.setDaemon(true);
    thread.setUncaughtExceptionHandler(
        (dead, e) ->
            stats.anomaly("a fuzz thread failed (a fault of the test)", dead.getName() + ": " + e));
    return thread;
  }

  private static void closeQuietly(AutoCloseable connection) {
    try {
      connection.close();
    } catch (Exception e) {
      // Closing is all that matters.
    }
  }
}
