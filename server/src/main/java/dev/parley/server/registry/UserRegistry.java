package dev.parley.server.registry;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.server.broadcast.Broadcaster;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Who is online, since when, who blocks whom, and the messages kept for users who are offline. The
 * single source of truth for presence and blocks: it admits logged-in sessions, routes direct
 * messages to the recipient's outbound frame queue (or into their mailbox), answers whoelse and
 * whoelsesince, and keeps the {@link Broadcaster}'s roster up to date.
 *
 * <p>Replies to commands are the wire frames the requesting session sends back to its client: a
 * specific success frame, or {@link ServerMessage.Error} naming the command and the user. Checks
 * run in the order the behaviour contract gives: unknown user, self, blocked, then online/offline.
 */
public final class UserRegistry extends AbstractBehavior<UserRegistry.Command> {

  /** What the registry understands. */
  public sealed interface Command {}

  /** Is {@code username} logged in right now? Answered with {@link OnlineStatus}. */
  public record IsOnline(String username, ActorRef<OnlineStatus> replyTo) implements Command {}

  /** Reply to {@link IsOnline}. */
  public record OnlineStatus(String username, boolean online) {}

  /**
   * Admit an authenticated session. On success the registry writes {@code login-accepted} to the
   * session's {@code outbox}, tells the others, writes the user's kept messages in order, and
   * replies {@link Registration#REGISTERED}; the registry watches {@code session} to notice a
   * session that ends without {@link Unregister}.
   *
   * @param peerHost the address the session's connection comes from
   * @param peerPort the port on which the user's client accepts private chats
   */
  public record Register(
      String username,
      ActorRef<?> session,
      ActorRef<ServerMessage> outbox,
      String peerHost,
      int peerPort,
      ActorRef<Registration> replyTo)
      implements Command {}

  /** Reply to {@link Register}. */
  public enum Registration {
    /** Admitted: the session is now the user's. */
    REGISTERED,
    /** Another session of this user is online; nothing changed. */
    ALREADY_ONLINE
  }

  /**
   * The session of {@code username} logged out or timed out. Ignored unless it is the current one.
   */
  public record Unregister(String username, ActorRef<?> session) implements Command {}

