package dev.parley.bench.client;

import dev.parley.transport.DelegatedTasks;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * A client engine and a server engine talking to each other in memory, on the calling thread: for
 * the generator's warm-up ({@link TlsDialer#warmUp}) and the TLS microbenchmark. Its buffers are
 * reused from one pair of engines to the next.
 */
public final class InMemoryTls {

  /** Far more round trips than any handshake takes: a handshake that needs more is stuck. */
  private static final int MAX_HANDSHAKE_ROUNDS = 100;

  /** Records one direction holds at most while the other side has not read them. */
  private static final int RECORDS_IN_FLIGHT = 4;

  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0).asReadOnlyBuffer();

  private final ByteBuffer toServer;
  private final ByteBuffer toClient;
  private final ByteBuffer opened;

  public InMemoryTls(int packetBytes, int applicationBytes) {
    this.toServer = ByteBuffer.allocate(packetBytes * RECORDS_IN_FLIGHT);
    this.toClient = ByteBuffer.allocate(packetBytes * RECORDS_IN_FLIGHT);
    this.opened = ByteBuffer.allocate(applicationBytes);
  }

  /**
   * Runs the handshake of two new engines to its end, the server's session ticket read too.
   *
   * @throws SSLException as the failing side throws it
   */
  public void handshake(SSLEngine client, SSLEngine server) throws SSLException {
    toServer.clear();
    toClient.clear();
    client.beginHandshake();
    server.beginHandshake();
    for (int round = 0; round < MAX_HANDSHAKE_ROUNDS; round++) {
      boolean moved = step(client, toServer, toClient);
      moved |= step(server, toClient, toServer);
      if (!moved && done(client) && done(server)) {
        return;
      }
    }
    throw new SSLException("the handshake did not finish in " + MAX_HANDSHAKE_ROUNDS + " rounds");
  }

  /**
   * Seals {@code frame} (from its position to its limit, which is left as it was) into one record
   * at {@code from} and opens it at {@code to}, whose handshake with it is done.
   *
   * @return the bytes opened
   */
  public int send(SSLEngine from, SSLEngine to, ByteBuffer frame) throws SSLException {
    ByteBuffer record = toServer;
    record.clear();
    from.wrap(frame.duplicate(), record);
    record.flip();
    opened.clear();
    SSLEngineResult result = to.unwrap(record, opened);
    return result.bytesProduced();
  }

  /** One engine wraps what it must into {@code out} and unwraps what waits in {@code in}. */
  private boolean step(SSLEngine engine, ByteBuffer out, ByteBuffer in) throws SSLException {
    boolean moved = false;
    while (true) {
      HandshakeStatus status = engine.getHandshakeStatus();
      if (status == HandshakeStatus.NEED_TASK) {
        DelegatedTasks.runAll(engine);
        moved = true;
      } else if (status == HandshakeStatus.NEED_WRAP) {
        engine.wrap(NOTHING, out);
        moved = true;
      } else {
        in.flip();
        opened.clear();
        SSLEngineResult result = in.hasRemaining() ? engine.unwrap(in, opened) : null;
        in.compact();
        if (result == null || result.bytesConsumed() == 0) {
          return moved;
        }
        moved = true;
      }
    }
  }

  private static boolean done(SSLEngine engine) {
    return engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING;
  }
}
