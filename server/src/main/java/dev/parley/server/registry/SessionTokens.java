package dev.parley.server.registry;

import dev.parley.protocol.ServerMessage;
import dev.parley.server.registry.UserRegistry.Attachment;
import dev.parley.server.store.ResumeGrant;
import java.time.Duration;
import java.time.Instant;

/**
 * The tokens a user's owner hands to clients and checks: the resumption token each login is
 * welcomed with (of which only a {@link ResumeGrant} is kept), and the one-time token of a private
 * chat. The rules the standalone {@link UserRegistry} applies to every user and a cluster's {@link
 * UserEntity} to its one, written once so that a token resumes under the same conditions on both.
 *
 * <p>Not an actor and not thread-safe (its {@link SecretTokens} is not): each actor has its own. It
 * keeps no grant: the caller passes the user's and keeps the one it returns.
 */
final class SessionTokens {

  private final SecretTokens secrets = new SecretTokens();
  private final Duration peerTokenTtl;

  /**
   * @param peerTokenTtl how long the token of a private chat lets the requester connect to the peer
   */
  SessionTokens(Duration peerTokenTtl) {
    this.peerTokenTtl = peerTokenTtl;
  }

  /**
   * Why {@code token}, presented with the client certificate {@code certificate}, cannot resume the
   * session of a user whose grant is {@code grant} (null if none), or null if it can.
   *
   * @param online whether the user's session is still open: it is then resumable whatever the
   *     grant's expiry (a takeover)
   */
  String resumeRefusal(
      ResumeGrant grant, boolean online, String token, String certificate, Instant now) {
    if (grant == null) {
      return "no-grant";
    }
    if (!secrets.matches(token, grant.tokenHash())) {
      return "wrong-token";
    }
    if (grant.fingerprint() != null && !grant.fingerprint().equals(certificate)) {
      // The token was issued to a client that proved it holds this certificate's key: anyone else
      // presenting it stole it.
      return "wrong-certificate";
    }
    if (!online && (grant.until() == null || !now.isBefore(grant.until()))) {
      return "expired";
    }
    return null;
  }

  /**
   * Writes {@code login-accepted} to {@code attachment}'s outbox, with a new token if the client
   * can resume; returns the grant of that token, which replaces any before it (null if none: a
   * client that cannot resume leaves none).
   */
  ResumeGrant welcome(String user, Attachment attachment) {
    if (!attachment.takesTokens()) {
      attachment.outbox().tell(new ServerMessage.LoginAccepted(user));
      return null;
    }
    String token = secrets.newToken();
    ResumeGrant grant = new ResumeGrant(secrets.hash(token), attachment.certificate(), null);
    attachment.outbox().tell(new ServerMessage.LoginAccepted(user, token));
    return grant;
  }

  /**
   * The {@code peer-address} of {@code target}, online with {@code peer}, for {@code requester}.
   * When both clients take tokens it comes with a new one-time token, and the peer is told over its
   * own connection ({@code peer-invited}) that the requester may connect with it. The server only
   * brokers: the token is not kept, and the chat never passes through.
   */
  ServerMessage.PeerAddress peerAddress(
      String target, Attachment peer, String requester, boolean requesterTakesTokens) {
    String token = null;
    if (peer.takesTokens() && requesterTakesTokens) {
      token = secrets.newToken();
      peer.outbox().tell(new ServerMessage.PeerInvited(requester, token, peerTokenTtl.toSeconds()));
    }
    return new ServerMessage.PeerAddress(
        target, peer.peerHost(), peer.peerPort(), peer.peerFingerprint(), token);
  }
}
