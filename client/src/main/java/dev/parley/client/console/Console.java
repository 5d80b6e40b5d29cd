package dev.parley.client.console;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.parley.client.ClientSettings;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStyle;
import org.jline.utils.NonBlockingReader;

/**
 * The client's only access to the terminal: every line shown and every line read goes through this
 * actor, so output never interleaves mid-line. Run it on the console dispatcher ({@link
 * ClientSettings#CONSOLE_DISPATCHER}): writing to a terminal is blocking I/O.
 *
 * <p>Protocol: {@link Print} shows a line (above the prompt while the user is typing); {@link
 * PrintWithReceipt} does the same and answers {@link Receipt} once it is on the terminal; {@link
 * Close} answers {@link Done} once everything sent before it is shown and a pending interactive
 * read has been cancelled. {@link ReadLine} and {@link ReadCommand} read one line and answer {@link
 * LineRead}, or {@link InputEnded} at end of input, Ctrl-D or Ctrl-C. Reads are served one at a
 * time, in order; the blocking read itself runs on the console's own input thread, never on an
 * actor thread. That thread is a daemon, interrupted when the console stops, so a read still
 * waiting for the user can neither keep the JVM alive nor the terminal in raw mode.
 *
 * <p>On an interactive terminal, lines are read with JLine's line editor (a masked password shows
 * {@code *}) and commands get the configured prompt. On a dumb terminal (stdin not a TTY: scripts,
 * pipes, tests) the console is plain: it writes only the prompts it is given (no command prompt),
 * each shown line followed by {@code \n} and flushed, no echo of the input and no escape sequences.
 * A prompt is never terminated: whatever comes next (a line, the next prompt) follows it directly,
 * where a terminal would have shown the user's answer, so {@code Username: Password: Welcome...} is
 * one line of output and every shown line still ends with its own {@code \n}.
 */
public final class Console extends AbstractBehavior<Console.Command> {

  /** Everything the console does. */
  public sealed interface Command {}

  /**
   * What a line is, which decides how it looks on a colour terminal and whether it gets a
   * timestamp. A line starting with {@code Error.} is shown as an error whatever its kind.
   */
  public enum Kind {
    /** Anything else: the welcome, help, notices. */
    PLAIN,
    /** The outcome of the user's own command (blocked, private chat started...). */
    OWN,
    /** A message or broadcast from another user, through the server; timestamped. */
    INCOMING,
    /** A message over a private chat; timestamped. */
    PRIVATE,
    /** Someone logged in or out; timestamped. */
    PRESENCE
  }

  /** Show one line. */
  public record Print(String line, Kind kind) implements Command {
    public Print(String line) {
      this(line, Kind.PLAIN);
    }
  }

  /** Show one line, then answer {@link Receipt} with {@code ticket}. */
  public record PrintWithReceipt(String line, Kind kind, long ticket, ActorRef<Receipt> replyTo)
      implements Command {
    public PrintWithReceipt(String line, long ticket, ActorRef<Receipt> replyTo) {
      this(line, Kind.PLAIN, ticket, replyTo);
    }
  }

  /** A user name for Tab to complete: someone online, or who sent a message. */
  public record UserSeen(String user) implements Command {}

  /** A user logged out: Tab no longer offers the name. */
  public record UserGone(String user) implements Command {}

  /** The line of a {@link PrintWithReceipt} is on the terminal. */
  public record Receipt(long ticket) {}

  /** Read one line after showing {@code prompt}; {@code masked} hides what is typed. */
  public record ReadLine(String prompt, boolean masked, ActorRef<Input> replyTo)
      implements Command {}

  /** Read one command line, with the command prompt if the terminal is interactive. */
  public record ReadCommand(ActorRef<Input> replyTo) implements Command {}

  /**
   * Stop using the terminal: every line sent before this is shown, a pending read is cancelled
   * where the terminal allows it (interactive), later reads end at once; answers {@link Done} once
   * the terminal is back in its normal mode, or after the close timeout.
   */
  public record Close(ActorRef<Done> replyTo) implements Command {}

  /** The answer to a read. */
  public sealed interface Input {}

  /** The user entered a line (without its line terminator). */
  public record LineRead(String text) implements Input {}

  /** Input is over: end of the piped input, Ctrl-D or Ctrl-C. */
  public enum InputEnded implements Input {
    INSTANCE
  }

  private record ReadCompleted(Optional<String> line, Throwable failure) implements Command {}

  private enum CloseTimedOut implements Command {
    INSTANCE
  }

  private record PendingRead(String prompt, boolean masked, ActorRef<Input> replyTo) {}

  private static final char PASSWORD_MASK = '*';
  private static final String INPUT_THREAD_NAME = "parley-console-input";

