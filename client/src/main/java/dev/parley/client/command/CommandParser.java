package dev.parley.client.command;

import dev.parley.client.text.Texts;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Parses a line typed at the command prompt. Words are separated by whitespace and are
 * case-sensitive; the first is the command. A {@code <message>} is the rest of the line after the
 * preceding word and its separating whitespace, kept verbatim, and must not be blank. Missing or
 * extra words give a usage error naming the command's syntax.
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
  static final String HELP = "help";

  private CommandParser() {}

  /** The command on this line (without its line terminator). */
  public static UserCommand parse(String line) {
    Words words = new Words(line);
    String command = words.next();
    if (command == null) {
      return new UserCommand.Blank();
    }
    return switch (command) {
      case "message" -> userAndText(words, MESSAGE, UserCommand.Message::new);
      case "broadcast" -> text(words, BROADCAST, UserCommand.Broadcast::new);
      case "whoelse" -> bare(words, WHOELSE, new UserCommand.WhoElse());
      case "whoelsesince" -> whoElseSince(words);
      case "block" -> user(words, BLOCK, UserCommand.Block::new);
      case "unblock" -> user(words, UNBLOCK, UserCommand.Unblock::new);
      case "logout" -> bare(words, LOGOUT, new UserCommand.Logout());
      case "startprivate" -> user(words, STARTPRIVATE, UserCommand.StartPrivate::new);
      case "private" -> userAndText(words, PRIVATE, UserCommand.Private::new);
      case "stopprivate" -> user(words, STOPPRIVATE, UserCommand.StopPrivate::new);
      case "help" -> bare(words, HELP, new UserCommand.Help());
      default -> new UserCommand.Rejected(Texts.INVALID_COMMAND);
    };
  }

  private static UserCommand bare(Words words, String syntax, UserCommand command) {
    return words.atEnd() ? command : usage(syntax);
  }

  private static UserCommand user(
      Words words, String syntax, Function<String, UserCommand> command) {
    String user = words.next();
    return user == null || !words.atEnd() ? usage(syntax) : command.apply(user);
  }

  private static UserCommand text(
      Words words, String syntax, Function<String, UserCommand> command) {
    String text = words.rest();
    return text.isBlank() ? usage(syntax) : command.apply(text);
  }

  private static UserCommand userAndText(
      Words words, String syntax, BiFunction<String, String, UserCommand> command) {
    String user = words.next();
    String text = words.rest();
    return user == null || text.isBlank() ? usage(syntax) : command.apply(user, text);
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
