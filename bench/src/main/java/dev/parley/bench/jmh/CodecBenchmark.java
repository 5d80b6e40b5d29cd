package dev.parley.bench.jmh;

import akka.util.ByteString;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JacksonOnlyPaths;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The JSON codec ({@link JsonCodec}) on the frames a server handles most under direct-message load,
 * one frame per operation, on the calling thread:
 *
 * <ul>
 *   <li>decoding what it reads: {@code message} (64-byte text, a UUID id) and {@code ack}, each a
 *       line in the middle of a larger byte array, decoded in place with {@link
 *       JsonCodec#decode(byte[], int, int)} as {@code FrameDecoder} does;
 *   <li>encoding what it writes: {@code message-received} (64-byte text, seq, id), {@code
 *       message-accepted} and {@code broadcast-received} (64-byte text).
 * </ul>
 *
 * <p>The codec reads and writes these frames by hand ({@code HotFrameDecoder}, {@code
 * HotFrameEncoder}); each benchmark has a {@code ...Jackson} twin that runs the same frame through
 * the codec's Jackson path alone ({@link JacksonOnlyPaths}), what the codec did for every frame
 * before, so that one run shows what the hand-written paths save. Setup checks that both give the
 * same result.
 *
 * <p>Both throughput and average time per operation are measured (in microseconds: 2.5 ops/us is
 * 2.5 million ops/s). Run with the GC profiler for the bytes allocated per operation ({@code
 * gc.alloc.rate.norm}), and on a shared machine with {@link CpuTimeProfiler} too:
 *
 * <pre>
 * bin/parley-bench jmh CodecBenchmark -f 1 -wi 3 -i 5 -prof gc
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode({Mode.Throughput, Mode.AverageTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CodecBenchmark {

  // Fields, not constants, so that the JIT cannot fold the inputs into the code it measures.
  private byte[] chunk;
  private int messageOffset;
  private int messageLength;
  private int ackOffset;
  private int ackLength;
  private ServerMessage messageReceived;
  private ServerMessage messageAccepted;
  private ServerMessage broadcastReceived;

  @Setup
  public void setUp() {
    Samples.requireLength(Samples.TEXT_64, 64);
    ClientMessage message =
        new ClientMessage.SendMessage(Samples.RECIPIENT, Samples.TEXT_64, Samples.MESSAGE_ID);
    ClientMessage ack = new ClientMessage.Acknowledge(Samples.SEQ);
    ByteString messageLine = Samples.clientLine(message);
    ByteString ackLine = Samples.clientLine(ack);
    // Both lines inside one chunk, between others, as the framing finds them.
    ByteString newline = ByteString.fromString("\n");
    chunk =
        ackLine
            .concat(newline)
            .concat(messageLine)
            .concat(newline)
            .concat(ackLine)
            .concat(newline)
            .toArray();
    messageOffset = ackLine.length() + 1;
    messageLength = messageLine.length();
    ackOffset = messageOffset + messageLength + 1;
    ackLength = ackLine.length();
    requireDecodes(messageOffset, messageLength, message);
    requireDecodes(ackOffset, ackLength, ack);
    messageReceived =
        new ServerMessage.MessageReceived(
            Samples.SENDER, Samples.TEXT_64, Samples.SEQ, Samples.MESSAGE_ID);
    messageAccepted = new ServerMessage.MessageAccepted(Samples.MESSAGE_ID, false);
    broadcastReceived = new ServerMessage.BroadcastReceived(Samples.SENDER, Samples.TEXT_64);
    for (ServerMessage frame :
        new ServerMessage[] {messageReceived, messageAccepted, broadcastReceived}) {
      requireSameBytes(frame);
    }
  }

  private void requireDecodes(int offset, int length, ClientMessage expected) {
    Inbound<ClientMessage> decoded = JsonCodec.CLIENT.decode(chunk, offset, length);
    Inbound<ClientMessage> byJackson = JacksonOnlyPaths.decodeClient(chunk, offset, length);
    if (!decoded.equals(new Inbound.Frame<>(expected)) || !byJackson.equals(decoded)) {
      throw new IllegalStateException(
          "the sample decodes to " + decoded + " (Jackson: " + byJackson + "), not " + expected);
    }
  }

  private static void requireSameBytes(ServerMessage frame) {
    ByteString encoded = JsonCodec.SERVER.encode(frame);
    ByteString byJackson = JacksonOnlyPaths.encodeServer(frame);
    if (!encoded.equals(byJackson)) {
      throw new IllegalStateException(
          "the codec writes "
              + encoded.utf8String()
              + " where Jackson writes "
              + byJackson.utf8String());
    }
  }

  @Benchmark
  public Inbound<ClientMessage> decodeMessage() {
    return JsonCodec.CLIENT.decode(chunk, messageOffset, messageLength);
  }

  @Benchmark
  public Inbound<ClientMessage> decodeAck() {
    return JsonCodec.CLIENT.decode(chunk, ackOffset, ackLength);
  }

  @Benchmark
  public ByteString encodeMessageReceived() {
    return JsonCodec.SERVER.encode(messageReceived);
  }

  @Benchmark
  public ByteString encodeMessageAccepted() {
    return JsonCodec.SERVER.encode(messageAccepted);
  }

  @Benchmark
  public ByteString encodeBroadcastReceived() {
    return JsonCodec.SERVER.encode(broadcastReceived);
  }

  @Benchmark
  public Inbound<ClientMessage> decodeMessageJackson() {
    return JacksonOnlyPaths.decodeClient(chunk, messageOffset, messageLength);
  }

  @Benchmark
  public Inbound<ClientMessage> decodeAckJackson() {
    return JacksonOnlyPaths.decodeClient(chunk, ackOffset, ackLength);
  }

  @Benchmark
  public ByteString encodeMessageReceivedJackson() {
    return JacksonOnlyPaths.encodeServer(messageReceived);
  }

  @Benchmark
  public ByteString encodeMessageAcceptedJackson() {
    return JacksonOnlyPaths.encodeServer(messageAccepted);
  }

  @Benchmark
  public ByteString encodeBroadcastReceivedJackson() {
    return JacksonOnlyPaths.encodeServer(broadcastReceived);
  }
}
