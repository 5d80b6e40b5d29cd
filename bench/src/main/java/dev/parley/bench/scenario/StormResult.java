package dev.parley.bench.scenario;

import dev.parley.bench.client.Reconnects;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.HdrHistogram.Histogram;

/**
 * The figures of one reconnect storm, or of all of a run's storms together: who was lost and how,
 * what coming back took, whether the probes' commands were answered and their messages delivered.
 * {@link #addTo} writes them under the keys {@code parley-bench --help} documents for {@code
 * reconnect}; a storm that did not settle has no "all back" time ({@code unknown}).
 */
final class StormResult {

  private static final String SHUTDOWN = Reconnects.GOODBYE + "server-shutdown";
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final int storms;
  private final int settled;
  private final int users;
  private final Map<String, Long> lostBy;
  private final Map<String, Long> lostAgainBy;
  private final long attempts;
  private final Map<String, Long> refusedBy;
  private final long back;
  private final Map<String, Long> gaveUpBy;
  private final int away;
  private final double firstBackSeconds;
  private final double allBackSeconds;
  private final double stormSeconds;
  private final Histogram awayTimes;
  private final long notices;
  private final long probeCommands;
  private final long probeInStorm;
  private final long probeAnswered;
  private final long probeLostWithSession;
  private final Histogram answerTimes;
  private final Map<String, Long> probeErrors;
  private final long messagesSent;
  private final long messagesAccepted;
  private final long messagesStored;
  private final long messagesRefused;
  private final long messagesDelivered;
  private final long messagesDuplicated;
  private final long keptSent;
  private final long keptAccepted;
  private final long keptDelivered;
  private final long keptDuplicated;
  private final long keptBefore;
  private final long keptResent;
  private final double benchCpuPercent;
  private final double busiestLoopPercent;

  private StormResult(
      int storms,
      int settled,
      int users,
      Map<String, Long> lostBy,
      Map<String, Long> lostAgainBy,
      long attempts,
      Map<String, Long> refusedBy,
      long back,
      Map<String, Long> gaveUpBy,
      int away,
      double firstBackSeconds,
      double allBackSeconds,
      double stormSeconds,
      Histogram awayTimes,
      long notices,
      long probeCommands,
      long probeInStorm,
      long probeAnswered,
      long probeLostWithSession,
      Histogram answerTimes,
      Map<String, Long> probeErrors,
      long messagesSent,
      long messagesAccepted,
      long messagesStored,
      long messagesRefused,
      long messagesDelivered,
      long messagesDuplicated,
      long keptSent,
      long keptAccepted,
      long keptDelivered,
      long keptDuplicated,
      long keptBefore,
      long keptResent,
      double benchCpuPercent,
      double busiestLoopPercent) {
    this.storms = storms;
    this.settled = settled;
    this.users = users;
    this.lostBy = lostBy;
    this.lostAgainBy = lostAgainBy;
    this.attempts = attempts;
    this.refusedBy = refusedBy;
    this.back = back;
    this.gaveUpBy = gaveUpBy;
    this.away = away;
    this.firstBackSeconds = firstBackSeconds;
    this.allBackSeconds = allBackSeconds;
    this.stormSeconds = stormSeconds;
    this.awayTimes = awayTimes;
    this.notices = notices;
    this.probeCommands = probeCommands;
    this.probeInStorm = probeInStorm;
    this.probeAnswered = probeAnswered;
    this.probeLostWithSession = probeLostWithSession;
    this.answerTimes = answerTimes;
    this.probeErrors = probeErrors;
    this.messagesSent = messagesSent;
    this.messagesAccepted = messagesAccepted;
    this.messagesStored = messagesStored;
    this.messagesRefused = messagesRefused;
    this.messagesDelivered = messagesDelivered;
    this.messagesDuplicated = messagesDuplicated;
    this.keptSent = keptSent;
    this.keptAccepted = keptAccepted;
    this.keptDelivered = keptDelivered;
    this.keptDuplicated = keptDuplicated;
    this.keptBefore = keptBefore;
    this.keptResent = keptResent;
    this.benchCpuPercent = benchCpuPercent;
    this.busiestLoopPercent = busiestLoopPercent;
  }

