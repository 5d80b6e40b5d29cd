package dev.parley.server.testing;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.cluster.ClusterSettings;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;

/**
 * Creates the tests' actor test kits. Each test class keeps its kit in a {@code static final} field
 * and shuts it down in {@code @AfterAll} (Akka 2.6 has JUnit 4 rules only).
 */
public final class TestKits {

  private TestKits() {}

  /** A test kit on real time, configured by {@code application-test.conf}. */
  public static ActorTestKit create() {
    initLogging();
    return ActorTestKit.create();
  }

  /**
   * A test kit whose scheduler only moves when the test calls {@link ManualTime#timePasses}: every
   * timer and ask timeout of the actors under test is then under the test's control.
   */
  public static ActorTestKit withManualTime() {
    initLogging();
    return ActorTestKit.create(
        ManualTime.config().withFallback(ActorTestKit.applicationTestConfig()));
  }

  /**
   * A test kit whose system is a cluster member with the server's cluster settings ({@link
   * ClusterSettings#akkaConfig}, from {@code reference.conf}), but on a free port chosen by Akka
   * and with no seed nodes: it is not a member of anything until the test joins it, to itself for a
   * single-node cluster. {@code name} is the system's name, as in its address.
   */
  public static ActorTestKit clusterMember(String name) {
    initLogging();
    Config file = ActorTestKit.applicationTestConfig();
    ClusterSettings cluster =
        ClusterSettings.fromConfig(
            ConfigFactory.parseMap(Map.of(ClusterSettings.PATH + ".enabled", true))
                .withFallback(file));
    return ActorTestKit.create(
        name,
        ConfigFactory.parseMap(
                Map.of(
                    "akka.remote.artery.canonical.port",
                    0,
                    "akka.cluster.seed-nodes",
                    List.of(),
                    // Joining, even to itself, waits for the leader's next round (1s apart).
                    "akka.actor.testkit.typed.filter-leeway",
                    "10s",
                    // A first message to a shard waits for the coordinator to allocate it, which
                    // it writes through Distributed Data: slow on a loaded machine.
                    "akka.actor.testkit.typed.single-expect-default",
                    "10s"))
            .withFallback(cluster.akkaConfig(name))
            .withFallback(file));
  }

  /** Joins the test kit's cluster member to itself, making a cluster of one. */
  public static void joinItself(ActorTestKit testKit) {
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
  }

  /** Logging set up before the actor system keeps SLF4J from printing its replay notice. */
  private static void initLogging() {
    LoggerFactory.getLogger(TestKits.class);
  }
}
