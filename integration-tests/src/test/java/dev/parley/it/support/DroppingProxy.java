package dev.parley.it.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay between clients and a server that can cut the network under the connections it
 * carries without closing them, as a Wi-Fi change or a sleeping laptop does: after {@link
 * #blackhole()} the bytes of the connections open then go nowhere, in either direction, while both
 * ends still see their socket open. Connections made afterwards are relayed normally.
 */
public final class DroppingProxy implements AutoCloseable {

  private static final int BUFFER_BYTES = 16 * 1024;

  private final ServerSocket listener;
  private final String targetHost;
  private final int targetPort;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private final Thread acceptor;

  /** One relayed connection: its two sockets, and whether its bytes still go through. */
  private static final class Link {
    final Socket client;
    final Socket server;
    volatile boolean cut;

    Link(Socket client, Socket server) {
      this.client = client;
      this.server = server;
    }
  }

  private DroppingProxy(String targetHost, int targetPort) throws IOException {
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.acceptor = new Thread(this::acceptLoop, "proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** A relay on a free loopback port to host:port. */
  public static DroppingProxy to(String host, int port) {
    try {
      return new DroppingProxy(host, port);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** From now on, nothing of the connections open now reaches the other end; none is closed. */
  public void blackhole() {
    links.forEach(link -> link.cut = true);
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket server = new Socket(targetHost, targetPort);
        Link link = new Link(client, server);
        links.add(link);
        pump(link, client, server, "proxy-up");
        pump(link, server, client, "proxy-down");
      } catch (IOException e) {
        // Closed, or the server refused: the client sees its connection end.
      }
    }
  }

  private static void pump(Link link, Socket fromSocket, Socket toSocket, String name) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[BUFFER_BYTES];
              try {
                InputStream from = fromSocket.getInputStream();
                OutputStream to = toSocket.getOutputStream();
                for (int read = from.read(buffer); read >= 0; read = from.read(buffer)) {
                  if (!link.cut) {
                    to.write(buffer, 0, read);
                    to.flush();
                  }
                }
                // The end closed its side: so does the relay, unless the network is "down".
                if (!link.cut) {
                  toSocket.shutdownOutput();
                }
              } catch (IOException e) {
                // One end went away.
              }
            },
            name);
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() {
    try {
      listener.close();
    } catch (IOException e) {
      // Closing anyway.
    }
    for (Link link : links) {
      try {
        link.client.close();
        link.server.close();
      } catch (IOException e) {
        // Closing anyway.
      }
    }
  }
}
