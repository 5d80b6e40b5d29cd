package dev.parley.transport;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * What every Parley TLS connection may negotiate, on either side: TLS 1.3, with TLS 1.2 as the
 * floor, and only cipher suites with forward secrecy and authenticated encryption. An engine that
 * goes through {@link #restrict(SSLEngine)} refuses a peer that offers nothing else (SSL 3, TLS 1.0
 * or 1.1, static RSA key exchange, CBC modes, RC4, export or null ciphers) instead of falling back.
 */
public final class TlsPolicy {

  /** The protocols, newest first. */
  public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  /**
   * TLS 1.3's suites (all AEAD, all with forward secrecy), then TLS 1.2's ECDHE suites with AES-GCM
   * or ChaCha20-Poly1305, for ECDSA and for RSA certificates (a CA-issued certificate may be
   * either). In order of preference: the server picks the first it shares with the client.
   */
  public static final List<String> CIPHER_SUITES =
      List.of(
          "TLS_AES_128_GCM_SHA256",
          "TLS_AES_256_GCM_SHA384",
          "TLS_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
          "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
          "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

  private TlsPolicy() {}

  /**
   * Limits {@code engine} to {@link #PROTOCOLS} and {@link #CIPHER_SUITES} (those of them this JDK
   * supports), in Parley's order of preference.
   */
  public static SSLEngine restrict(SSLEngine engine) {
    SSLParameters parameters = engine.getSSLParameters();
    restrict(parameters, engine.getSupportedProtocols(), engine.getSupportedCipherSuites());
    engine.setSSLParameters(parameters);
    return engine;
  }

  /** The same on parameters about to be set on an engine with these supported lists. */
  static void restrict(
      SSLParameters parameters, String[] supportedProtocols, String[] supportedSuites) {
    parameters.setProtocols(supportedOnly(PROTOCOLS, supportedProtocols));
    parameters.setCipherSuites(supportedOnly(CIPHER_SUITES, supportedSuites));
    parameters.setUseCipherSuitesOrder(true);
  }

  private static String[] supportedOnly(List<String> wanted, String[] supported) {
    Set<String> available = Set.copyOf(Arrays.asList(supported));
    String[] kept = wanted.stream().filter(available::contains).toArray(String[]::new);
    if (kept.length == 0) {
      throw new IllegalStateException("this JDK supports none of " + wanted);
    }
    return kept;
  }
}
