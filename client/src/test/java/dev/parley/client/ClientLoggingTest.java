package dev.parley.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

class ClientLoggingTest {

  private static final Map<String, String> NONE = Map.of();

  @Test
  void shouldLogToClientLogInTheClientsDirectory() {
    assertEquals(
        Path.of("/users/hans/.parley/client.log"),
        ClientLogging.logFile(Map.of("user.home", "/users/hans")::get, NONE::get));
    assertEquals(
        Path.of("/srv/parley/client.log"),
        ClientLogging.logFile(
            Map.of("user.home", "/users/hans")::get, Map.of("PARLEY_HOME", "/srv/parley")::get));
    assertEquals(
        Path.of("/var/log/parley.log"),
        ClientLogging.logFile(
            Map.of("user.home", "/users/hans", "parley.client.log", "/var/log/parley.log")::get,
            Map.of("PARLEY_HOME", "/srv/parley")::get));
  }

  @Test
  void shouldStepAsideForAnotherConfiguration() {
    // The tests' logback-test.xml is on the class path.
    assertEquals(
        ch.qos.logback.classic.spi.Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY,
        new ClientLogging().configure(new LoggerContext()));
  }

  @Test
  void shouldAppendWarningsAndErrorsOnlyToTheFileAndNothingToTheConsole(@TempDir Path dir)
      throws IOException, InterruptedException {
    Path file = dir.resolve("home").resolve("client.log");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "an earlier run\n");
    LoggerContext context = new LoggerContext();
    // SLF4J's binding gives the process's context one; a context of the test's own needs its own.
    context.setMDCAdapter(new LogbackMDCAdapter());
    ClientLogging.apply(context, file);
    Logger log = context.getLogger("dev.parley.client.Test");

    log.info("not worth keeping");
    log.warn("worth keeping");
    log.error("worth keeping too");
    // The async appender writes what it holds before it stops.
    context.stop();

    String logged = Files.readString(file, StandardCharsets.UTF_8);
    assertTrue(logged.startsWith("an earlier run\n"), logged);
    assertTrue(logged.contains("WARN  ["), logged);
    assertTrue(logged.contains("] dev.parley.client.Test  - worth keeping\n"), logged);
    assertTrue(logged.contains("ERROR ["), logged);
    assertTrue(logged.contains("] dev.parley.client.Test  - worth keeping too\n"), logged);
    assertFalse(logged.contains("not worth keeping"), logged);
  }
}
