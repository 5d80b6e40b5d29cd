package dev.parley.server.login;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Salted, deliberately slow password hashes: PBKDF2-HMAC-SHA256 from the JDK, written as {@code
 * pbkdf2-sha256$<iterations>$<salt>$<hash>} (Base64), so that every hash carries the parameters it
 * was made with and they can be raised later ({@link #needsRehash}). Hashing takes tens to hundreds
 * of milliseconds by design: call it on a dedicated dispatcher, never on an actor's thread.
 * Immutable and thread-safe.
 */
public final class PasswordHasher {

  private static final String SCHEME = "pbkdf2-sha256";
  private static final String ALGORITHM = "PBKDF2WithHmacSHA256";
  private static final int SALT_BYTES = 16;
  private static final int KEY_BITS = 256;
  private static final Base64.Encoder ENCODER = Base64.getEncoder().withoutPadding();
  private static final Base64.Decoder DECODER = Base64.getDecoder();

  private final int iterations;
  private final SecureRandom random = new SecureRandom();

  /**
   * @param iterations PBKDF2 iterations for new hashes (OWASP recommends 600,000 for SHA-256)
   */
  public PasswordHasher(int iterations) {
    if (iterations < 1) {
      throw new IllegalArgumentException("iterations must be positive");
    }
    this.iterations = iterations;
  }

  /** A new hash of {@code password}, with a fresh random salt. */
  public String hash(String password) {
    byte[] salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    byte[] key = derive(password, salt, iterations, KEY_BITS);
    return SCHEME
        + "$"
        + iterations
        + "$"
        + ENCODER.encodeToString(salt)
        + "$"
        + ENCODER.encodeToString(key);
  }

  /**
   * Whether {@code password} is the one {@code encoded} was made from; false if it is unreadable.
   */
  public boolean verify(String password, String encoded) {
    Parsed parsed = parse(encoded);
    if (parsed == null) {
      return false;
    }
    byte[] key = derive(password, parsed.salt(), parsed.iterations(), parsed.key().length * 8);
    return MessageDigest.isEqual(key, parsed.key());
  }

  /** Whether {@code encoded} was made with weaker parameters than new hashes get. */
  public boolean needsRehash(String encoded) {
    Parsed parsed = parse(encoded);
    return parsed == null || parsed.iterations() < iterations;
  }

  private record Parsed(int iterations, byte[] salt, byte[] key) {}

  private static Parsed parse(String encoded) {
    String[] parts = encoded == null ? new String[0] : encoded.split("\\$");
    if (parts.length != 4 || !parts[0].equals(SCHEME)) {
      return null;
    }
    try {
      int iterations = Integer.parseInt(parts[1]);
      byte[] salt = DECODER.decode(parts[2]);
      byte[] key = DECODER.decode(parts[3]);
      // PBEKeySpec throws on these: they are not hashes this class wrote.
      boolean usable = iterations > 0 && salt.length > 0 && key.length > 0;
      return usable ? new Parsed(iterations, salt, key) : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static byte[] derive(String password, byte[] salt, int iterations, int bits) {
    char[] chars = password.toCharArray();
    PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, bits);
    try {
      return SecretKeyFactory.getInstance(ALGORITHM).generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(ALGORITHM + " is missing from this JDK", e);
    } finally {
      spec.clearPassword();
      Arrays.fill(chars, '\0');
    }
  }
}
