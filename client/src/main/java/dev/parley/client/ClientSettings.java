package dev.parley.client;

import com.typesafe.config.Config;
import dev.parley.protocol.Protocol;
import java.time.Duration;
import java.util.Optional;

/**
 * The client's settings, read once from the {@code parley.client} section of the configuration
 * ({@code reference.conf} documents every key).
 *
 * @param maxFrameBytes longest frame accepted from the server or a peer, in bytes
 * @param outboundBufferBytes encoded bytes that may wait to be written on one connection
 * @param connectTimeout how long opening a TCP connection may take
 * @param peerBindHost address to accept private chats on; empty for the local address of the server
 *     connection
 * @param peerPort port to accept private chats on; 0 for any free port
 * @param peerHandshakeTimeout how long a new private-chat connection may stay without a hello (and,
 *     with its hello, without the invitation for its token)
 * @param maxPrivateChatInvitations invitations to private chats (one-time tokens) kept at once
 * @param maxPrivateChatInvitationsPerUser of those, how many from one inviting user
 * @param closeTimeout how long private chats may take to close when the client exits
 * @param logoutTimeout how long a logout may take: queued messages sent, the server's goodbye (plus
 *     what the server's announced command rate needs for what is still to be sent)
 * @param maxUnackedPrivate unacknowledged private messages allowed per chat
 * @param maxUnsentMessages direct messages kept while the server has not accepted them
 * @param maxInFlightMessages direct messages sent to the server and not answered yet, at most
 * @param resendDelay wait before sending again a message the server could not take yet
 *     (unavailable, rate-limited)
 * @param reconnectWindow how long to keep trying to reconnect; zero never reconnects
 * @param reconnectBackoffMin wait before the first reconnection attempt
 * @param reconnectBackoffMax longest wait between reconnection attempts
 * @param reconnectBackoffRandomFactor largest random share by which a wait is made longer
 * @param heartbeatTimeout silence from a server (of protocol 3 or later) after which its connection
 *     is taken for lost
 * @param commandPrompt prompt before each command on an interactive terminal
 */
