package dev.parley.server.http;

import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import dev.parley.server.metrics.Metrics;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The operator's routes: {@code /health/live}, {@code /health/ready} and {@code /metrics}. They are
 * one route among those of the HTTP port ({@link #route()}), so that the web client and the
 * protocol over WebSocket can be added beside them with {@code concat}.
 */
public final class OpsRoutes extends AllDirectives {

  /** What the readiness check asks. */
  public interface Checks {
    /** Whether the clients' port is bound (false before it is, and once it is unbound). */
    boolean listening();

    /**
     * Completes with true when the store answered a cheap query, false (or a failure) when it did
     * not; run off the caller's thread, and bounded in time by the implementation.
     */
    CompletionStage<Boolean> storeReachable();
  }

  private final Checks checks;
  private final Supplier<String> scrape;

  public OpsRoutes(Checks checks, Metrics metrics) {
    this(checks, metrics::scrape);
  }

  OpsRoutes(Checks checks, Supplier<String> scrape) {
    this.checks = checks;
    this.scrape = scrape;
  }

  public Route route() {
    return concat(
        pathPrefix(
            "health",
            () ->
                concat(
                    path("live", () -> get(() -> complete(StatusCodes.OK, json("live", "ok")))),
                    path("ready", () -> get(this::ready)))),
        path(
            "metrics",
            () ->
                get(
                    () ->
                        complete(
                            StatusCodes.OK,
                            HttpEntities.create(ContentTypes.TEXT_PLAIN_UTF8, scrape.get())))));
  }

  private Route ready() {
    if (!checks.listening()) {
      return complete(StatusCodes.SERVICE_UNAVAILABLE, json("ready", "listener"));
    }
    CompletionStage<Boolean> store;
    try {
      store = checks.storeReachable();
    } catch (RuntimeException e) {
      store = CompletableFuture.failedFuture(e);
    }
    // A failure (a timeout, a refused query) is the store being unreachable, not a server error.
    return onSuccess(
        store.exceptionally(failure -> false),
        reachable ->
            reachable
                ? complete(StatusCodes.OK, json("ready", "ok"))
                : complete(StatusCodes.SERVICE_UNAVAILABLE, json("ready", "store")));
  }

  /**
   * {@code {"status":"ok"}} when all is well, else {@code {"status":"unavailable","failed":"X"}}
   * naming the check that failed.
   */
  private static akka.http.javadsl.model.ResponseEntity json(String check, String failed) {
    String body =
        failed.equals("ok")
            ? "{\"check\":\"" + check + "\",\"status\":\"ok\"}"
            : "{\"check\":\""
                + check
                + "\",\"status\":\"unavailable\",\"failed\":\""
                + failed
                + "\"}";
    return HttpEntities.create(ContentTypes.APPLICATION_JSON, body);
  }
}
