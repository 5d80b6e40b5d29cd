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
import java.util.List;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.ExternalTerminal;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ConsoleTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final ClientSettings settings = TestSettings.defaults();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ActorRef<Console.Command> spawnConsole(Terminal terminal) {
    return testKit.spawn(
        Console.create(terminal, settings),
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
