package dev.parley.server.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.Done;
import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.stream.Materializer;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Tcp;
import akka.stream.snapshot.LogicSnapshot;
import akka.stream.snapshot.MaterializerState;
import akka.stream.snapshot.RunningInterpreter;
import akka.stream.snapshot.StreamSnapshot;
import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import dev.parley.server.ServerSettings;
import dev.parley.server.session.Session;
import dev.parley.server.testing.LogCapturingExtension;
import dev.parley.server.testing.TestKits;
import dev.parley.server.testing.TestSettings;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import scala.jdk.javaapi.CollectionConverters;
import scala.jdk.javaapi.FutureConverters;

/**
 * Connections' streams run inside one host, over real sockets, with probes in the sessions' place:
 * they share the host's actor, and each still starts, carries frames both ways and ends on its own.
 */
@ExtendWith(LogCapturingExtension.class)
class ConnectionHostTest {

  private static final ActorTestKit testKit = TestKits.create();
  private static final int TIMEOUT_MILLIS = 5_000;
  private static final Duration PATIENCE = Duration.ofSeconds(5);
  private static final String HELLO = "{\"type\":\"hello\",\"version\":" + Protocol.VERSION + "}";

  private final List<Socket> sockets = new ArrayList<>();
  private final List<TestProbe<Session.Command>> sessions = new ArrayList<>();
  private final List<CompletableFuture<Done>> written = new ArrayList<>();
  private ActorRef<ConnectionHost.Command> host;
  private Tcp.ServerBinding binding;
  private InetSocketAddress address;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void listen() throws Exception {
    Materializer materializer = Materializer.matFromSystem(testKit.system());
    ServerSettings settings = TestSettings.with("");
    host =
        ConnectionHost.start(
            new SessionConnection.Layers(settings, null, null), "test-host", materializer);
    for (int i = 0; i < 2; i++) {
      sessions.add(testKit.createTestProbe(Session.Command.class));
      written.add(new CompletableFuture<>());
    }
    AtomicInteger next = new AtomicInteger();
    binding =
        Tcp.get(testKit.system())
            .bind("127.0.0.1", 0)
            .to(
                Sink.foreach(
                    connection -> {
                      int i = next.getAndIncrement();
                      host.tell(
                          new ConnectionHost.Attach(
                              connection, sessions.get(i).ref(), written.get(i)));
                    }))
            .run(materializer)
            .toCompletableFuture()
            .get(5, TimeUnit.SECONDS);
    address = binding.localAddress();
  }

  @AfterEach
  void close() throws Exception {
    for (Socket socket : sockets) {
      socket.close();
    }
    binding.unbind().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void shouldRunEveryConnectionInTheHostsActor() throws Exception {
    Socket first = connect();
    Session.StreamStarted firstStarted = started(0);
    Socket second = connect();
    Session.StreamStarted secondStarted = started(1);

    // Each connection's stream is one more graph of the host's actor: the two ports run there, and
    // no stream of its own runs one.
    List<List<String>> actors = stagesByActor();
    List<String> hosts =
        actors.stream().filter(stages -> count(stages, "ConnectionHost") > 0).findFirst().get();
    assertEquals(2, count(hosts, "SessionPort"), hosts.toString());
    assertEquals(2, actors.stream().mapToLong(stages -> count(stages, "SessionPort")).sum());
    assertHeardAndAnswered(first, 0, firstStarted);
    assertHeardAndAnswered(second, 1, secondStarted);
  }

  @Test
  void shouldEndAConnectionTheClientClosesAndNoOther() throws Exception {
    Socket first = connect();
    started(0);
    Socket second = connect();
    Session.StreamStarted secondStarted = started(1);

    first.close();

    sessions.get(0).expectMessage(PATIENCE, Session.StreamCompleted.INSTANCE);
    written.get(0).get(5, TimeUnit.SECONDS);
    assertHeardAndAnswered(second, 1, secondStarted);
    assertTrue(!written.get(1).isDone());
  }

  @Test
  void shouldCloseTheConnectionOfASessionThatStopsAndNoOther() throws Exception {
    Socket first = connect();
    started(0);
    Socket second = connect();
    Session.StreamStarted secondStarted = started(1);

    sessions.get(0).stop();

    assertEquals(-1, first.getInputStream().read(), "the connection is closed");
    written.get(0).get(5, TimeUnit.SECONDS);
    assertHeardAndAnswered(second, 1, secondStarted);
  }

  /** A client's hello reaches its session, and what the session writes reaches the client. */
  private void assertHeardAndAnswered(Socket client, int session, Session.StreamStarted started)
      throws Exception {
    OutputStream out = client.getOutputStream();
    out.write((HELLO + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    started.ackTo().tell(Session.StreamAck.INSTANCE);
    Session.FrameReceived received =
        sessions.get(session).expectMessageClass(Session.FrameReceived.class, PATIENCE);
    assertEquals(
        new Inbound.Frame<>(new ClientMessage.Hello(Protocol.VERSION)), received.inbound());

    started.outbound().tell(new ServerMessage.Hello(Protocol.VERSION, "host-" + session, null));
    String line =
        new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
    assertTrue(line.contains("\"host-" + session + "\""), line);
  }

  private Socket connect() throws Exception {
    Socket socket = new Socket();
    sockets.add(socket);
    socket.connect(address, TIMEOUT_MILLIS);
    socket.setSoTimeout(TIMEOUT_MILLIS);
    return socket;
  }

  private Session.StreamStarted started(int session) {
    return sessions.get(session).expectMessageClass(Session.StreamStarted.class, PATIENCE);
  }

  /** For each actor that runs streams, the stages of the graphs it runs. */
  private static List<List<String>> stagesByActor() throws Exception {
    List<List<String>> actors = new ArrayList<>();
    for (StreamSnapshot actor :
        CollectionConverters.asJava(
            FutureConverters.asJava(
                    MaterializerState.streamSnapshots(testKit.system().classicSystem()))
                .toCompletableFuture()
                .get(5, TimeUnit.SECONDS))) {
      List<String> stages = new ArrayList<>();
      for (RunningInterpreter graph : CollectionConverters.asJava(actor.activeInterpreters())) {
        for (LogicSnapshot stage : CollectionConverters.asJava(graph.logics())) {
          stages.add(stage.label());
        }
      }
      actors.add(stages);
    }
    return actors;
  }

  private static long count(List<String> stages, String kind) {
    return stages.stream().filter(label -> label.contains(kind)).count();
  }
}
