package dev.parley.server.broadcast;

import java.time.Duration;

/**
 * How long presence notices are gathered before they go out together: at least {@code least}, and
 * longer the more recipients there are, up to {@code most}. Each batch costs one delivery per
 * recipient whatever the number of notices in it, so with a fixed interval the cost of presence
 * grows with the number online: a node with 10,000 users online spent its time telling them of
 * logins one at a time, and logged in ten users a second. Scaled to the recipients, a login storm
 * costs about {@code perRecipient} per recipient and batch, and the notices of many logins share
 * each delivery; a quiet node's first notice still goes at once.
 *
 * @param least the shortest batch (and the whole batch for few recipients)
 * @param perRecipient added to the batch for each recipient
 * @param most the longest batch, however many recipients
 */
public record PresenceBatching(Duration least, Duration perRecipient, Duration most) {

  public PresenceBatching {
    if (least.isNegative() || least.isZero()) {
      throw new IllegalArgumentException("presence-batch must be positive, not " + least);
    }
    if (perRecipient.isNegative()) {
      throw new IllegalArgumentException(
          "presence-batch-per-recipient must not be negative, not " + perRecipient);
    }
    if (most.compareTo(least) < 0) {
      throw new IllegalArgumentException(
          "presence-batch-max must be at least presence-batch, not " + most);
    }
  }

  /** The same interval whatever the number of recipients. */
  public static PresenceBatching fixed(Duration interval) {
    return new PresenceBatching(interval, Duration.ZERO, interval);
  }

  /** The batch for notices to {@code recipients} users. */
  Duration forRecipients(int recipients) {
    Duration scaled = perRecipient.multipliedBy(recipients);
    if (scaled.compareTo(least) <= 0) {
      return least;
    }
    return scaled.compareTo(most) >= 0 ? most : scaled;
  }
}
