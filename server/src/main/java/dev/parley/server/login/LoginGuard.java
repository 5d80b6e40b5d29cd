package dev.parley.server.login;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.parley.server.registry.UserRegistry;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.StoreSnapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Checks credentials and enforces the lockout: consecutive wrong passwords are counted per
 * username, whatever connection or address they come from; the last allowed failure blocks the
 * username for the block duration, during which every login of it is refused, even with the right
 * password. The count resets on a successful login and when a block expires. Counts and blocks are
 * recorded in the {@link Journal}, so that a lockout survives a restart and still expires on time.
 *
 * <p>Passwords are checked through {@link Credentials}, off this actor's thread. Whether a user is
 * already online is the {@link UserRegistry}'s to say: {@link CheckUsername} asks it, so a second
 * login of an online user is turned away before a password is asked for.
 */
public final class LoginGuard extends AbstractBehavior<LoginGuard.Command> {

  /** What the login guard understands. */
  public sealed interface Command {}

  /** Login step one: may {@code username} log in? Answered with a {@link UsernameVerdict}. */
  public record CheckUsername(String username, ActorRef<UsernameVerdict> replyTo)
      implements Command {}

  /** Reply to {@link CheckUsername}. */
  public enum UsernameVerdict {
    /** The account exists, is not blocked and is not online: ask for the password. */
    PASSWORD_REQUIRED,
    /** No account has this username. */
    UNKNOWN_USER,
    /** The user is logged in on another connection. */
    ALREADY_ONLINE,
    /** The username is blocked after too many failures. */
    BLOCKED
  }

  /** Login step two: is this the password? Answered with a {@link PasswordVerdict}. */
  public record Authenticate(String username, String password, ActorRef<PasswordVerdict> replyTo)
      implements Command {
    @Override
    public String toString() {
      return "Authenticate[username=" + username + ", password=<hidden>]";
    }
  }

  /** Reply to {@link Authenticate}. */
  public enum PasswordVerdict {
    /** Right password; the failure count is reset. */
    AUTHENTICATED,
    /** Wrong password; further attempts are allowed. */
    INVALID_PASSWORD,
    /** Wrong password, and the last one allowed: the username is now blocked. */
    BLOCKED_NOW,
    /** The username is blocked; the password was not checked. */
    BLOCKED,
    /** No account has this username. */
    UNKNOWN_USER,
    /** The accounts could not be read; try again later. */
    UNAVAILABLE
  }

  private record ExistenceChecked(
      String username, Boolean exists, Throwable failure, ActorRef<UsernameVerdict> replyTo)
      implements Command {}

  private record OnlineStatusReceived(
      String username, boolean online, ActorRef<UsernameVerdict> replyTo) implements Command {}

  private record PasswordChecked(
      String username,
      Credentials.Verification verification,
      Throwable failure,
      ActorRef<PasswordVerdict> replyTo)
      implements Command {}

  private record BlockExpired(String username) implements Command {}

  /** The guard's collaborators and rules. */
  public record Settings(int maxFailures, Duration blockDuration, Duration askTimeout) {}

