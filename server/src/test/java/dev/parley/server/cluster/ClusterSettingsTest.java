package dev.parley.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.SerializationTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.parley.server.cluster.ClusterSettings.SeedNode;
import dev.parley.server.testing.TestKits;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {

  /** A cluster member (never joined): the serializer it picks is what every node would pick. */
  private static final ActorTestKit testKit = TestKits.clusterMember("ClusterSettingsTest");

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void shouldBeStandaloneByDefault() {
    ClusterSettings settings = ClusterSettings.fromConfig(ConfigFactory.defaultReference());

    assertEquals(
        new ClusterSettings(
            false,
            "127.0.0.1",
            25_520,
            List.of(),
            "keep-majority",
            Duration.ofSeconds(20),
            Duration.ofMinutes(2),
            1000,
            Duration.ofSeconds(5),
            3,
            Duration.ofMillis(20),
            Duration.ofSeconds(1),
            Duration.ofSeconds(2),
            Duration.ofMinutes(1)),
        settings);
  }

  @Test
  void shouldGiveAkkaTheClusterProviderArteryAndTheSplitBrainResolver() {
    ClusterSettings settings =
        settings(
            "enabled = on\nhost = \"10.0.0.2\"\nport = 2552\n"
                + "seed-nodes = [\"10.0.0.1:2551\", \"10.0.0.2:2552\"]\n"
                + "split-brain-resolver.stable-after = 7s");

    Config akka = settings.akkaConfig("parley-server");

    assertEquals("cluster", akka.getString("akka.actor.provider"));
    // Left to the configuration, so that an operator can turn on tls-tcp between nodes.
    assertFalse(akka.hasPath("akka.remote.artery.transport"));
    assertEquals("10.0.0.2", akka.getString("akka.remote.artery.canonical.hostname"));
    assertEquals(2552, akka.getInt("akka.remote.artery.canonical.port"));
    assertEquals(
        List.of("akka://parley-server@10.0.0.1:2551", "akka://parley-server@10.0.0.2:2552"),
        akka.getStringList("akka.cluster.seed-nodes"));
    assertEquals(
        "akka.cluster.sbr.SplitBrainResolverProvider",
        akka.getString("akka.cluster.downing-provider-class"));
    assertEquals(
        "keep-majority", akka.getString("akka.cluster.split-brain-resolver.active-strategy"));
    assertEquals(
        Duration.ofSeconds(7), akka.getDuration("akka.cluster.split-brain-resolver.stable-after"));
    assertEquals(
        Duration.ofMillis(20),
        akka.getDuration("akka.cluster.distributed-data.notify-subscribers-interval"));
    assertEquals(
        Duration.ofSeconds(1), akka.getDuration("akka.cluster.distributed-data.gossip-interval"));
    assertEquals(
        "jackson-cbor",
        akka.getConfig("akka.actor.serialization-bindings")
            .root()
            .get(CborSerializable.class.getName())
            .unwrapped());
  }

  @Test
  void shouldStartANewClusterWhenGivenNoSeedNodes() {
    ClusterSettings settings = settings("enabled = on\nport = 2551");

    assertEquals(
        List.of("akka://parley-server@127.0.0.1:2551"),
        settings.akkaConfig("parley-server").getStringList("akka.cluster.seed-nodes"));
  }

  @Test
  void shouldReadSeedNodesWithIpv6InBrackets() {
    assertEquals(new SeedNode("node-1.example", 2551), SeedNode.parse("node-1.example:2551"));
    SeedNode v6 = SeedNode.parse(" [::1]:2551 ");
    assertEquals(new SeedNode("::1", 2551), v6);
    assertEquals("akka://parley-server@[::1]:2551", v6.akkaAddress("parley-server"));
    assertEquals("[::1]:2551", v6.toString());
  }

  @Test
  void shouldRefuseSeedNodesThatAreNotHostAndPort() {
    for (String bad :
        List.of("", "host", "host:", ":2551", "host:0", "host:65536", "host:x1", "::1:2551")) {
      assertThrows(IllegalArgumentException.class, () -> SeedNode.parse(bad), bad);
    }
  }

  @Test
  void shouldRefuseAnUnknownStrategyABadPortOrStability() {
    assertThrows(
        IllegalArgumentException.class,
        () -> settings("split-brain-resolver.active-strategy = keep-everyone"));
    assertThrows(IllegalArgumentException.class, () -> settings("port = 0"));
    assertThrows(IllegalArgumentException.class, () -> settings("host = \"\""));
    assertThrows(
        IllegalArgumentException.class, () -> settings("split-brain-resolver.stable-after = 0s"));
    assertThrows(IllegalArgumentException.class, () -> settings("roster.write-timeout = 0s"));
    assertThrows(IllegalArgumentException.class, () -> settings("roster.write-timeout = 16s"));
    assertThrows(IllegalArgumentException.class, () -> settings("roster.departed-ttl = 0s"));
  }

  /** What cluster messages will rely on: Jackson CBOR, not Java serialization, ActorRefs kept. */
  @Test
  void shouldSerializeAClusterMessageWithJacksonCbor() {
    TestProbe<String> probe = testKit.createTestProbe();
    Crossing message = new Crossing("hans", 42L, List.of("luke", "yoda"), probe.ref());

    assertEquals(
        "JacksonCborSerializer",
        SerializationExtension.get(testKit.system().classicSystem())
            .findSerializerFor(message)
            .getClass()
            .getSimpleName());
    assertEquals(
        message, new SerializationTestKit(testKit.system()).verifySerialization(message, true));
  }

  /**
   * Akka decompresses any payload that starts like lz4, whatever the binding's own compression;
   * lz4-java is the maintained fork (see the parent pom), which must still fit Akka's calls.
   */
  @Test
  void shouldReadAnLz4CompressedMessage() {
    ActorTestKit lz4 =
        ActorTestKit.create(
            "ClusterSettingsLz4Test",
            ConfigFactory.parseString(
                    "akka.serialization.jackson.jackson-cbor.compression {"
                        + " algorithm = lz4, compress-larger-than = 0 KiB }")
                .withFallback(testKit.system().settings().config()));
    try {
      Crossing message =
          new Crossing(
              "hans", 7L, List.of("x".repeat(10_000)), lz4.<String>createTestProbe().ref());
      Serialization serialization = SerializationExtension.get(lz4.system().classicSystem());
      byte[] bytes = serialization.serialize(message).get();

      assertTrue(bytes.length < 1_000, "not compressed: " + bytes.length + " bytes");
      assertEquals(
          message, new SerializationTestKit(lz4.system()).verifySerialization(message, true));
    } finally {
      lz4.shutdownTestKit();
    }
  }

  /** A message of the shape the user entities will exchange. */
  public record Crossing(String user, long sequence, List<String> names, ActorRef<String> replyTo)
      implements CborSerializable {}

  private static ClusterSettings settings(String cluster) {
    return ClusterSettings.fromConfig(
        ConfigFactory.parseString(cluster)
            .atPath(ClusterSettings.PATH)
            .withFallback(ConfigFactory.defaultReference()));
  }
}
