package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.CoordinatedShutdown;
import com.typesafe.config.Config;
import dev.parley.server.CommandLine.AdminAction;
import dev.parley.server.CommandLine.Invocation;
import dev.parley.server.CommandLine.UsageException;
import dev.parley.server.cluster.ClusterSettings;
import dev.parley.server.cluster.ClusterSettings.SeedNode;
import dev.parley.server.http.HttpSettings;
import dev.parley.server.store.StoreSettings;
import dev.parley.server.tls.TlsSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandLineTest {

  @Test
  void shouldRunWithTheDefaultsWhenGivenNothing() throws UsageException {
    Invocation invocation = CommandLine.parse();

    assertEquals(
        new Invocation(false, Map.of(), Optional.empty(), Optional.empty(), Optional.empty()),
        invocation);
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
    Invocation help =
        new Invocation(true, Map.of(), Optional.empty(), Optional.empty(), Optional.empty());

    assertEquals(help, CommandLine.parse("-h"));
    assertEquals(help, CommandLine.parse("--help"));
    assertEquals(help, CommandLine.parse("4000", "--host", "0.0.0.0", "--help", "extra", "args"));
    assertTrue(
        CommandLine.USAGE.startsWith("Usage: parley-server [server_port block_duration timeout]"));
  }

  // ---- the store ----

  @Test
  void shouldTurnTheStoreOptionsIntoOverrides() throws UsageException {
    Invocation invocation =
        CommandLine.parse(
            "4000", "--data-dir", "/srv/parley", "--db-url", "jdbc:postgresql://db/parley");

    assertEquals(
        Map.of(
            "parley.server.port", 4000,
            "parley.server.store.data-dir", "/srv/parley",
            "parley.server.store.url", "jdbc:postgresql://db/parley"),
        invocation.overrides());
  }

  @Test
  void shouldMakeTheStoreOptionsTheStoresSettings(@TempDir Path dir) throws UsageException {
    StoreSettings embedded =
        StoreSettings.fromConfig(Main.loadConfig(CommandLine.parse("--data-dir", dir.toString())));
    StoreSettings postgres =
        StoreSettings.fromConfig(
            Main.loadConfig(CommandLine.parse("--db-url", "jdbc:postgresql://db:5432/parley")));

    assertEquals(dir, embedded.dataDir());
    assertFalse(postgres.embedded());
    assertEquals("jdbc:postgresql://db:5432/parley", postgres.jdbcUrl());
  }

  @Test
  void shouldRefuseAStoreOptionWithoutItsValue() {
    assertUsageError("--data-dir needs a value", "--data-dir");
    assertUsageError("--db-url needs a value", "4000", "--db-url");
    assertUsageError("--db-url needs a value", "--db-url", "--data-dir", "data");
  }

  // ---- account commands ----

  @Test
  void shouldTurnTheTlsOptionsIntoTheTlsSettings(@TempDir Path dir) throws UsageException {
    Invocation invocation =
        CommandLine.parse(
            "--tls-cert", dir.resolve("fullchain.pem").toString(),
            "--tls-key", dir.resolve("privkey.pem").toString());

    TlsSettings tls = TlsSettings.fromConfig(Main.loadConfig(invocation));
    assertTrue(tls.enabled());
    assertEquals(Optional.of(dir.resolve("fullchain.pem")), tls.certificate());
    assertEquals(Optional.of(dir.resolve("privkey.pem")), tls.privateKey());
    assertFalse(tls.selfSigned());
  }

  @Test
  void shouldUseTlsWithItsOwnCertificateUnlessToldPlaintext() throws UsageException {
    TlsSettings byDefault = TlsSettings.fromConfig(Main.loadConfig(CommandLine.parse()));
    TlsSettings plaintext =
        TlsSettings.fromConfig(Main.loadConfig(CommandLine.parse("--plaintext")));

    assertTrue(byDefault.enabled());
    assertTrue(byDefault.selfSigned());
    assertFalse(plaintext.enabled());
  }

  @Test
  void shouldOpenTheHttpPortOnlyWhenAsked() throws UsageException {
    HttpSettings byDefault = HttpSettings.fromConfig(Main.loadConfig(CommandLine.parse()));
    HttpSettings asked =
        HttpSettings.fromConfig(
            Main.loadConfig(CommandLine.parse("--http-port", "0", "--host", "0.0.0.0")));

    assertEquals(OptionalInt.empty(), byDefault.port());
    assertEquals(OptionalInt.of(0), asked.port());
    // The HTTP port listens where the clients' port does unless told otherwise.
    assertEquals("0.0.0.0", asked.host());
    assertUsageError("--http-port must be between 0 and 65535, not 70000", "--http-port", "70000");
    assertUsageError("--http-port needs a value", "--http-port");
  }

  @Test
  void shouldRefuseACertificateWithoutItsKey() throws UsageException {
    Invocation invocation = CommandLine.parse("--tls-cert", "fullchain.pem");

    IllegalArgumentException error =
        assertThrows(
            IllegalArgumentException.class,
            () -> TlsSettings.fromConfig(Main.loadConfig(invocation)));
    assertTrue(error.getMessage().contains("--tls-key"), error.getMessage());
  }

  @Test
  void shouldParseEveryAccountCommand() throws UsageException {
    assertEquals(admin(AdminAction.ADD, "hans"), CommandLine.parse("user", "add", "hans"));
    assertEquals(admin(AdminAction.PASSWD, "hans"), CommandLine.parse("user", "passwd", "hans"));
    assertEquals(admin(AdminAction.REMOVE, "hans"), CommandLine.parse("user", "remove", "hans"));
    assertEquals(
        new Invocation(
            false,
            Map.of(),
            Optional.empty(),
            Optional.empty(),
            Optional.of(new CommandLine.Admin(AdminAction.LIST, Optional.empty()))),
        CommandLine.parse("user", "list"));
  }

  @Test
  void shouldTakeTheStoreOptionsAfterAnAccountCommand() throws UsageException {
    Invocation invocation =
        CommandLine.parse(
            "user", "add", "hans", "--data-dir", "/srv/parley", "--config", "parley.conf");

    assertEquals(Map.of("parley.server.store.data-dir", "/srv/parley"), invocation.overrides());
    assertEquals(Optional.of(Path.of("parley.conf")), invocation.configFile());
    assertEquals(
        Optional.of(new CommandLine.Admin(AdminAction.ADD, Optional.of("hans"))),
        invocation.admin());
    assertEquals(
        Map.of("parley.server.store.url", "jdbc:postgresql://db/parley"),
        CommandLine.parse("user", "list", "--db-url", "jdbc:postgresql://db/parley").overrides());
  }

  @Test
  void shouldGiveHelpForAnAccountCommand() throws UsageException {
    Invocation invocation = CommandLine.parse("user", "remove", "hans", "--help");

    assertTrue(invocation.help());
    assertEquals(
        Optional.of(new CommandLine.Admin(AdminAction.REMOVE, Optional.of("hans"))),
        invocation.admin());
  }

  @Test
  void shouldRefuseAnIncompleteOrUnknownAccountCommand() {
    assertUsageError("user needs one of add, passwd, remove, list", "user");
    assertUsageError("user needs one of add, passwd, remove, list", "user", "--data-dir", "d");
    assertUsageError("unknown user command delete", "user", "delete", "hans");
    assertUsageError("user add needs a NAME", "user", "add");
    assertUsageError("user passwd needs a NAME", "user", "passwd", "--data-dir", "d");
    assertUsageError("user remove needs a NAME", "user", "remove");
  }

  @Test
  void shouldRefuseAUsernameThatCouldNotBeAnAccount() {
    String message = "a username is 1 to 64 characters without spaces";
    assertUsageError(message, "user", "add", "han solo");
    assertUsageError(message, "user", "add", "x".repeat(65));
    assertUsageError(message, "user", "add", "");
    assertUsageError(message, "user", "add", "tab\there");
    assertEquals(
        Optional.of("x".repeat(64)),
        assertDoesNotThrow(() -> CommandLine.parse("user", "add", "x".repeat(64)))
            .admin()
            .orElseThrow()
            .username());
  }

  @Test
  void shouldRefuseArgumentsAnAccountCommandDoesNotTake() {
    assertUsageError("unexpected argument hans", "user", "list", "hans");
    assertUsageError("unexpected argument 4000", "user", "add", "hans", "4000");
    assertUsageError("unexpected argument luke", "user", "remove", "hans", "luke");
    assertUsageError("unknown option --force", "user", "remove", "hans", "--force");
  }

  // ---- errors ----

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

  @Test
  void shouldTurnTheClusterOptionsIntoOverrides() throws UsageException {
    Invocation invocation =
        CommandLine.parse(
            "0",
            "60",
            "600",
            "--cluster-port",
            "2552",
            "--seed-nodes",
            "10.0.0.1:2551, [::1]:2551",
            "--cluster-host",
            "10.0.0.2",
            "--db-url",
            "jdbc:postgresql://db/parley");

    assertEquals(
        Map.of(
            "parley.server.port",
            0,
            "parley.server.block-duration",
            "60s",
            "parley.server.idle-timeout",
            "600s",
            "parley.server.cluster.enabled",
            true,
            "parley.server.cluster.port",
            2552,
            "parley.server.cluster.seed-nodes",
            List.of("10.0.0.1:2551", "[::1]:2551"),
            "parley.server.cluster.host",
            "10.0.0.2",
            "parley.server.store.url",
            "jdbc:postgresql://db/parley"),
        invocation.overrides());
  }

  @Test
  void shouldMakeTheClusterOptionsTheClusterSettings() throws UsageException {
    Config config =
        Main.loadConfig(
            CommandLine.parse(
                "--cluster-port", "2552", "--seed-nodes", "127.0.0.1:2551,127.0.0.1:2552"));

    ClusterSettings cluster = ClusterSettings.fromConfig(config);

    assertTrue(cluster.enabled());
    assertEquals(2552, cluster.port());
    assertEquals(
        List.of(new SeedNode("127.0.0.1", 2551), new SeedNode("127.0.0.1", 2552)),
        cluster.seedNodes());
    assertFalse(ClusterSettings.fromConfig(Main.loadConfig(CommandLine.parse())).enabled());
  }

  @Test
  void shouldRefuseAClusterWithoutASharedDatabase() throws UsageException {
    assertEquals(
        Optional.of(ClusterSettings.NEEDS_SHARED_DATABASE),
        refusal("4000", "--cluster-port", "2551"));
    assertEquals(
        Optional.of(ClusterSettings.NEEDS_SHARED_DATABASE),
        refusal("--cluster-port", "2552", "--seed-nodes", "127.0.0.1:2551"));
    assertEquals(
        Optional.empty(),
        refusal("--cluster-port", "2551", "--db-url", "jdbc:postgresql://db/parley"));
  }

  @Test
  void shouldRefuseSeedNodesWithoutAClusterPort() throws UsageException {
    assertEquals(
        Optional.of(ClusterSettings.SEEDS_NEED_CLUSTER_PORT),
        refusal("--seed-nodes", "127.0.0.1:2551", "--db-url", "jdbc:postgresql://db/parley"));
  }

  @Test
  void shouldLeaveAStandaloneNodeAsItWas() throws UsageException {
    assertEquals(Optional.empty(), refusal());
    assertEquals(Optional.empty(), refusal("4000", "--db-url", "jdbc:postgresql://db/parley"));
  }

  @Test
  void shouldRefuseABadClusterPortOrSeedNode() {
    assertUsageError("--cluster-port needs a value", "--cluster-port");
    assertUsageError("--cluster-port must be between 1 and 65535, not 0", "--cluster-port", "0");
    assertUsageError("--cluster-port must be a whole number, not 'x'", "--cluster-port", "x");
    assertUsageError("--seed-nodes: a seed node is HOST:PORT, not 'db'", "--seed-nodes", "db");
    assertUsageError(
        "--seed-nodes: a seed node is HOST:PORT, not ''", "--seed-nodes", "127.0.0.1:2551,");
    assertUsageError(
        "--seed-nodes: a seed node's port must be between 1 and 65535, not 70000",
        "--seed-nodes",
        "h:70000");
    assertUsageError(
        "--seed-nodes: an IPv6 seed node goes in brackets, [ADDRESS]:PORT, not '::1:2551'",
        "--seed-nodes",
        "::1:2551");
    assertUsageError("--cluster-host needs a value", "--cluster-host", "--cluster-port", "1");
  }

  @Test
  void shouldExitForARestartWhenTheClusterRemovedTheNode() {
    assertEquals(0, Main.exitStatus(Optional.empty()));
    assertEquals(0, Main.exitStatus(Optional.of(CoordinatedShutdown.unknownReason())));
    assertEquals(0, Main.exitStatus(Optional.of(CoordinatedShutdown.clusterLeavingReason())));
    assertEquals(
        Guardian.EXIT_CORE_ACTOR_STOPPED,
        Main.exitStatus(Optional.of(Guardian.CORE_ACTOR_STOPPED)));
    assertEquals(
        Main.EXIT_REMOVED_FROM_CLUSTER,
        Main.exitStatus(Optional.of(CoordinatedShutdown.clusterDowningReason())));
    assertEquals(
        Main.EXIT_REMOVED_FROM_CLUSTER,
        Main.exitStatus(Optional.of(CoordinatedShutdown.clusterJoinUnsuccessfulReason())));
  }

  @Test
  void shouldExitAfterASignalWithTheStatusTheJvmWouldGive() {
    assertEquals(143, Main.exitStatus(Optional.of(new StopSignals.SignalReceived("TERM", 15))));
    assertEquals(130, Main.exitStatus(Optional.of(new StopSignals.SignalReceived("INT", 2))));
  }

  /** Why a node started with {@code args} would refuse to start, as Main checks it. */
  private static Optional<String> refusal(String... args) throws UsageException {
    Config config = Main.loadConfig(CommandLine.parse(args));
    return ClusterSettings.fromConfig(config).refusal(StoreSettings.fromConfig(config));
  }

  private static Invocation admin(AdminAction action, String username) {
    return new Invocation(
        false,
        Map.of(),
        Optional.empty(),
        Optional.empty(),
        Optional.of(new CommandLine.Admin(action, Optional.of(username))));
  }

  private static void assertUsageError(String message, String... args) {
    UsageException error = assertThrows(UsageException.class, () -> CommandLine.parse(args));
    assertEquals(message, error.getMessage());
  }
}
