package dev.parley.transport;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/** The JDK plumbing shared by {@link ServerTls} and {@link ClientTls}. */
final class Contexts {

  /** Any TLS version the JDK has; the engines are then held to {@link TlsPolicy#PROTOCOLS}. */
  private static final String PROTOCOL = "TLS";

  /** The one entry of the in-memory keystore that hands the identity to the JDK. */
  private static final String ALIAS = "parley";

  private static final SecureRandom RANDOM = new SecureRandom();

  private Contexts() {}

  /** Key managers that present {@code identity}: its chain, signed for with its key. */
  static KeyManager[] keyManagers(TlsIdentity identity) {
    // Before the key store hands the key back: it is then read back by BouncyCastle's key factory,
    // and a key of BouncyCastle's own signs without converting the curve on every handshake (about
    // 70 µs a signature instead of 220, HandshakeCurves).
    HandshakeCurves.install();
    try {
      // The password only guards the in-memory store's entry, which never leaves this process.
      char[] password = new char[0];
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setKeyEntry(
          ALIAS, identity.privateKey(), password, identity.chain().toArray(X509Certificate[]::new));
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, password);
      return factory.getKeyManagers();
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("the JDK cannot use this key: " + e.getMessage(), e);
    }
  }

  static SSLContext context(KeyManager[] keys, TrustManager trust) {
    HandshakeCurves.install();
    try {
      SSLContext context = SSLContext.getInstance(PROTOCOL);
      context.init(keys, new TrustManager[] {trust}, RANDOM);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no TLS", e);
    }
  }
}
