package dev.parley.bench.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.CommandRate;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The generator reads and writes frames by hand; Parley's own codec is the reference it must agree
 * with, both ways.
 */
class FramesTest {

  private static final byte[] TOKEN = Frames.ascii("k3f9a1z");

  /** A server frame as Parley writes it, without the line feed. */
  private static byte[] server(ServerMessage frame) {
    return JsonCodec.SERVER.toJson(frame).getBytes(StandardCharsets.UTF_8);
  }

  private static ClientMessage decode(FrameBuffer out) {
    String text = new String(out.contents(), StandardCharsets.UTF_8);
    assertTrue(text.endsWith("\n"), text);
    assertEquals(1, text.chars().filter(c -> c == '\n').count(), text);
    Inbound<ClientMessage> decoded = JsonCodec.CLIENT.decode(text.substring(0, text.length() - 1));
    assertTrue(decoded instanceof Inbound.Frame, () -> text + " -> " + decoded);
    return ((Inbound.Frame<ClientMessage>) decoded).frame();
  }

  private static FrameType type(byte[] line) {
    return Frames.type(line, 0, line.length);
  }

  @Test
  void shouldTellTheTypeOfEveryFrameTheGeneratorHandles() {
    Map<FrameType, ServerMessage> frames =
        Map.ofEntries(
            Map.entry(
                FrameType.MESSAGE_RECEIVED, new ServerMessage.MessageReceived("a", "t", 3, "i")),
            Map.entry(FrameType.MESSAGE_ACCEPTED, new ServerMessage.MessageAccepted("i", false)),
            Map.entry(FrameType.BROADCAST_RECEIVED, new ServerMessage.BroadcastReceived("a", "t")),
            Map.entry(FrameType.BROADCAST_SENT, new ServerMessage.BroadcastSent(true)),
            Map.entry(FrameType.USER_LOGGED_IN, new ServerMessage.UserLoggedIn("a")),
            Map.entry(FrameType.USER_LOGGED_OUT, new ServerMessage.UserLoggedOut("a")),
            Map.entry(
                FrameType.ERROR,
                new ServerMessage.Error(ServerMessage.Error.Code.MAILBOX_FULL, "message", "a")),
            Map.entry(FrameType.ACTIVITY_NOTED, new ServerMessage.ActivityNoted()),
            Map.entry(FrameType.ONLINE_USERS, new ServerMessage.OnlineUsers(List.of("a"), 7)),
            Map.entry(
                FrameType.HELLO, new ServerMessage.Hello(2, "parley", new CommandRate(20.0, 100))),
            Map.entry(FrameType.PASSWORD_REQUIRED, new ServerMessage.PasswordRequired("a")),
            Map.entry(FrameType.LOGIN_ACCEPTED, new ServerMessage.LoginAccepted("a")),
            Map.entry(
                FrameType.LOGIN_FAILED,
                new ServerMessage.LoginFailed(ServerMessage.LoginFailed.Reason.UNKNOWN_USER, "a")),
            Map.entry(
                FrameType.GOODBYE,
                new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.TIMED_OUT)));
    frames.forEach(
        (expected, frame) -> assertEquals(expected, type(server(frame)), expected.name()));
    assertEquals(
        FrameType.OTHER, type(server(new ServerMessage.RecentUsers(60, List.of("a"), null))));
  }

  @Test
  void shouldReadTheCommandRateOfAVersion2Hello() {
    byte[] hello = server(new ServerMessage.Hello(2, "parley", new CommandRate(12.5, 40)));
    assertEquals(12.5, Frames.decimalField(hello, 0, hello.length, Frames.key("perSecond")));
    assertEquals(40, Frames.longField(hello, 0, hello.length, Frames.key("burst")));
    byte[] unlimited = server(new ServerMessage.Hello(2, "parley"));
    assertTrue(
        Double.isNaN(Frames.decimalField(unlimited, 0, unlimited.length, Frames.key("perSecond"))));
  }

  @Test
  void shouldFindTheTypeWhereverItIs() {
    assertEquals(FrameType.GOODBYE, type(Frames.ascii("{\"reason\":\"x\",\"type\":\"goodbye\"}")));
    assertEquals(FrameType.OTHER, type(Frames.ascii("{\"reason\":\"x\"}")));
    assertEquals(FrameType.OTHER, type(Frames.ascii("not json")));
    assertEquals(FrameType.OTHER, type(Frames.ascii("{\"type\":\"hello-there\"}")));
  }

  @Test
  void shouldReadFieldsOfServerFrames() {
    byte[] received = server(new ServerMessage.MessageReceived("bob", "hi \"you\"", 4242, "x-1"));
    assertEquals(4242, Frames.longField(received, 0, received.length, Frames.key("seq")));
    assertEquals("x-1", Frames.stringField(received, 0, received.length, Frames.key("id")));
    assertEquals(-1, Frames.longField(received, 0, received.length, Frames.key("nothing")));

    byte[] accepted = server(new ServerMessage.MessageAccepted("m", true));
    assertTrue(Frames.isTrue(accepted, 0, accepted.length, Frames.key("stored")));
    byte[] live = server(new ServerMessage.MessageAccepted("m", false));
    assertFalse(Frames.isTrue(live, 0, live.length, Frames.key("stored")));

    byte[] error =
        server(new ServerMessage.Error(ServerMessage.Error.Code.UNAVAILABLE, "message", "b", "m"));
    assertEquals("unavailable", Frames.stringField(error, 0, error.length, Frames.key("code")));
    assertNull(Frames.stringField(error, 0, error.length, Frames.key("missing")));
  }

  @Test
  void shouldWriteFramesParleyDecodes() {
    FrameBuffer out = new FrameBuffer(16);
    ClientFrames.message(out, Frames.ascii("bench17"), TOKEN, 3, 41, 123_456_789L, 64);
    ClientMessage.SendMessage message = (ClientMessage.SendMessage) decode(out);
    assertEquals("bench17", message.to());
    assertEquals(64, message.text().length());
    assertTrue(message.text().startsWith("k3f9a1z:3:41:123456789:x"), message.text());
    assertEquals("k3f9a1z-00000000075bcd15-3-41", message.id());

    out = new FrameBuffer(16);
    ClientFrames.broadcast(out, TOKEN, 0, 7, 99, 10);
    // The header is longer than 10 bytes: no padding, nothing cut.
    assertEquals(new ClientMessage.Broadcast("k3f9a1z:0:7:99:"), decode(out));

    out = new FrameBuffer(16);
    ClientFrames.username(out, Frames.ascii(Frames.escape("we\"ird")));
    assertEquals(new ClientMessage.Username("we\"ird"), decode(out));

    out = new FrameBuffer(16);
    ClientFrames.ack(out, 9_000_000_000L);
    assertEquals(new ClientMessage.Acknowledge(9_000_000_000L), decode(out));

    out = new FrameBuffer(16);
    out.put(ClientFrames.password(Frames.escape("p\\w")));
    ClientMessage.Password password = (ClientMessage.Password) decode(out);
    assertEquals("p\\w", password.password());
    assertEquals(ClientFrames.PEER_PORT, password.peerPort());

    out = new FrameBuffer(16);
    out.put(ClientFrames.HELLO);
    assertEquals(new ClientMessage.Hello(3), decode(out));
    out = new FrameBuffer(16);
    out.put(ClientFrames.HEARTBEAT);
    assertEquals(new ClientMessage.Heartbeat(), decode(out));
    out = new FrameBuffer(16);
    ClientFrames.resume(out, Frames.ascii("bench7"), Frames.ascii("t0k-en_9"));
    assertEquals(
        new ClientMessage.Resume("bench7", "t0k-en_9", ClientFrames.PEER_PORT, null), decode(out));
    out = new FrameBuffer(16);
    out.put(ClientFrames.ACTIVITY);
    assertEquals(new ClientMessage.NoteActivity(), decode(out));
    out = new FrameBuffer(16);
    out.put(ClientFrames.WHOELSE);
    assertEquals(new ClientMessage.WhoElse(), decode(out));
    out = new FrameBuffer(16);
    out.put(ClientFrames.LOGOUT);
    assertEquals(new ClientMessage.Logout(), decode(out));
  }

  @Test
  void shouldReadBackThePayloadOfAReceivedMessage() {
    FrameBuffer text = new FrameBuffer(8);
    Payload.write(text, TOKEN, 1234, 56, 7_890_123_456L, 100);
    String payload = new String(text.contents(), StandardCharsets.US_ASCII);
    assertEquals(100, payload.length());
    byte[] line = server(new ServerMessage.MessageReceived("bench1234", payload, 77, "k-1"));

    Payload.Reader reader = new Payload.Reader(TOKEN);
    assertTrue(reader.read(line, 0, line.length));
    assertEquals(1234, reader.sender());
    assertEquals(56, reader.number());
    assertEquals(7_890_123_456L, reader.stamp());

    byte[] broadcast = server(new ServerMessage.BroadcastReceived("bench1234", payload));
    assertTrue(reader.read(broadcast, 0, broadcast.length));
    assertEquals(56, reader.number());
  }

  @Test
  void shouldNotReadAPayloadOfAnotherPhaseOrAPerson() {
    Payload.Reader reader = new Payload.Reader(TOKEN);
    for (String text : List.of("zzzzzzz:1:2:3:xx", "k3f9a1z:1:2", "k3f9a1z", "hello there")) {
      byte[] line = server(new ServerMessage.MessageReceived("a", text, 1, null));
      assertFalse(reader.read(line, 0, line.length), text);
    }
  }

  @Test
  void shouldWriteNumbersAndGrow() {
    FrameBuffer out = new FrameBuffer(2);
    out.putDecimal(0).put((byte) ' ').putDecimal(Long.MAX_VALUE).put((byte) ' ').putDecimal(10);
    assertEquals(
        "0 " + Long.MAX_VALUE + " 10", new String(out.contents(), StandardCharsets.US_ASCII));
  }
}
