package dev.parley.client.net;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Short, one-line reasons for failed network operations, fit to show the user. */
public final class Failures {

  /**
   * Akka's TCP stage reports a failed connect as {@code Tcp command [Connect(...)] failed because
   * of java.net.ConnectException: Connection refused}; only the part after the exception's class
   * name is of use to a user.
   */
  private static final Pattern TCP_COMMAND_FAILED =
      Pattern.compile("failed because of (?:([\\w.$]+): )?(.+)$", Pattern.DOTALL);

  private static final String UNKNOWN_HOST = "java.net.UnknownHostException";

  /**
   * How the JDK's TLS says that what came back was not TLS at all (a plain TCP server answering the
   * handshake with a line of its own protocol): "Unrecognized SSL message, plaintext connection?"
   * on a client, "Unsupported or unrecognized SSL message" on a server.
   */
  private static final String NOT_TLS_RECORD = "nrecognized SSL message";

  private Failures() {}

  /** Whether {@code failure} is TLS finding that the other side does not speak TLS. */
  public static boolean isNotTls(Throwable failure) {
    return failure.getMessage() != null && failure.getMessage().contains(NOT_TLS_RECORD);
  }

  /** The innermost cause's message, without Akka's wrapping and without a stack trace. */
  public static String describe(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    if (message == null || message.isBlank()) {
      return root.getClass().getSimpleName();
    }
    Matcher wrapped = TCP_COMMAND_FAILED.matcher(message);
    if (!wrapped.find()) {
      return message.strip();
    }
    String cause = wrapped.group(2).strip();
    // An unknown host's exception message is only the host name itself.
    return UNKNOWN_HOST.equals(wrapped.group(1)) ? "unknown host " + cause : cause;
  }
}
