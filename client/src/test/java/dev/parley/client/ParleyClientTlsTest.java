package dev.parley.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.client.testing.PipedTerminal;
import dev.parley.client.testing.RawPeer;
import dev.parley.client.testing.TestKits;
import dev.parley.client.testing.TestListener;
import dev.parley.client.testing.TestSettings;
import dev.parley.client.tls.KnownServers;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Goodbye;
import dev.parley.transport.ClientTls;
import dev.parley.transport.ServerTls;
import dev.parley.transport.ServerVerifier;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.testing.EnginePair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole clients over TLS to a fake server that presents a certificate: trust on first use and its
 * one line, the client's certificate fingerprint sent at login, and a server refused (its
 * certificate changed, or not the pinned one) at the first connection or at a reconnection, with
 * exit status 5 and nothing sent to it.
 */
class ParleyClientTlsTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final ClientSettings settings =
      TestSettings.with("reconnect-backoff-min = 10 ms\nreconnect-backoff-max = 10 ms");
  private static final long EXIT_TIMEOUT_SECONDS = 10;

  private static ServerTls server;
  private static ServerTls impostor;

  @TempDir Path home;

  private final TestListener listener = TestListener.bind(testKit);

  @BeforeAll
  static void makeCertificates() throws Exception {
    server = ServerTls.create(TlsIdentity.selfSigned("server", Duration.ofDays(3650)));
    impostor = ServerTls.create(TlsIdentity.selfSigned("impostor", Duration.ofDays(3650)));
    // The JVM's first handshake loads and links the whole of its TLS: done here, it does not eat
    // into the time the first test gives its client to say hello.
    new EnginePair(
            ClientTls.create(Optional.empty())
                .newEngine(TestListener.LOOPBACK, 1, ServerVerifier.trustAll()),
            server.newEngine())
        .handshake();
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldTrustANewServerSayingSoOnceAndSendItsOwnFingerprintAtLogin() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal, Map.of());
      RawPeer<ClientMessage, ServerMessage> connection = accept(server);
      terminal.type("hans\n");
      connection.expectFrame(new ClientMessage.Username("hans"));
      connection.send(new ServerMessage.PasswordRequired("hans"));
      terminal.type("falcon\n");
      ClientMessage.Password password =
          assertInstanceOf(ClientMessage.Password.class, connection.expectFrame());
      connection.send(new ServerMessage.LoginAccepted("hans"));
      terminal.endInput();
      connection.expectFrame(new ClientMessage.Logout());
      connection.send(new Goodbye(Goodbye.Reason.LOGGED_OUT));

      assertEquals(0, exitStatus(client));
      assertEquals(
          client.identity().toCompletableFuture().join().fingerprint().value(),
          password.peerFingerprint());
      Path knownServers = home.resolve(KnownServers.FILE_NAME);
      assertEquals(
          "Trusting 127.0.0.1:"
              + listener.port()
              + " for the first time: certificate "
              + server.fingerprint()
              + " (recorded in "
              + knownServers
              + ")\n"
              + "Username: Password: Welcome to the greatest messaging application ever!\n"
              + "You are logged out\n",
          terminal.output());
      assertEquals(
          List.of("127.0.0.1:" + listener.port() + " " + server.fingerprint()),
          Files.readAllLines(knownServers));
    }
  }

  @Test
  void shouldTrustAKnownServerWithoutALine() throws Exception {
    new KnownServers(home).add("127.0.0.1:" + listener.port(), server.fingerprint());
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal, Map.of());
      accept(server);
      awaitOutput(terminal, "Username: ");
      terminal.endInput();

      exitStatus(client);
      assertTrue(terminal.output().startsWith("Username: "), terminal.output());
    }
  }

  @Test
  void shouldRefuseAKnownServerWhoseCertificateChangedAndSendItNothing() throws Exception {
    new KnownServers(home).add("127.0.0.1:" + listener.port(), server.fingerprint());
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal, Map.of());
      RawPeer<ClientMessage, ServerMessage> connection = accept(impostor);

      assertEquals(ExitStatus.SERVER_UNVERIFIED, exitStatus(client));
      connection.expectClosed();
      assertEquals(
          "Error. The certificate of the server at 127.0.0.1:"
              + listener.port()
              + " has changed: it was "
              + server.fingerprint()
              + ", it is now "
              + impostor.fingerprint()
              + ". Someone may be intercepting the connection, so nothing was sent to it. If the"
              + " server's certificate was changed on purpose, remove line 1 of "
              + home.resolve(KnownServers.FILE_NAME)
              + " and connect again\n",
          terminal.output());
    }
  }

  @Test
  void shouldRefuseAServerThatIsNotThePinnedOne() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client =
          start(
              terminal,
              Map.of("parley.client.tls.trust-fingerprint", server.fingerprint().value()));
      RawPeer<ClientMessage, ServerMessage> connection = accept(impostor);

      assertEquals(ExitStatus.SERVER_UNVERIFIED, exitStatus(client));
      connection.expectClosed();
      assertTrue(terminal.output().contains("--trust-fingerprint"), terminal.output());
      assertTrue(Files.notExists(home.resolve(KnownServers.FILE_NAME)), "nothing recorded");
    }
  }

  @Test
  void shouldEndTheSessionWhenTheServerComesBackWithAnotherCertificate() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal, Map.of());
      RawPeer<ClientMessage, ServerMessage> connection = accept(server);
      terminal.type("hans\n");
      connection.expectFrame(new ClientMessage.Username("hans"));
      connection.send(new ServerMessage.PasswordRequired("hans"));
      terminal.type("falcon\n");
      assertInstanceOf(ClientMessage.Password.class, connection.expectFrame());
      connection.send(new ServerMessage.LoginAccepted("hans"));
      awaitOutput(terminal, "Welcome to the greatest messaging application ever!");

      connection.drop();
      RawPeer<ClientMessage, ServerMessage> comeback =
          RawPeer.handleTls(
              listener.expectConnection(),
              impostor,
              JsonCodec.CLIENT,
              JsonCodec.SERVER,
              testKit.system());

      assertEquals(ExitStatus.SERVER_UNVERIFIED, exitStatus(client));
      comeback.expectClosed();
      assertTrue(
          terminal.output().contains("Error. The certificate of the server at 127.0.0.1:"),
          terminal.output());
    }
  }

  @Test
  void shouldSayInOneLineThatAPlainServerDoesNotSpeakTls() throws Exception {
    try (PipedTerminal terminal = new PipedTerminal()) {
      ParleyClient client = start(terminal, Map.of());
      RawPeer<ClientMessage, ServerMessage> connection =
          RawPeer.handle(
              listener.expectConnection(), JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
      // What Parley's server in plain TCP answers to a line it cannot read.
      connection.sendRaw("{\"type\":\"error\",\"code\":\"malformed-frame\",\"subject\":\"?\"}");

      assertEquals(ExitStatus.CONNECTION, exitStatus(client));
      String output = terminal.output();
      assertEquals(1, output.lines().count(), output);
      assertTrue(output.contains("does not speak TLS"), output);
      assertTrue(output.contains("--plaintext"), output);
    }
  }

  private ParleyClient start(PipedTerminal terminal, Map<String, Object> overrides) {
    Config config =
        ConfigFactory.parseMap(overrides)
            .withFallback(ConfigFactory.parseMap(Map.of("parley.client.home", home.toString())))
            .withFallback(ConfigFactory.load())
            .resolve();
    return ParleyClient.start(
        config, settings, TestListener.LOOPBACK, listener.port(), terminal.terminal());
  }

  /** The fake server's end of the next connection, over TLS, after the hellos. */
  private RawPeer<ClientMessage, ServerMessage> accept(ServerTls tls) {
    RawPeer<ClientMessage, ServerMessage> connection =
        RawPeer.handleTls(
            listener.expectConnection(), tls, JsonCodec.CLIENT, JsonCodec.SERVER, testKit.system());
    if (tls == server) {
      connection.expectFrame(new ClientMessage.Hello(Protocol.VERSION));
      connection.send(new ServerMessage.Hello(Protocol.VERSION, "fake"));
    }
    return connection;
  }

  private static int exitStatus(ParleyClient client) throws Exception {
    return client.exitStatus().toCompletableFuture().get(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private static void awaitOutput(PipedTerminal terminal, String text) {
    TestProbe<Done> waiting = testKit.createTestProbe();
    waiting.awaitAssert(
        () -> {
          assertTrue(terminal.output().contains(text), terminal.output());
          return Done.getInstance();
        });
  }
}
