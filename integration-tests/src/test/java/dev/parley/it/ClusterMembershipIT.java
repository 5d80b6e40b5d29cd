package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.Program;
import dev.parley.it.support.ServerProcess;
import dev.parley.it.support.TestServer;
import dev.parley.server.ParleyServer;
import dev.parley.server.store.StoreSettings;
import dev.parley.server.testing.TestDatabase;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two packaged server nodes forming a cluster on one PostgreSQL database, as an operator starts
 * them: the second seeds from the first, each logs both members up, and the second, stopped with
 * SIGTERM, says goodbye to its user and leaves gracefully (the first sees it exiting, then removed,
 * not downed). A node whose cluster port is taken, and a node asked to cluster on its own embedded
 * database, refuse to start in one line.
 *
 * <p>Without {@code PARLEY_TEST_PG_URL} the cluster case is skipped ({@code PARLEY_REQUIRE_PG=1}
 * makes that a failure, as in CI).
 */
class ClusterMembershipIT {

  /** A JVM stopped by SIGTERM exits with 128 + 15, whatever its shutdown did (see README). */
  private static final int EXIT_AFTER_SIGTERM = 143;

  /** The exit status of a node that cannot start. */
  private static final int EXIT_CANNOT_START = 1;

  /** The exit status of a bad command line. */
  private static final int EXIT_USAGE = 2;

  @TempDir Path directory;

  private final List<ServerProcess> nodes = new ArrayList<>();
  private final List<HeadlessClient> clients = new ArrayList<>();
  private TestDatabase database;

  @AfterEach
  void stopEverything() throws SQLException {
    clients.forEach(HeadlessClient::close);
    nodes.forEach(ServerProcess::close);
    for (ServerProcess node : nodes) {
      node.program().exitStatus();
    }
    if (database != null) {
      database.close();
    }
  }

  @Test
  void shouldFormAClusterOfTwoNodesAndLeaveItGracefully() throws IOException, SQLException {
    database = TestDatabase.postgres();
    StoreSettings store = database.settings();
    int[] clusterPorts = freePorts(2);
    String first = address(clusterPorts[0]);
    String second = address(clusterPorts[1]);

    ServerProcess one = node("one", store, "--cluster-port", String.valueOf(clusterPorts[0]));
    ServerProcess two =
        node(
            "two",
            store,
            "--cluster-port",
            String.valueOf(clusterPorts[1]),
            "--seed-nodes",
            "127.0.0.1:" + clusterPorts[0]);

    for (ServerProcess node : List.of(one, two)) {
      node.awaitLogLine("cluster member up address=" + first + " ", ServerProcess.STARTUP);
      node.awaitLogLine("cluster member up address=" + second + " ", ServerProcess.STARTUP);
    }
    two.awaitLogLine("cluster joined self=" + second + " members=2", ServerProcess.STARTUP);
    assertClusterPortTaken(store, clusterPorts[0]);

    // The node's own shutdown comes first: its users are told goodbye, then it leaves.
    HeadlessClient hans =
        track(
            HeadlessClient.login(
                two.host(),
                two.port(),
                two.fingerprint(),
                "hans",
                TestServer.PASSWORDS.get("hans")));
    assertEquals(EXIT_AFTER_SIGTERM, two.stop(), two::log);
    hans.expect("The server is shutting down. You have been logged out");

    one.awaitLogLine("cluster member leaving address=" + second + " ", ServerProcess.STARTUP);
    one.awaitLogLine(
        "cluster member removed address=" + second + " previous-status=exiting",
        ServerProcess.STARTUP);
    String log = two.log();
    assertTrue(log.contains("stopping: closing 1 sessions"), log);
    assertTrue(log.contains("cluster left self=" + second + " previous-status=exiting"), log);
    // Its own cluster's end is not the other node's departure.
    assertFalse(log.contains("cluster member removed address=" + first), log);
    assertTrue(one.program().isAlive(), one::log);
  }

  @Test
  void shouldRefuseToClusterWithoutASharedDatabase() throws IOException {
    Path node = Files.createDirectories(directory.resolve("alone"));
    Program server =
        Program.start(
            "alone",
            Program.jar("parley.server.jar"),
            node,
            "0",
            "--cluster-port",
            String.valueOf(freePorts(1)[0]),
            "--data-dir",
            node.resolve("data").toString());

    assertEquals(EXIT_USAGE, server.exitStatus(), server::transcript);
    assertEquals(
        List.of(
            "parley-server: a cluster needs a shared database: every node must use the same"
                + " PostgreSQL database (--db-url URL), not its own embedded one"),
        server.stderr().lines(),
        server::transcript);
    assertTrue(Files.notExists(node.resolve("data")), "it opened a store before refusing");
  }

  /** A third node on a cluster port that another node holds: it says so in one line. */
  private void assertClusterPortTaken(StoreSettings store, int clusterPort) throws IOException {
    Path node = Files.createDirectories(directory.resolve("taken"));
    Program server =
        Program.start(
            "taken",
            Program.jar("parley.server.jar"),
            node,
            List.of("-Duser.home=" + node),
            Map.of("PARLEY_DB_USER", store.user(), "PARLEY_DB_PASSWORD", store.password()),
            "0",
            "--cluster-port",
            String.valueOf(clusterPort),
            "--db-url",
            store.url(),
            "--data-dir",
            node.resolve("data").toString());

    assertEquals(EXIT_CANNOT_START, server.exitStatus(), server::transcript);
    List<String> said = server.stderr().lines();
    assertEquals(1, said.size(), server::transcript);
    assertTrue(
        said.get(0)
            .startsWith(
                "parley-server: cannot start the node: Failed to bind TCP to [127.0.0.1:"
                    + clusterPort
                    + "]"),
        server::transcript);
    assertTrue(said.get(0).contains("Address already in use"), server::transcript);
  }

  /** A packaged node on {@code store}, with a client port of its own choosing. */
  private ServerProcess node(String name, StoreSettings store, String... options)
      throws IOException {
    List<String> arguments = new ArrayList<>(List.of(options));
    arguments.addAll(List.of("--db-url", store.url()));
    ServerProcess node =
        ServerProcess.start(
            Files.createDirectories(directory.resolve(name)),
            List.of(),
            Map.of("PARLEY_DB_USER", store.user(), "PARLEY_DB_PASSWORD", store.password()),
            arguments.toArray(String[]::new));
    nodes.add(node);
    return node;
  }

  private HeadlessClient track(HeadlessClient client) {
    clients.add(client);
    return client;
  }

  private static String address(int clusterPort) {
    return "akka://" + ParleyServer.SYSTEM_NAME + "@127.0.0.1:" + clusterPort;
  }

  /**
   * Ports free on loopback now, all different: held open together while they are picked, then
   * released for the nodes to bind.
   */
  private static int[] freePorts(int count) throws IOException {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        sockets.add(socket);
        ports[i] = socket.getLocalPort();
      }
      return ports;
    } finally {
      for (ServerSocket socket : sockets) {
        socket.close();
      }
    }
  }
}