  /**
   * Creates the console for a terminal the caller owns (and closes), with the terminal settings of
   * the actor system's configuration and the process's environment.
   */
  public static Behavior<Command> create(Terminal terminal, ClientSettings settings) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers ->
                    new Console(
                        context,
                        timers,
                        terminal,
                        settings,
                        TerminalSettings.fromConfig(
                            context.getSystem().settings().config(), System.getenv()))));
  }

  /** Like {@link #create(Terminal, ClientSettings)}, with the terminal settings given. */
  public static Behavior<Command> create(
      Terminal terminal, ClientSettings settings, TerminalSettings terminalSettings) {
    return Behaviors.setup(
        context ->
            Behaviors.withTimers(
                timers -> new Console(context, timers, terminal, settings, terminalSettings)));
  }

  private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("'['HH:mm'] '");
  private static final String ERROR_PREFIX = "Error.";

  private final TimerScheduler<Command> timers;
  private final ClientSettings settings;
  private final TerminalSettings terminalSettings;
  private final CommandCompleter completer = new CommandCompleter();
  private final Screen screen;
  private final ExecutorService inputThread;
  private final Deque<PendingRead> queuedReads = new ArrayDeque<>();
  private PendingRead currentRead;
  private boolean inputEnded;
  private ActorRef<Done> closedReplyTo;

  private Console(
      ActorContext<Command> context,
      TimerScheduler<Command> timers,
      Terminal terminal,
      ClientSettings settings,
      TerminalSettings terminalSettings) {
    super(context);
    this.timers = timers;
    this.settings = settings;
    this.terminalSettings = terminalSettings;
    this.screen =
        isDumb(terminal)
            ? new PlainScreen(terminal)
            : new EditingScreen(
                terminal, settings.commandPrompt(), terminalSettings, completer, context);
    this.inputThread = Executors.newSingleThreadExecutor(Console::newInputThread);
    context.getLog().debug("Console on a {} terminal", terminal.getType());
  }

  /** Whether JLine gave a dumb terminal, which is what it does when stdin is not a TTY. */
  public static boolean isDumb(Terminal terminal) {
    return Terminal.TYPE_DUMB.equals(terminal.getType())
        || Terminal.TYPE_DUMB_COLOR.equals(terminal.getType());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Print.class, this::onPrint)
        .onMessage(PrintWithReceipt.class, this::onPrintWithReceipt)
        .onMessage(Close.class, this::onClose)
        .onMessage(ReadLine.class, this::onReadLine)
        .onMessage(ReadCommand.class, this::onReadCommand)
        .onMessage(ReadCompleted.class, this::onReadCompleted)
        .onMessage(UserSeen.class, seen -> onUsers(() -> completer.add(seen.user())))
        .onMessage(UserGone.class, gone -> onUsers(() -> completer.remove(gone.user())))
        .onMessageEquals(CloseTimedOut.INSTANCE, this::onCloseTimedOut)
        .onSignal(PostStop.class, signal -> onPostStop())
        .build();
  }

  private Behavior<Command> onPrint(Print print) {
    show(print.line(), print.kind());
    return this;
  }

  private Behavior<Command> onUsers(Runnable update) {
    update.run();
    return this;
  }

  /** The names Tab completes after a command that takes a user. */
  CommandCompleter completer() {
    return completer;
  }

  private void show(String line, Kind kind) {
    boolean timestamped =
        terminalSettings.timestamps()
            && (kind == Kind.INCOMING || kind == Kind.PRIVATE || kind == Kind.PRESENCE);
    String text =
        timestamped ? TIMESTAMP.format(LocalTime.now(terminalSettings.clock())) + line : line;
    screen.print(text, line.startsWith(ERROR_PREFIX) ? null : kind);
  }

  /** How a line looks on a colour terminal: errors by their {@code Error.}, others by kind. */
  static AttributedStyle styleOf(String line, Kind kind) {
    return EditingScreen.style(line.startsWith(ERROR_PREFIX) ? null : kind);
  }

  private Behavior<Command> onPrintWithReceipt(PrintWithReceipt print) {
    show(print.line(), print.kind());
    print.replyTo().tell(new Receipt(print.ticket()));
    return this;
  }

  private Behavior<Command> onClose(Close close) {
    screen.flush();
    inputEnded = true;
    queuedReads.forEach(queued -> queued.replyTo().tell(InputEnded.INSTANCE));
    queuedReads.clear();
    if (currentRead != null && screen.cancelRead()) {
      // Answered once the line editor has left raw mode and restored the terminal.
      closedReplyTo = close.replyTo();
      timers.startSingleTimer(CloseTimedOut.INSTANCE, settings.closeTimeout());
    } else {
      close.replyTo().tell(Done.getInstance());
    }
    return this;
  }

  private Behavior<Command> onPostStop() {
    // Ends an interactive read (JLine restores the terminal); a pipe read just stays blocked.
    inputThread.shutdownNow();
    return this;
  }

  private Behavior<Command> onCloseTimedOut() {
    getContext().getLog().debug("The pending terminal read did not end; closing anyway");
    replyClosed();
    return this;
  }

  private void replyClosed() {
    if (closedReplyTo != null) {
      screen.flush();
      closedReplyTo.tell(Done.getInstance());
      closedReplyTo = null;
    }
  }

  private Behavior<Command> onReadLine(ReadLine read) {
    return enqueue(new PendingRead(read.prompt(), read.masked(), read.replyTo()));
  }

  private Behavior<Command> onReadCommand(ReadCommand read) {
    return enqueue(new PendingRead(screen.commandPrompt(), false, read.replyTo()));
  }

  private Behavior<Command> enqueue(PendingRead read) {
    if (inputEnded) {
      read.replyTo().tell(InputEnded.INSTANCE);
    } else {
      queuedReads.add(read);
      startNextRead();
    }
    return this;
  }

  private void startNextRead() {
    if (currentRead != null || queuedReads.isEmpty()) {
      return;
    }
    currentRead = queuedReads.poll();
    BlockingRead read = screen.prepareRead(currentRead.prompt(), currentRead.masked());
    CompletableFuture<Optional<String>> line =
        CompletableFuture.supplyAsync(() -> blocking(read), inputThread);
    getContext().pipeToSelf(line, ReadCompleted::new);
  }

  private static Thread newInputThread(Runnable reads) {
    Thread thread = new Thread(reads, INPUT_THREAD_NAME);
    thread.setDaemon(true);
    return thread;
  }

  /** Runs on the input thread. */
  private static Optional<String> blocking(BlockingRead read) {
    try {
      return read.readLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Behavior<Command> onReadCompleted(ReadCompleted completed) {
    if (completed.failure() != null) {
      getContext().getLog().warn("Reading from the terminal failed", completed.failure());
    }
    Optional<String> line =
        completed.failure() == null ? completed.line() : Optional.<String>empty();
    PendingRead read = currentRead;
    currentRead = null;
    if (line.isPresent()) {
      read.replyTo().tell(new LineRead(line.get()));
      startNextRead();
    } else {
      inputEnded = true;
      read.replyTo().tell(InputEnded.INSTANCE);
      queuedReads.forEach(queued -> queued.replyTo().tell(InputEnded.INSTANCE));
      queuedReads.clear();
    }
    timers.cancel(CloseTimedOut.INSTANCE);
    replyClosed();
    return this;
  }

  /** The part of a read that blocks; it runs on the input thread. */
  @FunctionalInterface
  private interface BlockingRead {
    /** The line, or empty at the end of input. */
    Optional<String> readLine() throws IOException;
  }

  /** How lines reach one kind of terminal. All but the blocking read run on the actor. */
  private interface Screen {
    /** Shows a line; {@code kind} null for an error. */
    void print(String line, Kind kind);

    void flush();

    String commandPrompt();

    /** Shows what must be shown before reading and returns the blocking read. */
    BlockingRead prepareRead(String prompt, boolean masked);

    /** Makes a pending read end soon if the terminal allows it; whether it will. */
    boolean cancelRead();
  }

  /** A real terminal: JLine's line editor, with incoming lines printed above the prompt. */
  private static final class EditingScreen implements Screen {
    private final LineReader reader;
    private final String commandPrompt;
    private final boolean colors;
    private final ActorContext<Command> context;

    EditingScreen(
        Terminal terminal,
        String commandPrompt,
        TerminalSettings settings,
        CommandCompleter completer,
        ActorContext<Command> context) {
      LineReaderBuilder builder =
          LineReaderBuilder.builder()
              .terminal(terminal)
              .completer(completer)
              // Without this, JLine would treat '!' and '\' in messages as history expansion.
              .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
              // A name completes only from what was typed, never to a near miss: Tab must not
              // turn va into hans.
              .option(LineReader.Option.COMPLETE_MATCHER_TYPO, false)
              .option(LineReader.Option.HISTORY_IGNORE_DUPS, true)
              .option(LineReader.Option.HISTORY_IGNORE_SPACE, true)
              .option(LineReader.Option.HISTORY_TIMESTAMPED, false)
              .variable(LineReader.HISTORY_SIZE, settings.historySize())
              .variable(LineReader.HISTORY_FILE_SIZE, settings.historySize());
      settings
          .historyFile()
          .ifPresent(file -> builder.variable(LineReader.HISTORY_FILE, file.toAbsolutePath()));
      this.reader = builder.build();
      this.commandPrompt = commandPrompt;
      this.colors = settings.colors();
      this.context = context;
      settings.historyFile().ifPresent(this::prepareHistory);
    }

    /** The client's directory may not exist yet; the history must not be readable by others. */
    private void prepareHistory(Path file) {
      try {
        Files.createDirectories(file.getParent());
        if (!Files.exists(file)) {
          Files.createFile(file);
          try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
          } catch (UnsupportedOperationException notPosix) {
            // Left as the system makes it.
          }
        }
        reader.getHistory().load();
      } catch (IOException | IllegalArgumentException e) {
        context.getLog().warn("Cannot use the history file {}: {}", file, e.toString());
        reader.setVariable(LineReader.HISTORY_FILE, null);
      }
    }

    @Override
    public void print(String line, Kind kind) {
      // Thread-safe against the pending readLine: JLine redraws the prompt and the typed text.
      if (colors) {
        reader.printAbove(new AttributedString(line, style(kind)));
      } else {
        reader.printAbove(line);
      }
    }

    /** How a kind of line looks; null is an error. Only the style changes, never the text. */
    static AttributedStyle style(Kind kind) {
      if (kind == null) {
        return AttributedStyle.BOLD.foreground(AttributedStyle.RED);
      }
      return switch (kind) {
        case PLAIN -> AttributedStyle.DEFAULT;
        case OWN -> AttributedStyle.DEFAULT.foreground(AttributedStyle.GREEN);
        case INCOMING -> AttributedStyle.BOLD.foreground(AttributedStyle.CYAN);
        case PRIVATE -> AttributedStyle.BOLD.foreground(AttributedStyle.MAGENTA);
        case PRESENCE -> AttributedStyle.DEFAULT.faint().italic();
      };
    }

    @Override
    public void flush() {
      reader.getTerminal().flush();
    }

    @Override
    public String commandPrompt() {
      return commandPrompt;
    }

    @Override
    public BlockingRead prepareRead(String prompt, boolean masked) {
      Character mask = masked ? PASSWORD_MASK : null;
      // Only commands are remembered: never a password, nor the answer to any other prompt.
      boolean remembered = !masked && prompt.equals(commandPrompt);
      return () -> {
        try {
          reader.setVariable(LineReader.DISABLE_HISTORY, !remembered);
          return Optional.of(reader.readLine(prompt, mask));
        } catch (EndOfFileException | UserInterruptException ended) {
          return Optional.empty();
        }
      };
    }

    @Override
    public boolean cancelRead() {
      if (!reader.isReading()) {
        return false;
      }
      // What Ctrl-C does: JLine's handler interrupts its read, which restores the terminal.
      reader.getTerminal().raise(Terminal.Signal.INT);
      return true;
    }
  }

  /**
   * A dumb terminal (piped input): prompts and lines as plain text, no editing, no echo. The
   * terminal does not echo either, so nothing typed reaches the output.
   */
  private static final class PlainScreen implements Screen {
    private static final char LINE_FEED = '\n';
    private static final char CARRIAGE_RETURN = '\r';
    private static final String NO_PROMPT = "";

    private final PrintWriter out;
    private final NonBlockingReader in;

    PlainScreen(Terminal terminal) {
      this.out = terminal.writer();
      this.in = terminal.reader();
    }

    @Override
    public void print(String line, Kind kind) {
      // No colours on a dumb terminal: piped output stays the classic plain text.
      out.write(line);
      out.write(LINE_FEED);
      out.flush();
    }

    @Override
    public void flush() {
      out.flush();
    }

    @Override
    public String commandPrompt() {
      return NO_PROMPT;
    }

    @Override
    public BlockingRead prepareRead(String prompt, boolean masked) {
      // Left unterminated: what comes next (a line, another prompt) follows it on the same line,
      // where a terminal would have shown the user's answer; scripts read prompts that way.
      out.write(prompt);
      out.flush();
      return this::readPlainLine;
    }

    @Override
    public boolean cancelRead() {
      // A blocked read of a pipe cannot be interrupted, and needs no terminal restored.
      return false;
    }

    private Optional<String> readPlainLine() throws IOException {
      StringBuilder line = new StringBuilder();
      while (true) {
        int c = in.read();
        if (c == NonBlockingReader.EOF) {
          return line.length() == 0 ? Optional.empty() : Optional.of(withoutCarriageReturn(line));
        } else if (c == LINE_FEED) {
          return Optional.of(withoutCarriageReturn(line));
        } else if (c >= 0) {
          line.append((char) c);
        }
      }
    }

    private static String withoutCarriageReturn(StringBuilder line) {
      int last = line.length() - 1;
      return last >= 0 && line.charAt(last) == CARRIAGE_RETURN
          ? line.substring(0, last)
          : line.toString();
    }
  }
}