  /** A direct message; answered with {@code message-accepted} or an error. */
  public record SendDirect(
      String from, String to, String text, String id, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** whoelse: answered with {@code online-users}. */
  public record ListOnline(String requester, ActorRef<ServerMessage> replyTo) implements Command {}

  /** whoelsesince: answered with {@code recent-users}. */
  public record ListRecent(String requester, long seconds, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** block: answered with {@code block-confirmed} or an error. */
  public record Block(String blocker, String target, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** unblock: answered with {@code unblock-confirmed} or an error. */
  public record Unblock(String blocker, String target, ActorRef<ServerMessage> replyTo)
      implements Command {}

  /** startprivate: answered with {@code peer-address} or an error. */
  public record LocatePeer(String requester, String target, ActorRef<ServerMessage> replyTo)
      implements Command {}

  private record SessionTerminated(String username, ActorRef<?> session) implements Command {}

  /** An online user: where their frames go and where their client takes private chats. */
  private record Member(
      ActorRef<?> session, ActorRef<ServerMessage> outbox, String peerHost, int peerPort) {}

  private static final String MESSAGE = "message";
  private static final String BLOCK = "block";
  private static final String UNBLOCK = "unblock";
  private static final String START_PRIVATE = "startprivate";

  /**
   * @param usernames every account that exists
   * @param mailboxCapacity messages kept for one offline user
   * @param clock the time of logins and logouts, for whoelsesince
   */
  public static Behavior<Command> create(
      Set<String> usernames,
      ActorRef<Broadcaster.Command> broadcaster,
      int mailboxCapacity,
      Clock clock) {
    return Behaviors.setup(
        context -> new UserRegistry(context, usernames, broadcaster, mailboxCapacity, clock));
  }

  private final Set<String> usernames;
  private final ActorRef<Broadcaster.Command> broadcaster;
  private final int mailboxCapacity;
  private final Clock clock;

  /** Online users in the order they logged in (whoelse lists them that way). */
  private final Map<String, Member> online = new LinkedHashMap<>();

  /** When each user who has been online since the server started last logged out. */
  private final Map<String, Instant> lastLogout = new HashMap<>();

  /** Blocker to the users they block. */
  private final Map<String, Set<String>> blocks = new HashMap<>();

  /** Messages kept for offline users, oldest first. */
  private final Map<String, ArrayDeque<ServerMessage.MessageReceived>> mailboxes = new HashMap<>();

  private UserRegistry(
      ActorContext<Command> context,
      Set<String> usernames,
      ActorRef<Broadcaster.Command> broadcaster,
      int mailboxCapacity,
      Clock clock) {
    super(context);
    this.usernames = Set.copyOf(usernames);
    this.broadcaster = broadcaster;
    this.mailboxCapacity = mailboxCapacity;
    this.clock = clock;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SendDirect.class, this::onSendDirect)
        .onMessage(IsOnline.class, this::onIsOnline)
        .onMessage(Register.class, this::onRegister)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(SessionTerminated.class, this::onSessionTerminated)
        .onMessage(ListOnline.class, this::onListOnline)
        .onMessage(ListRecent.class, this::onListRecent)
        .onMessage(Block.class, this::onBlock)
        .onMessage(Unblock.class, this::onUnblock)
        .onMessage(LocatePeer.class, this::onLocatePeer)
        .build();
  }

  private Behavior<Command> onIsOnline(IsOnline command) {
    command
        .replyTo()
        .tell(new OnlineStatus(command.username(), online.containsKey(command.username())));
    return this;
  }

  private Behavior<Command> onRegister(Register command) {
    String user = command.username();
    if (online.containsKey(user)) {
      command.replyTo().tell(Registration.ALREADY_ONLINE);
      return this;
    }
    Member member =
        new Member(command.session(), command.outbox(), command.peerHost(), command.peerPort());
    online.put(user, member);
    getContext().watchWith(command.session(), new SessionTerminated(user, command.session()));
    // The contract's order: the welcome, then the others hear of it, then the kept messages.
    member.outbox().tell(new ServerMessage.LoginAccepted(user));
    broadcaster.tell(new Broadcaster.MemberJoined(user, member.outbox(), blockList(user)));
    ArrayDeque<ServerMessage.MessageReceived> kept = mailboxes.remove(user);
    if (kept != null) {
      kept.forEach(member.outbox()::tell);
    }
    getContext().getLog().info("user logged in user={} from={}", user, command.peerHost());
    command.replyTo().tell(Registration.REGISTERED);
    return this;
  }

  private Behavior<Command> onUnregister(Unregister command) {
    return leave(command.username(), command.session());
  }

  private Behavior<Command> onSessionTerminated(SessionTerminated signal) {
    return leave(signal.username(), signal.session());
  }

  private Behavior<Command> leave(String user, ActorRef<?> session) {
    Member member = online.get(user);
    // A late notice about an earlier session must not log out the user's current one.
    if (member == null || !member.session().equals(session)) {
      return this;
    }
    online.remove(user);
    getContext().unwatch(session);
    lastLogout.put(user, clock.instant());
    broadcaster.tell(new Broadcaster.MemberLeft(user));
    getContext().getLog().info("user logged out user={}", user);
    return this;
  }

  private Behavior<Command> onSendDirect(SendDirect command) {
    String from = command.from();
    String to = command.to();
    if (!usernames.contains(to)) {
      command.replyTo().tell(new ServerMessage.Error(Code.INVALID_USER, MESSAGE, to));
    } else if (to.equals(from)) {
      command.replyTo().tell(new ServerMessage.Error(Code.SELF, MESSAGE, to));
    } else if (isBlocking(to, from)) {
      command.replyTo().tell(new ServerMessage.Error(Code.BLOCKED_BY_USER, MESSAGE, to));
    } else {
      ServerMessage.MessageReceived message =
          new ServerMessage.MessageReceived(from, command.text());
      Member recipient = online.get(to);
      if (recipient != null) {
        recipient.outbox().tell(message);
        command.replyTo().tell(new ServerMessage.MessageAccepted(command.id(), false));
      } else {
        ArrayDeque<ServerMessage.MessageReceived> mailbox =
            mailboxes.computeIfAbsent(to, user -> new ArrayDeque<>());
        if (mailbox.size() >= mailboxCapacity) {
          command.replyTo().tell(new ServerMessage.Error(Code.MAILBOX_FULL, MESSAGE, to));
        } else {
          mailbox.addLast(message);
          command.replyTo().tell(new ServerMessage.MessageAccepted(command.id(), true));
        }
      }
    }
    return this;
  }

  private Behavior<Command> onListOnline(ListOnline command) {
    List<String> others = new ArrayList<>(online.size());
    for (String user : online.keySet()) {
      if (!user.equals(command.requester())) {
        others.add(user);
      }
    }
    command.replyTo().tell(new ServerMessage.OnlineUsers(others));
    return this;
  }

  /**
   * Everyone whose time online overlaps the last {@code seconds}: online now (in login order), then
   * those who logged out within the window, most recent first.
   */
  private Behavior<Command> onListRecent(ListRecent command) {
    if (command.seconds() < 0) {
      command
          .replyTo()
          .tell(new ServerMessage.Error(Code.INVALID_ARGUMENT, "whoelsesince", "seconds"));
      return this;
    }
    Instant now = clock.instant();
    // A window reaching back before the start of time is the same as one reaching back forever.
    Instant windowStart =
        Duration.between(Instant.MIN, now).getSeconds() > command.seconds()
            ? now.minusSeconds(command.seconds())
            : Instant.MIN;
    List<String> users = new ArrayList<>();
    for (String user : online.keySet()) {
      if (!user.equals(command.requester())) {
        users.add(user);
      }
    }
    lastLogout.entrySet().stream()
        .filter(e -> !online.containsKey(e.getKey()) && !e.getKey().equals(command.requester()))
        .filter(e -> !e.getValue().isBefore(windowStart))
        .sorted(Map.Entry.<String, Instant>comparingByValue(Comparator.reverseOrder()))
        .forEach(e -> users.add(e.getKey()));
    command.replyTo().tell(new ServerMessage.RecentUsers(command.seconds(), users));
    return this;
  }

  private Behavior<Command> onBlock(Block command) {
    String target = command.target();
    Code error = checkTarget(command.blocker(), target);
    if (error == null && isBlocking(command.blocker(), target)) {
      error = Code.ALREADY_BLOCKED;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, BLOCK, target));
      return this;
    }
    blocks.computeIfAbsent(command.blocker(), user -> new HashSet<>()).add(target);
    blocksChanged(command.blocker());
    command.replyTo().tell(new ServerMessage.BlockConfirmed(target));
    return this;
  }

