package dev.parley.server.registry;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The random secrets the server hands out (resumption tokens, private-chat tokens) and the hashes
 * it keeps of them. A token carries {@value #TOKEN_BYTES} random bytes, so it cannot be guessed and
 * a plain SHA-256 is a safe way to keep it: unlike a password, it needs no slow hash, and checking
 * one costs a login storm nothing.
 *
 * <p>Not thread-safe (the digest is reused): each actor has its own.
 */
final class SecretTokens {

  /** 256 bits: beyond guessing, whatever the number of attempts. */
  static final int TOKEN_BYTES = 32;

  private final SecureRandom random = new SecureRandom();
  private final MessageDigest sha256;
  private final Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();

  SecretTokens() {
    try {
      sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** A new token: {@value #TOKEN_BYTES} random bytes in URL-safe base64 (43 characters). */
  String newToken() {
    byte[] bytes = new byte[TOKEN_BYTES];
    random.nextBytes(bytes);
    return encoder.encodeToString(bytes);
  }

  /** The hash kept of {@code token}, hex-encoded. */
  String hash(String token) {
    return HexFormat.of().formatHex(sha256.digest(token.getBytes(StandardCharsets.UTF_8)));
  }

  /** Whether {@code token} is the one {@code hash} was made from, in time independent of both. */
  boolean matches(String token, String hash) {
    return hash != null
        && token != null
        && MessageDigest.isEqual(
            hash(token).getBytes(StandardCharsets.US_ASCII),
            hash.getBytes(StandardCharsets.US_ASCII));
  }
}
