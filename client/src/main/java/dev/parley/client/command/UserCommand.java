package dev.parley.client.command;

/**
 * One line typed by the user, as understood by {@link CommandParser}: a command to carry out, a
 * blank line to ignore, or a line rejected with the error to show.
 */
public sealed interface UserCommand {

  /** {@code message <user> <message>}: a direct message through the server. */
  record Message(String user, String text) implements UserCommand {}

  /** {@code broadcast <message>}. */
  record Broadcast(String text) implements UserCommand {}

  /** {@code whoelse}. */
  record WhoElse() implements UserCommand {}

  /** {@code whoelsesince <time>}, the time in whole seconds. */
  record WhoElseSince(long seconds) implements UserCommand {}

  /** {@code block <user>}. */
  record Block(String user) implements UserCommand {}

  /** {@code unblock <user>}. */
  record Unblock(String user) implements UserCommand {}

  /** {@code logout}. */
  record Logout() implements UserCommand {}

  /** {@code startprivate <user>}. */
  record StartPrivate(String user) implements UserCommand {}

  /** {@code private <user> <message>}: sent over the direct chat, never through the server. */
  record Private(String user, String text) implements UserCommand {}

  /** {@code stopprivate <user>}. */
  record StopPrivate(String user) implements UserCommand {}

  /**
   * {@code help}, or {@code help <command>} for one command ({@code command} empty for all); the
   * client answers it itself.
   */
  record Help(String command) implements UserCommand {
    public Help() {
      this("");
    }
  }

  /** An empty or blank line: nothing to do. */
  record Blank() implements UserCommand {}

  /** A line that is not a valid command; {@code error} is the line to show the user. */
  record Rejected(String error) implements UserCommand {}
}
