package dev.parley.client.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.ServerMessage.LoginFailed;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RendererTest {

  private static List<String> render(ServerMessage frame) {
    return Renderer.render(frame);
  }

  private static String error(Code code, String command, String subject) {
    return Renderer.error(new ServerMessage.Error(code, command, subject));
  }

  @Test
  void shouldShowMessagesAndBroadcastsAsSenderColonText() {
    assertEquals(
        List.of("hans: Hey Dude"),
        render(new ServerMessage.MessageReceived("hans", "Hey Dude", 7, "m-1")));
    assertEquals(
        List.of("hans: vader sucks"),
        render(new ServerMessage.BroadcastReceived("hans", "vader sucks")));
  }

  @Test
  void shouldShowNothingForPlainConfirmations() {
    assertEquals(List.of(), render(new ServerMessage.MessageAccepted("1", false)));
    assertEquals(List.of(), render(new ServerMessage.MessageAccepted(null, true)));
    assertEquals(List.of(), render(new ServerMessage.BroadcastSent(true)));
    assertEquals(List.of(), render(new ServerMessage.ActivityNoted()));
    assertEquals(List.of(), render(new ServerMessage.Hello(1, "parley")));
  }

  @Test
  void shouldSayWhenABroadcastMissedSomeone() {
    assertEquals(
        List.of("Your message could not be delivered to some recipients"),
        render(new ServerMessage.BroadcastSent(false)));
  }

  @Test
  void shouldShowPresence() {
    assertEquals(List.of("yoda logged in"), render(new ServerMessage.UserLoggedIn("yoda")));
    assertEquals(List.of("luke logged out"), render(new ServerMessage.UserLoggedOut("luke")));
  }

  @Test
  void shouldListUsersOnePerLine() {
    assertEquals(
        List.of("yoda", "luke"), render(new ServerMessage.OnlineUsers(List.of("yoda", "luke"))));
    assertEquals(
        List.of("No other users are online"), render(new ServerMessage.OnlineUsers(List.of())));
    assertEquals(
        List.of("hans", "yoda", "vader"),
        render(new ServerMessage.RecentUsers(200, List.of("hans", "yoda", "vader"))));
    assertEquals(
        List.of("No other users have been online in the last 200 seconds"),
        render(new ServerMessage.RecentUsers(200, List.of())));
  }

  @Test
  void shouldSayHowManyMoreUsersACappedListLeavesOut() {
    assertEquals(
        List.of("bob", "carol", "dave", "... and 1200 more"),
        render(new ServerMessage.OnlineUsers(List.of("bob", "carol", "dave"), 1200)));
    assertEquals(
        List.of("bob", "dave", "... and 1 more"),
        render(new ServerMessage.RecentUsers(600, List.of("bob", "dave"), 1)));
    // Names that did not fit at all: only the count, not "no other users".
    assertEquals(List.of("... and 5 more"), render(new ServerMessage.OnlineUsers(List.of(), 5)));
    assertEquals(
        List.of("... and 5 more"), render(new ServerMessage.RecentUsers(60, List.of(), 5)));
    // Still cleaned, one line per name.
    assertEquals(
        List.of("a↵b", "... and 2 more"),
        render(new ServerMessage.OnlineUsers(List.of("a\rb"), 2)));
  }

  @Test
  void shouldConfirmBlocking() {
    assertEquals(List.of("hans is blocked"), render(new ServerMessage.BlockConfirmed("hans")));
    assertEquals(List.of("hans is unblocked"), render(new ServerMessage.UnblockConfirmed("hans")));
  }

  @Test
  void shouldWordErrorsByCodeAndCommand() {
    assertEquals("Error. Invalid user", error(Code.INVALID_USER, "message", "bob"));
    assertEquals("Error. Invalid user", error(Code.INVALID_USER, "startprivate", "bob"));
    assertEquals("Error. Cannot message self", error(Code.SELF, "message", "hans"));
    assertEquals("Error. Cannot block self", error(Code.SELF, "block", "hans"));
    assertEquals("Error. Cannot unblock self", error(Code.SELF, "unblock", "hans"));
    assertEquals(
        "Error. Cannot start private messaging with self",
        error(Code.SELF, "startprivate", "hans"));
    assertEquals(
        "Your message could not be delivered as the recipient has blocked you",
        error(Code.BLOCKED_BY_USER, "message", "luke"));
    assertEquals(
        "Error. Private messaging to luke is not possible as luke has blocked you",
        error(Code.BLOCKED_BY_USER, "startprivate", "luke"));
    assertEquals("Error. hans is already blocked", error(Code.ALREADY_BLOCKED, "block", "hans"));
    assertEquals("Error. yoda was not blocked", error(Code.NOT_BLOCKED, "unblock", "yoda"));
    assertEquals("Error. luke is offline", error(Code.USER_OFFLINE, "startprivate", "luke"));
    assertEquals(
        "Error. luke's mailbox is full; your message was not delivered",
        error(Code.MAILBOX_FULL, "message", "luke"));
    assertEquals(
        "Error. The server could not store your message to luke yet; it will be sent again",
        error(Code.UNAVAILABLE, "message", "luke"));
    assertEquals(
        "Error. The server could not do that right now. Please try again later",
        error(Code.UNAVAILABLE, "block", "luke"));
    assertEquals(
        "Error. Invalid argument: seconds must not be negative",
        error(Code.INVALID_ARGUMENT, "whoelsesince", "seconds must not be negative"));
    assertEquals(
        "Error. The server did not understand a request (missing field 'type')",
        error(Code.MALFORMED_FRAME, null, "missing field 'type'"));
    assertEquals(
        "Error. The server did not understand a request (frobnicate)",
        error(Code.UNKNOWN_FRAME, null, "frobnicate"));
    assertEquals(
        "Error. The server did not understand a request (hello)",
        error(Code.UNEXPECTED_FRAME, "hello", null));
  }

  @Test
  void shouldSayWhyATextWasRefused() {
    assertEquals(
        "Error. Message not sent: text is 61441 bytes encoded, over the limit of 61440",
        error(
            Code.INVALID_TEXT, "message", "text is 61441 bytes encoded, over the limit of 61440"));
    assertEquals(
        "Error. Message not sent: text contains U+0000 at character 3",
        error(Code.INVALID_TEXT, "broadcast", "text contains U+0000 at character 3"));
  }

  @Test
  void shouldSayWhatWasNotCarriedOutWhenRateLimited() {
    String slowDown = ". Please slow down and try again";
    assertEquals(
        "Error. You are sending commands too fast; your message was not sent" + slowDown,
        error(Code.RATE_LIMITED, "message", null));
    assertEquals(
        "Error. You are sending commands too fast; your broadcast was not sent" + slowDown,
        error(Code.RATE_LIMITED, "broadcast", null));
    assertEquals(
        "Error. You are sending commands too fast; whoelse was not carried out" + slowDown,
        error(Code.RATE_LIMITED, "whoelse", null));
    assertEquals(
        "Error. You are sending commands too fast; a command was not carried out" + slowDown,
        error(Code.RATE_LIMITED, null, null));
  }

  @Test
  void shouldSayWhyAConnectionWasClosedForALongLine() {
    assertEquals(
        "Error. The server sent a line longer than 65536 bytes; closing the connection",
        Texts.serverLineTooLong(65_536));
    assertEquals(
        "Private messaging with luke closed: luke sent a line longer than 65536 bytes",
        Texts.privateLineTooLong("luke", 65_536));
  }

  @Test
  void shouldFallBackToAGeneralWordingForUnexpectedCommands() {
    assertEquals("Error. Cannot do that to self", error(Code.SELF, null, "hans"));
    assertEquals("Error. Cannot broadcast self", error(Code.SELF, "broadcast", "hans"));
    assertEquals(
        "Your message could not be delivered as the recipient has blocked you",
        error(Code.BLOCKED_BY_USER, null, "luke"));
    assertEquals("Error.  is offline", error(Code.USER_OFFLINE, "startprivate", null));
  }

  @Test
  void shouldRenderErrorFramesAsOneLine() {
    assertEquals(
        List.of("Error. Cannot block self"),
        render(new ServerMessage.Error(Code.SELF, "block", "hans")));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "LOGGED_OUT|You are logged out",
        "TIMED_OUT|You have been logged out due to inactivity",
        "ACCOUNT_LOCKED|Invalid Password. Your account has been blocked. Please try again later",
        "ACCOUNT_BLOCKED|Your account is blocked due to multiple login failures."
            + " Please try again later",
        "SERVER_SHUTDOWN|The server is shutting down. You have been logged out",
        "SERVER_BUSY|Error. The server is busy. Please try again later",
        "UNSUPPORTED_VERSION|Error. This client is not compatible with the server",
        "FRAME_TOO_LONG|Error. The server closed the connection (frame-too-long)",
        "PROTOCOL_VIOLATION|Error. The server closed the connection (protocol-violation)",
        "RATE_LIMITED|Error. The server closed the connection: too many commands, logins or"
            + " connections from here. Please try again later",
        "ACCOUNT_REMOVED|Your account has been removed. You have been logged out"
      })
  void shouldExplainEveryGoodbye(Goodbye.Reason reason, String line) {
    assertEquals(List.of(line), render(new Goodbye(reason)));
    assertEquals(line, Texts.goodbye(reason));
  }

  @Test
  void shouldKeepRemoteTextOnOneLineWithoutEscapes() {
    assertEquals(
        List.of("hans: line one↵line two \uFFFD[2J bell\uFFFD sep↵"),
        render(
            new ServerMessage.MessageReceived(
                "hans", "line one\r\nline two\t\u001b[2J bell\u0007 sep\u2028", 1, null)));
    assertEquals(
        List.of("yoda: \uFFFD]0;title\uFFFD\uFFFDtext\uFFFD"),
        render(
            new ServerMessage.BroadcastReceived("yoda", "\u001b]0;title\u0007\u202Etext\u009b")));
    assertEquals(
        List.of("evil↵name logged in"), render(new ServerMessage.UserLoggedIn("evil\nname")));
    assertEquals(
        List.of("\uFFFDevil logged out"), render(new ServerMessage.UserLoggedOut("\u202Eevil")));
    assertEquals(List.of("a↵b", "c"), render(new ServerMessage.OnlineUsers(List.of("a\rb", "c"))));
    assertEquals(
        List.of("a\uFFFDb"), render(new ServerMessage.RecentUsers(5, List.of("a\u001bb"))));
    assertEquals(
        List.of("x\uFFFD is blocked"), render(new ServerMessage.BlockConfirmed("x\u0008")));
    assertEquals(
        List.of("Error. Invalid argument: bad↵\uFFFD[1A"),
        render(new ServerMessage.Error(Code.INVALID_ARGUMENT, "block", "bad\n\u001b[1A")));
    assertEquals(
        List.of("Error. Message not sent: too\uFFFDlong↵"),
        render(new ServerMessage.Error(Code.INVALID_TEXT, "broadcast", "too\u202Elong\r")));
  }

  @Test
  void shouldWordPrivateChatEvents() {
    assertEquals("Start private messaging with luke", Texts.privateStarted("luke"));
    assertEquals("hans started private messaging with you", Texts.privateStartedByPeer("hans"));
    assertEquals(
        "Error. Could not reach luke for private messaging", Texts.privateUnreachable("luke"));
    assertEquals("hans(private): hey dude", Texts.privateReceived("hans", "hey dude"));
    assertEquals("Stopped private messaging with luke", Texts.privateStopped("luke"));
    assertEquals(
        "hans stopped private messaging with you", Texts.privateClosed("hans", Bye.Reason.STOPPED));
    assertEquals(
        "Private messaging with hans closed: hans logged out",
        Texts.privateClosed("hans", Bye.Reason.LOGGED_OUT));
    assertEquals(
        "Private messaging with hans closed: hans timed out",
        Texts.privateClosed("hans", Bye.Reason.TIMED_OUT));
    assertEquals(
        "Private messaging with hans closed: connection lost",
        Texts.privateClosed("hans", Bye.Reason.DISCONNECTED));
    assertEquals(
        "Private messaging with hans closed: protocol error",
        Texts.privateClosed("hans", Bye.Reason.PROTOCOL_VIOLATION));
    assertEquals(
        "Error. Private message to luke could not be delivered: hey",
        Texts.privateUndelivered("luke", "hey"));
    assertEquals(
        "Error. Private messaging with luke is already enabled",
        Texts.privateAlreadyEnabled("luke"));
    assertEquals("Error. Private messaging to luke not enabled", Texts.privateNotEnabled("luke"));
  }

  @Test
  void shouldWordLoginAndConnectionProblems() {
    assertEquals("Error. Unknown username bob. Please try again", Texts.unknownUsername("bob"));
    assertEquals("Error. hans is already logged in elsewhere", Texts.alreadyLoggedIn("hans"));
    assertEquals(
        "Error. Cannot connect to the server at localhost:4000: Connection refused",
        Texts.cannotConnect("localhost", 4000, "Connection refused"));
    assertEquals("Error. Lost connection to the server", Texts.CONNECTION_LOST);
    assertEquals("Welcome to the greatest messaging application ever!", Texts.WELCOME);
    assertEquals("Invalid Password. Please try again", Texts.INVALID_PASSWORD);
  }

  @Test
  void shouldWordReconnectingAndUndeliveredMessages() {
    assertEquals("Lost connection to the server; reconnecting...", Texts.RECONNECTING);
    assertEquals("Reconnected to the server", Texts.RECONNECTED);
    assertEquals(
        "Error. Not connected to the server; try again once reconnected", Texts.NOT_CONNECTED);
    assertEquals(
        "Not connected: your message will be sent once the connection is back",
        Texts.MESSAGE_QUEUED);
    assertEquals(
        "The server asked to slow down; your messages will be sent as it allows",
        Texts.SLOWED_DOWN);
    assertEquals(
        "Error. Could not log in again: invalid password",
        Texts.cannotLogInAgain(LoginFailed.Reason.INVALID_PASSWORD, "hans"));
    assertEquals(
        "Error. Could not log in again: unknown username hans",
        Texts.cannotLogInAgain(LoginFailed.Reason.UNKNOWN_USER, "hans"));
    assertEquals("Error. 3 message(s) could not be sent", Texts.unsent(3));
    assertEquals(
        "Error. 1000 messages are already waiting to be sent; message not sent",
        Texts.tooManyUnsent(1000));
  }
}
