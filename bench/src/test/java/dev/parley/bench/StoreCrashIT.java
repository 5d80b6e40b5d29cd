package dev.parley.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.bench.durability.StoreCrashCheck;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded database keeps every commit through a crash after it has been writing for longer
 * than H2's retention time (45 s), when H2's own reopening drops the last ones (issue 11): {@link
 * StoreCrashCheck} writes as a busy node does for {@value #SECONDS} s in one process, which halts
 * itself as a SIGKILL would stop it, and another reopens the database the way the server does.
 *
 * <p>It runs after {@code package} (failsafe) because it needs the generator's jar, whose classes
 * and H2 the two processes use.
 */
class StoreCrashIT {

  /** Past the retention time by enough for H2 to reuse space many times over. */
  private static final long SECONDS = 60;

  private static final long PROCESS_TIMEOUT_SECONDS = SECONDS + 120;

  @TempDir Path dir;

  @Test
  void shouldKeepEveryCommitThroughAKillAfterTheRetentionTime() throws Exception {
    Path data = dir.resolve("data");
    assertEquals(0, run("write", data.toString(), Long.toString(SECONDS)).status());

    Result check = run("check", data.toString());

    System.out.println("[StoreCrashIT] " + check.output());
    assertTrue(check.output().contains("lost=0"), check.output());
    assertTrue(check.output().contains("recovered_version="), "the recovery pass ran");
    assertEquals(0, check.status(), check.output());
  }

  private record Result(int status, String output) {}

  private Result run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("parley.bench.jar"));
    command.add(StoreCrashCheck.class.getName());
    command.addAll(List.of(args));
    Path output = Files.createTempFile(dir, args[0], ".out");
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .start();
    if (!process.waitFor(PROCESS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(args[0] + " did not finish in " + PROCESS_TIMEOUT_SECONDS + " s");
    }
    String text = Files.readString(output, StandardCharsets.UTF_8);
    String last =
        text.lines().filter(line -> line.startsWith("committed=")).reduce((a, b) -> b).orElse(text);
    return new Result(process.exitValue(), last);
  }
}
