package dev.parley.bench.scenario;

import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.MonotonicClock;
import java.lang.management.ManagementFactory;
import java.util.Optional;

/**
 * CPU used by the generator (the whole process, and each loop thread) and by the server (from its
 * PID, when given) between two samples, as a percentage of one core.
 */
record ResourceUse(
    double seconds,
    long benchCpuNanos,
    double benchPercent,
    double busiestLoopPercent,
    long serverCpuNanos,
    double serverPercent) {

  private static final String SERVER_PREFIX = "server_";
  private static final String BENCH_PREFIX = "bench_";

  /** What the counters said at one moment; server CPU is -1 without a PID. */
  record Sample(long wallNanos, long benchCpuNanos, long[] loopCpuNanos, long serverCpuNanos) {

    static Sample take(Fleet fleet, Optional<ServerProcess> server) {
      return new Sample(
          MonotonicClock.now(),
          processCpuNanos(),
          fleet.loopCpuNanos(),
          server.map(ServerProcess::cpuNanos).orElse(-1L));
    }
  }

  static ResourceUse between(Sample before, Sample after) {
    double wall = Math.max(1, after.wallNanos() - before.wallNanos());
    double busiest = 0;
    for (int i = 0; i < before.loopCpuNanos().length; i++) {
      busiest = Math.max(busiest, after.loopCpuNanos()[i] - before.loopCpuNanos()[i]);
    }
    long server =
        before.serverCpuNanos() < 0 ? -1 : after.serverCpuNanos() - before.serverCpuNanos();
    long bench = after.benchCpuNanos() - before.benchCpuNanos();
    return new ResourceUse(
        wall / 1e9,
        bench,
        100.0 * bench / wall,
        100.0 * busiest / wall,
        server,
        server < 0 ? Double.NaN : 100.0 * server / wall);
  }

  /** Server CPU in microseconds per unit of work (message, delivery, login); NaN if unknown. */
  double serverMicrosPer(long units) {
    return serverCpuNanos < 0 || units <= 0 ? Double.NaN : serverCpuNanos / 1e3 / units;
  }

  /**
   * Adds the generator's and the server's CPU to a summary; with {@code perUnitKey} ({@code
   * server_cpu_us_per_...}), also the server's CPU per unit, and the generator's under the same
   * name with {@code bench_} (what TLS costs a client shows there).
   */
  void addTo(Summary summary, String perUnitKey, long units) {
    summary
        .put("bench_cpu_percent", benchPercent, 1)
        .put("bench_loop_max_percent", busiestLoopPercent, 1)
        .put("server_cpu_percent", serverPercent, 1);
    if (perUnitKey != null) {
      summary.put(perUnitKey, serverMicrosPer(units), 1);
      if (perUnitKey.startsWith(SERVER_PREFIX)) {
        summary.put(
            BENCH_PREFIX + perUnitKey.substring(SERVER_PREFIX.length()),
            units > 0 ? benchCpuNanos / 1e3 / units : Double.NaN,
            1);
      }
    }
  }

  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return Math.max(0, os.getProcessCpuTime());
    }
    return 0;
  }
}
