package dev.parley.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import dev.parley.client.server.ServerAddress;
import dev.parley.client.tls.TlsSettings;
import dev.parley.transport.Fingerprint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

class CommandLineTest {

  @Test
  void shouldTakeTheServerAndOptionsInAnyOrder() throws Exception {
    CommandLine parsed =
        CommandLine.parse(
            new String[] {
              "--peer-port",
              "6000",
              "localhost",
              "--config",
              "extra.conf",
              "4000",
              "--peer-host",
              "10.0.0.5"
            });
    assertEquals(
        new CommandLine(
            false,
            List.of(new ServerAddress("localhost", 4000)),
            Optional.of(Path.of("extra.conf")),
            Optional.of("10.0.0.5"),
            Optional.of(6000),
            false,
            Optional.empty(),
            false,
            false),
        parsed);
  }

  @Test
  void shouldTakeTheTerminalOptions() throws Exception {
    CommandLine parsed =
        CommandLine.parse(new String[] {"localhost", "4000", "--no-color", "--timestamps"});
    assertTrue(parsed.noColor());
    assertTrue(parsed.timestamps());
    assertEquals(false, Main.configuration(parsed).getBoolean("parley.client.terminal.colors"));
    assertEquals(true, Main.configuration(parsed).getBoolean("parley.client.terminal.timestamps"));
  }

  @Test
  void shouldTakeSeveralServersInTheirOrder() throws Exception {
    CommandLine parsed =
        CommandLine.parse(
            new String[] {"node1.example:4000,10.0.0.2:4001,[::1]:4002", "--plaintext"});

    assertEquals(
        List.of(
            new ServerAddress("node1.example", 4000),
            new ServerAddress("10.0.0.2", 4001),
            new ServerAddress("::1", 4002)),
        parsed.servers());
    assertTrue(parsed.plaintext());
  }

  @Test
  void shouldTakeOneServerInEitherForm() throws Exception {
    List<ServerAddress> one = List.of(new ServerAddress("localhost", 4000));

    assertEquals(one, CommandLine.parse(new String[] {"localhost:4000"}).servers());
    assertEquals(one, CommandLine.parse(new String[] {"localhost", "4000"}).servers());
    // The classic form takes the host as it is, an IPv6 address without brackets included.
    assertEquals(
        List.of(new ServerAddress("::1", 4000)),
        CommandLine.parse(new String[] {"::1", "4000"}).servers());
    assertEquals(
        List.of(new ServerAddress("fe80::1%eth0", 4000)),
        CommandLine.parse(new String[] {"[fe80::1%eth0]:4000"}).servers());
  }

  @Test
  void shouldWriteAnIpv6ServerInBrackets() {
    assertEquals("[::1]:4000", new ServerAddress("::1", 4000).toString());
    assertEquals("localhost:4000", new ServerAddress("localhost", 4000).toString());
  }

  @Test
  void shouldDescribeBothFormsInTheUsage() {
    assertTrue(CommandLine.USAGE.contains("parley <server_host> <server_port> [options]"));
    assertTrue(CommandLine.USAGE.contains("parley HOST:PORT[,HOST:PORT...] [options]"));
  }

  @Test
  void shouldTakeTheTransportOptionsIntoTheTlsSettings() throws Exception {
    String fingerprint = "SHA256:" + "A".repeat(43);

    TlsSettings byDefault =
        TlsSettings.fromConfig(
            Main.configuration(CommandLine.parse(new String[] {"localhost", "4000"})));
    TlsSettings pinned =
        TlsSettings.fromConfig(
            Main.configuration(
                CommandLine.parse(
                    new String[] {"localhost", "4000", "--trust-fingerprint", fingerprint})));
    TlsSettings plaintext =
        TlsSettings.fromConfig(
            Main.configuration(
                CommandLine.parse(new String[] {"--plaintext", "localhost", "4000"})));

    assertTrue(byDefault.enabled());
    assertEquals(Optional.empty(), byDefault.trustFingerprint());
    assertEquals(Optional.of(Fingerprint.parse(fingerprint)), pinned.trustFingerprint());
    assertFalse(plaintext.enabled());
  }

