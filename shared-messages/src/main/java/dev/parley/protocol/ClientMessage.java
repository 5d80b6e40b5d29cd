package dev.parley.protocol;

import static dev.parley.protocol.Fields.name;
import static dev.parley.protocol.Fields.nonNegative;
import static dev.parley.protocol.Fields.optionalPort;
import static dev.parley.protocol.Fields.optionalToken;
import static dev.parley.protocol.Fields.positive;
import static dev.parley.protocol.Fields.required;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/**
 * Frames a client sends to the server. Each is one JSON object on one line whose {@code type} names
 * the record; {@code docs/protocol.md} shows every one with an example.
 *
 * <p>A connection opens with {@link Hello}, logs in with {@link Username} then {@link Password},
 * and afterwards sends commands. The server answers every command with exactly one reply (a
 * specific {@link ServerMessage} or a {@link ServerMessage.Error}) and handles a connection's
 * commands one at a time, in order. {@link Acknowledge} is the exception: it is never answered.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = ClientMessage.Hello.class, name = "hello"),
  @JsonSubTypes.Type(value = ClientMessage.Username.class, name = "username"),
  @JsonSubTypes.Type(value = ClientMessage.Password.class, name = "password"),
  @JsonSubTypes.Type(value = ClientMessage.Resume.class, name = "resume"),
  @JsonSubTypes.Type(value = ClientMessage.Heartbeat.class, name = "heartbeat"),
  @JsonSubTypes.Type(value = ClientMessage.SendMessage.class, name = "message"),
  @JsonSubTypes.Type(value = ClientMessage.Broadcast.class, name = "broadcast"),
  @JsonSubTypes.Type(value = ClientMessage.WhoElse.class, name = "whoelse"),
  @JsonSubTypes.Type(value = ClientMessage.WhoElseSince.class, name = "whoelsesince"),
  @JsonSubTypes.Type(value = ClientMessage.Block.class, name = "block"),
  @JsonSubTypes.Type(value = ClientMessage.Unblock.class, name = "unblock"),
  @JsonSubTypes.Type(value = ClientMessage.StartPrivate.class, name = "startprivate"),
  @JsonSubTypes.Type(value = ClientMessage.NoteActivity.class, name = "activity"),
  @JsonSubTypes.Type(value = ClientMessage.Acknowledge.class, name = "ack"),
  @JsonSubTypes.Type(value = ClientMessage.Logout.class, name = "logout")
})
public sealed interface ClientMessage {

  /** The wire name of this frame's type, as it appears in the {@code type} field. */
  default String typeName() {
    return WireNames.of(this);
  }

  /** First frame of a connection: the protocol version the client speaks. */
  record Hello(int version) implements ClientMessage {}

  /** Login, step one: who is logging in. */
  record Username(String username) implements ClientMessage {
    public Username {
      name(username, "username");
    }
  }

  /**
   * Login, step two: the password, the port on which this client accepts private chats (the server
   * pairs it with the address it sees the connection come from), and the SHA-256 fingerprint of the
   * certificate its private-chat listener presents, for the peers that connect to it to pin (since
   * version 3; absent when the client takes private chats in plain TCP). A client that cannot
   * accept connections (a web browser) sends no {@code peerPort}: it takes no private chats, and
   * those who ask for one with its user are told so.
   */
  record Password(String password, Integer peerPort, String peerFingerprint)
      implements ClientMessage {
    public Password {
      required(password, "password");
      if (password.length() > Protocol.MAX_PASSWORD_LENGTH) {
        throw new IllegalArgumentException(
            "field 'password' must be at most " + Protocol.MAX_PASSWORD_LENGTH + " characters");
      }
      optionalPort(peerPort, "peerPort");
      optionalToken(peerFingerprint, "peerFingerprint", Protocol.MAX_TOKEN_LENGTH);
    }

    public Password(String password, Integer peerPort) {
      this(password, peerPort, null);
    }

    /** Never let the password reach a log line through a record's generated toString. */
    @Override
    public String toString() {
      return "Password[password=<hidden>, peerPort="
          + peerPort
          + ", peerFingerprint="
          + peerFingerprint
          + "]";
    }
  }

  /**
   * Instead of a username and a password (since version 3): take up again the session that the
   * server's last {@link ServerMessage.LoginAccepted} to this client gave {@code token} for, after
   * the connection was lost. Answered like a password: {@code login-accepted} (with a new token:
   * each is good once) and the messages not yet acknowledged, or {@code login-failed
   * resume-refused}, after which the client logs in with its password. {@code peerPort} and {@code
   * peerFingerprint} are as in {@link Password}.
   */
  record Resume(String username, String token, Integer peerPort, String peerFingerprint)
      implements ClientMessage {
    public Resume {
      name(username, "username");
      required(token, "token");
      optionalToken(token, "token", Protocol.MAX_TOKEN_LENGTH);
      optionalPort(peerPort, "peerPort");
      optionalToken(peerFingerprint, "peerFingerprint", Protocol.MAX_TOKEN_LENGTH);
    }

    /** Never let the token reach a log line: it is as good as a password until used. */
    @Override
    public String toString() {
      return "Resume[username=" + username + ", token=<hidden>, peerPort=" + peerPort + "]";
    }
  }

  /**
   * The client is alive (since version 3): the answer to the server's {@link
   * ServerMessage.Heartbeat}, and sent any time. Not answered, not rate limited, and not user
   * activity for the idle timeout.
   */
  record Heartbeat() implements ClientMessage {}

  /**
   * A direct message. {@code id} is chosen by the client, unique among its sender's messages (a
   * UUID will do); the server echoes it in {@link ServerMessage.MessageAccepted}, and a message
   * sent again with the same id (after a reconnect, say) is accepted without being stored or
   * delivered twice. Without an id there is no such protection.
   */
  record SendMessage(String to, String text, String id) implements ClientMessage {
    /** Longest client-chosen message id, in characters (a UUID has 36). */
    public static final int MAX_ID_LENGTH = 64;

    public SendMessage {
      name(to, "to");
      required(text, "text");
      optionalToken(id, "id", MAX_ID_LENGTH);
    }

    public SendMessage(String to, String text) {
      this(to, text, null);
    }
  }

  /** A message to every online user who has not blocked the sender; never stored. */
  record Broadcast(String text) implements ClientMessage {
    public Broadcast {
      required(text, "text");
    }
  }

  /** Who else is online now. */
  record WhoElse() implements ClientMessage {}

  /** Who else was online at any time in the last {@code seconds} seconds. */
  record WhoElseSince(long seconds) implements ClientMessage {
    public WhoElseSince {
      nonNegative(seconds, "seconds");
    }
  }

  /** Stop receiving messages, broadcasts and private-chat requests from {@code user}. */
  record Block(String user) implements ClientMessage {
    public Block {
      name(user, "user");
    }
  }

  /** Undo a {@link Block}. */
  record Unblock(String user) implements ClientMessage {
    public Unblock {
      name(user, "user");
    }
  }

  /** Ask for the address on which {@code user}'s client accepts private chats. */
  record StartPrivate(String user) implements ClientMessage {
    public StartPrivate {
      name(user, "user");
    }
  }

  /**
   * The user did something the server does not see (a private message, a command the client
   * rejected); it counts as activity for the idle timeout.
   */
  record NoteActivity() implements ClientMessage {}

  /**
   * Every direct message to this user up to and including {@code seq} (see {@link
   * ServerMessage.MessageReceived}) has been shown: the server may forget them. Messages not
   * acknowledged are sent again at the next login. Not answered.
   */
  record Acknowledge(long seq) implements ClientMessage {
    public Acknowledge {
      positive(seq, "seq");
    }
  }

  /** End the session; the server answers with {@link ServerMessage.Goodbye} and closes. */
  record Logout() implements ClientMessage {}
}
