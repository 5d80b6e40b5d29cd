package dev.parley.client;

import dev.parley.protocol.ServerMessage.Goodbye;

/** The process exit statuses of the client, and which server goodbye leads to which. */
public final class ExitStatus {

  /** Logged out, or the user ended the input. */
  public static final int OK = 0;

  /** The server refused the login for good (the account is locked or blocked). */
  public static final int LOGIN_REFUSED = 1;

  /** The command line could not be understood. */
  public static final int USAGE = 2;

  /**
   * The server could not be reached, the connection was lost and not regained within the reconnect
   * window, or the server closed it for good.
   */
  public static final int CONNECTION = 3;

  /** The server logged the user out for inactivity. */
  public static final int TIMED_OUT = 4;

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
      case ACCOUNT_LOCKED, ACCOUNT_BLOCKED -> LOGIN_REFUSED;
      default -> CONNECTION;
    };
  }
}
