package dev.parley.transport;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The SHA-256 fingerprint of a certificate: the digest of its DER encoding, written as OpenSSH
 * writes key fingerprints, {@code SHA256:} and the digest in base64 without padding (43
 * characters). This form is what Parley prints, stores in {@code known_servers} and sends on the
 * wire; {@link #parse(String)} also takes what other tools print (padded base64, colon-separated or
 * plain hex, with or without the {@code SHA256:} prefix), so that an operator can paste either.
 *
 * @param value the canonical form, {@code SHA256:} and 43 base64 characters
 */
public record Fingerprint(String value) {

  /** The prefix of the canonical form, naming the digest. */
  public static final String PREFIX = "SHA256:";

  private static final String DIGEST = "SHA-256";
  private static final int DIGEST_BYTES = 32;
  private static final Base64.Encoder BASE64 = Base64.getEncoder().withoutPadding();
  private static final Pattern CANONICAL = Pattern.compile("SHA256:[A-Za-z0-9+/]{43}");
  private static final Pattern COLON_HEX = Pattern.compile("(?:[0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}");
  private static final Pattern PLAIN_HEX = Pattern.compile("[0-9A-Fa-f]{64}");

  public Fingerprint {
    if (value == null || !CANONICAL.matcher(value).matches()) {
      throw new IllegalArgumentException(
          "not a fingerprint in the form SHA256:<43 base64 characters>: " + value);
    }
  }

  /** The fingerprint of {@code certificate}. */
  public static Fingerprint of(X509Certificate certificate) {
    try {
      return ofDer(certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      // A certificate the JDK parsed always has its encoding; this would be a JDK bug.
      throw new IllegalStateException("certificate without a DER encoding", e);
    }
  }

  /** The fingerprint of a certificate given as its DER encoding. */
  public static Fingerprint ofDer(byte[] der) {
    return ofDigest(sha256(der));
  }

  /**
   * Reads a fingerprint as a person may paste it: {@code SHA256:} followed by base64 (with or
   * without padding), or 32 bytes in hex (colon-separated as OpenSSL prints them, or not), with or
   * without the prefix. Surrounding spaces are ignored.
   *
   * @throws IllegalArgumentException if it is none of these
   */
  public static Fingerprint parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("no fingerprint given");
    }
    String body = text.strip();
    if (body.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
      body = body.substring(PREFIX.length());
    }
    byte[] digest;
    if (COLON_HEX.matcher(body).matches()) {
      digest = HexFormat.ofDelimiter(":").parseHex(body.toLowerCase(Locale.ROOT));
    } else if (PLAIN_HEX.matcher(body).matches()) {
      digest = HexFormat.of().parseHex(body.toLowerCase(Locale.ROOT));
    } else {
      try {
        digest = Base64.getDecoder().decode(padded(body));
      } catch (IllegalArgumentException notBase64) {
        throw new IllegalArgumentException(unreadable(text), notBase64);
      }
    }
    if (digest.length != DIGEST_BYTES) {
      throw new IllegalArgumentException(unreadable(text));
    }
    return ofDigest(digest);
  }

  /** Whether {@code certificate} has this fingerprint. */
  public boolean matches(X509Certificate certificate) {
    return equals(of(certificate));
  }

  /** The 32 bytes of the digest. */
  public byte[] digest() {
    return Base64.getDecoder().decode(padded(value.substring(PREFIX.length())));
  }

  @Override
  public String toString() {
    return value;
  }

  private static Fingerprint ofDigest(byte[] digest) {
    return new Fingerprint(PREFIX + BASE64.encodeToString(digest));
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance(DIGEST).digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform must provide SHA-256.
      throw new IllegalStateException(e);
    }
  }

  /** Base64 of 32 bytes is 43 characters and one '=' of padding, which the decoder wants. */
  private static String padded(String base64) {
    int remainder = base64.length() % 4;
    return remainder == 0 ? base64 : base64 + "=".repeat(4 - remainder);
  }

  private static String unreadable(String text) {
    return "not a SHA-256 fingerprint (SHA256:<base64>, or 32 bytes in hex): " + text.strip();
  }
}
