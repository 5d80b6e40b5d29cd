package dev.parley.server.admin;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.parley.server.login.LoginGuard;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.store.AccountEvent;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * Makes account changes done with the admin command line take effect on the running server. The
 * command line is another process that changes the store directly; with each change it writes an
 * account event, which this actor reads every poll interval (off its thread) and passes on: a new
 * account becomes addressable at once, a new password lifts the username's lockout, and a removed
 * account's session is closed.
 *
 * <p>It starts from the newest event when the server starts (older ones are already reflected in
 * the state the server loaded) and never skips one: the next read starts after the last event
 * passed on.
 */
public final class AccountWatcher extends AbstractBehavior<AccountWatcher.Command> {

  /** What the watcher understands: its own timer and reads, and the node's stop. */
  public sealed interface Command {}

  /**
   * The node is stopping and its store is about to close: read no more, and answer once no read is
   * in flight (one that met the closing store would fail, and say so in the log, for nothing).
   */
  public record StopPolling(ActorRef<Done> replyTo) implements Command {}

  /** Where the watcher reads, off the actor's thread. */
  public interface Events {
    /** The id of the newest event, or 0 if there is none. */
    CompletionStage<Long> lastId();

    /** Up to {@code limit} events after {@code afterId}, oldest first. */
    CompletionStage<List<AccountEvent>> after(long afterId, int limit);
  }

  private record Started(Long lastId, Throwable failure) implements Command {}

  private enum PollDue implements Command {
    INSTANCE
  }

  private enum StartDue implements Command {
    INSTANCE
  }

  private record Read(List<AccountEvent> events, Throwable failure) implements Command {}

  /** Events passed on per read: a burst of admin changes is caught up in a few polls. */
  private static final int EVENTS_PER_READ = 500;

  public static Behavior<Command> create(
      Events events,
      ActorRef<UserRegistry.Command> registry,
      ActorRef<LoginGuard.Command> loginGuard,
      Duration pollInterval) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new AccountWatcher(
                        context, timers, events, registry, loginGuard, pollInterval)));
  }

  private final TimerScheduler<Command> timers;
  private final Events events;
  private final ActorRef<UserRegistry.Command> registry;
  private final ActorRef<LoginGuard.Command> loginGuard;
  private final Duration pollInterval;

  /** The last event passed on; -1 until the starting point is known. */
  private long lastId = -1;

  private boolean reading;

  private AccountWatcher(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Events events,
      ActorRef<UserRegistry.Command> registry,
      ActorRef<LoginGuard.Command> loginGuard,
      Duration pollInterval) {
    super(context);
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(AccountWatcher.class);
    this.timers = timers;
    this.events = events;
    this.registry = registry;
    this.loginGuard = loginGuard;
    this.pollInterval = pollInterval;
    context.pipeToSelf(events.lastId(), Started::new);
    timers.startTimerWithFixedDelay(PollDue.INSTANCE, PollDue.INSTANCE, pollInterval);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Started.class, this::onStarted)
        .onMessage(
            StartDue.class,
            due -> {
              getContext().pipeToSelf(events.lastId(), Started::new);
              return this;
            })
        .onMessage(PollDue.class, due -> onPollDue())
        .onMessage(Read.class, this::onRead)
        .onMessage(StopPolling.class, this::onStopPolling)
        .build();
  }

  private Behavior<Command> onStopPolling(StopPolling stop) {
    timers.cancelAll();
    if (!reading) {
      return stoppedPolling(stop);
    }
    return Behaviors.receive(Command.class)
        .onMessage(Read.class, read -> stoppedPolling(stop))
        .onAnyMessage(ignored -> Behaviors.same())
        .build();
  }

  /**
   * Reads nothing more, and answers each later request to stop at once. Events of the last read are
   * not passed on: the next start loads the state they changed.
   */
  private static Behavior<Command> stoppedPolling(StopPolling stop) {
    stop.replyTo().tell(Done.getInstance());
    return Behaviors.receive(Command.class)
        .onMessage(
            StopPolling.class,
            again -> {
              again.replyTo().tell(Done.getInstance());
              return Behaviors.same();
            })
        .onAnyMessage(ignored -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onStarted(Started started) {
    if (started.failure() != null) {
      getContext()
          .getLog()
          .warn(
              "account events unreadable, retrying cause={}",
              started.failure().getClass().getSimpleName());
      timers.startSingleTimer(StartDue.INSTANCE, pollInterval);
      return this;
    }
    lastId = started.lastId();
    return this;
  }

  private Behavior<Command> onPollDue() {
    if (lastId >= 0 && !reading) {
      reading = true;
      getContext().pipeToSelf(events.after(lastId, EVENTS_PER_READ), Read::new);
    }
    return this;
  }

  private Behavior<Command> onRead(Read read) {
    reading = false;
    if (read.failure() != null) {
      getContext()
          .getLog()
          .warn("account events unreadable cause={}", read.failure().getClass().getSimpleName());
      return this;
    }
    for (AccountEvent event : read.events()) {
      String user = event.username();
      getContext().getLog().info("account changed user={} change={}", user, event.kind());
      switch (event.kind()) {
        case ADDED -> registry.tell(new UserRegistry.AccountAdded(user));
        case PASSWORD -> {
          loginGuard.tell(new LoginGuard.LiftLockout(user));
          registry.tell(new UserRegistry.PasswordChanged(user));
        }
        case REMOVED -> {
          loginGuard.tell(new LoginGuard.LiftLockout(user));
          registry.tell(new UserRegistry.AccountRemoved(user));
        }
      }
      lastId = Math.max(lastId, event.id());
    }
    if (read.events().size() == EVENTS_PER_READ) {
      return onPollDue();
    }
    return this;
  }
}