  private Behavior<Command> onUnblock(Unblock command) {
    String target = command.target();
    Code error = checkTarget(command.blocker(), target);
    if (error == null && !isBlocking(command.blocker(), target)) {
      error = Code.NOT_BLOCKED;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, UNBLOCK, target));
      return this;
    }
    Set<String> blocked = blocks.get(command.blocker());
    blocked.remove(target);
    if (blocked.isEmpty()) {
      blocks.remove(command.blocker());
    }
    blocksChanged(command.blocker());
    command.replyTo().tell(new ServerMessage.UnblockConfirmed(target));
    return this;
  }

  private Behavior<Command> onLocatePeer(LocatePeer command) {
    String target = command.target();
    Code error = checkTarget(command.requester(), target);
    Member peer = online.get(target);
    if (error == null && isBlocking(target, command.requester())) {
      error = Code.BLOCKED_BY_USER;
    } else if (error == null && peer == null) {
      error = Code.USER_OFFLINE;
    }
    if (error != null) {
      command.replyTo().tell(new ServerMessage.Error(error, START_PRIVATE, target));
    } else {
      command
          .replyTo()
          .tell(new ServerMessage.PeerAddress(target, peer.peerHost(), peer.peerPort()));
    }
    return this;
  }

  /** The first two checks every command about another user makes: it exists, and it isn't you. */
  private Code checkTarget(String requester, String target) {
    if (!usernames.contains(target)) {
      return Code.INVALID_USER;
    }
    return target.equals(requester) ? Code.SELF : null;
  }

  private boolean isBlocking(String blocker, String target) {
    Set<String> blocked = blocks.get(blocker);
    return blocked != null && blocked.contains(target);
  }

  private Set<String> blockList(String user) {
    Set<String> blocked = blocks.get(user);
    return blocked == null ? Set.of() : Set.copyOf(blocked);
  }

  private void blocksChanged(String user) {
    if (online.containsKey(user)) {
      broadcaster.tell(new Broadcaster.BlocksChanged(user, blockList(user)));
    }
  }
}
