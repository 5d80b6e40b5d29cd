package dev.parley.it.support;

import dev.parley.client.server.ServerAddress;
import dev.parley.server.ParleyServer;
import dev.parley.server.admin.AccountImport;
import dev.parley.server.login.CredentialsFile;
import dev.parley.server.login.PasswordHasher;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSettings;
import dev.parley.server.testing.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A cluster of packaged server nodes on loopback, as an operator starts one (docs/cluster.md): each
 * node a process of its own ({@link ServerProcess}) in a directory of its own (its data directory,
 * its own TLS certificate), on a client port it picks and a free cluster port, all on one fresh
 * PostgreSQL schema ({@link TestDatabase#postgres()}) and all with the same seed nodes (the first
 * two nodes' cluster ports). The accounts are in the database before any node starts, so no node
 * imports any.
 *
 * <p>{@link #start} returns once every node logs every member up. Without {@code
 * PARLEY_TEST_PG_URL} it skips the test (a JUnit assumption), as {@link TestDatabase} does; {@code
 * PARLEY_REQUIRE_PG=1} makes that a failure.
 */
public final class ClusterNodes implements AutoCloseable {

  /** Three JVMs starting at once on a small machine, then the cluster forming. */
  public static final Duration FORMING = Duration.ofSeconds(60);

  private final TestDatabase database;
  private final int[] clusterPorts;
  private final List<ServerProcess> nodes;

  private ClusterNodes(TestDatabase database, int[] clusterPorts, List<ServerProcess> nodes) {
    this.database = database;
    this.clusterPorts = clusterPorts;
    this.nodes = nodes;
  }

  /**
   * Starts {@code count} nodes under {@code directory} (in {@code node-0}, {@code node-1}...) with
   * {@code jvmOptions} (such as {@code
   * -Dparley.server.cluster.split-brain-resolver.stable-after=3s}) and {@code accounts} (username
   * to password) in their database; returns once every node logs every member up.
   */
  public static ClusterNodes start(
      Path directory, int count, Map<String, String> accounts, List<String> jvmOptions)
      throws SQLException {
    TestDatabase database = TestDatabase.postgres();
    List<ServerProcess> started = new ArrayList<>();
    try {
      StoreSettings store = database.settings();
      addAccounts(database, accounts);
      int[] clusterPorts = freePorts(count);
      String seeds = "127.0.0.1:" + clusterPorts[0] + ",127.0.0.1:" + clusterPorts[1 % count];
      Map<String, String> environment =
          Map.of("PARLEY_DB_USER", store.user(), "PARLEY_DB_PASSWORD", store.password());
      // In parallel: each JVM takes seconds to start, and the first seed waits for the others.
      ExecutorService starting = Executors.newFixedThreadPool(count);
      try {
        List<Future<ServerProcess>> futures = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          Path home = Files.createDirectories(directory.resolve("node-" + i));
          String[] options = {
            "--cluster-port",
            String.valueOf(clusterPorts[i]),
            "--seed-nodes",
            seeds,
            "--db-url",
            store.url()
          };
          futures.add(
              starting.submit(() -> ServerProcess.start(home, jvmOptions, environment, options)));
        }
        for (Future<ServerProcess> future : futures) {
          started.add(future.get());
        }
      } catch (java.util.concurrent.ExecutionException e) {
        throw new AssertionError("a node did not start", e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      } finally {
        starting.shutdown();
      }
      ClusterNodes cluster = new ClusterNodes(database, clusterPorts, started);
      for (int i = 0; i < count; i++) {
        cluster.awaitAllUp(i, FORMING);
      }
      return cluster;
    } catch (IOException e) {
      started.forEach(ServerProcess::close);
      database.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      started.forEach(ServerProcess::close);
      database.close();
      throw e;
    }
  }

  private static void addAccounts(TestDatabase database, Map<String, String> accounts)
      throws SQLException {
    // Opening the store migrates the schema, once, before the nodes open it together.
    Store store = database.open();
    try {
      AccountImport.run(
          store,
          new CredentialsFile.Loaded(new LinkedHashMap<>(accounts), List.of()),
          new PasswordHasher(1_000),
          Clock.systemUTC().instant());
    } finally {
      store.close();
    }
  }

  /** Waits until node {@code index}'s log (this run's) says every member is up. */
  public void awaitAllUp(int index, Duration timeout) {
    ServerProcess node = nodes.get(index);
    for (int member = 0; member < nodes.size(); member++) {
      node.awaitLogLine("cluster member up address=" + clusterAddress(member) + " ", timeout);
    }
  }

  public int size() {
    return nodes.size();
  }

  public ServerProcess node(int index) {
    return nodes.get(index);
  }

  public List<ServerProcess> nodes() {
    return List.copyOf(nodes);
  }

  /** The node's cluster port, for the other nodes. */
  public int clusterPort(int index) {
    return clusterPorts[index];
  }

  /** The node's Akka address, as its log and the others' name it. */
  public String clusterAddress(int index) {
    return "akka://" + ParleyServer.SYSTEM_NAME + "@127.0.0.1:" + clusterPorts[index];
  }

  /** Every node's client address, in order, as a client given all of them takes them. */
  public List<ServerAddress> addresses() {
    return nodes.stream().map(node -> new ServerAddress(node.host(), node.port())).toList();
  }

  /** Node {@code first}'s client address first, then the others in order. */
  public List<ServerAddress> addressesFrom(int first) {
    List<ServerAddress> all = addresses();
    List<ServerAddress> ordered = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      ordered.add(all.get((first + i) % all.size()));
    }
    return ordered;
  }

  /** {@code host:port} to certificate fingerprint for every node, for a client's known_servers. */
  public Map<String, String> fingerprints() {
    Map<String, String> pins = new LinkedHashMap<>();
    for (ServerProcess node : nodes) {
      pins.put(
          node.host() + ":" + node.port(),
          node.fingerprint().orElseThrow(() -> new AssertionError("a node without TLS")));
    }
    return pins;
  }

  /** A client of node {@code index} only, logged in as {@code user}, up to the welcome line. */
  public HeadlessClient login(int index, String user, String password) {
    ServerProcess node = nodes.get(index);
    return HeadlessClient.login(node.host(), node.port(), node.fingerprint(), user, password);
  }

  /** A client of node {@code index} only, at its username prompt. */
  public HeadlessClient connect(int index, String name) {
    ServerProcess node = nodes.get(index);
    return HeadlessClient.connect(
        node.host(), node.port(), name, HeadlessClient.pinned(node.fingerprint()));
  }

  /**
   * A client given every node, node {@code first} first ({@code bin/parley
   * HOST:PORT,HOST:PORT,HOST:PORT}), trusting each node's certificate, at its username prompt.
   */
  public HeadlessClient connectToAll(int first, String name, Map<String, Object> overrides) {
    return HeadlessClient.connect(addressesFrom(first), fingerprints(), name, overrides);
  }

  /**
   * Starts node {@code index} again, after it was killed or stopped, on the same client port,
   * cluster port and data directory; returns once it listens (not once it has joined).
   */
  public ServerProcess restart(int index) {
    return nodes.get(index).restartOnTheSamePort();
  }

  /** The shared database, for tests that look at what the cluster stored. */
  public TestDatabase database() {
    return database;
  }

  /** Stops every node still running (SIGKILL) and drops the database's schema. */
  @Override
  public void close() throws SQLException {
    nodes.forEach(ServerProcess::close);
    for (ServerProcess node : nodes) {
      try {
        node.program().exitStatus();
      } catch (AssertionError e) {
        // Closing after a failed test: nothing more to learn here.
      }
    }
    database.close();
  }

  /**
   * Ports free on loopback now, all different: held open together while they are picked, then
   * released for the nodes to bind.
   */
  public static int[] freePorts(int count) {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        sockets.add(socket);
        ports[i] = socket.getLocalPort();
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (ServerSocket socket : sockets) {
        try {
          socket.close();
        } catch (IOException e) {
          // Released either way.
        }
      }
    }
  }
}
