package dev.parley.client.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.ConfigFactory;
import dev.parley.transport.Fingerprint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KnownServersTest {

  private static final Fingerprint ONE = Fingerprint.parse("SHA256:" + "A".repeat(43));
  private static final Fingerprint TWO = Fingerprint.parse("SHA256:" + "B".repeat(43));

  @TempDir Path directory;

  @Test
  void shouldFindNothingWithoutAFile() throws Exception {
    KnownServers known = new KnownServers(directory.resolve("absent"));

    assertEquals(Optional.empty(), known.find("127.0.0.1:3331").entry());
    assertTrue(Files.notExists(directory.resolve("absent")), "a look-up creates nothing");
  }

  @Test
  void shouldCreateTheDirectoryForItsOwnerAndTheFileOnTheFirstServer() throws Exception {
    Path home = directory.resolve("home").resolve(".parley");
    KnownServers known = new KnownServers(home);

    known.add("127.0.0.1:3331", ONE);

    assertEquals(List.of("127.0.0.1:3331 " + ONE), Files.readAllLines(known.file()));
    assertEquals(home.resolve("known_servers"), known.file());
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(home)));
  }

  @Test
  void shouldFindEachServerAtItsLine() throws Exception {
    KnownServers known = new KnownServers(directory);
    known.add("127.0.0.1:3331", ONE);
    known.add("chat.example.org:3331", TWO);

    assertEquals(Optional.of(new KnownServers.Entry(1, ONE)), known.find("127.0.0.1:3331").entry());
    assertEquals(
        Optional.of(new KnownServers.Entry(2, TWO)), known.find("chat.example.org:3331").entry());
    assertEquals(Optional.empty(), known.find("127.0.0.1:3332").entry(), "another port");
    assertEquals(Optional.empty(), known.find("localhost:3331").entry(), "another name");
  }

  @Test
  void shouldSkipCommentsBlankLinesAndReportLinesItCannotRead() throws Exception {
    Path file = directory.resolve(KnownServers.FILE_NAME);
    Files.writeString(
        file,
        "# servers I have met\n"
            + "\n"
            + "127.0.0.1:3331\n"
            + "127.0.0.1:3331 SHA256:not-a-fingerprint\n"
            + "127.0.0.1:3331 "
            + ONE
            + "\n");
    KnownServers known = new KnownServers(directory);

    KnownServers.Lookup lookup = known.find("127.0.0.1:3331");

    assertEquals(Optional.of(new KnownServers.Entry(5, ONE)), lookup.entry());
    assertEquals(
        List.of(3, 4), lookup.problems().stream().map(KnownServers.Problem::line).toList());
  }

  @Test
  void shouldNotJoinANewLineToALastLineWithoutLineFeed() throws Exception {
    Path file = directory.resolve(KnownServers.FILE_NAME);
    Files.writeString(file, "127.0.0.1:3331 " + ONE);
    KnownServers known = new KnownServers(directory);

    known.add("127.0.0.1:4000", TWO);

    assertEquals(
        List.of("127.0.0.1:3331 " + ONE, "127.0.0.1:4000 " + TWO), Files.readAllLines(file));
    assertEquals(Optional.of(new KnownServers.Entry(2, TWO)), known.find("127.0.0.1:4000").entry());
  }

  @Test
  void shouldNameAServerAsTypedWithIpv6InBrackets() {
    assertEquals("127.0.0.1:3331", KnownServers.key("127.0.0.1", 3331));
    assertEquals("chat.example.org:443", KnownServers.key("chat.example.org", 443));
    assertEquals("[::1]:3331", KnownServers.key("::1", 3331));
  }

  @Test
  void shouldLiveInParleyHomeWhenItIsSet() {
    TlsSettings settings =
        TlsSettings.fromConfig(
            ConfigFactory.parseMap(Map.of("parley.client.home", directory.toString()))
                .withFallback(ConfigFactory.load()));
    assertEquals(directory, settings.home());

    assumeTrue(System.getenv("PARLEY_HOME") == null, "PARLEY_HOME is set for this run");
    TlsSettings byDefault = TlsSettings.fromConfig(ConfigFactory.load());
    assertEquals(
        Path.of(System.getProperty("user.home"), ".parley"),
        byDefault.home(),
        "the test runs without PARLEY_HOME");
  }
}
