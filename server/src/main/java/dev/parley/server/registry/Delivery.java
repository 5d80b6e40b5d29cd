package dev.parley.server.registry;

import dev.parley.protocol.ServerMessage;
import dev.parley.protocol.ServerMessage.Error.Code;
import dev.parley.protocol.WireText;
import dev.parley.server.ServerSettings;
import dev.parley.server.metrics.Metrics;
import dev.parley.server.registry.UserRegistry.Attachment;
import dev.parley.server.store.Store;
import dev.parley.server.store.StoredMessage;
import io.micrometer.core.instrument.Counter;
import java.util.List;
import org.slf4j.Logger;

/**
 * How a user's {@link Mailbox} is delivered to their connection, paced by the delivery window: the
 * rules the standalone {@link UserRegistry} applies to every user and a cluster's {@link
 * UserEntity} to its one, written once so that the two cannot drift apart.
 *
 * <p>Not an actor and not thread-safe: each actor has its own and calls it on its own thread,
 * passing the user's mailbox and connection as it keeps them (the registry in maps, the entity in
 * fields), so that a call costs no lookup or allocation beyond what delivery itself needs. Reading
 * a page from the store is the actor's ({@link PageReads}): the answer comes back to it as a
 * message.
 */
final class Delivery {

  private static final String MESSAGE = "message";

  /** Asks the store for the messages {@code ids} of {@code user}, for {@code member}'s session. */
  @FunctionalInterface
  interface PageReads {
    void read(String user, Attachment member, long[] ids);
  }

  private final ServerSettings.Mailbox limits;
  private final PageReads pages;

  /** Counted on the message path: an increment, on a meter held here (see {@link Metrics}). */
  private final Counter delivered;

  Delivery(ServerSettings.Mailbox limits, PageReads pages, Counter delivered) {
    this.delivered = delivered;
    this.limits = limits;
    this.pages = pages;
  }

  /** Whether a message of {@code size} bytes no longer fits in {@code mailbox}. */
  boolean full(Mailbox mailbox, int size) {
    return mailbox.waiting() >= limits.capacity() || mailbox.waitingBytes() + size > limits.bytes();
  }

  /**
   * Delivery to a new connection starts again from the user's last acknowledgement: what the last
   * one was handed and the client did not acknowledge is sent again (the client shows each seq
   * once).
   */
  void afresh(String user, Mailbox mailbox, Attachment member) {
    mailbox.connected();
    more(user, mailbox, member);
  }

  /**
   * Asks the store for the next page of {@code user}'s waiting messages, if the window has room.
   */
  void more(String user, Mailbox mailbox, Attachment member) {
    long[] page = mailbox.nextPage(limits.window(), limits.windowBytes(), limits.pageSize());
    if (page.length > 0) {
      pages.read(user, member, page);
    }
  }

  /**
   * The journal stored {@code message} for {@code user} (online with {@code member}, or offline
   * when null): it goes to the connection at once if the user is caught up and the window has room,
   * and otherwise waits in the store for a later page. Returns the sender's reply.
   */
  ServerMessage stored(
      String user,
      Mailbox mailbox,
      Attachment member,
      StoredMessage message,
      long messageId,
      int size) {
    boolean live =
        mailbox.stored(message.seq(), messageId, size, limits.window(), limits.windowBytes());
    if (member != null && live) {
      mailbox.sent(message.seq(), size);
      member.outbox().tell(received(message));
      delivered.increment();
    } else if (member != null) {
      more(user, mailbox, member);
    }
    return new ServerMessage.MessageAccepted(message.clientId(), member == null);
  }

  /**
   * The sender's reply to a message the journal answered with {@code outcome} and that is not to be
   * delivered now.
   */
  static ServerMessage notStored(
      StoredMessage message, Store.Outcome outcome, int size, Logger log) {
    String to = message.recipient();
    if (outcome == Store.Outcome.STORED || outcome == Store.Outcome.DUPLICATE) {
      // Sent before, and stored then: accepted again, neither stored nor delivered twice.
      return new ServerMessage.MessageAccepted(message.clientId(), false);
    } else if (outcome == Store.Outcome.NO_RECIPIENT) {
      return new ServerMessage.Error(Code.INVALID_USER, MESSAGE, to, message.clientId());
    } else if (outcome == Store.Outcome.REFUSED) {
      log.warn("store refused a message from={} to={} size={}", message.sender(), to, size);
      return new ServerMessage.Error(
          Code.INVALID_TEXT,
          MESSAGE,
          "the server's database cannot store this text",
          message.clientId());
    }
    return new ServerMessage.Error(Code.UNAVAILABLE, MESSAGE, to, message.clientId());
  }

  /**
   * The store read a page of {@code user}'s messages ({@code ids}) for {@code member}: those not
   * handed over yet go to the connection, and the next page is asked for.
   */
  void pageRead(
      String user, Mailbox mailbox, Attachment member, long[] ids, List<StoredMessage> messages) {
    long lastAsked = -1;
    for (long id : ids) {
      lastAsked = Math.max(lastAsked, mailbox.seqOfId(id));
    }
    for (StoredMessage message : messages) {
      if (message.seq() <= mailbox.sentSeq()) {
        continue;
      }
      int size = mailbox.sizeOf(message.seq());
      mailbox.sent(message.seq(), size < 0 ? WireText.encodedLength(message.text()) : size);
      member.outbox().tell(received(message));
      delivered.increment();
    }
    // Messages of the page the store no longer has (their sender's or recipient's account was
    // removed meanwhile) must not be asked for again and again.
    mailbox.skipTo(lastAsked);
    more(user, mailbox, member);
  }

  /**
   * The journal answered {@code user}'s acknowledgement up to {@code seq}: trusted only once
   * stored, it then frees the messages it covers, which makes room in the window for more.
   */
  void acknowledgementRecorded(
      String user, Mailbox mailbox, Attachment member, long seq, Store.Outcome outcome) {
    if (outcome != Store.Outcome.APPLIED) {
      mailbox.acknowledgementFailed(seq);
      return;
    }
    mailbox.acknowledged(seq);
    if (member != null) {
      more(user, mailbox, member);
    }
  }

  static ServerMessage.MessageReceived received(StoredMessage message) {
    return new ServerMessage.MessageReceived(
        message.sender(), message.text(), message.seq(), message.clientId());
  }
}
