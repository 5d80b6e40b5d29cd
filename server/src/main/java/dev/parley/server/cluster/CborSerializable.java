package dev.parley.server.cluster;

/**
 * Marks a message that may cross from one node to another: the cluster configuration ({@link
 * ClusterSettings#akkaConfig(String)}) binds it to Akka's Jackson CBOR serializer, so that no
 * message is ever sent with Java serialization (which Akka refuses anyway). A record implementing
 * it must keep a shape Jackson can read back: public components, no {@code ActorRef} other than
 * Akka's own (which Akka's Jackson module handles), no interfaces without type information.
 */
public interface CborSerializable {}