  /**
   * One storm, once it is over (or the run gave up waiting for it).
   *
   * @param settled whether every user was back (or given up) for good
   * @param away users still away at the end
   * @param notices presence notices the users received during the storm
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
    long firstLoss = storm.firstLossAt();
    long firstBack = storm.firstBackAt();
    long lastBack = storm.lastBackAt();
    return new StormResult(
        1,
        settled ? 1 : 0,
        users,
        storm.lostBy(),
        storm.lostAgainBy(),
        storm.attempts(),
        storm.refusedBy(),
        storm.back(),
        storm.gaveUpBy(),
        away,
        firstBack == 0 ? Double.NaN : (firstBack - firstLoss) / (double) NANOS_PER_SECOND,
        settled && lastBack != 0 ? (lastBack - firstLoss) / (double) NANOS_PER_SECOND : Double.NaN,
        settled && lastBack != 0 ? (lastBack - firstBack) / (double) NANOS_PER_SECOND : Double.NaN,
        storm.awayTimes(),
        notices,
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
        probes.duplicated(),
        kept.sent(),
        kept.accepted(),
        kept.delivered(),
        kept.duplicated(),
        keptBefore,
        kept.resent(),
        use.benchPercent(),
        use.busiestLoopPercent());
  }

  /** All storms together: counts added up, times at their worst. */
  static StormResult total(List<StormResult> results, int users) {
    StormResult sum = null;
    for (StormResult result : results) {
      sum = sum == null ? result : sum.plus(result);
    }
    if (sum == null) {
      return new StormResult(
          0, 0, users, Map.of(), Map.of(), 0, Map.of(), 0, Map.of(), 0, Double.NaN, Double.NaN,
          Double.NaN, new Histogram(3), 0, 0, 0, 0, 0, new Histogram(3), Map.of(), 0, 0, 0, 0,
          0, 0, 0, 0, 0, 0, 0, 0, Double.NaN, Double.NaN);
    }
    return sum;
  }

  private StormResult plus(StormResult other) {
    Histogram away = awayTimes.copy();
    away.add(other.awayTimes);
    Histogram answers = answerTimes.copy();
    answers.add(other.answerTimes);
    return new StormResult(
        storms + other.storms,
        settled + other.settled,
        users,
        merge(lostBy, other.lostBy),
        merge(lostAgainBy, other.lostAgainBy),
        attempts + other.attempts,
        merge(refusedBy, other.refusedBy),
        back + other.back,
        merge(gaveUpBy, other.gaveUpBy),
        other.away,
        worst(firstBackSeconds, other.firstBackSeconds),
        settled() && other.settled() ? worst(allBackSeconds, other.allBackSeconds) : Double.NaN,
        settled() && other.settled() ? worst(stormSeconds, other.stormSeconds) : Double.NaN,
        away,
        notices + other.notices,
        probeCommands + other.probeCommands,
        probeInStorm + other.probeInStorm,
        probeAnswered + other.probeAnswered,
        probeLostWithSession + other.probeLostWithSession,
        answers,
        merge(probeErrors, other.probeErrors),
        messagesSent + other.messagesSent,
        messagesAccepted + other.messagesAccepted,
        messagesStored + other.messagesStored,
        messagesRefused + other.messagesRefused,
        messagesDelivered + other.messagesDelivered,
        messagesDuplicated + other.messagesDuplicated,
        keptSent + other.keptSent,
        keptAccepted + other.keptAccepted,
        keptDelivered + other.keptDelivered,
        keptDuplicated + other.keptDuplicated,
        keptBefore + other.keptBefore,
        keptResent + other.keptResent,
        worst(benchCpuPercent, other.benchCpuPercent),
        worst(busiestLoopPercent, other.busiestLoopPercent));
  }

  boolean settled() {
    return settled == storms && storms > 0;
  }

  long back() {
    return back;
  }

  int away() {
    return away;
  }

