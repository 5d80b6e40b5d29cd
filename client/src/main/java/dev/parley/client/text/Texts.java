package dev.parley.client.text;

import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.ServerMessage.LoginFailed;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Every line the client shows the user, in one place so that the wording scripts look for cannot
 * drift: docs/client.md quotes each of them, and ClientDocTest fails when a line here changes
 * without the document. Names and texts that came over the network are passed through {@link
 * #clean(String)} by the methods that take them, so a remote party cannot break the one line per
 * event layout or send terminal escapes.
 */
public final class Texts {

  public static final String USERNAME_PROMPT = "Username: ";
  public static final String PASSWORD_PROMPT = "Password: ";

  public static final String WELCOME = "Welcome to the greatest messaging application ever!";
  public static final String INVALID_PASSWORD = "Invalid Password. Please try again";
  public static final String LOGIN_RATE_LIMITED =
      "Error. Too many login attempts from this address. Please wait a moment and try again";
  public static final String INVALID_COMMAND = "Error. Invalid command";
  public static final String INVALID_TIME =
      "Error. Time must be a whole number of seconds, 0 or more";
  public static final String INVALID_USER = "Error. Invalid user";
  public static final String BROADCAST_INCOMPLETE =
      "Your message could not be delivered to some recipients";
  public static final String MESSAGE_BLOCKED =
      "Your message could not be delivered as the recipient has blocked you";
  public static final String NO_ONE_ONLINE = "No other users are online";
  public static final String CONNECTION_LOST = "Error. Lost connection to the server";
  public static final String RECONNECTING = "Lost connection to the server; reconnecting...";
  public static final String RECONNECTED = "Reconnected to the server";
  public static final String SERVER_UNAVAILABLE =
      "Error. The server could not do that right now. Please try again later";
  public static final String NOT_CONNECTED =
      "Error. Not connected to the server; try again once reconnected";
  public static final String MESSAGE_QUEUED =
      "Not connected: your message will be sent once the connection is back";

  /**
   * The server refused a direct message for its rate all the same (the client paces itself to the
   * rate the server announces): it and those after it go as the server allows. Once per episode.
   */
  public static final String SLOWED_DOWN =
      "The server asked to slow down; your messages will be sent as it allows";

  private static final String TOO_FAST = "Error. You are sending commands too fast; ";
  private static final String SLOW_DOWN = ". Please slow down and try again";

  /** One command as {@code help} explains it: its syntax and what it does. */
  private record CommandHelp(String syntax, String summary, String details) {
    String line() {
      return String.format("  %-27s %s", syntax, summary);
    }
  }

  /** Every command, in the order {@code help} lists them, by name. */
  private static final Map<String, CommandHelp> COMMAND_HELP = commandHelp();

  private static Map<String, CommandHelp> commandHelp() {
    Map<String, CommandHelp> help = new LinkedHashMap<>();
    help.put(
        "message",
        new CommandHelp(
            "message <user> <message>",
            "send a message to a user (kept if they are offline)",
            "The server keeps it for a user who is offline and delivers it at their next login."));
    help.put(
        "broadcast",
        new CommandHelp(
            "broadcast <message>",
            "send a message to everyone online",
            "Users who blocked you do not get it; you are told when someone was left out."));
    help.put(
        "whoelse",
        new CommandHelp(
            "whoelse", "list the other users online", "One name a line; Tab completes them."));
    help.put(
        "whoelsesince",
        new CommandHelp(
            "whoelsesince <time>",
            "list the other users online in the last <time> seconds",
            "<time> is a whole number of seconds, 0 or more."));
    help.put(
        "block",
        new CommandHelp(
            "block <user>",
            "stop receiving anything from a user",
            "They cannot message you, see your broadcasts or start a private chat with you."));
    help.put(
        "unblock", new CommandHelp("unblock <user>", "undo block", "They can reach you again."));
    help.put(
        "startprivate",
        new CommandHelp(
            "startprivate <user>",
            "open a direct private chat with a user",
            "The chat goes straight to their client, encrypted; the server only introduces you."));
    help.put(
        "private",
        new CommandHelp(
            "private <user> <message>",
            "send a private message over that chat",
            "Needs a chat opened with startprivate (by either of you)."));
    help.put(
        "stopprivate",
        new CommandHelp(
            "stopprivate <user>",
            "close the private chat with a user",
            "Either of you can open it again with startprivate."));
    help.put(
        "logout",
        new CommandHelp(
            "logout",
            "log out and exit",
            "Messages still on their way are sent first. Ctrl-D does the same."));
    help.put(
        "help",
        new CommandHelp(
            "help [<command>]",
            "show this list, or explain one command",
            "Tab completes commands, and user names after a command that takes one."));
    return Collections.unmodifiableMap(help);
  }

  /** Shown by {@code help}: the commands, one line each. */
  public static final List<String> HELP =
      Stream.concat(Stream.of("Commands:"), COMMAND_HELP.values().stream().map(CommandHelp::line))
          .toList();

  /**
   * Shown by {@code help <command>}: its line and a sentence more, or an error naming what is not a
   * command.
   */
  public static List<String> help(String command) {
    CommandHelp help = COMMAND_HELP.get(command);
    if (help == null) {
      return List.of("Error. No command " + clean(command) + "; help lists the commands");
    }
    return List.of(help.line().strip().replaceFirst("\\s{2,}", " - "), "  " + help.details());
  }

  /** Stands for a line break in a remote text, which must not break the line it is shown on. */
  static final char LINE_BREAK_SIGN = '\u21B5';

  /** Stands for a character of a remote text that could act on the terminal instead of showing. */
  static final char UNPRINTABLE_SIGN = '\uFFFD';

  private Texts() {}

  /**
   * A remote-supplied string made safe to print as part of one line: nothing a remote party sends
   * can move the cursor, start a new line, change the terminal's state or reorder the rest of the
   * line, so every event stays on its own line and a line cannot pass for another user's. Null
   * becomes empty.
   *
   * <ul>
   *   <li>A line break (line feed, carriage return, the two together, vertical tab, form feed, next
   *       line U+0085, line and paragraph separators U+2028 and U+2029) becomes {@code ↵}: the text
   *       stays on its line, and the reader sees where its sender broke it. A carriage return
   *       counts as one, since on a terminal it sends the cursor back over what the line already
   *       shows.
   *   <li>A tab becomes a space: whitespace, but its width depends on the column.
   *   <li>Every other control character (C0, such as escape, backspace and bell; delete; C1 from
   *       U+0080 to U+009F, such as U+009B, which some terminals take as the start of a control
   *       sequence) becomes {@code U+FFFD}. What followed an escape stays as plain text (escape
   *       {@code [2J} shows as {@code �[2J}), harmless once its introducer is gone.
   *   <li>Bidirectional embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069)
   *       become {@code U+FFFD} too: on a terminal that lays out right-to-left text they reorder
   *       what follows them up to the end of the line, so a name or a text holding one could show
   *       the rest of the line (another name, the words of an error) in an order that says
   *       something else. Ordinary right-to-left text needs none of them; the implicit marks
   *       (U+200E, U+200F, U+061C), which cannot reorder strong characters, are kept.
   * </ul>
   */
  public static String clean(String remote) {
    if (remote == null) {
      return "";
    }
    StringBuilder safe = null;
    int length = remote.length();
    for (int i = 0; i < length; i++) {
      char c = remote.charAt(i);
      char sign;
      if (isLineBreak(c)) {
        sign = LINE_BREAK_SIGN;
      } else if (c == '\t') {
        sign = ' ';
      } else if (Character.isISOControl(c) || isBidiControl(c)) {
        sign = UNPRINTABLE_SIGN;
      } else {
        if (safe != null) {
          safe.append(c);
        }
        continue;
      }
      if (safe == null) {
        safe = new StringBuilder(length).append(remote, 0, i);
      }
      safe.append(sign);
      if (c == '\r' && i + 1 < length && remote.charAt(i + 1) == '\n') {
        i++;
      }
    }
    return safe == null ? remote : safe.toString();
  }

  private static boolean isLineBreak(char c) {
    return c == '\n'
        || c == '\r'
        || c == '\u000B'
        || c == '\f'
        || c == '\u0085'
        || c == '\u2028'
        || c == '\u2029';
  }

  private static boolean isBidiControl(char c) {
    return (c >= '\u202A' && c <= '\u202E') || (c >= '\u2066' && c <= '\u2069');
  }

  // Login

  public static String unknownUsername(String name) {
    return "Error. Unknown username " + clean(name) + ". Please try again";
  }

  public static String alreadyLoggedIn(String name) {
    return "Error. " + clean(name) + " is already logged in elsewhere";
  }

  // Commands

  public static String usage(String syntax) {
    return "Error. Usage: " + syntax;
  }

  // Server frames

  public static String received(String from, String text) {
    return clean(from) + ": " + clean(text);
  }

  public static String loggedIn(String user) {
    return clean(user) + " logged in";
  }

  public static String loggedOut(String user) {
    return clean(user) + " logged out";
  }

  public static String noneRecently(long seconds) {
    return "No other users have been online in the last " + seconds + " seconds";
  }

  /**
   * After the names of a capped whoelse or whoelsesince answer: how many the server left out. It
   * has spaces, so it cannot be taken for a name.
   */
  public static String moreUsers(int omitted) {
    return "... and " + omitted + " more";
  }

  public static String blocked(String user) {
    return clean(user) + " is blocked";
  }

  public static String unblocked(String user) {
    return clean(user) + " is unblocked";
  }

  public static String cannotTargetSelf(String command) {
    return switch (command) {
      case "startprivate" -> "Error. Cannot start private messaging with self";
      case "" -> "Error. Cannot do that to self";
      default -> "Error. Cannot " + clean(command) + " self";
    };
  }

  public static String privateBlocked(String user) {
    String name = clean(user);
    return "Error. Private messaging to "
        + name
        + " is not possible as "
        + name
        + " has blocked you";
  }

  public static String alreadyBlocked(String user) {
    return "Error. " + clean(user) + " is already blocked";
  }

  public static String notBlocked(String user) {
    return "Error. " + clean(user) + " was not blocked";
  }

  public static String offline(String user) {
    return "Error. " + clean(user) + " is offline";
  }

  public static String privateUnsupported(String user) {
    return "Error. " + clean(user) + " is on the web client, which takes no private chats";
  }

  public static String mailboxFull(String user) {
    return "Error. " + clean(user) + "'s mailbox is full; your message was not delivered";
  }

  /** The server could not store a direct message; the client sends it again later. */
  public static String notStoredYet(String user) {
    return "Error. The server could not store your message to "
        + clean(user)
        + " yet; it will be sent again";
  }

  public static String invalidArgument(String subject) {
    return "Error. Invalid argument: " + clean(subject);
  }

  /**
   * A message, broadcast or private message whose text cannot be carried, found by the client
   * before sending or by the server; {@code reason} says why (see {@code WireText.refusal}).
   */
  public static String invalidText(String reason) {
    return "Error. Message not sent: " + clean(reason);
  }

  /** The server refused a command because the client sent too many too fast. */
  public static String rateLimited(String command) {
    String what =
        switch (command == null ? "" : command) {
          case "" -> "a command was not carried out";
          case "message" -> "your message was not sent";
          case "broadcast" -> "your broadcast was not sent";
          default -> clean(command) + " was not carried out";
        };
    return TOO_FAST + what + SLOW_DOWN;
  }

  public static String notUnderstood(String subject) {
    return "Error. The server did not understand a request (" + clean(subject) + ")";
  }

  /** The line that explains why the server closed the connection. */
  public static String goodbye(Goodbye.Reason reason) {
    return switch (reason) {
      case LOGGED_OUT -> "You are logged out";
      case TIMED_OUT -> "You have been logged out due to inactivity";
      case ACCOUNT_LOCKED ->
          "Invalid Password. Your account has been blocked. Please try again later";
      case ACCOUNT_BLOCKED ->
          "Your account is blocked due to multiple login failures. Please try again later";
      case SERVER_SHUTDOWN -> "The server is shutting down. You have been logged out";
      case SERVER_BUSY -> "Error. The server is busy. Please try again later";
      case UNSUPPORTED_VERSION -> "Error. This client is not compatible with the server";
      case RATE_LIMITED ->
          "Error. The server closed the connection: too many commands, logins or connections"
              + " from here. Please try again later";
      case ACCOUNT_REMOVED -> "Your account has been removed. You have been logged out";
      case RESUMED ->
          "Your session was taken over by a client on another connection. You have been logged out";
      case UNRESPONSIVE -> "The server heard nothing from this client for too long";
      default -> "Error. The server closed the connection (" + wireName(reason) + ")";
    };
  }

  // Delivery of direct messages

  /** A direct message refused because {@code max} messages are already waiting to be sent. */
  public static String tooManyUnsent(int max) {
    return "Error. " + max + " messages are already waiting to be sent; message not sent";
  }

  /** On exit: direct messages the server never accepted. */
  public static String unsent(int count) {
    return "Error. " + count + " message(s) could not be sent";
  }

  // Connection

  /** Logging in again after a lost connection failed for good. */
  public static String cannotLogInAgain(LoginFailed.Reason reason, String username) {
    String why =
        switch (reason) {
          case INVALID_PASSWORD -> "invalid password";
          case UNKNOWN_USER -> "unknown username " + clean(username);
          case ALREADY_ONLINE -> clean(username) + " is already logged in elsewhere";
          case RESUME_REFUSED -> "the session could not be resumed";
        };
    return "Error. Could not log in again: " + why;
  }

  /** The server sent a line over the frame limit: the connection cannot be read any further. */
  public static String serverLineTooLong(int limitBytes) {
    return "Error. The server sent a line longer than "
        + limitBytes
        + " bytes; closing the connection";
  }

  /** The server's certificate was refused; {@code reason} names both sides of it. */
  public static String serverUnverified(String reason) {
    return "Error. " + reason;
  }

  /**
   * None of several servers could be reached; {@code attempts} gives each as {@code host:port:
   * reason}, in the order tried. It starts as the line for one server does, for scripts that look
   * for it.
   */
  public static String cannotConnectToAny(List<String> attempts) {
    return "Error. Cannot connect to the server at any of "
        + attempts.stream().map(Texts::clean).collect(Collectors.joining("; "));
  }

  public static String cannotConnect(String host, int port, String reason) {
    return "Error. Cannot connect to the server at "
        + clean(host)
        + ":"
        + port
        + ": "
        + clean(reason);
  }

  public static String cannotListen(String host, String reason) {
    return "Error. Cannot accept private chats on " + clean(host) + ": " + clean(reason);
  }

  // Private chats

  public static String privateStarted(String peer) {
    return "Start private messaging with " + clean(peer);
  }

  public static String privateStartedByPeer(String peer) {
    return clean(peer) + " started private messaging with you";
  }

  public static String privateUnreachable(String peer) {
    return "Error. Could not reach " + clean(peer) + " for private messaging";
  }

  /**
   * The server gave no certificate fingerprint with the peer's address (an older server, or a peer
   * client that does not speak TLS): the chat is not started rather than started unencrypted.
   */
  public static String privateUnverifiable(String peer) {
    String name = clean(peer);
    return "Error. Could not start private messaging with "
        + name
        + ": "
        + name
        + "'s client cannot be verified (the server or "
        + name
        + "'s client is too old for encrypted private chats)";
  }

  /**
   * The peer's listener presented a certificate other than the one the server announced for it: the
   * chat was not started and nothing was sent.
   */
  public static String privatePeerNotVerified(String peer) {
    String name = clean(peer);
    return "Error. Could not start private messaging with "
        + name
        + ": the certificate presented is not "
        + name
        + "'s";
  }

  public static String privateReceived(String peer, String text) {
    return clean(peer) + "(private): " + clean(text);
  }

  public static String privateStopped(String peer) {
    return "Stopped private messaging with " + clean(peer);
  }

  public static String privateStoppedByPeer(String peer) {
    return clean(peer) + " stopped private messaging with you";
  }

  /** The line shown when the peer ends the chat (its {@code Bye}) or the connection drops. */
  public static String privateClosed(String peer, Bye.Reason reason) {
    String name = clean(peer);
    return switch (reason) {
      case STOPPED -> privateStoppedByPeer(peer);
      case LOGGED_OUT -> "Private messaging with " + name + " closed: " + name + " logged out";
      case TIMED_OUT -> "Private messaging with " + name + " closed: " + name + " timed out";
      case PROTOCOL_VIOLATION -> privateProtocolError(peer);
      default -> privateConnectionLost(peer);
    };
  }

  public static String privateConnectionLost(String peer) {
    return "Private messaging with " + clean(peer) + " closed: connection lost";
  }

  public static String privateProtocolError(String peer) {
    return "Private messaging with " + clean(peer) + " closed: protocol error";
  }

  /** The peer sent a line over the frame limit, so the chat could not be read any further. */
  public static String privateLineTooLong(String peer, int limitBytes) {
    String name = clean(peer);
    return "Private messaging with "
        + name
        + " closed: "
        + name
        + " sent a line longer than "
        + limitBytes
        + " bytes";
  }

  public static String privateUndelivered(String peer, String text) {
    return "Error. Private message to " + clean(peer) + " could not be delivered: " + clean(text);
  }

  public static String privateAlreadyEnabled(String peer) {
    return "Error. Private messaging with " + clean(peer) + " is already enabled";
  }

  public static String privateNotEnabled(String peer) {
    return "Error. Private messaging to " + clean(peer) + " not enabled";
  }

  public static String privateBacklogFull(String peer) {
    return "Error. Too many private messages to "
        + clean(peer)
        + " are awaiting delivery; message not sent";
  }

  /** An enum constant as it is spelled on the wire (the protocol uses lower-case kebab case). */
  static String wireName(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
