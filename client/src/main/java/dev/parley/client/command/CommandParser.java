package dev.parley.client.command;

import dev.parley.client.text.Texts;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.WireText;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Parses a line typed at the command prompt. Words are separated by whitespace and are
 * case-sensitive; the first is the command. A {@code <message>} is the rest of the line after the
 * preceding word and its separating whitespace, kept verbatim, and must not be blank. Missing or
 * extra words give a usage error naming the command's syntax.
 *
 * <p>What the protocol cannot carry is refused here, before anything is sent, in the order the
 * server would check it: a {@code <user>} sent to the server that cannot be a user name (too long,
 * a control character) is an invalid user, and a {@code <message>} whose text the protocol refuses
 * (over {@link Protocol#MAX_TEXT_BYTES} encoded, U+0000, an unpaired surrogate; see {@link
 * WireText#refusal}) is not sent, private messages included, so that what a user types never
 * reaches a peer or the server only to be refused there (or to break a frame's constructor here).
 */
public final class CommandParser {

  static final String MESSAGE = "message <user> <message>";
  static final String BROADCAST = "broadcast <message>";
  static final String WHOELSE = "whoelse";
  static final String WHOELSESINCE = "whoelsesince <time>";
  static final String BLOCK = "block <user>";
  static final String UNBLOCK = "unblock <user>";
  static final String LOGOUT = "logout";
  static final String STARTPRIVATE = "startprivate <user>";
  static final String PRIVATE = "private <user> <message>";
  static final String STOPPRIVATE = "stopprivate <user>";
  static final String HELP = "help [<command>]";

  /** Every command name, in the order {@code help} lists them. */
  public static final List<String> COMMANDS =
      List.of(
          "message",
          "broadcast",
          "whoelse",
          "whoelsesince",
          "block",
          "unblock",
          "startprivate",
          "private",
          "stopprivate",
          "logout",
          "help");

  /** The commands whose first argument is a user name. */
  public static final Set<String> TAKES_USER =
      Set.of("message", "block", "unblock", "startprivate", "private", "stopprivate");

  private CommandParser() {}

  /** The command on this line (without its line terminator). */
  public static UserCommand parse(String line) {
    Words words = new Words(line);
    String command = words.next();
    if (command == null) {
      return new UserCommand.Blank();
    }
    return switch (command) {
      case "message" -> userAndText(words, MESSAGE, true, UserCommand.Message::new);
      case "broadcast" -> text(words, BROADCAST, UserCommand.Broadcast::new);
      case "whoelse" -> bare(words, WHOELSE, new UserCommand.WhoElse());
      case "whoelsesince" -> whoElseSince(words);
      case "block" -> user(words, BLOCK, true, UserCommand.Block::new);
      case "unblock" -> user(words, UNBLOCK, true, UserCommand.Unblock::new);
      case "logout" -> bare(words, LOGOUT, new UserCommand.Logout());
      case "startprivate" -> user(words, STARTPRIVATE, true, UserCommand.StartPrivate::new);
      case "private" -> userAndText(words, PRIVATE, false, UserCommand.Private::new);
      case "stopprivate" -> user(words, STOPPRIVATE, false, UserCommand.StopPrivate::new);
      case "help" -> help(words);
      default -> new UserCommand.Rejected(Texts.INVALID_COMMAND);
    };
  }

  /** {@code help} or {@code help <command>}: shown by the client, never sent to the server. */
  private static UserCommand help(Words words) {
    String command = words.next();
    if (command == null) {
      return new UserCommand.Help();
    }
    return words.atEnd() ? new UserCommand.Help(command) : usage(HELP);
  }

  private static UserCommand bare(Words words, String syntax, UserCommand command) {
    return words.atEnd() ? command : usage(syntax);
  }

  /**
   * A command naming a user; {@code toServer} when the name goes to the server, which only knows
   * names that {@link WireText#isValidName} accepts (private chats are looked up by any name).
   */
  private static UserCommand user(
      Words words, String syntax, boolean toServer, Function<String, UserCommand> command) {
    String user = words.next();
    if (user == null || !words.atEnd()) {
      return usage(syntax);
    }
    return toServer && !WireText.isValidName(user) ? invalidUser() : command.apply(user);
  }

  private static UserCommand text(
      Words words, String syntax, Function<String, UserCommand> command) {
    String text = words.rest();
    if (text.isBlank()) {
      return usage(syntax);
    }
    Optional<String> refusal = WireText.refusal(text, Protocol.MAX_TEXT_BYTES);
    return refusal.isPresent() ? invalidText(refusal.get()) : command.apply(text);
  }

  /** A command naming a user and carrying a text; {@code toServer} as for {@link #user}. */
  private static UserCommand userAndText(
      Words words,
      String syntax,
      boolean toServer,
      BiFunction<String, String, UserCommand> command) {
    String user = words.next();
    String text = words.rest();
    if (user == null || text.isBlank()) {
      return usage(syntax);
    }
    if (toServer && !WireText.isValidName(user)) {
      return invalidUser();
    }
    Optional<String> refusal = WireText.refusal(text, Protocol.MAX_TEXT_BYTES);
    return refusal.isPresent() ? invalidText(refusal.get()) : command.apply(user, text);
  }

  /** No account has such a name, and no frame could carry it. */
  private static UserCommand invalidUser() {
    return new UserCommand.Rejected(Texts.INVALID_USER);
  }

  private static UserCommand invalidText(String reason) {
    return new UserCommand.Rejected(Texts.invalidText(reason));
  }

  private static UserCommand whoElseSince(Words words) {
    String time = words.next();
    if (time == null || !words.atEnd()) {
      return usage(WHOELSESINCE);
    }
    if (!time.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return new UserCommand.Rejected(Texts.INVALID_TIME);
    }
    try {
      return new UserCommand.WhoElseSince(Long.parseLong(time));
    } catch (NumberFormatException tooLarge) {
      return new UserCommand.Rejected(Texts.INVALID_TIME);
    }
  }

  private static UserCommand usage(String syntax) {
    return new UserCommand.Rejected(Texts.usage(syntax));
  }

  /** A cursor over the words of a line. */
  private static final class Words {
    private final String line;
    private int position;

    Words(String line) {
      this.line = line;
    }

    /** The next word, or null at the end of the line. */
    String next() {
      skipWhitespace();
      if (position == line.length()) {
        return null;
      }
      int start = position;
      while (position < line.length() && !Character.isWhitespace(line.charAt(position))) {
        position++;
      }
      return line.substring(start, position);
    }

    /** Everything after the whitespace that follows the current word, verbatim. */
    String rest() {
      skipWhitespace();
      String rest = line.substring(position);
      position = line.length();
      return rest;
    }

    boolean atEnd() {
      skipWhitespace();
      return position == line.length();
    }

    private void skipWhitespace() {
      while (position < line.length() && Character.isWhitespace(line.charAt(position))) {
        position++;
      }
    }
  }
}
