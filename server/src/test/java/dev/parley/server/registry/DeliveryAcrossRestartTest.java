package dev.parley.server.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.DispatcherSelector;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.WireText;
import dev.parley.server.ServerSettings;
import dev.parley.server.broadcast.Broadcaster;
import dev.parley.server.registry.UserRegistry.Registration;
import dev.parley.server.store.Journal;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreCalls;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.MutableClock;
import dev.parley.server.testing.TestDatabase;
import dev.parley.server.testing.TestKits;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The registry with the real journal and store, across a restart: what the server accepted before
 * it stopped (without anyone logging out) is delivered after it starts again from the store, with
 * the same numbers, numbering goes on, resends are still recognised, and blocks and history hold.
 * On H2 and on PostgreSQL.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(TestDatabase.Kind.class)
@ExtendWith(LogCapturingExtension.class)
class DeliveryAcrossRestartTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final Instant T0 = Instant.parse("2030-05-04T12:00:00Z");

  /** Long enough never to fire during a test. */
  private static final Duration DIRECTORY_REFRESH = Duration.ofHours(1);

  @Parameter TestDatabase.Kind kind;

  @TempDir Path dir;

  private TestDatabase database;
  private Store store;
  private MutableClock clock;
  private ActorRef<Journal.Command> journal;
  private ActorRef<UserRegistry.Command> registry;
  private TestProbe<ServerMessage> replies;
  private TestProbe<Registration> registrations;

  private record Online(TestProbe<Object> session, TestProbe<ServerMessage> outbox) {}

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void openStore() throws SQLException {
    database = TestDatabase.create(kind, dir);
    store = database.open();
    for (String user : List.of("hans", "yoda", "luke")) {
      store.addAccount(user, "hash-of-" + user, T0);
    }
    clock = new MutableClock(T0);
    replies = testKit.createTestProbe();
    registrations = testKit.createTestProbe();
  }

  @AfterEach
  void stop() throws SQLException {
    stopServer();
    if (database != null) {
      database.close();
    }
  }

  @Test
  void shouldDeliverWhatWasAcceptedBeforeARestartWithTheSameNumbers() throws SQLException {
    startServer();
    Online luke = login("luke");
    send("hans", "luke", "one", "m-1");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-1", false));
    send("hans", "luke", "two", "m-2");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-2", false));
    send("hans", "luke", "three", "m-3");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-3", false));
    luke.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "one", 1, "m-1"));
    luke.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "two", 2, "m-2"));
    luke.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "three", 3, "m-3"));
    // luke's client has shown the first only.
    registry.tell(new UserRegistry.Acknowledge("luke", 1));
    // hans is offline: kept for him.
    send("yoda", "hans", "for hans", "y-1");
    replies.expectMessage(new ServerMessage.MessageAccepted("y-1", true));
    // A resend, before the restart.
    send("hans", "luke", "two", "m-2");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-2", false));
    registry.tell(new UserRegistry.Block("luke", "yoda", replies.ref()));
    replies.expectMessage(new ServerMessage.BlockConfirmed("yoda"));
    luke.outbox().expectNoMessage();

    // The server stops with luke still online, and starts again a minute later.
    restart(Duration.ofMinutes(1));

    // luke was online when the server stopped: he counts as logged out when it started.
    registry.tell(new UserRegistry.ListRecent("yoda", 30, replies.ref()));
    replies.expectMessage(new ServerMessage.RecentUsers(30, List.of("luke")));
    Online lukeAgain = login("luke");
    lukeAgain.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "two", 2, "m-2"));
    lukeAgain.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "three", 3, "m-3"));
    lukeAgain.outbox().expectNoMessage();
    Online hans = login("hans");
    hans.outbox().expectMessage(new ServerMessage.MessageReceived("yoda", "for hans", 1, "y-1"));
    // Numbering goes on; resends from before the restart are still recognised.
    send("hans", "luke", "three", "m-3");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-3", false));
    send("hans", "luke", "four", "m-4");
    replies.expectMessage(new ServerMessage.MessageAccepted("m-4", false));
    lukeAgain.outbox().expectMessage(new ServerMessage.MessageReceived("hans", "four", 5, "m-4"));
    // The block holds.
    send("yoda", "luke", "let me in", "y-2");
    replies.expectMessage(new ServerMessage.Error(Code.BLOCKED_BY_USER, "message", "luke", "y-2"));

    // Acknowledged after the restart: not sent again after another one.
    registry.tell(new UserRegistry.Acknowledge("luke", 5));
    registry.tell(new UserRegistry.Acknowledge("hans", 1));
    restart(Duration.ofMinutes(1));
    login("luke").outbox().expectNoMessage();
    login("hans").outbox().expectNoMessage();
  }

  // ---- helpers ----

  private void startServer() throws SQLException {
    Executor storeExecutor =
        testKit
            .system()
            .dispatchers()
            .lookup(DispatcherSelector.fromConfig(ServerSettings.STORE_DISPATCHER));
    journal = testKit.spawn(Journal.create(store, storeExecutor, database.settings(), clock));
    registry =
        testKit.spawn(
            UserRegistry.create(
                store.load(clock.instant()),
                testKit.<Broadcaster.Command>createTestProbe().ref(),
                journal,
                () -> CompletableFuture.completedFuture(List.<String>of()),
                (recipient, ids) ->
                    StoreCalls.supply(() -> store.readMessages(recipient, ids), storeExecutor),
                new UserRegistry.Settings(
                    new ServerSettings.Mailbox(100, 1 << 20, 100, 1 << 20, 10),
                    100,
                    60 * 1024,
                    DIRECTORY_REFRESH,
                    Duration.ofSeconds(1),
                    Duration.ofMinutes(10),
                    Duration.ofSeconds(30)),
                clock));
  }

  /** Writes what the journal holds, stops the actors, closes the store; then starts over. */
  private void restart(Duration after) throws SQLException {
    stopServer();
    store.close();
    clock.advance(after);
    store = database.open();
    startServer();
  }

  private void stopServer() {
    if (journal != null) {
      // The registry has handled everything told it before (and so told the journal).
      TestProbe<UserRegistry.OnlineStatus> status = testKit.createTestProbe();
      registry.tell(new UserRegistry.IsOnline("luke", status.ref()));
      status.receiveMessage();
      // What a shutdown does; a crash loses no more, as nothing was acknowledged before commit.
      TestProbe<Done> flushed = testKit.createTestProbe();
      journal.tell(new Journal.Flush(flushed.ref()));
      flushed.expectMessage(Done.getInstance());
      testKit.stop(registry);
      testKit.stop(journal);
      journal = null;
    }
  }

  private Online login(String name) {
    TestProbe<Object> session = testKit.createTestProbe();
    TestProbe<ServerMessage> outbox = testKit.createTestProbe();
    registry.tell(
        new UserRegistry.Register(
            name,
            new UserRegistry.Attachment(
                session.ref(),
                outbox.ref(),
                testKit.<UserRegistry.Evict>createTestProbe().ref(),
                "127.0.0.1",
                50000,
                null,
                null,
                Protocol.VERSION),
            registrations.ref()));
    assertEquals(name, outbox.expectMessageClass(ServerMessage.LoginAccepted.class).username());
    registrations.expectMessage(Registration.REGISTERED);
    return new Online(session, outbox);
  }

  private void send(String from, String to, String text, String id) {
    registry.tell(
        new UserRegistry.SendDirect(
            from, to, text, id, WireText.encodedLength(text), replies.ref()));
  }
}
