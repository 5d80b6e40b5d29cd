package dev.parley.server.registry;

import dev.parley.protocol.WireText;
import java.util.ArrayList;
import java.util.List;

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
}
