package dev.parley.bench.client;

import java.nio.charset.StandardCharsets;

/**
 * The server frames the generator tells apart, by the value of their {@code type} field. The frames
 * of the measured traffic come first, since {@link Frames#type} tries them in this order.
 */
public enum FrameType {
  MESSAGE_RECEIVED("message-received"),
  MESSAGE_ACCEPTED("message-accepted"),
  BROADCAST_RECEIVED("broadcast-received"),
  BROADCAST_SENT("broadcast-sent"),
  USER_LOGGED_IN("user-logged-in"),
  USER_LOGGED_OUT("user-logged-out"),
  ERROR("error"),
  ACTIVITY_NOTED("activity-noted"),
  ONLINE_USERS("online-users"),
  HELLO("hello"),
  PASSWORD_REQUIRED("password-required"),
  LOGIN_ACCEPTED("login-accepted"),
  LOGIN_FAILED("login-failed"),
  GOODBYE("goodbye"),
  /** The server asks a silent connection whether it is alive (protocol 3). */
  HEARTBEAT("heartbeat"),
  /** Any other type, or a line without one. */
  OTHER("");

  static final FrameType[] KNOWN;

  static {
    FrameType[] all = values();
    KNOWN = java.util.Arrays.copyOf(all, all.length - 1);
  }

  final byte[] wire;

  FrameType(String wire) {
    this.wire = wire.getBytes(StandardCharsets.US_ASCII);
  }
}
