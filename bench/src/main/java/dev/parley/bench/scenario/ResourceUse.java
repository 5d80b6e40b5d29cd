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
    double benchPercent,
    double busiestLoopPercent,
    long serverCpuNanos,
    double serverPercent) {

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
    return new ResourceUse(
        wall / 1e9,
        100.0 * (after.benchCpuNanos() - before.benchCpuNanos()) / wall,
        100.0 * busiest / wall,
        server,
        server < 0 ? Double.NaN : 100.0 * server / wall);
  }

  /** Server CPU in microseconds per unit of work (message, delivery, login); NaN if unknown. */
  double serverMicrosPer(long units) {
    return serverCpuNanos < 0 || units <= 0 ? Double.NaN : serverCpuNanos / 1e3 / units;
  }

  /** Adds the generator's and the server's CPU to a summary. */
  void addTo(Summary summary, String perUnitKey, long units) {
    summary
        .put("bench_cpu_percent", benchPercent, 1)
        .put("bench_loop_max_percent", busiestLoopPercent, 1)
        .put("server_cpu_percent", serverPercent, 1);
    if (perUnitKey != null) {
      summary.put(perUnitKey, serverMicrosPer(units), 1);
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
