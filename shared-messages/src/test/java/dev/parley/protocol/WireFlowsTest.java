package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.NotUsed;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.japi.Pair;
import akka.stream.javadsl.BidiFlow;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.testkit.TestPublisher;
import akka.stream.testkit.TestSubscriber;
import akka.stream.testkit.javadsl.TestSink;
import akka.stream.testkit.javadsl.TestSource;
import akka.util.ByteString;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection stack: newline framing with a frame limit under the JSON codec. Streams that end
 * are collected with {@link Sink#seq()} and a bounded wait; the oversized-line cases, where the
 * inbound side deliberately stays open, are driven with stream probes.
 */
final class WireFlowsTest {

  /**
   * Initialises SLF4J before the actor system starts, so that Akka's first log lines are not
   * replayed with a warning. Declared first: static fields initialise in order.
   */
  private static final Logger LOG = LoggerFactory.getLogger(WireFlowsTest.class);

  private static final ActorTestKit TEST_KIT = ActorTestKit.create();

  /** Small enough that tests can build lines at and beyond it by hand. */
  private static final int LIMIT = 64;

  /** The server's default, for the round trips, whose sample frames are longer than LIMIT. */
  private static final int DEFAULT_LIMIT = 64 * 1024;

  private static final Duration WAIT = Duration.ofSeconds(3);

  /**
   * How long the oversized cases watch for an element, completion or failure that must not come.
   */
  private static final Duration QUIET = Duration.ofMillis(300);

  @AfterAll
  static void shutdown() {
    TEST_KIT.shutdownTestKit();
    LOG.debug("test kit shut down");
  }

  @Test
  void shouldDecodeSeveralFramesFromOneChunk() throws Exception {
    List<Inbound<ClientMessage>> decoded =
        decode(
            chunks(
                "{\"type\":\"hello\",\"version\":1}\n"
                    + "{\"type\":\"username\",\"username\":\"alice\"}\n"
                    + "{\"type\":\"whoelse\"}\n"));

    assertEquals(
        List.of(
            frame(new ClientMessage.Hello(1)),
            frame(new ClientMessage.Username("alice")),
            frame(new ClientMessage.WhoElse())),
        decoded);
  }

  @Test
  void shouldReassembleFramesArrivingByteByByte() throws Exception {
    // Multi-byte characters split across chunks must not be decoded until the line is whole.
    ClientMessage first = new ClientMessage.Broadcast("héllo 中文 😀");
    ClientMessage second = new ClientMessage.SendMessage("bob", "ça va?", "m-7");
    ByteString wire = JsonCodec.CLIENT.encode(first).concat(JsonCodec.CLIENT.encode(second));

    assertEquals(List.of(frame(first), frame(second)), decode(byteByByte(wire)));
  }

  @Test
  void shouldStripACarriageReturnBeforeTheLineFeed() throws Exception {
    assertEquals(
        List.of(frame(new ClientMessage.WhoElse()), frame(new ClientMessage.Logout())),
        decode(chunks("{\"type\":\"whoelse\"}\r\n{\"type\":\"log", "out\"}\r", "\n")));
  }

  @Test
  void shouldSkipBlankLines() throws Exception {
    assertEquals(
        List.of(frame(new ClientMessage.WhoElse()), frame(new ClientMessage.Logout())),
        decode(chunks("\n\r\n  \t \n{\"type\":\"whoelse\"}\n\n \r\n{\"type\":\"logout\"}\n\n")));
  }

  @Test
  void shouldDeliverAFinalFrameWithoutLineFeed() throws Exception {
    assertEquals(
        List.of(frame(new ClientMessage.WhoElse()), frame(new ClientMessage.Logout())),
        decode(chunks("{\"type\":\"whoelse\"}\n{\"type\":", "\"logout\"}")));
  }

  @Test
  void shouldAcceptALineExactlyAtTheLimit() throws Exception {
    String atLimit = usernameLine(LIMIT);

    assertEquals(
        List.of(
            frame(usernameOf(atLimit)),
            frame(new ClientMessage.Logout()),
            frame(usernameOf(atLimit))),
        decode(chunks(atLimit + "\n{\"type\":\"logout\"}\n" + atLimit)));
  }

  @Test
  void shouldEndWithOversizedOneByteOverTheLimit() {
    Probes probes = materializeDecoder();

    probes.subscriber().request(10);
    probes.publisher().sendNext(ByteString.fromString("{\"type\":\"whoelse\"}\n"));
    probes.subscriber().expectNext(frame(new ClientMessage.WhoElse()));
    probes
        .publisher()
        .sendNext(ByteString.fromString(usernameLine(LIMIT + 1) + "\n{\"type\":\"logout\"}\n"));

    assertOversizedIsLast(probes);
  }

  @Test
  void shouldDeliverTheFramesBeforeAnOversizedLineInTheSameChunk() {
    Probes probes = materializeDecoder();

    probes.subscriber().request(10);
    probes
        .publisher()
        .sendNext(ByteString.fromString("{\"type\":\"whoelse\"}\n" + "x".repeat(LIMIT + 1) + "\n"));

    probes.subscriber().expectNext(frame(new ClientMessage.WhoElse()));
    assertOversizedIsLast(probes);
  }

  @Test
  void shouldNotWaitForTheLineFeedOfAnOversizedLine() {
    // The limit bounds the buffer: a sender cannot make the receiver hold an endless line.
    Probes probes = materializeDecoder();

    probes.subscriber().request(10);
    probes.publisher().sendNext(ByteString.fromString("x".repeat(LIMIT)));
    probes.subscriber().expectNoMessage(QUIET);
    probes.publisher().sendNext(ByteString.fromString("x"));

    assertOversizedIsLast(probes);
  }

  @Test
  void shouldCountACarriageReturnTowardsTheLimit() {
    Probes probes = materializeDecoder();

    probes.subscriber().request(10);
    probes.publisher().sendNext(ByteString.fromString(usernameLine(LIMIT) + "\r\n"));

    assertOversizedIsLast(probes);
  }

  @Test
  void shouldCarryOnAfterBadLines() throws Exception {
    List<Inbound<ClientMessage>> decoded =
        decode(
            chunks(
                "{\"type\":\"whoelse\"}\n",
                "this is not json\n",
                "{\"type\":\"shout\",\"text\":\"hi\"}\n",
                "{\"type\":\"username\"}\n",
                "{\"type\":\"whoelsesince\",\"seconds\":-5}\n",
                "{\"type\":\"logout\"}\n"));

    // Jackson's wording for invalid JSON is not part of the contract, only its kind.
    assertInstanceOf(Inbound.Malformed.class, decoded.get(1));
    assertEquals(
        List.of(
            frame(new ClientMessage.WhoElse()),
            decoded.get(1),
            new Inbound.UnknownType<ClientMessage>("shout"),
            new Inbound.Malformed<ClientMessage>("field 'username' is required"),
            new Inbound.Malformed<ClientMessage>("field 'seconds' must not be negative"),
            frame(new ClientMessage.Logout())),
        decoded);
  }

  @Test
  void shouldCarryClientAndServerFramesThroughBothStacks() throws Exception {
    // The client's stack reversed on top of the server's: client frames go down as bytes and come
    // up decoded on the server side, and server frames travel the other way. A stage in between
    // re-chunks the bytes one by one, as a slow network might.
    BidiFlow<ClientMessage, Inbound<ClientMessage>, ServerMessage, Inbound<ServerMessage>, NotUsed>
        wire =
            WireFlows.stack(JsonCodec.SERVER, JsonCodec.CLIENT, DEFAULT_LIMIT, DEFAULT_LIMIT)
                .reversed()
                .atop(BidiFlow.fromFlows(rechunkByteByByte(), rechunkByteByByte()))
                .atop(
                    WireFlows.stack(
                        JsonCodec.CLIENT, JsonCodec.SERVER, DEFAULT_LIMIT, DEFAULT_LIMIT));
    List<ClientMessage> sent = SampleFrames.frames(SampleFrames.client());
    List<ServerMessage> replies = SampleFrames.frames(SampleFrames.server());

    Pair<CompletionStage<List<Inbound<ClientMessage>>>, List<Inbound<ServerMessage>>> received =
        exchange(wire, sent, replies);

    assertEquals(sent.stream().map(WireFlowsTest::frame).toList(), await(received.first()));
    assertEquals(replies.stream().map(WireFlowsTest::frame).toList(), received.second());
  }

  @Test
  void shouldCarryPeerFramesThroughBothStacks() throws Exception {
    BidiFlow<PeerMessage, Inbound<PeerMessage>, PeerMessage, Inbound<PeerMessage>, NotUsed> wire =
        WireFlows.stack(JsonCodec.PEER, JsonCodec.PEER, DEFAULT_LIMIT, DEFAULT_LIMIT)
            .reversed()
            .atop(WireFlows.stack(JsonCodec.PEER, JsonCodec.PEER, DEFAULT_LIMIT, DEFAULT_LIMIT));
    List<PeerMessage> fromConnecting = SampleFrames.frames(SampleFrames.peer());
    List<PeerMessage> fromAccepting =
        List.of(
            new PeerMessage.Hello(Protocol.VERSION, "bob"),
            new PeerMessage.Text(1, "yes"),
            new PeerMessage.Ack(1),
            new PeerMessage.Bye(PeerMessage.Bye.Reason.LOGGED_OUT));

    Pair<CompletionStage<List<Inbound<PeerMessage>>>, List<Inbound<PeerMessage>>> received =
        exchange(wire, fromConnecting, fromAccepting);

    assertEquals(
        fromConnecting.stream().map(WireFlowsTest::frame).toList(), await(received.first()));
    assertEquals(fromAccepting.stream().map(WireFlowsTest::frame).toList(), received.second());
  }

  // ---------------------------------------------------------------------------------------------

  /** Drives a stream of client-side bytes through the server's decoder to completion. */
  private static List<Inbound<ClientMessage>> decode(List<ByteString> chunks) throws Exception {
    return await(
        Source.from(chunks)
            .via(WireFlows.decoder(JsonCodec.CLIENT, LIMIT))
            .runWith(Sink.seq(), TEST_KIT.system()));
  }

  /**
   * Runs {@code down} into the top of {@code wire} and {@code up} into its bottom; answers what
   * came out at the bottom (once it completes) and what came out at the top.
   */
  private static <A, B> Pair<CompletionStage<List<Inbound<A>>>, List<Inbound<B>>> exchange(
      BidiFlow<A, Inbound<A>, B, Inbound<B>, NotUsed> wire, List<A> down, List<B> up)
      throws Exception {
    Flow<Inbound<A>, B, CompletionStage<List<Inbound<A>>>> farEnd =
        Flow.fromSinkAndSourceMat(Sink.seq(), Source.from(up), Keep.left());
    Pair<CompletionStage<List<Inbound<A>>>, CompletionStage<List<Inbound<B>>>> result =
        Source.from(down)
            .viaMat(wire.join(farEnd, Keep.right()), Keep.right())
            .toMat(Sink.seq(), Keep.both())
            .run(TEST_KIT.system());
    return Pair.create(result.first(), await(result.second()));
  }

  private record Probes(
      TestPublisher.Probe<ByteString> publisher,
      TestSubscriber.Probe<Inbound<ClientMessage>> subscriber) {}

  private static Probes materializeDecoder() {
    Pair<TestPublisher.Probe<ByteString>, TestSubscriber.Probe<Inbound<ClientMessage>>> probes =
        TestSource.<ByteString>create(TEST_KIT.system())
            .via(WireFlows.decoder(JsonCodec.CLIENT, LIMIT))
            .toMat(TestSink.create(TEST_KIT.system()), Keep.both())
            .run(TEST_KIT.system());
    return new Probes(probes.first(), probes.second());
  }

  /**
   * An oversized line is reported once, as the last element. The decoder then swallows whatever
   * else arrives without cancelling its upstream (on TCP, a cancellation with an error would abort
   * the connection before the owner can send its last frame) and completes when its input does.
   */
  private static void assertOversizedIsLast(Probes probes) {
    probes.subscriber().expectNext(new Inbound.Oversized<ClientMessage>(LIMIT));
    probes.publisher().sendNext(ByteString.fromString("{\"type\":\"logout\"}\n"));
    probes.publisher().sendNext(ByteString.fromString("more bytes\n"));
    probes.subscriber().expectNoMessage(QUIET);
    probes.publisher().sendComplete();
    probes.subscriber().expectComplete();
  }

  private static Flow<ByteString, ByteString, NotUsed> rechunkByteByByte() {
    return Flow.<ByteString>create().mapConcat(WireFlowsTest::byteByByte);
  }

  private static List<ByteString> byteByByte(ByteString bytes) {
    List<ByteString> single = new ArrayList<>(bytes.length());
    for (int i = 0; i < bytes.length(); i++) {
      single.add(bytes.slice(i, i + 1));
    }
    return single;
  }

  private static List<ByteString> chunks(String... parts) {
    return List.of(parts).stream().map(ByteString::fromString).toList();
  }

  /** A username frame whose JSON is exactly {@code bytes} long (ASCII, so bytes = chars). */
  private static String usernameLine(int bytes) {
    String empty = "{\"type\":\"username\",\"username\":\"\"}";
    String line =
        "{\"type\":\"username\",\"username\":\"" + "a".repeat(bytes - empty.length()) + "\"}";
    assertEquals(bytes, ByteString.fromString(line).length());
    return line;
  }

  private static ClientMessage usernameOf(String line) {
    return ((Inbound.Frame<ClientMessage>) JsonCodec.CLIENT.decode(line)).frame();
  }

  private static <T> Inbound<T> frame(T frame) {
    return new Inbound.Frame<>(frame);
  }

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }
}
