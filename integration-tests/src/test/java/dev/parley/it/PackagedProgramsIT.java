package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.Program;
import dev.parley.it.support.ServerProcess;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged programs (the jars {@code bin/parley-server} and {@code bin/parley} run) as separate
 * processes, driven through piped standard input and output as a script would drive them.
 */
class PackagedProgramsIT {

  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");

  @TempDir Path directory;

  private final List<Program> programs = new ArrayList<>();
  private Program server;
  private int port;

  @BeforeEach
  void startServer() throws IOException {
    Files.writeString(directory.resolve("credentials.txt"), "hans falcon*solo\nyoda wise@!man\n");
    server =
        track(
            Program.start("server", Program.jar("parley.server.jar"), directory, "0", "60", "600"));
    port = awaitListening(server);
  }

  @AfterEach
  void stopAll() {
    programs.forEach(Program::close);
  }

  @Test
  void shouldChatBetweenTwoClientProcesses() {
    Program hans = client("hans");
    hans.type("hans", "falcon*solo").expect(HeadlessClient.WELCOME);
    Program yoda = client("yoda");
    yoda.type("yoda", "wise@!man").expect(HeadlessClient.WELCOME);
    hans.expect("yoda logged in");

    yoda.type("message hans Hey Dude");
    hans.expect("yoda: Hey Dude");
    hans.type("logout").expect("You are logged out");
    assertEquals(0, hans.exitStatus());
    yoda.expect("hans logged out");

    // The end of piped input logs out cleanly too.
    yoda.endInput();
    assertEquals(0, yoda.exitStatus());
    assertEquals(List.of(), yoda.stderr().unread(), "nothing on stderr");
  }

  @Test
  void shouldExitWithAFailureStatusWhenTheAccountIsLocked() {
    Program client = client("hans");
    client.type("hans", "one", "two", "three");
    client.expect("Invalid Password. Please try again");
    client.expect("Invalid Password. Please try again");
    client.expect("Invalid Password. Your account has been blocked. Please try again later");
    assertEquals(1, client.exitStatus());
  }

  @Test
  void shouldSayGoodbyeToClientsWhenTheServerIsStopped() {
    // A client reconnects after a shutdown by default; this one is told not to, so that it exits.
    Program hans =
        track(
            Program.start(
                "hans",
                Program.jar("parley.client.jar"),
                directory,
                List.of("-Dparley.client.reconnect-window=0s"),
                "127.0.0.1",
                String.valueOf(port)));
    hans.expectFirstUse("127.0.0.1", port);
    hans.type("hans", "falcon*solo").expect(HeadlessClient.WELCOME);

    server.terminate();

    hans.expect("The server is shutting down. You have been logged out");
    assertEquals(3, hans.exitStatus());
    int serverStatus = server.exitStatus();
    String log = String.join("\n", server.stdout().unread());
    assertTrue(
        log.contains("stopping"),
        () ->
            "status "
                + serverStatus
                + "\n"
                + server.stdout().transcript()
                + "\nstderr:\n"
                + server.stderr().transcript());
  }

  @Test
  void shouldReportAnUnreachableServerInOneLine() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    Program client =
        track(
            Program.start(
                "client",
                Program.jar("parley.client.jar"),
                directory,
                "127.0.0.1",
                String.valueOf(closedPort)));
    assertEquals(3, client.exitStatus());
    List<String> said = new ArrayList<>(client.stdout().unread());
    said.addAll(client.stderr().unread());
    assertEquals(1, said.size(), said::toString);
    assertTrue(
        said.get(0).startsWith("Error. Cannot connect to the server at 127.0.0.1:" + closedPort),
        said.get(0));
  }

  @Test
  void shouldExplainBadArguments() {
    Program client =
        track(Program.start("client", Program.jar("parley.client.jar"), directory, "localhost"));
    assertEquals(2, client.exitStatus());
    assertTrue(client.stderr().unread().stream().anyMatch(line -> line.contains("Usage")));

    Program badServer =
        track(Program.start("bad-server", Program.jar("parley.server.jar"), directory, "port"));
    assertEquals(2, badServer.exitStatus());
    assertTrue(badServer.stderr().unread().stream().anyMatch(line -> line.contains("Usage")));
  }

  @Test
  void shouldStartTheServerFromTheClassArchiveBuiltWithTheJar() {
    // -Xshare:on: a JVM that cannot map the archive refuses to start instead of going without it.
    Program server =
        track(
            Program.script(
                "server-help",
                "parley-server",
                directory,
                Map.of("JAVA_OPTS", "-Xshare:on -Xlog:class+load=info"),
                "--help"));
    assertEquals(0, server.exitStatus(), server.stderr().transcript());
    assertTrue(
        server.stdout().unread().stream()
            .anyMatch(
                line ->
                    line.contains("dev.parley.server.Main")
                        && line.contains("source: shared objects file (top)")),
        "the server's own classes come from the archive built with the jar");
  }

  /** A client of its own, as on a user's machine: it meets the server for the first time. */
  private Program client(String name) {
    Program client =
        track(
            Program.start(
                name,
                Program.jar("parley.client.jar"),
                directory,
                List.of(),
                java.util.Map.of(Program.PARLEY_HOME, directory.resolve(name + "-home").toString()),
                "127.0.0.1",
                String.valueOf(port)));
    client.expectFirstUse("127.0.0.1", port);
    return client;
  }

  private Program track(Program program) {
    programs.add(program);
    return program;
  }

  private static int awaitListening(Program server) {
    while (true) {
      String line = server.stdout().nextLine(ServerProcess.STARTUP);
      Matcher matcher = LISTENING.matcher(line);
      if (matcher.find()) {
        return Integer.parseInt(matcher.group(1));
      }
    }
  }
}
