package dev.parley.client.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.Pipe;
import java.nio.charset.StandardCharsets;
import org.jline.terminal.Terminal;
import org.jline.terminal.impl.DumbTerminal;

/**
 * A dumb terminal over a pipe, as the client sees it when stdin is not a TTY: the test types into
 * it and reads back everything the client wrote. A {@link Pipe} rather than piped streams, which
 * break when the thread that last wrote or read them ends.
 */
public final class PipedTerminal implements AutoCloseable {

  private final Pipe.SinkChannel keyboard;
  private final ByteArrayOutputStream screen = new ByteArrayOutputStream();
  private final Terminal terminal;

  public PipedTerminal() {
    try {
      Pipe pipe = Pipe.open();
      this.keyboard = pipe.sink();
      this.terminal =
          new DumbTerminal(
              "test",
              Terminal.TYPE_DUMB,
              Channels.newInputStream(pipe.source()),
              screen,
              StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public Terminal terminal() {
    return terminal;
  }

  /** Sends text as if typed (include the line feeds). */
  public void type(String text) {
    ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    try {
      while (bytes.hasRemaining()) {
        keyboard.write(bytes);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Ends the input, as the end of a piped file does. */
  public void endInput() {
    try {
      keyboard.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Everything written to the terminal so far. */
  public String output() {
    return screen.toString(StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws IOException {
    keyboard.close();
    terminal.close();
  }
}
