package dev.parley.server.broadcast;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import dev.parley.protocol.ServerMessage;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Fans broadcasts and presence notices out to the online users, honouring blocks in both
 * directions: a broadcast skips the users who blocked its sender, and a login or logout notice
 * skips the users whom the subject has blocked.
 *
 * <p>It keeps a roster of the online users and their block lists, maintained by the {@code
 * UserRegistry} (the source of truth) through {@link MemberJoined}, {@link BlocksChanged} and
 * {@link MemberLeft}. Because those arrive from a single sender, the roster sees them in the order
 * the registry decided them; sessions send {@link Broadcast} directly, so a broadcast costs no
 * round trip through the registry.
 */
public final class Broadcaster extends AbstractBehavior<Broadcaster.Command> {

  /** What the broadcaster understands. */
  public sealed interface Command {}

  /** {@code user} logged in; {@code blocked} are the users they block. Others are told. */
  public record MemberJoined(String user, ActorRef<ServerMessage> outbox, Set<String> blocked)
      implements Command {
    public MemberJoined {
      blocked = Set.copyOf(blocked);
    }
  }

  /** {@code user} now blocks exactly {@code blocked}. */
  public record BlocksChanged(String user, Set<String> blocked) implements Command {
    public BlocksChanged {
      blocked = Set.copyOf(blocked);
    }
  }

  /** {@code user} logged out, timed out or lost their connection. Others are told. */
  public record MemberLeft(String user) implements Command {}

  /** Send {@code text} to every other online user who has not blocked {@code from}. */
  public record Broadcast(String from, String text, ActorRef<ServerMessage> replyTo)
      implements Command {}

  private record Member(ActorRef<ServerMessage> outbox, Set<String> blocked) {}

  public static Behavior<Command> create() {
    return Behaviors.setup(Broadcaster::new);
  }

  /** Online users in login order, so notices go out in a stable order. */
  private final Map<String, Member> roster = new LinkedHashMap<>();

  private Broadcaster(ActorContext<Command> context) {
    super(context);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Broadcast.class, this::onBroadcast)
        .onMessage(MemberJoined.class, this::onMemberJoined)
        .onMessage(MemberLeft.class, this::onMemberLeft)
        .onMessage(BlocksChanged.class, this::onBlocksChanged)
        .build();
  }

  private Behavior<Command> onBroadcast(Broadcast command) {
    ServerMessage.BroadcastReceived message =
        new ServerMessage.BroadcastReceived(command.from(), command.text());
    boolean complete = true;
    for (Map.Entry<String, Member> entry : roster.entrySet()) {
      if (entry.getKey().equals(command.from())) {
        continue;
      }
      Member member = entry.getValue();
      if (member.blocked().contains(command.from())) {
        complete = false;
      } else {
        member.outbox().tell(message);
      }
    }
    command.replyTo().tell(new ServerMessage.BroadcastSent(complete));
    return this;
  }

  private Behavior<Command> onMemberJoined(MemberJoined event) {
    announce(event.user(), event.blocked(), new ServerMessage.UserLoggedIn(event.user()));
    roster.put(event.user(), new Member(event.outbox(), event.blocked()));
    return this;
  }

  private Behavior<Command> onMemberLeft(MemberLeft event) {
    Member member = roster.remove(event.user());
    if (member != null) {
      announce(event.user(), member.blocked(), new ServerMessage.UserLoggedOut(event.user()));
    }
    return this;
  }

  private Behavior<Command> onBlocksChanged(BlocksChanged event) {
    roster.computeIfPresent(
        event.user(), (user, member) -> new Member(member.outbox(), event.blocked()));
    return this;
  }

  /** Tells every other member about {@code subject}, except those {@code subject} blocks. */
  private void announce(String subject, Set<String> blockedBySubject, ServerMessage notice) {
    roster.forEach(
        (user, member) -> {
          if (!user.equals(subject) && !blockedBySubject.contains(user)) {
            member.outbox().tell(notice);
          }
        });
  }
}
