package dev.parley.it.support;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.server.store.StoreSettings;
import dev.parley.server.testing.TestDatabase;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;

/**
 * Base of the end-to-end tests: a server per test and the clients it started, all stopped after.
 */
public abstract class EndToEnd {

  private final List<HeadlessClient> clients = new ArrayList<>();
  private final List<TestDatabase> databases = new ArrayList<>();
  protected TestServer server;

  @AfterEach
  void stopEverything() {
    clients.forEach(HeadlessClient::close);
    if (server != null) {
      server.close();
    }
    for (TestDatabase database : databases) {
      try {
        database.close();
      } catch (SQLException e) {
        throw new IllegalStateException("could not drop the test's PostgreSQL schema", e);
      }
    }
  }

  /**
   * Settings that put the server on a new, empty schema of the PostgreSQL test server, dropped
   * after the test. Without {@code PARLEY_TEST_PG_URL} the test is skipped (CI sets it, and fails
   * the test instead when it is missing).
   */
  protected Map<String, Object> postgresql() throws SQLException {
    TestDatabase database = TestDatabase.postgres();
    databases.add(database);
    StoreSettings settings = database.settings();
    return Map.of(
        StoreSettings.PATH + ".url", settings.url(),
        StoreSettings.PATH + ".user", settings.user(),
        StoreSettings.PATH + ".password", settings.password());
  }

  protected TestServer startServer(Map<String, Object> overrides) {
    server = TestServer.start(overrides);
    return server;
  }

  protected TestServer startServer() {
    return startServer(Map.of());
  }

  /** A client logged in as {@code user}, past its welcome line. */
  protected HeadlessClient login(String user) {
    return track(HeadlessClient.login(server, user));
  }

  /** A client at its username prompt. */
  protected HeadlessClient connect(String name) {
    return track(HeadlessClient.connect(server, name));
  }

  protected HeadlessClient track(HeadlessClient client) {
    clients.add(client);
    return client;
  }

  protected static void logout(HeadlessClient client) {
    client.type("logout").expect("You are logged out");
    assertEquals(0, client.exitStatus(), client::transcript);
  }
}
