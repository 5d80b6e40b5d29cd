package dev.parley.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.transport.testing.EnginePair;
import dev.parley.transport.testing.TestAuthority;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TlsEnginesTest {

  private static final String HOST = "chat.example.org";
  private static final int PORT = 3331;

  private static TlsIdentity serverIdentity;
  private static TlsIdentity clientIdentity;
  private static ServerTls server;

  @BeforeAll
  static void makeIdentities() throws Exception {
    serverIdentity = TlsIdentity.selfSigned("parley server", Duration.ofDays(3650));
    clientIdentity = TlsIdentity.selfSigned("parley client", Duration.ofDays(1));
    server = ServerTls.create(serverIdentity);
  }

  @Test
  void shouldHandshakeWithTls13AndCarryDataBothWays() throws Exception {
    ClientTls client = ClientTls.create(Optional.of(clientIdentity));
    SSLEngine clientEngine =
        client.newEngine(HOST, PORT, ServerVerifier.pinned(serverIdentity.fingerprint()));
    SSLEngine serverEngine = server.newEngine();

    EnginePair pair = new EnginePair(clientEngine, serverEngine).handshake();

    assertEquals("TLSv1.3", clientEngine.getSession().getProtocol());
    assertTrue(TlsPolicy.CIPHER_SUITES.contains(clientEngine.getSession().getCipherSuite()));
    assertEquals("{\"type\":\"hello\"}\n", pair.clientToServer("{\"type\":\"hello\"}\n"));
    assertEquals("{\"type\":\"hello\"}\n", pair.serverToClient("{\"type\":\"hello\"}\n"));
  }

  @Test
  void shouldShowTheServerTheClientsCertificate() throws Exception {
    SSLEngine serverEngine = server.newEngine();
    new EnginePair(
            ClientTls.create(Optional.of(clientIdentity))
                .newEngine(HOST, PORT, ServerVerifier.trustAll()),
            serverEngine)
        .handshake();

    X509Certificate presented =
        (X509Certificate) serverEngine.getSession().getPeerCertificates()[0];
    assertEquals(clientIdentity.fingerprint(), Fingerprint.of(presented));
  }

  @Test
  void shouldNotAskABrowserForACertificate() throws Exception {
    SSLEngine serverEngine = server.newEngineAskingNoCertificate();
    new EnginePair(
            ClientTls.create(Optional.of(clientIdentity))
                .newEngine(HOST, PORT, ServerVerifier.trustAll()),
            serverEngine)
        .handshake();

    // Not asked, the client presents none, though it has one.
    assertThrows(
        SSLPeerUnverifiedException.class, () -> serverEngine.getSession().getPeerCertificates());
  }

  @Test
  void shouldLetAClientWithoutCertificateIn() throws Exception {
    SSLEngine serverEngine = server.newEngine();
    new EnginePair(
            ClientTls.create(Optional.empty()).newEngine(HOST, PORT, ServerVerifier.trustAll()),
            serverEngine)
        .handshake();

    assertThrows(
        SSLPeerUnverifiedException.class, () -> serverEngine.getSession().getPeerCertificates());
  }

  @Test
  void shouldGiveTheVerifierTheServersChainAndWhereItConnected() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    ServerVerifier recording =
        (chain, authType, engine) ->
            seen.set(
                Fingerprint.of(chain.get(0))
                    + " "
                    + engine.getPeerHost()
                    + ":"
                    + engine.getPeerPort());

    new EnginePair(
            ClientTls.create(Optional.empty()).newEngine(HOST, PORT, recording), server.newEngine())
        .handshake();

    assertEquals(serverIdentity.fingerprint() + " " + HOST + ":" + PORT, seen.get());
  }

  @Test
  void shouldRefuseAServerWhoseFingerprintIsNotThePinnedOne() throws Exception {
    Fingerprint other = TlsIdentity.selfSigned("other", Duration.ofDays(1)).fingerprint();
    SSLEngine clientEngine =
        ClientTls.create(Optional.empty()).newEngine(HOST, PORT, ServerVerifier.pinned(other));

    SSLException failure =
        assertThrows(
            SSLException.class, () -> new EnginePair(clientEngine, server.newEngine()).handshake());

    UntrustedServerException refusal = UntrustedServerException.find(failure).orElseThrow();
    assertTrue(refusal.getMessage().contains(serverIdentity.fingerprint().value()));
    assertTrue(refusal.getMessage().contains(other.value()));
  }

  @Test
  void shouldNotHandAnyApplicationDataToARefusedServer() throws Exception {
    SSLEngine clientEngine =
        ClientTls.create(Optional.empty())
            .newEngine(
                HOST,
                PORT,
                ServerVerifier.pinned(
                    TlsIdentity.selfSigned("x", Duration.ofDays(1)).fingerprint()));
    SSLEngine serverEngine = server.newEngine();

    assertThrows(SSLException.class, () -> new EnginePair(clientEngine, serverEngine).handshake());

    assertFalse(clientEngine.getSession().isValid());
    assertThrows(
        SSLException.class,
        () -> new EnginePair(clientEngine, serverEngine).clientToServer("secret"));
  }

  @Test
  void shouldTrustACaIssuedCertificateForItsHostNameOnly() throws Exception {
    TestAuthority ca = TestAuthority.create();
    ServerTls issued = ServerTls.create(ca.issue("RSA", HOST));
    ServerVerifier pkix = ServerVerifier.pkix(ca.trustStore());
    ClientTls client = ClientTls.create(Optional.empty());

    new EnginePair(client.newEngine(HOST, PORT, pkix), issued.newEngine()).handshake();

    SSLException wrongHost =
        assertThrows(
            SSLException.class,
            () ->
                new EnginePair(
                        client.newEngine("other.example.org", PORT, pkix), issued.newEngine())
                    .handshake());
    assertFalse(UntrustedServerException.find(wrongHost).isPresent());
    assertThrows(
        SSLException.class,
        () ->
            new EnginePair(
                    client.newEngine(HOST, PORT, ServerVerifier.systemTrust()), issued.newEngine())
                .handshake(),
        "the system trust store does not know the test CA");
  }

  @Test
  void shouldSpeakTls12WithAForwardSecretAeadSuiteToAClientThatHasNothingNewer() throws Exception {
    SSLEngine clientEngine =
        ClientTls.create(Optional.empty()).newEngine(HOST, PORT, ServerVerifier.trustAll());
    clientEngine.setEnabledProtocols(new String[] {"TLSv1.2"});
    clientEngine.setEnabledCipherSuites(clientEngine.getSupportedCipherSuites());

    new EnginePair(clientEngine, server.newEngine()).handshake();

    assertEquals("TLSv1.2", clientEngine.getSession().getProtocol());
    String suite = clientEngine.getSession().getCipherSuite();
    assertTrue(suite.startsWith("TLS_ECDHE_"), suite);
    assertTrue(suite.contains("_GCM_") || suite.contains("CHACHA20"), suite);
  }

  @Test
  void shouldRefuseAClientThatOffersOnlyWeakCipherSuites() throws Exception {
    SSLEngine clientEngine =
        ClientTls.create(Optional.empty()).newEngine(HOST, PORT, ServerVerifier.trustAll());
    clientEngine.setEnabledProtocols(new String[] {"TLSv1.2"});
    clientEngine.setEnabledCipherSuites(
        new String[] {
          "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
          "TLS_RSA_WITH_AES_128_GCM_SHA256"
        });

    assertThrows(
        SSLException.class, () -> new EnginePair(clientEngine, server.newEngine()).handshake());
  }

  @Test
  void shouldRefuseAProtocolDowngrade() throws Exception {
    SSLEngine serverEngine = server.newEngine();
    assertEquals(List.of("TLSv1.3", "TLSv1.2"), List.of(serverEngine.getEnabledProtocols()));

    SSLEngine clientEngine =
        ClientTls.create(Optional.empty()).newEngine(HOST, PORT, ServerVerifier.trustAll());
    clientEngine.setEnabledProtocols(new String[] {"TLSv1.1", "TLSv1"});
    clientEngine.setEnabledCipherSuites(clientEngine.getSupportedCipherSuites());

    assertThrows(SSLException.class, () -> new EnginePair(clientEngine, serverEngine).handshake());
  }

  @Test
  void shouldOfferNothingOutsideThePolicy() {
    SSLEngine clientEngine =
        ClientTls.create(Optional.empty()).newEngine(HOST, PORT, ServerVerifier.trustAll());

    assertEquals(List.of("TLSv1.3", "TLSv1.2"), List.of(clientEngine.getEnabledProtocols()));
    for (String suite : clientEngine.getEnabledCipherSuites()) {
      assertTrue(TlsPolicy.CIPHER_SUITES.contains(suite), suite);
    }
    assertEquals(
        HOST,
        ((javax.net.ssl.SNIHostName) clientEngine.getSSLParameters().getServerNames().get(0))
            .getAsciiName());
    SSLEngine byAddress =
        ClientTls.create(Optional.empty()).newEngine("127.0.0.1", PORT, ServerVerifier.trustAll());
    assertTrue(
        byAddress.getSSLParameters().getServerNames() == null
            || byAddress.getSSLParameters().getServerNames().isEmpty(),
        "no SNI for an address");
  }
}
