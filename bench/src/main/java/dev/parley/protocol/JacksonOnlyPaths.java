package dev.parley.protocol;

import akka.util.ByteString;

/**
 * The codec with its hand-written paths ({@link HotFrameEncoder}, {@link HotFrameDecoder}) left
 * out, so that the benchmarks can measure what those paths save. It lives in the codec's package
 * because that is where the Jackson-only methods are visible: they are not part of the codec's
 * public interface, and nothing but benchmarks and tests should call them.
 */
public final class JacksonOnlyPaths {

  private JacksonOnlyPaths() {}

  /** {@link JsonCodec#encode} of a server frame, always through Jackson. */
  public static ByteString encodeServer(ServerMessage frame) {
    return JsonCodec.SERVER.encodeWithJackson(frame);
  }

  /** {@link JsonCodec#decode(byte[], int, int)} of a client line, always through Jackson. */
  public static Inbound<ClientMessage> decodeClient(byte[] bytes, int offset, int length) {
    return JsonCodec.CLIENT.decodeWithJackson(bytes, offset, length);
  }
}
