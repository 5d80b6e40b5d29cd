package dev.parley.bench.scenario;

import dev.parley.bench.client.Reconnects;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.HdrHistogram.Histogram;

/**
 * The figures of one reconnect storm, or of all of a run's storms together: how the users came back
 * ({@link Return}), whether the probes' commands were answered and their messages delivered ({@link
 * Probes}), and whether the laggards got every kept message ({@link Kept}). {@link #addTo} writes
 * them under the keys {@code parley-bench --help} documents for {@code reconnect}; a storm that did
 * not settle has no "all back" time ({@code unknown}).
 *
 * @param storms storms counted (1, or the run's for a total)
 * @param settled of which settled
 */
record StormResult(
    int storms,
    int settled,
    int users,
    Return returned,
    long notices,
    Probes probes,
    Kept kept,
    double benchCpuPercent,
    double busiestLoopPercent) {

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  /**
   * How the users were lost and came back.
   *
   * @param resumed users back by resuming their session with its token, not with the password
   * @param resumeRefused resumptions refused, after which the user logged in with the password
   * @param away users still away at the end
   * @param firstBackSeconds from the first lost session to the first user back
   * @param allBackSeconds to the last user back (NaN unless settled)
   * @param stormSeconds from the first user back to the last (NaN unless settled)
   * @param awayTimes how long each user that came back was away, in nanoseconds
   */
  record Return(
      Map<String, Long> lostBy,
      Map<String, Long> lostAgainBy,
      long attempts,
      Map<String, Long> refusedBy,
      long back,
      long resumed,
      long resumeRefused,
      Map<String, Long> gaveUpBy,
      int away,
      double firstBackSeconds,
      double allBackSeconds,
      double stormSeconds,
      Histogram awayTimes) {

    static final Return NONE =
        new Return(
            Map.of(),
            Map.of(),
            0,
            Map.of(),
            0,
            0,
            0,
            Map.of(),
            0,
            Double.NaN,
            Double.NaN,
            Double.NaN,
            new Histogram(3));

    static Return of(Reconnects.Storm storm, boolean settled, int away) {
      long firstLoss = storm.firstLossAt();
      long firstBack = storm.firstBackAt();
      long lastBack = storm.lastBackAt();
      boolean allBack = settled && lastBack != 0;
      return new Return(
          storm.lostBy(),
          storm.lostAgainBy(),
          storm.attempts(),
          storm.refusedBy(),
          storm.back(),
          storm.resumed(),
          storm.resumeRefused(),
          storm.gaveUpBy(),
          away,
          firstBack == 0 ? Double.NaN : seconds(firstBack - firstLoss),
          allBack ? seconds(lastBack - firstLoss) : Double.NaN,
          allBack ? seconds(lastBack - firstBack) : Double.NaN,
          storm.awayTimes());
    }

    /** Both: counts added up, times at their worst (unknown if either did not settle). */
    Return plus(Return other, boolean bothSettled) {
      Histogram times = awayTimes.copy();
      times.add(other.awayTimes);
      return new Return(
          merge(lostBy, other.lostBy),
          merge(lostAgainBy, other.lostAgainBy),
          attempts + other.attempts,
          merge(refusedBy, other.refusedBy),
          back + other.back,
          resumed + other.resumed,
          resumeRefused + other.resumeRefused,
          merge(gaveUpBy, other.gaveUpBy),
          other.away,
          worst(firstBackSeconds, other.firstBackSeconds),
          bothSettled ? worst(allBackSeconds, other.allBackSeconds) : Double.NaN,
          bothSettled ? worst(stormSeconds, other.stormSeconds) : Double.NaN,
          times);
    }

    long lost() {
      return sum(lostBy, cause -> true);
    }

    long lostWithoutGoodbye() {
      return sum(lostBy, Reconnects::isWithoutGoodbye);
    }

    long lostAgain() {
      return sum(lostAgainBy, cause -> true);
    }

    long gaveUp() {
      return sum(gaveUpBy, cause -> true);
    }

    long refused(String cause) {
      return refusedBy.getOrDefault(cause, 0L);
    }

    void addTo(Summary summary) {
      long lost = lost();
      long shutdown = lostBy.getOrDefault(Reconnects.GOODBYE + "server-shutdown", 0L);
      long withoutGoodbye = lostWithoutGoodbye();
      summary
          .put("lost", lost)
          .put("lost_shutdown", shutdown)
          .put("lost_other_goodbye", lost - shutdown - withoutGoodbye)
          .put("lost_no_goodbye", withoutGoodbye)
          .put("lost_again", lostAgain())
          .put("lost_causes", causes(lostBy))
          .put("lost_again_causes", causes(lostAgainBy))
          .put("attempts", attempts)
          .put("refused", sum(refusedBy, cause -> true))
          .put("refused_unreachable", refused(Reconnects.UNREACHABLE))
          .put("refused_no_answer", refused(Reconnects.NO_ANSWER))
          .put("refused_already_online", refused("login-failed-already-online"))
          .put("refused_server_busy", refused(Reconnects.GOODBYE + "server-busy"))
          .put(
              "refused_rate_limited",
              refused(Reconnects.GOODBYE + "rate-limited") + refused("error-rate-limited"))
          .put("refusals", causes(refusedBy))
          .put("back", back)
          .put("resumed", resumed)
          .put("resume_refused", resumeRefused)
          .put("gave_up", gaveUp())
          .put("gave_up_causes", causes(gaveUpBy))
          .put("away", away)
          .put("first_back_s", firstBackSeconds, 2)
          .put("all_back_s", allBackSeconds, 2)
          .put("storm_s", stormSeconds, 2)
          .put("away_p50_s", Latency.millis(awayTimes, 50) / 1e3, 2)
          .put("away_p99_s", Latency.millis(awayTimes, 99) / 1e3, 2)
          .put("away_max_s", Latency.millis(awayTimes, 100) / 1e3, 2);
    }
  }

  /** What the probes sent, what was answered, and what their messages became. */
  record Probes(
      long commands,
      long inStorm,
      long answered,
      long lostWithSession,
      Histogram answerTimes,
      Map<String, Long> errors,
      long messagesSent,
      long accepted,
      long stored,
      long refused,
      long delivered,
      long duplicated) {

    static final Probes NONE = new Probes(0, 0, 0, 0, new Histogram(3), Map.of(), 0, 0, 0, 0, 0, 0);

    static Probes of(ProbeTraffic probes) {
      return new Probes(
          probes.sent(),
          probes.sentInStorm(),
          probes.answered(),
          probes.lostWithSession(),
          probes.answerTimes(),
          probes.errors(),
          probes.messagesSent(),
          probes.accepted(),
          probes.stored(),
          probes.refused(),
          probes.delivered(),
          probes.duplicated());
    }

    Probes plus(Probes other) {
      Histogram times = answerTimes.copy();
      times.add(other.answerTimes);
      return new Probes(
          commands + other.commands,
          inStorm + other.inStorm,
          answered + other.answered,
          lostWithSession + other.lostWithSession,
          times,
          merge(errors, other.errors),
          messagesSent + other.messagesSent,
          accepted + other.accepted,
          stored + other.stored,
          refused + other.refused,
          delivered + other.delivered,
          duplicated + other.duplicated);
    }

    long unanswered() {
      return commands - answered - lostWithSession;
    }

    long lost() {
      return Math.max(0, accepted - delivered);
    }

    void addTo(Summary summary) {
      summary
          .put("probe_commands", commands)
          .put("probe_in_storm", inStorm)
          .put("probe_answered", answered)
          .put("probe_unanswered", unanswered())
          .put("probe_lost_with_session", lostWithSession)
          .put("probe_p50_ms", Latency.millis(answerTimes, 50), 1)
          .put("probe_p99_ms", Latency.millis(answerTimes, 99), 1)
          .put("probe_max_ms", Latency.millis(answerTimes, 100), 1)
          .put("probe_errors", causes(errors))
          .put("messages_sent", messagesSent)
          .put("messages_accepted", accepted)
          .put("messages_stored", stored)
          .put("messages_refused", refused)
          .put("messages_delivered", delivered)
          .put("messages_lost", lost())
          .put("messages_duplicated", duplicated);
    }
  }

  /**
   * What became of the messages kept for the laggards.
   *
   * @param before what the laggards had received when the server went down
   * @param resent of that, what the server sent again after the restart
   */
  record Kept(long sent, long accepted, long delivered, long duplicated, long before, long resent) {

    static final Kept NONE = new Kept(0, 0, 0, 0, 0, 0);

    static Kept of(KeptTraffic kept, long before) {
      return new Kept(
          kept.sent(), kept.accepted(), kept.delivered(), kept.duplicated(), before, kept.resent());
    }

    Kept plus(Kept other) {
      return new Kept(
          sent + other.sent,
          accepted + other.accepted,
          delivered + other.delivered,
          duplicated + other.duplicated,
          before + other.before,
          resent + other.resent);
    }

    long lost() {
      return Math.max(0, accepted - delivered);
    }

    /** Of what the laggards had before the restart, what the server did not send again. */
    long notResent() {
      return Math.max(0, before - resent);
    }

    void addTo(Summary summary) {
      summary
          .put("kept_sent", sent)
          .put("kept_accepted", accepted)
          .put("kept_delivered", delivered)
          .put("kept_lost", lost())
          .put("kept_duplicated", duplicated)
          .put("kept_before_restart", before)
          .put("kept_resent", resent)
          .put("kept_not_resent", notResent());
    }
  }

  /**
   * One storm, once it is over (or the run gave up waiting for it).
   *
   * @param settled whether every user was back (or given up) for good
   * @param away users still away at the end
   * @param notices presence notices the users received during the storm
   * @param keptBefore what the laggards had received when the server went down
   */
  static StormResult of(
      Reconnects.Storm storm,
      boolean settled,
      int users,
      int away,
      long notices,
      ProbeTraffic probes,
      KeptTraffic kept,
      long keptBefore,
      ResourceUse use) {
    return new StormResult(
        1,
        settled ? 1 : 0,
        users,
        Return.of(storm, settled, away),
        notices,
        Probes.of(probes),
        Kept.of(kept, keptBefore),
        use.benchPercent(),
        use.busiestLoopPercent());
  }

  /** All storms together: counts added up, times at their worst. */
  static StormResult total(List<StormResult> results, int users) {
    StormResult sum =
        new StormResult(
            0, 0, users, Return.NONE, 0, Probes.NONE, Kept.NONE, Double.NaN, Double.NaN);
    for (StormResult result : results) {
      sum = sum.storms == 0 ? result : sum.plus(result);
    }
    return sum;
  }

  private StormResult plus(StormResult other) {
    return new StormResult(
        storms + other.storms,
        settled + other.settled,
        users,
        returned.plus(other.returned, isSettled() && other.isSettled()),
        notices + other.notices,
        probes.plus(other.probes),
        kept.plus(other.kept),
        worst(benchCpuPercent, other.benchCpuPercent),
        worst(busiestLoopPercent, other.busiestLoopPercent));
  }

  /** Whether every storm counted here settled. */
  boolean isSettled() {
    return settled == storms && storms > 0;
  }

  /** The figures, under their documented keys. */
  Summary addTo(Summary summary) {
    summary.put("users", users);
    returned.addTo(summary);
    summary
        .put("notices", notices)
        .put("notices_per_user", notices / (double) Math.max(1, users), 1);
    probes.addTo(summary);
    kept.addTo(summary);
    return summary
        .put("bench_cpu_percent", benchCpuPercent, 1)
        .put("bench_loop_max_percent", busiestLoopPercent, 1);
  }

  /** The storms counted, and how many settled (for the run's total). */
  Summary addCountsTo(Summary summary) {
    return summary.put("storms", storms).put("storms_settled", settled);
  }

  /** {@code cause:count,cause:count} (one token), or {@code -} when there is none. */
  static String causes(Map<String, Long> counts) {
    StringBuilder out = new StringBuilder();
    counts.forEach(
        (cause, count) -> {
          if (count > 0) {
            out.append(out.length() == 0 ? "" : ",").append(cause).append(':').append(count);
          }
        });
    return out.toString();
  }

  private static double seconds(long nanos) {
    return nanos / (double) NANOS_PER_SECOND;
  }

  private static long sum(Map<String, Long> counts, Predicate<String> which) {
    return counts.entrySet().stream()
        .filter(e -> which.test(e.getKey()))
        .mapToLong(Map.Entry::getValue)
        .sum();
  }

  private static Map<String, Long> merge(Map<String, Long> a, Map<String, Long> b) {
    Map<String, Long> merged = new TreeMap<>(a);
    b.forEach((key, count) -> merged.merge(key, count, Long::sum));
    return merged;
  }

  /** The larger, ignoring what is unknown (NaN) unless both are. */
  private static double worst(double a, double b) {
    if (Double.isNaN(a)) {
      return b;
    }
    return Double.isNaN(b) ? a : Math.max(a, b);
  }
}
