package dev.parley.protocol;

/** Constants every Parley endpoint agrees on before the first frame is exchanged. */
public final class Protocol {

  /**
   * Version carried in the first frame of every connection. Raised when a change would make an
   * older peer misread or reject a frame: a new frame type, a new required field, or a new value of
   * an enumerated field (reasons and error codes are closed sets within a version). A new optional
   * field keeps it, since unknown fields are ignored.
   *
   * <p>Version 2 adds the error codes {@code rate-limited} and {@code invalid-text} and the goodbye
   * reasons {@code rate-limited} and {@code account-removed}, and writes characters outside the
   * Basic Multilingual Plane as UTF-8 rather than as escaped surrogate pairs.
   *
   * <p>Version 3 adds heartbeats, session resumption ({@code resume}, {@code login-accepted}'s
   * {@code resumeToken}, the login failure {@code resume-refused}, the goodbye reasons {@code
   * resumed} and {@code unresponsive}), and authenticated private chats (the peer listener's
   * fingerprint at login, {@code peer-address}'s fingerprint and token, {@code peer-invited}, and
   * the token in {@code peer-hello}).
   */
  public static final int VERSION = 3;

  /**
   * Oldest version a server still accepts. A version 1 client reads every version 2 frame except
   * the new reasons and codes, which it may see only after breaking a limit it did not know of.
   */
  public static final int MIN_VERSION = 1;

  /** Frames are separated by a single line feed; JSON escapes any line feed inside a frame. */
  public static final byte FRAME_DELIMITER = '\n';

  /**
   * Longest frame, in bytes before its line feed, that every receiver accepts. A server never sends
   * a longer one: the text limit below leaves room for any frame's other fields.
   */
  public static final int MAX_FRAME_BYTES = 64 * 1024;

  /**
   * Longest text a message or broadcast may carry, counted as its JSON encoding ({@link
   * WireText#encodedLength}): {@value} bytes, which leaves {@value #ENVELOPE_RESERVE_BYTES} bytes
   * of a {@link #MAX_FRAME_BYTES} frame for the longest envelope (type, sender, sequence number and
   * message id, each at its own limit).
   */
  public static final int MAX_TEXT_BYTES = 60 * 1024;

  /** What a frame's fields other than its text may take at most (see {@link #MAX_TEXT_BYTES}). */
  public static final int ENVELOPE_RESERVE_BYTES = MAX_FRAME_BYTES - MAX_TEXT_BYTES;

  /** Longest user name, in characters (the store's column holds as many). */
  public static final int MAX_NAME_LENGTH = 64;

  /**
   * Longest token (a resumption token, a private chat's token) or certificate fingerprint, in
   * characters: what Parley issues is far shorter; the bound keeps a forged one cheap to refuse.
   */
  public static final int MAX_TOKEN_LENGTH = 128;

  /** Longest password, in characters: enough for any passphrase, bounded for the hash's sake. */
  public static final int MAX_PASSWORD_LENGTH = 1024;

  private Protocol() {}
}
