package dev.parley.bench.jmh;

import dev.parley.bench.client.InMemoryTls;
import dev.parley.bench.client.TlsDialer;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsMaterialException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What TLS itself costs, with Parley's engines (the generator's {@link TlsDialer}, and {@link
 * ServerTls}: TLS 1.3, AES-128-GCM, a client certificate as Parley's client presents one) talking
 * in memory, on the calling thread, so that the end-to-end comparison of {@code parley-bench
 * --plaintext} with TLS can be split into the cryptography and the rest:
 *
 * <ul>
 *   <li>{@code wrap}: one frame of {@code message-received}'s size (177 bytes) sealed into a
 *       record;
 *   <li>{@code wrapAndUnwrap}: the same, and opened by the other side (the difference is what
 *       opening a record costs);
 *   <li>{@code handshake}: a full handshake, both sides together, as every login makes (the
 *       generator's engines: no session resumed, a client certificate presented).
 * </ul>
 *
 * <pre>
 * bin/parley-bench jmh TlsRecordBenchmark -f 1 -wi 3 -i 5 -prof gc
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class TlsRecordBenchmark {

  /** The size of {@code message-received} with a 64-byte text (see {@code CodecBenchmark}). */
  private static final int FRAME_BYTES = 177;

  private static final Duration VALIDITY = Duration.ofDays(1);

  private TlsDialer client;
  private ServerTls server;
  private InMemoryTls pair;
  private SSLEngine sealing;
  private SSLEngine opening;
  private ByteBuffer frame;
  private ByteBuffer record;

  @Setup(Level.Trial)
  public void setUp() throws TlsMaterialException, SSLException {
    client = TlsDialer.create(Optional.empty());
    server = ServerTls.create(TlsIdentity.selfSigned("benchmark server", VALIDITY));
    SSLEngine clientEngine = client.newEngine();
    SSLSession session = clientEngine.getSession();
    pair = new InMemoryTls(session.getPacketBufferSize(), session.getApplicationBufferSize());
    record = ByteBuffer.allocate(session.getPacketBufferSize());
    SSLEngine serverEngine = server.newEngine();
    pair.handshake(clientEngine, serverEngine);
    // Server to client, as message-received goes.
    sealing = serverEngine;
    opening = clientEngine;
    byte[] text = new byte[FRAME_BYTES];
    Arrays.fill(text, (byte) 'x');
    text[FRAME_BYTES - 1] = '\n';
    frame = ByteBuffer.wrap(text);
  }

  @Benchmark
  public int wrap() throws SSLException {
    record.clear();
    return sealing.wrap(frame.duplicate(), record).bytesProduced();
  }

  @Benchmark
  public int wrapAndUnwrap() throws SSLException {
    int opened = pair.send(sealing, opening, frame);
    if (opened != FRAME_BYTES) {
      throw new IllegalStateException("opened " + opened + " bytes of " + FRAME_BYTES);
    }
    return opened;
  }

  @Benchmark
  public SSLEngine handshake() throws SSLException {
    SSLEngine engine = client.newEngine();
    pair.handshake(engine, server.newEngine());
    return engine;
  }
}
