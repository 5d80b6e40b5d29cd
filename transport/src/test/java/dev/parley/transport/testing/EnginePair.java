package dev.parley.transport.testing;

import dev.parley.transport.DelegatedTasks;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;

/**
 * A client engine and a server engine talking to each other in memory: what one wraps, the other
 * unwraps, until both have finished the handshake (or one of them fails it, which throws).
 */
public final class EnginePair {

  /** Far more round trips than any handshake takes: a handshake that needs more is stuck. */
  private static final int MAX_ROUNDS = 100;

  private final SSLEngine client;
  private final SSLEngine server;
  private final ByteBuffer clientToServer;
  private final ByteBuffer serverToClient;
  private final ByteBuffer clientPlain;
  private final ByteBuffer serverPlain;

  public EnginePair(SSLEngine client, SSLEngine server) {
    this.client = client;
    this.server = server;
    int packet =
        Math.max(
            client.getSession().getPacketBufferSize(), server.getSession().getPacketBufferSize());
    int application =
        Math.max(
            client.getSession().getApplicationBufferSize(),
            server.getSession().getApplicationBufferSize());
    this.clientToServer = ByteBuffer.allocate(packet * 4);
    this.serverToClient = ByteBuffer.allocate(packet * 4);
    this.clientPlain = ByteBuffer.allocate(application * 4);
    this.serverPlain = ByteBuffer.allocate(application * 4);
  }

  /** Runs the handshake to its end; throws the failing side's exception if it fails. */
  public EnginePair handshake() throws SSLException {
    client.beginHandshake();
    server.beginHandshake();
    for (int round = 0; round < MAX_ROUNDS; round++) {
      boolean moved =
          step(client, ByteBuffer.allocate(0), clientToServer, serverToClient, clientPlain);
      moved |= step(server, ByteBuffer.allocate(0), serverToClient, clientToServer, serverPlain);
      if (done(client) && done(server) && !moved) {
        return this;
      }
    }
    throw new AssertionError("the handshake did not finish in " + MAX_ROUNDS + " rounds");
  }

  /** Sends {@code text} from the client; returns what the server reads of it. */
  public String clientToServer(String text) throws SSLException {
    return send(client, server, clientToServer, serverPlain, text);
  }

  /** Sends {@code text} from the server; returns what the client reads of it. */
  public String serverToClient(String text) throws SSLException {
    return send(server, client, serverToClient, clientPlain, text);
  }

  private static String send(
      SSLEngine from, SSLEngine to, ByteBuffer wire, ByteBuffer plain, String text)
      throws SSLException {
    ByteBuffer data = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    while (data.hasRemaining()) {
      SSLEngineResult result = from.wrap(data, wire);
      if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
        throw new SSLException("the engine is closed: it sends nothing more");
      }
    }
    wire.flip();
    while (wire.hasRemaining()) {
      SSLEngineResult result = to.unwrap(wire, plain);
      if (result.bytesConsumed() == 0 && result.bytesProduced() == 0) {
        break;
      }
    }
    wire.compact();
    plain.flip();
    byte[] read = new byte[plain.remaining()];
    plain.get(read);
    plain.clear();
    return new String(read, StandardCharsets.UTF_8);
  }

  private static boolean done(SSLEngine engine) {
    SSLEngineResult.HandshakeStatus status = engine.getHandshakeStatus();
    return status == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING
        || status == SSLEngineResult.HandshakeStatus.FINISHED;
  }

  /** One turn of one engine: run its tasks, read what came, write what it has. */
  private static boolean step(
      SSLEngine engine, ByteBuffer nothing, ByteBuffer out, ByteBuffer in, ByteBuffer plain)
      throws SSLException {
    boolean moved = false;
    if (DelegatedTasks.runAll(engine)) {
      moved = true;
    }
    in.flip();
    while (in.hasRemaining()) {
      SSLEngineResult result = engine.unwrap(in, plain);
      DelegatedTasks.runAll(engine);
      if (result.bytesConsumed() == 0) {
        break;
      }
      moved = true;
    }
    in.compact();
    while (true) {
      SSLEngineResult result = engine.wrap(nothing, out);
      DelegatedTasks.runAll(engine);
      if (result.bytesProduced() == 0) {
        break;
      }
      moved = true;
    }
    return moved;
  }
}
