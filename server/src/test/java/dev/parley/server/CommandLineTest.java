package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.server.CommandLine.Invocation;
import dev.parley.server.CommandLine.UsageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandLineTest {

  @Test
  void shouldRunWithTheDefaultsWhenGivenNothing() throws UsageException {
    Invocation invocation = CommandLine.parse();

    assertEquals(new Invocation(false, Map.of(), Optional.empty(), Optional.empty()), invocation);
  }

  @Test
  void shouldTurnThePositionalArgumentsIntoOverrides() throws UsageException {
    Invocation invocation = CommandLine.parse("4000", "30", "120");

    assertEquals(
        Map.of(
            "parley.server.port", 4000,
            "parley.server.block-duration", "30s",
            "parley.server.idle-timeout", "120s"),
        invocation.overrides());
    assertFalse(invocation.help());
  }

  @Test
  void shouldAcceptFewerPositionalArguments() throws UsageException {
    assertEquals(Map.of("parley.server.port", 0), CommandLine.parse("0").overrides());
    assertEquals(
        Map.of("parley.server.port", 65_535, "parley.server.block-duration", "1s"),
        CommandLine.parse("65535", "1").overrides());
  }

  @Test
  void shouldMakeThePositionalArgumentsTheServersSettings() throws UsageException {
    ServerSettings settings =
        ServerSettings.fromConfig(Main.loadConfig(CommandLine.parse("4000", "30", "120")));

    assertEquals(4000, settings.port());
    assertEquals(Duration.ofSeconds(30), settings.blockDuration());
    assertEquals(Duration.ofSeconds(120), settings.idleTimeout());
  }

  @Test
  void shouldTakeOptionsAnywhereAmongThePositionalArguments() throws UsageException {
    Invocation invocation =
        CommandLine.parse(
            "--host",
            "0.0.0.0",
            "4000",
            "--credentials",
            "accounts.txt",
            "30",
            "--config",
            "parley.conf",
            "120");

    assertEquals(
        Map.of(
            "parley.server.host", "0.0.0.0",
            "parley.server.port", 4000,
            "parley.server.block-duration", "30s",
            "parley.server.idle-timeout", "120s",
            "parley.server.credentials-file", "accounts.txt"),
        invocation.overrides());
    assertEquals(Optional.of(Path.of("parley.conf")), invocation.configFile());
    assertEquals(Optional.of(Path.of("accounts.txt")), invocation.credentialsFile());
  }

  @Test
  void shouldLayerTheConfigFileUnderTheCommandLine(@TempDir Path dir)
      throws IOException, UsageException {
    Path file = dir.resolve("parley.conf");
    Files.writeString(
        file, "parley.server {\n  port = 5000\n  max-connections = 7\n  block-duration = 90s\n}\n");

    ServerSettings settings =
        ServerSettings.fromConfig(
            Main.loadConfig(CommandLine.parse("4000", "--config", file.toString())));

    assertEquals(4000, settings.port());
    assertEquals(7, settings.maxConnections());
    assertEquals(Duration.ofSeconds(90), settings.blockDuration());
  }

  @Test
  void shouldRefuseAConfigFileThatCannotBeRead(@TempDir Path dir) throws UsageException {
    Path missing = dir.resolve("missing.conf");
    Invocation invocation = CommandLine.parse("--config", missing.toString());

    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> Main.loadConfig(invocation));
    assertEquals("cannot read config file " + missing, error.getMessage());
  }

  @Test
  void shouldAskForHelpWithEitherSpellingWhateverElseIsGiven() throws UsageException {
    Invocation help = new Invocation(true, Map.of(), Optional.empty(), Optional.empty());

    assertEquals(help, CommandLine.parse("-h"));
    assertEquals(help, CommandLine.parse("--help"));
    assertEquals(help, CommandLine.parse("4000", "--host", "0.0.0.0", "--help", "extra", "args"));
    assertTrue(
        CommandLine.USAGE.startsWith("Usage: parley-server [server_port block_duration timeout]"));
  }

  @Test
  void shouldRefuseAnUnknownOption() {
    assertUsageError("unknown option --verbose", "--verbose");
    assertUsageError("unknown option --host=0.0.0.0", "--host=0.0.0.0");
  }

  @Test
  void shouldRefuseAnOptionWithoutItsValue() {
    assertUsageError("--host needs a value", "--host");
    assertUsageError("--credentials needs a value", "4000", "--credentials");
    assertUsageError("--config needs a value", "--config");
  }

  @Test
  void shouldRefuseAPortThatIsNotAWholeNumberInRange() {
    assertUsageError("server_port must be a whole number, not 'abc'", "abc");
    assertUsageError("server_port must be a whole number, not '80.5'", "80.5");
    assertUsageError("server_port must be between 0 and 65535, not 65536", "65536");
  }

  @Test
  void shouldRefuseDurationsThatAreNotPositiveWholeSeconds() {
    assertUsageError("block_duration must be between 1 and 2147483647, not 0", "4000", "0");
    assertUsageError("block_duration must be a whole number, not '1m'", "4000", "1m");
    assertUsageError("timeout must be between 1 and 2147483647, not 0", "4000", "30", "0");
    assertUsageError("timeout must be a whole number, not ''", "4000", "30", "");
  }

  @Test
  void shouldRefuseAFourthPositionalArgument() {
    assertUsageError("unexpected argument 7", "4000", "30", "120", "7");
  }

  @Test
  void shouldReadANegativeNumberAsAnOutOfRangeArgument() {
    assertUsageError("server_port must be between 0 and 65535, not -1", "-1");
  }

  @Test
  void shouldReportANumberTooLongForAnIntAsOutOfRange() {
    assertUsageError(
        "timeout must be between 1 and 2147483647, not 99999999999", "1", "1", "99999999999");
  }

  @Test
  void shouldNotTakeTheNextOptionAsAnOptionsValue() {
    assertUsageError("--host needs a value", "--host", "--help");
  }

  private static void assertUsageError(String message, String... args) {
    UsageException error = assertThrows(UsageException.class, () -> CommandLine.parse(args));
    assertEquals(message, error.getMessage());
  }
}
