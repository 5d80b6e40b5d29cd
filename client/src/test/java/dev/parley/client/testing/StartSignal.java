package dev.parley.client.testing;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.BehaviorInterceptor;
import akka.actor.typed.TypedActorContext;
import akka.actor.typed.javadsl.Behaviors;

/**
 * Wraps a behavior so that the test learns when it has started (its setup, including the timers it
 * starts, has run): with {@code ManualTime}, advancing the clock before that would be a race.
 */
public final class StartSignal {

  /** What the probe receives once the wrapped behavior has started. */
  public enum Started {
    INSTANCE
  }

  private StartSignal() {}

  public static <T> Behavior<T> signalling(
      Class<T> type, ActorRef<Started> started, Behavior<T> behavior) {
    return Behaviors.intercept(() -> new Signaller<>(type, started), behavior);
  }

  private static final class Signaller<T> extends BehaviorInterceptor<T, T> {
    private final ActorRef<Started> started;

    Signaller(Class<T> type, ActorRef<Started> started) {
      super(type);
      this.started = started;
    }

    @Override
    public Behavior<T> aroundStart(TypedActorContext<T> context, PreStartTarget<T> target) {
      Behavior<T> running = target.start(context);
      started.tell(Started.INSTANCE);
      return running;
    }

    @Override
    public Behavior<T> aroundReceive(
        TypedActorContext<T> context, T message, ReceiveTarget<T> target) {
      return target.apply(context, message);
    }
  }
}
