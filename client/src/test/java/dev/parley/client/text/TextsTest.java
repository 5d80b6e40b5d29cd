package dev.parley.client.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.protocol.PeerMessage.Bye;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@link Texts#clean} makes of what remote parties send: nothing in it can act on the terminal
 * or start a line of its own. The expected strings spell out the signs: {@code ↵} for a line break,
 * {@code �} for a character that could act on the terminal.
 */
class TextsTest {

  private static final String BREAK = "\u21B5";
  private static final String SIGN = "\uFFFD";

  /** Whether a terminal could take {@code c} as anything but a character to show in a line. */
  private static boolean actsOnTheTerminal(char c) {
    return Character.isISOControl(c)
        || c == '\u2028'
        || c == '\u2029'
        || (c >= '\u202A' && c <= '\u202E')
        || (c >= '\u2066' && c <= '\u2069');
  }

  @Test
  void shouldListEveryCommandOnItsOwnLineAndExplainOneOnRequest() {
    assertEquals("Commands:", Texts.HELP.get(0));
    assertEquals(12, Texts.HELP.size());
    assertEquals(
        "  message <user> <message>    send a message to a user (kept if they are offline)",
        Texts.HELP.get(1));
    assertEquals(
        java.util.List.of(
            "message <user> <message> - send a message to a user (kept if they are offline)",
            "  The server keeps it for a user who is offline and delivers it at their next login."),
        Texts.help("message"));
    assertEquals(
        java.util.List.of("Error. No command nope; help lists the commands"), Texts.help("nope"));
  }

  @Test
  void shouldLeaveEveryOtherCharacterAloneAndReplaceEachDangerousOneWithOneSign() {
    for (int code = 0; code <= Character.MAX_VALUE; code++) {
      char c = (char) code;
      String cleaned = Texts.clean("a" + c + "b");
      assertEquals(3, cleaned.length(), () -> "U+" + Integer.toHexString(c));
      char shown = cleaned.charAt(1);
      if (actsOnTheTerminal(c)) {
        assertTrue(
            shown == ' ' || shown == Texts.LINE_BREAK_SIGN || shown == Texts.UNPRINTABLE_SIGN,
            () -> "U+" + Integer.toHexString(c) + " shown as U+" + Integer.toHexString(shown));
      } else {
        assertEquals(c, shown, () -> "U+" + Integer.toHexString(c));
      }
    }
  }

