package dev.parley.server.registry;

import dev.parley.protocol.WireText;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The names of a whoelse or whoelsesince reply, capped so that the reply fits one frame and stays
 * readable: the longest run of candidates, in their order, within {@code limit} names and {@code
 * bytes} bytes of encoded names. The list is a prefix, never a selection: a name that does not fit
 * ends it, so that a reply in login order never skips someone and lists a later user.
 *
 * @param names the candidates that fit, in their order
 * @param omitted how many candidates did not fit; {@code null} when none, as on the wire
 */
public record NameList(List<String> names, Integer omitted) {

  /** A name in a JSON array costs its encoding plus two quotes and a comma. */
  private static final int LISTED_NAME_OVERHEAD = 3;

  public NameList {
    names = List.copyOf(names);
  }

  /**
   * @param candidates the names to list, in the order of the reply
   * @param limit most names listed
   * @param bytes most bytes of encoded names listed
   */
  public static NameList capped(List<String> candidates, int limit, int bytes) {
    List<String> names = new ArrayList<>(Math.min(candidates.size(), Math.max(limit, 0)));
    int used = 0;
    for (String name : candidates) {
      int cost = WireText.encodedLength(name) + LISTED_NAME_OVERHEAD;
      if (names.size() >= limit || used + cost > bytes) {
        break;
      }
      names.add(name);
      used += cost;
    }
    int omitted = candidates.size() - names.size();
    return new NameList(names, omitted == 0 ? null : omitted);
  }

  /**
   * The start of a whoelsesince window of {@code seconds} ending at {@code now}. A window reaching
   * back before the start of time is the same as one reaching back forever.
   */
  public static Instant windowStart(Instant now, long seconds) {
    return Duration.between(Instant.MIN, now).getSeconds() > seconds
        ? now.minusSeconds(seconds)
        : Instant.MIN;
  }

  /**
   * A whoelsesince reply's names: those {@code online} (in their order), then those who logged out
   * at or after {@code windowStart} and are not online, most recent first; {@code requester} left
   * out, and capped as {@link #capped}.
   */
  public static NameList recent(
      Collection<String> online,
      Map<String, Instant> logouts,
      String requester,
      Instant windowStart,
      int limit,
      int bytes) {
    List<String> candidates = new ArrayList<>(online.size());
    for (String user : online) {
      if (!user.equals(requester)) {
        candidates.add(user);
      }
    }
    Set<String> onlineNow = online instanceof Set<String> set ? set : new HashSet<>(online);
    logouts.entrySet().stream()
        .filter(e -> !onlineNow.contains(e.getKey()) && !e.getKey().equals(requester))
        .filter(e -> !e.getValue().isBefore(windowStart))
        .sorted(Map.Entry.<String, Instant>comparingByValue(Comparator.reverseOrder()))
        .forEach(e -> candidates.add(e.getKey()));
    return capped(candidates, limit, bytes);
  }
}
