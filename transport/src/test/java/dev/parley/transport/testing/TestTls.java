package dev.parley.transport.testing;

import dev.parley.transport.Fingerprint;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsPolicy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * Blocking TLS client sockets for tests that speak the protocol by hand over TLS: they present an
 * optional client certificate and accept only the server certificate with the given fingerprint (or
 * any, for tests about something else).
 */
public final class TestTls {

  private TestTls() {}

  /**
   * A connected TLS socket to {@code address} from {@code from} (any local address if null), its
   * handshake done; it throws if the server's certificate is not {@code server} (when given).
   */
  public static SSLSocket connect(
      InetSocketAddress address,
      String from,
      Optional<TlsIdentity> client,
      Optional<Fingerprint> server,
      int timeoutMillis)
      throws IOException {
    SSLSocket socket = (SSLSocket) context(client, server).getSocketFactory().createSocket();
    socket.setEnabledProtocols(TlsPolicy.PROTOCOLS.toArray(String[]::new));
    if (from != null) {
      socket.bind(new InetSocketAddress(from, 0));
    }
    socket.connect(address, timeoutMillis);
    socket.setSoTimeout(timeoutMillis);
    socket.startHandshake();
    return socket;
  }

  /** A client context presenting {@code client} and trusting only {@code server} (or anyone). */
  public static SSLContext context(Optional<TlsIdentity> client, Optional<Fingerprint> server) {
    try {
      KeyManager[] keys = null;
      if (client.isPresent()) {
        char[] password = new char[0];
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        store.setKeyEntry(
            "client",
            client.get().privateKey(),
            password,
            client.get().chain().toArray(X509Certificate[]::new));
        KeyManagerFactory factory =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, password);
        keys = factory.getKeyManagers();
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys, new TrustManager[] {new Pinned(server)}, null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private record Pinned(Optional<Fingerprint> expected) implements X509TrustManager {

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      if (expected.isPresent() && !expected.get().matches(chain[0])) {
        throw new CertificateException("not the expected server certificate");
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a test client does not verify clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  /** Closes {@code socket}, ignoring that it may be closed already. */
  public static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // Closed already.
    }
  }
}
