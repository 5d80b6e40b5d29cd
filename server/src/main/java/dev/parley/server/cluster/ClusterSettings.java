package dev.parley.server.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import dev.parley.server.store.StoreSettings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Whether and how a node joins a cluster of Parley nodes (the {@code parley.server.cluster} section
 * of the configuration; {@code reference.conf} documents each key). Off, the node is a standalone
 * server with Akka's local actor provider and no remoting at all.
 *
 * @param enabled whether the node is a cluster member ({@code --cluster-port} turns it on)
 * @param host the address other nodes reach this one at, and where it listens for them
 * @param port the port of the node's cluster connections (Artery TCP)
 * @param seedNodes the nodes it contacts to join; empty: it starts a cluster of its own
 * @param downingStrategy the Split Brain Resolver's strategy (Akka's {@code active-strategy})
 * @param stableAfter how long membership and reachability must stay unchanged before the resolver
 *     decides which side of a partition downs itself
 * @param ownerIdleTimeout how long the owner of an offline user, with nothing under way, stays in
 *     memory
 * @param ownerStash most commands an owner keeps while it loads its user
 * @param ownerTimeout how long a node waits for a user's owner to answer
 * @param ownerAttempts how many times a node hands a message to its recipient's owner
 * @param rosterNotifyInterval how soon a change of the replicated roster of online users reaches
 *     this node's broadcaster (Distributed Data's notify-subscribers-interval)
 * @param rosterGossipInterval how often this node gossips the replicated roster to another node
 *     (Distributed Data's gossip-interval)
 * @param rosterWriteTimeout how long a write of the roster waits for every node to acknowledge it
 *     before the broadcaster carries on without (gossip completes it)
 * @param rosterDepartedTtl how long the tombstone of a logout stays in the roster
 */
public record ClusterSettings(
    boolean enabled,
    String host,
    int port,
    List<SeedNode> seedNodes,
    String downingStrategy,
    Duration stableAfter,
    Duration ownerIdleTimeout,
    int ownerStash,
    Duration ownerTimeout,
    int ownerAttempts,
    Duration rosterNotifyInterval,
    Duration rosterGossipInterval,
    Duration rosterWriteTimeout,
    Duration rosterDepartedTtl) {

  /** The configuration path of the cluster settings. */
  public static final String PATH = "parley.server.cluster";

  /** Akka's built-in Split Brain Resolver (open source since Akka 2.6.6). */
  static final String SPLIT_BRAIN_RESOLVER = "akka.cluster.sbr.SplitBrainResolverProvider";

  /**
   * The longest a roster write may wait for the other nodes: the broadcaster's ask of the
   * replicator fails after Akka's {@code replicator-message-adapter-unexpected-ask-timeout} (20s).
   */
  static final Duration MAX_ROSTER_WRITE_TIMEOUT = Duration.ofSeconds(15);

  /** The strategies Akka's Split Brain Resolver knows. */
  private static final Set<String> STRATEGIES =
      Set.of(
          "keep-majority",
          "keep-oldest",
          "static-quorum",
          "keep-referee",
          "down-all",
          "lease-majority");

  /** The serializer of {@link CborSerializable} messages (from akka-serialization-jackson). */
  static final String CBOR_SERIALIZER = "jackson-cbor";

  /** The frames a node sends to a client's connection, which may be on another node. */
  private static final String WIRE_FRAMES = "dev.parley.protocol.ServerMessage";

  /** The one-line reason a cluster member without a shared database does not start. */
  public static final String NEEDS_SHARED_DATABASE =
      "a cluster needs a shared database: every node must use the same PostgreSQL database"
          + " (--db-url URL), not its own embedded one";

  /** The one-line reason seed nodes without a cluster port are refused. */
  public static final String SEEDS_NEED_CLUSTER_PORT =
      "--seed-nodes (cluster.seed-nodes) needs --cluster-port (cluster.enabled): without it the"
          + " node would run alone and never join them";

  /** A node to contact to join the cluster: {@code HOST:PORT} on the command line. */
  public record SeedNode(String host, int port) {
    public SeedNode {
      if (host.isBlank()) {
        throw new IllegalArgumentException("a seed node needs a host, as HOST:PORT");
      }
      requirePort(port, "a seed node's port");
    }

    /**
     * Reads {@code HOST:PORT}; an IPv6 address goes in brackets ({@code [::1]:25520}).
     *
     * @throws IllegalArgumentException if it is not of that form
     */
    public static SeedNode parse(String text) {
      String trimmed = text.trim();
      int colon = trimmed.lastIndexOf(':');
      if (colon <= 0 || colon == trimmed.length() - 1) {
        throw new IllegalArgumentException("a seed node is HOST:PORT, not '" + text + "'");
      }
      String host = trimmed.substring(0, colon);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      } else if (host.contains(":")) {
        throw new IllegalArgumentException(
            "an IPv6 seed node goes in brackets, [ADDRESS]:PORT, not '" + text + "'");
      }
      String port = trimmed.substring(colon + 1);
      if (!port.chars().allMatch(Character::isDigit) || port.length() > 5) {
        throw new IllegalArgumentException("a seed node's port is a number, not '" + port + "'");
      }
      return new SeedNode(host, Integer.parseInt(port));
    }

    /** The seed's Akka address, {@code akka://SYSTEM@HOST:PORT}. */
    public String akkaAddress(String systemName) {
      String literal = host.contains(":") ? "[" + host + "]" : host;
      return "akka://" + systemName + "@" + literal + ":" + port;
    }

    @Override
    public String toString() {
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
  }

  public ClusterSettings {
    seedNodes = List.copyOf(seedNodes);
    if (host.isBlank()) {
      throw new IllegalArgumentException("cluster.host must not be empty");
    }
    requirePort(port, "cluster.port");
    if (!STRATEGIES.contains(downingStrategy)) {
      throw new IllegalArgumentException(
          "cluster.split-brain-resolver.active-strategy must be one of "
              + STRATEGIES.stream().sorted().toList()
              + ", not '"
              + downingStrategy
              + "'");
    }
    if (stableAfter.isNegative() || stableAfter.isZero()) {
      throw new IllegalArgumentException(
          "cluster.split-brain-resolver.stable-after must be a positive duration");
    }
    requirePositive(ownerIdleTimeout, "cluster.owner-idle-timeout");
    requirePositive(ownerTimeout, "cluster.owner-timeout");
    if (ownerAttempts < 1) {
      throw new IllegalArgumentException("cluster.owner-attempts must be at least 1");
    }
    if (ownerStash < 1) {
      throw new IllegalArgumentException("cluster.owner-stash must be at least 1");
    }
    requirePositive(rosterNotifyInterval, "cluster.roster.notify-interval");
    requirePositive(rosterGossipInterval, "cluster.roster.gossip-interval");
    requirePositive(rosterWriteTimeout, "cluster.roster.write-timeout");
    if (rosterWriteTimeout.compareTo(MAX_ROSTER_WRITE_TIMEOUT) > 0) {
      throw new IllegalArgumentException(
          "cluster.roster.write-timeout must be at most "
              + MAX_ROSTER_WRITE_TIMEOUT.toSeconds()
              + "s (Akka gives up on the write's answer after 20s)");
    }
    requirePositive(rosterDepartedTtl, "cluster.roster.departed-ttl");
  }

  public static ClusterSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    return new ClusterSettings(
        c.getBoolean("enabled"),
        c.getString("host"),
        c.getInt("port"),
        c.getStringList("seed-nodes").stream().map(SeedNode::parse).toList(),
        c.getString("split-brain-resolver.active-strategy"),
        c.getDuration("split-brain-resolver.stable-after"),
        c.getDuration("owner-idle-timeout"),
        c.getInt("owner-stash"),
        c.getDuration("owner-timeout"),
        c.getInt("owner-attempts"),
        c.getDuration("roster.notify-interval"),
        c.getDuration("roster.gossip-interval"),
        c.getDuration("roster.write-timeout"),
        c.getDuration("roster.departed-ttl"));
  }

  /**
   * Why a node with these settings and this store must not start, if it must not: a cluster member
   * on its own embedded database would keep users apart from the other nodes', and seed nodes
   * without a cluster port would be silently ignored.
   */
  public Optional<String> refusal(StoreSettings store) {
    if (enabled && store.embedded()) {
      return Optional.of(NEEDS_SHARED_DATABASE);
    }
    if (!enabled && !seedNodes.isEmpty()) {
      return Optional.of(SEEDS_NEED_CLUSTER_PORT);
    }
    return Optional.empty();
  }

  /** This node as a seed node: where the others reach it. */
  public SeedNode self() {
    return new SeedNode(host, port);
  }

  /**
   * The seed nodes to join through: those configured, or this node alone, which then forms a new
   * cluster by joining itself.
   */
  public List<SeedNode> effectiveSeedNodes() {
    return seedNodes.isEmpty() ? List.of(self()) : seedNodes;
  }

  /**
   * Akka's settings for a cluster member, to be layered over the file configuration: they follow
   * from the {@code parley.server.cluster} keys, so the operator has one place to set them (and a
   * setting of Akka's own placed in {@code reference.conf} would be lost in the packaged jar, see
   * {@code application.conf}). Akka's other cluster settings are left to the configuration, among
   * them Artery's transport: plain TCP by default, {@code tls-tcp} with its keys set in a {@code
   * --config} file (docs/cluster.md).
   */
  public Config akkaConfig(String systemName) {
    Map<String, Object> akka = new LinkedHashMap<>();
    akka.put("akka.actor.provider", "cluster");
    akka.put("akka.remote.artery.canonical.hostname", host);
    akka.put("akka.remote.artery.canonical.port", port);
    akka.put(
        "akka.cluster.seed-nodes",
        effectiveSeedNodes().stream().map(seed -> seed.akkaAddress(systemName)).toList());
    akka.put("akka.cluster.downing-provider-class", SPLIT_BRAIN_RESOLVER);
    akka.put("akka.cluster.split-brain-resolver.active-strategy", downingStrategy);
    akka.put("akka.cluster.split-brain-resolver.stable-after", stableAfter.toMillis() + "ms");
    akka.put(
        "akka.cluster.distributed-data.notify-subscribers-interval",
        rosterNotifyInterval.toMillis() + "ms");
    akka.put(
        "akka.cluster.distributed-data.gossip-interval", rosterGossipInterval.toMillis() + "ms");
    akka.put(
        ConfigUtil.joinPath(
            "akka", "actor", "serialization-bindings", CborSerializable.class.getName()),
        CBOR_SERIALIZER);
    // Frames for a client on another node are Jackson records already (the wire's own
    // annotations): CBOR carries them as they are, and the receiving connection encodes them.
    akka.put(
        ConfigUtil.joinPath("akka", "actor", "serialization-bindings", WIRE_FRAMES),
        CBOR_SERIALIZER);
    // A user's owner knows when it may go (offline, nothing under way): sharding's own idle
    // passivation would stop the owner of an online user who is merely quiet.
    akka.put("akka.cluster.sharding.passivation.strategy", "none");
    return ConfigFactory.parseMap(akka);
  }

  private static void requirePositive(Duration duration, String name) {
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + " must be a positive duration");
    }
  }

  private static void requirePort(int port, String name) {
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException(name + " must be between 1 and 65535, not " + port);
    }
  }
}
