package dev.parley.client.chat;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.stream.javadsl.Tcp;
import dev.parley.client.ClientSettings;
import dev.parley.client.console.Console;
import dev.parley.client.net.Connections;
import dev.parley.client.text.Texts;
import dev.parley.client.tls.Security;
import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.ServerMessage;
import dev.parley.transport.Fingerprint;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Keeps this user's private chats: one {@link PrivateChat} child per peer, whichever side opened
 * it, so that there is at most one chat per peer.
 *
 * <p>Protocol: inactive until {@link LoggedIn} (connections that arrive earlier are closed). Then
 * {@link Start} asks the server, through the {@link ServerRequest} ref given at login, for the
 * peer's address ({@link RequestPeerAddress}); the answer comes back as {@link PeerAddressReceived}
 * (a chat is spawned to connect over TLS, pinned to the fingerprint that comes with the address; an
 * address without one, from an older server or peer, is refused with a line for the user rather
 * than reached without TLS) or {@link PeerAddressRefused} (the server already showed why). {@link
 * SendPrivate} and {@link StopPrivate} go to the peer's chat; {@link AcceptConnection} spawns a
 * chat for a connection the listener accepted, which is allowed to go on only if its hello proves
 * who it claims to be and no chat with that peer is open or being opened.
 *
 * <p>Authentication. Against a server of protocol 3 or later ({@link LoggedIn} says which), whoever
 * runs startprivate with this user is given a one-time token by the server, and this client is told
 * of it over its own server connection ({@link Invited}). An accepted connection goes on only if
 * its hello presents a token this client was invited with for the user it claims to be, unexpired
 * and unused; the token is used up by it. The invitation may come a moment after the hello (it
 * travels through the server, the hello directly), so a hello with an unknown token waits for it,
 * as long as the chat's handshake timeout lets it. Any other connection (no token, a wrong, used or
 * expired one, another user's) is closed without a frame and without a line for the user, only a
 * warning in the log: an impostor learns nothing, and the user is not bothered. Invitations are
 * kept up to a bound, the oldest forgotten first. Against an older server, which issues no tokens,
 * a hello is taken at its word, as before. The hello comes over TLS ({@link PrivateChat}), so no
 * one on the network path sees the token, and a connection that does not complete a TLS handshake
 * never gets as far as a hello.
 *
 * <p>A request handled without the server (an error shown locally) sends {@link ReportActivity},
 * since the server's idle timer only sees what it receives. A chat whose connection has ended is
 * taken out of the routing before it is released ({@link PrivateChat.Release}), so a text typed
 * meanwhile is reported, not lost. {@link CloseAll} stops every chat with the given reason and
 * answers {@link AllClosed} once all have stopped, or after the close timeout; after it, the actor
 * only refuses.
 */
public final class PrivateChats {

  /** Everything the private chats do. */
  public sealed interface Command {}

  /**
   * The user logged in as {@code me} (again, after a reconnection) on a server that speaks protocol
   * {@code serverVersion} (0 if it did not say); requests for the server go to {@code server}.
   * {@code security} is the identity whose fingerprint the login gave the server, which the chats
   * present to peers over TLS (it is made by the time of the first login, not before: see {@link
   * dev.parley.client.tls.LazySecurity}).
   */
  public record LoggedIn(
      String me, ActorRef<ServerRequest> server, int serverVersion, Security security)
      implements Command {}

  /** {@code startprivate user}. */
  public record Start(String user) implements Command {}

  /**
   * The server's answer to {@link RequestPeerAddress} for {@code user}: where that user accepts
   * chats, the fingerprint of its listener's certificate (null if none) and the one-time token to
   * present to it (null from a server that issues none). The frame's own {@code toString} keeps the
   * token out of log lines.
   */
  public record PeerAddressReceived(String user, ServerMessage.PeerAddress address)
      implements Command {}

