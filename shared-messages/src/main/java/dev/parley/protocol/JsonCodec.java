package dev.parley.protocol;

import akka.util.ByteString;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.InvalidTypeIdException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import java.io.IOException;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Encodes one frame family to newline-terminated JSON and decodes lines back, turning every
 * decoding problem into an {@link Inbound} value instead of an exception. Reasons given for bad
 * input describe the input (a field, a position), never this implementation, since they are sent
 * back to whoever sent it. Instances are immutable and thread-safe; use the shared ones ({@link
 * #CLIENT}, {@link #SERVER}, {@link #PEER}).
 *
 * <p>The frames every chat message brings are written and read by hand ({@link HotFrameEncoder},
 * {@link HotFrameDecoder}) rather than by Jackson's databind, which costs several times more for
 * them; those paths give Jackson's bytes and answers, and hand anything they are not sure of to
 * Jackson.
 *
 * @param <T> the frame family
 */
public final class JsonCodec<T> {

  /**
   * Unknown fields are ignored so that a newer peer can add optional fields; nulls are omitted;
   * values must have the JSON type the protocol gives them (no "42" for 42 or 42 for "42");
   * characters outside the Basic Multilingual Plane are written as UTF-8, not as a pair of escapes
   * three times as long (the byte counts of {@link WireText} depend on it).
   */
  private static final ObjectMapper MAPPER = newMapper();

  /** Frames clients send to the server. */
  public static final JsonCodec<ClientMessage> CLIENT = new JsonCodec<>(ClientMessage.class);

  /** Frames the server sends to clients. */
  public static final JsonCodec<ServerMessage> SERVER = new JsonCodec<>(ServerMessage.class);

  /** Frames between the two clients of a private chat. */
  public static final JsonCodec<PeerMessage> PEER = new JsonCodec<>(PeerMessage.class);

  private static final ByteString DELIMITER =
      ByteString.fromArray(new byte[] {Protocol.FRAME_DELIMITER});
  private static final String NOT_AN_OBJECT = "a frame must be a JSON object";
  private static final int MAX_NESTING_DEPTH = 16;
  private static final int MAX_NUMBER_LENGTH = 32;

  private final Class<T> family;
  private final ObjectReader reader;
  private final ObjectWriter writer;

  /** Whether {@link HotFrameDecoder} reads this family's most frequent frames. */
  private final boolean readsHotFrames;

  /**
   * The longest string Jackson reads: a line no longer cannot hold a longer one, so the fast path
   * never accepts a string that Jackson would refuse for its length.
   */
  private final int maxStringLength;

  private JsonCodec(Class<T> family) {
    this.family = family;
    this.reader = MAPPER.readerFor(family);
    this.writer = MAPPER.writerFor(family);
    this.readsHotFrames = family == ClientMessage.class;
    this.maxStringLength = MAPPER.getFactory().streamReadConstraints().getMaxStringLength();
  }

  private static ObjectMapper newMapper() {
    JsonMapper mapper =
        JsonMapper.builder(
                JsonFactory.builder()
                    // Frames are flat: anything nested deeper is a fuzzer's or an attacker's, and
                    // not worth the parser's time. Numbers are at most 19 digits (a long).
                    .streamReadConstraints(
                        StreamReadConstraints.builder()
                            .maxNestingDepth(MAX_NESTING_DEPTH)
                            .maxNumberLength(MAX_NUMBER_LENGTH)
                            .build())
                    .build())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
            .build();
    for (CoercionInputShape shape :
        new CoercionInputShape[] {
          CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean
        }) {
      mapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
    }
    return mapper;
  }

  /** The frame family this codec reads and writes. */
  public Class<T> family() {
    return family;
  }

  /**
   * One frame as a line of JSON, including the terminating line feed; a frame already {@link
   * ServerMessage.Encoded} is its own bytes.
   */
  public ByteString encode(T frame) {
    Objects.requireNonNull(frame, "frame");
    if (frame instanceof ServerMessage.Encoded encoded) {
      return encoded.lines();
    }
    ByteString hot = HotFrameEncoder.encode(frame);
    return hot != null ? hot : encodeWithJackson(frame);
  }

  /** What {@link #encode} writes for frames {@link HotFrameEncoder} leaves alone. */
  ByteString encodeWithJackson(T frame) {
    try {
      return ByteString.fromArrayUnsafe(writer.writeValueAsBytes(frame)).concat(DELIMITER);
    } catch (JsonProcessingException e) {
      // Only a programming error (a non-serialisable record) gets here.
      throw new IllegalStateException("cannot encode " + frame.getClass().getSimpleName(), e);
    }
  }

  /** One frame as a JSON string without the line feed, for documentation and logs. */
  public String toJson(T frame) {
    return encode(frame).utf8String().stripTrailing();
  }

  /** Decodes one line (without its delimiter). */
  public Inbound<T> decode(ByteString line) {
    byte[] bytes = line.toArrayUnsafe();
    return decode(bytes, 0, bytes.length);
  }

  /** Decodes one line held in {@code bytes[offset, offset + length)}, without copying it. */
  public Inbound<T> decode(byte[] bytes, int offset, int length) {
    if (readsHotFrames && length <= maxStringLength) {
      ClientMessage hot = HotFrameDecoder.decode(bytes, offset, length);
      if (hot != null) {
        return new Inbound.Frame<>(family.cast(hot));
      }
    }
    return decodeWithJackson(bytes, offset, length);
  }

  /** What {@link #decode(byte[], int, int)} makes of lines {@link HotFrameDecoder} declines. */
  Inbound<T> decodeWithJackson(byte[] bytes, int offset, int length) {
    // Jackson would also accept a bare null, or a [type, object] array; neither is a frame.
    if (!startsAsObject(bytes, offset, length)) {
      return new Inbound.Malformed<>(NOT_AN_OBJECT);
    }
    try {
      T frame = reader.readValue(bytes, offset, length);
      return frame == null ? new Inbound.Malformed<>(NOT_AN_OBJECT) : new Inbound.Frame<>(frame);
    } catch (InvalidTypeIdException e) {
      String type = e.getTypeId();
      return type == null
          ? new Inbound.Malformed<>("field 'type' is required")
          : new Inbound.UnknownType<>(type);
    } catch (ValueInstantiationException e) {
      // The records' own checks (Fields) speak in terms of the frame's fields.
      Throwable cause = e.getCause();
      String reason = cause == null ? null : cause.getMessage();
      return new Inbound.Malformed<>(reason != null ? reason : "invalid " + describe(e));
    } catch (InvalidFormatException e) {
      return new Inbound.Malformed<>(describe(e) + " has an invalid value");
    } catch (JsonParseException e) {
      return new Inbound.Malformed<>("invalid JSON at column " + e.getLocation().getColumnNr());
    } catch (JsonMappingException e) {
      return new Inbound.Malformed<>(
          e.getPath().isEmpty()
              ? "invalid frame"
              : describe(e) + " is missing or of the wrong type");
    } catch (IOException e) {
      // Reading from a byte array does no I/O: anything else is unreadable input too.
      return new Inbound.Malformed<>("invalid frame");
    }
  }

  /** Decodes one line given as text, for tests and tools. */
  public Inbound<T> decode(String line) {
    return decode(ByteString.fromString(line));
  }

  private static boolean startsAsObject(byte[] bytes, int offset, int length) {
    for (int i = offset; i < offset + length; i++) {
      byte b = bytes[i];
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return b == '{';
      }
    }
    return false;
  }

  /** The field a mapping problem is about, as {@code field 'a.b'}. */
  private static String describe(JsonMappingException e) {
    String path =
        e.getPath().stream()
            .map(
                reference ->
                    reference.getFieldName() != null
                        ? reference.getFieldName()
                        : String.valueOf(reference.getIndex()))
            .collect(Collectors.joining("."));
    return path.isEmpty() ? "frame" : "field '" + path + "'";
  }
}
