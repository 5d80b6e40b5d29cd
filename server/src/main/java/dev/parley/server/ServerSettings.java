package dev.parley.server;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The server's configuration, read once from the {@code parley.server} section (see {@code
 * reference.conf} for the meaning and unit of each key).
 */
public record ServerSettings(
    String host,
    int port,
    int acceptBacklog,
    int maxLoginFailures,
    Duration blockDuration,
    Duration idleTimeout,
    Duration loginTimeout,
    Path credentialsFile,
    int maxFrameBytes,
    long outboundBufferBytes,
    int messageWindow,
    int maxBadFrames,
    int maxConnections,
    int mailboxCapacity,
    int passwordHashIterations,
    Duration directoryRefresh,
    Duration askTimeout,
    Duration closeTimeout) {

  /** The configuration path of the server's settings. */
  public static final String PATH = "parley.server";

  /** Dispatcher of the blocking database calls. */
  public static final String STORE_DISPATCHER = PATH + ".store-dispatcher";

  /** Dispatcher of password hashing. */
  public static final String PASSWORD_DISPATCHER = PATH + ".password-dispatcher";

  public ServerSettings {
    requirePositive(maxLoginFailures, "max-login-failures");
    requirePositive(maxFrameBytes, "max-frame-bytes");
    if (outboundBufferBytes < 2L * maxFrameBytes) {
      throw new IllegalArgumentException("outbound-buffer-bytes must hold at least two frames");
    }
    requirePositive(messageWindow, "message-window");
    requirePositive(maxBadFrames, "max-bad-frames");
    requirePositive(maxConnections, "max-connections");
    requirePositive(mailboxCapacity, "mailbox-capacity");
    requirePositive(passwordHashIterations, "password-hash-iterations");
    requirePositive(directoryRefresh, "directory-refresh");
    requirePositive(blockDuration, "block-duration");
    requirePositive(idleTimeout, "idle-timeout");
    requirePositive(loginTimeout, "login-timeout");
    requirePositive(askTimeout, "ask-timeout");
    requirePositive(closeTimeout, "close-timeout");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
    }
  }

  /** Reads the settings from the {@code parley.server} section of a loaded configuration. */
  public static ServerSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    return new ServerSettings(
        c.getString("host"),
        c.getInt("port"),
        c.getInt("accept-backlog"),
        c.getInt("max-login-failures"),
        c.getDuration("block-duration"),
        c.getDuration("idle-timeout"),
        c.getDuration("login-timeout"),
        Path.of(c.getString("credentials-file")),
        c.getInt("max-frame-bytes"),
        c.getBytes("outbound-buffer-bytes"),
        c.getInt("message-window"),
        c.getInt("max-bad-frames"),
        c.getInt("max-connections"),
        c.getInt("mailbox-capacity"),
        c.getInt("password-hash-iterations"),
        c.getDuration("directory-refresh"),
        c.getDuration("ask-timeout"),
        c.getDuration("close-timeout"));
  }

  private static void requirePositive(int value, String key) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + " must be positive, not " + value);
    }
  }

  private static void requirePositive(Duration value, String key) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(key + " must be a positive duration, not " + value);
    }
  }
}
