package dev.parley.bench.jmh;

import akka.util.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.JsonCodec;

/**
 * The frames the microbenchmarks feed to the real code: what a server reads and writes most under
 * the {@code direct} load (a 64-byte text, a client id shaped like the UUID Parley's client uses).
 */
final class Samples {

  /** 64 bytes of plain ASCII, the payload size of the load generator and of the reference runs. */
  static final String TEXT_64 = "Are we still on for lunch at noon? I will bring the draft slides";

  /** A client-chosen message id as Parley's client makes them (a random UUID). */
  static final String MESSAGE_ID = "3f2b8c1e-6d4a-4b7e-9a51-0c2d7e9f4a68";

  static final String SENDER = "user-1042";
  static final String RECIPIENT = "user-1337";

  /** A recipient's sequence number well into a long session. */
  static final long SEQ = 123_456L;

  private Samples() {}

  /** One client frame as the server reads it: its JSON line without the line feed. */
  static ByteString clientLine(ClientMessage frame) {
    ByteString encoded = JsonCodec.CLIENT.encode(frame);
    // A compact copy, as a TCP read delivers it, rather than the encoder's two-part rope.
    return ByteString.fromArray(encoded.take(encoded.length() - 1).toArray());
  }

  static void requireLength(String text, int bytes) {
    if (ByteString.fromString(text).length() != bytes) {
      throw new IllegalStateException("sample text is not " + bytes + " bytes: " + text);
    }
  }

  /**
   * The configuration of a benchmark's actor system: Akka's INFO lines (start, shutdown) would mix
   * with JMH's output.
   */
  static Config quietConfig() {
    return ConfigFactory.parseString("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING")
        .withFallback(ConfigFactory.load());
  }
}
