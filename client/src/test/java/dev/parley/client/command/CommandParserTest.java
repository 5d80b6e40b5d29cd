package dev.parley.client.command;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.protocol.Protocol;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CommandParserTest {

  private static UserCommand.Rejected usage(String syntax) {
    return new UserCommand.Rejected("Error. Usage: " + syntax);
  }

  private static final UserCommand.Rejected INVALID =
      new UserCommand.Rejected("Error. Invalid command");
  private static final UserCommand.Rejected INVALID_USER =
      new UserCommand.Rejected("Error. Invalid user");
  private static final UserCommand.Rejected BAD_TIME =
      new UserCommand.Rejected("Error. Time must be a whole number of seconds, 0 or more");

  @Test
  void shouldParseEveryCommand() {
    assertEquals(
        new UserCommand.Message("yoda", "Hey Dude"), CommandParser.parse("message yoda Hey Dude"));
    assertEquals(
        new UserCommand.Broadcast("vader sucks"), CommandParser.parse("broadcast vader sucks"));
    assertEquals(new UserCommand.WhoElse(), CommandParser.parse("whoelse"));
    assertEquals(new UserCommand.WhoElseSince(200), CommandParser.parse("whoelsesince 200"));
    assertEquals(new UserCommand.Block("hans"), CommandParser.parse("block hans"));
    assertEquals(new UserCommand.Unblock("yoda"), CommandParser.parse("unblock yoda"));
    assertEquals(new UserCommand.Logout(), CommandParser.parse("logout"));
    assertEquals(new UserCommand.StartPrivate("luke"), CommandParser.parse("startprivate luke"));
    assertEquals(
        new UserCommand.Private("luke", "hey dude"), CommandParser.parse("private luke hey dude"));
    assertEquals(new UserCommand.StopPrivate("luke"), CommandParser.parse("stopprivate luke"));
    assertEquals(new UserCommand.Help(), CommandParser.parse("help"));
  }

  @Test
  void shouldAskForHelpOnOneCommandAndKeepTheClassicErrorForAnUnknownCommand() {
    assertEquals(new UserCommand.Help("message"), CommandParser.parse("help message"));
    assertEquals(new UserCommand.Help("nope"), CommandParser.parse(" help  nope "));
    assertEquals(
        new UserCommand.Rejected("Error. Usage: help [<command>]"),
        CommandParser.parse("help message block"));
    assertEquals(new UserCommand.Rejected("Error. Invalid command"), CommandParser.parse("hepl"));
    assertEquals(new UserCommand.Rejected("Error. Invalid command"), CommandParser.parse("Help"));
  }

  @Test
  void shouldNameEveryCommandItParses() {
    for (String command : CommandParser.COMMANDS) {
      assertFalse(
          CommandParser.parse(command) instanceof UserCommand.Rejected r
              && r.error().equals("Error. Invalid command"),
          command);
    }
    assertTrue(CommandParser.COMMANDS.containsAll(CommandParser.TAKES_USER));
  }

  @Test
  void shouldKeepTheMessageVerbatimAfterTheSeparatingWhitespace() {
    assertEquals(
        new UserCommand.Message("yoda", "Hey   Dude  "),
        CommandParser.parse("message yoda   Hey   Dude  "));
    assertEquals(
        new UserCommand.Broadcast("I rock\tloudly"),
        CommandParser.parse("broadcast \tI rock\tloudly"));
    assertEquals(
        new UserCommand.Private("luke", "message luke x"),
        CommandParser.parse("private luke message luke x"));
  }

  @Test
  void shouldIgnoreSurroundingWhitespaceAroundWords() {
    assertEquals(new UserCommand.WhoElse(), CommandParser.parse("  whoelse  "));
    assertEquals(new UserCommand.Block("hans"), CommandParser.parse("\tblock   hans "));
    assertEquals(new UserCommand.WhoElseSince(0), CommandParser.parse("whoelsesince   0 "));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "   ", "\t"})
  void shouldIgnoreBlankLines(String line) {
    assertEquals(new UserCommand.Blank(), CommandParser.parse(line));
  }

  @ParameterizedTest
  @ValueSource(strings = {"whatsthetime", "Whoelse", "LOGOUT", "message-yoda hi", "/help"})
  void shouldRejectUnknownCommandsCaseSensitively(String line) {
    assertEquals(INVALID, CommandParser.parse(line));
  }

  @Test
  void shouldGiveTheSyntaxForMissingOrExtraArguments() {
    assertEquals(usage("message <user> <message>"), CommandParser.parse("message"));
    assertEquals(usage("message <user> <message>"), CommandParser.parse("message yoda"));
    assertEquals(usage("message <user> <message>"), CommandParser.parse("message yoda    "));
    assertEquals(usage("broadcast <message>"), CommandParser.parse("broadcast"));
    assertEquals(usage("broadcast <message>"), CommandParser.parse("broadcast   "));
    assertEquals(usage("whoelse"), CommandParser.parse("whoelse now"));
    assertEquals(usage("whoelsesince <time>"), CommandParser.parse("whoelsesince"));
    assertEquals(usage("whoelsesince <time>"), CommandParser.parse("whoelsesince 10 20"));
    assertEquals(usage("block <user>"), CommandParser.parse("block"));
    assertEquals(usage("block <user>"), CommandParser.parse("block hans yoda"));
    assertEquals(usage("unblock <user>"), CommandParser.parse("unblock"));
    assertEquals(usage("unblock <user>"), CommandParser.parse("unblock hans yoda"));
    assertEquals(usage("logout"), CommandParser.parse("logout now"));
    assertEquals(usage("startprivate <user>"), CommandParser.parse("startprivate"));
    assertEquals(usage("startprivate <user>"), CommandParser.parse("startprivate luke hi"));
    assertEquals(usage("private <user> <message>"), CommandParser.parse("private"));
    assertEquals(usage("private <user> <message>"), CommandParser.parse("private luke"));
    assertEquals(usage("stopprivate <user>"), CommandParser.parse("stopprivate"));
    assertEquals(usage("stopprivate <user>"), CommandParser.parse("stopprivate luke now"));
    assertEquals(usage("help [<command>]"), CommandParser.parse("help me too"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1", "1.5", "ten", "+5", "10s", "99999999999999999999"})
  void shouldRejectATimeThatIsNotAWholeNumberOfSeconds(String time) {
    assertEquals(BAD_TIME, CommandParser.parse("whoelsesince " + time));
  }

  @Test
  void shouldAcceptLeadingZerosAndZero() {
    assertEquals(new UserCommand.WhoElseSince(12), CommandParser.parse("whoelsesince 0012"));
    assertEquals(new UserCommand.WhoElseSince(0), CommandParser.parse("whoelsesince 0"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "message %s hi",
        "block %s",
        "unblock %s",
        "startprivate %s",
      })
  void shouldRefuseANameNoAccountCanHaveBeforeTheServerSeesIt(String command) {
    String tooLong = "a".repeat(Protocol.MAX_NAME_LENGTH + 1);
    for (String name : List.of(tooLong, "ha\u0001ns", "ha\u0085ns", "\uD800hans")) {
      assertEquals(INVALID_USER, CommandParser.parse(command.formatted(name)), name);
    }
    String longest = "a".repeat(Protocol.MAX_NAME_LENGTH);
    assertFalse(
        CommandParser.parse(command.formatted(longest)) instanceof UserCommand.Rejected, command);
  }

  @Test
  void shouldLeavePrivateChatNamesToThePrivateChats() {
    String tooLong = "a".repeat(Protocol.MAX_NAME_LENGTH + 1);
    assertEquals(
        new UserCommand.Private(tooLong, "hi"), CommandParser.parse("private " + tooLong + " hi"));
    assertEquals(
        new UserCommand.StopPrivate(tooLong), CommandParser.parse("stopprivate " + tooLong));
  }

  @Test
  void shouldTakeTextsUpToTheLimitInEncodedBytes() {
    String longest = "x".repeat(Protocol.MAX_TEXT_BYTES);
    assertEquals(
        new UserCommand.Message("yoda", longest), CommandParser.parse("message yoda " + longest));
    assertEquals(new UserCommand.Broadcast(longest), CommandParser.parse("broadcast " + longest));
    assertEquals(
        new UserCommand.Private("luke", longest), CommandParser.parse("private luke " + longest));
    // Counted as written: an emoji is four bytes, a quote two.
    String emoji = "\uD83D\uDE00".repeat(Protocol.MAX_TEXT_BYTES / 4);
    assertEquals(new UserCommand.Broadcast(emoji), CommandParser.parse("broadcast " + emoji));
  }

  @ParameterizedTest
  @ValueSource(strings = {"message yoda ", "broadcast ", "private luke "})
  void shouldRefuseTextsTheProtocolCannotCarry(String command) {
    String over = "x".repeat(Protocol.MAX_TEXT_BYTES + 1);
    assertEquals(
        invalidText("text is 61441 bytes encoded, over the limit of 61440"),
        CommandParser.parse(command + over));
    String quotes = "\"".repeat(Protocol.MAX_TEXT_BYTES / 2 + 1);
    assertEquals(
        invalidText("text is 61442 bytes encoded, over the limit of 61440"),
        CommandParser.parse(command + quotes));
    assertEquals(
        invalidText("text contains U+0000 at character 3"), CommandParser.parse(command + "hi\0"));
    assertEquals(
        invalidText("text contains an unpaired surrogate at character 2"),
        CommandParser.parse(command + "a\uDE00b"));
  }

  @Test
  void shouldCheckTheUserBeforeTheText() {
    String tooLong = "a".repeat(Protocol.MAX_NAME_LENGTH + 1);
    assertEquals(INVALID_USER, CommandParser.parse("message " + tooLong + " hi\0"));
  }

  private static UserCommand.Rejected invalidText(String reason) {
    return new UserCommand.Rejected("Error. Message not sent: " + reason);
  }
}
