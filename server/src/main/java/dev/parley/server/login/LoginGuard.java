package dev.parley.server.login;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.AskPattern;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.parley.server.limits.AddressBuckets;
import dev.parley.server.metrics.Metrics;
import dev.parley.server.registry.ClusterRegistry;
import dev.parley.server.registry.UserEntity;
import dev.parley.server.store.Change;
import dev.parley.server.store.Journal;
import dev.parley.server.store.StoreSnapshot;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Checks credentials and enforces the lockout: consecutive wrong passwords are counted per
 * username, whatever connection or address they come from; the last allowed failure blocks the
 * username for the block duration, during which every login of it is refused, even with the right
 * password. The count resets on a successful login and when a block expires. Counts and blocks are
 * recorded in the {@link Journal}, so that a lockout survives a restart and still expires on time.
 *
 * <p>In a cluster ({@link #clustered}) the counts and blocks are kept by each user's owner, the
 * sharded {@link UserEntity}, so that failures on every node add up; the guard asks it before a
 * password is checked and tells it the outcome after.
 *
 * <p>Passwords are checked through {@link Credentials}, off this actor's thread. Whether a user is
 * already online is not the guard's question: the registry answers it when the authenticated
 * session registers, so that a connection learns who is online only after the right password.
 */
public final class LoginGuard extends AbstractBehavior<LoginGuard.Command> {

  /** What the login guard understands. */
  public sealed interface Command {}

  /**
   * Login step one: may {@code username} log in? Answered with a {@link UsernameVerdict}. {@code
   * from} is the client's address, whose login attempts are limited over all its connections.
   */
  public record CheckUsername(String username, InetAddress from, ActorRef<UsernameVerdict> replyTo)
      implements Command {}

  /** Reply to {@link CheckUsername}. */
  public enum UsernameVerdict {
    /** The account exists and is not blocked: ask for the password. */
    PASSWORD_REQUIRED,
    /** No account has this username. */
    UNKNOWN_USER,
    /** The username is blocked after too many failures. */
    BLOCKED,
    /** Too many login attempts from the client's address: try again later. */
    RATE_LIMITED,
    /** The accounts cannot be looked up now (too many lookups waiting, or the store is down). */
    BUSY
  }

  /** Login step two: is this the password? Answered with a {@link PasswordVerdict}. */
  public record Authenticate(
      String username, String password, InetAddress from, ActorRef<PasswordVerdict> replyTo)
      implements Command {
    @Override
    public String toString() {
      return "Authenticate[username=" + username + ", password=<hidden>, from=" + from + "]";
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
    UNAVAILABLE,
    /** Too many login attempts from the client's address: try again later. */
    RATE_LIMITED,
    /** Too many password checks are waiting: try again later. */
    BUSY
  }

  /**
   * May the client at {@code from} try to resume a session? Answered with an {@link Admission}. A
   * resumption is a login attempt for the per-address limit, but it checks no password and is not
   * subject to the lockout: a user whose username an attacker has locked can still get back to the
   * session they had.
   */
  public record AdmitResumption(InetAddress from, ActorRef<Admission> replyTo) implements Command {}

  /** Reply to {@link AdmitResumption}. */
  public enum Admission {
    ADMITTED,
    /** Too many login attempts from the client's address: try again later. */
    RATE_LIMITED
  }

  /**
   * The account's password was changed, or the account removed, by an administrator: any lockout of
   * the username is lifted at once (the new password is the administrator's answer to it).
   */
  public record LiftLockout(String username) implements Command {}

  private record ExistenceChecked(
      String username, Boolean exists, Throwable failure, ActorRef<UsernameVerdict> replyTo)
      implements Command {}

  private record PasswordChecked(
      String username,
      Credentials.Verification verification,
      Throwable failure,
      ActorRef<PasswordVerdict> replyTo)
      implements Command {}

  private record BlockExpired(String username) implements Command {}

  /** A cluster: the user's owner said whether the username may try (null on failure). */
  private record LockoutChecked(
      String username,
      int attempt,
      UserEntity.LockoutStatus status,
      Throwable failure,
      Authenticate authenticate,
      ActorRef<UsernameVerdict> usernameReplyTo)
      implements Command {}

  /** A cluster: the user's owner counted a checked password (null on failure). */
  private record LoginCounted(
      PasswordChecked checked, UserEntity.LoginCount count, ActorRef<PasswordVerdict> replyTo)
      implements Command {}

  /**
   * The guard's rules.
   *
   * @param loginAttempts the per-address limit of login attempts; null when limits are off
   */
  public record Settings(int maxFailures, Duration blockDuration, AddressBuckets loginAttempts) {}

  /**
   * @param lockouts the failure counts and blocks recorded before the server (re)started
   */
  public static Behavior<Command> create(
      Credentials credentials,
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
                        journal,
                        settings,
                        lockouts,
                        clock,
                        null,
                        null,
                        0)));
  }

  /**
   * A guard for a node of a cluster: the failure counts and blocks are each user's owner's ({@link
   * UserEntity}), counted there for every node at once; the guard keeps the per-address limit and
   * checks passwords on its node's hashing pool.
   *
   * @param askTimeout how long an owner may take to answer
   * @param ownerAttempts how many times the owner is asked whether the username is blocked
   */
  public static Behavior<Command> clustered(
      Credentials credentials,
      ActorRef<Journal.Command> journal,
      Settings settings,
      ClusterRegistry.Owners owners,
      Duration askTimeout,
      int ownerAttempts,
      Clock clock) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new LoginGuard(
                        context,
                        timers,
                        credentials,
                        journal,
                        settings,
                        Map.of(),
                        clock,
                        owners,
                        askTimeout,
                        ownerAttempts)));
  }

  private final TimerScheduler<Command> timers;
  private final Credentials credentials;

  /** In a cluster, where each user's owner is; null on a standalone node. */
  private final ClusterRegistry.Owners owners;

  private final Duration askTimeout;

  /** How many times the owner is asked before the login is refused as busy. */
  private final int ownerAttempts;

  private final ActorRef<Journal.Command> journal;
  private final Settings settings;
  private final Clock clock;
  private final Map<String, Integer> failures = new HashMap<>();
  private final Set<String> blocked = new HashSet<>();

  private final Metrics metrics;

  private LoginGuard(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Credentials credentials,
      ActorRef<Journal.Command> journal,
      Settings settings,
      Map<String, StoreSnapshot.Lockout> lockouts,
      Clock clock,
      ClusterRegistry.Owners owners,
      Duration askTimeout,
      int ownerAttempts) {
    super(context);
    // Named for the class: detected from the stack, the name can come out as Akka's ActorCell,
    // whose level (WARN) then hides this actor's INFO lines.
    context.setLoggerName(LoginGuard.class);
    this.metrics = Metrics.get(context.getSystem());
    this.ownerAttempts = ownerAttempts;
    this.timers = timers;
    this.credentials = credentials;
    this.journal = journal;
    this.settings = settings;
    this.clock = clock;
    this.owners = owners;
    this.askTimeout = askTimeout;
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
        .onMessage(
            AdmitResumption.class,
            admit -> {
              admit
                  .replyTo()
                  .tell(admitted(admit.from()) ? Admission.ADMITTED : Admission.RATE_LIMITED);
              return this;
            })
        .onMessage(ExistenceChecked.class, this::onExistenceChecked)
        .onMessage(Authenticate.class, this::onAuthenticate)
        .onMessage(PasswordChecked.class, this::onPasswordChecked)
        .onMessage(BlockExpired.class, this::onBlockExpired)
        .onMessage(LiftLockout.class, this::onLiftLockout)
        .onMessage(LockoutChecked.class, this::onLockoutChecked)
        .onMessage(LoginCounted.class, this::onLoginCounted)
        .build();
  }

  private Behavior<Command> onCheckUsername(CheckUsername command) {
    String user = command.username();
    if (!admitted(command.from())) {
      command.replyTo().tell(UsernameVerdict.RATE_LIMITED);
    } else if (owners != null) {
      checkLockout(user, null, command.replyTo());
    } else if (blocked.contains(user)) {
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
      // Too many lookups waiting, or the store is down: nobody can log in now, so say so at once
      // rather than ask for a password that cannot be checked.
      getContext()
          .getLog()
          .warn(
              "account lookup failed user={} cause={}",
              user,
              rootCause(checked.failure()).getClass().getSimpleName());
      checked.replyTo().tell(UsernameVerdict.BUSY);
      return this;
    } else if (!checked.exists()) {
      checked.replyTo().tell(UsernameVerdict.UNKNOWN_USER);
      return this;
    }
    // Blocked meanwhile by another connection's failure: say so now rather than after a password.
    checked
        .replyTo()
        .tell(blocked.contains(user) ? UsernameVerdict.BLOCKED : UsernameVerdict.PASSWORD_REQUIRED);
    return this;
  }

  private Behavior<Command> onAuthenticate(Authenticate command) {
    String user = command.username();
    if (!admitted(command.from())) {
      command.replyTo().tell(PasswordVerdict.RATE_LIMITED);
    } else if (owners != null) {
      // Not a hash for a username blocked anywhere in the cluster.
      checkLockout(user, command, null);
    } else if (blocked.contains(user)) {
      command.replyTo().tell(PasswordVerdict.BLOCKED);
    } else {
      verify(command);
    }
    return this;
  }

  private void verify(Authenticate command) {
    getContext()
        .pipeToSelf(
            credentials.verify(command.username(), command.password()),
            (verification, failure) ->
                new PasswordChecked(command.username(), verification, failure, command.replyTo()));
  }

  private void checkLockout(
      String user, Authenticate authenticate, ActorRef<UsernameVerdict> usernameReplyTo) {
    askLockout(user, 1, authenticate, usernameReplyTo);
  }

  /** Asking again is harmless: the owner only says whether the username may try. */
  private void askLockout(
      String user,
      int attempt,
      Authenticate authenticate,
      ActorRef<UsernameVerdict> usernameReplyTo) {
    getContext()
        .pipeToSelf(
            AskPattern.ask(
                owners.of(user),
                UserEntity.CheckLockout::new,
                askTimeout,
                getContext().getSystem().scheduler()),
            (status, failure) ->
                new LockoutChecked(user, attempt, status, failure, authenticate, usernameReplyTo));
  }

  private Behavior<Command> onLockoutChecked(LockoutChecked checked) {
    UserEntity.LockoutStatus status = checked.status();
    if (status == null) {
      getContext()
          .getLog()
          .warn(
              "lockout check failed user={} attempt={} cause={}",
              checked.username(),
              checked.attempt(),
              checked.failure().getClass().getSimpleName());
      if (checked.attempt() < ownerAttempts) {
        askLockout(
            checked.username(),
            checked.attempt() + 1,
            checked.authenticate(),
            checked.usernameReplyTo());
        return this;
      }
    }
    if (checked.usernameReplyTo() != null) {
      checked
          .usernameReplyTo()
          .tell(
              status == null
                  ? UsernameVerdict.BUSY
                  : !status.exists()
                      ? UsernameVerdict.UNKNOWN_USER
                      : status.blocked()
                          ? UsernameVerdict.BLOCKED
                          : UsernameVerdict.PASSWORD_REQUIRED);
      return this;
    }
    ActorRef<PasswordVerdict> replyTo = checked.authenticate().replyTo();
    if (status == null) {
      replyTo.tell(PasswordVerdict.UNAVAILABLE);
    } else if (status.blocked()) {
      replyTo.tell(PasswordVerdict.BLOCKED);
    } else {
      verify(checked.authenticate());
    }
    return this;
  }

  private Behavior<Command> onLoginCounted(LoginCounted counted) {
    if (counted.count() == null) {
      counted.replyTo().tell(PasswordVerdict.UNAVAILABLE);
      return this;
    }
    switch (counted.count()) {
      case AUTHENTICATED -> {
        metrics.loginsSucceeded.increment();
        recordRehash(counted.checked());
        counted.replyTo().tell(PasswordVerdict.AUTHENTICATED);
      }
      case INVALID_PASSWORD -> {
        metrics.loginsFailed.increment();
        counted.replyTo().tell(PasswordVerdict.INVALID_PASSWORD);
      }
      case BLOCKED_NOW -> {
        metrics.loginsFailed.increment();
        metrics.lockouts.increment();
        counted.replyTo().tell(PasswordVerdict.BLOCKED_NOW);
      }
      case BLOCKED -> counted.replyTo().tell(PasswordVerdict.BLOCKED);
    }
    return this;
  }

  private void recordRehash(PasswordChecked checked) {
    if (checked.verification().rehash() != null) {
      journal.tell(
          new Journal.Record(
              new Change.PasswordRehashed(
                  checked.username(),
                  checked.verification().storedHash(),
                  checked.verification().rehash()),
              null));
    }
  }

  private Behavior<Command> onPasswordChecked(PasswordChecked checked) {
    String user = checked.username();
    if (checked.failure() != null) {
      Throwable cause = rootCause(checked.failure());
      getContext()
          .getLog()
          .warn("password check failed user={} cause={}", user, cause.getClass().getSimpleName());
      checked
          .replyTo()
          .tell(
              cause instanceof RejectedExecutionException
                  ? PasswordVerdict.BUSY
                  : PasswordVerdict.UNAVAILABLE);
    } else if (checked.verification().verdict() == Credentials.Verdict.NO_ACCOUNT) {
      checked.replyTo().tell(PasswordVerdict.UNKNOWN_USER);
    } else if (owners != null) {
      boolean matched = checked.verification().verdict() == Credentials.Verdict.MATCH;
      getContext()
          .pipeToSelf(
              AskPattern.ask(
                  owners.of(user),
                  (ActorRef<UserEntity.LoginCount> replyTo) ->
                      new UserEntity.CountLogin(matched, replyTo),
                  askTimeout,
                  getContext().getSystem().scheduler()),
              (count, failure) -> new LoginCounted(checked, count, checked.replyTo()));
    } else if (blocked.contains(user)) {
      // Another connection's failure blocked the username while this password was being checked.
      checked.replyTo().tell(PasswordVerdict.BLOCKED);
    } else if (checked.verification().verdict() == Credentials.Verdict.MATCH) {
      if (failures.remove(user) != null) {
        record(user, 0, null);
      }
      recordRehash(checked);
      metrics.loginsSucceeded.increment();
      checked.replyTo().tell(PasswordVerdict.AUTHENTICATED);
    } else {
      checked.replyTo().tell(countFailure(user));
    }
    return this;
  }

  private PasswordVerdict countFailure(String user) {
    int count = failures.merge(user, 1, Integer::sum);
    metrics.loginsFailed.increment();
    if (count < settings.maxFailures()) {
      getContext().getLog().info("login failed user={} failures={}", user, count);
      record(user, count, null);
      return PasswordVerdict.INVALID_PASSWORD;
    }
    failures.remove(user);
    blocked.add(user);
    metrics.lockouts.increment();
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

  private Behavior<Command> onLiftLockout(LiftLockout lift) {
    String user = lift.username();
    if (owners != null) {
      owners.of(user).tell(new UserEntity.LiftLockout());
      return this;
    }
    boolean wasBlocked = blocked.remove(user);
    if (failures.remove(user) != null || wasBlocked) {
      timers.cancel(user);
      // The store lifted it already (the administrator's change did): nothing to record.
      getContext().getLog().info("login block lifted by an administrator user={}", user);
    }
    return this;
  }

  /** Whether the per-address limit lets one more login attempt from {@code address} through. */
  private boolean admitted(InetAddress address) {
    AddressBuckets buckets = settings.loginAttempts();
    if (buckets == null
        || buckets.tryTake(address, TimeUnit.MILLISECONDS.toNanos(clock.millis()))) {
      return true;
    }
    getContext().getLog().info("login attempts rate limited from={}", address.getHostAddress());
    return false;
  }

  private static Throwable rootCause(Throwable failure) {
    Throwable cause = failure;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    return cause;
  }

  private void record(String user, int failureCount, Instant blockedUntil) {
    journal.tell(
        new Journal.Record(new Change.LockoutChanged(user, failureCount, blockedUntil), null));
  }
}
