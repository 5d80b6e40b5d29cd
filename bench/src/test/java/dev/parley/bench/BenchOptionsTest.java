package dev.parley.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.bench.client.Backoff;
import dev.parley.transport.Fingerprint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {

  @Test
  void shouldFillInDefaults() throws Exception {
    BenchOptions options = BenchOptions.parse("direct");
    assertEquals("127.0.0.1", options.host());
    assertEquals(3331, options.port());
    assertEquals(100, options.clients());
    assertEquals("bench", options.prefix());
    assertTrue(options.rate().isEmpty());
    assertEquals("max", options.rateText());
    assertEquals(16, options.window());
    assertEquals(64, options.payloadBytes());
    assertEquals(64, options.loginConcurrency());
    assertTrue(options.serverPids().isEmpty());
    assertEquals(List.of(new BenchOptions.Server("127.0.0.1", 3331)), options.servers());
  }

  @Test
  void shouldSpreadClientsOverSeveralServers() throws Exception {
    BenchOptions options =
        BenchOptions.parse(
            "direct",
            "--servers",
            "127.0.0.1:3331,node2.example:3332,[::1]:3333",
            "--server-pid",
            "41,42,43");
    assertEquals(
        List.of(
            new BenchOptions.Server("127.0.0.1", 3331),
            new BenchOptions.Server("node2.example", 3332),
            new BenchOptions.Server("::1", 3333)),
        options.servers());
    assertEquals("127.0.0.1:3331,node2.example:3332,[::1]:3333", options.serversText());
    assertEquals("127.0.0.1", options.host());
    assertEquals(3331, options.port());
    assertEquals(List.of(41L, 42L, 43L), options.serverPids());
    // --host and --port stay as they are for one server.
    BenchOptions one = BenchOptions.parse("login", "--host", "10.0.0.1", "--port", "4000");
    assertEquals(List.of(new BenchOptions.Server("10.0.0.1", 4000)), one.servers());
    assertEquals("10.0.0.1:4000", one.serversText());
    // The reconnect scenario takes --servers too (but still no --server-pid).
    assertEquals(2, BenchOptions.parse("reconnect", "--servers", "a:1,b:2").servers().size());
  }

  @Test
  void shouldRefuseServersThatCannotBeReached() {
    for (String[] args :
        List.of(
            new String[] {"direct", "--servers", "a:1,b:2", "--host", "c"},
            new String[] {"direct", "--servers", "a:1,b:2", "--port", "3"},
            new String[] {"direct", "--servers", "a:1,,b:2"},
            new String[] {"direct", "--servers", "a"},
            new String[] {"direct", "--servers", "a:"},
            new String[] {"direct", "--servers", ":1"},
            new String[] {"direct", "--servers", "a:0"},
            new String[] {"direct", "--servers", "a:x"},
            new String[] {"direct", "--servers", "a:1,a:1"},
            new String[] {"direct", "--server-pid", "1,x"},
            new String[] {"direct", "--server-pid", "1,1"},
            new String[] {"direct", "--server-pid", "1,"},
            new String[] {"direct", "--server-pid", "0"},
            new String[] {"reconnect", "--server-pid", "1,2"},
            new String[] {"credentials", "--out", "f", "--servers", "a:1"})) {
      assertThrows(
          BenchOptions.UsageException.class,
          () -> BenchOptions.parse(args),
          () -> String.join(" ", args));
    }
  }

  @Test
  void shouldTrustOneFingerprintPerServer() throws Exception {
    String first = "AB:".repeat(31) + "AB";
    String second = "CD:".repeat(31) + "CD";
    BenchOptions options =
        BenchOptions.parse(
            "direct", "--servers", "a:1,b:2", "--trust-fingerprint", first + "," + second);
    assertEquals(
        List.of(Fingerprint.parse(first), Fingerprint.parse(second)), options.trustFingerprints());
    assertTrue(
        BenchOptions.parse("direct", "--servers", "a:1,b:2").trustFingerprints().isEmpty(),
        "none given: any certificate, as with one server");
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("direct", "--servers", "a:1,b:2", "--trust-fingerprint", first));
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("direct", "--trust-fingerprint", first + "," + second));
  }

  @Test
  void shouldReadBothSpellingsOfAnOption() throws Exception {
    BenchOptions options =
        BenchOptions.parse(
            "fanout",
            "--rate=2500",
            "--clients",
            "2_000",
            "--senders",
            "4",
            "--json",
            "out.json",
            "--quiet",
            "--server-pid",
            "42");
    assertEquals(2500, options.rate().getAsDouble());
    assertEquals("2500", options.rateText());
    assertEquals(2000, options.clients());
    assertEquals(4, options.senders());
    assertEquals(Path.of("out.json"), options.json().orElseThrow());
    assertTrue(options.quiet());
    assertEquals(List.of(42L), options.serverPids());
  }

  @Test
  void shouldWaitForRestartsAndComeBackAsTheClientDoes() throws Exception {
    BenchOptions options = BenchOptions.parse("reconnect", "--clients", "4");
    assertEquals(1, options.restarts());
    assertEquals(600, options.durationSeconds());
    assertEquals(Backoff.CLIENT_DEFAULTS, options.backoff());
    assertEquals(4, options.probes(), "no more probes than users");
    assertEquals(0.2, options.probeIntervalSeconds());
    assertEquals(0, options.loginTimeoutSeconds(), "as the client: no timeout");
    assertTrue(options.probeIds().isEmpty());

    options =
        BenchOptions.parse(
            "reconnect",
            "--restarts",
            "3",
            "--backoff-min",
            "0.1",
            "--backoff-max",
            "1",
            "--backoff-random",
            "0",
            "--probes",
            "0",
            "--probe-ids",
            "/tmp/ids.txt");
    assertEquals(3, options.restarts());
    assertEquals(java.nio.file.Path.of("/tmp/ids.txt"), options.probeIds().orElseThrow());
    assertEquals(new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 0), options.backoff());
    assertEquals(0, options.probes());
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("reconnect", "--backoff-min", "2", "--backoff-max", "1"));
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("reconnect", "--clients", "5", "--probes", "6"));
    assertThrows(
        BenchOptions.UsageException.class, () -> BenchOptions.parse("reconnect", "--rate", "5"));
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("direct", "--probe-ids", "/tmp/ids.txt"));
  }

  @Test
  void shouldSpeakTlsTrustingAnyCertificateUnlessTold() throws Exception {
    BenchOptions options = BenchOptions.parse("login");
    assertEquals("tls", options.transport());
    assertTrue(options.trustFingerprints().isEmpty());
    assertEquals(BenchOptions.DEFAULT_TLS_WARM_UP, options.tlsWarmUp());
    assertEquals(0, BenchOptions.parse("login", "--tls-warmup", "0").tlsWarmUp());
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("login", "--plaintext", "--tls-warmup", "10"));

    assertEquals("plaintext", BenchOptions.parse("direct", "--plaintext").transport());
    // As OpenSSL prints it: read into the canonical form.
    String hex = "AB:".repeat(31) + "AB";
    assertEquals(
        List.of(Fingerprint.parse(hex)),
        BenchOptions.parse("idle", "--trust-fingerprint", hex).trustFingerprints());
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("login", "--trust-fingerprint", "SHA256:nope"));
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("login", "--plaintext", "--trust-fingerprint", hex));
    // Not for the credentials, which never connect.
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("credentials", "--out", "f", "--plaintext"));
  }

  @Test
  void shouldAskForHelp() throws Exception {
    assertNull(BenchOptions.parse("--help"));
    assertNull(BenchOptions.parse("direct", "--help"));
  }

  @Test
  void shouldRefuseWhatAScenarioDoesNotTake() {
    assertThrows(
        BenchOptions.UsageException.class, () -> BenchOptions.parse("login", "--rate", "5"));
    assertThrows(
        BenchOptions.UsageException.class, () -> BenchOptions.parse("idle", "--window", "5"));
    assertThrows(BenchOptions.UsageException.class, () -> BenchOptions.parse("credentials"));
    assertThrows(BenchOptions.UsageException.class, () -> BenchOptions.parse("direct", "--rate"));
    assertThrows(
        BenchOptions.UsageException.class, () -> BenchOptions.parse("direct", "--rate", "-3"));
    assertThrows(
        BenchOptions.UsageException.class, () -> BenchOptions.parse("direct", "--clients", "1"));
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("fanout", "--clients", "3", "--senders", "4"));
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("direct", "--prefix", "has space"));
    assertThrows(
        BenchOptions.UsageException.class,
        () -> BenchOptions.parse("direct", "--port", "1", "--port", "2"));
  }

  @Test
  void shouldDoubleOrStepThroughASweep() throws Exception {
    assertEquals(
        List.of(5000.0, 10000.0, 20000.0, 40000.0, 50000.0),
        BenchOptions.parse("sweep", "--from", "5000", "--to", "50000").sweepRates());
    assertEquals(
        List.of(10000.0, 30000.0, 50000.0),
        BenchOptions.parse("sweep", "--from", "10000", "--step", "20000", "--to", "60000")
            .sweepRates());
    assertEquals(
        List.of(7.0), BenchOptions.parse("sweep", "--from", "7", "--to", "7").sweepRates());
  }
}
