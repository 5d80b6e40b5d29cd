package dev.parley.server.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PasswordHasherTest {

  private static final int ITERATIONS = 1_000;
  private static final String PASSWORD = "falcon*solo";

  /** pbkdf2-sha256$iterations$salt$hash, salt and hash in Base64 without padding. */
  private static final Pattern FORMAT =
      Pattern.compile("pbkdf2-sha256\\$(\\d+)\\$([A-Za-z0-9+/]+)\\$([A-Za-z0-9+/]+)");

  private final PasswordHasher hasher = new PasswordHasher(ITERATIONS);

  @Test
  void shouldWriteTheSchemeTheIterationsA16ByteSaltAndA256BitHash() {
    String hash = hasher.hash(PASSWORD);

    Matcher parts = FORMAT.matcher(hash);
    assertTrue(parts.matches(), hash);
    assertEquals(String.valueOf(ITERATIONS), parts.group(1));
    assertEquals(16, Base64.getDecoder().decode(parts.group(2)).length);
    assertEquals(32, Base64.getDecoder().decode(parts.group(3)).length);
    assertFalse(hash.contains(PASSWORD));
  }

  @Test
  void shouldSaltEveryHashDifferently() {
    String first = hasher.hash(PASSWORD);
    String second = hasher.hash(PASSWORD);

    assertNotEquals(first, second);
    assertNotEquals(salt(first), salt(second));
    assertTrue(hasher.verify(PASSWORD, first));
    assertTrue(hasher.verify(PASSWORD, second));
  }

  @Test
  void shouldVerifyOnlyTheExactPassword() {
    String hash = hasher.hash(PASSWORD);

    assertTrue(hasher.verify(PASSWORD, hash));
    assertFalse(hasher.verify("falcon*sol", hash));
    assertFalse(hasher.verify("falcon*solo!", hash));
    assertFalse(hasher.verify("Falcon*solo", hash));
    assertFalse(hasher.verify("", hash));
  }

  @Test
  void shouldVerifyUnicodePasswords() {
    String hash = hasher.hash("pässwörd✓");

    assertTrue(hasher.verify("pässwörd✓", hash));
    assertFalse(hasher.verify("password✓", hash));
  }

  @Test
  void shouldVerifyWithTheParametersStoredInTheHash() {
    String weaker = new PasswordHasher(ITERATIONS / 2).hash(PASSWORD);
    String stronger = new PasswordHasher(ITERATIONS * 2).hash(PASSWORD);

    assertTrue(hasher.verify(PASSWORD, weaker));
    assertTrue(hasher.verify(PASSWORD, stronger));
    // The iteration count is part of what is checked: changing it breaks the hash.
    assertFalse(
        hasher.verify(
            PASSWORD, weaker.replace("$" + ITERATIONS / 2 + "$", "$" + ITERATIONS + "$")));
  }

  @Test
  void shouldRejectAnythingThatIsNotAHashOfItsOwnFormat() {
    String hash = hasher.hash(PASSWORD);

    for (String garbage :
        new String[] {
          null,
          "",
          PASSWORD,
          "pbkdf2-sha256",
          "pbkdf2-sha256$1000$c2FsdA",
          "pbkdf2-sha1" + hash.substring("pbkdf2-sha256".length()),
          hash.replaceFirst("\\$\\d+\\$", "\\$many\\$"),
          hash.replaceFirst("\\$\\d+\\$", "\\$-5\\$"),
          hash.replaceFirst("\\$\\d+\\$", "\\$0\\$"),
          hash + "$extra",
          hash.substring(0, hash.lastIndexOf('$')) + "$not*base64",
          "pbkdf2-sha256$1000$$" + hash.substring(hash.lastIndexOf('$') + 1),
        }) {
      assertFalse(hasher.verify(PASSWORD, garbage), String.valueOf(garbage));
      assertTrue(hasher.needsRehash(garbage), String.valueOf(garbage));
    }
  }

  @Test
  void shouldAskForARehashOnlyOfHashesWithFewerIterations() {
    assertTrue(hasher.needsRehash(new PasswordHasher(ITERATIONS - 1).hash(PASSWORD)));
    assertFalse(hasher.needsRehash(hasher.hash(PASSWORD)));
    // Stronger than needed is fine: never lowered.
    assertFalse(hasher.needsRehash(new PasswordHasher(ITERATIONS + 1).hash(PASSWORD)));
  }

  @Test
  void shouldRefuseANonPositiveIterationCount() {
    assertThrows(IllegalArgumentException.class, () -> new PasswordHasher(0));
    assertThrows(IllegalArgumentException.class, () -> new PasswordHasher(-1));
  }

  private static String salt(String hash) {
    Matcher parts = FORMAT.matcher(hash);
    assertTrue(parts.matches(), hash);
    return parts.group(2);
  }
}
