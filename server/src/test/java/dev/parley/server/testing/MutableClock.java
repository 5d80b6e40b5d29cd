package dev.parley.server.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A clock that stands still until the test moves it; safe to read from actor threads. */
public final class MutableClock extends Clock {

  private volatile Instant now;
  private volatile boolean failNextRead;

  public MutableClock(Instant start) {
    this.now = start;
  }

  /** Moves the clock forward. */
  public void advance(Duration amount) {
    now = now.plus(amount);
  }

  /** Sets the clock to an instant. */
  public void set(Instant instant) {
    now = instant;
  }

  /** The next read of the clock throws, as a failing dependency would in a handler. */
  public void failNextRead() {
    failNextRead = true;
  }

  @Override
  public Instant instant() {
    if (failNextRead) {
      failNextRead = false;
      throw new IllegalStateException("the test's clock failed on purpose");
    }
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    throw new UnsupportedOperationException("a test clock stays in UTC");
  }
}