public record ClientSettings(
    int maxFrameBytes,
    long outboundBufferBytes,
    Duration connectTimeout,
    String peerBindHost,
    int peerPort,
    Duration peerHandshakeTimeout,
    int maxPrivateChatInvitations,
    int maxPrivateChatInvitationsPerUser,
    Duration closeTimeout,
    Duration logoutTimeout,
    int maxUnackedPrivate,
    int maxUnsentMessages,
    int maxInFlightMessages,
    Duration resendDelay,
    Duration reconnectWindow,
    Duration reconnectBackoffMin,
    Duration reconnectBackoffMax,
    double reconnectBackoffRandomFactor,
    Duration heartbeatTimeout,
    String commandPrompt) {

  /** Where the client's settings live in the configuration. */
  public static final String CONFIG_PATH = "parley.client";

  /** Dispatcher the Console actor runs on. */
  public static final String CONSOLE_DISPATCHER = CONFIG_PATH + ".console-dispatcher";

  /**
   * The longest line this client ever writes, line feed included: the texts it sends are held to
   * {@link Protocol#MAX_TEXT_BYTES}, which leaves room in {@link Protocol#MAX_FRAME_BYTES} for any
   * frame's other fields.
   */
  public static final int LARGEST_OUTBOUND_FRAME_BYTES = Protocol.MAX_FRAME_BYTES + 1;

  private static final int MAX_PORT = 65_535;

  public ClientSettings {
    positive(maxFrameBytes, "max-frame-bytes");
    if (outboundBufferBytes < maxFrameBytes) {
      throw new IllegalArgumentException("outbound-buffer-bytes must hold at least one frame");
    }
    positive(maxUnackedPrivate, "max-unacked-private");
    positive(maxInFlightMessages, "max-in-flight-messages");
    // What a connection lets run ahead of the other end's answers must fit its outbound buffer,
    // with room for one frame more (a broadcast, an ack): otherwise a busy but healthy other end
    // would get the connection cut as if it did not read.
    fitsOutboundBuffer(maxInFlightMessages, "max-in-flight-messages", outboundBufferBytes);
    fitsOutboundBuffer(maxUnackedPrivate, "max-unacked-private", outboundBufferBytes);
    positive(connectTimeout, "connect-timeout");
    positive(peerHandshakeTimeout, "peer-handshake-timeout");
    positive(maxPrivateChatInvitations, "max-private-chat-invitations");
    positive(maxPrivateChatInvitationsPerUser, "max-private-chat-invitations-per-user");
    positive(closeTimeout, "close-timeout");
    positive(logoutTimeout, "logout-timeout");
    positive(maxUnsentMessages, "max-unsent-messages");
    positive(resendDelay, "resend-delay");
    positive(reconnectBackoffMin, "reconnect-backoff-min");
    positive(reconnectBackoffMax, "reconnect-backoff-max");
    positive(heartbeatTimeout, "heartbeat-timeout");
    if (reconnectWindow == null || reconnectWindow.isNegative()) {
      throw new IllegalArgumentException("reconnect-window must be 0 or a positive duration");
    }
    if (reconnectBackoffMax.compareTo(reconnectBackoffMin) < 0) {
      throw new IllegalArgumentException(
          "reconnect-backoff-max must not be shorter than reconnect-backoff-min");
    }
    if (!(reconnectBackoffRandomFactor >= 0) || Double.isInfinite(reconnectBackoffRandomFactor)) {
      throw new IllegalArgumentException("reconnect-backoff-random-factor must be 0 or more");
    }
    if (peerPort < 0 || peerPort > MAX_PORT) {
      throw new IllegalArgumentException("peer-port must be between 0 and " + MAX_PORT);
    }
    if (peerBindHost == null || commandPrompt == null) {
      throw new IllegalArgumentException("peer-bind-host and command-prompt must be set");
    }
    peerBindHost = peerBindHost.strip();
  }

  /** Reads the {@code parley.client} section of a resolved configuration. */
  public static ClientSettings fromConfig(Config config) {
    Config client = config.getConfig(CONFIG_PATH);
    return new ClientSettings(
        Math.toIntExact(client.getBytes("max-frame-bytes")),
        client.getBytes("outbound-buffer-bytes"),
        client.getDuration("connect-timeout"),
        client.getString("peer-bind-host"),
        client.getInt("peer-port"),
        client.getDuration("peer-handshake-timeout"),
        client.getInt("max-private-chat-invitations"),
        client.getInt("max-private-chat-invitations-per-user"),
        client.getDuration("close-timeout"),
        client.getDuration("logout-timeout"),
        client.getInt("max-unacked-private"),
        client.getInt("max-unsent-messages"),
        client.getInt("max-in-flight-messages"),
        client.getDuration("resend-delay"),
        client.getDuration("reconnect-window"),
        client.getDuration("reconnect-backoff-min"),
        client.getDuration("reconnect-backoff-max"),
        client.getDouble("reconnect-backoff-random-factor"),
        client.getDuration("heartbeat-timeout"),
        client.getString("command-prompt"));
  }

  /** The configured address for private chats, unless the server connection's is to be used. */
  public Optional<String> peerBindHostOverride() {
    return peerBindHost.isEmpty() ? Optional.empty() : Optional.of(peerBindHost);
  }

  /** Whether a lost connection is retried; a zero reconnect window means it is not. */
  public boolean reconnects() {
    return !reconnectWindow.isZero();
  }

  private static void fitsOutboundBuffer(int frames, String key, long outboundBufferBytes) {
    long needed = (frames + 1L) * LARGEST_OUTBOUND_FRAME_BYTES;
    if (needed > outboundBufferBytes) {
      throw new IllegalArgumentException(
          "outbound-buffer-bytes ("
              + outboundBufferBytes
              + ") must hold "
              + key
              + " ("
              + frames
              + ") frames of "
              + LARGEST_OUTBOUND_FRAME_BYTES
              + " bytes and one more: "
              + needed
              + " bytes");
    }
  }

  private static void positive(long value, String key) {
    if (value <= 0) {
      throw new IllegalArgumentException(key + " must be positive");
    }
  }

  private static void positive(Duration value, String key) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(key + " must be a positive duration");
    }
  }
}
