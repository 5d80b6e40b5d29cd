package dev.parley.transport;

import java.nio.ByteBuffer;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * An engine that does everything its delegate does and also tells a listener, once, why TLS failed
 * on it. Whoever drives an engine (Akka Streams' TLS stage, say) may end the connection without
 * passing the exception on to anyone who could log it; the engine is the one place every failure
 * goes through.
 *
 * <p>It also keeps Akka Streams 2.6's TLS stage from losing a TLS 1.3 connection's first plaintext.
 * A client may send its first application data in the same read as its {@code Finished}; the JDK's
 * server engine then decrypts that data in an {@code unwrap} that also asks to wrap (the session
 * ticket it sends next), and the stage, seeing {@code NEED_WRAP}, leaves the decrypted bytes in its
 * buffer without passing them on until more data arrives, which a client waiting for an answer
 * never sends (akka/akka#31419, fixed only in Akka releases after 2.6). Such a result is reported
 * here as {@code NOT_HANDSHAKING}, on which the stage passes the bytes on; it still learns of the
 * wrap to do from {@link #getHandshakeStatus()}, which it reads right after. Measured on loopback
 * with both ends on Akka: without this, about half of the connections whose first line followed the
 * handshake at once never saw it arrive.
 *
 * <p>The certificate the peer presented is kept when its first plaintext is decrypted ({@link
 * #peerCertificate()}): by then the peer has proved it holds the key, and the stage may hand that
 * plaintext on with the session as it was before the handshake finished.
 */
public final class ReportingEngine extends SSLEngine {

  private final SSLEngine delegate;
  private final Consumer<SSLException> onFailure;
  private boolean reported;
  private volatile Optional<X509Certificate> peerCertificate;

  private ReportingEngine(SSLEngine delegate, Consumer<SSLException> onFailure) {
    super(delegate.getPeerHost(), delegate.getPeerPort());
    this.delegate = delegate;
    this.onFailure = onFailure;
  }

  /** {@code engine}, telling {@code onFailure} once why TLS failed on it, if it does. */
  public static ReportingEngine of(SSLEngine engine, Consumer<SSLException> onFailure) {
    return new ReportingEngine(engine, onFailure);
  }

  @Override
  public SSLEngineResult wrap(ByteBuffer[] sources, int offset, int length, ByteBuffer target)
      throws SSLException {
    try {
      return delegate.wrap(sources, offset, length, target);
    } catch (SSLException e) {
      throw report(e);
    }
  }

  @Override
  public SSLEngineResult unwrap(ByteBuffer source, ByteBuffer[] targets, int offset, int length)
      throws SSLException {
    SSLEngineResult result;
    try {
      result = delegate.unwrap(source, targets, offset, length);
    } catch (SSLException e) {
      throw report(e);
    }
    if (result.bytesProduced() == 0) {
      return result;
    }
    if (peerCertificate == null) {
      peerCertificate = presented();
    }
    if (result.getStatus() == SSLEngineResult.Status.OK
        && result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
      return new SSLEngineResult(
          result.getStatus(),
          SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING,
          result.bytesConsumed(),
          result.bytesProduced());
    }
    return result;
  }

  /**
   * The certificate the peer presented and proved it holds the key of, once its first plaintext has
   * been decrypted; empty if it presented none, or before that.
   */
  public Optional<X509Certificate> peerCertificate() {
    Optional<X509Certificate> presented = peerCertificate;
    return presented == null ? Optional.empty() : presented;
  }

  private Optional<X509Certificate> presented() {
    // While the engine still has handshake messages to send, the session being made is the one
    // that knows the peer's certificate.
    SSLSession session = delegate.getHandshakeSession();
    if (session == null) {
      session = delegate.getSession();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length > 0 && chain[0] instanceof X509Certificate certificate) {
        return Optional.of(certificate);
      }
    } catch (SSLPeerUnverifiedException none) {
      // The peer presented no certificate.
    }
    return Optional.empty();
  }

  @Override
  public void beginHandshake() throws SSLException {
    try {
      delegate.beginHandshake();
    } catch (SSLException e) {
      throw report(e);
    }
  }

  @Override
  public void closeInbound() throws SSLException {
    // A truncated stream (closed without TLS's closing alert) is the stream's end, not a failure
    // of TLS: it is passed on, not reported.
    delegate.closeInbound();
  }

  /**
   * Reports that the peer did not finish its handshake within {@code timeout}, which the driver of
   * the engine measures and the engine cannot see: it is a failure of TLS like the others.
   */
  public void handshakeTimedOut(Duration timeout) {
    report(
        new SSLHandshakeException("handshake not finished within " + timeout.toMillis() + " ms"));
  }

  private SSLException report(SSLException e) {
    if (!reported) {
      reported = true;
      onFailure.accept(e);
    }
    return e;
  }

  // Everything else is the delegate's.

  @Override
  public Runnable getDelegatedTask() {
    return delegate.getDelegatedTask();
  }

  @Override
  public boolean isInboundDone() {
    return delegate.isInboundDone();
  }

  @Override
  public void closeOutbound() {
    delegate.closeOutbound();
  }

  @Override
  public boolean isOutboundDone() {
    return delegate.isOutboundDone();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return delegate.getSupportedCipherSuites();
  }

  @Override
  public String[] getEnabledCipherSuites() {
    return delegate.getEnabledCipherSuites();
  }

  @Override
  public void setEnabledCipherSuites(String[] suites) {
    delegate.setEnabledCipherSuites(suites);
  }

  @Override
  public String[] getSupportedProtocols() {
    return delegate.getSupportedProtocols();
  }

  @Override
  public String[] getEnabledProtocols() {
    return delegate.getEnabledProtocols();
  }

  @Override
  public void setEnabledProtocols(String[] protocols) {
    delegate.setEnabledProtocols(protocols);
  }

  @Override
  public SSLSession getSession() {
    return delegate.getSession();
  }

  @Override
  public SSLSession getHandshakeSession() {
    return delegate.getHandshakeSession();
  }

  @Override
  public SSLEngineResult.HandshakeStatus getHandshakeStatus() {
    return delegate.getHandshakeStatus();
  }

  @Override
  public void setUseClientMode(boolean mode) {
    delegate.setUseClientMode(mode);
  }

  @Override
  public boolean getUseClientMode() {
    return delegate.getUseClientMode();
  }

  @Override
  public void setNeedClientAuth(boolean need) {
    delegate.setNeedClientAuth(need);
  }

  @Override
  public boolean getNeedClientAuth() {
    return delegate.getNeedClientAuth();
  }

  @Override
  public void setWantClientAuth(boolean want) {
    delegate.setWantClientAuth(want);
  }

  @Override
  public boolean getWantClientAuth() {
    return delegate.getWantClientAuth();
  }

  @Override
  public void setEnableSessionCreation(boolean flag) {
    delegate.setEnableSessionCreation(flag);
  }

  @Override
  public boolean getEnableSessionCreation() {
    return delegate.getEnableSessionCreation();
  }

  @Override
  public SSLParameters getSSLParameters() {
    return delegate.getSSLParameters();
  }

  @Override
  public void setSSLParameters(SSLParameters parameters) {
    delegate.setSSLParameters(parameters);
  }

  @Override
  public String getApplicationProtocol() {
    return delegate.getApplicationProtocol();
  }

  @Override
  public String getHandshakeApplicationProtocol() {
    return delegate.getHandshakeApplicationProtocol();
  }

  @Override
  public void setHandshakeApplicationProtocolSelector(
      BiFunction<SSLEngine, List<String>, String> selector) {
    delegate.setHandshakeApplicationProtocolSelector(selector);
  }

  @Override
  public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
    return delegate.getHandshakeApplicationProtocolSelector();
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
