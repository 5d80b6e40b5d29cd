package dev.parley.transport;

/**
 * A certificate, key or keystore that cannot be generated, read or written. The message names the
 * file and says what is wrong with it in words an operator can act on, so that a program can print
 * it as it is.
 */
public final class TlsMaterialException extends Exception {

  public TlsMaterialException(String message) {
    super(message);
  }

  public TlsMaterialException(String message, Throwable cause) {
    super(message, cause);
  }
}
