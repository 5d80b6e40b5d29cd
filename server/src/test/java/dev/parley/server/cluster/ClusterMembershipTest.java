package dev.parley.server.cluster;

import akka.actor.Address;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.LoggingTestKit;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Leave;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import org.junit.jupiter.api.AfterAll;
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

  private static Address self;

  @BeforeAll
  static void formAClusterOfOne() {
    self = Cluster.get(testKit.system()).selfMember().address();
    TestKits.joinItself(testKit);
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldLogThisNodeUpWithItsRoles() {
    LoggingTestKit.info("cluster member up address=" + self + " roles=dc-default")
        .expect(testKit.system(), () -> testKit.spawn(ClusterMembership.create()));
  }

  @Test
  void shouldLogThatThisNodeJoined() {
    LoggingTestKit.info("cluster joined self=" + self + " members=1")
        .expect(testKit.system(), () -> testKit.spawn(ClusterMembership.create()));
  }

  @Test
  void shouldLogTheLeader() {
    LoggingTestKit.info("cluster leader changed leader=" + self)
        .expect(testKit.system(), () -> testKit.spawn(ClusterMembership.create()));
  }

  @Test
  void shouldLogWhereItJoinsFrom() {
    LoggingTestKit.info("cluster joining self=" + self + " seed-nodes=[]")
        .expect(testKit.system(), () -> testKit.spawn(ClusterMembership.create()));
  }

  /** A node of its own, as leaving ends its actor system. */
  @Test
  void shouldLogAGracefulLeaveAsExitingThenRemoved() {
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
      LoggingTestKit.info("cluster member removed address=" + address + " previous-status=exiting")
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
}