  @Test
  void shouldReadAFingerprintInTheFormsToolsPrintIt() throws Exception {
    String colonHex = String.join(":", java.util.Collections.nCopies(32, "0F"));

    CommandLine parsed =
        CommandLine.parse(new String[] {"localhost", "4000", "--trust-fingerprint", colonHex});

    assertEquals(Optional.of(Fingerprint.parse(colonHex)), parsed.trustFingerprint());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "localhost 4000 --trust-fingerprint",
        "localhost 4000 --trust-fingerprint SHA256:nope",
        "localhost 4000 --plaintext --trust-fingerprint SHA256:"
            + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
      })
  void shouldRejectAnUnusableFingerprint(String line) {
    assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(line.split(" ")));
  }

  @Test
  void shouldAskForHelp() throws Exception {
    assertTrue(CommandLine.parse(new String[] {"--help"}).help());
    assertTrue(CommandLine.parse(new String[] {"localhost", "--help"}).help());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "localhost",
        "localhost 4000 extra",
        "localhost port",
        "localhost 0",
        "localhost 65536",
        "localhost 4000 --peer-port",
        "localhost 4000 --peer-port -1",
        "localhost 4000 --config",
        "localhost 4000 --verbose",
        "localhost:4000 extra:4001",
        "localhost",
        "localhost:",
        ":4000",
        "localhost:port",
        "localhost:0",
        "localhost:65536",
        "a:4000,",
        "a:4000,,b:4001",
        "a:4000,a:4000",
        "::1:4000",
        "[::1]",
        "[::1]4000",
        "[::1:4000",
        "[]:4000"
      })
  void shouldRejectUnusableCommandLines(String line) {
    String[] args = line.isEmpty() ? new String[0] : line.split(" ");
    assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(args));
  }

  @Test
  void shouldPrintUsageToStderrAndExitWithStatusTwo() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.run(
            new String[] {"localhost"},
            LoggerFactory.getLogger(CommandLineTest.class),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(ExitStatus.USAGE, status);
    assertEquals("", out.toString(StandardCharsets.UTF_8));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains(CommandLine.USAGE));
  }

  @Test
  void shouldPrintHelpToStdoutAndExitWithStatusZero() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.run(
            new String[] {"--help"},
            LoggerFactory.getLogger(CommandLineTest.class),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(ExitStatus.OK, status);
    assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: parley"));
    assertEquals("", err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void shouldRejectAMissingConfigFileWithStatusTwo(@TempDir Path dir) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        Main.run(
            new String[] {"localhost", "4000", "--config", dir.resolve("missing.conf").toString()},
            LoggerFactory.getLogger(CommandLineTest.class),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(ExitStatus.USAGE, status);
    assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("Error. Invalid configuration"));
  }

  @Test
  void shouldLayerOptionsOverTheConfigFileOverTheDefaults(@TempDir Path dir)
      throws IOException, CommandLine.UsageException {
    Path file = dir.resolve("extra.conf");
    Files.writeString(
        file,
        "parley.client { peer-port = 7000\n"
            + " peer-bind-host = \"10.1.1.1\"\n"
            + " close-timeout = 1s }\n");
    Config config =
        Main.configuration(
            CommandLine.parse(
                new String[] {
                  "localhost", "4000", "--config", file.toString(), "--peer-port", "7001"
                }));
    ClientSettings settings = ClientSettings.fromConfig(config);
    assertEquals(7001, settings.peerPort());
    assertEquals(Optional.of("10.1.1.1"), settings.peerBindHostOverride());
    assertEquals(Duration.ofSeconds(1), settings.closeTimeout());
    assertEquals(64 * 1024, settings.maxFrameBytes());
    assertEquals("akka.event.slf4j.Slf4jLogger", config.getStringList("akka.loggers").get(0));
  }
}
