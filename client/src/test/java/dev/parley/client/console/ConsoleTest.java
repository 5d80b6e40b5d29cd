package dev.parley.client.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import dev.parley.client.ClientSettings;
import dev.parley.client.testing.PipedTerminal;
import dev.parley.client.testing.TestKits;
import dev.parley.client.testing.TestSettings;
import dev.parley.client.text.Renderer;
import dev.parley.protocol.ServerMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.ExternalTerminal;
import org.jline.utils.AttributedString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConsoleTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final ClientSettings settings = TestSettings.defaults();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ActorRef<Console.Command> spawnConsole(
      Terminal terminal, TerminalSettings terminalSettings) {
    return testKit.spawn(
        Console.create(terminal, settings, terminalSettings),
        DispatcherSelector.fromConfig(ClientSettings.CONSOLE_DISPATCHER));
  }

  private static final Clock NINE_FIVE =
      Clock.fixed(Instant.parse("2026-03-01T09:05:30Z"), ZoneOffset.UTC);

  private static TerminalSettings colours() {
    return new TerminalSettings(true, false, Optional.empty(), 0, NINE_FIVE);
  }

  @Test
  void shouldStyleEachKindOfLineOnAnInteractiveTerminalKeepingItsText() throws IOException {
    ByteArrayOutputStream screen = new ByteArrayOutputStream();
    try (PipedOutputStream keyboard = new PipedOutputStream();
        Terminal terminal =
            new ExternalTerminal(
                "test",
                "xterm-256color",
                new PipedInputStream(keyboard),
                screen,
                StandardCharsets.UTF_8)) {
      ActorRef<Console.Command> console = spawnConsole(terminal, colours());
      TestProbe<Console.Receipt> receipts = testKit.createTestProbe();
      List<Console.Print> lines =
          List.of(
              new Console.Print("yoda: hi", Console.Kind.INCOMING),
              new Console.Print("yoda(private): psst", Console.Kind.PRIVATE),
              new Console.Print("yoda logged in", Console.Kind.PRESENCE),
              new Console.Print("yoda is blocked", Console.Kind.OWN),
              new Console.Print("Error. Invalid command", Console.Kind.PLAIN));
      lines.forEach(console::tell);
      console.tell(new Console.PrintWithReceipt("Welcome", 1, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(1));
      String shown = shown(screen);
      List<String> styled = new ArrayList<>();
      for (Console.Print line : lines) {
        String ansi =
            new AttributedString(line.line(), Console.styleOf(line.line(), line.kind()))
                .toAnsi(terminal);
        assertTrue(shown.contains(ansi), () -> ansi + " not in " + shown);
        assertTrue(ansi.contains(line.line()) && ansi.startsWith("\u001b["), ansi);
        styled.add(ansi.substring(0, ansi.indexOf(line.line())));
      }
      // Five kinds, five looks.
      assertEquals(5, Set.copyOf(styled).size(), styled.toString());
    }
  }

  @Test
  void shouldShowPlainTextOnAnInteractiveTerminalWithColoursOff() throws IOException {
    ByteArrayOutputStream screen = new ByteArrayOutputStream();
    try (PipedOutputStream keyboard = new PipedOutputStream();
        Terminal terminal =
            new ExternalTerminal(
                "test",
                "xterm-256color",
                new PipedInputStream(keyboard),
                screen,
                StandardCharsets.UTF_8)) {
      ActorRef<Console.Command> console = spawnConsole(terminal, TerminalSettings.plain());
      TestProbe<Console.Receipt> receipts = testKit.createTestProbe();
      console.tell(
          new Console.PrintWithReceipt("yoda: hi", Console.Kind.INCOMING, 1, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(1));
      assertFalse(shown(screen).contains("\u001b["), shown(screen));
      assertTrue(shown(screen).contains("yoda: hi"));
    }
  }

  /** The classic e2e tests compare piped output byte for byte: no colour reaches it. */
  @Test
  void shouldKeepPipedOutputPlainWithColoursOn() throws IOException {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ActorRef<Console.Command> console = spawnConsole(terminal.terminal(), colours());
      TestProbe<Console.Receipt> receipts = testKit.createTestProbe();
      console.tell(new Console.Print("yoda: hi", Console.Kind.INCOMING));
      console.tell(new Console.Print("yoda logged out", Console.Kind.PRESENCE));
      console.tell(new Console.PrintWithReceipt("Error. Invalid command", 1, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(1));
      assertEquals("yoda: hi\nyoda logged out\nError. Invalid command\n", terminal.output());
    }
  }

  @Test
  void shouldTimestampIncomingLinesOnlyWhenAskedTo() throws IOException {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ActorRef<Console.Command> console =
          spawnConsole(
              terminal.terminal(),
              new TerminalSettings(false, true, Optional.empty(), 0, NINE_FIVE));
      TestProbe<Console.Receipt> receipts = testKit.createTestProbe();
      console.tell(new Console.Print("yoda: hi", Console.Kind.INCOMING));
      console.tell(new Console.Print("yoda(private): psst", Console.Kind.PRIVATE));
      console.tell(new Console.Print("yoda logged in", Console.Kind.PRESENCE));
      console.tell(new Console.Print("yoda is blocked", Console.Kind.OWN));
      console.tell(new Console.PrintWithReceipt("Welcome", 1, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(1));
      assertEquals(
          "[09:05] yoda: hi\n[09:05] yoda(private): psst\n[09:05] yoda logged in\n"
              + "yoda is blocked\nWelcome\n",
          terminal.output());
    }
    try (PipedTerminal terminal = new PipedTerminal()) {
      ActorRef<Console.Command> console = spawnConsole(terminal.terminal(), colours());
      TestProbe<Console.Receipt> receipts = testKit.createTestProbe();
      console.tell(
          new Console.PrintWithReceipt("yoda: hi", Console.Kind.INCOMING, 1, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(1));
      assertEquals("yoda: hi\n", terminal.output());
    }
  }

  @Test
  void shouldKeepCommandsButNeverPasswordsInTheHistoryFile(@TempDir Path home) throws IOException {
    Path history = home.resolve("sub").resolve("history");
    TerminalSettings remembering =
        new TerminalSettings(false, false, Optional.of(history), 500, NINE_FIVE);
    PipedInputStream keyboardIn = new PipedInputStream();
    PipedOutputStream keyboard = new PipedOutputStream(keyboardIn);
    ByteArrayOutputStream screen = new ByteArrayOutputStream();
    try (keyboard;
        Terminal terminal =
            new ExternalTerminal("test", "xterm", keyboardIn, screen, StandardCharsets.UTF_8)) {
      ActorRef<Console.Command> console = spawnConsole(terminal, remembering);
      TestProbe<Console.Input> input = testKit.createTestProbe();

      console.tell(new Console.ReadLine("Username: ", false, input.ref()));
      awaitShown(input, screen, "Username: ");
      keyboard.write("hans\r".getBytes(StandardCharsets.UTF_8));
      keyboard.flush();
      input.expectMessage(new Console.LineRead("hans"));
      console.tell(new Console.ReadLine("Password: ", true, input.ref()));
      awaitShown(input, screen, "Password: ");
      keyboard.write("falcon\r".getBytes(StandardCharsets.UTF_8));
      keyboard.flush();
      input.expectMessage(new Console.LineRead("falcon"));
      console.tell(new Console.ReadCommand(input.ref()));
      awaitShown(input, screen, "> ");
      keyboard.write("whoelse\r".getBytes(StandardCharsets.UTF_8));
      keyboard.flush();
      input.expectMessage(new Console.LineRead("whoelse"));
      console.tell(new Console.ReadCommand(input.ref()));
      awaitShown(input, screen, "> ");
      keyboard.write("broadcast hi\r".getBytes(StandardCharsets.UTF_8));
      keyboard.flush();
      input.expectMessage(new Console.LineRead("broadcast hi"));
    }
    assertEquals(List.of("whoelse", "broadcast hi"), Files.readAllLines(history));

    // The next run finds them: arrow-up recalls the last command.
    PipedInputStream keyboardIn2 = new PipedInputStream();
    PipedOutputStream keyboard2 = new PipedOutputStream(keyboardIn2);
    ByteArrayOutputStream screen2 = new ByteArrayOutputStream();
    try (keyboard2;
        Terminal terminal =
            new ExternalTerminal("test", "xterm", keyboardIn2, screen2, StandardCharsets.UTF_8)) {
      ActorRef<Console.Command> console = spawnConsole(terminal, remembering);
      TestProbe<Console.Input> input = testKit.createTestProbe();
      console.tell(new Console.ReadCommand(input.ref()));
      awaitShown(input, screen2, "> ");
      keyboard2.write("\u001bOA\r".getBytes(StandardCharsets.UTF_8));
      keyboard2.flush();
      input.expectMessage(new Console.LineRead("broadcast hi"));
    }
  }

  @Test
  void shouldCompleteCommandsAndTheUsersItWasToldOf() throws IOException {
    PipedInputStream keyboardIn = new PipedInputStream();
    PipedOutputStream keyboard = new PipedOutputStream(keyboardIn);
    ByteArrayOutputStream screen = new ByteArrayOutputStream();
    try (keyboard;
        Terminal terminal =
            new ExternalTerminal("test", "xterm", keyboardIn, screen, StandardCharsets.UTF_8)) {
      ActorRef<Console.Command> console = spawnConsole(terminal, TerminalSettings.plain());
      TestProbe<Console.Input> input = testKit.createTestProbe();
      console.tell(new Console.UserSeen("yoda"));
      console.tell(new Console.UserSeen("hans"));
      console.tell(new Console.UserSeen("vader"));
      console.tell(new Console.UserGone("vader"));

      console.tell(new Console.ReadCommand(input.ref()));
      awaitShown(input, screen, "> ");
      keyboard.write("mess\tyo\thello\r".getBytes(StandardCharsets.UTF_8));
      keyboard.flush();
      input.expectMessage(new Console.LineRead("message yoda hello"));

      console.tell(new Console.ReadCommand(input.ref()));
      awaitShown(input, screen, "> ");
      keyboard.write("block va\t\r".getBytes(StandardCharsets.UTF_8));
      keyboard.flush();
      // vader logged out: nothing to complete.
      input.expectMessage(new Console.LineRead("block va"));
    }
  }

  private static ActorRef<Console.Command> spawnConsole(Terminal terminal) {
    return testKit.spawn(
        Console.create(terminal, settings, TerminalSettings.plain()),
        DispatcherSelector.fromConfig(ClientSettings.CONSOLE_DISPATCHER));
  }

  @Test
  void shouldWriteOnlyPromptsAndLinesWhenPiped() throws IOException {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ActorRef<Console.Command> console = spawnConsole(terminal.terminal());
      TestProbe<Console.Input> input = testKit.createTestProbe();
      TestProbe<Console.Receipt> receipts = testKit.createTestProbe();

      console.tell(new Console.ReadLine("Username: ", false, input.ref()));
      terminal.type("hans\n");
      input.expectMessage(new Console.LineRead("hans"));
      // No echo, not even of the Enter.
      assertEquals("Username: ", terminal.output());

      console.tell(new Console.ReadLine("Password: ", true, input.ref()));
      terminal.type("falcon\r\n");
      input.expectMessage(new Console.LineRead("falcon"));

      console.tell(new Console.ReadCommand(input.ref()));
      console.tell(new Console.PrintWithReceipt("Welcome", 1, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(1));
      terminal.type("message yoda  Hey  Dude \n");
      input.expectMessage(new Console.LineRead("message yoda  Hey  Dude "));

      assertEquals("Username: Password: Welcome\n", terminal.output());
    }
  }

  /** The prompt stays where it is; the line is complete and followed by nothing of the user's. */
  @Test
  void shouldPrintAWholeLineWhileAPromptIsPending() throws IOException {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ActorRef<Console.Command> console = spawnConsole(terminal.terminal());
      TestProbe<Console.Input> input = testKit.createTestProbe();
      TestProbe<Console.Receipt> receipts = testKit.createTestProbe();

      console.tell(new Console.ReadLine("Username: ", false, input.ref()));
      console.tell(new Console.PrintWithReceipt("yoda logged in", 1, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(1));
      assertEquals("Username: yoda logged in\n", terminal.output());

      // The answer still goes to the pending read, and stays off the screen.
      terminal.type("hans\n");
      input.expectMessage(new Console.LineRead("hans"));
      console.tell(new Console.PrintWithReceipt("Welcome", 2, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(2));
      assertEquals("Username: yoda logged in\nWelcome\n", terminal.output());
    }
  }

  @Test
  void shouldReportTheEndOfInputToThisAndEveryLaterRead() throws IOException {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ActorRef<Console.Command> console = spawnConsole(terminal.terminal());
      TestProbe<Console.Input> input = testKit.createTestProbe();
      TestProbe<Done> flushed = testKit.createTestProbe();

      terminal.type("whoelse\nlast line without a line feed");
      terminal.endInput();
      console.tell(new Console.ReadCommand(input.ref()));
      input.expectMessage(new Console.LineRead("whoelse"));
      console.tell(new Console.ReadCommand(input.ref()));
      input.expectMessage(new Console.LineRead("last line without a line feed"));
      console.tell(new Console.ReadCommand(input.ref()));
      input.expectMessage(Console.InputEnded.INSTANCE);
      console.tell(new Console.ReadLine("Username: ", false, input.ref()));
      input.expectMessage(Console.InputEnded.INSTANCE);

      console.tell(new Console.Close(flushed.ref()));
      flushed.expectMessage(Done.getInstance());
      assertEquals("", terminal.output());
    }
  }

  @Test
  void shouldServeReadsOneAtATimeInOrder() throws IOException {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ActorRef<Console.Command> console = spawnConsole(terminal.terminal());
      TestProbe<Console.Input> first = testKit.createTestProbe();
      TestProbe<Console.Input> second = testKit.createTestProbe();

      console.tell(new Console.ReadCommand(first.ref()));
      console.tell(new Console.ReadCommand(second.ref()));
      terminal.type("one\ntwo\n");
      first.expectMessage(new Console.LineRead("one"));
      second.expectMessage(new Console.LineRead("two"));
    }
  }

  @Test
  void shouldMaskThePasswordAndPromptForCommandsOnAnInteractiveTerminal() throws IOException {
    PipedInputStream keyboardIn = new PipedInputStream();
    PipedOutputStream keyboard = new PipedOutputStream(keyboardIn);
    ByteArrayOutputStream screen = new ByteArrayOutputStream();
    try (Terminal terminal =
        new ExternalTerminal("test", "xterm", keyboardIn, screen, StandardCharsets.UTF_8)) {
      ActorRef<Console.Command> console = spawnConsole(terminal);
      TestProbe<Console.Input> input = testKit.createTestProbe();

      console.tell(new Console.ReadLine("Password: ", true, input.ref()));
      // Typed ahead of the prompt, the terminal itself would echo the text (as a real one does).
      awaitShown(input, screen, "Password: ");
      keyboard.write("falcon\r".getBytes(StandardCharsets.UTF_8));
      keyboard.flush();
      input.expectMessage(new Console.LineRead("falcon"));
      String shown = shown(screen);
      assertTrue(shown.contains("Password: ******"), shown);
      assertFalse(shown.contains("falcon"), shown);

      console.tell(new Console.ReadCommand(input.ref()));
      awaitShown(input, screen, "> ");
      keyboard.write("whoelse!\r".getBytes(StandardCharsets.UTF_8));
      keyboard.flush();
      // Event expansion is off: '!' reaches the client as typed.
      input.expectMessage(new Console.LineRead("whoelse!"));
      assertTrue(shown(screen).contains("> whoelse!"));
    }
  }

  /** Waits until the line editor has drawn the prompt, that is, entered its raw mode. */
  private static void awaitShown(
      TestProbe<?> probe, ByteArrayOutputStream screen, String promptEnding) {
    probe.awaitAssert(
        () -> {
          assertTrue(shown(screen).endsWith(promptEnding));
          return Done.getInstance();
        });
  }

  @Test
  void shouldCancelAPendingInteractiveReadWhenClosed() throws IOException {
    PipedInputStream keyboardIn = new PipedInputStream();
    PipedOutputStream keyboard = new PipedOutputStream(keyboardIn);
    ByteArrayOutputStream screen = new ByteArrayOutputStream();
    try (keyboard;
        Terminal terminal =
            new ExternalTerminal("test", "xterm", keyboardIn, screen, StandardCharsets.UTF_8)) {
      ActorRef<Console.Command> console = spawnConsole(terminal);
      TestProbe<Console.Input> input = testKit.createTestProbe();
      TestProbe<Done> closed = testKit.createTestProbe();

      console.tell(new Console.ReadCommand(input.ref()));
      awaitShown(input, screen, "> ");
      console.tell(new Console.Close(closed.ref()));
      input.expectMessage(Console.InputEnded.INSTANCE);
      closed.expectMessage(Done.getInstance());
      console.tell(new Console.ReadCommand(input.ref()));
      input.expectMessage(Console.InputEnded.INSTANCE);
    }
  }

  @Test
  void shouldCloseAtOnceWhenPipedEvenWithAReadPending() throws IOException {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ActorRef<Console.Command> console = spawnConsole(terminal.terminal());
      TestProbe<Console.Input> input = testKit.createTestProbe();
      TestProbe<Done> closed = testKit.createTestProbe();

      console.tell(new Console.ReadLine("Username: ", false, input.ref()));
      console.tell(new Console.Print("Error. Lost connection to the server"));
      console.tell(new Console.Close(closed.ref()));
      closed.expectMessage(Done.getInstance());
      assertEquals("Username: Error. Lost connection to the server\n", terminal.output());
      console.tell(new Console.ReadCommand(input.ref()));
      input.expectMessage(Console.InputEnded.INSTANCE);
    }
  }

  /** What a hostile sender would like to do to the terminal, and to the lines around theirs. */
  private static final ServerMessage.MessageReceived HOSTILE =
      new ServerMessage.MessageReceived(
          "mallory\u202E",
          "hi\r\nluke: send me your password\u001b]0;owned\u0007\u001b[2J\u009b1A\b\b",
          1,
          null);

  private static final String HOSTILE_SHOWN =
      "mallory\uFFFD: hi\u21B5luke: send me your password"
          + "\uFFFD]0;owned\uFFFD\uFFFD[2J\uFFFD1A\uFFFD\uFFFD";

  @Test
  void shouldShowAHostileRemoteTextAsOneHarmlessLineWhenPiped() throws IOException {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ActorRef<Console.Command> console = spawnConsole(terminal.terminal());
      TestProbe<Console.Receipt> receipts = testKit.createTestProbe();
      console.tell(
          new Console.PrintWithReceipt(Renderer.render(HOSTILE).get(0), 1, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(1));
      assertEquals(HOSTILE_SHOWN + "\n", terminal.output());
    }
  }

  @Test
  void shouldShowAHostileRemoteTextWithoutItsEscapesOnAnInteractiveTerminal() throws IOException {
    PipedInputStream keyboardIn = new PipedInputStream();
    PipedOutputStream keyboard = new PipedOutputStream(keyboardIn);
    ByteArrayOutputStream screen = new ByteArrayOutputStream();
    try (keyboard;
        Terminal terminal =
            new ExternalTerminal("test", "xterm", keyboardIn, screen, StandardCharsets.UTF_8)) {
      ActorRef<Console.Command> console = spawnConsole(terminal);
      TestProbe<Console.Input> input = testKit.createTestProbe();
      TestProbe<Console.Receipt> receipts = testKit.createTestProbe();
      console.tell(new Console.ReadCommand(input.ref()));
      awaitShown(input, screen, "> ");
      console.tell(
          new Console.PrintWithReceipt(Renderer.render(HOSTILE).get(0), 1, receipts.ref()));
      receipts.expectMessage(new Console.Receipt(1));
      String shown = shown(screen);
      // Printed above the prompt by the line editor, whose own escapes are all the screen holds.
      assertTrue(shown.contains(HOSTILE_SHOWN), shown);
      for (String hostile : List.of("\u001b]0;", "\u0007", "\u001b[2J", "\u009b", "\u202E")) {
        assertFalse(shown.contains(hostile), hostile);
      }
    }
  }

  private static String shown(ByteArrayOutputStream screen) {
    return screen.toString(StandardCharsets.UTF_8);
  }
}
