package dev.parley.bench.jmh;

import akka.actor.ActorSystem;
import akka.io.Inet;
import akka.io.TcpSO;
import akka.stream.Materializer;
import akka.stream.javadsl.Flow;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.stream.javadsl.Tcp;
import akka.util.ByteString;
import dev.parley.transport.nio.SocketIo;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A server's connection writing frames as fast as its socket takes them, one frame per element, to
 * a plain blocking socket on loopback that reads them in 64 KiB reads: the cost per frame of the
 * TCP under the connection, Akka IO's ({@code io=akka}) or Parley's own ({@code io=nio}, {@code
 * socket-io = nio}). One frame per element is the shape of a fanout: each delivery reaches a
 * member's connection on its own, and what the transport gathers into one write is all the
 * gathering there is.
 *
 * <pre>
 * java -cp bench/target/parley-bench.jar org.openjdk.jmh.Main SocketWriteBenchmark \
 *   -f 1 -wi 3 -w 2s -i 5 -r 2s -prof gc -prof dev.parley.bench.jmh.CpuTimeProfiler
 * </pre>
 *
 * <p>Not final: JMH generates subclasses of benchmark classes.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SocketWriteBenchmark {

  /** Frames per operation: enough that one read's wait costs little per frame. */
  static final int FRAMES = 20_000;

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int READ_BYTES = 64 * 1024;
  private static final int BACKLOG = 16;

  /** As the server's default {@code io-write-hold}. */
  private static final Duration WRITE_HOLD = Duration.ofMillis(20);

  @Param({"akka", "nio"})
  public String io;

  private ActorSystem system;
  private SocketIo socketIo;
  private Socket client;
  private InputStream in;
  private final byte[] buffer = new byte[READ_BYTES];

  @Setup
  public void setUp() throws Exception {
    system = ActorSystem.create("socket-write-bench", Samples.quietConfig());
    Materializer materializer = Materializer.matFromSystem(system);
    Source<Tcp.IncomingConnection, CompletionStage<InetSocketAddress>> connections;
    InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    if (io.equals("nio")) {
      socketIo = new SocketIo(1, READ_BYTES, READ_BYTES, WRITE_HOLD, "socket-write-bench");
      connections =
          socketIo
              .bind(any, BACKLOG, Duration.ofMillis(100))
              .mapMaterializedValue(bound -> bound.thenApply(binding -> binding.localAddress()));
    } else {
      List<Inet.SocketOption> options = List.of(TcpSO.tcpNoDelay(true));
      connections =
          Tcp.get(system)
              .bind(any.getHostString(), 0, BACKLOG, options, true, Optional.empty())
              .mapMaterializedValue(bound -> bound.thenApply(Tcp.ServerBinding::localAddress));
    }
    ByteString frame = ByteString.fromArray(new byte[TlsStageBenchmark.FRAME_BYTES]);
    InetSocketAddress address =
        connections
            .to(
                Sink.foreach(
                    connection ->
                        connection.handleWith(
                            Flow.fromSinkAndSource(Sink.ignore(), Source.repeat(frame)),
                            materializer)))
            .run(materializer)
            .toCompletableFuture()
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    client = new Socket(address.getAddress(), address.getPort());
    client.setSoTimeout((int) WAIT.toMillis());
    in = client.getInputStream();
  }

  @TearDown
  public void tearDown() throws Exception {
    client.close();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    if (socketIo != null) {
      socketIo.close();
    }
  }

  @Benchmark
  @OperationsPerInvocation(FRAMES)
  public long serverToClient() throws IOException {
    long wanted = (long) FRAMES * TlsStageBenchmark.FRAME_BYTES;
    long read = 0;
    while (read < wanted) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, wanted - read));
      if (n < 0) {
        throw new IOException("the server closed after " + read + " bytes");
      }
      read += n;
    }
    return read;
  }
}