  /**
   * The server says {@code user} asked for this client's address (startprivate): a connection
   * claiming to be {@code user} and presenting {@code token} may be accepted, once, within {@code
   * expiresIn}.
   */
  public record Invited(String user, String token, Duration expiresIn) implements Command {

    /** Never let the token reach a log line. */
    @Override
    public String toString() {
      return "Invited[user=" + user + ", token=<hidden>, expiresIn=" + expiresIn + "]";
    }
  }

  /** The server refused {@link RequestPeerAddress} for {@code user} (and the user was told). */
  public record PeerAddressRefused(String user) implements Command {}

  /** {@code private user text}. */
  public record SendPrivate(String user, String text) implements Command {}

  /** {@code stopprivate user}. */
  public record StopPrivate(String user) implements Command {}

  /** A peer connected to this client's listener. */
  public record AcceptConnection(Tcp.IncomingConnection connection) implements Command {}

  /** Close every chat, telling each peer {@code reason}; answers {@link AllClosed}. */
  public record CloseAll(Bye.Reason reason, ActorRef<AllClosed> replyTo) implements Command {}

  /** Every chat has stopped (or the close timeout passed). */
  public enum AllClosed {
    INSTANCE
  }

  /** What the private chats need the server connection to send for them. */
  public sealed interface ServerRequest {}

  /** Send {@code StartPrivate(user)}; the reply is expected as {@link PeerAddressReceived}. */
  public record RequestPeerAddress(String user) implements ServerRequest {}

  /** Send {@code NoteActivity}: the user did something the server does not see. */
  public enum ReportActivity implements ServerRequest {
    INSTANCE
  }

  private record ChatIdentified(PrivateChat.Identified identified) implements Command {}

  private record ChatEnded(PrivateChat.Ended ended) implements Command {}

  private record ChatStopped(ActorRef<PrivateChat.Command> chat) implements Command {}

  private enum CloseTimedOut implements Command {
    INSTANCE
  }

  /** The invitation with this number has expired. Also the key of its timer. */
  private record InvitationExpired(long id) implements Command {}

  /** A token this client may accept from {@code user}, numbered in the order it came. */
  private record Invitation(long id, String user, String token) {

    /** Never let the token reach a log line. */
    @Override
    public String toString() {
      return "Invitation[id=" + id + ", user=" + user + ", token=<hidden>]";
    }
  }

  /** What an accepted connection presented in its hello. */
  private record Presented(String user, String token) {

    /** Never let the token reach a log line. */
    @Override
    public String toString() {
      return "Presented[user=" + user + ", token=<hidden>]";
    }
  }

  /**
   * The first protocol version whose servers issue private-chat tokens: from it on, a hello without
   * a token the server announced is refused.
   */
  static final int TOKENS_VERSION = 3;

  /**
   * The longest an invitation is kept, whatever the server says: far beyond any sensible token
   * lifetime, and well within what the scheduler takes (an absurd value must not stop the actor).
   */
  private static final Duration LONGEST_INVITATION = Duration.ofDays(1);

