package dev.parley.bench.jmh;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.Props;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.timing.DeadlineTimer;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What a session's timeouts cost per message: an actor that, for each message it receives, restarts
 * its timeouts as a session does for a direct message (the idle timeout on the command, the request
 * timeout on the request and again on its answer), either as Akka timers restarted each time
 * ({@code akka}, what the session did before) or as {@link DeadlineTimer}s ({@code deadline}). The
 * score is messages per second through the actor, in the server's own Akka configuration (its 1 ms
 * scheduler tick included); the actor message itself is in both.
 *
 * <pre>
 * bin/parley-bench jmh TimeoutRestartBenchmark -f 1 -wi 3 -i 5 -prof gc
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class TimeoutRestartBenchmark {

  /** Messages per invocation. */
  static final int MESSAGES = 100_000;

  /** The session's defaults: what the timers are set for (they never run out here). */
  private static final Duration IDLE_TIMEOUT = Duration.ofMinutes(30);

  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private static final Duration WAIT = Duration.ofSeconds(60);

  @Param({"akka", "deadline"})
  public String timers;

  private ActorSystem<Void> system;
  private ActorRef<Object> actor;

  /** A message the actor handles as a session handles a direct message and its answer. */
  private enum Message {
    INSTANCE
  }

  private enum TimedOut {
    IDLE,
    REQUEST
  }

  /** Completes {@code done} once every message before it has been handled. */
  private record Finish(CompletableFuture<Void> done) {}

  @Setup
  public void setUp() {
    system = ActorSystem.create(Behaviors.empty(), "timeout-bench", ConfigFactory.load());
    actor =
        system.systemActorOf(
            Behaviors.withTimers(
                scheduler ->
                    timers.equals("akka")
                        ? restartingAkkaTimers(scheduler)
                        : movingDeadlines(scheduler)),
            "timeouts",
            Props.empty());
  }

  @TearDown
  public void tearDown() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(MESSAGES)
  public void restartPerMessage() throws Exception {
    for (int i = 0; i < MESSAGES; i++) {
      actor.tell(Message.INSTANCE);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    actor.tell(new Finish(done));
    done.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private static Behavior<Object> restartingAkkaTimers(TimerScheduler<Object> scheduler) {
    return Behaviors.receive(Object.class)
        .onMessageEquals(
            Message.INSTANCE,
            () -> {
              scheduler.startSingleTimer(TimedOut.IDLE, TimedOut.IDLE, IDLE_TIMEOUT);
              scheduler.startSingleTimer(TimedOut.REQUEST, TimedOut.REQUEST, REQUEST_TIMEOUT);
              scheduler.startSingleTimer(TimedOut.REQUEST, TimedOut.REQUEST, REQUEST_TIMEOUT);
              return Behaviors.same();
            })
        .onMessage(Finish.class, TimeoutRestartBenchmark::finished)
        .build();
  }

  private static Behavior<Object> movingDeadlines(TimerScheduler<Object> scheduler) {
    Clock clock = Clock.systemUTC();
    DeadlineTimer<Object> idle =
        new DeadlineTimer<>(scheduler, TimedOut.IDLE, TimedOut.IDLE, IDLE_TIMEOUT, clock);
    DeadlineTimer<Object> request =
        new DeadlineTimer<>(scheduler, TimedOut.REQUEST, TimedOut.REQUEST, REQUEST_TIMEOUT, clock);
    return Behaviors.receive(Object.class)
        .onMessageEquals(
            Message.INSTANCE,
            () -> {
              idle.restart();
              request.restart();
              request.restart();
              return Behaviors.same();
            })
        .onMessage(Finish.class, TimeoutRestartBenchmark::finished)
        .build();
  }

  private static Behavior<Object> finished(Finish finish) {
    finish.done().complete(null);
    return Behaviors.same();
  }
}
