package dev.parley.server.cluster;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.eventstream.EventStream;
import akka.cluster.ClusterEvent;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.UniqueAddress;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Leave;
import akka.cluster.typed.SelfUp;
import akka.cluster.typed.Subscribe;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The membership logger on a real single-node cluster (Artery on a free loopback port): what an
 * operator reads when the node joins, and when it leaves.
 */
@ExtendWith(LogCapturingExtension.class)
class ClusterMembershipTest {

  private static final ActorTestKit testKit = TestKits.clusterMember("ClusterMembershipTest");

  /** Joining, even to itself, waits for the leader's next round (1 s apart). */
  private static final Duration JOINING = Duration.ofSeconds(10);

  private static Address self;

  /** The logger of the running test. */
  private ActorRef<ClusterMembership.Command> logger;

  /**
   * Up before any test starts: each test's logger then learns of it from the current state, and no
   * logger of an earlier test logs it again while a later test looks.
   */
  @BeforeAll
  static void formAClusterOfOne() {
    Cluster cluster = Cluster.get(testKit.system());
    self = cluster.selfMember().address();
    TestProbe<SelfUp> up = testKit.createTestProbe();
    cluster.subscriptions().tell(Subscribe.create(up.ref(), SelfUp.class));
    TestKits.joinItself(testKit);
    up.expectMessageClass(SelfUp.class, JOINING);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldLogThisNodeUpWithItsRoles() {
    LoggingTestKit.info("cluster member up address=" + self + " roles=dc-default")
        .expect(testKit.system(), this::spawnLogger);
  }

  @Test
  void shouldLogThatThisNodeJoined() {
    LoggingTestKit.info("cluster joined self=" + self + " members=1")
        .expect(testKit.system(), this::spawnLogger);
  }

  @Test
  void shouldLogTheLeader() {
    LoggingTestKit.info("cluster leader changed leader=" + self)
        .expect(testKit.system(), this::spawnLogger);
  }

  @Test
  void shouldLogWhereItJoinsFrom() {
    LoggingTestKit.info("cluster joining self=" + self + " seed-nodes=[]")
        .expect(testKit.system(), this::spawnLogger);
  }

  /** A logger for one test, stopped after it so that it logs nothing into the next. */
  private ActorRef<ClusterMembership.Command> spawnLogger() {
    logger = testKit.spawn(ClusterMembership.create());
    return logger;
  }

  @AfterEach
  void stopLogger() {
    if (logger != null) {
      testKit.stop(logger);
    }
  }

  /** A node of its own, as leaving ends its actor system. */
  @Test
  void shouldLogAGracefulLeaveAsExitingThenLeft() {
    ActorTestKit leaving = TestKits.clusterMember("ClusterMembershipLeaveTest");
    try {
      Cluster cluster = Cluster.get(leaving.system());
      Address address = cluster.selfMember().address();
      LoggingTestKit.info("cluster member up address=" + address)
          .expect(
              leaving.system(),
              () -> {
                leaving.spawn(ClusterMembership.create());
                TestKits.joinItself(leaving);
                return null;
              });
      // Its own removal may come too late to be heard, as the node stops right after it: the
      // exiting is what this node sees of its leave for sure.
      LoggingTestKit.info("cluster member exiting address=" + address)
          .expect(
              leaving.system(),
              () ->
                  LoggingTestKit.info("cluster left self=" + address + " previous-status=exiting")
                      .expect(
                          leaving.system(),
                          () -> {
                            cluster.manager().tell(Leave.create(address));
                            return null;
                          }));
    } finally {
      leaving.shutdownTestKit();
    }
  }

  /**
   * A node restarted on the same host and port can hear of its previous incarnation's removal (Akka
   * publishes membership on the event stream, where this one is put). That is another member's
   * leave, not this node's.
   */
  @Test
  void shouldNotTakeAnEarlierIncarnationsRemovalForItsOwnLeave() {
    ActorTestKit restarted = TestKits.clusterMember("ClusterMembershipRestartTest");
    try {
      Member current = Cluster.get(restarted.system()).selfMember();
      Address address = current.address();
      // Member's constructor is Akka's own (package-private in Scala): members are otherwise made
      // only by a running cluster, and a second incarnation on one port cannot be started here.
      Member earlier =
          new Member(
              new UniqueAddress(address, current.uniqueAddress().longUid() + 1),
              1,
              MemberStatus.removed(),
              current.roles(),
              current.appVersion());
      // Heard after the removal: by then any line the removal caused has been logged.
      Member other =
          new Member(
              new UniqueAddress(
                  new Address(
                      address.protocol(),
                      address.system(),
                      address.getHost().orElseThrow(),
                      address.getPort().orElseThrow() + 1),
                  1L),
              1,
              MemberStatus.up(),
              current.roles(),
              current.appVersion());
      LoggingTestKit.info("cluster joining self=" + address)
          .expect(restarted.system(), () -> restarted.spawn(ClusterMembership.create()));
      LoggingTestKit.info("cluster left")
          .withOccurrences(0)
          .expect(
              restarted.system(),
              () ->
                  LoggingTestKit.info(
                          "cluster member removed address=" + address + " previous-status=exiting")
                      .expect(
                          restarted.system(),
                          () ->
                              LoggingTestKit.info("cluster member up address=" + other.address())
                                  .expect(
                                      restarted.system(),
                                      () -> {
                                        publish(
                                            restarted,
                                            new ClusterEvent.MemberRemoved(
                                                earlier, MemberStatus.exiting()));
                                        publish(restarted, new ClusterEvent.MemberUp(other));
                                        return null;
                                      })));
    } finally {
      restarted.shutdownTestKit();
    }
  }

  private static void publish(ActorTestKit node, ClusterEvent.MemberEvent event) {
    node.system().eventStream().tell(new EventStream.Publish<>(event));
  }
}
