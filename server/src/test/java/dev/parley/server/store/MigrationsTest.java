package dev.parley.server.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The parts of the migrations that need no database (see {@link StoreTest} for the rest), and the
 * statement splitting of the runner of the releases before Flyway, which the tests use to build an
 * old database.
 */
class MigrationsTest {

  @Test
  void shouldSplitAScriptIntoStatementsWithoutComments() {
    String script =
        String.join(
            "\n",
            "-- A comment line.",
            "CREATE TABLE a (",
            "  x INTEGER, -- a comment after code",
            "  y INTEGER",
            ");",
            "",
            "CREATE INDEX a_x ON a (x);   ",
            "-- trailing comment");

    assertEquals(
        List.of("CREATE TABLE a (\n  x INTEGER, \n  y INTEGER\n)", "CREATE INDEX a_x ON a (x)"),
        ReleasedMigrations.statements(script));
  }

  @Test
  void shouldKnowEveryMigrationInOrder() {
    assertEquals(
        List.of(
            "V1__initial_schema.sql",
            "V2__client_id_index_by_id_first.sql",
            "V3__pending_sizes_and_account_events.sql",
            "V4__resumption.sql",
            "V5__message_id_blocks.sql"),
        Migrations.SCRIPTS);
    assertEquals(Migrations.SCRIPTS.size(), Migrations.latestVersion());
    for (int i = 0; i < Migrations.SCRIPTS.size(); i++) {
      assertTrue(Migrations.SCRIPTS.get(i).startsWith("V" + (i + 1) + "__"));
      assertTrue(
          Migrations.class.getResource("/db/migration/" + Migrations.SCRIPTS.get(i)) != null,
          Migrations.SCRIPTS.get(i));
    }
  }
}
