package dev.parley.bench.jmh;

import akka.NotUsed;
import akka.actor.ActorSystem;
import akka.japi.Pair;
import akka.stream.Attributes;
import akka.stream.FlowShape;
import akka.stream.Inlet;
import akka.stream.Materializer;
import akka.stream.Outlet;
import akka.stream.SinkShape;
import akka.stream.SourceShape;
import akka.stream.TLSProtocol;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.TLS;
import akka.stream.stage.AbstractGraphStageWithMaterializedValue;
import akka.stream.stage.AbstractInHandler;
import akka.stream.stage.AbstractOutHandler;
import akka.stream.stage.AsyncCallback;
import akka.stream.stage.GraphStageLogic;
import akka.util.ByteString;
import dev.parley.bench.client.TlsDialer;
import dev.parley.protocol.WireFlows;
import dev.parley.transport.DelegatedTasks;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsStage;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One server-side TLS connection carrying small frames, in memory, through Akka Streams' TLS stage
 * ({@code implementation=akka}: {@code TLS.create} with {@link WireFlows#TLS_CLOSING} and the
 * {@code SendBytes}/{@code SessionBytes} mapping, as the server had it before {@code TlsStage}) or
 * through {@link TlsStage} ({@code implementation=parley}), both with the server's engines ({@link
 * ServerTls}) and a client engine of the load generator's ({@link TlsDialer}: TLS 1.3, AES-128-GCM,
 * a client certificate). Scores and allocation are per frame of {@value #FRAME_BYTES} bytes (the
 * size of {@code message-received}, as in {@code TlsRecordBenchmark}).
 *
 * <p>One connection is made and its handshake done in the setup (not measured); each operation then
 * carries {@value #FRAMES} frames one way and waits until the last has arrived:
 *
 * <ul>
 *   <li>{@code clientToServer}: a client stage seals each frame into a record of its own, one
 *       element per record (as a client writing frame by frame and read one record at a time); the
 *       server's stage opens them, and a sink counts the plaintext. Includes the client's sealing
 *       (about what {@code TlsRecordBenchmark.wrap} measures), the same for both implementations.
 *   <li>{@code serverToClient}: a source hands the server's stage the same frame {@value #FRAMES}
 *       times; the stage seals them, and the client counts the plaintext from the records' headers
 *       without opening them.
 * </ul>
 *
 * <p>The client, the counting sink and the frame source run in the connection's stream, as the
 * socket and the protocol stack do in the server. {@code TlsStage} runs fused with them, on one
 * thread; Akka's stage is an actor of its own, so that two threads can share the work and the
 * wall-clock score is not its CPU cost: read {@code cpu.time.norm} (with {@link CpuTimeProfiler})
 * beside it. The frames are the same instance each time: allocation is what the stages (and the
 * client's records) allocate, not the encoder's.
 *
 * <p>Most of the allocation per frame is the JDK engine's own (about 1.4 KB a wrap and as much an
 * unwrap, see {@code TlsRecordBenchmark}); what differs between the two implementations is the
 * stages'. Not measured here: what a connection holds between events (Akka's stage keeps its four
 * buffers for the connection's life, {@code TlsStage} none), which is a heap measure, not a rate.
 *
 * <pre>
 * mvn -o -q package -DskipTests -pl bench -am
 * java -cp bench/target/parley-bench.jar org.openjdk.jmh.Main TlsStageBenchmark \
 *     -f 1 -wi 3 -w 2s -i 5 -r 2s -prof gc -prof dev.parley.bench.jmh.CpuTimeProfiler
 * bin/parley-bench jmh TlsStageBenchmark -f 1 -wi 3 -i 5 -prof gc
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TlsStageBenchmark {

  /** The size of {@code message-received} with a 64-byte text (see {@code CodecBenchmark}). */
  static final int FRAME_BYTES = 177;

  /** Frames per operation: enough that waking the benchmark thread once costs little per frame. */
  static final int FRAMES = 10_000;

  /** What a TLS 1.3 AEAD record carries beyond its plaintext: the content type and the tag. */
  private static final int TLS13_AEAD_OVERHEAD = 1 + 16;

  private static final int RECORD_HEADER_BYTES = 5;
  private static final String TLS13 = "TLSv1.3";
  private static final Duration VALIDITY = Duration.ofDays(1);
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Param({"akka", "parley"})
  public String implementation;

  private ActorSystem system;
  private ClientHandle client;
  private MeterHandle meter;
  private FramesHandle frames;

  /** Plaintext bytes each side has been sent so far. */
  private long toServer;

  private long toClient;

  @Setup
  public void setUp() throws Exception {
    system = ActorSystem.create("tls-stage-bench", Samples.quietConfig());
    Materializer materializer = Materializer.matFromSystem(system);
    TlsDialer dialer = TlsDialer.create(Optional.empty());
    ServerTls server = ServerTls.create(TlsIdentity.selfSigned("benchmark server", VALIDITY));
    ByteString frame = frame();

    Flow<ByteString, ByteString, Pair<MeterHandle, FramesHandle>> serverSide =
        serverTls(server::newEngine)
            .join(
                Flow.fromSinkAndSourceMat(new Meter(), new Frames(frame), Keep.both()),
                Keep.right());
    Pair<ClientHandle, Pair<MeterHandle, FramesHandle>> handles =
        Flow.fromGraph(new Client(dialer::newEngine, frame))
            .joinMat(serverSide, Keep.both())
            .run(materializer);
    client = handles.first();
    meter = handles.second().first();
    frames = handles.second().second();

    SSLSession session = client.established.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    if (!session.getProtocol().equals(TLS13)) {
      // The client counts plaintext from the records' lengths with TLS 1.3's overhead.
      throw new IllegalStateException("negotiated " + session.getProtocol());
    }
    check();
  }

  /**
   * One operation each way with every byte checked (the client opening the records it counts), then
   * the client switched to counting from the headers.
   */
  private void check() throws Exception {
    meter.checking.invoke(true);
    client.checking.invoke(true);
    long opened = clientToServer();
    long counted = serverToClient();
    if (opened != toServer || counted != toClient) {
      throw new IllegalStateException(
          "the server opened "
              + opened
              + " of "
              + toServer
              + " bytes, the client "
              + counted
              + " of "
              + toClient);
    }
    meter.checking.invoke(false);
    client.checking.invoke(false);
  }

  @TearDown
  public void tearDown() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(FRAMES)
  public long clientToServer() throws Exception {
    toServer += (long) FRAMES * FRAME_BYTES;
    CompletableFuture<Long> arrived = new CompletableFuture<>();
    meter.awaiting.invoke(new Awaited(toServer, arrived));
    client.send.invoke(FRAMES);
    return arrived.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(FRAMES)
  public long serverToClient() throws Exception {
    toClient += (long) FRAMES * FRAME_BYTES;
    CompletableFuture<Long> arrived = new CompletableFuture<>();
    client.awaiting.invoke(new Awaited(toClient, arrived));
    frames.send.invoke(FRAMES);
    return arrived.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The server's TLS layer: network below ({@code in1}, {@code out2}), plaintext above. */
  private BidiFlow<ByteString, ByteString, ByteString, ByteString, NotUsed> serverTls(
      Supplier<SSLEngine> engines) {
    return switch (implementation) {
      case "akka" ->
          TLS.create(engines, WireFlows.TLS_CLOSING)
              .reversed()
              .atop(
                  BidiFlow.fromFlows(
                      Flow.<TLSProtocol.SslTlsInbound>create()
                          .mapConcat(
                              inbound ->
                                  inbound instanceof TLSProtocol.SessionBytes bytes
                                      ? List.of(bytes.bytes())
                                      : List.<ByteString>of()),
                      Flow.<ByteString>create()
                          .map(
                              bytes ->
                                  (TLSProtocol.SslTlsOutbound) new TLSProtocol.SendBytes(bytes))));
      case "parley" -> TlsStage.create(engines, engine -> {});
      default -> throw new IllegalArgumentException(implementation);
    };
  }

  /** A frame of {@value #FRAME_BYTES} bytes ending in a line feed. */
  private static ByteString frame() {
    byte[] text = new byte[FRAME_BYTES];
    Arrays.fill(text, (byte) 'x');
    text[FRAME_BYTES - 1] = '\n';
    return ByteString.fromArray(text);
  }

  /** Completes {@code arrived} with the plaintext count once it reaches {@code total}. */
  private record Awaited(long total, CompletableFuture<Long> arrived) {}

  /** Whether {@code bytes}, arriving after {@code before} others, are frames as {@link #frame}. */
  private static boolean areFrames(ByteString bytes, long before) {
    for (int i = 0; i < bytes.length(); i++) {
      boolean last = (before + i) % FRAME_BYTES == FRAME_BYTES - 1;
      if (bytes.apply(i) != (last ? '\n' : 'x')) {
        return false;
      }
    }
    return true;
  }

  /** Completes the awaited future, if the count has reached it. */
  private static Awaited settle(Awaited awaited, long count) {
    if (awaited != null && count >= awaited.total()) {
      awaited.arrived().complete(count);
      return null;
    }
    return awaited;
  }

  private static final class ClientHandle {
    final CompletableFuture<SSLSession> established = new CompletableFuture<>();
    AsyncCallback<Integer> send;
    AsyncCallback<Awaited> awaiting;
    AsyncCallback<Boolean> checking;
  }

  /**
   * The client's end of the connection: its handshake with the server's stage, then frames sealed
   * one record at a time on demand; what comes back is counted, by opening it (during the handshake
   * and the check) or from the record headers.
   */
  private static final class Client
      extends AbstractGraphStageWithMaterializedValue<
          FlowShape<ByteString, ByteString>, ClientHandle> {
    private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
    private final Inlet<ByteString> in = Inlet.create("Client.fromServer");
    private final Outlet<ByteString> out = Outlet.create("Client.toServer");
    private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
    private final Supplier<SSLEngine> engines;
    private final ByteString frame;

    Client(Supplier<SSLEngine> engines, ByteString frame) {
      this.engines = engines;
      this.frame = frame;
    }

    @Override
    public FlowShape<ByteString, ByteString> shape() {
      return shape;
    }

    @Override
    public Pair<GraphStageLogic, ClientHandle> createLogicAndMaterializedValuePair(
        Attributes attributes) {
      ClientHandle handle = new ClientHandle();
      return Pair.create(new Logic(handle), handle);
    }

    private final class Logic extends GraphStageLogic {
      private final ClientHandle handle;
      private final SSLEngine engine = engines.get();
      private final ByteBuffer sealed =
          ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
      private final ByteBuffer opened =
          ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
      private final ByteBuffer plaintext = frame.asByteBuffer();
      private final ArrayDeque<ByteString> handshakeMessages = new ArrayDeque<>();
      private ByteString unread = ByteString.emptyByteString();
      private boolean opening = true;
      private boolean checking;
      private boolean failedCheck;
      private int framesOwed;
      private long received;
      private Awaited awaited;
      private int headerSeen;
      private int lengthHigh;
      private int bodyLeft;

      Logic(ClientHandle handle) {
        super(shape);
        this.handle = handle;
        handle.send =
            createAsyncCallback(
                count -> {
                  framesOwed += count;
                  emit();
                });
        handle.awaiting =
            createAsyncCallback(next -> awaited = settle(next, failedCheck ? -1 : received));
        handle.checking =
            createAsyncCallback(
                on -> {
                  checking = on;
                  opening = on;
                });
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() throws SSLException {
                ByteString bytes = grab(in);
                if (opening) {
                  unread = unread.concat(bytes);
                  drive();
                } else {
                  countFromHeaders(bytes);
                }
                awaited = settle(awaited, failedCheck ? -1 : received);
                pull(in);
              }
            });
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() throws SSLException {
                emit();
              }
            });
      }

      @Override
      public void preStart() throws SSLException {
        engine.beginHandshake();
        drive();
        pull(in);
      }

      /** Runs the engine as far as what has arrived lets it, opening what it can. */
      private void drive() throws SSLException {
        while (true) {
          HandshakeStatus status = engine.getHandshakeStatus();
          if (status == HandshakeStatus.NEED_TASK) {
            DelegatedTasks.runAll(engine);
            continue;
          }
          if (status == HandshakeStatus.NEED_WRAP) {
            sealed.clear();
            SSLEngineResult result = engine.wrap(NOTHING, sealed);
            if (result.bytesProduced() > 0) {
              handshakeMessages.add(ByteString.fromArray(sealed.array(), 0, sealed.position()));
              continue;
            }
          }
          if (unread.isEmpty()) {
            break;
          }
          ByteBuffer source = unread.toByteBuffer();
          opened.clear();
          SSLEngineResult result = engine.unwrap(source, opened);
          unread = ByteString.fromByteBuffer(source);
          if (checking
              && !areFrames(ByteString.fromArray(opened.array(), 0, opened.position()), received)) {
            failedCheck = true;
          }
          received += opened.position();
          if (result.bytesConsumed() == 0 && result.bytesProduced() == 0) {
            break;
          }
        }
        if (!handle.established.isDone()
            && engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING) {
          handle.established.complete(engine.getSession());
        }
        emit();
      }

      /** Adds the plaintext of the records in {@code bytes}, from their headers' lengths. */
      private void countFromHeaders(ByteString bytes) {
        int i = 0;
        int length = bytes.length();
        while (i < length) {
          if (bodyLeft > 0) {
            int skipped = Math.min(bodyLeft, length - i);
            bodyLeft -= skipped;
            i += skipped;
            continue;
          }
          int b = bytes.apply(i) & 0xFF;
          if (headerSeen == RECORD_HEADER_BYTES - 2) {
            lengthHigh = b;
          }
          if (headerSeen == RECORD_HEADER_BYTES - 1) {
            bodyLeft = (lengthHigh << Byte.SIZE) | b;
            received += bodyLeft - TLS13_AEAD_OVERHEAD;
            headerSeen = 0;
          } else {
            headerSeen++;
          }
          i++;
        }
      }

      private void emit() throws SSLException {
        if (!isAvailable(out)) {
          return;
        }
        if (!handshakeMessages.isEmpty()) {
          push(out, handshakeMessages.poll());
        } else if (framesOwed > 0 && handle.established.isDone()) {
          framesOwed--;
          sealed.clear();
          plaintext.rewind();
          engine.wrap(plaintext, sealed);
          push(out, ByteString.fromArray(sealed.array(), 0, sealed.position()));
        }
      }
    }
  }

  private static final class MeterHandle {
    AsyncCallback<Awaited> awaiting;
    AsyncCallback<Boolean> checking;
  }

  /** The server's application reading: counts the plaintext, and checks it when asked to. */
  private static final class Meter
      extends AbstractGraphStageWithMaterializedValue<SinkShape<ByteString>, MeterHandle> {
    private final Inlet<ByteString> in = Inlet.create("Meter.in");
    private final SinkShape<ByteString> shape = SinkShape.of(in);

    @Override
    public SinkShape<ByteString> shape() {
      return shape;
    }

    @Override
    public Pair<GraphStageLogic, MeterHandle> createLogicAndMaterializedValuePair(
        Attributes attributes) {
      MeterHandle handle = new MeterHandle();
      GraphStageLogic logic =
          new GraphStageLogic(shape) {
            private long received;
            private boolean checking;
            private boolean failedCheck;
            private Awaited awaited;

            {
              handle.awaiting =
                  createAsyncCallback(next -> awaited = settle(next, failedCheck ? -1 : received));
              handle.checking = createAsyncCallback(on -> checking = on);
              setHandler(
                  in,
                  new AbstractInHandler() {
                    @Override
                    public void onPush() {
                      ByteString bytes = grab(in);
                      if (checking && !areFrames(bytes, received)) {
                        failedCheck = true;
                      }
                      received += bytes.length();
                      awaited = settle(awaited, failedCheck ? -1 : received);
                      pull(in);
                    }
                  });
            }

            @Override
            public void preStart() {
              pull(in);
            }
          };
      return Pair.create(logic, handle);
    }
  }

  private static final class FramesHandle {
    AsyncCallback<Integer> send;
  }

  /** The server's application writing: the frame, as many times as asked. */
  private static final class Frames
      extends AbstractGraphStageWithMaterializedValue<SourceShape<ByteString>, FramesHandle> {
    private final Outlet<ByteString> out = Outlet.create("Frames.out");
    private final SourceShape<ByteString> shape = SourceShape.of(out);
    private final ByteString frame;

    Frames(ByteString frame) {
      this.frame = frame;
    }

    @Override
    public SourceShape<ByteString> shape() {
      return shape;
    }

    @Override
    public Pair<GraphStageLogic, FramesHandle> createLogicAndMaterializedValuePair(
        Attributes attributes) {
      FramesHandle handle = new FramesHandle();
      GraphStageLogic logic =
          new GraphStageLogic(shape) {
            private int owed;

            {
              handle.send =
                  createAsyncCallback(
                      count -> {
                        owed += count;
                        emit();
                      });
              setHandler(
                  out,
                  new AbstractOutHandler() {
                    @Override
                    public void onPull() {
                      emit();
                    }
                  });
            }

            private void emit() {
              if (owed > 0 && isAvailable(out)) {
                owed--;
                push(out, frame);
              }
            }
          };
      return Pair.create(logic, handle);
    }
  }
}
