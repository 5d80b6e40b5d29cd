package dev.parley.it.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a JVM process costs, seen from outside: its resident set from {@code /proc}, and its live
 * heap after a full collection through {@code jcmd} (from the running JDK).
 */
public final class ProcessProbe {

  private static final Pattern RSS = Pattern.compile("^VmRSS:\\s+(\\d+) kB", Pattern.MULTILINE);

  /** "def new generation total 9792K, used 1234K" and "tenured generation total ..., used ...". */
  private static final Pattern GENERATION_USED =
      Pattern.compile("generation\\s+total \\d+K, used (\\d+)K");

  private final long pid;

  public ProcessProbe(long pid) {
    this.pid = pid;
  }

  /** Resident set size in KiB, or -1 if the process is gone. */
  public long rssKib() {
    try {
      Matcher matcher =
          RSS.matcher(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
      return matcher.find() ? Long.parseLong(matcher.group(1)) : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  /** Runs a full collection, then answers the heap in use in KiB (-1 if jcmd could not tell). */
  public long liveHeapKib() {
    jcmd("GC.run");
    Matcher matcher = GENERATION_USED.matcher(heapInfo());
    long used = 0;
    boolean found = false;
    while (matcher.find()) {
      used += Long.parseLong(matcher.group(1));
      found = true;
    }
    return found ? used : -1;
  }

  public String heapInfo() {
    return jcmd("GC.heap_info");
  }

  private String jcmd(String command) {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    List<String> line = new ArrayList<>(List.of(jcmd.toString(), Long.toString(pid), command));
    try {
      Process process = new ProcessBuilder(line).redirectErrorStream(true).start();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      return new String(output, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }
}
