package dev.parley.client.tls;

import dev.parley.transport.ClientTls;
import dev.parley.transport.ServerTls;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsMaterialException;
import java.util.Optional;

/**
 * The client's identity and how it reaches the server and its peers. The identity, a key pair and a
 * self-signed certificate made in memory once per run (when the session first needs it: {@link
 * LazySecurity}), is presented to the server as the TLS client certificate, its fingerprint goes to
 * the server at login (peers are told it, and accept only it), and the private-chat listener
 * presents it too. The connection to the server is TLS, trusted as {@link ServerTrust} decides,
 * unless the user asked for plain TCP; private chats are always TLS, whatever the connection to the
 * server.
 *
 * @param identity who this client is, for as long as it runs
 * @param tls client engines presenting {@code identity}: to the server, and to the peers this
 *     client connects to
 * @param peerListenerTls server engines presenting {@code identity}, for the private chats that
 *     peers open to this client
 * @param serverTrust how the server is verified; empty for plain TCP to the server
 */
public record Security(
    TlsIdentity identity,
    ClientTls tls,
    ServerTls peerListenerTls,
    Optional<ServerTrust> serverTrust) {

  /** The subject of the client's certificate; others recognise it by fingerprint, not by name. */
  private static final String COMMON_NAME = "Parley client";

  /** A new identity, and TLS to the server as {@code settings} say. */
  public static Security create(TlsSettings settings) throws TlsMaterialException {
    TlsIdentity identity = TlsIdentity.selfSigned(COMMON_NAME, settings.identityValidity());
    return of(
        identity, settings.enabled() ? Optional.of(ServerTrust.of(settings)) : Optional.empty());
  }

  /** The engines of {@code identity}, and TLS to the server as {@code serverTrust} says. */
  public static Security of(TlsIdentity identity, Optional<ServerTrust> serverTrust) {
    return new Security(
        identity, ClientTls.create(Optional.of(identity)), ServerTls.create(identity), serverTrust);
  }

  /** The fingerprint sent at login as the client's {@code peerFingerprint}. */
  public String fingerprint() {
    return identity.fingerprint().value();
  }
}
