package dev.parley.protocol;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One example of every wire record of the three families, each paired with the {@code type} name
 * that {@code docs/protocol.md} gives it. The names are written out here rather than read from the
 * annotations so that a renamed type breaks a test instead of silently changing the wire.
 */
final class SampleFrames {

  /** A frame and the wire name it must carry. */
  record Sample<T>(T frame, String typeName) {
    @Override
    public String toString() {
      // Shown as the parameterized test's display name.
      return typeName;
    }
  }

  private SampleFrames() {}

  static List<Sample<ClientMessage>> client() {
    return List.of(
        new Sample<>(new ClientMessage.Hello(Protocol.VERSION), "hello"),
        new Sample<>(new ClientMessage.Username("alice"), "username"),
        new Sample<>(new ClientMessage.Password("correct horse", 50_001), "password"),
        new Sample<>(
            new ClientMessage.Resume("alice", "q2x9-4fU8kLmPz0aR7vYtw", 50_001, "SHA256:abc"),
            "resume"),
        new Sample<>(new ClientMessage.Heartbeat(), "heartbeat"),
        new Sample<>(new ClientMessage.SendMessage("bob", "lunch at noon?", "m-1"), "message"),
        new Sample<>(new ClientMessage.Broadcast("the build is green"), "broadcast"),
        new Sample<>(new ClientMessage.WhoElse(), "whoelse"),
        new Sample<>(new ClientMessage.WhoElseSince(600), "whoelsesince"),
        new Sample<>(new ClientMessage.Block("mallory"), "block"),
        new Sample<>(new ClientMessage.Unblock("mallory"), "unblock"),
        new Sample<>(new ClientMessage.StartPrivate("bob"), "startprivate"),
        new Sample<>(new ClientMessage.NoteActivity(), "activity"),
        new Sample<>(new ClientMessage.Acknowledge(42), "ack"),
        new Sample<>(new ClientMessage.Logout(), "logout"));
  }

  static List<Sample<ServerMessage>> server() {
    return List.of(
        new Sample<>(new ServerMessage.Hello(Protocol.VERSION, "parley"), "hello"),
        new Sample<>(new ServerMessage.PasswordRequired("alice"), "password-required"),
        new Sample<>(
            new ServerMessage.LoginFailed(
                ServerMessage.LoginFailed.Reason.INVALID_PASSWORD, "alice"),
            "login-failed"),
        new Sample<>(new ServerMessage.LoginAccepted("alice"), "login-accepted"),
        new Sample<>(
            new ServerMessage.MessageReceived("bob", "see you there", 42, "m-17"),
            "message-received"),
        new Sample<>(
            new ServerMessage.BroadcastReceived("carol", "deploying now"), "broadcast-received"),
        new Sample<>(new ServerMessage.MessageAccepted("m-1", true), "message-accepted"),
        new Sample<>(new ServerMessage.BroadcastSent(false), "broadcast-sent"),
        new Sample<>(new ServerMessage.UserLoggedIn("carol"), "user-logged-in"),
        new Sample<>(new ServerMessage.UserLoggedOut("carol"), "user-logged-out"),
        new Sample<>(new ServerMessage.OnlineUsers(List.of("bob", "carol")), "online-users"),
        new Sample<>(new ServerMessage.RecentUsers(600, List.of("bob", "dave")), "recent-users"),
        new Sample<>(new ServerMessage.BlockConfirmed("mallory"), "block-confirmed"),
        new Sample<>(new ServerMessage.UnblockConfirmed("mallory"), "unblock-confirmed"),
        new Sample<>(new ServerMessage.PeerAddress("bob", "192.0.2.7", 50_002), "peer-address"),
        new Sample<>(new ServerMessage.PeerInvited("alice", "7Tq0cW3b", 30), "peer-invited"),
        new Sample<>(new ServerMessage.Heartbeat(), "heartbeat"),
        new Sample<>(new ServerMessage.ActivityNoted(), "activity-noted"),
        new Sample<>(
            new ServerMessage.Error(ServerMessage.Error.Code.BLOCKED_BY_USER, "message", "bob"),
            "error"),
        new Sample<>(
            new ServerMessage.Goodbye(ServerMessage.Goodbye.Reason.LOGGED_OUT), "goodbye"));
  }

  static List<Sample<PeerMessage>> peer() {
    return List.of(
        new Sample<>(new PeerMessage.Hello(Protocol.VERSION, "alice"), "peer-hello"),
        new Sample<>(new PeerMessage.Text(1, "are you free?"), "private"),
        new Sample<>(new PeerMessage.Ack(1), "private-ack"),
        new Sample<>(new PeerMessage.Bye(PeerMessage.Bye.Reason.STOPPED), "peer-bye"));
  }

  static <T> List<T> frames(List<Sample<T>> samples) {
    return samples.stream().map(Sample::frame).toList();
  }

  /** The record classes a sealed frame family permits, for "is every record covered" checks. */
  static Set<Class<?>> recordsOf(Class<?> family) {
    return WireNames.framesOf(family);
  }

  static Set<Class<?>> classesOf(List<? extends Sample<?>> samples) {
    return samples.stream().map(sample -> sample.frame().getClass()).collect(Collectors.toSet());
  }
}
