package dev.parley.protocol;

import static dev.parley.protocol.Fields.nonNegative;
import static dev.parley.protocol.Fields.positive;
import static dev.parley.protocol.Fields.present;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * Frames between two clients on a private chat's direct connection; the server never sees them. The
 * side that connects sends {@link Hello}; the side that accepted answers with its own {@link
 * Hello}; then either side sends {@link Text}, acknowledged by {@link Ack}, until one sends {@link
 * Bye} or the connection drops.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = PeerMessage.Hello.class, name = "peer-hello"),
  @JsonSubTypes.Type(value = PeerMessage.Text.class, name = "private"),
  @JsonSubTypes.Type(value = PeerMessage.Ack.class, name = "private-ack"),
  @JsonSubTypes.Type(value = PeerMessage.Bye.class, name = "peer-bye")
})
public sealed interface PeerMessage {

  /** The wire name of this frame's type, as it appears in the {@code type} field. */
  default String typeName() {
    return WireNames.of(this);
  }

  /**
   * Opens (and, from the accepting side, confirms) a private chat: who is on this end. The
   * connecting side presents the one-time {@code token} the server gave it for this chat (since
   * version 3); the accepting side accepts only a token the server announced to it for that user,
   * unexpired and unused.
   */
  record Hello(int version, String user, String token) implements PeerMessage {
    public Hello {
      Fields.name(user, "user");
      Fields.optionalToken(token, "token", Protocol.MAX_TOKEN_LENGTH);
    }

    public Hello(int version, String user) {
      this(version, user, null);
    }

    /** Never let the token reach a log line. */
    @Override
    public String toString() {
      return "Hello[version=" + version + ", user=" + user + (token == null ? "" : ", token=<hidden>") + "]";
    }
  }

  /** A private message; {@code seq} counts from 1 on each side of a chat. */
  record Text(long seq, String text) implements PeerMessage {
    public Text {
      positive(seq, "seq");
      present(text, "text");
    }
  }

  /** Every private message up to {@code seq} has been shown to the user. */
  record Ack(long seq) implements PeerMessage {
    public Ack {
      nonNegative(seq, "seq");
    }
  }

  /** The last frame of a private chat: why it ends. */
  record Bye(Reason reason) implements PeerMessage {
    public Bye {
      present(reason, "reason");
    }

    /** Why a private chat ends. */
    public enum Reason {
      /** The user typed stopprivate. */
      @JsonProperty("stopped")
      STOPPED,
      /** The user logged out. */
      @JsonProperty("logged-out")
      LOGGED_OUT,
      /** The server logged the user out for inactivity. */
      @JsonProperty("timed-out")
      TIMED_OUT,
      /** The client lost its server connection. */
      @JsonProperty("disconnected")
      DISCONNECTED,
      /** A private chat with this user is already open. */
      @JsonProperty("already-chatting")
      ALREADY_CHATTING,
      /** The other side broke the peer protocol. */
      @JsonProperty("protocol-violation")
      PROTOCOL_VIOLATION
    }
  }
}
