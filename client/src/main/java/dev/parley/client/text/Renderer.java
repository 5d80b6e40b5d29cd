package dev.parley.client.text;

import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.BlockConfirmed;
import dev.parley.protocol.ServerMessage.BroadcastReceived;
import dev.parley.protocol.ServerMessage.BroadcastSent;
import dev.parley.protocol.ServerMessage.Error;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.ServerMessage.MessageReceived;
import dev.parley.protocol.ServerMessage.OnlineUsers;
import dev.parley.protocol.ServerMessage.RecentUsers;
import dev.parley.protocol.ServerMessage.UnblockConfirmed;
import dev.parley.protocol.ServerMessage.UserLoggedIn;
import dev.parley.protocol.ServerMessage.UserLoggedOut;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a frame from the server into the lines the user sees, each printed on its own. Frames that
 * only confirm something already visible (an accepted message, noted activity) and the login
 * dialogue's frames, which the session handles itself, render as nothing.
 */
public final class Renderer {

  private Renderer() {}

  /** The lines for one server frame, possibly none. */
  public static List<String> render(ServerMessage frame) {
    if (frame instanceof MessageReceived m) {
      return List.of(Texts.received(m.from(), m.text()));
    } else if (frame instanceof BroadcastReceived b) {
      return List.of(Texts.received(b.from(), b.text()));
    } else if (frame instanceof BroadcastSent b) {
      return b.complete() ? List.of() : List.of(Texts.BROADCAST_INCOMPLETE);
    } else if (frame instanceof UserLoggedIn u) {
      return List.of(Texts.loggedIn(u.user()));
    } else if (frame instanceof UserLoggedOut u) {
      return List.of(Texts.loggedOut(u.user()));
    } else if (frame instanceof OnlineUsers o) {
      return users(o.users(), o.omitted(), Texts.NO_ONE_ONLINE);
    } else if (frame instanceof RecentUsers r) {
      return users(r.users(), r.omitted(), Texts.noneRecently(r.seconds()));
    } else if (frame instanceof BlockConfirmed b) {
      return List.of(Texts.blocked(b.user()));
    } else if (frame instanceof UnblockConfirmed u) {
      return List.of(Texts.unblocked(u.user()));
    } else if (frame instanceof Error e) {
      return List.of(error(e));
    } else if (frame instanceof Goodbye g) {
      return List.of(Texts.goodbye(g.reason()));
    }
    return List.of();
  }

  /** The line for an error reply; {@code command} picks the wording where the code is shared. */
  public static String error(Error error) {
    String command = error.command() == null ? "" : error.command();
    String subject = error.subject();
    return switch (error.code()) {
      case INVALID_USER -> Texts.INVALID_USER;
      case SELF -> Texts.cannotTargetSelf(command);
      case BLOCKED_BY_USER ->
          "startprivate".equals(command) ? Texts.privateBlocked(subject) : Texts.MESSAGE_BLOCKED;
      case ALREADY_BLOCKED -> Texts.alreadyBlocked(subject);
      case NOT_BLOCKED -> Texts.notBlocked(subject);
      case USER_OFFLINE -> Texts.offline(subject);
      case PRIVATE_UNSUPPORTED -> Texts.privateUnsupported(subject);
      case MAILBOX_FULL -> Texts.mailboxFull(subject);
      // The protocol has it for messages only; other durable commands may get it one day.
      case UNAVAILABLE ->
          "message".equals(command) ? Texts.notStoredYet(subject) : Texts.SERVER_UNAVAILABLE;
      case INVALID_ARGUMENT -> Texts.invalidArgument(subject);
      case INVALID_TEXT -> Texts.invalidText(subject);
      case RATE_LIMITED -> Texts.rateLimited(command);
      // An unexpected frame has no subject; its type is the command.
      case MALFORMED_FRAME, UNKNOWN_FRAME, UNEXPECTED_FRAME ->
          Texts.notUnderstood(subject != null ? subject : command);
    };
  }

  /**
   * The names, one per line, or {@code none} for an empty list; a capped list ({@code omitted} is
   * present) ends with a line saying how many more there are.
   */
  private static List<String> users(List<String> names, Integer omitted, String none) {
    if (omitted == null) {
      return names.isEmpty() ? List.of(none) : cleaned(names);
    }
    List<String> lines = new ArrayList<>(cleaned(names));
    lines.add(Texts.moreUsers(omitted));
    return List.copyOf(lines);
  }

  private static List<String> cleaned(List<String> names) {
    return names.stream().map(Texts::clean).toList();
  }
}
