package dev.parley.bench.jmh;

import akka.Done;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.stream.Materializer;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.RunnableGraph;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.WireFlows;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.infra.Blackhole;
import org.slf4j.LoggerFactory;

/**
 * The inbound side of a connection: bytes as TCP reads deliver them, many frames per chunk, turned
 * into {@link Inbound} values. The input is {@value #FRAMES} {@code message} frames (64-byte text,
 * a UUID id; 154 bytes a line with its line feed), cut into chunks of {@code chunkBytes} without
 * regard for line boundaries, built once. Scores are frames per second.
 *
 * <ul>
 *   <li>{@code decoderStage}: the real {@link WireFlows#decoder} stage ({@code FrameDecoder} over a
 *       {@code LineFramer}: line splitting and JSON decoding, as the server's {@code SessionPort}
 *       frames too), materialised once per invocation over all the chunks, from a {@code Source} of
 *       the chunks into {@code Sink.ignore}, on one stream actor. It includes the stream
 *       interpreter's per-element cost and, amortised over {@value #FRAMES} frames, the
 *       materialisation.
 *   <li>{@code splitLines}: the line splitting alone, with no stream and no JSON: a copy of {@code
 *       LineFramer}'s buffering (each chunk copied into one growing array) and line search. {@code
 *       LineFramer} decodes each line as it finds it, so the search alone can only be measured as a
 *       copy: keep it in step with {@code LineFramer}.
 * </ul>
 *
 * <pre>
 * bin/parley-bench jmh FramingBenchmark -f 1 -wi 3 -i 5 -prof gc
 * bin/parley-bench jmh FramingBenchmark -p chunkBytes=1024,65536 -f 1 -wi 3 -i 5 -prof gc
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FramingBenchmark {

  static final int FRAMES = 10_000;
  private static final int MAX_FRAME_BYTES = 64 * 1024;
  private static final byte LINE_FEED = '\n';
  private static final byte CARRIAGE_RETURN = '\r';
  private static final Duration WAIT = Duration.ofSeconds(30);

  /** {@code LineFramer}'s first buffer size. */
  private static final int INITIAL_BUFFER = 512;

  /** Bytes per TCP read; 8 KiB holds about 53 frames. */
  @Param({"8192"})
  public int chunkBytes;

  private List<ByteString> chunks;
  private ActorSystem<Void> system;
  private Materializer materializer;
  private RunnableGraph<CompletionStage<Done>> decodeAll;

  @Setup
  public void setUp() throws Exception {
    // SLF4J first, so that Akka's first log lines are not replayed with a warning.
    LoggerFactory.getLogger(FramingBenchmark.class);
    ByteString line = Samples.clientLine(messageFrame());
    ByteArrayOutputStream all = new ByteArrayOutputStream(FRAMES * (line.length() + 1));
    for (int i = 0; i < FRAMES; i++) {
      all.writeBytes(line.toArray());
      all.write(LINE_FEED);
    }
    byte[] bytes = all.toByteArray();
    chunks = new ArrayList<>();
    for (int from = 0; from < bytes.length; from += chunkBytes) {
      int until = Math.min(bytes.length, from + chunkBytes);
      chunks.add(ByteString.fromArray(bytes, from, until - from));
    }
    system = ActorSystem.create(Behaviors.empty(), "framing-bench");
    materializer = Materializer.createMaterializer(system);
    decodeAll =
        Source.from(chunks)
            .via(WireFlows.decoder(JsonCodec.CLIENT, MAX_FRAME_BYTES))
            .toMat(Sink.ignore(), Keep.right());
    checkInput();
  }

  /** Every benchmark sees {@value #FRAMES} frames that decode to the sample message. */
  private void checkInput() throws Exception {
    List<Inbound<ClientMessage>> decoded =
        Source.from(chunks)
            .via(WireFlows.decoder(JsonCodec.CLIENT, MAX_FRAME_BYTES))
            .runWith(Sink.seq(), materializer)
            .toCompletableFuture()
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    Inbound<ClientMessage> expected = new Inbound.Frame<>(messageFrame());
    if (decoded.size() != FRAMES || !decoded.stream().allMatch(expected::equals)) {
      throw new IllegalStateException("the stage decoded " + decoded.size() + " frames");
    }
    int lines = split(null);
    if (lines != FRAMES) {
      throw new IllegalStateException("the splitting loop found " + lines + " lines");
    }
  }

  @TearDown
  public void tearDown() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(FRAMES)
  public Done decoderStage() throws Exception {
    return decodeAll
        .run(materializer)
        .toCompletableFuture()
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Benchmark
  @OperationsPerInvocation(FRAMES)
  public int splitLines(Blackhole blackhole) {
    return split(blackhole);
  }

  /**
   * {@code LineFramer}'s buffering and line search over all the chunks, handing the end of each
   * non-blank line to the blackhole (if any) where the stage would decode it; returns the number of
   * lines.
   */
  private int split(Blackhole blackhole) {
    byte[] buffer = new byte[INITIAL_BUFFER];
    int start = 0;
    int end = 0;
    int scanned = 0;
    int lines = 0;
    for (ByteString chunk : chunks) {
      // offer(chunk)
      int length = chunk.length();
      if (start == end) {
        start = 0;
        end = 0;
      }
      if (end + length > buffer.length) {
        int pending = end - start;
        byte[] target =
            pending + length > buffer.length
                ? new byte[Math.max(buffer.length * 2, pending + length)]
                : buffer;
        System.arraycopy(buffer, start, target, 0, pending);
        buffer = target;
        start = 0;
        end = pending;
      }
      chunk.copyToArray(buffer, end, length);
      end += length;
      // nextLine(), until no complete line is left
      while (true) {
        int lineFeed = -1;
        for (int i = start + scanned; i < end; i++) {
          if (buffer[i] == LINE_FEED) {
            lineFeed = i;
            break;
          }
        }
        if (lineFeed < 0) {
          scanned = end - start;
          if (end - start > MAX_FRAME_BYTES) {
            throw new IllegalStateException("oversized");
          }
          break;
        }
        int from = start;
        int lineLength = lineFeed - start;
        start = lineFeed + 1;
        scanned = 0;
        if (lineLength > 0 && buffer[from + lineLength - 1] == CARRIAGE_RETURN) {
          lineLength--;
        }
        if (!isBlank(buffer, from, lineLength)) {
          lines++;
          if (blackhole != null) {
            blackhole.consume(from + lineLength);
          }
        }
      }
    }
    return lines;
  }

  private static boolean isBlank(byte[] bytes, int from, int length) {
    for (int i = from; i < from + length; i++) {
      if (bytes[i] != ' ' && bytes[i] != '\t') {
        return false;
      }
    }
    return true;
  }

  private static ClientMessage messageFrame() {
    return new ClientMessage.SendMessage(Samples.RECIPIENT, Samples.TEXT_64, Samples.MESSAGE_ID);
  }
}
