package dev.parley.protocol;

import static dev.parley.protocol.Fields.nonNegative;
import static dev.parley.protocol.Fields.positive;
import static dev.parley.protocol.Fields.present;
import static dev.parley.protocol.Fields.required;
import static dev.parley.protocol.Fields.validPort;

import akka.util.ByteString;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;

/**
 * Frames the server sends to a client: replies to the client's commands, and events (messages,
 * presence) that arrive at any time. {@link Goodbye} is always the last frame of a connection.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = ServerMessage.Hello.class, name = "hello"),
  @JsonSubTypes.Type(value = ServerMessage.PasswordRequired.class, name = "password-required"),
  @JsonSubTypes.Type(value = ServerMessage.LoginFailed.class, name = "login-failed"),
  @JsonSubTypes.Type(value = ServerMessage.LoginAccepted.class, name = "login-accepted"),
  @JsonSubTypes.Type(value = ServerMessage.MessageReceived.class, name = "message-received"),
  @JsonSubTypes.Type(value = ServerMessage.BroadcastReceived.class, name = "broadcast-received"),
  @JsonSubTypes.Type(value = ServerMessage.MessageAccepted.class, name = "message-accepted"),
  @JsonSubTypes.Type(value = ServerMessage.BroadcastSent.class, name = "broadcast-sent"),
  @JsonSubTypes.Type(value = ServerMessage.UserLoggedIn.class, name = "user-logged-in"),
  @JsonSubTypes.Type(value = ServerMessage.UserLoggedOut.class, name = "user-logged-out"),
  @JsonSubTypes.Type(value = ServerMessage.OnlineUsers.class, name = "online-users"),
  @JsonSubTypes.Type(value = ServerMessage.RecentUsers.class, name = "recent-users"),
  @JsonSubTypes.Type(value = ServerMessage.BlockConfirmed.class, name = "block-confirmed"),
  @JsonSubTypes.Type(value = ServerMessage.UnblockConfirmed.class, name = "unblock-confirmed"),
  @JsonSubTypes.Type(value = ServerMessage.PeerAddress.class, name = "peer-address"),
  @JsonSubTypes.Type(value = ServerMessage.PeerInvited.class, name = "peer-invited"),
  @JsonSubTypes.Type(value = ServerMessage.Heartbeat.class, name = "heartbeat"),
  @JsonSubTypes.Type(value = ServerMessage.ActivityNoted.class, name = "activity-noted"),
  @JsonSubTypes.Type(value = ServerMessage.Error.class, name = "error"),
  @JsonSubTypes.Type(value = ServerMessage.Goodbye.class, name = "goodbye")
})
public sealed interface ServerMessage {

  /** The wire name of this frame's type, as it appears in the {@code type} field. */
  default String typeName() {
    return WireNames.of(this);
  }

  /**
   * One or more frames already encoded, each a complete line: what a server hands to many
   * connections at once (a broadcast, a batch of presence notices), encoded once and shared as
   * bytes. It is written as it is and never decoded: on the wire it is the frames it holds.
   *
   * @param lines the frames' JSON, each ending with a line feed
   */
  record Encoded(ByteString lines) implements ServerMessage {
    public Encoded {
      present(lines, "lines");
    }

    @Override
    public String typeName() {
      return "encoded";
    }
  }

  /**
   * Answer to the client's hello: the version the server speaks, its name, and the rate at which it
   * takes this connection's commands ({@code ack} aside), if it limits them: a client that paces
   * itself to it is never answered {@code rate-limited}.
   */
  record Hello(int version, String server, CommandRate commandRate) implements ServerMessage {
    public Hello(int version, String server) {
      this(version, server, null);
    }
  }

  /** The username exists and may log in: send the password. */
  record PasswordRequired(String username) implements ServerMessage {
    public PasswordRequired {
      required(username, "username");
    }
  }

  /** A login step failed but the client may try again (the reason says which step). */
  record LoginFailed(Reason reason, String username) implements ServerMessage {
    public LoginFailed {
      present(reason, "reason");
    }

    /** Why a login step failed. */
    public enum Reason {
      /** No account has that username; send another username. */
      @JsonProperty("unknown-user")
      UNKNOWN_USER,
      /** Wrong password; send the password again (the username is kept). */
      @JsonProperty("invalid-password")
      INVALID_PASSWORD,
      /** The user is logged in on another connection; send another username. */
      @JsonProperty("already-online")
      ALREADY_ONLINE,
      /**
       * The resumption token is not (or no longer) good: log in with the password. Since version 3.
       */
      @JsonProperty("resume-refused")
      RESUME_REFUSED
    }
  }

  /**
   * Logged in: commands may follow. Offline messages, if any, come right after this frame. {@code
   * resumeToken} (since version 3) lets this client take the session up again with {@link
   * ClientMessage.Resume} after losing the connection, once; keep it secret, like a password.
   */
  record LoginAccepted(String username, String resumeToken) implements ServerMessage {
    public LoginAccepted {
      required(username, "username");
    }

    public LoginAccepted(String username) {
      this(username, null);
    }

    /** Never let the token reach a log line. */
    @Override
    public String toString() {
      return "LoginAccepted[username="
          + username
          + (resumeToken == null ? "" : ", resumeToken=<hidden>")
          + "]";
    }
  }

  /**
   * A direct message from {@code from}, live or kept while this user was offline. {@code seq}
   * numbers this user's messages, increasing (not necessarily by one); the same message sent again
   * after a reconnect has the same {@code seq}, so a client shows a message only if its seq is
   * above the highest it has shown, and acknowledges what it has shown with {@code ack}. {@code id}
   * is the sender's id for the message, when it gave one.
   */
  record MessageReceived(String from, String text, long seq, String id) implements ServerMessage {
    public MessageReceived {
      required(from, "from");
      present(text, "text");
      positive(seq, "seq");
    }
  }

  /** A broadcast from {@code from}. */
  record BroadcastReceived(String from, String text) implements ServerMessage {
    public BroadcastReceived {
      required(from, "from");
      present(text, "text");
    }
  }

  /**
   * Reply to a direct message: accepted, and either handed to the online recipient or kept for them
   * ({@code stored}). {@code id} echoes the request's id.
   */
  record MessageAccepted(String id, boolean stored) implements ServerMessage {}

  /** Reply to a broadcast; {@code complete} is false when someone online had blocked the sender. */
  record BroadcastSent(boolean complete) implements ServerMessage {}

  /** Presence: {@code user} logged in. */
  record UserLoggedIn(String user) implements ServerMessage {
    public UserLoggedIn {
      required(user, "user");
    }
  }

  /** Presence: {@code user} logged out, timed out or lost their connection. */
  record UserLoggedOut(String user) implements ServerMessage {
    public UserLoggedOut {
      required(user, "user");
    }
  }

  /**
   * Reply to whoelse: the other users online now, in login order. The list is capped (so that it
   * fits a frame); {@code omitted}, present only then, says how many more there are.
   */
  record OnlineUsers(List<String> users, Integer omitted) implements ServerMessage {
    public OnlineUsers {
      users = List.copyOf(present(users, "users"));
      if (omitted != null) {
        positive(omitted, "omitted");
      }
    }

    public OnlineUsers(List<String> users) {
      this(users, null);
    }
  }

  /**
   * Reply to whoelsesince: the other users online at any time in the last {@code seconds}, capped
   * like {@link OnlineUsers}.
   */
  record RecentUsers(long seconds, List<String> users, Integer omitted) implements ServerMessage {
    public RecentUsers {
      nonNegative(seconds, "seconds");
      users = List.copyOf(present(users, "users"));
      if (omitted != null) {
        positive(omitted, "omitted");
      }
    }

    public RecentUsers(long seconds, List<String> users) {
      this(seconds, users, null);
    }
  }

  /** Reply to block. */
  record BlockConfirmed(String user) implements ServerMessage {
    public BlockConfirmed {
      required(user, "user");
    }
  }

  /** Reply to unblock. */
  record UnblockConfirmed(String user) implements ServerMessage {
    public UnblockConfirmed {
      required(user, "user");
    }
  }

  /**
   * Reply to startprivate: where {@code user}'s client accepts private chats. Since version 3, with
   * the SHA-256 fingerprint of the certificate that client's listener presents (connect over TLS
   * and accept no other; absent when it takes private chats in plain TCP) and a one-time {@code
   * token} to present in {@code peer-hello}, good for a short while.
   */
  record PeerAddress(String user, String host, int port, String fingerprint, String token)
      implements ServerMessage {
    public PeerAddress {
      required(user, "user");
      required(host, "host");
      validPort(port, "port");
    }

    public PeerAddress(String user, String host, int port) {
      this(user, host, port, null, null);
    }

    /** Never let the token reach a log line. */
    @Override
    public String toString() {
      return "PeerAddress[user="
          + user
          + ", host="
          + host
          + ", port="
          + port
          + ", fingerprint="
          + fingerprint
          + (token == null ? "" : ", token=<hidden>")
          + "]";
    }
  }

  /**
   * {@code user} asked for this client's private-chat address (since version 3): a connection
   * presenting {@code token} in its {@code peer-hello}, as {@code user}, within {@code
   * expiresInSeconds}, is theirs; accept it once, and nothing else.
   */
  record PeerInvited(String user, String token, long expiresInSeconds) implements ServerMessage {
    public PeerInvited {
      required(user, "user");
      required(token, "token");
      positive(expiresInSeconds, "expiresInSeconds");
    }

    /** Never let the token reach a log line. */
    @Override
    public String toString() {
      return "PeerInvited[user=" + user + ", token=<hidden>, expiresIn=" + expiresInSeconds + "]";
    }
  }

  /**
   * The server is alive, and asks whether the client is (since version 3): sent on a connection
   * that has been silent for the heartbeat interval. Answer with a {@code heartbeat}; a connection
   * that answers nothing for the heartbeat timeout is closed.
   */
  record Heartbeat() implements ServerMessage {}

  /** Reply to activity: the idle timer was reset. */
  record ActivityNoted() implements ServerMessage {}

  /**
   * A request could not be carried out, or a frame could not be understood. {@code command} is the
   * type of the frame that failed (absent when it could not be read); {@code subject} is the user
   * the error is about, or a short description for protocol errors; {@code id} echoes the id of the
   * failed {@code message}, when it had one. The connection stays open.
   */
  record Error(Code code, String command, String subject, String id) implements ServerMessage {
    public Error {
      present(code, "code");
    }

    /** An error about a request that carries no id. */
    public Error(Code code, String command, String subject) {
      this(code, command, subject, null);
    }

    /** What went wrong. */
    public enum Code {
      /** No account has that username. */
      @JsonProperty("invalid-user")
      INVALID_USER,
      /** The command names the sender itself (message, block, unblock, startprivate). */
      @JsonProperty("self")
      SELF,
      /** The user named in the command has blocked the sender. */
      @JsonProperty("blocked-by-user")
      BLOCKED_BY_USER,
      /** block: the user is already blocked. */
      @JsonProperty("already-blocked")
      ALREADY_BLOCKED,
      /** unblock: the user was not blocked. */
      @JsonProperty("not-blocked")
      NOT_BLOCKED,
      /** startprivate: the user is not online. */
      @JsonProperty("user-offline")
      USER_OFFLINE,
      /**
       * startprivate: the user is online from a client that cannot accept connections (a web
       * browser), so a private chat with them cannot start. Since version 3.
       */
      @JsonProperty("private-unsupported")
      PRIVATE_UNSUPPORTED,
      /** message: the recipient has too many messages they have not acknowledged yet. */
      @JsonProperty("mailbox-full")
      MAILBOX_FULL,
      /** message: the server could not store the message; nothing was delivered, send it again. */
      @JsonProperty("unavailable")
      UNAVAILABLE,
      /** A field's value is out of range (a negative time, an empty text). */
      @JsonProperty("invalid-argument")
      INVALID_ARGUMENT,
      /**
       * message, broadcast: the text cannot be carried; {@code subject} says why (longer than the
       * text limit in encoded bytes, U+0000, an unpaired surrogate). Since version 2.
       */
      @JsonProperty("invalid-text")
      INVALID_TEXT,
      /**
       * The connection sent commands faster than its rate limit allows; this one was not carried
       * out. Slow down and send it again. Since version 2.
       */
      @JsonProperty("rate-limited")
      RATE_LIMITED,
      /** The frame is not valid JSON or lacks a required field. */
      @JsonProperty("malformed-frame")
      MALFORMED_FRAME,
      /** The frame's type is not part of the protocol. */
      @JsonProperty("unknown-frame")
      UNKNOWN_FRAME,
      /** The frame is valid but not allowed now (a command before login, a second hello). */
      @JsonProperty("unexpected-frame")
      UNEXPECTED_FRAME
    }
  }

  /** The last frame of a connection: why the server is closing it. */
  record Goodbye(Reason reason) implements ServerMessage {
    public Goodbye {
      present(reason, "reason");
    }

    /** Why the connection ends. */
    public enum Reason {
      /** The client asked to log out. */
      @JsonProperty("logged-out")
      LOGGED_OUT,
      /** No command arrived within the idle timeout. */
      @JsonProperty("timed-out")
      TIMED_OUT,
      /** This login attempt was the last allowed failure: the account is now blocked. */
      @JsonProperty("account-locked")
      ACCOUNT_LOCKED,
      /** The account is still blocked after earlier failures. */
      @JsonProperty("account-blocked")
      ACCOUNT_BLOCKED,
      /** The client speaks a protocol version the server does not. */
      @JsonProperty("unsupported-version")
      UNSUPPORTED_VERSION,
      /** A frame exceeded the server's frame limit. */
      @JsonProperty("frame-too-long")
      FRAME_TOO_LONG,
      /** Too many frames that could not be understood. */
      @JsonProperty("protocol-violation")
      PROTOCOL_VIOLATION,
      /** The server is at its connection limit. */
      @JsonProperty("server-busy")
      SERVER_BUSY,
      /** The server is shutting down. */
      @JsonProperty("server-shutdown")
      SERVER_SHUTDOWN,
      /**
       * Too many connections or login attempts from the client's address, or commands that kept
       * coming far past the rate limit. Since version 2.
       */
      @JsonProperty("rate-limited")
      RATE_LIMITED,
      /** An administrator removed the account. Since version 2. */
      @JsonProperty("account-removed")
      ACCOUNT_REMOVED,
      /** The session went on on a newer connection of the same client (it resumed). Since 3. */
      @JsonProperty("resumed")
      RESUMED,
      /** The connection answered nothing for the heartbeat timeout. Since version 3. */
      @JsonProperty("unresponsive")
      UNRESPONSIVE
    }
  }
}