  /**
   * @param lockouts the failure counts and blocks recorded before the server (re)started
   */
  public static Behavior<Command> create(
      Credentials credentials,
      ActorRef<UserRegistry.Command> registry,
      ActorRef<Journal.Command> journal,
      Settings settings,
      Map<String, StoreSnapshot.Lockout> lockouts,
      Clock clock) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new LoginGuard(
                        context,
                        timers,
                        credentials,
                        registry,
                        journal,
                        settings,
                        lockouts,
                        clock)));
  }

  private final TimerScheduler<Command> timers;
  private final Credentials credentials;
  private final ActorRef<UserRegistry.Command> registry;
  private final ActorRef<Journal.Command> journal;
  private final Settings settings;
  private final Clock clock;
  private final Map<String, Integer> failures = new HashMap<>();
  private final Set<String> blocked = new HashSet<>();

  private LoginGuard(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Credentials credentials,
      ActorRef<UserRegistry.Command> registry,
      ActorRef<Journal.Command> journal,
      Settings settings,
      Map<String, StoreSnapshot.Lockout> lockouts,
      Clock clock) {
    super(context);
    this.timers = timers;
    this.credentials = credentials;
    this.registry = registry;
    this.journal = journal;
    this.settings = settings;
    this.clock = clock;
    resume(lockouts);
  }

  /** Takes up the lockouts of before the restart: a block ends when it would have ended anyway. */
  private void resume(Map<String, StoreSnapshot.Lockout> lockouts) {
    Instant now = clock.instant();
    lockouts.forEach(
        (user, lockout) -> {
          if (lockout.blockedUntil() != null && lockout.blockedUntil().isAfter(now)) {
            blocked.add(user);
            timers.startSingleTimer(
                user, new BlockExpired(user), Duration.between(now, lockout.blockedUntil()));
          } else if (lockout.blockedUntil() != null) {
            record(user, 0, null);
          } else if (lockout.failures() > 0) {
            failures.put(user, lockout.failures());
          }
        });
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(CheckUsername.class, this::onCheckUsername)
        .onMessage(ExistenceChecked.class, this::onExistenceChecked)
        .onMessage(OnlineStatusReceived.class, this::onOnlineStatusReceived)
        .onMessage(Authenticate.class, this::onAuthenticate)
        .onMessage(PasswordChecked.class, this::onPasswordChecked)
        .onMessage(BlockExpired.class, this::onBlockExpired)
        .build();
  }

  private Behavior<Command> onCheckUsername(CheckUsername command) {
    String user = command.username();
    if (blocked.contains(user)) {
      command.replyTo().tell(UsernameVerdict.BLOCKED);
    } else {
      getContext()
          .pipeToSelf(
              credentials.exists(user),
              (exists, failure) -> new ExistenceChecked(user, exists, failure, command.replyTo()));
    }
    return this;
  }

  private Behavior<Command> onExistenceChecked(ExistenceChecked checked) {
    String user = checked.username();
    if (checked.failure() != null) {
      // Without the store nobody can log in; asking for the password lets the next step say so.
      getContext()
          .getLog()
          .warn("account lookup failed user={} cause={}", user, checked.failure().toString());
    } else if (!checked.exists()) {
      checked.replyTo().tell(UsernameVerdict.UNKNOWN_USER);
      return this;
    }
    getContext()
        .ask(
            UserRegistry.OnlineStatus.class,
            registry,
            settings.askTimeout(),
            replyTo -> new UserRegistry.IsOnline(user, replyTo),
            // Without an answer, carry on: registering the session is the decisive check.
            (status, failure) ->
                new OnlineStatusReceived(
                    user, status != null && status.online(), checked.replyTo()));
    return this;
  }

  private Behavior<Command> onOnlineStatusReceived(OnlineStatusReceived answer) {
    UsernameVerdict verdict;
    if (blocked.contains(answer.username())) {
      verdict = UsernameVerdict.BLOCKED;
    } else {
      verdict =
          answer.online() ? UsernameVerdict.ALREADY_ONLINE : UsernameVerdict.PASSWORD_REQUIRED;
    }
    answer.replyTo().tell(verdict);
    return this;
  }

  private Behavior<Command> onAuthenticate(Authenticate command) {
    String user = command.username();
    if (blocked.contains(user)) {
      command.replyTo().tell(PasswordVerdict.BLOCKED);
    } else {
      getContext()
          .pipeToSelf(
              credentials.verify(user, command.password()),
              (verification, failure) ->
                  new PasswordChecked(user, verification, failure, command.replyTo()));
    }
    return this;
  }

  private Behavior<Command> onPasswordChecked(PasswordChecked checked) {
    String user = checked.username();
    if (checked.failure() != null) {
      getContext()
          .getLog()
          .warn("password check failed user={} cause={}", user, checked.failure().toString());
      checked.replyTo().tell(PasswordVerdict.UNAVAILABLE);
    } else if (checked.verification().verdict() == Credentials.Verdict.NO_ACCOUNT) {
      checked.replyTo().tell(PasswordVerdict.UNKNOWN_USER);
    } else if (blocked.contains(user)) {
      // Another connection's failure blocked the username while this password was being checked.
      checked.replyTo().tell(PasswordVerdict.BLOCKED);
    } else if (checked.verification().verdict() == Credentials.Verdict.MATCH) {
      if (failures.remove(user) != null) {
        record(user, 0, null);
      }
      if (checked.verification().rehash() != null) {
        journal.tell(
            new Journal.Record(
                new Change.PasswordRehashed(
                    user, checked.verification().storedHash(), checked.verification().rehash()),
                null));
      }
      checked.replyTo().tell(PasswordVerdict.AUTHENTICATED);
    } else {
      checked.replyTo().tell(countFailure(user));
    }
    return this;
  }

  private PasswordVerdict countFailure(String user) {
    int count = failures.merge(user, 1, Integer::sum);
    if (count < settings.maxFailures()) {
      getContext().getLog().info("login failed user={} failures={}", user, count);
      record(user, count, null);
      return PasswordVerdict.INVALID_PASSWORD;
    }
    failures.remove(user);
    blocked.add(user);
    timers.startSingleTimer(user, new BlockExpired(user), settings.blockDuration());
    record(user, count, clock.instant().plus(settings.blockDuration()));
    getContext()
        .getLog()
        .warn(
            "login blocked user={} failures={} for={}s",
            user,
            count,
            settings.blockDuration().toSeconds());
    return PasswordVerdict.BLOCKED_NOW;
  }

  private Behavior<Command> onBlockExpired(BlockExpired expiry) {
    blocked.remove(expiry.username());
    failures.remove(expiry.username());
    record(expiry.username(), 0, null);
    getContext().getLog().info("login block expired user={}", expiry.username());
    return this;
  }

  private void record(String user, int failureCount, Instant blockedUntil) {
    journal.tell(
        new Journal.Record(new Change.LockoutChanged(user, failureCount, blockedUntil), null));
  }
}
