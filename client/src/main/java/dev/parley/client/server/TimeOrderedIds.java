package dev.parley.client.server;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Message ids that sort by the time they were made: UUIDs of version 7 (RFC 9562), with the Unix
 * time in milliseconds in their first 48 bits and random bits after it. The server keeps an index
 * of ids so that it can recognise a resent message; ids that increase are added at the end of that
 * index rather than all over it, which is much cheaper for its database. Any unique string is a
 * valid id, so this is a courtesy to the server, not part of the protocol.
 */
final class TimeOrderedIds implements Supplier<String> {

  private static final int VERSION_7 = 0x7000;
  private static final long VARIANT_RFC = 0x8000_0000_0000_0000L;
  private static final long VARIANT_MASK = 0x3fff_ffff_ffff_ffffL;

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  TimeOrderedIds(Clock clock) {
    this.clock = clock;
  }

  TimeOrderedIds() {
    this(Clock.systemUTC());
  }

  @Override
  public String get() {
    long millis = clock.millis();
    long high = (millis << 16) | VERSION_7 | (random.nextInt() & 0x0fff);
    long low = VARIANT_RFC | (random.nextLong() & VARIANT_MASK);
    return new UUID(high, low).toString();
  }
}
