package dev.parley.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Security;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JDK's TLS finds its algorithms by name, first provider first: these tests ask as it asks, and
 * check that the handshake's elliptic curves are BouncyCastle's, that nothing else moved, and that
 * what BouncyCastle signs and agrees is exactly what the JDK would (a peer without the provider,
 * such as a browser or an older Parley, must not notice).
 */
class HandshakeCurvesTest {

  private static final byte[] TRANSCRIPT =
      "a handshake's transcript hash".getBytes(StandardCharsets.UTF_8);

  private static Provider jdkEc;

  /** Whether making a TLS context installed the provider, before any test installs it itself. */
  private static boolean installedByAContext;

  @BeforeAll
  static void makeATlsContext() {
    ServerTls.create(selfSigned());
    installedByAContext = Security.getProvider(HandshakeCurves.NAME) != null;
    jdkEc = Security.getProvider("SunEC");
  }

  @Test
  void shouldBeInstalledByEveryTlsContextParleyMakes() {
    assertTrue(installedByAContext);
  }

  @Test
  void shouldServeTheHandshakesCurvesAheadOfTheJdks() throws Exception {
    TlsIdentity identity = selfSigned();
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(identity.privateKey());
    assertEquals(HandshakeCurves.NAME, signer.getProvider().getName());

    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(identity.certificate().getPublicKey());
    assertEquals(HandshakeCurves.NAME, verifier.getProvider().getName());

    KeyPairGenerator xdh = KeyPairGenerator.getInstance("XDH");
    assertEquals(HandshakeCurves.NAME, xdh.getProvider().getName());
    KeyAgreement agreement = KeyAgreement.getInstance("XDH");
    agreement.init(KeyPairGenerator.getInstance("X25519").generateKeyPair().getPrivate());
    assertEquals(HandshakeCurves.NAME, agreement.getProvider().getName());

    assertEquals(HandshakeCurves.NAME, KeyPairGenerator.getInstance("EC").getProvider().getName());
  }

  @Test
  void shouldSignHandshakesWithAKeyOfBouncyCastlesOwn() throws Exception {
    // A key in the JDK's classes would make BouncyCastle convert the curve at every signature.
    // As in a fresh process, where the identity is read before any TLS context exists:
    TlsIdentity identity = selfSigned();
    Security.removeProvider(HandshakeCurves.NAME);
    javax.net.ssl.X509KeyManager keys =
        (javax.net.ssl.X509KeyManager) Contexts.keyManagers(identity)[0];
    String alias = keys.getServerAliases("EC", null)[0];
    assertTrue(
        keys.getPrivateKey(alias).getClass().getName().startsWith("org.bouncycastle."),
        keys.getPrivateKey(alias).getClass().getName());
  }

  @Test
  void shouldLeaveCiphersDigestsMacsAndRsaToTheJdk() throws Exception {
    assertEquals("SunJCE", Cipher.getInstance("AES/GCM/NoPadding").getProvider().getName());
    assertEquals("SunJCE", Cipher.getInstance("ChaCha20-Poly1305").getProvider().getName());
    assertEquals("SUN", MessageDigest.getInstance("SHA-256").getProvider().getName());
    assertEquals("SunJCE", Mac.getInstance("HmacSHA256").getProvider().getName());
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    Signature rsaSigner = Signature.getInstance("SHA256withRSA");
    rsaSigner.initSign(rsa.generateKeyPair().getPrivate());
    assertEquals("SunRsaSign", rsaSigner.getProvider().getName());
  }

  @Test
  void shouldSignWhatTheJdkVerifiesAndVerifyWhatTheJdkSigns() throws Exception {
    for (String algorithm : new String[] {"SHA256withECDSA", "SHA384withECDSA"}) {
      KeyPair jdkKeys = p256(jdkEc);
      KeyPair keys = p256(null);

      byte[] ours = sign(Signature.getInstance(algorithm), keys.getPrivate());
      assertTrue(verify(Signature.getInstance(algorithm, jdkEc), keys.getPublic(), ours));

      byte[] theJdks = sign(Signature.getInstance(algorithm, jdkEc), jdkKeys.getPrivate());
      assertTrue(verify(Signature.getInstance(algorithm), jdkKeys.getPublic(), theJdks));

      byte[] tampered = theJdks.clone();
      tampered[tampered.length - 1] ^= 1;
      assertFalse(verifyQuietly(Signature.getInstance(algorithm), jdkKeys.getPublic(), tampered));
      assertFalse(verify(Signature.getInstance(algorithm), keys.getPublic(), theJdks));
    }
  }

  @Test
  void shouldAgreeOnTheSecretsTheJdkAgreesOn() throws Exception {
    for (String[] exchange : new String[][] {{"X25519", "XDH"}, {"EC", "ECDH"}}) {
      KeyPair ours = generate(exchange[0], null);
      KeyPair theJdks = generate(exchange[0], jdkEc);

      byte[] oursWithTheJdks = agree(KeyAgreement.getInstance(exchange[1]), ours, theJdks);
      byte[] theJdksWithOurs = agree(KeyAgreement.getInstance(exchange[1], jdkEc), theJdks, ours);

      assertArrayEquals(theJdksWithOurs, oursWithTheJdks, exchange[1]);
      assertEquals(32, oursWithTheJdks.length, exchange[1]);
    }
  }

  @Test
  void shouldBeRegisteredOnceAndFirstHoweverOftenInstalled() {
    CompletableFuture.allOf(
            IntStream.range(0, 8)
                .mapToObj(i -> CompletableFuture.runAsync(HandshakeCurves::install))
                .toArray(CompletableFuture[]::new))
        .join();

    Provider[] providers = Security.getProviders();
    assertEquals(HandshakeCurves.NAME, providers[0].getName());
    assertEquals(
        1, Arrays.stream(providers).filter(p -> p.getName().equals(HandshakeCurves.NAME)).count());
  }

  private static TlsIdentity selfSigned() {
    try {
      return TlsIdentity.selfSigned("handshake curves test", Duration.ofDays(1));
    } catch (TlsMaterialException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair p256(Provider provider) throws GeneralSecurityException {
    return generate("EC", provider);
  }

  private static KeyPair generate(String algorithm, Provider provider)
      throws GeneralSecurityException {
    KeyPairGenerator generator =
        provider == null
            ? KeyPairGenerator.getInstance(algorithm)
            : KeyPairGenerator.getInstance(algorithm, provider);
    if (algorithm.equals("EC")) {
      generator.initialize(new ECGenParameterSpec("secp256r1"));
    }
    return generator.generateKeyPair();
  }

  private static byte[] sign(Signature signer, PrivateKey key) throws GeneralSecurityException {
    signer.initSign(key);
    signer.update(TRANSCRIPT);
    return signer.sign();
  }

  private static boolean verify(Signature verifier, PublicKey key, byte[] signature)
      throws GeneralSecurityException {
    verifier.initVerify(key);
    verifier.update(TRANSCRIPT);
    return verifier.verify(signature);
  }

  /** A signature whose encoding a flipped bit broke may be refused by throwing, which is a no. */
  private static boolean verifyQuietly(Signature verifier, PublicKey key, byte[] signature)
      throws GeneralSecurityException {
    try {
      return verify(verifier, key, signature);
    } catch (java.security.SignatureException malformed) {
      return false;
    }
  }

  private static byte[] agree(KeyAgreement agreement, KeyPair own, KeyPair peer)
      throws GeneralSecurityException {
    agreement.init(own.getPrivate());
    agreement.doPhase(peer.getPublic(), true);
    return agreement.generateSecret();
  }
}