  /** Private chats that wait for the login, which brings the identity they present. */
  public static Behavior<Command> create(
      ClientSettings settings, ActorRef<Console.Command> console) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new PrivateChats(context, timers, settings, console).inactive()));
  }

  private final ActorContext<Command> context;
  private final TimerScheduler<Command> timers;
  private final ClientSettings settings;
  private final ActorRef<Console.Command> console;

  /** The identity of the last login; null until the first. */
  private Security security;

  private final ActorRef<PrivateChat.Notification> chatAdapter;

  /** Chats whose peer is known (opened by us, or accepted and identified), by peer name. */
  private final Map<String, ActorRef<PrivateChat.Command>> chats = new HashMap<>();

  /** Peers whose address was asked of the server and has not come back yet. */
  private final Set<String> opening = new HashSet<>();

  /** Every running child, including accepted connections not yet identified. */
  private final Set<ActorRef<PrivateChat.Command>> children = new HashSet<>();

  /** Tokens this client was invited with and has not seen used yet, oldest first, by number. */
  private final LinkedHashMap<Long, Invitation> invitations = new LinkedHashMap<>();

  /**
   * Accepted connections whose hello came with a token no invitation has matched yet, in the order
   * they said hello: the first to present a token is the one its invitation lets in.
   */
  private final Map<ActorRef<PrivateChat.Command>, Presented> awaitingInvitation =
      new LinkedHashMap<>();

  private long spawned;
  private long invitationsReceived;

  private PrivateChats(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      ClientSettings settings,
      ActorRef<Console.Command> console) {
    this.context = context;
    this.timers = timers;
    this.settings = settings;
    this.console = console;
    this.chatAdapter = context.messageAdapter(PrivateChat.Notification.class, PrivateChats::adapt);
  }

  private static Command adapt(PrivateChat.Notification notification) {
    return notification instanceof PrivateChat.Identified identified
        ? new ChatIdentified(identified)
        : new ChatEnded((PrivateChat.Ended) notification);
  }

  // Phase: not logged in yet.

  private Behavior<Command> inactive() {
    return Behaviors.receive(Command.class)
        .onMessage(LoggedIn.class, this::onLoggedIn)
        .onMessage(AcceptConnection.class, this::refuse)
        .onMessage(CloseAll.class, this::onCloseAll)
        .onAnyMessage(this::ignore)
        .build();
  }

  private Behavior<Command> onLoggedIn(LoggedIn loggedIn) {
    security = loggedIn.security();
    boolean tokensRequired = loggedIn.serverVersion() >= TOKENS_VERSION;
    context
        .getLog()
        .info(
            "Logged in on a protocol {} server: private chats {}",
            loggedIn.serverVersion(),
            tokensRequired
                ? "only with a token the server announced"
                : "taken at their word (the server issues no tokens)");
    return active(loggedIn.me(), loggedIn.server(), tokensRequired);
  }

  // Phase: logged in.

  private Behavior<Command> active(
      String me, ActorRef<ServerRequest> server, boolean tokensRequired) {
    return Behaviors.receive(Command.class)
        .onMessage(Start.class, start -> onStart(start, server))
        .onMessage(PeerAddressReceived.class, address -> onPeerAddressReceived(address, me))
        .onMessage(PeerAddressRefused.class, this::onPeerAddressRefused)
        .onMessage(SendPrivate.class, this::onSendPrivate)
        .onMessage(StopPrivate.class, this::onStopPrivate)
        .onMessage(AcceptConnection.class, accept -> onAcceptConnection(accept, me))
        .onMessage(Invited.class, this::onInvited)
        .onMessage(InvitationExpired.class, this::onInvitationExpired)
        .onMessage(ChatIdentified.class, identified -> onChatIdentified(identified, tokensRequired))
        .onMessage(ChatEnded.class, this::onChatEnded)
        // After a reconnection: the server may speak another version now.
        .onMessage(LoggedIn.class, this::onLoggedIn)
        .onMessage(ChatStopped.class, this::onChatStopped)
        .onMessage(CloseAll.class, this::onCloseAll)
        .onAnyMessage(this::ignore)
        .build();
  }

  private Behavior<Command> onStart(Start start, ActorRef<ServerRequest> server) {
    String user = start.user();
    if (chats.containsKey(user) || opening.contains(user)) {
      print(Texts.privateAlreadyEnabled(user));
      server.tell(ReportActivity.INSTANCE);
    } else {
      opening.add(user);
      server.tell(new RequestPeerAddress(user));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onPeerAddressReceived(PeerAddressReceived received, String me) {
    String user = received.user();
    ServerMessage.PeerAddress address = received.address();
    if (!opening.remove(user)) {
      // stopprivate came first: the user no longer wants this chat.
      context.getLog().debug("Not connecting to {}: no longer wanted", user);
      return Behaviors.same();
    }
    Optional<Fingerprint> pin = pinOf(user, address);
    if (pin.isEmpty()) {
      print(Texts.privateUnverifiable(user));
      return Behaviors.same();
    }
    PrivateChat.Contact contact =
        new PrivateChat.Contact(user, address.host(), address.port(), pin.get(), address.token());
    chats.put(
        user, spawn(PrivateChat.connect(settings, console, security, me, contact, chatAdapter)));
    return Behaviors.same();
  }

  /**
   * The certificate the peer's listener must present; empty if the server gave none (an older
   * server, or a peer client that does not speak TLS) or none that reads as a fingerprint.
   */
  private Optional<Fingerprint> pinOf(String user, ServerMessage.PeerAddress address) {
    if (address.fingerprint() == null) {
      context
          .getLog()
          .info(
              "Not connecting to {}: the server gave no certificate fingerprint to verify it by",
              user);
      return Optional.empty();
    }
    try {
      return Optional.of(Fingerprint.parse(address.fingerprint()));
    } catch (IllegalArgumentException malformed) {
      context
          .getLog()
          .warn(
              "Not connecting to {}: the server gave an unreadable certificate fingerprint", user);
      return Optional.empty();
    }
  }

  private Behavior<Command> onPeerAddressRefused(PeerAddressRefused refused) {
    opening.remove(refused.user());
    return Behaviors.same();
  }

  private Behavior<Command> onSendPrivate(SendPrivate send) {
    ActorRef<PrivateChat.Command> chat = chats.get(send.user());
    if (chat == null) {
      print(Texts.privateNotEnabled(send.user()));
    } else {
      chat.tell(new PrivateChat.Send(send.text()));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onStopPrivate(StopPrivate stop) {
    String user = stop.user();
    ActorRef<PrivateChat.Command> chat = chats.remove(user);
    if (chat != null) {
      chat.tell(new PrivateChat.Stop(Bye.Reason.STOPPED));
    } else if (opening.remove(user)) {
      print(Texts.privateStopped(user));
    } else {
      print(Texts.privateNotEnabled(user));
    }
    return Behaviors.same();
  }

  private Behavior<Command> onAcceptConnection(AcceptConnection accept, String me) {
    spawn(PrivateChat.accept(settings, console, security, me, accept.connection(), chatAdapter));
    return Behaviors.same();
  }

  private Behavior<Command> onChatIdentified(ChatIdentified identified, boolean tokensRequired) {
    String user = identified.identified().user();
    String token = identified.identified().token();
    ActorRef<PrivateChat.Command> chat = identified.identified().chat();
    if (!children.contains(chat)) {
      return Behaviors.same();
    }
    if (!tokensRequired) {
      admit(user, chat);
    } else if (token == null) {
      drop(chat, user, "its hello has no token");
    } else if (useInvitation(user, token)) {
      admit(user, chat);
    } else {
      // Perhaps the invitation is still on its way through the server; the chat's handshake
      // timeout bounds the wait.
      context.getLog().debug("Private chat connection as {} waits for its invitation", user);
      awaitingInvitation.put(chat, new Presented(user, token));
    }
    return Behaviors.same();
  }

  /** Lets a connection that proved who it is go on, unless a chat with that peer exists. */
  private void admit(String user, ActorRef<PrivateChat.Command> chat) {
    if (chats.containsKey(user) || opening.contains(user)) {
      context.getLog().info("Rejecting a second private chat with {}", user);
      chat.tell(PrivateChat.Reject.INSTANCE);
    } else {
      chats.put(user, chat);
      chat.tell(PrivateChat.Accept.INSTANCE);
    }
  }

  /** Closes a connection without a word to its peer or the user. */
  private void drop(ActorRef<PrivateChat.Command> chat, String user, String why) {
    context.getLog().warn("Refused a private chat connection claiming to be {}: {}", user, why);
    chat.tell(PrivateChat.Drop.INSTANCE);
  }

  /** Uses up the invitation of {@code user} with {@code token}, if there is one. */
  private boolean useInvitation(String user, String token) {
    Iterator<Invitation> kept = invitations.values().iterator();
    while (kept.hasNext()) {
      Invitation invitation = kept.next();
      if (invitation.user().equals(user) && sameToken(invitation.token(), token)) {
        kept.remove();
        timers.cancel(new InvitationExpired(invitation.id()));
        return true;
      }
    }
    return false;
  }

  private Behavior<Command> onInvited(Invited invited) {
    List<ActorRef<PrivateChat.Command>> presenting =
        awaitingInvitation.entrySet().stream()
            .filter(entry -> matches(entry.getValue(), invited))
            .map(Map.Entry::getKey)
            .toList();
    if (!presenting.isEmpty()) {
      // The hello came first: the invitation is used up at once, by the first to present it.
      presenting.forEach(awaitingInvitation::remove);
      admit(invited.user(), presenting.get(0));
      presenting
          .subList(1, presenting.size())
          .forEach(chat -> drop(chat, invited.user(), "its token was used already"));
      return Behaviors.same();
    }
    List<Invitation> fromInviter =
        invitations.values().stream().filter(kept -> kept.user().equals(invited.user())).toList();
    if (fromInviter.size() >= settings.maxPrivateChatInvitationsPerUser()) {
      forget(fromInviter.get(0), settings.maxPrivateChatInvitationsPerUser() + " from one user");
    } else if (invitations.size() >= settings.maxPrivateChatInvitations()) {
      forget(invitations.values().iterator().next(), settings.maxPrivateChatInvitations() + "");
    }
    long id = ++invitationsReceived;
    invitations.put(id, new Invitation(id, invited.user(), invited.token()));
    Duration expiresIn =
        invited.expiresIn().compareTo(LONGEST_INVITATION) > 0
            ? LONGEST_INVITATION
            : invited.expiresIn();
    timers.startSingleTimer(new InvitationExpired(id), expiresIn);
    return Behaviors.same();
  }

  /** Drops a kept invitation to make room for a new one; {@code limit} says which limit. */
  private void forget(Invitation invitation, String limit) {
    invitations.remove(invitation.id());
    timers.cancel(new InvitationExpired(invitation.id()));
    context
        .getLog()
        .warn(
            "Forgot the invitation of {} to make room: {} kept at most", invitation.user(), limit);
  }

  private static boolean matches(Presented presented, Invited invited) {
    return presented.user().equals(invited.user()) && sameToken(presented.token(), invited.token());
  }

  /** Compared in constant time, so that how long a refusal takes tells nothing of the token. */
  private static boolean sameToken(String kept, String presented) {
    return MessageDigest.isEqual(
        kept.getBytes(StandardCharsets.UTF_8), presented.getBytes(StandardCharsets.UTF_8));
  }

  private Behavior<Command> onInvitationExpired(InvitationExpired expired) {
    Invitation invitation = invitations.remove(expired.id());
    if (invitation != null) {
      context.getLog().debug("The invitation of {} expired unused", invitation.user());
    }
    return Behaviors.same();
  }

  private Behavior<Command> onChatEnded(ChatEnded notice) {
    // From here on texts for that peer are "not enabled"; the ones already sent are answered
    // by the chat before it sees the release. Only now is the user told the chat ended.
    ActorRef<PrivateChat.Command> chat = notice.ended().chat();
    Presented presented = awaitingInvitation.remove(chat);
    if (presented != null) {
      context
          .getLog()
          .warn(
              "Refused a private chat connection claiming to be {}: no invitation came for its"
                  + " token before it ended",
              presented.user());
    }
    chats.values().remove(chat);
    notice.ended().farewell().forEach(this::print);
    chat.tell(PrivateChat.Release.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> onChatStopped(ChatStopped stopped) {
    children.remove(stopped.chat());
    chats.values().remove(stopped.chat());
    awaitingInvitation.remove(stopped.chat());
    return Behaviors.same();
  }

  private Behavior<Command> onCloseAll(CloseAll close) {
    chats.clear();
    opening.clear();
    timers.cancelAll();
    invitations.clear();
    if (children.isEmpty()) {
      close.replyTo().tell(AllClosed.INSTANCE);
      return closed();
    }
    // A connection that has not proved who it is is owed no goodbye.
    children.forEach(
        chat ->
            chat.tell(
                awaitingInvitation.containsKey(chat)
                    ? PrivateChat.Drop.INSTANCE
                    : new PrivateChat.Stop(close.reason())));
    awaitingInvitation.clear();
    timers.startSingleTimer(CloseTimedOut.INSTANCE, settings.closeTimeout());
    return closing(close.replyTo());
  }

  // Phase: waiting for the chats to stop.

  private Behavior<Command> closing(ActorRef<AllClosed> replyTo) {
    return Behaviors.receive(Command.class)
        .onMessage(ChatStopped.class, stopped -> onChatStoppedWhileClosing(stopped, replyTo))
        .onMessageEquals(CloseTimedOut.INSTANCE, () -> onCloseTimedOut(replyTo))
        .onMessage(AcceptConnection.class, this::refuse)
        .onMessage(ChatIdentified.class, this::rejectLate)
        .onMessage(ChatEnded.class, this::onChatEnded)
        .onMessage(SendPrivate.class, this::refuseSend)
        .onAnyMessage(this::ignore)
        .build();
  }

  private Behavior<Command> onChatStoppedWhileClosing(
      ChatStopped stopped, ActorRef<AllClosed> replyTo) {
    children.remove(stopped.chat());
    if (!children.isEmpty()) {
      return Behaviors.same();
    }
    timers.cancel(CloseTimedOut.INSTANCE);
    replyTo.tell(AllClosed.INSTANCE);
    return closed();
  }

  private Behavior<Command> onCloseTimedOut(ActorRef<AllClosed> replyTo) {
    context.getLog().warn("{} private chats did not close in time", children.size());
    replyTo.tell(AllClosed.INSTANCE);
    return closed();
  }

  // Phase: closed for good.

  private Behavior<Command> closed() {
    return Behaviors.receive(Command.class)
        .onMessage(AcceptConnection.class, this::refuse)
        .onMessage(ChatIdentified.class, this::rejectLate)
        .onMessage(ChatEnded.class, this::onChatEnded)
        .onMessage(CloseAll.class, this::onCloseAllAgain)
        .onMessage(SendPrivate.class, this::refuseSend)
        .onAnyMessage(this::ignore)
        .build();
  }

  private Behavior<Command> onCloseAllAgain(CloseAll close) {
    close.replyTo().tell(AllClosed.INSTANCE);
    return Behaviors.same();
  }

  // Shared

  private ActorRef<PrivateChat.Command> spawn(Behavior<PrivateChat.Command> chat) {
    // Peer names are not valid actor names in general; a counter is.
    ActorRef<PrivateChat.Command> child = context.spawn(chat, "private-chat-" + ++spawned);
    context.watchWith(child, new ChatStopped(child));
    children.add(child);
    return child;
  }

  private Behavior<Command> refuse(AcceptConnection accept) {
    context.getLog().debug("Refusing a private chat from {}", accept.connection().remoteAddress());
    Connections.refuse(accept.connection(), context.getSystem());
    return Behaviors.same();
  }

  private Behavior<Command> rejectLate(ChatIdentified identified) {
    // Its token can no longer be checked, nor is there a chat to have: no word owed.
    identified.identified().chat().tell(PrivateChat.Drop.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> refuseSend(SendPrivate send) {
    print(Texts.privateNotEnabled(send.user()));
    return Behaviors.same();
  }

  private Behavior<Command> ignore(Command command) {
    context.getLog().debug("Ignoring {}", command);
    return Behaviors.same();
  }

  private void print(String line) {
    console.tell(new Console.Print(line));
  }
}
