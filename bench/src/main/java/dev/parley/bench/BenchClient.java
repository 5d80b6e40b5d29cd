package dev.parley.bench;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;

/**
 * One simulated user on a blocking socket: it logs in, then sends frames with at most {@code
 * window} commands unanswered, while its reader thread hands every incoming line to a handler.
 * Frames are written by hand and read with plain string searches, so that the generator spends
 * little CPU per message compared with the server it measures.
 */
final class BenchClient implements AutoCloseable {

  private final String user;
  private final Socket socket;
  private final BufferedReader in;
  private final BufferedWriter out;
  private final Semaphore window;

  BenchClient(String host, int port, String user, int window) throws IOException {
    this.user = user;
    this.socket = new Socket(host, port);
    socket.setTcpNoDelay(true);
    this.in =
        new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
    this.out =
        new BufferedWriter(
            new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8));
    this.window = new Semaphore(window);
  }

  String user() {
    return user;
  }

  /** Logs in; throws if the server refuses. */
  void login(String password) throws IOException {
    send("{\"type\":\"hello\",\"version\":1}");
    expect("\"hello\"");
    send("{\"type\":\"username\",\"username\":\"" + user + "\"}");
    expect("\"password-required\"");
    send("{\"type\":\"password\",\"password\":\"" + password + "\",\"peerPort\":9}");
    expect("\"login-accepted\"");
  }

  private void expect(String type) throws IOException {
    String line = in.readLine();
    if (line == null || !line.contains("\"type\":" + type)) {
      throw new IOException(user + ": expected " + type + ", got " + line);
    }
  }

  /** Reads every further line on a thread of its own until the connection closes. */
  Thread startReading(Consumer<String> handler) {
    Thread reader =
        new Thread(
            () -> {
              try {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                  handler.accept(line);
                }
              } catch (IOException e) {
                // Closed: the run is over.
              }
            },
            "bench-reader-" + user);
    reader.setDaemon(true);
    reader.start();
    return reader;
  }

  /** Sends a command that the server answers, waiting while the window is full. */
  void request(String frame) throws InterruptedException {
    window.acquire();
    send(frame);
  }

  /** A reply arrived: one more command may go. */
  void answered() {
    window.release();
  }

  /** Sends a frame that needs no window (acks are never answered). */
  void send(String frame) {
    synchronized (out) {
      try {
        out.write(frame);
        out.write('\n');
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // Closing anyway.
    }
  }
}
