package dev.parley.transport;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Makes the server side's TLS engines: one per accepted connection, presenting the server's {@link
 * TlsIdentity}, held to the {@link TlsPolicy}, and asking the client for a certificate without
 * requiring one. Any client certificate is accepted (the handshake still proves the client holds
 * its key): the server does not authenticate people by certificate, it only reads the certificate's
 * fingerprint, to which it binds what it gives that connection (a resumption token).
 */
public final class ServerTls {

  private final TlsIdentity identity;
  private final SSLContext context;

  private ServerTls(TlsIdentity identity) {
    this.identity = identity;
    this.context = Contexts.context(Contexts.keyManagers(identity), new AnyClientCertificate());
  }

  public static ServerTls create(TlsIdentity identity) {
    return new ServerTls(identity);
  }

  /**
   * A new engine for one accepted connection, which also tells {@code onFailure}, once, why TLS
   * failed on it (a failed handshake, a record that does not decrypt), whoever drives it.
   */
  public ReportingEngine newEngine(Consumer<SSLException> onFailure) {
    return ReportingEngine.of(plainEngine(), onFailure);
  }

  /**
   * A new engine for one accepted connection ({@link ReportingEngine} keeps Akka Streams' TLS stage
   * from holding back the first plaintext).
   */
  public ReportingEngine newEngine() {
    return newEngine(failure -> {});
  }

  /**
   * As {@link #newEngine()}, without asking for a client certificate: for browsers (the HTTP port),
   * which may otherwise show their user a certificate picker, and never present Parley's own.
   */
  public ReportingEngine newEngineAskingNoCertificate() {
    SSLEngine engine = plainEngine();
    SSLParameters parameters = engine.getSSLParameters();
    parameters.setWantClientAuth(false);
    engine.setSSLParameters(parameters);
    return ReportingEngine.of(engine, failure -> {});
  }

  private SSLEngine plainEngine() {
    SSLEngine engine = context.createSSLEngine();
    engine.setUseClientMode(false);
    SSLParameters parameters = engine.getSSLParameters();
    TlsPolicy.restrict(
        parameters, engine.getSupportedProtocols(), engine.getSupportedCipherSuites());
    parameters.setWantClientAuth(true);
    engine.setSSLParameters(parameters);
    return engine;
  }

  public TlsIdentity identity() {
    return identity;
  }

  /** The fingerprint of the certificate the server presents. */
  public Fingerprint fingerprint() {
    return identity.fingerprint();
  }

  /**
   * Accepts every client certificate; asks for none in particular (no CA names), so that a client
   * presents its self-made one.
   */
  private static final class AnyClientCertificate extends X509ExtendedTrustManager {

    private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

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
      if (chain == null || chain.length == 0) {
        throw new CertificateException("empty client certificate chain");
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a server context does not verify servers");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return NO_ISSUERS;
    }
  }
}
