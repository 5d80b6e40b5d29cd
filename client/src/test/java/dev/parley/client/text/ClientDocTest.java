package dev.parley.client.text;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.parley.client.CommandLine;
import dev.parley.client.command.CommandParser;
import dev.parley.client.command.UserCommand;
import dev.parley.protocol.PeerMessage.Bye;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.protocol.ServerMessage.LoginFailed;
import dev.parley.protocol.WireText;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Keeps {@code docs/client.md} honest: every line the client can print from {@link Texts} must be
 * shown there, exactly, in a {@code ```text} block.
 *
 * <p>The document's examples use a fixed cast (alice is the user, bob, carol, dave, erin, zed the
 * others, see its section 1) and this test renders each method of {@link Texts} with the same names
 * and values, so that a change of wording in either place fails here. A rendered line must be a
 * whole line of some {@code text} block; a prompt (a text ending in a space, where the user's
 * answer follows on the same line) must start one. Reflection makes sure no public static text of
 * {@link Texts} goes unchecked: constants are read by reflection, and every public static method
 * needs an entry in {@link #renderings()}; methods taking an enum are rendered for every value, so
 * a new reason needs its line in the document too.
 *
 * <p>The typed lines of the transcripts ({@code > } and a command) that the client answers by
 * itself (usage errors, {@code help}) must be followed by what the client really answers, and the
 * {@code --help} text must be in the document as {@link CommandLine#USAGE} has it.
 */
final class ClientDocTest {

  /** Relative to the module directory, where Maven runs the tests. */
  private static final Path DOC = Path.of("..", "docs", "client.md");

  private static final String TEXT_FENCE = "```text";
  private static final String FENCE = "```";

  /** How the transcripts show a line typed at the interactive prompt. */
  private static final String TYPED = "> ";

  /** {@code max-frame-bytes} by default, as the document quotes it. */
  private static final int FRAME_LIMIT = 65_536;

  /**
   * Public static methods of {@link Texts} that produce no line the document could show, by
   * signature, each with the reason. Keep it small: a line a user can see belongs in the document.
   */
  private static final Map<String, String> NOT_SHOWN = Map.of();

  /**
   * Reasons for which {@link Texts#cannotLogInAgain} is never called, and why: the document need
   * not show a line the client cannot print.
   */
  private static final Map<LoginFailed.Reason, String> RELOGIN_REASONS_NOT_SHOWN =
      Map.of(
          LoginFailed.Reason.ALREADY_ONLINE,
          "the old session is still closing: the client retries without a word",
          LoginFailed.Reason.RESUME_REFUSED,
          "the client falls back to the password without a word");

  /**
   * Each public static method of {@link Texts}, by signature, rendered with the document's sample
   * names: the lines that must appear in it.
   */
  private static Map<String, Supplier<List<String>>> renderings() {
    Map<String, Supplier<List<String>>> r = new LinkedHashMap<>();
    r.put(
        "help(String)",
        () ->
            Stream.concat(CommandParser.COMMANDS.stream(), Stream.of("fly"))
                .flatMap(command -> Texts.help(command).stream())
                .toList());
    // Shown through the line of a message, the only way remote text reaches the user.
    r.put(
        "clean(String)",
        () ->
            List.of(
                "bob: " + Texts.clean("first line\ncarol: you are fired"),
                "bob: " + Texts.clean("\u001B[2Jhello")));
    r.put("unknownUsername(String)", () -> List.of(Texts.unknownUsername("zed")));
    r.put("alreadyLoggedIn(String)", () -> List.of(Texts.alreadyLoggedIn("alice")));
    r.put("usage(String)", ClientDocTest::usageErrors);
    r.put(
        "received(String,String)",
        () ->
            List.of(
                Texts.received("bob", "Hey Dude"),
                Texts.received("carol", "anyone up for lunch?")));
    r.put("loggedIn(String)", () -> List.of(Texts.loggedIn("carol")));
    r.put("loggedOut(String)", () -> List.of(Texts.loggedOut("carol")));
    r.put("noneRecently(long)", () -> List.of(Texts.noneRecently(300)));
    r.put("moreUsers(int)", () -> List.of(Texts.moreUsers(1200)));
    r.put("blocked(String)", () -> List.of(Texts.blocked("dave")));
    r.put("unblocked(String)", () -> List.of(Texts.unblocked("dave")));
    // The commands the server answers with `self`, and an error naming none.
    r.put(
        "cannotTargetSelf(String)",
        () ->
            Stream.of("message", "block", "unblock", "startprivate", "")
                .map(Texts::cannotTargetSelf)
                .toList());
    r.put("privateBlocked(String)", () -> List.of(Texts.privateBlocked("dave")));
    r.put("alreadyBlocked(String)", () -> List.of(Texts.alreadyBlocked("dave")));
    r.put("notBlocked(String)", () -> List.of(Texts.notBlocked("dave")));
    r.put("offline(String)", () -> List.of(Texts.offline("carol")));
    r.put("privateUnsupported(String)", () -> List.of(Texts.privateUnsupported("erin")));
    r.put("mailboxFull(String)", () -> List.of(Texts.mailboxFull("carol")));
    r.put("notStoredYet(String)", () -> List.of(Texts.notStoredYet("carol")));
    r.put("invalidArgument(String)", () -> List.of(Texts.invalidArgument("seconds")));
    // With the reasons the protocol really gives, so that their wording is checked too.
    r.put(
        "invalidText(String)",
        () ->
            Stream.of("hello\u0000", "x".repeat(Protocol.MAX_TEXT_BYTES + 1))
                .map(text -> Texts.invalidText(refusal(text)))
                .toList());
    r.put(
        "rateLimited(String)",
        () -> Stream.of("message", "broadcast", "block", "").map(Texts::rateLimited).toList());
    r.put("notUnderstood(String)", () -> List.of(Texts.notUnderstood("whoelse")));
    r.put(
        "goodbye(Reason)",
        () -> Arrays.stream(Goodbye.Reason.values()).map(Texts::goodbye).toList());
    r.put("tooManyUnsent(int)", () -> List.of(Texts.tooManyUnsent(1000)));
    r.put("unsent(int)", () -> List.of(Texts.unsent(3)));
    r.put(
        "cannotLogInAgain(Reason,String)",
        () ->
            EnumSet.complementOf(EnumSet.copyOf(RELOGIN_REASONS_NOT_SHOWN.keySet())).stream()
                .map(reason -> Texts.cannotLogInAgain(reason, "alice"))
                .toList());
    r.put("serverLineTooLong(int)", () -> List.of(Texts.serverLineTooLong(FRAME_LIMIT)));
    r.put(
        "serverUnverified(String)",
        () ->
            List.of(
                Texts.serverUnverified(
                    "The server at localhost:3331 presented certificate"
                        + " SHA256:Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx, not"
                        + " SHA256:GQbRc1xNqD0J8Y4lYTlGZc3pTrQkKX1dZq9r4ljcW0M given with"
                        + " --trust-fingerprint; nothing was sent to it")));
    r.put(
        "cannotConnectToAny(List)",
        () ->
            List.of(
                Texts.cannotConnectToAny(
                    List.of("node1:3331: Connection refused", "node2:3331: Connection refused"))));
    r.put(
        "cannotConnect(String,int,String)",
        () -> List.of(Texts.cannotConnect("localhost", 3331, "Connection refused")));
    r.put(
        "cannotListen(String,String)",
        () -> List.of(Texts.cannotListen("10.0.0.5", "Address already in use")));
    r.put("privateStarted(String)", () -> List.of(Texts.privateStarted("bob")));
    r.put("privateStartedByPeer(String)", () -> List.of(Texts.privateStartedByPeer("alice")));
    r.put("privateUnreachable(String)", () -> List.of(Texts.privateUnreachable("bob")));
    r.put("privateUnverifiable(String)", () -> List.of(Texts.privateUnverifiable("bob")));
    r.put("privatePeerNotVerified(String)", () -> List.of(Texts.privatePeerNotVerified("bob")));
    r.put(
        "privateReceived(String,String)",
        () ->
            List.of(
                Texts.privateReceived("bob", "hi alice"), Texts.privateReceived("bob", "psst")));
    r.put("privateStopped(String)", () -> List.of(Texts.privateStopped("bob")));
    r.put("privateStoppedByPeer(String)", () -> List.of(Texts.privateStoppedByPeer("bob")));
    r.put(
        "privateClosed(String,Reason)",
        () ->
            Arrays.stream(Bye.Reason.values())
                .map(reason -> Texts.privateClosed("bob", reason))
                .toList());
    r.put("privateConnectionLost(String)", () -> List.of(Texts.privateConnectionLost("bob")));
    r.put("privateProtocolError(String)", () -> List.of(Texts.privateProtocolError("bob")));
    r.put(
        "privateLineTooLong(String,int)",
        () -> List.of(Texts.privateLineTooLong("bob", FRAME_LIMIT)));
    r.put(
        "privateUndelivered(String,String)",
        () -> List.of(Texts.privateUndelivered("bob", "hey dude")));
    r.put("privateAlreadyEnabled(String)", () -> List.of(Texts.privateAlreadyEnabled("bob")));
    r.put("privateNotEnabled(String)", () -> List.of(Texts.privateNotEnabled("carol")));
    r.put("privateBacklogFull(String)", () -> List.of(Texts.privateBacklogFull("bob")));
    return r;
  }

  /**
   * The usage error of every command, as the parser gives it: each command alone and with words to
   * spare, whichever of the two is wrong for it.
   */
  private static List<String> usageErrors() {
    List<String> errors = new ArrayList<>();
    for (String command : CommandParser.COMMANDS) {
      String usage =
          Stream.of(command, command + " x y z")
              .map(CommandParser::parse)
              .filter(UserCommand.Rejected.class::isInstance)
              .map(rejected -> ((UserCommand.Rejected) rejected).error())
              .filter(error -> error.startsWith(Texts.usage("")))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no usage error found for " + command));
      errors.add(usage);
    }
    return errors;
  }

  private static String refusal(String text) {
    return WireText.refusal(text, Protocol.MAX_TEXT_BYTES)
        .orElseThrow(() -> new AssertionError("the protocol takes " + text));
  }

  @Test
  void shouldRenderEveryPublicMethodOrSayWhyNot() {
    Set<String> methods =
        Arrays.stream(Texts.class.getDeclaredMethods())
            .filter(method -> isPublicStatic(method.getModifiers()))
            .map(ClientDocTest::signature)
            .collect(Collectors.toCollection(TreeSet::new));
    Set<String> covered = new TreeSet<>(renderings().keySet());
    covered.addAll(NOT_SHOWN.keySet());

    Set<String> unchecked = new TreeSet<>(methods);
    unchecked.removeAll(covered);
    Set<String> stale = new TreeSet<>(covered);
    stale.removeAll(methods);
    assertAll(
        () -> assertEquals(Set.of(), unchecked, "Texts methods with no rendering in this test"),
        () -> assertEquals(Set.of(), stale, "renderings of methods Texts no longer has"));
  }

  @TestFactory
  Stream<DynamicTest> shouldShowEveryConstantOfTexts() throws IOException {
    List<String> lines = textLines();
    return Arrays.stream(Texts.class.getDeclaredFields())
        .filter(field -> isPublicStatic(field.getModifiers()))
        .map(
            field ->
                DynamicTest.dynamicTest(
                    field.getName(),
                    () -> constantLines(field).forEach(line -> assertShown(lines, line))));
  }

  @TestFactory
  Stream<DynamicTest> shouldShowEveryLineTheMethodsOfTextsRender() throws IOException {
    List<String> lines = textLines();
    return renderings().entrySet().stream()
        .flatMap(
            entry ->
                entry.getValue().get().stream()
                    .map(
                        line ->
                            DynamicTest.dynamicTest(
                                entry.getKey() + ": " + line, () -> assertShown(lines, line))));
  }

  @Test
  void shouldAnswerTypedLinesAsTheClientDoes() throws IOException {
    List<String> lines = textLines();
    List<Runnable> checks = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).startsWith(TYPED)) {
        continue;
      }
      String typed = lines.get(i).substring(TYPED.length());
      List<String> answer = localAnswer(CommandParser.parse(typed));
      List<String> shown = lines.subList(i + 1, Math.min(lines.size(), i + 1 + answer.size()));
      checks.add(() -> assertEquals(answer, shown, () -> "what the client answers to " + typed));
    }
    assertFalse(checks.isEmpty(), "no typed lines found in " + DOC);
    assertAll(checks.stream().map(check -> check::run));
  }

  @Test
  void shouldShowTheHelpOfTheCommandLine() throws IOException {
    List<String> lines = textLines();
    assertAll(
        Arrays.stream(CommandLine.USAGE.split(System.lineSeparator()))
            .map(line -> () -> assertShown(lines, line)));
  }

  @Test
  void shouldShowTheSignsThatStandForUnsafeCharacters() throws IOException {
    String doc = Files.readString(DOC, StandardCharsets.UTF_8);
    assertTrue(doc.contains("`" + Texts.LINE_BREAK_SIGN + "`"), "the line break sign");
    assertTrue(doc.contains("`" + Texts.UNPRINTABLE_SIGN + "`"), "the unprintable sign");
  }

  // ---------------------------------------------------------------------------------------------

  /** What the client prints by itself for a typed line: nothing for what the server answers. */
  private static List<String> localAnswer(UserCommand command) {
    if (command instanceof UserCommand.Rejected rejected) {
      return List.of(rejected.error());
    } else if (command instanceof UserCommand.Help help) {
      return help.command().isEmpty() ? Texts.HELP : Texts.help(help.command());
    }
    return List.of();
  }

  private static List<String> constantLines(Field field) throws IllegalAccessException {
    Object value = field.get(null);
    if (value instanceof String line) {
      return List.of(line);
    } else if (value instanceof List<?> list && list.stream().allMatch(String.class::isInstance)) {
      return list.stream().map(String.class::cast).toList();
    }
    return fail(field.getName() + " is neither a line nor a list of lines: teach this test it");
  }

  /**
   * A prompt (a text the user's answer follows on the same line) must start a line of the examples;
   * anything else must be one.
   */
  private static void assertShown(List<String> lines, String expected) {
    boolean prompt = expected.endsWith(" ");
    boolean shown =
        lines.stream().anyMatch(line -> prompt ? line.startsWith(expected) : line.equals(expected));
    assertTrue(shown, () -> "not shown in a ```text block of " + DOC + ": \"" + expected + "\"");
  }

  /** The lines of every {@code ```text} block, in order. */
  private static List<String> textLines() throws IOException {
    List<String> lines = new ArrayList<>();
    boolean inText = false;
    for (String line : Files.readAllLines(DOC, StandardCharsets.UTF_8)) {
      if (!inText && line.strip().equals(TEXT_FENCE)) {
        inText = true;
      } else if (inText && line.strip().equals(FENCE)) {
        inText = false;
      } else if (inText) {
        lines.add(line);
      }
    }
    assertFalse(lines.isEmpty(), "no ```text blocks in " + DOC);
    return lines;
  }

  private static boolean isPublicStatic(int modifiers) {
    return Modifier.isPublic(modifiers) && Modifier.isStatic(modifiers);
  }

  private static String signature(Method method) {
    return method.getName()
        + Arrays.stream(method.getParameterTypes())
            .map(Class::getSimpleName)
            .collect(Collectors.joining(",", "(", ")"));
  }
}
