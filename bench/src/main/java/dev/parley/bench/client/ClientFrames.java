package dev.parley.bench.client;

/**
 * The frames a simulated user sends, written by hand into its {@link FrameBuffer}: constant pieces
 * and decimal numbers, in the field order Parley itself writes. Names and passwords are given
 * already escaped for JSON (see {@link Frames#escape}).
 */
public final class ClientFrames {

  /**
   * Protocol 3, as Parley's client speaks: the server then sends heartbeats to a silent connection,
   * which the generator answers, and gives a token for resuming the session at each login.
   */
  static final byte[] HELLO = Frames.ascii("{\"type\":\"hello\",\"version\":3}\n");

  /** The answer to the server's heartbeat. */
  static final byte[] HEARTBEAT = Frames.ascii("{\"type\":\"heartbeat\"}\n");

  static final byte[] ACTIVITY = Frames.ascii("{\"type\":\"activity\"}\n");
  static final byte[] LOGOUT = Frames.ascii("{\"type\":\"logout\"}\n");
  static final byte[] WHOELSE = Frames.ascii("{\"type\":\"whoelse\"}\n");

  private static final byte[] USERNAME = Frames.ascii("{\"type\":\"username\",\"username\":\"");
  private static final byte[] END_STRING_OBJECT = Frames.ascii("\"}\n");
  private static final byte[] RESUME = Frames.ascii("{\"type\":\"resume\",\"username\":\"");
  private static final byte[] TOKEN_FIELD = Frames.ascii("\",\"token\":\"");
  private static final byte[] PEER_PORT_FIELD = Frames.ascii("\",\"peerPort\":");
  private static final byte[] ACK = Frames.ascii("{\"type\":\"ack\",\"seq\":");
  private static final byte[] END_OBJECT = Frames.ascii("}\n");
  private static final byte[] MESSAGE_TO = Frames.ascii("{\"type\":\"message\",\"to\":\"");
  private static final byte[] TEXT = Frames.ascii("\",\"text\":\"");
  private static final byte[] ID = Frames.ascii("\",\"id\":\"");
  private static final byte[] BROADCAST = Frames.ascii("{\"type\":\"broadcast\",\"text\":\"");
  private static final byte ID_SEPARATOR = '-';

  /**
   * The port the generator's users claim to accept private chats on: the server only passes it on,
   * and no scenario starts a private chat.
   */
  static final int PEER_PORT = 9;

  private ClientFrames() {}

  /** {@code password}: the same frame for every user of a fleet, so made once. */
  public static byte[] password(String escapedPassword) {
    return Frames.ascii(
        "{\"type\":\"password\",\"password\":\""
            + escapedPassword
            + "\",\"peerPort\":"
            + PEER_PORT
            + "}\n");
  }

  /**
   * {@code resume} with the token of the user's last login, claiming the same {@link #PEER_PORT} as
   * the password frame.
   */
  public static void resume(FrameBuffer out, byte[] name, byte[] token) {
    out.put(RESUME)
        .put(name)
        .put(TOKEN_FIELD)
        .put(token)
        .put(PEER_PORT_FIELD)
        .putDecimal(PEER_PORT)
        .put(END_OBJECT);
  }

  public static void username(FrameBuffer out, byte[] name) {
    out.put(USERNAME).put(name).put(END_STRING_OBJECT);
  }

  public static void ack(FrameBuffer out, long seq) {
    out.put(ACK).putDecimal(seq).put(END_OBJECT);
  }

  /**
   * {@code message} to {@code to} with a {@link Payload} and the id {@code
   * TOKEN-STAMP-SENDER-NUMBER}, which is new to the server for every phase. The stamp (in
   * fixed-width hex) makes one phase's ids increase with time, as a real client's time-ordered ids
   * do: the server indexes ids, and ids that increase are appended to that index instead of landing
   * all over it.
   */
  public static void message(
      FrameBuffer out,
      byte[] to,
      byte[] token,
      int sender,
      long number,
      long stamp,
      int payloadBytes) {
    out.put(MESSAGE_TO).put(to).put(TEXT);
    Payload.write(out, token, sender, number, stamp, payloadBytes);
    out.put(ID)
        .put(token)
        .put(ID_SEPARATOR)
        .putHex16(stamp)
        .put(ID_SEPARATOR)
        .putDecimal(sender)
        .put(ID_SEPARATOR)
        .putDecimal(number)
        .put(END_STRING_OBJECT);
  }

  /** {@code broadcast} with a {@link Payload}. */
  public static void broadcast(
      FrameBuffer out, byte[] token, int sender, long number, long stamp, int payloadBytes) {
    out.put(BROADCAST);
    Payload.write(out, token, sender, number, stamp, payloadBytes);
    out.put(END_STRING_OBJECT);
  }
}
