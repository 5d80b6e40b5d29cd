package dev.parley.transport.nio;

import akka.stream.Attributes;

/**
 * Whether a connection's latest bytes may wait for the write hold ({@code io-write-hold}). The
 * stage that makes the frames knows what they are and sets it; the socket's stage, which sees only
 * bytes (sealed ones, with TLS), reads it when it takes them. Frames shared by many connections (a
 * broadcast, a batch of presence notices) may wait: at a fanout's peak, waiting joins the next
 * broadcasts' frames to them in one write. A connection's own frames (a direct message, an
 * acknowledgement, a reply) go out on the flusher's next turn, because for them waiting only adds
 * latency (issue 11, seventeenth round, docs/performance.md). Without a mark, no write waits.
 *
 * <p>One per connection, given to both stages as an attribute of its stream. Volatile because a
 * stack may put an asynchronous boundary between them. The bytes a TLS stage seals a little later
 * than the frames they carry at worst take an earlier write along with them.
 */
public final class WriteMark implements Attributes.Attribute {

  private volatile boolean mayWait;

  /** The frames just handed on towards the socket may wait ({@code true}) or may not. */
  public void handedOn(boolean mayWait) {
    this.mayWait = mayWait;
  }

  /** Whether the frames last handed on may wait. */
  public boolean mayWait() {
    return mayWait;
  }
}
