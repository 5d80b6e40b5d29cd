package dev.parley.server;

import com.typesafe.config.Config;
import dev.parley.protocol.CommandRate;
import dev.parley.protocol.Protocol;
import dev.parley.server.broadcast.PresenceBatching;
import dev.parley.server.limits.AddressRange;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The server's configuration, read once from the {@code parley.server} section (see {@code
 * reference.conf} for the meaning and unit of each key).
 */
public record ServerSettings(
    String host,
    int port,
    int acceptBacklog,
    Sockets sockets,
    int connectionHosts,
    int maxLoginFailures,
    Duration blockDuration,
    Duration idleTimeout,
    Duration loginTimeout,
    Duration heartbeatInterval,
    Duration heartbeatTimeout,
    Duration resumeWindow,
    Duration privateChatTokenTtl,
    Path credentialsFile,
    int maxFrameBytes,
    int maxTextBytes,
    long outboundBufferBytes,
    int messageWindow,
    int maxBadFrames,
    int maxConnections,
    Mailbox mailbox,
    Limits limits,
    Passwords passwords,
    PresenceBatching presenceBatch,
    Duration directoryRefresh,
    Duration accountPollInterval,
    Duration requestTimeout,
    Duration closeTimeout) {

  /** The configuration path of the server's settings. */
  public static final String PATH = "parley.server";

  /** Dispatcher of the blocking database writes. */
  public static final String STORE_DISPATCHER = PATH + ".store-dispatcher";

  /**
   * What drives the TCP port's sockets.
   *
   * @param own Parley's own socket stages ({@code socket-io = nio}); false: Akka IO's TCP
   * @param selectors selector threads of the own stages
   * @param readBytes most bytes one read takes from a socket (own stages)
   * @param writeBytes most bytes a connection gathers for one write (own stages)
   * @param writeHold the longest a due write waits for the streams' thread to run dry (own stages)
   * @param acceptRetry the wait after an accept that failed (own stages)
   */
  public record Sockets(
      boolean own,
      int selectors,
      int readBytes,
      int writeBytes,
      Duration writeHold,
      Duration acceptRetry) {

    /** The values {@code socket-io} takes. */
    public static final String OWN = "nio";

    public static final String AKKA = "akka";

    public Sockets {
      requirePositive(selectors, "io-selectors");
      requirePositive(readBytes, "io-read-bytes");
      requirePositive(writeBytes, "io-write-bytes");
      requireNotNegative(writeHold, "io-write-hold");
      requirePositive(acceptRetry, "accept-retry");
    }

    static Sockets fromConfig(Config c) {
      String io = c.getString("socket-io");
      if (!io.equals(OWN) && !io.equals(AKKA)) {
        throw new IllegalArgumentException(
            "socket-io must be " + OWN + " or " + AKKA + ", not " + io);
      }
      return new Sockets(
          io.equals(OWN),
          c.getInt("io-selectors"),
          c.getBytes("io-read-bytes").intValue(),
          c.getBytes("io-write-bytes").intValue(),
          c.getDuration("io-write-hold"),
          c.getDuration("accept-retry"));
    }
  }

  /**
   * What is kept for each user and how fast it is handed to their client.
   *
   * @param capacity messages not yet acknowledged that a user may have
   * @param bytes their encoded text, in bytes
   * @param window messages sent to the client ahead of its acknowledgements
   * @param windowBytes their encoded text, in bytes
   * @param pageSize messages read from the store at once when the window reopens
   */
  public record Mailbox(int capacity, long bytes, int window, long windowBytes, int pageSize) {
    public Mailbox {
      requirePositive(capacity, "mailbox-capacity");
      requirePositive(bytes, "mailbox-bytes");
      requirePositive(window, "delivery-window");
      requirePositive(windowBytes, "delivery-window-bytes");
      requirePositive(pageSize, "mailbox-page");
    }
  }

  /**
   * Limits that keep one client from taking the service away from others. With {@code enabled} off
   * (the benchmark's setting) none of them applies.
   *
   * @param exempt addresses the per-address limits never apply to
   * @param maxTrackedAddresses addresses whose recent activity is remembered at most
   * @param connections new connections per address
   * @param maxConnectionsPerAddress connections open at once from one address
   * @param loginAttempts username and password frames per address
   * @param commands frames per connection
   * @param disconnectAfter refused frames in a row after which the connection is closed
   */
  public record Limits(
      boolean enabled,
      List<AddressRange> exempt,
      int maxTrackedAddresses,
      CommandRate connections,
      int maxConnectionsPerAddress,
      CommandRate loginAttempts,
      CommandRate commands,
      int disconnectAfter) {
    public Limits {
      exempt = List.copyOf(exempt);
      requirePositive(maxTrackedAddresses, "limits.max-tracked-addresses");
      requirePositive(maxConnectionsPerAddress, "limits.max-connections-per-address");
      requirePositive(disconnectAfter, "limits.disconnect-after");
    }

    static Limits fromConfig(Config c) {
      return new Limits(
          c.getBoolean("enabled"),
          c.getStringList("exempt").stream().map(AddressRange::parse).toList(),
          c.getInt("max-tracked-addresses"),
          rate(c.getConfig("connections")),
          c.getInt("max-connections-per-address"),
          rate(c.getConfig("login-attempts")),
          rate(c.getConfig("commands")),
          c.getInt("disconnect-after"));
    }

    /** A section with {@code per-second} and {@code burst}. */
    private static CommandRate rate(Config section) {
      return new CommandRate(section.getDouble("per-second"), section.getInt("burst"));
    }
  }

  /**
   * How passwords are hashed and how much hashing may wait.
   *
   * @param iterations PBKDF2 iterations of new hashes
   * @param threads threads that hash
   * @param queue hashes that may wait for a thread; beyond, a login is told the server is busy
   */
  public record Passwords(int iterations, int threads, int queue) {
    public Passwords {
      requirePositive(iterations, "password-hash-iterations");
      requirePositive(threads, "password-threads");
      requirePositive(queue, "password-queue");
    }
  }

  public ServerSettings {
    requirePositive(maxLoginFailures, "max-login-failures");
    requirePositive(maxFrameBytes, "max-frame-bytes");
    requirePositive(maxTextBytes, "max-text-bytes");
    requirePositive(messageWindow, "message-window");
    requirePositive(maxBadFrames, "max-bad-frames");
    requirePositive(maxConnections, "max-connections");
    requirePositive(directoryRefresh, "directory-refresh");
    requirePositive(accountPollInterval, "account-poll-interval");
    requirePositive(blockDuration, "block-duration");
    requirePositive(idleTimeout, "idle-timeout");
    requirePositive(loginTimeout, "login-timeout");
    requirePositive(heartbeatInterval, "heartbeat-interval");
    requirePositive(resumeWindow, "resume-window");
    requirePositive(privateChatTokenTtl, "private-chat-token-ttl");
    if (privateChatTokenTtl.toSeconds() < 1) {
      throw new IllegalArgumentException("private-chat-token-ttl must be at least 1s");
    }
    if (heartbeatTimeout.compareTo(heartbeatInterval) <= 0) {
      throw new IllegalArgumentException(
          "heartbeat-timeout must be longer than heartbeat-interval, not " + heartbeatTimeout);
    }
    requirePositive(requestTimeout, "request-timeout");
    requirePositive(closeTimeout, "close-timeout");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be between 0 and 65535, not " + port);
    }
    // A text the server accepts must fit in every frame that carries it, on every client.
    if (maxTextBytes > Protocol.MAX_TEXT_BYTES
        || maxTextBytes > maxFrameBytes - Protocol.ENVELOPE_RESERVE_BYTES) {
      throw new IllegalArgumentException(
          "max-text-bytes must be at most "
              + Protocol.MAX_TEXT_BYTES
              + " and leave "
              + Protocol.ENVELOPE_RESERVE_BYTES
              + " bytes of max-frame-bytes for the rest of a frame, not "
              + maxTextBytes);
    }
    if (outboundBufferBytes < mailbox.windowBytes() + 2L * maxFrameBytes) {
      throw new IllegalArgumentException(
          "outbound-buffer-bytes must hold delivery-window-bytes and two frames more");
    }
  }

  /** Reads the settings from the {@code parley.server} section of a loaded configuration. */
  public static ServerSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    return new ServerSettings(
        c.getString("host"),
        c.getInt("port"),
        c.getInt("accept-backlog"),
        Sockets.fromConfig(c),
        connectionHosts(c.getInt("connection-hosts")),
        c.getInt("max-login-failures"),
        c.getDuration("block-duration"),
        c.getDuration("idle-timeout"),
        c.getDuration("login-timeout"),
        c.getDuration("heartbeat-interval"),
        c.getDuration("heartbeat-timeout"),
        c.getDuration("resume-window"),
        c.getDuration("private-chat-token-ttl"),
        Path.of(c.getString("credentials-file")),
        c.getInt("max-frame-bytes"),
        c.getBytes("max-text-bytes").intValue(),
        c.getBytes("outbound-buffer-bytes"),
        c.getInt("message-window"),
        c.getInt("max-bad-frames"),
        c.getInt("max-connections"),
        new Mailbox(
            c.getInt("mailbox-capacity"),
            c.getBytes("mailbox-bytes"),
            c.getInt("delivery-window"),
            c.getBytes("delivery-window-bytes"),
            c.getInt("mailbox-page")),
        Limits.fromConfig(c.getConfig("limits")),
        new Passwords(
            c.getInt("password-hash-iterations"),
            c.getInt("password-threads"),
            c.getInt("password-queue")),
        new PresenceBatching(
            c.getDuration("presence-batch"),
            c.getDuration("presence-batch-per-recipient"),
            c.getDuration("presence-batch-max")),
        c.getDuration("directory-refresh"),
        c.getDuration("account-poll-interval"),
        c.getDuration("request-timeout"),
        c.getDuration("close-timeout"));
  }

  /** The hash iterations of new passwords (a shortcut, as most callers want only this). */
  public int passwordHashIterations() {
    return passwords.iterations();
  }

  private static void requirePositive(long value, String key) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + " must be positive, not " + value);
    }
  }

  private static void requirePositive(Duration value, String key) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(key + " must be a positive duration, not " + value);
    }
  }

  private static void requireNotNegative(Duration value, String key) {
    if (value.isNegative()) {
      throw new IllegalArgumentException(key + " must not be a negative duration: " + value);
    }
  }

  /**
   * Connection hosts per processor when {@code connection-hosts} is 0. More than one: a host busy
   * with a long step (a TLS handshake's signature) holds up the connections it runs, while another
   * core may be free for those of a second host.
   */
  private static final int HOSTS_PER_PROCESSOR = 2;

  /** {@code connection-hosts}, with 0 for {@value #HOSTS_PER_PROCESSOR} per processor. */
  private static int connectionHosts(int configured) {
    if (configured < 0) {
      throw new IllegalArgumentException("connection-hosts must be 0 or more, not " + configured);
    }
    return configured > 0
        ? configured
        : HOSTS_PER_PROCESSOR * Runtime.getRuntime().availableProcessors();
  }
}
