package dev.parley.server.testing;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import akka.util.ByteString;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;

/**
 * An outbound queue for tests that shows a probe the frames a client would read: frames encoded in
 * advance ({@link ServerMessage.Encoded}, one or several lines) are decoded and passed on one by
 * one, other frames as they are. Assertions then speak of frames, whatever the server shared as
 * bytes.
 */
public final class DecodingOutbox {

  private DecodingOutbox() {}

  /** An outbox whose frames reach {@code probe} decoded. */
  public static ActorRef<ServerMessage> to(ActorTestKit testKit, TestProbe<ServerMessage> probe) {
    return testKit.spawn(
        Behaviors.receiveMessage(
            frame -> {
              if (frame instanceof ServerMessage.Encoded encoded) {
                decode(encoded.lines(), probe.ref());
              } else {
                probe.ref().tell(frame);
              }
              return Behaviors.same();
            }));
  }

  private static void decode(ByteString lines, ActorRef<ServerMessage> to) {
    ByteString rest = lines;
    while (!rest.isEmpty()) {
      int end = rest.indexOf('\n');
      Inbound<ServerMessage> decoded = JsonCodec.SERVER.decode(rest.slice(0, end));
      if (!(decoded instanceof Inbound.Frame<ServerMessage> frame)) {
        throw new AssertionError("the server encoded a frame it cannot read: " + decoded);
      }
      to.tell(frame.frame());
      rest = rest.drop(end + 1);
    }
  }
}
