package dev.parley.client.tls;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The client's {@link Security}, made once, on the first {@link #start}. Making it (a key pair, a
 * certificate signed through BouncyCastle, two TLS contexts) took most of the time before the first
 * prompt, though nothing needs it until the password frame (the fingerprint goes in it) or, over
 * TLS, the handshake with the server; so the session starts it only then, off the actors' threads
 * (docs/performance.md, "Terminal client start and idle"). What is made is what {@link
 * Security#create} always made: a fresh identity per run, never stored.
 *
 * <p>Thread-safe: {@link #start} may be called from any thread, any number of times.
 */
public final class LazySecurity {

  /** Makes the security; may throw, which fails the future. */
  @FunctionalInterface
  public interface Maker {
    Security make() throws Exception;
  }

  private final boolean tls;
  private final Maker maker;
  private final AtomicBoolean started = new AtomicBoolean();
  private final CompletableFuture<Security> made = new CompletableFuture<>();

  private LazySecurity(boolean tls, Maker maker) {
    this.tls = tls;
    this.maker = maker;
  }

  /** A new identity, and TLS to the server as {@code settings} say, made when first started. */
  public static LazySecurity of(TlsSettings settings) {
    return new LazySecurity(settings.enabled(), () -> Security.create(settings));
  }

  /**
   * Security that {@code maker} makes when first started; {@code tls} says whether it holds trust
   * in a server to reach over TLS (tests hold the making back, or make it fail).
   */
  public static LazySecurity of(boolean tls, Maker maker) {
    return new LazySecurity(tls, maker);
  }

  /** Security made already (tests, and callers that have one). */
  public static LazySecurity made(Security security) {
    LazySecurity lazy = new LazySecurity(security.serverTrust().isPresent(), () -> security);
    lazy.started.set(true);
    lazy.made.complete(security);
    return lazy;
  }

  /**
   * Whether the connection to the server is TLS, which needs the identity before it is opened;
   * known without making anything.
   */
  public boolean tls() {
    return tls;
  }

  /**
   * Starts making the security on {@code executor}, unless it was started before; either way,
   * completes with it (or the reason it could not be made).
   */
  public CompletionStage<Security> start(Executor executor) {
    if (started.compareAndSet(false, true)) {
      executor.execute(this::make);
    }
    return made;
  }

  /** Completes once the security is made; never starts making it. */
  public CompletionStage<Security> whenMade() {
    return made;
  }

  /** The security, if it is made already (not if making it failed). */
  public Optional<Security> ifMade() {
    return made.isDone() && !made.isCompletedExceptionally()
        ? Optional.of(made.join())
        : Optional.empty();
  }

  private void make() {
    try {
      made.complete(maker.make());
    } catch (Exception | LinkageError e) {
      made.completeExceptionally(e);
    }
  }
}
