package dev.parley.client;

import dev.parley.protocol.ServerMessage.Goodbye;

/** The process exit statuses of the client, and which server goodbye leads to which. */
public final class ExitStatus {

  /** Logged out, or the user ended the input. */
  public static final int OK = 0;

  /**
   * The account cannot be used: the server refused the login for good (the account is locked or
   * blocked, or logging in again after a lost connection was refused), or it ended the session
   * because an administrator removed the account ({@code account-removed}). Trying again as is
   * would not help.
   */
  public static final int LOGIN_REFUSED = 1;

  /** The command line could not be understood. */
  public static final int USAGE = 2;

  /**
   * The server could not be reached, the connection was lost and not regained within the reconnect
   * window, or the server closed it for a reason that may pass: busy ({@code server-busy}), this
   * client or its address went too fast ({@code rate-limited}), shutting down with reconnecting
   * disabled, a protocol problem. Trying again later may work.
   */
  public static final int CONNECTION = 3;

  /** The server logged the user out for inactivity. */
  public static final int TIMED_OUT = 4;

  /**
   * The server's identity could not be verified: its certificate is not the one given with {@code
   * --trust-fingerprint}, or not the one recorded for it in {@code known_servers} (it changed).
   * Nothing was sent to it. Trying again would meet the same certificate.
   */
  public static final int SERVER_UNVERIFIED = 5;

  /** The client failed in a way it did not plan for (sysexits' EX_SOFTWARE); see the log file. */
  public static final int INTERNAL_ERROR = 70;

  /** Killed: {@link ParleyClient#kill()}, or a signal to the JVM (128 + SIGKILL, by custom). */
  public static final int KILLED = 137;

  private ExitStatus() {}

  /** The status the client exits with after the server said goodbye for this reason. */
  public static int forGoodbye(Goodbye.Reason reason) {
    return switch (reason) {
      case LOGGED_OUT -> OK;
      case TIMED_OUT -> TIMED_OUT;
      case ACCOUNT_LOCKED, ACCOUNT_BLOCKED, ACCOUNT_REMOVED -> LOGIN_REFUSED;
      case SERVER_BUSY, SERVER_SHUTDOWN, RATE_LIMITED, RESUMED, UNRESPONSIVE -> CONNECTION;
      case UNSUPPORTED_VERSION, FRAME_TOO_LONG, PROTOCOL_VIOLATION -> CONNECTION;
    };
  }
}
