package dev.parley.transport;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Makes the client side's TLS engines: held to the {@link TlsPolicy}, naming the server (SNI, and
 * the host name that a CA-issued certificate must carry), presenting the client's own {@link
 * TlsIdentity} when it has one, and trusting the server only as a {@link ServerVerifier} decides,
 * during the handshake.
 *
 * <p>{@link #newEngine(String, int, ServerVerifier)} gives every connection a context of its own:
 * the JDK never resumes a TLS session across contexts, so the verifier sees the certificate of
 * every connection, and a verifier may carry state about one connection. {@link #context} makes one
 * context for many engines (the benchmark's thousands of connections), at the cost that a resumed
 * session skips the verifier.
 */
public final class ClientTls {

  /** The host name check a browser does: the certificate must name the host reached. */
  private static final String HTTPS_IDENTIFICATION = "HTTPS";

  /** IP literals carry no server name (RFC 6066 forbids them in SNI). */
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(?:\\.\\d{1,3}){3}");

  private final Optional<TlsIdentity> identity;
  private final KeyManager[] keys;

  private ClientTls(Optional<TlsIdentity> identity) {
    this.identity = identity;
    this.keys = identity.map(Contexts::keyManagers).orElse(null);
  }

  /**
   * @param identity the certificate to present when the server asks for one; empty to present none
   */
  public static ClientTls create(Optional<TlsIdentity> identity) {
    return new ClientTls(identity);
  }

  /** The identity presented to servers, if any. */
  public Optional<TlsIdentity> identity() {
    return identity;
  }

  /** A context whose engines trust a server as {@code verifier} decides. */
  public SSLContext context(ServerVerifier verifier) {
    return Contexts.context(keys, new Verifying(verifier));
  }

  /** An engine of a context of its own, for one connection to host:port. */
  public SSLEngine newEngine(String host, int port, ServerVerifier verifier) {
    return newEngine(context(verifier), host, port);
  }

  /**
   * An engine of {@code context} for one connection to host:port ({@link ReportingEngine} keeps
   * Akka Streams' TLS stage from holding back the first plaintext).
   */
  public static SSLEngine newEngine(SSLContext context, String host, int port) {
    return ReportingEngine.of(plainEngine(context, host, port), failure -> {});
  }

  private static SSLEngine plainEngine(SSLContext context, String host, int port) {
    SSLEngine engine = context.createSSLEngine(host, port);
    engine.setUseClientMode(true);
    SSLParameters parameters = engine.getSSLParameters();
    TlsPolicy.restrict(
        parameters, engine.getSupportedProtocols(), engine.getSupportedCipherSuites());
    parameters.setEndpointIdentificationAlgorithm(HTTPS_IDENTIFICATION);
    if (isHostName(host)) {
      parameters.setServerNames(List.of(new SNIHostName(host)));
    }
    engine.setSSLParameters(parameters);
    return engine;
  }

  private static boolean isHostName(String host) {
    return !host.contains(":") && !IPV4.matcher(host).matches();
  }

  /** Hands the server's chain to the verifier; a client context never checks client chains. */
  private static final class Verifying extends X509ExtendedTrustManager {

    private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

    private final ServerVerifier verifier;

    Verifying(ServerVerifier verifier) {
      this.verifier = verifier;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the server presented no certificate");
      }
      verifier.verify(List.of(chain), authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("Parley's client verifies servers on engines only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("Parley's client verifies servers on engines only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a client context does not verify clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return NO_ISSUERS;
    }
  }
}