  double allBackSeconds() {
    return allBackSeconds;
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

  long probeUnanswered() {
    return probeCommands - probeAnswered - probeLostWithSession;
  }

  long messagesLost() {
    return Math.max(0, messagesAccepted - messagesDelivered);
  }

  long keptLost() {
    return Math.max(0, keptAccepted - keptDelivered);
  }

  long keptDuplicated() {
    return keptDuplicated;
  }

  /** Of what the laggards had before the restart, what the server did not send again after it. */
  long keptNotResent() {
    return Math.max(0, keptBefore - keptResent);
  }

  Map<String, Long> probeErrors() {
    return probeErrors;
  }

  /** The figures, under their documented keys. */
  Summary addTo(Summary summary) {
    long lost = lost();
    long shutdown = lostBy.getOrDefault(SHUTDOWN, 0L);
    long withoutGoodbye = lostWithoutGoodbye();
    long refused = sum(refusedBy, cause -> true);
    summary
        .put("users", users)
        .put("lost", lost)
        .put("lost_shutdown", shutdown)
        .put("lost_other_goodbye", lost - shutdown - withoutGoodbye)
        .put("lost_no_goodbye", withoutGoodbye)
        .put("lost_again", lostAgain())
        .put("lost_causes", causes(lostBy))
        .put("lost_again_causes", causes(lostAgainBy))
        .put("attempts", attempts)
        .put("refused", refused)
        .put("refused_unreachable", refused(Reconnects.UNREACHABLE))
        .put("refused_no_answer", refused(Reconnects.NO_ANSWER))
        .put("refused_already_online", refused("login-failed-already-online"))
        .put("refused_server_busy", refused(Reconnects.GOODBYE + "server-busy"))
        .put(
            "refused_rate_limited",
            refused(Reconnects.GOODBYE + "rate-limited") + refused("error-rate-limited"))
        .put("refusals", causes(refusedBy))
        .put("back", back)
        .put("gave_up", gaveUp())
        .put("gave_up_causes", causes(gaveUpBy))
        .put("away", away)
        .put("first_back_s", firstBackSeconds, 2)
        .put("all_back_s", allBackSeconds, 2)
        .put("storm_s", stormSeconds, 2)
        .put("away_p50_s", seconds(awayTimes, 50), 2)
        .put("away_p99_s", seconds(awayTimes, 99), 2)
        .put("away_max_s", seconds(awayTimes, 100), 2)
        .put("notices", notices)
        .put("notices_per_user", notices / (double) Math.max(1, users), 1)
        .put("probe_commands", probeCommands)
        .put("probe_in_storm", probeInStorm)
        .put("probe_answered", probeAnswered)
        .put("probe_unanswered", probeUnanswered())
        .put("probe_lost_with_session", probeLostWithSession)
        .put("probe_p50_ms", Latency.millis(answerTimes, 50), 1)
        .put("probe_p99_ms", Latency.millis(answerTimes, 99), 1)
        .put("probe_max_ms", Latency.millis(answerTimes, 100), 1)
        .put("probe_errors", causes(probeErrors))
        .put("messages_sent", messagesSent)
        .put("messages_accepted", messagesAccepted)
        .put("messages_stored", messagesStored)
        .put("messages_refused", messagesRefused)
        .put("messages_delivered", messagesDelivered)
        .put("messages_lost", messagesLost())
        .put("messages_duplicated", messagesDuplicated)
        .put("kept_sent", keptSent)
        .put("kept_accepted", keptAccepted)
        .put("kept_delivered", keptDelivered)
        .put("kept_lost", keptLost())
        .put("kept_duplicated", keptDuplicated)
        .put("kept_before_restart", keptBefore)
        .put("kept_resent", keptResent)
        .put("kept_not_resent", keptNotResent())
        .put("bench_cpu_percent", benchCpuPercent, 1)
        .put("bench_loop_max_percent", busiestLoopPercent, 1);
    return summary;
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

  private static double seconds(Histogram histogram, double percentile) {
    return Latency.millis(histogram, percentile) / 1e3;
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
