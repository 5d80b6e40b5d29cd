package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.PackagedEndToEnd;
import dev.parley.it.support.RawConnection;
import org.junit.jupiter.api.Test;

/**
 * A connection that ends costs the server no thread of its own. On a machine with two cores or
 * fewer, the JVM's common pool has a single thread, and CompletableFuture then starts a new thread
 * for every asynchronous callback; every callback on a future from Akka's Java API is one. Each
 * connection's end started a thread that way, and a node stopping with 10,000 sessions took 5 s
 * longer to close them (docs/performance.md, issue 11's seventh round). The CI machine has two
 * cores, where this fails without the fix; on a bigger machine the pool is large enough anyway.
 */
class ServerThreadsIT extends PackagedEndToEnd {

  private static final int CONNECTIONS = 200;

  /** Threads the server may start meanwhile for reasons of its own (a pool growing, a timer). */
  private static final int ALLOWANCE = CONNECTIONS / 10;

  @Test
  void shouldStartNoThreadForEachConnectionThatEnds() {
    startServer();
    long before = server.program().threadsStarted();

    // One after the other: each ends on the server while the next is made, so that what each
    // end costs has been paid by the time the count is read.
    for (int i = 0; i < CONNECTIONS; i++) {
      try (RawConnection connection = new RawConnection(server.host(), server.port())) {
        connection.send("{\"type\":\"hello\",\"version\":3}").expectHello();
      }
    }

    long started = server.program().threadsStarted() - before;
    assertTrue(
        started <= ALLOWANCE,
        started + " threads started for " + CONNECTIONS + " connections that ended");
  }
}
