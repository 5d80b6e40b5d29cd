package dev.parley.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigResolveOptions;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoreSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SIGTERM runs the node's stop before the JVM's exit, so the embedded database is still open for
 * the stop's last writes. Left to the JVM, the signal starts every shutdown hook at once, and H2's
 * closes the database under the node's own (Akka's coordinated shutdown): its writes then fail with
 * "Database is already closed". The child process below stops as a node does, both ways: on the
 * signal through {@link StopSignals}, and from a JVM shutdown hook, as Akka's would, if the signal
 * reached the JVM instead.
 */
class StopSignalsTest {

  private static final String READY = "ready";
  private static final String USABLE = "store usable in the stop";

  @Test
  void shouldStopOnSigtermWithTheStoreStillOpenAndExitAsTheJvmWould(@TempDir Path dir)
      throws IOException, InterruptedException {
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Child.class.getName(),
                dir.toString())
            .redirectErrorStream(true)
            .start();
    BufferedReader output =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String first = output.readLine();
    assertNotNull(first, "the child ended before it was ready");
    assertEquals(READY, first);

    // Not Process.destroy(): it sends SIGTERM too, but closes the streams the output comes on.
    new ProcessBuilder("kill", "-TERM", String.valueOf(child.pid())).start().waitFor();
    assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child did not exit");
    String rest = output.lines().collect(Collectors.joining("\n"));

    assertTrue(rest.contains(USABLE), rest);
    assertEquals(128 + 15, child.exitValue(), rest);
  }

  /**
   * Opens the store, then stops on SIGTERM as a node does. Its stop waits a moment before it uses
   * the store, as a node's writes come after the sessions' goodbyes: long enough for H2's hook to
   * have closed the database if it runs, and within the half second in which the connection pool
   * hands out a connection without testing it (a busy node's journal does not pause longer).
   */
  public static final class Child {

    private static final long WRITES_AFTER_MILLIS = 200;

    public static void main(String[] args) throws SQLException {
      Store store =
          Store.open(
              StoreSettings.fromConfig(
                  ConfigFactory.parseMap(Map.of(StoreSettings.PATH + ".data-dir", args[0]))
                      .withFallback(ConfigFactory.parseResources("reference.conf"))
                      .resolve(ConfigResolveOptions.noSystem())));
      AtomicBoolean stopped = new AtomicBoolean();
      Runnable stop =
          () -> {
            if (stopped.compareAndSet(false, true)) {
              try {
                Thread.sleep(WRITES_AFTER_MILLIS);
                store.usernames();
                System.out.println(USABLE);
              } catch (SQLException | InterruptedException | RuntimeException e) {
                System.out.println("store closed under the stop: " + e);
              } finally {
                store.close();
              }
            }
          };
      // Where Akka's coordinated shutdown runs when the JVM is left to handle the signal.
      Runtime.getRuntime().addShutdownHook(new Thread(stop));
      StopSignals.install(
          signal -> {
            stop.run();
            System.exit(signal.exitStatus());
          });
      store.usernames();
      System.out.println(READY);
      System.out.flush();
      // Waits for the signal.
      while (true) {
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
