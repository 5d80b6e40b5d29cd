package dev.parley.it.fuzz;

import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.PeerMessage;
import dev.parley.protocol.Protocol;
import java.io.IOException;
import java.time.Duration;

/**
 * A well-behaved private chat opened to a client's port, as another Parley client would open it:
 * hello with the token the server gave for it, wait for the client's hello, a message, wait for its
 * acknowledgement, goodbye.
 */
public final class PeerSession implements AutoCloseable {

  private final WireConnection<PeerMessage> connection;
  private final String user;
  private final String token;
  private final Duration patience;
  private long seq;

  private PeerSession(
      WireConnection<PeerMessage> connection, String user, String token, Duration patience) {
    this.connection = connection;
    this.user = user;
    this.token = token;
    this.patience = patience;
  }

  /**
   * Connects to {@code port} on loopback as {@code user}, who will present {@code token} (from the
   * {@code peer-address} of its startprivate).
   */
  public static PeerSession open(int port, String user, String token, Duration patience)
      throws IOException {
    WireConnection<PeerMessage> connection =
        WireConnection.open(
            "real peer",
            port,
            0,
            JsonCodec.PEER,
            frame -> frame instanceof PeerMessage.Bye,
            new FuzzStats());
    return new PeerSession(connection.startReading(), user, token, patience);
  }

  /** Says hello; true once the client has said hello back. */
  public boolean handshake() {
    connection.send(FuzzLines.peer("real", new PeerMessage.Hello(Protocol.VERSION, user, token)));
    return connection.await(frame -> frame instanceof PeerMessage.Hello, patience) != null;
  }

  /** Sends the next private message; true once the client has acknowledged it. */
  public boolean sendAndAwaitAck(String text) {
    long sent = ++seq;
    connection.send(FuzzLines.peer("real", new PeerMessage.Text(sent, text)));
    return connection.await(
            frame -> frame instanceof PeerMessage.Ack ack && ack.seq() >= sent, patience)
        != null;
  }

  @Override
  public void close() {
    connection.send(FuzzLines.peer("real", new PeerMessage.Bye(PeerMessage.Bye.Reason.STOPPED)));
    connection.close();
  }
}
