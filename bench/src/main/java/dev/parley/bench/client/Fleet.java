package dev.parley.bench.client;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The simulated users of a run and the few loop threads that serve them (user {@code i} belongs to
 * loop {@code i % threads}). It logs them in with a bounded number of logins in progress, counts
 * what goes wrong (failed logins, disconnects, failures of its own loops), lets a scenario install
 * its {@link Traffic} and run code on every loop, brings users back after a lost session once
 * {@link #reconnect} has armed its {@link Reconnects}, and at the end logs everyone out.
 */
public final class Fleet implements AutoCloseable {

  /**
   * A server users connect to.
   *
   * @param tls how users speak TLS to it; empty for plain TCP
   */
  public record Server(InetSocketAddress address, Optional<TlsDialer> tls) {}

  /**
   * What a fleet is made of.
   *
   * @param servers the servers: user {@code i} connects to server {@code i % servers.size()}
   */
  public record Settings(
      List<Server> servers,
      String prefix,
      String password,
      int clients,
      int threads,
      int loginConcurrency,
      int maxFrameBytes,
      int backlog,
      Duration keepalive) {

    public Settings {
      servers = List.copyOf(servers);
      if (servers.isEmpty()) {
        throw new IllegalArgumentException("no server");
      }
    }

    /** One server. */
    public Settings(
        InetSocketAddress address,
        Optional<TlsDialer> tls,
        String prefix,
        String password,
        int clients,
        int threads,
        int loginConcurrency,
        int maxFrameBytes,
        int backlog,
        Duration keepalive) {
      this(
          List.of(new Server(address, tls)),
          prefix,
          password,
          clients,
          threads,
          loginConcurrency,
          maxFrameBytes,
          backlog,
          keepalive);
    }
  }

  /** How logging everyone in went. */
  public record LoginResult(
      int attempted,
      int loggedIn,
      int failed,
      long elapsedNanos,
      Histogram latency,
      Map<String, Long> failures) {

    /** The most common reason logins failed, for messages. */
    public String mainFailure() {
      return failures.entrySet().stream()
          .max(Map.Entry.comparingByValue())
          .map(e -> e.getKey() + " (" + e.getValue() + "x)")
          .orElse("none");
    }
  }

  /** The rate at which the server takes each connection's frames, as its hello announced it. */
  public record CommandRate(double perSecond, long burst) {}

  /** A login that makes no progress for this long is given up. */
  private static final Duration LOGIN_STALL = Duration.ofSeconds(30);

  private static final Duration CLOSE_WAIT = Duration.ofSeconds(15);
  private static final long HOUSEKEEPING_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final Duration LOOP_TASK_WAIT = Duration.ofSeconds(30);
  private static final int MAX_REASON_LENGTH = 120;

  private final Settings settings;
  private final EventLoop[] loops;
  private final SimUser[] users;
  private final byte[] passwordFrame;
  private final Semaphore loginPermits;
  private final AtomicInteger loggedIn = new AtomicInteger();
  private final AtomicInteger loginFailed = new AtomicInteger();
  private final AtomicLong lastLoginDone = new AtomicLong();
  private final AtomicInteger open = new AtomicInteger();
  private final LongAdder disconnects = new LongAdder();
  private final Map<String, LongAdder> loginFailures = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> disconnectReasons = new ConcurrentHashMap<>();
  private final Recorder loginLatency = new Recorder(3);
  private final AtomicReference<Throwable> loopFailure = new AtomicReference<>();
  private final AtomicReference<CommandRate> commandRate = new AtomicReference<>();
  private volatile Reconnects reconnects;

  private Fleet(Settings settings) {
    this.settings = settings;
    this.loops = new EventLoop[settings.threads()];
    for (int i = 0; i < loops.length; i++) {
      loops[i] = new EventLoop(i, 0x5EED_0000L + i, this::loopFailed);
    }
    this.users = new SimUser[settings.clients()];
    for (int i = 0; i < users.length; i++) {
      EventLoop loop = loops[i % loops.length];
      users[i] =
          new SimUser(
              this,
              loop,
              i,
              username(settings.prefix(), i),
              settings.maxFrameBytes(),
              settings.backlog());
      loop.add(users[i]);
    }
    this.passwordFrame = ClientFrames.password(Frames.escape(settings.password()));
    this.loginPermits = new Semaphore(settings.loginConcurrency());
  }

  /** Creates the users and starts the loop threads; nobody is connected yet. */
  public static Fleet start(Settings settings) {
    Fleet fleet = new Fleet(settings);
    for (EventLoop loop : fleet.loops) {
      loop.start();
      if (!settings.keepalive().isZero()) {
        loop.execute(() -> fleet.housekeeping(loop));
      }
    }
    return fleet;
  }

  /** The username of user {@code index}: the prefix and the index, as the credentials file has. */
  public static String username(String prefix, int index) {
    return prefix + index;
  }

  public int size() {
    return users.length;
  }

  public SimUser user(int index) {
    return users[index];
  }

  public List<EventLoop> loops() {
    return List.of(loops);
  }

  public long disconnects() {
    return disconnects.sum();
  }

  /** Why users were disconnected, with how often. */
  public Map<String, Long> disconnectReasons() {
    return snapshot(disconnectReasons);
  }

  /** The first failure of a loop's own code, if any: a bug, and the run's numbers are suspect. */
  public Throwable loopFailure() {
    return loopFailure.get();
  }

  /** CPU time used by each loop thread so far. */
  public long[] loopCpuNanos() {
    long[] nanos = new long[loops.length];
    for (int i = 0; i < loops.length; i++) {
      nanos[i] = loops[i].cpuNanos();
    }
    return nanos;
  }

  /**
   * Connects and logs in every user, at most {@code loginConcurrency} at a time, and returns when
   * each has logged in or failed. {@code whileWaiting} runs about every 100 ms meanwhile
   * (progress).
   */
  public LoginResult logIn(Runnable whileWaiting) throws InterruptedException {
    long start = MonotonicClock.now();
    lastLoginDone.set(start);
    long lastTick = start;
    for (SimUser user : users) {
      while (!loginPermits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
        whileWaiting.run();
        lastTick = MonotonicClock.now();
        giveUpIfStalled();
      }
      user.loop().execute(user::connect);
      if (MonotonicClock.now() - lastTick > TimeUnit.MILLISECONDS.toNanos(100)) {
        whileWaiting.run();
        lastTick = MonotonicClock.now();
      }
    }
    while (loggedIn.get() + loginFailed.get() < users.length) {
      Thread.sleep(10);
      if (MonotonicClock.now() - lastTick > TimeUnit.MILLISECONDS.toNanos(100)) {
        whileWaiting.run();
        lastTick = MonotonicClock.now();
      }
      giveUpIfStalled();
    }
    return new LoginResult(
        users.length,
        loggedIn.get(),
        loginFailed.get(),
        Math.max(1, lastLoginDone.get() - start),
        loginLatency.getIntervalHistogram(),
        snapshot(loginFailures));
  }

  /** Users logged in so far, and failed so far (for progress). */
  public int loggedInCount() {
    return loggedIn.get();
  }

  public int loginFailedCount() {
    return loginFailed.get();
  }

  /** Makes {@code traffic} the one every loop hands frames to, and runs {@code onInstall} there. */
  public void install(Traffic traffic, Consumer<EventLoop> onInstall) throws InterruptedException {
    onEachLoop(
        loop -> {
          loop.traffic(traffic);
          onInstall.accept(loop);
        });
  }

  /** Runs {@code action} on every loop's thread and waits until all have run it. */
  public void onEachLoop(Consumer<EventLoop> action) throws InterruptedException {
    CountDownLatch done = new CountDownLatch(loops.length);
    for (EventLoop loop : loops) {
      loop.execute(
          () -> {
            try {
              action.accept(loop);
            } finally {
              done.countDown();
            }
          });
    }
    if (!done.await(LOOP_TASK_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(
          "the generator's loops did not answer within " + LOOP_TASK_WAIT);
    }
  }

  /** Every logged-in user acknowledges what it has received. */
  public void acknowledgeAll() throws InterruptedException {
    onEachLoop(loop -> loop.users().forEach(SimUser::acknowledge));
  }

  /**
   * Waits until nothing has arrived for {@code silence} (the presence notices of the last logins,
   * say), but no longer than {@code atMost}; true when it got quiet. The server's heartbeats do not
   * count: they go on for as long as the users are silent.
   */
  public boolean awaitQuiet(Duration silence, Duration atMost) throws InterruptedException {
    long deadline = MonotonicClock.now() + atMost.toNanos();
    long seen = linesReceived();
    long quietSince = MonotonicClock.now();
    while (MonotonicClock.now() < deadline) {
      Thread.sleep(20);
      long now = linesReceived();
      if (now != seen) {
        seen = now;
        quietSince = MonotonicClock.now();
      } else if (MonotonicClock.now() - quietSince >= silence.toNanos()) {
        return true;
      }
    }
    return false;
  }

  /**
   * From now on, users whose session ends come back as {@code reconnects} says, and are counted
   * there. Call it once everyone has logged in.
   */
  public void reconnect(Reconnects reconnects) {
    this.reconnects = reconnects;
  }

  /** The rate limit the server announced in its hello; empty when it announced none. */
  public Optional<CommandRate> commandRate() {
    return Optional.ofNullable(commandRate.get());
  }

  /** Presence notices all users have received so far. */
  public long noticesReceived() {
    long notices = 0;
    for (EventLoop loop : loops) {
      notices += loop.noticesReceived();
    }
    return notices;
  }

  /** Lines other than heartbeats all users have received so far. */
  public long linesReceived() {
    long lines = 0;
    for (EventLoop loop : loops) {
      lines += loop.linesReceived();
    }
    return lines;
  }

  /** Logs every user out, waits (boundedly) for the server to close, and stops the loops. */
  @Override
  public void close() {
    try {
      onEachLoop(loop -> loop.users().forEach(SimUser::logOut));
      long deadline = MonotonicClock.now() + CLOSE_WAIT.toNanos();
      while (open.get() > 0 && MonotonicClock.now() < deadline) {
        Thread.sleep(10);
      }
      onEachLoop(loop -> loop.users().forEach(SimUser::close));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IllegalStateException e) {
      // The loops are stuck; stopping them closes every socket anyway.
    }
    for (EventLoop loop : loops) {
      loop.stop();
    }
  }

  // ---------------------------------------------------------------- from the users' loops

  /** The server user {@code index} connects to: round robin over the servers. */
  private Server server(int index) {
    return settings.servers().get(index % settings.servers().size());
  }

  InetSocketAddress address(int index) {
    return server(index).address();
  }

  byte[] passwordFrame() {
    return passwordFrame;
  }

  /** How user {@code index} speaks TLS to its server; null over plain TCP. */
  TlsDialer tls(int index) {
    return server(index).tls().orElse(null);
  }

  void opened() {
    open.incrementAndGet();
  }

  void closed() {
    open.decrementAndGet();
  }

  void loggedIn(SimUser user, long nanos) {
    loginLatency.recordValue(Math.max(1, nanos));
    loggedIn.incrementAndGet();
    lastLoginDone.accumulateAndGet(MonotonicClock.now(), Math::max);
    loginPermits.release();
  }

  void loginFailed(SimUser user, String why) {
    count(loginFailures, why);
    loginFailed.incrementAndGet();
    lastLoginDone.accumulateAndGet(MonotonicClock.now(), Math::max);
    loginPermits.release();
  }

  /** The reconnects, once armed; null before (and in scenarios that do not come back). */
  Reconnects reconnects() {
    return reconnects;
  }

  void commandRate(double perSecond, long burst) {
    CommandRate rate = new CommandRate(perSecond, burst);
    if (!rate.equals(commandRate.get())) {
      commandRate.set(rate);
    }
  }

  void disconnected(SimUser user, String why) {
    count(disconnectReasons, why);
    disconnects.increment();
  }

  private void loopFailed(Throwable failure) {
    loopFailure.compareAndSet(null, failure);
  }

  private void housekeeping(EventLoop loop) {
    long now = MonotonicClock.now();
    long quiet = settings.keepalive().toNanos();
    for (SimUser user : loop.users()) {
      user.keepAlive(now, quiet);
    }
    loop.schedule(HOUSEKEEPING_NANOS, () -> housekeeping(loop));
  }

  /** Logins that have not finished after a long silence are counted as failed. */
  private void giveUpIfStalled() throws InterruptedException {
    if (MonotonicClock.now() - lastLoginDone.get() < LOGIN_STALL.toNanos()) {
      return;
    }
    String why = "no answer within " + LOGIN_STALL.toSeconds() + "s";
    onEachLoop(
        loop -> {
          for (SimUser user : loop.users()) {
            SimUser.State state = user.state();
            if (state != SimUser.State.NEW
                && state != SimUser.State.ACTIVE
                && state != SimUser.State.CLOSED
                && state != SimUser.State.WAITING
                && state != SimUser.State.LOGGING_OUT) {
              user.close();
              loginFailed(user, why);
            }
          }
        });
    lastLoginDone.set(MonotonicClock.now());
  }

  private static void count(Map<String, LongAdder> counts, String why) {
    String reason = why.length() > MAX_REASON_LENGTH ? why.substring(0, MAX_REASON_LENGTH) : why;
    counts.computeIfAbsent(reason, r -> new LongAdder()).increment();
  }

  private static Map<String, Long> snapshot(Map<String, LongAdder> counts) {
    Map<String, Long> copy = new TreeMap<>();
    counts.forEach((reason, count) -> copy.put(reason, count.sum()));
    return Collections.unmodifiableMap(copy);
  }
}
