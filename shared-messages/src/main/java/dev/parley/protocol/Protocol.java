package dev.parley.protocol;

/** Constants every Parley endpoint agrees on before the first frame is exchanged. */
public final class Protocol {

  /**
   * Version carried in the first frame of every connection. Raised when a change would make an
   * older peer misread or reject a frame: a new frame type, a new required field, or a new value of
   * an enumerated field (reasons and error codes are closed sets within a version). A new optional
   * field keeps it, since unknown fields are ignored.
   */
  public static final int VERSION = 1;

  /** Frames are separated by a single line feed; JSON escapes any line feed inside a frame. */
  public static final byte FRAME_DELIMITER = '\n';

  private Protocol() {}
}
