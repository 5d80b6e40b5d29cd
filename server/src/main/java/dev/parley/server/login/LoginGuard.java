package dev.parley.server.login;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.parley.server.registry.UserRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Checks credentials and enforces the lockout: consecutive wrong passwords are counted per
 * username, whatever connection or address they come from; the last allowed failure blocks the
 * username for the block duration, during which every login of it is refused, even with the right
 * password. The count resets on a successful login and when a block expires.
 *
 * <p>Whether a user is already online is the {@link UserRegistry}'s to say: {@link CheckUsername}
 * asks it, so a second login of an online user is turned away before a password is asked for.
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
    UNKNOWN_USER
  }

  private record OnlineStatusReceived(
      String username, boolean online, ActorRef<UsernameVerdict> replyTo) implements Command {}

  private record BlockExpired(String username) implements Command {}

  /**
   * @param maxFailures consecutive wrong passwords that block a username
   * @param blockDuration how long a username stays blocked
   * @param askTimeout how long to wait for the registry's answer
   */
  public static Behavior<Command> create(
      Accounts accounts,
      ActorRef<UserRegistry.Command> registry,
      int maxFailures,
      Duration blockDuration,
      Duration askTimeout) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new LoginGuard(
                        context,
                        timers,
                        accounts,
                        registry,
                        maxFailures,
                        blockDuration,
                        askTimeout)));
  }

  private final TimerScheduler<Command> timers;
  private final Accounts accounts;
  private final ActorRef<UserRegistry.Command> registry;
  private final int maxFailures;
  private final Duration blockDuration;
  private final Duration askTimeout;
  private final Map<String, Integer> failures = new HashMap<>();
  private final Set<String> blocked = new HashSet<>();

  private LoginGuard(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Accounts accounts,
      ActorRef<UserRegistry.Command> registry,
      int maxFailures,
      Duration blockDuration,
      Duration askTimeout) {
    super(context);
    this.timers = timers;
    this.accounts = accounts;
    this.registry = registry;
    this.maxFailures = maxFailures;
    this.blockDuration = blockDuration;
    this.askTimeout = askTimeout;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(CheckUsername.class, this::onCheckUsername)
        .onMessage(OnlineStatusReceived.class, this::onOnlineStatusReceived)
        .onMessage(Authenticate.class, this::onAuthenticate)
        .onMessage(BlockExpired.class, this::onBlockExpired)
        .build();
  }

  private Behavior<Command> onCheckUsername(CheckUsername command) {
    String user = command.username();
    if (!accounts.exists(user)) {
      command.replyTo().tell(UsernameVerdict.UNKNOWN_USER);
    } else if (blocked.contains(user)) {
      command.replyTo().tell(UsernameVerdict.BLOCKED);
    } else {
      getContext()
          .ask(
              UserRegistry.OnlineStatus.class,
              registry,
              askTimeout,
              replyTo -> new UserRegistry.IsOnline(user, replyTo),
              // Without an answer, carry on: registering the session is the decisive check.
              (status, failure) ->
                  new OnlineStatusReceived(
                      user, status != null && status.online(), command.replyTo()));
    }
    return this;
  }

  private Behavior<Command> onOnlineStatusReceived(OnlineStatusReceived answer) {
    answer
        .replyTo()
        .tell(answer.online() ? UsernameVerdict.ALREADY_ONLINE : UsernameVerdict.PASSWORD_REQUIRED);
    return this;
  }

  private Behavior<Command> onAuthenticate(Authenticate command) {
    String user = command.username();
    if (!accounts.exists(user)) {
      command.replyTo().tell(PasswordVerdict.UNKNOWN_USER);
    } else if (blocked.contains(user)) {
      command.replyTo().tell(PasswordVerdict.BLOCKED);
    } else if (accounts.passwordMatches(user, command.password())) {
      failures.remove(user);
      command.replyTo().tell(PasswordVerdict.AUTHENTICATED);
    } else {
      int count = failures.merge(user, 1, Integer::sum);
      if (count >= maxFailures) {
        failures.remove(user);
        blocked.add(user);
        timers.startSingleTimer(user, new BlockExpired(user), blockDuration);
        getContext()
            .getLog()
            .warn(
                "login blocked user={} failures={} for={}s",
                user,
                count,
                blockDuration.toSeconds());
        command.replyTo().tell(PasswordVerdict.BLOCKED_NOW);
      } else {
        getContext().getLog().info("login failed user={} failures={}", user, count);
        command.replyTo().tell(PasswordVerdict.INVALID_PASSWORD);
      }
    }
    return this;
  }

  private Behavior<Command> onBlockExpired(BlockExpired expiry) {
    blocked.remove(expiry.username());
    failures.remove(expiry.username());
    getContext().getLog().info("login block expired user={}", expiry.username());
    return this;
  }
}
