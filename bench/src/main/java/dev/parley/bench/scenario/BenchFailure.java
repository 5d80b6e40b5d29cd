package dev.parley.bench.scenario;

/** A run that cannot go on or cannot be trusted; the message says why and what to do. */
public final class BenchFailure extends RuntimeException {
  public BenchFailure(String message) {
    super(message);
  }

  public BenchFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
