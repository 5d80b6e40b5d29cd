package dev.parley.bench.scenario;

import dev.parley.bench.BenchOptions;
import dev.parley.bench.client.Fleet;
import dev.parley.bench.client.FrameType;
import dev.parley.bench.client.MonotonicClock;
import dev.parley.bench.client.Reconnects;
import dev.parley.bench.client.SimUser;
import dev.parley.bench.client.Traffic;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code reconnect}: N users log in and stay; then the server is restarted, by someone else (an
 * operator, a script, a test), up to {@code --restarts} times, and each time the users come back as
 * Parley's client does: after a randomized, doubling wait, again and again until they are back in
 * (see {@link Reconnects}). Each restart makes a storm, from the first lost session to the moment
 * every user has been back for a second; for each the scenario prints one line (scenario {@code
 * reconnect-storm}), then one summary of all of them: how each session was lost (a goodbye, or
 * closed without one: a slow reader cut off, or a crash), the attempts and refusals, how long until
 * every user was back, the presence notices the users received, and whether the commands of the
 * users already back (the probes: {@link ProbeTraffic}) were answered and their messages delivered.
 *
 * <p>It tells a script when to restart the server: on standard error, even with {@code --quiet},
 * the line {@value #READY} K (ready for restart K) and, after that restart, {@code storm K settled}
 * or {@code storm K did not settle}. The run ends after the last restart's storm, after a storm
 * that did not settle, or once {@code --duration} has passed.
 */
public final class ReconnectScenario {

  /** Said on standard error once ready for the next restart, followed by its number. */
  public static final String READY = "waiting for restart";

  /** Every user back (or given up) and nothing changed for this long: the storm is over. */
  private static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private static final long POLL_MILLIS = 10;

  private ReconnectScenario() {}

  public static Summary run(ScenarioContext context) throws InterruptedException {
    BenchOptions options = context.options();
    try (Fleet fleet = context.startFleet(options.clients())) {
      Fleet.LoginResult login = context.logIn(fleet, "reconnect");
      context.requireAllLoggedIn(login);
      context.awaitQuiet(fleet);
      Reconnects reconnects =
          new Reconnects(
              options.backoff(),
              (long) (options.loginTimeoutSeconds() * 1e9),
              (long) (options.connectTimeoutSeconds() * 1e9),
              options.resume());
      fleet.reconnect(reconnects);
      long deadline = MonotonicClock.now() + (long) (options.durationSeconds() * 1e9);

      List<StormResult> results = new ArrayList<>();
      List<Summary> lines = new ArrayList<>();
      for (int restart = 1; restart <= options.restarts(); restart++) {
        Optional<StormResult> storm = storm(context, fleet, reconnects, restart, deadline);
        if (storm.isEmpty()) {
          context.announce(
              String.format(
                  Locale.ROOT,
                  "no restart %d within --duration %.0f s; stopping",
                  restart,
                  options.durationSeconds()));
          break;
        }
        StormResult result = storm.get();
        results.add(result);
        Summary line =
            result.addTo(
                context
                    .summary("reconnect-storm")
                    .put("storm", restart)
                    .put("settled", result.isSettled()));
        lines.add(line);
        context.out().println(line.line());
        context.out().flush();
        context.announce(describe(restart, result));
        warnAbout(context, restart, result);
        if (!result.isSettled()) {
          break;
        }
      }
      context.checkLoops(fleet);

      StormResult total = StormResult.total(results, fleet.size());
      Summary summary =
          context
              .summary("reconnect")
              .put("users", fleet.size())
              .put("threads", fleet.loops().size())
              .put("restarts", options.restarts())
              .put("probes", options.probes())
              .put("kept", options.kept())
              .put("laggards", options.kept() == 0 ? 0 : options.laggards())
              .put("login_timeout_s", options.loginTimeoutSeconds(), 1)
              .put("connect_timeout_s", options.connectTimeoutSeconds(), 1)
              .put(
                  "command_rate",
                  fleet
                      .commandRate()
                      .map(
                          rate ->
                              String.format(
                                  Locale.ROOT, "%.1f/s,burst:%d", rate.perSecond(), rate.burst()))
                      .orElse("none"))
              .put("logins_per_s", login.loggedIn() / (login.elapsedNanos() / 1e9), 0);
      total.addCountsTo(summary);
      total.addTo(summary);
      summary.put("disconnects", fleet.disconnects());
      summary.steps(lines);
      return summary;
    }
  }

  /**
   * Waits for the next restart's first lost session and then until the storm settles (or the
   * deadline passes); empty when no session was lost before the deadline.
   */
  private static Optional<StormResult> storm(
      ScenarioContext context, Fleet fleet, Reconnects reconnects, int restart, long deadline)
      throws InterruptedException {
    BenchOptions options = context.options();
    ProbeTraffic probes =
        new ProbeTraffic(
            fleet, reconnects, options.probes(), (long) (options.probeIntervalSeconds() * 1e9));
    KeptTraffic kept = new KeptTraffic(fleet, options.laggards(), options.kept());
    long noticesBefore = fleet.noticesReceived();
    fleet.install(
        new Traffic() {
          @Override
          public void onFrame(SimUser user, FrameType type, byte[] line, int from, int to) {
            probes.onFrame(user, type, line, from, to);
            kept.onFrame(user, type, line, from, to);
          }

          @Override
          public void onResent(SimUser user, byte[] line, int from, int to) {
            kept.onResent(user, line, from, to);
          }
        },
        loop -> {
          probes.start(loop);
          kept.holdAcks(loop);
        });
    if (kept.total() > 0) {
      fleet.onEachLoop(kept::start);
      while (!kept.allAnswered() && MonotonicClock.now() <= deadline) {
        Thread.sleep(POLL_MILLIS);
      }
      context.announce(
          String.format(
              Locale.ROOT,
              "%d messages kept for %d laggards (%d accepted, %d refused)",
              kept.total(),
              kept.laggards(),
              kept.accepted(),
              kept.refused()));
    }
    Reconnects.Storm storm = reconnects.storm();
    context.announce(String.format(Locale.ROOT, "%s %d (%d users)", READY, restart, fleet.size()));

    while (storm.firstLossAt() == 0) {
      if (MonotonicClock.now() > deadline) {
        probes.stop();
        return Optional.empty();
      }
      Thread.sleep(POLL_MILLIS);
    }
    ResourceUse.Sample before = ResourceUse.Sample.take(fleet, Optional.empty());
    // What the laggards had when the server went down, all of it unacknowledged.
    long keptBefore = kept.delivered();
    Progress progress = context.progress("storm " + restart, 0);
    boolean settled = false;
    while (!settled && MonotonicClock.now() <= deadline) {
      Thread.sleep(POLL_MILLIS);
      long now = MonotonicClock.now();
      settled = reconnects.away() == 0 && now - storm.lastChangeAt() >= SETTLE_NANOS;
      if (progress.due()) {
        progress.print(
            String.format(
                Locale.ROOT,
                "away %d, back %d, attempts %d, refused %s, lost again %s, probes answered %d/%d",
                reconnects.away(),
                storm.back(),
                storm.attempts(),
                StormResult.causes(storm.refusedBy()),
                StormResult.causes(storm.lostAgainBy()),
                probes.answered(),
                probes.sent()));
      }
    }
    ResourceUse use = ResourceUse.between(before, ResourceUse.Sample.take(fleet, Optional.empty()));

    // The probes' last answers and deliveries, then the presence notices of the last logins.
    probes.stop();
    long graceEnd = MonotonicClock.now() + (long) (options.graceSeconds() * 1e9);
    while (!(probes.settled() && kept.settled()) && MonotonicClock.now() < graceEnd) {
      Thread.sleep(POLL_MILLIS);
    }
    context.awaitQuiet(fleet);
    if (probes.delivered() < probes.accepted()) {
      context.warn(
          "storm "
              + restart
              + ": accepted, not delivered (first 20): "
              + String.join("; ", probes.undelivered(20)));
    }
    if (options.probeIds().isPresent()) {
      writeProbeIds(context, options.probeIds().get(), restart, probes);
    }
    Reconnects.Storm ended = reconnects.next();
    return Optional.of(
        StormResult.of(
            ended,
            settled,
            fleet.size(),
            reconnects.away(),
            fleet.noticesReceived() - noticesBefore,
            probes,
            kept,
            keptBefore,
            use));
  }

  private static String describe(int restart, StormResult result) {
    StormResult.Return returned = result.returned();
    if (!result.isSettled()) {
      return String.format(
          Locale.ROOT,
          "storm %d did not settle: %d users still away, %d back, %d sessions lost again",
          restart,
          returned.away(),
          returned.back(),
          returned.lostAgain());
    }
    return String.format(
        Locale.ROOT,
        "storm %d settled: %d back %.2f s after the first lost session, %d lost again, %d given"
            + " up",
        restart,
        returned.back(),
        returned.allBackSeconds(),
        returned.lostAgain(),
        returned.gaveUp());
  }

  private static void warnAbout(ScenarioContext context, int restart, StormResult result) {
    String storm = "storm " + restart + ": ";
    StormResult.Return returned = result.returned();
    StormResult.Probes probes = result.probes();
    StormResult.Kept kept = result.kept();
    if (returned.lostAgain() > 0) {
      context.warn(
          storm
              + returned.lostAgain()
              + " sessions were lost again by users who had come back (cut off as slow readers,"
              + " or refused): see lost_again_causes");
    }
    if (returned.gaveUp() > 0) {
      context.warn(storm + returned.gaveUp() + " users could not come back: see gave_up_causes");
    }
    if (probes.unanswered() > 0) {
      context.warn(storm + probes.unanswered() + " commands of the probes were never answered");
    }
    if (!probes.errors().isEmpty()) {
      context.warn(storm + "the probes' commands got errors: " + probes.errors());
    }
    if (probes.lost() > 0) {
      context.warn(storm + probes.lost() + " accepted messages did not reach their recipient");
    }
    if (kept.notResent() > 0) {
      context.warn(
          storm
              + kept.notResent()
              + " messages the laggards had received (and not acknowledged) before the restart"
              + " were not sent again after it: the server no longer has them");
    }
    if (kept.lost() > 0 || kept.duplicated() > 0) {
      context.warn(
          storm
              + kept.lost()
              + " kept messages were not delivered after the restart, "
              + kept.duplicated()
              + " twice");
    }
  }

  /** Appends the storm's accepted probe messages to {@code file}, each line led by the storm. */
  private static void writeProbeIds(
      ScenarioContext context, java.nio.file.Path file, int restart, ProbeTraffic probes)
      throws InterruptedException {
    List<String> lines = new ArrayList<>();
    for (String line : probes.acceptedIds()) {
      lines.add(restart + " " + line);
    }
    try {
      java.nio.file.Files.write(
          file,
          lines,
          java.nio.charset.StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
    } catch (java.io.IOException e) {
      context.warn("cannot write the probes' message ids to " + file + ": " + e.getMessage());
    }
  }
}
