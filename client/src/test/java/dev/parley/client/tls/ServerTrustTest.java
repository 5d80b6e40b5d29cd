package dev.parley.client.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.transport.ClientTls;
import dev.parley.transport.Fingerprint;
import dev.parley.transport.ServerTls;
import dev.parley.transport.ServerVerifier;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.UntrustedServerException;
import dev.parley.transport.testing.EnginePair;
import dev.parley.transport.testing.TestAuthority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trust decision, taken as the client takes it: inside a real handshake (in memory) with a
 * server engine presenting a self-signed certificate or one from a test CA.
 */
class ServerTrustTest {

  private static final String HOST = "127.0.0.1";
  private static final String NAME = "chat.example.org";
  private static final int PORT = 3331;

  private static ServerTls selfSigned;
  private static ServerTls other;
  private static TestAuthority ca;
  private static ServerTls caIssued;

  @TempDir Path home;

  @BeforeAll
  static void makeServers() throws Exception {
    selfSigned = ServerTls.create(TlsIdentity.selfSigned("server", Duration.ofDays(3650)));
    other = ServerTls.create(TlsIdentity.selfSigned("impostor", Duration.ofDays(3650)));
    ca = TestAuthority.create();
    caIssued = ServerTls.create(ca.issue("EC", NAME));
  }

  @Test
  void shouldTrustThePinnedCertificateAndRecordNothing() throws Exception {
    ServerTrust trust = trust(Optional.of(selfSigned.fingerprint()));

    assertEquals(ServerTrust.Pinned.INSTANCE, connect(trust, selfSigned, HOST));
    assertTrue(Files.notExists(home.resolve(KnownServers.FILE_NAME)));
  }

  @Test
  void shouldRefuseAnyOtherCertificateWhenOneIsPinned() throws Exception {
    ServerTrust trust = trust(Optional.of(selfSigned.fingerprint()));

    UntrustedServerException refused = refused(trust, other, HOST);

    assertTrue(refused.getMessage().contains(other.fingerprint().value()), refused.getMessage());
    assertTrue(refused.getMessage().contains(selfSigned.fingerprint().value()));
    assertTrue(refused.getMessage().contains("--trust-fingerprint"));
  }

  @Test
  void shouldTrustACertificateTheSystemsCasIssuedForTheHostName() throws Exception {
    ServerTrust trust =
        new ServerTrust(Optional.empty(), ServerVerifier.pkix(ca.trustStore()), known());

    assertEquals(ServerTrust.SystemTrusted.INSTANCE, connect(trust, caIssued, NAME));
    assertTrue(Files.notExists(home.resolve(KnownServers.FILE_NAME)), "nothing to remember");
  }

  @Test
  void shouldTreatACaCertificateForAnotherNameAsAnUnknownServer() throws Exception {
    ServerTrust trust =
        new ServerTrust(Optional.empty(), ServerVerifier.pkix(ca.trustStore()), known());

    assertInstanceOf(ServerTrust.FirstUse.class, connect(trust, caIssued, "other.example.org"));
  }

  @Test
  void shouldTrustANewServerRecordItAndSaySoInOneLine() throws Exception {
    ServerTrust trust = trust(Optional.empty());

    ServerTrust.Verdict verdict = connect(trust, selfSigned, HOST);

    Path file = home.resolve(KnownServers.FILE_NAME);
    assertEquals(
        new ServerTrust.FirstUse(
            "Trusting 127.0.0.1:3331 for the first time: certificate "
                + selfSigned.fingerprint()
                + " (recorded in "
                + file
                + ")"),
        verdict);
    assertEquals(List.of("127.0.0.1:3331 " + selfSigned.fingerprint()), Files.readAllLines(file));
  }

  @Test
  void shouldTrustAKnownServerQuietly() throws Exception {
    ServerTrust trust = trust(Optional.empty());
    connect(trust, selfSigned, HOST);

    ServerTrust.Verdict again = connect(trust, selfSigned, HOST);

    assertEquals(new ServerTrust.Known(1), again);
    assertEquals(Optional.empty(), again.notice());
    assertEquals(1, Files.readAllLines(home.resolve(KnownServers.FILE_NAME)).size());
  }

  @Test
  void shouldRefuseAKnownServerWhoseCertificateChangedNamingBothAndTheLineToRemove()
      throws Exception {
    known().add("chat.example.org:3331", other.fingerprint());
    ServerTrust trust = trust(Optional.empty());
    connect(trust, selfSigned, HOST);

    UntrustedServerException refused = refused(trust, other, HOST);

    assertEquals(
        "The certificate of the server at 127.0.0.1:3331 has changed: it was "
            + selfSigned.fingerprint()
            + ", it is now "
            + other.fingerprint()
            + ". Someone may be intercepting the connection, so nothing was sent to it. If the"
            + " server's certificate was changed on purpose, remove line 2 of "
            + home.resolve(KnownServers.FILE_NAME)
            + " and connect again",
        refused.getMessage());
  }

  @Test
  void shouldKeepPortsApart() throws Exception {
    ServerTrust trust = trust(Optional.empty());
    connect(trust, selfSigned, HOST);

    assertInstanceOf(
        ServerTrust.FirstUse.class, connect(trust, other, HOST, PORT + 1), "another server");
  }

  @Test
  void shouldTrustForTheSessionWhenTheFileCannotBeWritten() throws Exception {
    Path notADirectory = Files.writeString(home.resolve("file"), "");
    ServerTrust trust =
        new ServerTrust(
            Optional.empty(), ServerVerifier.systemTrust(), new KnownServers(notADirectory));

    ServerTrust.Verdict verdict = connect(trust, selfSigned, HOST);

    assertTrue(
        verdict.notice().orElseThrow().contains("for this session only"), verdict.toString());
  }

  private KnownServers known() {
    return new KnownServers(home);
  }

  private ServerTrust trust(Optional<Fingerprint> pinned) {
    return new ServerTrust(pinned, ServerVerifier.systemTrust(), known());
  }

  private static ServerTrust.Verdict connect(ServerTrust trust, ServerTls server, String host)
      throws Exception {
    return connect(trust, server, host, PORT);
  }

  /** A handshake with {@code server} as host:port; the verdict the client's trust took. */
  private static ServerTrust.Verdict connect(
      ServerTrust trust, ServerTls server, String host, int port) throws Exception {
    AtomicReference<ServerTrust.Verdict> verdict = new AtomicReference<>();
    ServerVerifier verifier =
        (chain, authType, engine) -> verdict.set(trust.decide(host, port, chain, authType, engine));
    new EnginePair(
            ClientTls.create(Optional.empty()).newEngine(host, port, verifier), server.newEngine())
        .handshake();
    return verdict.get();
  }

  private static UntrustedServerException refused(
      ServerTrust trust, ServerTls server, String host) {
    SSLException failure = assertThrows(SSLException.class, () -> connect(trust, server, host));
    return UntrustedServerException.find(failure).orElseThrow();
  }
}
