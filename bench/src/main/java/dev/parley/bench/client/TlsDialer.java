package dev.parley.bench.client;

import dev.parley.transport.ClientTls;
import dev.parley.transport.Fingerprint;
import dev.parley.transport.ServerTls;
import dev.parley.transport.ServerVerifier;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsMaterialException;
import dev.parley.transport.TlsPolicy;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;

/**
 * How the fleet's users speak TLS: one context for all of them (made by Parley's own {@link
 * ClientTls}, held to its {@link TlsPolicy}), which trusts the server by a pinned fingerprint or,
 * this being a load generator against one's own server, any certificate; and one client
 * certificate, made at start, that every user presents as Parley's client presents its own (so that
 * the server's handshake costs what it costs with real clients).
 *
 * <p>Every connection makes a full handshake, as every real client does (each has a context of its
 * own, and the JDK resumes no session across contexts): the engines are made without the server's
 * host and port, which is what the JDK files a session under for resuming it. With them ({@link
 * ClientTls#newEngine(SSLContext, String, int)}), the thousands of connections of one context would
 * resume one another's sessions and skip the certificates, and the generator would measure a
 * cheaper handshake than any user's.
 */
public final class TlsDialer {

  /** The generator's own certificate: informative only, nobody checks it. */
  private static final String CLIENT_NAME = "parley-bench";

  private static final Duration CLIENT_VALIDITY = Duration.ofDays(1);

  /** The throwaway server of the warm-up. */
  private static final String WARM_UP_SERVER = "parley-bench warm-up";

  /** Records exchanged each way after each handshake of the warm-up, for the record cipher. */
  private static final int WARM_UP_RECORDS = 16;

  /** A frame of the size of a direct message's. */
  private static final int WARM_UP_FRAME_BYTES = 177;

  private final ClientTls client;
  private final SSLContext context;
  private final String trust;
  private final int packetBytes;
  private final int applicationBytes;

  private TlsDialer(ClientTls client, ServerVerifier verifier, String trust) {
    this.client = client;
    this.context = client.context(verifier);
    this.trust = trust;
    SSLSession session = newEngine().getSession();
    this.packetBytes = session.getPacketBufferSize();
    this.applicationBytes = session.getApplicationBufferSize();
  }

  /**
   * @param pinned the server's certificate fingerprint; empty to accept any certificate (the
   *     connection is encrypted, but nothing proves it reaches the server meant)
   */
  public static TlsDialer create(Optional<Fingerprint> pinned) throws TlsMaterialException {
    return create(
        pinned.map(ServerVerifier::pinned).orElse(ServerVerifier.trustAll()),
        pinned.map(f -> "pinned " + f).orElse("any certificate"));
  }

  /** With a verifier of one's own (tests count the certificates it sees). */
  static TlsDialer create(ServerVerifier verifier, String trust) throws TlsMaterialException {
    TlsIdentity identity = TlsIdentity.selfSigned(CLIENT_NAME, CLIENT_VALIDITY);
    return new TlsDialer(ClientTls.create(Optional.of(identity)), verifier, trust);
  }

  /** What the server is trusted by, for people. */
  public String trust() {
    return trust;
  }

  /** A client engine for one new connection, held to Parley's policy, its handshake not begun. */
  public SSLEngine newEngine() {
    return newEngine(context);
  }

  private static SSLEngine newEngine(SSLContext context) {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(true);
    return TlsPolicy.restrict(engine);
  }

  /**
   * Makes {@code handshakes} full handshakes in memory with a throwaway server, and sends a few
   * records each way after each, before any connection is made: the JDK's cryptography (elliptic
   * curves in Java) runs interpreted at first, and a fresh generator's first few hundred handshakes
   * would otherwise cost it twice what they cost once compiled, so that a login run would measure
   * the generator's JIT rather than the server.
   */
  public void warmUp(int handshakes) throws TlsMaterialException, SSLException {
    if (handshakes <= 0) {
      return;
    }
    ServerTls server = ServerTls.create(TlsIdentity.selfSigned(WARM_UP_SERVER, CLIENT_VALIDITY));
    // The same engines, but trusting the throwaway server (a pinned fingerprint is not its).
    SSLContext warmUp = this.client.context(ServerVerifier.trustAll());
    InMemoryTls pair = new InMemoryTls(packetBytes, applicationBytes);
    ByteBuffer frame = ByteBuffer.allocate(WARM_UP_FRAME_BYTES);
    for (int i = 0; i < handshakes; i++) {
      SSLEngine client = newEngine(warmUp);
      SSLEngine serverEngine = server.newEngine();
      pair.handshake(client, serverEngine);
      for (int r = 0; r < WARM_UP_RECORDS; r++) {
        pair.send(client, serverEngine, frame);
        pair.send(serverEngine, client, frame);
      }
    }
  }

  /** Buffers for one loop's connections. */
  public TlsChannel.Scratch newScratch() {
    return new TlsChannel.Scratch(packetBytes, applicationBytes);
  }
}
