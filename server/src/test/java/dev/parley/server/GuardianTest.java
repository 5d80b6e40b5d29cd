package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSelection;
import akka.actor.CoordinatedShutdown;
import akka.actor.PoisonPill;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.store.Store;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The node as the guardian supervises it: whichever core actor stops, the node does not run on half
 * alive, but shuts down in an orderly way with the reason that makes the process exit with {@link
 * Guardian#EXIT_CORE_ACTOR_STOPPED}.
 */
@ExtendWith(LogCapturingExtension.class)
class GuardianTest {

  @TempDir Path dir;

  private TestDatabase database;
  private Store store;
  private ParleyServer server;

  @BeforeEach
  void startNode() throws Exception {
    database = TestDatabase.h2(dir);
    store = database.open();
    Config config =
        ConfigFactory.parseString("parley.server { port = 0, host = \"127.0.0.1\" }")
            .withFallback(ConfigFactory.load());
    server =
        ParleyServer.start(
            config,
            ServerSettings.fromConfig(config),
            new Guardian.Storage(
                store, database.settings(), store.load(Clock.systemUTC().instant())),
            Clock.systemUTC());
    server.bound().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @AfterEach
  void stopNode() throws Exception {
    server.stop().toCompletableFuture().get(30, TimeUnit.SECONDS);
    database.close();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"journal", "broadcaster", "user-registry", "login-guard", "account-watcher"})
  void shouldTakeTheNodeDownWhenACoreActorStops(String actor) throws Exception {
    ActorSelection selection = server.system().classicSystem().actorSelection("/user/" + actor);

    // Whatever made it stop: here it is simply stopped.
    selection.tell(PoisonPill.getInstance(), akka.actor.ActorRef.noSender());

    server.terminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Optional<CoordinatedShutdown.Reason> reason =
        CoordinatedShutdown.get(server.system()).getShutdownReason();
    assertTrue(reason.isPresent(), "the node went down without a coordinated shutdown");
    assertEquals(Guardian.CORE_ACTOR_STOPPED, reason.get());
  }
}
