package dev.parley.bench.scenario;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server's process as Linux's {@code /proc} shows it, given its PID: CPU time used (user plus
 * system, from {@code /proc/PID/stat}) and resident memory ({@code VmRSS} in {@code
 * /proc/PID/status}). Read before and after a phase; the differences are the server's share. With
 * several PIDs (the nodes of a cluster) each figure is the sum over all of them.
 */
public final class ServerProcess {

  private static final long DEFAULT_CLOCK_TICKS = 100;
  private static final int UTIME_AFTER_COMM = 11;
  private static final int STIME_AFTER_COMM = 12;
  private static final long COMMAND_SECONDS = 60;
  private static final Pattern USED = Pattern.compile("used (\\d+)K");

  private final List<Long> pids;
  private final long ticksPerSecond;

  private ServerProcess(List<Long> pids, long ticksPerSecond) {
    this.pids = List.copyOf(pids);
    this.ticksPerSecond = ticksPerSecond;
  }

  /** The process {@code pid}; fails when /proc does not show it. */
  public static ServerProcess of(long pid) {
    return of(List.of(pid));
  }

  /** The processes {@code pids}, summed; fails when /proc does not show one of them. */
  public static ServerProcess of(List<Long> pids) {
    if (pids.isEmpty()) {
      throw new IllegalArgumentException("no server PID");
    }
    ServerProcess process = new ServerProcess(pids, clockTicks());
    for (long pid : pids) {
      if (!Files.isReadable(stat(pid))) {
        throw new BenchFailure(
            "--server-pid " + pid + ": no such process (or no /proc; this works on Linux only)");
      }
    }
    return process;
  }

  public List<Long> pids() {
    return pids;
  }

  private static Path stat(long pid) {
    return Path.of("/proc", Long.toString(pid), "stat");
  }

  /** CPU time (user + system) the processes have used. */
  public long cpuNanos() {
    long nanos = 0;
    for (long pid : pids) {
      nanos += cpuNanos(stat(pid));
    }
    return nanos;
  }

  /** Resident memory in KiB, summed over the processes. */
  public long rssKb() {
    long kb = 0;
    for (long pid : pids) {
      kb += rssKb(Path.of("/proc", Long.toString(pid), "status"));
    }
    return kb;
  }

  /**
   * The live heap in KiB, summed over the processes (see {@link #liveHeapKb(long)}); empty when one
   * of them cannot be read.
   */
  public OptionalLong liveHeapKb() {
    long kb = 0;
    for (long pid : pids) {
      OptionalLong heap = liveHeapKb(pid);
      if (heap.isEmpty()) {
        return heap;
      }
      kb += heap.getAsLong();
    }
    return OptionalLong.of(kb);
  }

  /** CPU time (user + system) one process has used. */
  private long cpuNanos(Path stat) {
    try {
      String line = Files.readString(stat, StandardCharsets.US_ASCII);
      // The command name may hold spaces and parentheses: count fields after the last ')'.
      String[] fields = line.substring(line.lastIndexOf(')') + 2).trim().split(" ");
      long ticks =
          Long.parseLong(fields[UTIME_AFTER_COMM]) + Long.parseLong(fields[STIME_AFTER_COMM]);
      return ticks * TimeUnit.SECONDS.toNanos(1) / ticksPerSecond;
    } catch (IOException | RuntimeException e) {
      throw new BenchFailure("cannot read " + stat + " (did the server stop?): " + e.getMessage());
    }
  }

  /** Resident memory of one process in KiB. */
  private static long rssKb(Path status) {
    try {
      List<String> lines = Files.readAllLines(status, StandardCharsets.US_ASCII);
      for (String line : lines) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
        }
      }
      throw new BenchFailure(status + " has no VmRSS line");
    } catch (IOException | RuntimeException e) {
      throw new BenchFailure(
          "cannot read " + status + " (did the server stop?): " + e.getMessage());
    }
  }

  /**
   * The server's live heap in KiB: a full collection ({@code jcmd PID GC.run}), then the heap's
   * used size ({@code jcmd PID GC.heap_info}, metaspace left out). Resident memory alone says
   * little about sessions, since a JVM's heap grows and rarely gives memory back. Empty when jcmd
   * cannot attach (not a HotSpot JVM, another user, no JDK).
   */
  private static OptionalLong liveHeapKb(long pid) {
    String jcmd = jcmd();
    if (run(jcmd, Long.toString(pid), "GC.run") == null) {
      return OptionalLong.empty();
    }
    String info = run(jcmd, Long.toString(pid), "GC.heap_info");
    if (info == null) {
      return OptionalLong.empty();
    }
    long used = 0;
    boolean found = false;
    for (String line : info.split("\n")) {
      if (line.contains("Metaspace") || line.contains("class space")) {
        continue;
      }
      Matcher matcher = USED.matcher(line);
      while (matcher.find()) {
        used += Long.parseLong(matcher.group(1));
        found = true;
      }
    }
    return found ? OptionalLong.of(used) : OptionalLong.empty();
  }

  private static String jcmd() {
    Path beside = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    return Files.isExecutable(beside) ? beside.toString() : "jcmd";
  }

  /** The output of a command, or null when it fails. */
  private static String run(String... command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      try (InputStream in = process.getInputStream()) {
        String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS) && process.exitValue() == 0) {
          return out;
        }
        process.destroy();
        return null;
      }
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Clock ticks per second as {@code getconf CLK_TCK} says; 100 (Linux's) when it cannot. */
  static long clockTicks() {
    try {
      Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      try (InputStream in = getconf.getInputStream()) {
        String out = new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim();
        if (getconf.waitFor(5, TimeUnit.SECONDS) && getconf.exitValue() == 0) {
          long ticks = Long.parseLong(out);
          if (ticks > 0) {
            return ticks;
          }
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Fall back to Linux's value.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return DEFAULT_CLOCK_TICKS;
  }
}
