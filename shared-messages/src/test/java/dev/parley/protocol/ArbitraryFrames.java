package dev.parley.protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Random valid frames of every record of the three families, each field arbitrary within what the
 * record accepts: any text where text is free, names and ids of any plane, numbers at their edges,
 * every enum value. The generators are listed in a fixed order, so a seed picks the same frames on
 * every run. {@link #coverage} lets a test check that no record of a family is left out, so a new
 * frame type fails the property tests until it has a generator here.
 */
final class ArbitraryFrames {

  /** Long enough to reach the multi-byte and escaped runs, short enough to stay fast. */
  private static final int MAX_TEXT_CHARS = 300;

  private static final List<Map.Entry<Class<?>, Function<Gen, ClientMessage>>> CLIENT =
      List.of(
          Map.entry(ClientMessage.Hello.class, g -> new ClientMessage.Hello(g.anyInt())),
          Map.entry(ClientMessage.Username.class, g -> new ClientMessage.Username(g.name())),
          Map.entry(
              ClientMessage.Password.class,
              g ->
                  new ClientMessage.Password(
                      password(g),
                      g.port(),
                      g.chance(0.5) ? null : g.token(Protocol.MAX_TOKEN_LENGTH))),
          Map.entry(
              ClientMessage.Resume.class,
              g ->
                  new ClientMessage.Resume(
                      g.name(),
                      g.token(Protocol.MAX_TOKEN_LENGTH),
                      g.port(),
                      g.chance(0.5) ? null : g.token(Protocol.MAX_TOKEN_LENGTH))),
          Map.entry(ClientMessage.Heartbeat.class, g -> new ClientMessage.Heartbeat()),
          Map.entry(
              ClientMessage.SendMessage.class,
              g ->
                  new ClientMessage.SendMessage(
                      g.name(),
                      g.nonBlankText(MAX_TEXT_CHARS),
                      g.chance(0.3) ? null : g.token(ClientMessage.SendMessage.MAX_ID_LENGTH))),
          Map.entry(
              ClientMessage.Broadcast.class,
              g -> new ClientMessage.Broadcast(g.nonBlankText(MAX_TEXT_CHARS))),
          Map.entry(ClientMessage.WhoElse.class, g -> new ClientMessage.WhoElse()),
          Map.entry(
              ClientMessage.WhoElseSince.class,
              g -> new ClientMessage.WhoElseSince(g.longAtLeast(0))),
          Map.entry(ClientMessage.Block.class, g -> new ClientMessage.Block(g.name())),
          Map.entry(ClientMessage.Unblock.class, g -> new ClientMessage.Unblock(g.name())),
          Map.entry(
              ClientMessage.StartPrivate.class, g -> new ClientMessage.StartPrivate(g.name())),
          Map.entry(ClientMessage.NoteActivity.class, g -> new ClientMessage.NoteActivity()),
          Map.entry(
              ClientMessage.Acknowledge.class,
              g -> new ClientMessage.Acknowledge(g.longAtLeast(1))),
          Map.entry(ClientMessage.Logout.class, g -> new ClientMessage.Logout()));

  private static final List<Map.Entry<Class<?>, Function<Gen, ServerMessage>>> SERVER =
      List.of(
          Map.entry(
              ServerMessage.Hello.class, g -> new ServerMessage.Hello(g.anyInt(), optionalText(g))),
          Map.entry(
              ServerMessage.PasswordRequired.class,
              g -> new ServerMessage.PasswordRequired(g.nonBlankText(MAX_TEXT_CHARS))),
          Map.entry(
              ServerMessage.LoginFailed.class,
              g ->
                  new ServerMessage.LoginFailed(
                      g.anyOf(ServerMessage.LoginFailed.Reason.class), optionalText(g))),
          Map.entry(
              ServerMessage.LoginAccepted.class,
              g ->
                  new ServerMessage.LoginAccepted(
                      g.nonBlankText(MAX_TEXT_CHARS), optionalText(g))),
          Map.entry(
              ServerMessage.MessageReceived.class,
              g ->
                  new ServerMessage.MessageReceived(
                      g.nonBlankText(MAX_TEXT_CHARS),
                      g.text(MAX_TEXT_CHARS),
                      g.longAtLeast(1),
                      optionalText(g))),
          Map.entry(
              ServerMessage.BroadcastReceived.class,
              g ->
                  new ServerMessage.BroadcastReceived(
                      g.nonBlankText(MAX_TEXT_CHARS), g.text(MAX_TEXT_CHARS))),
          Map.entry(
              ServerMessage.MessageAccepted.class,
              g -> new ServerMessage.MessageAccepted(optionalText(g), g.chance(0.5))),
          Map.entry(
              ServerMessage.BroadcastSent.class,
              g -> new ServerMessage.BroadcastSent(g.chance(0.5))),
          Map.entry(
              ServerMessage.UserLoggedIn.class,
              g -> new ServerMessage.UserLoggedIn(g.nonBlankText(MAX_TEXT_CHARS))),
          Map.entry(
              ServerMessage.UserLoggedOut.class,
              g -> new ServerMessage.UserLoggedOut(g.nonBlankText(MAX_TEXT_CHARS))),
          Map.entry(ServerMessage.OnlineUsers.class, g -> new ServerMessage.OnlineUsers(users(g))),
          Map.entry(
              ServerMessage.RecentUsers.class,
              g -> new ServerMessage.RecentUsers(g.longAtLeast(0), users(g))),
          Map.entry(
              ServerMessage.BlockConfirmed.class,
              g -> new ServerMessage.BlockConfirmed(g.nonBlankText(MAX_TEXT_CHARS))),
          Map.entry(
              ServerMessage.UnblockConfirmed.class,
              g -> new ServerMessage.UnblockConfirmed(g.nonBlankText(MAX_TEXT_CHARS))),
          Map.entry(
              ServerMessage.PeerAddress.class,
              g ->
                  new ServerMessage.PeerAddress(
                      g.nonBlankText(MAX_TEXT_CHARS),
                      g.nonBlankText(64),
                      g.port(),
                      optionalText(g),
                      optionalText(g))),
          Map.entry(
              ServerMessage.PeerInvited.class,
              g ->
                  new ServerMessage.PeerInvited(
                      g.nonBlankText(MAX_TEXT_CHARS), g.nonBlankText(64), g.longAtLeast(1))),
          Map.entry(ServerMessage.Heartbeat.class, g -> new ServerMessage.Heartbeat()),
          Map.entry(ServerMessage.ActivityNoted.class, g -> new ServerMessage.ActivityNoted()),
          Map.entry(
              ServerMessage.Error.class,
              g ->
                  new ServerMessage.Error(
                      g.anyOf(ServerMessage.Error.Code.class),
                      optionalText(g),
                      optionalText(g),
                      optionalText(g))),
          Map.entry(
              ServerMessage.Goodbye.class,
              g -> new ServerMessage.Goodbye(g.anyOf(ServerMessage.Goodbye.Reason.class))));

  private static final List<Map.Entry<Class<?>, Function<Gen, PeerMessage>>> PEER =
      List.of(
          Map.entry(
              PeerMessage.Hello.class,
              g ->
                  new PeerMessage.Hello(
                      g.anyInt(),
                      g.name(),
                      g.chance(0.5) ? null : g.token(Protocol.MAX_TOKEN_LENGTH))),
          Map.entry(
              PeerMessage.Text.class,
              g -> new PeerMessage.Text(g.longAtLeast(1), g.text(MAX_TEXT_CHARS))),
          Map.entry(PeerMessage.Ack.class, g -> new PeerMessage.Ack(g.longAtLeast(0))),
          Map.entry(
              PeerMessage.Bye.class,
              g -> new PeerMessage.Bye(g.anyOf(PeerMessage.Bye.Reason.class))));

  private ArbitraryFrames() {}

  static ClientMessage client(Gen g) {
    return g.pick(CLIENT).getValue().apply(g);
  }

  static ServerMessage server(Gen g) {
    return g.pick(SERVER).getValue().apply(g);
  }

  static PeerMessage peer(Gen g) {
    return g.pick(PEER).getValue().apply(g);
  }

  /** The records each family's generators make, by family. */
  static Map<Class<?>, Set<Class<?>>> coverage() {
    return Map.of(
        ClientMessage.class, keys(CLIENT),
        ServerMessage.class, keys(SERVER),
        PeerMessage.class, keys(PEER));
  }

  private static Set<Class<?>> keys(List<? extends Map.Entry<Class<?>, ?>> generators) {
    return generators.stream().map(Map.Entry::getKey).collect(Collectors.toSet());
  }

  /** Up to {@link Protocol#MAX_PASSWORD_LENGTH} units, not blank. */
  private static String password(Gen g) {
    String password = g.nonBlankText(Protocol.MAX_PASSWORD_LENGTH);
    return password.length() <= Protocol.MAX_PASSWORD_LENGTH ? password : "x";
  }

  private static String optionalText(Gen g) {
    return g.chance(0.25) ? null : g.text(MAX_TEXT_CHARS);
  }

  private static List<String> users(Gen g) {
    int count = g.size(6);
    List<String> users = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      users.add(g.chance(0.8) ? g.name() : g.text(40));
    }
    return users;
  }
}
