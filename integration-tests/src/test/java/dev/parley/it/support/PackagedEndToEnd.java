package dev.parley.it.support;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base of the end-to-end tests against the packaged server running as a process of its own (see
 * {@link ServerProcess}), with real clients in this JVM and raw connections for attackers; all of
 * them are stopped after each test.
 */
public abstract class PackagedEndToEnd {

  @TempDir protected Path directory;

  protected ServerProcess server;

  private final Deque<AutoCloseable> opened = new ArrayDeque<>();
  private final Deque<AutoCloseable> afterServer = new ArrayDeque<>();

  @AfterEach
  void closeEverything() throws Exception {
    while (!opened.isEmpty()) {
      opened.pop().close();
    }
    if (server != null) {
      server.close();
      server.program().exitStatus();
    }
    while (!afterServer.isEmpty()) {
      afterServer.pop().close();
    }
  }

  /** Starts the packaged server with JVM options, environment and command-line options. */
  protected ServerProcess startServer(
      List<String> jvmOptions, Map<String, String> environment, String... options) {
    server = ServerProcess.start(directory, jvmOptions, environment, options);
    return server;
  }

  /** Starts the packaged server with these JVM options (settings as -Dparley.server.*). */
  protected ServerProcess startServer(String... jvmOptions) {
    return startServer(List.of(jvmOptions), Map.of());
  }

  /** A real client logged in as {@code user} (a demo account), past its welcome line. */
  protected HeadlessClient login(String user) {
    return login(user, TestServer.PASSWORDS.get(user));
  }

  protected HeadlessClient login(String user, String password) {
    return track(
        HeadlessClient.login(server.host(), server.port(), server.fingerprint(), user, password));
  }

  /** A real client at its username prompt. */
  protected HeadlessClient connect(String name) {
    return track(
        HeadlessClient.connect(
            server.host(), server.port(), name, HeadlessClient.pinned(server.fingerprint())));
  }

  /** A raw connection logged in as {@code user} (a demo account). */
  protected RawConnection rawLogin(String user) {
    return track(
        RawConnection.login(server.host(), server.port(), user, TestServer.PASSWORDS.get(user)));
  }

  /** Closed after the test, before the server, in the reverse order of tracking. */
  protected <T extends AutoCloseable> T track(T resource) {
    opened.push(resource);
    return resource;
  }

  /** Closed after the test once the server has ended (a database it was using, say). */
  protected <T extends AutoCloseable> T trackAfterServer(T resource) {
    afterServer.push(resource);
    return resource;
  }
}