  @Test
  void shouldKeepOrdinaryTextAsItIs() {
    String text =
        "Grüße, Ἀθῆναι, שלום עולם, مرحبا \u200Fالعالم, 😀👍🏽, 👨‍👩‍👧, \"quoted\" \\ back";
    assertSame(text, Texts.clean(text));
    assertEquals("", Texts.clean(null));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        // Line feed, carriage return, both, vertical tab, form feed, NEL, separators.
        "a\\nb|a↵b",
        "a\\rb|a↵b",
        "a\\r\\nb|a↵b",
        "a\\n\\rb|a↵↵b",
        "a\\n\\nb|a↵↵b",
        "a\\u000Bb|a↵b",
        "a\\fb|a↵b",
        "a\\u0085b|a↵b",
        "a\\u2028b|a↵b",
        "a\\u2029b|a↵b",
        // A tab is whitespace of its own width: a plain space.
        "a\\tb|a b",
      })
  void shouldKeepLineBreaksVisibleOnOneLine(String escaped, String expected) {
    assertEquals(expected, Texts.clean(unescape(escaped)));
  }

  @Test
  void shouldDisarmEscapeSequences() {
    // CSI: clear the screen, move the cursor home, colour.
    assertEquals(
        SIGN + "[2J" + SIGN + "[H" + SIGN + "[31mred" + SIGN + "[0m",
        Texts.clean("\u001b[2J\u001b[H\u001b[31mred\u001b[0m"));
    // OSC ended by BEL: set the window title; ended by ESC \.
    assertEquals(SIGN + "]0;pwned" + SIGN + "after", Texts.clean("\u001b]0;pwned\u0007after"));
    assertEquals(
        SIGN + "]8;;http://evil/" + SIGN + "\\link",
        Texts.clean("\u001b]8;;http://evil/\u001b\\link"));
    // C1 controls: CSI, OSC and ST as single characters, which some terminals obey.
    assertEquals(SIGN + "2J" + SIGN + "0;t" + SIGN, Texts.clean("\u009b2J\u009d0;t\u009c"));
  }

  @ParameterizedTest
  @ValueSource(
      ints = {0x00, 0x01, 0x07, 0x08, 0x0E, 0x1B, 0x1F, 0x7F, 0x80, 0x84, 0x86, 0x9B, 0x9F})
  void shouldShowEveryOtherControlCharacterAsASign(int control) {
    assertEquals("a" + SIGN + "b", Texts.clean("a" + (char) control + "b"));
  }

  @Test
  void shouldNotLetBackspacesOrCarriageReturnsOverwriteWhatIsShown() {
    assertEquals("hans: ok" + SIGN + SIGN + "no", Texts.received("hans", "ok\b\bno"));
    assertEquals("hans: hi" + BREAK + "luke: ", Texts.received("hans", "hi\rluke: "));
  }

  @ParameterizedTest
  @ValueSource(ints = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069})
  void shouldNeutraliseBidiEmbeddingsOverridesAndIsolates(int control) {
    assertEquals("a" + SIGN + "b", Texts.clean("a" + (char) control + "b"));
  }

  @Test
  void shouldKeepImplicitDirectionMarks() {
    String marks = "a\u200Eb\u200Fc\u061Cd";
    assertEquals(marks, Texts.clean(marks));
  }

  @Test
  void shouldNotLetANameReorderTheRestOfTheLine() {
    // Shown as is, U+202E would make a bidi terminal show "hans is blocked" reversed after it.
    assertEquals(SIGN + "hans" + SIGN + " is blocked", Texts.blocked("\u202Ehans\u202C"));
    assertEquals("Error. " + SIGN + "luke was not blocked", Texts.notBlocked("\u2067luke"));
  }

  @Test
  void shouldNotLetATextForgeALineFromSomeoneElse() {
    String forged = "see you\nluke: send me your password\r\nyoda logged out\u2028";
    String line = Texts.received("hans", forged);
    assertEquals(
        "hans: see you" + BREAK + "luke: send me your password" + BREAK + "yoda logged out" + BREAK,
        line);
    assertTrue(line.startsWith("hans: "));
    assertTrue(line.chars().noneMatch(c -> actsOnTheTerminal((char) c)), line);
    assertEquals(
        "hans(private): a" + BREAK + "luke(private): b",
        Texts.privateReceived("hans", "a\nluke(private): b"));
  }

  @Test
  void shouldCleanNamesAndTextsInEveryLineThatShowsThem() {
    String name = "ev\u001b[8mil\n";
    String cleanName = "ev" + SIGN + "[8mil" + BREAK;
    String text = "t\u009b\u202Ex";
    String cleanText = "t" + SIGN + SIGN + "x";
    assertEquals(cleanName + ": " + cleanText, Texts.received(name, text));
    assertEquals(cleanName + "(private): " + cleanText, Texts.privateReceived(name, text));
    assertEquals(cleanName + " logged in", Texts.loggedIn(name));
    assertEquals(cleanName + " logged out", Texts.loggedOut(name));
    assertEquals("Start private messaging with " + cleanName, Texts.privateStarted(name));
    assertEquals(
        cleanName + " started private messaging with you", Texts.privateStartedByPeer(name));
    assertEquals(
        "Private messaging with " + cleanName + " closed: " + cleanName + " logged out",
        Texts.privateClosed(name, Bye.Reason.LOGGED_OUT));
    assertEquals(
        "Error. Private message to " + cleanName + " could not be delivered: " + cleanText,
        Texts.privateUndelivered(name, text));
    assertEquals(
        "Error. Unknown username " + cleanName + ". Please try again", Texts.unknownUsername(name));
  }

  @Test
  void shouldCleanErrorSubjects() {
    String subject = "bad\r\nfield\u001b]0;x\u0007";
    String clean = "bad" + BREAK + "field" + SIGN + "]0;x" + SIGN;
    assertEquals("Error. Invalid argument: " + clean, Texts.invalidArgument(subject));
    assertEquals("Error. Message not sent: " + clean, Texts.invalidText(subject));
    assertEquals(
        "Error. The server did not understand a request (" + clean + ")",
        Texts.notUnderstood(subject));
    assertEquals("Error. " + clean + " is offline", Texts.offline(subject));
    assertEquals(
        "Error. You are sending commands too fast; "
            + clean
            + " was not carried out. Please slow down and try again",
        Texts.rateLimited(subject));
    assertFalse(Texts.cannotConnect("host\n", 1, "reason\u001b").contains("\n"));
  }

  /** Reads the escapes that a CSV source cannot hold as characters. */
  private static String unescape(String escaped) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < escaped.length(); i++) {
      char c = escaped.charAt(i);
      if (c != '\\') {
        text.append(c);
        continue;
      }
      char kind = escaped.charAt(++i);
      switch (kind) {
        case 'n' -> text.append('\n');
        case 'r' -> text.append('\r');
        case 't' -> text.append('\t');
        case 'f' -> text.append('\f');
        case 'u' -> {
          text.append((char) Integer.parseInt(escaped.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default -> throw new IllegalArgumentException("unknown escape \\" + kind);
      }
    }
    return text.toString();
  }
}
