package dev.parley.client.command;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CommandParserTest {

  private static UserCommand.Rejected usage(String syntax) {
    return new UserCommand.Rejected("Error. Usage: " + syntax);
  }

  private static final UserCommand.Rejected INVALID =
      new UserCommand.Rejected("Error. Invalid command");
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
    assertEquals(usage("help"), CommandParser.parse("help me"));
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
}
