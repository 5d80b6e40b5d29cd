package dev.parley.transport.nio;

import akka.Done;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** A listening socket: the address it is bound to, and how to close it. */
public final class SocketBinding {

  private final InetSocketAddress localAddress;
  private final Supplier<CompletionStage<Done>> unbind;

  SocketBinding(InetSocketAddress localAddress, Supplier<CompletionStage<Done>> unbind) {
    this.localAddress = localAddress;
    this.unbind = unbind;
  }

  /** The address the socket is bound to (with the port picked, when 0 was asked for). */
  public InetSocketAddress localAddress() {
    return localAddress;
  }

  /**
   * Stops accepting: the socket is closed and the source of connections completes. The stage
   * completes once both have happened.
   */
  public CompletionStage<Done> unbind() {
    return unbind.get();
  }
}
