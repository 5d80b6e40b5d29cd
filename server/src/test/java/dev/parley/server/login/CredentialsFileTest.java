package dev.parley.server.login;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialsFileTest {

  @TempDir Path dir;

  @Test
  void shouldReadOneAccountPerLineInFileOrder() throws IOException {
    CredentialsFile.Loaded loaded = read("yoda wise@!man\nhans falcon*solo\n");

    assertEquals(List.of(), loaded.problems());
    assertEquals(
        List.of(Map.entry("yoda", "wise@!man"), Map.entry("hans", "falcon*solo")),
        List.copyOf(loaded.passwords().entrySet()));
  }

  @Test
  void shouldReadALastLineWithoutALineFeed() throws IOException {
    CredentialsFile.Loaded loaded = read("hans falcon*solo\nyoda wise@!man");

    assertEquals(Map.of("hans", "falcon*solo", "yoda", "wise@!man"), loaded.passwords());
  }

  @Test
  void shouldSkipBlankLinesSilently() throws IOException {
    CredentialsFile.Loaded loaded = read("\nhans falcon*solo\n   \n\t\n\nyoda wise@!man\n\n");

    assertEquals(List.of(), loaded.problems());
    assertEquals(Map.of("hans", "falcon*solo", "yoda", "wise@!man"), loaded.passwords());
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

    CredentialsFile.Loaded loaded = CredentialsFile.read(file);

    assertEquals(
        List.of(
            file + ":2: expected 'username password'",
            file + ":4: expected 'username password'",
            file + ":5: expected 'username password'",
            file + ":6: expected 'username password'",
            file + ":7: expected 'username password'"),
        loaded.problems());
    assertEquals(Map.of("hans", "falcon*solo", "yoda", "wise@!man"), loaded.passwords());
  }

  @Test
  void shouldSkipALineWhoseUsernameTheProtocolCannotCarry() throws IOException {
    Path file =
        write(
            String.join(
                "\n",
                "x".repeat(64) + " longest",
                "x".repeat(65) + " too-long",
                "no\u00a0break pass",
                "bell\u0007 pass",
                // (An unpaired surrogate cannot be written in UTF-8: a file cannot hold one.)
                "next\u0085line pass",
                "yoda wise@!man"));

    CredentialsFile.Loaded loaded = CredentialsFile.read(file);

    String problem =
        ": invalid username (1 to 64 characters, without whitespace, control characters or"
            + " unpaired surrogates)";
    assertEquals(
        List.of(
            file + ":2" + problem,
            file + ":3" + problem,
            file + ":4" + problem,
            file + ":5" + problem),
        loaded.problems());
    assertEquals(Map.of("x".repeat(64), "longest", "yoda", "wise@!man"), loaded.passwords());
  }

  @Test
  void shouldKeepTheFirstOfDuplicateUsernamesAndReportTheOthers() throws IOException {
    Path file = write("hans falcon*solo\nyoda wise@!man\nhans other\n");

    CredentialsFile.Loaded loaded = CredentialsFile.read(file);

    assertEquals(List.of(file + ":3: duplicate username 'hans' ignored"), loaded.problems());
    assertEquals("falcon*solo", loaded.passwords().get("hans"));
  }

  @Test
  void shouldReadAFileWithWindowsLineEndings() throws IOException {
    CredentialsFile.Loaded loaded = read("hans falcon*solo\r\nyoda wise@!man\r\n\r\n");

    assertEquals(List.of(), loaded.problems());
    // The carriage return is not part of the password.
    assertEquals(Map.of("hans", "falcon*solo", "yoda", "wise@!man"), loaded.passwords());
  }

  @Test
  void shouldIgnoreAByteOrderMark() throws IOException {
    CredentialsFile.Loaded loaded = read("\uFEFFhans falcon*solo\nyoda wise@!man\n");

    assertEquals(Map.of("hans", "falcon*solo", "yoda", "wise@!man"), loaded.passwords());
  }

  @Test
  void shouldReadUtf8AndKeepCase() throws IOException {
    CredentialsFile.Loaded loaded = read("jörg pässwörd✓\nJörg Pässwörd✓\n");

    assertEquals(Map.of("jörg", "pässwörd✓", "Jörg", "Pässwörd✓"), loaded.passwords());
  }

  @Test
  void shouldFailOnAMissingFile() {
    assertThrows(NoSuchFileException.class, () -> CredentialsFile.read(dir.resolve("missing.txt")));
  }

  @Test
  void shouldBundleTheFiveAccountsOfTheReferenceRun() {
    CredentialsFile.Loaded demo = CredentialsFile.readDemo();

    assertEquals(List.of(), demo.problems());
    assertEquals(
        Map.of(
            "hans", "falcon*solo",
            "yoda", "wise@!man",
            "vader", "sithlord**",
            "r2d2", "do*!*beep",
            "luke", "r2d2&c3p0"),
        demo.passwords());
  }

  @Test
  void shouldNeverShowThePasswordsAndNotShareThemForChange() {
    Map<String, String> passwords = new LinkedHashMap<>();
    passwords.put("hans", "falcon*solo");
    CredentialsFile.Loaded loaded = new CredentialsFile.Loaded(passwords, List.of());
    passwords.put("bob", "added later");

    assertEquals("Loaded[users=[hans], problems=[]]", loaded.toString());
    assertEquals(Map.of("hans", "falcon*solo"), loaded.passwords());
    assertThrows(
        UnsupportedOperationException.class, () -> loaded.passwords().put("eve", "secret"));
  }

  private CredentialsFile.Loaded read(String content) throws IOException {
    return CredentialsFile.read(write(content));
  }

  private Path write(String content) throws IOException {
    Path file = Files.createTempFile(dir, "credentials", ".txt");
    Files.write(file, content.getBytes(StandardCharsets.UTF_8));
    return file;
  }
}
