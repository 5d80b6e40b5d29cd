package dev.parley.server.broadcast;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.util.ByteString;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.ServerMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The batching and encode-once delivery of presence notices, for the broadcaster that owns it (in
 * either mode) and only ever called from that actor's thread. The first notice after a quiet spell
 * goes out at once; those that follow within the batch ({@link PresenceBatching}) go together at
 * its end, one write per recipient, with a login and a logout of the same user inside one batch
 * cancelling out.
 *
 * <p>It delivers to the recipients map it was given, which its owner keeps up to date: the whole
 * roster of a standalone node, the local members of a cluster node.
 */
final class PresenceNotices {

  /**
   * Someone notices go to. {@code joined} is the number of the last notice that happened before
   * they were there to hear it, so that a batch tells them only of what came after.
   */
  record Recipient(ActorRef<ServerMessage> outbox, Set<String> blocked, long joined) {

    Recipient withOutbox(ActorRef<ServerMessage> newOutbox) {
      return new Recipient(newOutbox, blocked, joined);
    }

    Recipient withBlocked(Set<String> newBlocked) {
      return new Recipient(outbox, newBlocked, joined);
    }
  }

  /** A login or logout to announce: the subject, whom they block, and the notice's bytes. */
  record Notice(long number, String subject, Set<String> blockedBySubject, ByteString line) {

    static Notice loggedIn(long number, String subject, Set<String> blockedBySubject) {
      return new Notice(
          number,
          subject,
          blockedBySubject,
          JsonCodec.SERVER.encode(new ServerMessage.UserLoggedIn(subject)));
    }

    static Notice loggedOut(long number, String subject, Set<String> blockedBySubject) {
      return new Notice(
          number,
          subject,
          blockedBySubject,
          JsonCodec.SERVER.encode(new ServerMessage.UserLoggedOut(subject)));
    }
  }

  private static final Object BATCH_TIMER = Broadcaster.BatchDue.INSTANCE;

  private final TimerScheduler<Broadcaster.Command> timers;
  private final PresenceBatching batching;
  private final Map<String, Recipient> recipients;

  /** Notices gathered for the batch under way, in the order they happened. */
  private final List<Notice> batch = new ArrayList<>();

  private long numbered;

  /** A batch is under way: notices wait for its end instead of going out at once. */
  private boolean underWay;

  PresenceNotices(
      TimerScheduler<Broadcaster.Command> timers,
      PresenceBatching batching,
      Map<String, Recipient> recipients) {
    this.timers = timers;
    this.batching = batching;
    this.recipients = recipients;
  }

  /** The number for the next notice. */
  long next() {
    return ++numbered;
  }

  /** The number of the latest notice: a recipient joining now has heard of it and all before. */
  long latest() {
    return numbered;
  }

  void announce(Notice notice) {
    if (underWay) {
      batch.add(notice);
      return;
    }
    // The first notice after a quiet spell goes at once: a single login is never delayed.
    deliver(List.of(notice));
    startBatch();
  }

  /** The batch timer fired: sends what it gathered, or ends the batch if it gathered nothing. */
  void onBatchDue() {
    if (batch.isEmpty()) {
      underWay = false;
      return;
    }
    deliver(withoutUndone(batch));
    batch.clear();
    startBatch();
  }

  private void startBatch() {
    underWay = true;
    timers.startSingleTimer(
        BATCH_TIMER, Broadcaster.BatchDue.INSTANCE, batching.forRecipients(recipients.size()));
  }

  /**
   * Sends each recipient the notices meant for them, in order: all of them, as one shared string of
   * bytes, for everyone but the few a notice must skip (its subject, whom the subject blocks, and
   * recipients who joined after it), who get their own selection.
   */
  private void deliver(List<Notice> notices) {
    if (notices.isEmpty()) {
      return;
    }
    ByteString all = ByteString.emptyByteString();
    Set<String> special = new HashSet<>();
    for (Notice notice : notices) {
      all = all.concat(notice.line());
      special.add(notice.subject());
      special.addAll(notice.blockedBySubject());
    }
    ServerMessage.Encoded shared = new ServerMessage.Encoded(all);
    for (Map.Entry<String, Recipient> entry : recipients.entrySet()) {
      Recipient recipient = entry.getValue();
      if (!special.contains(entry.getKey())) {
        if (recipient.joined() < notices.get(0).number()) {
          recipient.outbox().tell(shared);
          continue;
        }
      }
      ByteString own = selectionFor(entry.getKey(), recipient, notices);
      if (!own.isEmpty()) {
        recipient.outbox().tell(new ServerMessage.Encoded(own));
      }
    }
  }

  private static ByteString selectionFor(String user, Recipient recipient, List<Notice> notices) {
    ByteString own = ByteString.emptyByteString();
    for (Notice notice : notices) {
      if (notice.number() > recipient.joined()
          && !notice.subject().equals(user)
          && !notice.blockedBySubject().contains(user)) {
        own = own.concat(notice.line());
      }
    }
    return own;
  }

  /**
   * The batch without the notices that undo each other: a user who logged in and out (or out and
   * in) within it ends where they began, and nobody needs to hear of either.
   */
  private static List<Notice> withoutUndone(List<Notice> gathered) {
    Map<String, Integer> counts = new HashMap<>();
    for (Notice notice : gathered) {
      counts.merge(notice.subject(), 1, Integer::sum);
    }
    if (counts.values().stream().allMatch(count -> count == 1)) {
      return gathered;
    }
    // An even number of notices about one subject cancels out; an odd number leaves the last.
    Map<String, Integer> seen = new HashMap<>();
    List<Notice> kept = new ArrayList<>(gathered.size());
    for (Notice notice : gathered) {
      int total = counts.get(notice.subject());
      int index = seen.merge(notice.subject(), 1, Integer::sum);
      if (total % 2 == 1 && index == total) {
        kept.add(notice);
      }
    }
    return kept;
  }
}
