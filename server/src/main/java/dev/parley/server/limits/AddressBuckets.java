package dev.parley.server.limits;

import dev.parley.protocol.CommandRate;
import dev.parley.protocol.TokenBucket;
import java.net.InetAddress;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link TokenBucket} per client address, for limits that must hold across connections (new
 * connections, login attempts). Addresses in an exempt range are never limited.
 *
 * <p>Bounded: at most {@code maxAddresses} buckets are kept. Buckets that have refilled are
 * forgotten first (they hold nothing); if that is not enough, the least recently used go, which can
 * only favour the address forgotten, never harm another. Not thread-safe: one actor owns it.
 */
public final class AddressBuckets {

  private final CommandRate rate;
  private final List<AddressRange> exempt;
  private final int maxAddresses;
  private final LinkedHashMap<InetAddress, TokenBucket> buckets;

  public AddressBuckets(CommandRate rate, List<AddressRange> exempt, int maxAddresses) {
    if (maxAddresses < 1) {
      throw new IllegalArgumentException("maxAddresses must be positive");
    }
    this.rate = rate;
    this.exempt = List.copyOf(exempt);
    this.maxAddresses = maxAddresses;
    this.buckets = new LinkedHashMap<>(16, 0.75f, true);
  }

  /** Whether {@code address} is in one of the exempt ranges. */
  public boolean isExempt(InetAddress address) {
    for (AddressRange range : exempt) {
      if (range.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** Takes one event for {@code address} at {@code nowNanos}; false if it is over the rate. */
  public boolean tryTake(InetAddress address, long nowNanos) {
    if (isExempt(address)) {
      return true;
    }
    TokenBucket bucket = buckets.get(address);
    if (bucket == null) {
      makeRoom(nowNanos);
      bucket = new TokenBucket(rate);
      buckets.put(address, bucket);
    }
    return bucket.tryTake(nowNanos);
  }

  /** How many addresses have a bucket now (for tests and metrics). */
  public int size() {
    return buckets.size();
  }

  private void makeRoom(long nowNanos) {
    if (buckets.size() < maxAddresses) {
      return;
    }
    buckets.values().removeIf(bucket -> bucket.isFull(nowNanos));
    Iterator<Map.Entry<InetAddress, TokenBucket>> eldest = buckets.entrySet().iterator();
    while (buckets.size() >= maxAddresses && eldest.hasNext()) {
      eldest.next();
      eldest.remove();
    }
  }
}
