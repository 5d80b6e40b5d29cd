package dev.parley.bench.jmh;

import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What encoding the two hottest server frames ({@code message-received}, {@code message-accepted})
 * would cost without Jackson databind, to judge whether a hand-written encoder is worth having.
 * Three ways, each producing the same bytes (checked at setup):
 *
 * <ul>
 *   <li>{@code codec}: the real {@link JsonCodec#SERVER} (databind, polymorphic type id);
 *   <li>{@code streaming}: Jackson's streaming {@link JsonGenerator}, fields written by hand;
 *   <li>{@code handWritten}: bytes written straight into an exactly sized array when every string
 *       is printable ASCII that needs no escaping, falling back to the codec otherwise.
 * </ul>
 *
 * <p>The two alternatives are prototypes that live only here; the server does not use them.
 *
 * <pre>
 * bin/parley-bench jmh EncoderAlternativesBenchmark -f 1 -wi 3 -i 5 -prof gc
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class EncoderAlternativesBenchmark {

  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] RECEIVED_HEAD = ascii("{\"type\":\"message-received\",\"from\":\"");
  private static final byte[] TEXT_FIELD = ascii("\",\"text\":\"");
  private static final byte[] SEQ_FIELD = ascii("\",\"seq\":");
  private static final byte[] ID_FIELD = ascii(",\"id\":\"");
  private static final byte[] ACCEPTED_HEAD = ascii("{\"type\":\"message-accepted\"");
  private static final byte[] STORED_FIELD = ascii(",\"stored\":");
  private static final byte[] TRUE = ascii("true");
  private static final byte[] FALSE = ascii("false");

  private ServerMessage.MessageReceived messageReceived;
  private ServerMessage.MessageAccepted messageAccepted;

  @Setup
  public void setUp() {
    messageReceived =
        new ServerMessage.MessageReceived(
            Samples.SENDER, Samples.TEXT_64, Samples.SEQ, Samples.MESSAGE_ID);
    messageAccepted = new ServerMessage.MessageAccepted(Samples.MESSAGE_ID, false);
    requireSame(JsonCodec.SERVER.encode(messageReceived), streaming(messageReceived));
    requireSame(JsonCodec.SERVER.encode(messageReceived), handWritten(messageReceived));
    requireSame(JsonCodec.SERVER.encode(messageAccepted), streaming(messageAccepted));
    requireSame(JsonCodec.SERVER.encode(messageAccepted), handWritten(messageAccepted));
    ServerMessage.MessageReceived escaped =
        new ServerMessage.MessageReceived("zoë", "say \"hi\"\n\uD83D\uDE00", 7, null);
    requireSame(JsonCodec.SERVER.encode(escaped), handWritten(escaped));
  }

  @Benchmark
  public ByteString messageReceivedCodec() {
    return JsonCodec.SERVER.encode(messageReceived);
  }

  @Benchmark
  public ByteString messageReceivedStreaming() {
    return streaming(messageReceived);
  }

  @Benchmark
  public ByteString messageReceivedHandWritten() {
    return handWritten(messageReceived);
  }

  @Benchmark
  public ByteString messageAcceptedCodec() {
    return JsonCodec.SERVER.encode(messageAccepted);
  }

  @Benchmark
  public ByteString messageAcceptedStreaming() {
    return streaming(messageAccepted);
  }

  @Benchmark
  public ByteString messageAcceptedHandWritten() {
    return handWritten(messageAccepted);
  }

  // ---- Jackson streaming ----

  private static ByteString streaming(ServerMessage.MessageReceived frame) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(160);
    try (JsonGenerator json = JSON.createGenerator(out)) {
      json.writeStartObject();
      json.writeStringField("type", "message-received");
      json.writeStringField("from", frame.from());
      json.writeStringField("text", frame.text());
      json.writeNumberField("seq", frame.seq());
      if (frame.id() != null) {
        json.writeStringField("id", frame.id());
      }
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.write('\n');
    return ByteString.fromArrayUnsafe(out.toByteArray());
  }

  private static ByteString streaming(ServerMessage.MessageAccepted frame) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(96);
    try (JsonGenerator json = JSON.createGenerator(out)) {
      json.writeStartObject();
      json.writeStringField("type", "message-accepted");
      if (frame.id() != null) {
        json.writeStringField("id", frame.id());
      }
      json.writeBooleanField("stored", frame.stored());
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.write('\n');
    return ByteString.fromArrayUnsafe(out.toByteArray());
  }

  // ---- by hand ----

  private static ByteString handWritten(ServerMessage.MessageReceived frame) {
    String id = frame.id();
    int seqDigits = digits(frame.seq());
    // Sized for plain strings (one byte a character); anything else goes to the codec.
    int size =
        RECEIVED_HEAD.length
            + frame.from().length()
            + TEXT_FIELD.length
            + frame.text().length()
            + SEQ_FIELD.length
            + seqDigits
            + (id == null ? 0 : ID_FIELD.length + id.length() + 1)
            + 2;
    byte[] bytes = new byte[size];
    int at = put(bytes, 0, RECEIVED_HEAD);
    at = putPlain(bytes, at, frame.from());
    if (at >= 0) {
      at = put(bytes, at, TEXT_FIELD);
      at = putPlain(bytes, at, frame.text());
    }
    if (at >= 0) {
      at = put(bytes, at, SEQ_FIELD);
      at = put(bytes, at, frame.seq(), seqDigits);
      if (id != null) {
        at = put(bytes, at, ID_FIELD);
        at = putPlain(bytes, at, id);
      }
    }
    if (at < 0) {
      return JsonCodec.SERVER.encode(frame);
    }
    if (id != null) {
      bytes[at++] = '"';
    }
    bytes[at++] = '}';
    bytes[at] = '\n';
    return ByteString.fromArrayUnsafe(bytes);
  }

  private static ByteString handWritten(ServerMessage.MessageAccepted frame) {
    String id = frame.id();
    byte[] stored = frame.stored() ? TRUE : FALSE;
    int size =
        ACCEPTED_HEAD.length
            + (id == null ? 0 : ID_FIELD.length + id.length() + 1)
            + STORED_FIELD.length
            + stored.length
            + 2;
    byte[] bytes = new byte[size];
    int at = put(bytes, 0, ACCEPTED_HEAD);
    if (id != null) {
      at = put(bytes, at, ID_FIELD);
      at = putPlain(bytes, at, id);
      if (at < 0) {
        return JsonCodec.SERVER.encode(frame);
      }
      bytes[at++] = '"';
    }
    at = put(bytes, at, STORED_FIELD);
    at = put(bytes, at, stored);
    bytes[at++] = '}';
    bytes[at] = '\n';
    return ByteString.fromArrayUnsafe(bytes);
  }

  /**
   * Writes a string that JSON takes as is (printable ASCII, no quote or backslash: one byte a
   * character, nothing to escape) and returns where it ends, or -1 for any other string.
   */
  private static int putPlain(byte[] to, int at, String from) {
    int length = from.length();
    for (int i = 0; i < length; i++) {
      char c = from.charAt(i);
      if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
        return -1;
      }
      to[at + i] = (byte) c;
    }
    return at + length;
  }

  private static int put(byte[] to, int at, byte[] from) {
    System.arraycopy(from, 0, to, at, from.length);
    return at + from.length;
  }

  /** A non-negative number in {@code digits} decimal digits. */
  private static int put(byte[] to, int at, long value, int digits) {
    for (int i = at + digits - 1; i >= at; i--) {
      to[i] = (byte) ('0' + value % 10);
      value /= 10;
    }
    return at + digits;
  }

  private static int digits(long value) {
    int digits = 1;
    while (value >= 10) {
      value /= 10;
      digits++;
    }
    return digits;
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static void requireSame(ByteString expected, ByteString actual) {
    if (!expected.equals(actual)) {
      throw new IllegalStateException(
          "prototype writes "
              + actual.utf8String()
              + " where the codec writes "
              + expected.utf8String());
    }
  }
}
