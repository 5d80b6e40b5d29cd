package dev.parley.server.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccountsTest {

  @TempDir Path dir;

  @Test
  void shouldReadOneAccountPerLine() throws IOException {
    Accounts.Loaded loaded = read("hans falcon*solo\nyoda wise@!man\n");

    assertEquals(List.of(), loaded.problems());
    Accounts accounts = loaded.accounts();
    assertEquals(Set.of("hans", "yoda"), accounts.usernames());
    assertEquals(2, accounts.size());
    assertTrue(accounts.exists("hans"));
    assertTrue(accounts.passwordMatches("hans", "falcon*solo"));
    assertTrue(accounts.passwordMatches("yoda", "wise@!man"));
  }

  @Test
  void shouldReadALastLineWithoutALineFeed() throws IOException {
    Accounts accounts = read("hans falcon*solo\nyoda wise@!man").accounts();

    assertTrue(accounts.passwordMatches("yoda", "wise@!man"));
  }

  @Test
  void shouldSkipBlankLinesSilently() throws IOException {
    Accounts.Loaded loaded = read("\nhans falcon*solo\n   \n\t\n\nyoda wise@!man\n\n");

    assertEquals(List.of(), loaded.problems());
    assertEquals(Set.of("hans", "yoda"), loaded.accounts().usernames());
  }

  @Test
  void shouldReportEveryMalformedLineWithItsNumberAndKeepTheRest() throws IOException {
    Path file =
        write(
            String.join(
                "\n",
                "hans falcon*solo",
                "justaname",
                "",
                " leading space",
                "trailing ",
                "too many fields",
                "tab\tseparated",
                "yoda wise@!man"));

    Accounts.Loaded loaded = Accounts.read(file);

    assertEquals(
        List.of(
            file + ":2: expected 'username password'",
            file + ":4: expected 'username password'",
            file + ":5: expected 'username password'",
            file + ":6: expected 'username password'",
            file + ":7: expected 'username password'"),
        loaded.problems());
    assertEquals(Set.of("hans", "yoda"), loaded.accounts().usernames());
  }

  @Test
  void shouldKeepTheFirstOfDuplicateUsernamesAndReportTheOthers() throws IOException {
    Path file = write("hans falcon*solo\nyoda wise@!man\nhans other\n");

    Accounts.Loaded loaded = Accounts.read(file);

    assertEquals(List.of(file + ":3: duplicate username 'hans' ignored"), loaded.problems());
    assertTrue(loaded.accounts().passwordMatches("hans", "falcon*solo"));
    assertFalse(loaded.accounts().passwordMatches("hans", "other"));
  }

  @Test
  void shouldReadAFileWithWindowsLineEndings() throws IOException {
    Accounts.Loaded loaded = read("hans falcon*solo\r\nyoda wise@!man\r\n\r\n");

    assertEquals(List.of(), loaded.problems());
    assertTrue(loaded.accounts().passwordMatches("hans", "falcon*solo"));
    assertTrue(loaded.accounts().passwordMatches("yoda", "wise@!man"));
    assertFalse(loaded.accounts().passwordMatches("yoda", "wise@!man\r"));
  }

  @Test
  void shouldIgnoreAByteOrderMark() throws IOException {
    Accounts accounts = read("\uFEFFhans falcon*solo\nyoda wise@!man\n").accounts();

    assertEquals(Set.of("hans", "yoda"), accounts.usernames());
  }

  @Test
  void shouldReadUtf8() throws IOException {
    Accounts accounts = read("jörg pässwörd✓\n").accounts();

    assertTrue(accounts.passwordMatches("jörg", "pässwörd✓"));
    assertFalse(accounts.passwordMatches("jorg", "pässwörd✓"));
  }

  @Test
  void shouldFailOnAMissingFile() {
    assertThrows(NoSuchFileException.class, () -> Accounts.read(dir.resolve("missing.txt")));
  }

  @Test
  void shouldBundleTheFiveAccountsOfTheReferenceRun() {
    Accounts.Loaded demo = Accounts.readDemo();

    assertEquals(List.of(), demo.problems());
    Accounts accounts = demo.accounts();
    assertEquals(Set.of("hans", "yoda", "vader", "r2d2", "luke"), accounts.usernames());
    assertTrue(accounts.passwordMatches("hans", "falcon*solo"));
    assertTrue(accounts.passwordMatches("yoda", "wise@!man"));
    assertTrue(accounts.passwordMatches("vader", "sithlord**"));
    assertTrue(accounts.passwordMatches("r2d2", "do*!*beep"));
    assertTrue(accounts.passwordMatches("luke", "r2d2&c3p0"));
  }

  @Test
  void shouldMatchOnlyTheExactPassword() {
    Accounts accounts = Accounts.of(Map.of("hans", "falcon*solo"));

    assertTrue(accounts.passwordMatches("hans", "falcon*solo"));
    // Compared whole, whatever the lengths (a constant-time comparison of unequal lengths).
    assertFalse(accounts.passwordMatches("hans", "falcon*sol"));
    assertFalse(accounts.passwordMatches("hans", "falcon*solo!"));
    assertFalse(accounts.passwordMatches("hans", "Falcon*solo"));
    assertFalse(accounts.passwordMatches("hans", ""));
    // No account, no match; and usernames are case-sensitive.
    assertFalse(accounts.passwordMatches("bob", "falcon*solo"));
    assertFalse(accounts.passwordMatches("Hans", "falcon*solo"));
    assertFalse(accounts.exists("Hans"));
  }

  @Test
  void shouldNotShareItsUsernamesForChange() {
    Accounts accounts = Accounts.of(Map.of("hans", "falcon*solo"));

    assertThrows(UnsupportedOperationException.class, () -> accounts.usernames().add("bob"));
  }

  private Accounts.Loaded read(String content) throws IOException {
    return Accounts.read(write(content));
  }

  private Path write(String content) throws IOException {
    Path file = Files.createTempFile(dir, "credentials", ".txt");
    Files.write(file, content.getBytes(StandardCharsets.UTF_8));
    return file;
  }
}
