package dev.parley.it.fuzz;

import dev.parley.protocol.ClientMessage;
import dev.parley.protocol.Inbound;
import dev.parley.protocol.JsonCodec;
import dev.parley.protocol.Protocol;
import dev.parley.protocol.ServerMessage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * An ordinary user logged in beside the fuzzers, speaking the real protocol as a well-behaved
 * client does: it reads continuously, acknowledges every message it is shown, and sends one command
 * at a time. Every command must be answered, with the right reply, within a generous bound; every
 * frame it receives must be one a Parley client can read. Anything else is a violation: the fuzzers
 * hurt someone they should not be able to reach.
 */
public final class Bystander implements AutoCloseable {

  private final String user;
  private final int port;
  private final FuzzStats stats;
  private final Duration bound;
  private final Socket socket;
  private final OutputStream out;
  private final BlockingQueue<ServerMessage> replies = new LinkedBlockingQueue<>();

  /** Messages from the other bystander, by id: their text. */
  private final Map<String, String> fromPeer = new ConcurrentHashMap<>();

  /** Messages this one sent the other and got accepted, by id: their text. */
  private final Map<String, String> accepted = new ConcurrentHashMap<>();

  private final List<Long> latenciesMillis = Collections.synchronizedList(new ArrayList<>());
  private volatile String peer;
  private volatile boolean closing;
  private int sent;

  private Bystander(String user, int port, Socket socket, FuzzStats stats, Duration bound)
      throws IOException {
    this.user = user;
    this.port = port;
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.stats = stats;
    this.bound = bound;
  }

  /** Connects and logs in; throws if the login does not succeed within the bound. */
  public static Bystander login(
      int port, String user, String password, FuzzStats stats, Duration bound) throws IOException {
    Socket plain = new Socket();
    plain.connect(new InetSocketAddress("127.0.0.1", port), (int) bound.toMillis());
    plain.setTcpNoDelay(true);
    Socket socket = FuzzTls.wrap(plain, port);
    Bystander bystander = new Bystander(user, port, socket, stats, bound);
    Thread reader = new Thread(bystander::read, "bystander-" + user);
    reader.setDaemon(true);
    reader.start();
    bystander.expect(new ClientMessage.Hello(Protocol.VERSION), ServerMessage.Hello.class);
    bystander.expect(new ClientMessage.Username(user), ServerMessage.PasswordRequired.class);
    bystander.expect(new ClientMessage.Password(password, 9), ServerMessage.LoginAccepted.class);
    return bystander;
  }

  private void expect(ClientMessage command, Class<? extends ServerMessage> reply) {
    ServerMessage answer = command(command, reply);
    if (!reply.isInstance(answer)) {
      throw new IllegalStateException(
          user + " could not log in: " + command.typeName() + " got " + answer);
    }
  }

  public String user() {
    return user;
  }

  /** The server's port this bystander is connected to. */
  public int port() {
    return port;
  }

  /**
   * Sends {@code command} and returns its reply; a reply that is late, missing or of another type
   * than {@code expected} is a violation (an error {@code rate-limited} is counted, not held
   * against the server).
   */
  public ServerMessage command(ClientMessage command, Class<? extends ServerMessage> expected) {
    long started = System.nanoTime();
    if (!write(command)) {
      stats.violation("a bystander's connection broke", user + " sending " + command.typeName());
      return null;
    }
    ServerMessage reply;
    try {
      reply = replies.poll(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    long millis = (System.nanoTime() - started) / 1_000_000;
    if (reply == null) {
      stats.violation(
          "a bystander's command was not answered within " + bound,
          user + ": " + command.typeName() + " (seed-independent: the server was busy or stuck)");
      return null;
    }
    latenciesMillis.add(millis);
    if (reply instanceof ServerMessage.Error error
        && error.code() == ServerMessage.Error.Code.RATE_LIMITED) {
      stats.count("bystander commands answered rate-limited");
      return reply;
    }
    if (!expected.isInstance(reply)) {
      stats.violation(
          "a bystander got a wrong answer", user + ": " + command.typeName() + " got " + reply);
    }
    return reply;
  }

  /**
   * Until {@code deadline}: messages to {@code other} (each must be accepted as delivered at once,
   * since {@code other} is online), whoelse (which must list {@code other}), whoelsesince and
   * activity, one every {@code interval}.
   */
  public void exchangeWith(Bystander other, FuzzRandom random, long deadline, Duration interval) {
    this.peer = other.user;
    long next = System.nanoTime();
    while (System.nanoTime() < deadline) {
      switch (random.between(0, 5)) {
        case 0, 1, 2 -> sendMessage(other, random);
        case 3 -> {
          ServerMessage reply =
              command(new ClientMessage.WhoElse(), ServerMessage.OnlineUsers.class);
          if (reply instanceof ServerMessage.OnlineUsers online
              && !online.users().contains(other.user)) {
            stats.violation("whoelse left out a user who is online", user + " got " + online);
          }
        }
        case 4 ->
            command(
                new ClientMessage.WhoElseSince(random.between(0, 600)),
                ServerMessage.RecentUsers.class);
        default -> command(new ClientMessage.NoteActivity(), ServerMessage.ActivityNoted.class);
      }
      // Paced, like a person or a modest bot: a fixed rate, not a wait for anything. Slots missed
      // while the server was slow are skipped, not made up in a burst: a burst of hundreds would
      // be over the command rate, and earn this bystander the rate limit's goodbye.
      next += interval.toNanos();
      long pause = next - System.nanoTime();
      if (pause > 0) {
        LockSupport.parkNanos(pause);
      } else {
        next = System.nanoTime();
      }
    }
  }

  private void sendMessage(Bystander other, FuzzRandom random) {
    String id = "by-" + user + "-" + ++sent;
    String text = random.nonBlankText(random.chance(0.1) ? 2_000 : 120);
    ServerMessage reply =
        command(
            new ClientMessage.SendMessage(other.user, text, id),
            ServerMessage.MessageAccepted.class);
    if (reply instanceof ServerMessage.MessageAccepted acceptedReply) {
      if (acceptedReply.stored() || !id.equals(acceptedReply.id())) {
        stats.violation(
            "a message between two online bystanders was not accepted as delivered",
            user + " -> " + other.user + ": " + reply);
      }
      accepted.put(id, text);
    }
  }

  /** Messages this bystander sent and the server accepted, by id. */
  public Map<String, String> accepted() {
    return Map.copyOf(accepted);
  }

  /** Messages received from the other bystander, by id. */
  public Map<String, String> receivedFromPeer() {
    return Map.copyOf(fromPeer);
  }

  /** Reply times so far, sorted, in milliseconds. */
  public List<Long> latencies() {
    synchronized (latenciesMillis) {
      List<Long> sorted = new ArrayList<>(latenciesMillis);
      sorted.sort(null);
      return sorted;
    }
  }

  private synchronized boolean write(ClientMessage frame) {
    try {
      out.write(JsonCodec.CLIENT.encode(frame).toArray());
      out.flush();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private void read() {
    byte[] buffer = new byte[64 * 1024];
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    try (InputStream in = socket.getInputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        int start = 0;
        for (int i = 0; i < n; i++) {
          if (buffer[i] == '\n') {
            line.write(buffer, start, i - start);
            onLine(line.toByteArray());
            line.reset();
            start = i + 1;
          }
        }
        line.write(buffer, start, n - start);
      }
    } catch (IOException e) {
      // Closed.
    }
    if (!closing) {
      stats.violation("the server closed a bystander's connection", user);
    }
  }

  private void onLine(byte[] bytes) {
    if (bytes.length > Protocol.MAX_FRAME_BYTES) {
      // A Parley client would stop reading here: its framing cannot take the line.
      stats.violation(
          "a bystander was sent a frame over MAX_FRAME_BYTES",
          user + " got " + bytes.length + " bytes: " + WireConnection.show(bytes));
    }
    Inbound<ServerMessage> inbound = JsonCodec.SERVER.decode(bytes, 0, bytes.length);
    if (!(inbound instanceof Inbound.Frame<ServerMessage> frame)) {
      stats.violation("a bystander was sent a line it cannot read", user + ": " + inbound);
      return;
    }
    ServerMessage message = frame.frame();
    if (message instanceof ServerMessage.MessageReceived received) {
      stats.count("bystander messages received");
      write(new ClientMessage.Acknowledge(received.seq()));
      if (received.from().equals(peer) && received.id() != null) {
        if (fromPeer.put(received.id(), received.text()) != null) {
          stats.violation("a bystander was shown a message twice", user + ": " + received);
        }
      }
    } else if (message instanceof ServerMessage.BroadcastReceived
        || message instanceof ServerMessage.UserLoggedIn
        || message instanceof ServerMessage.UserLoggedOut
        || message instanceof ServerMessage.PeerInvited) {
      // Not answers: a protocol-3 fuzzer that runs startprivate with this user invites it.
      stats.count("bystander events: " + message.typeName());
    } else if (message instanceof ServerMessage.Heartbeat) {
      // A bystander left quiet (the one that asks for tokens, once the run is over) is asked.
      stats.count("bystander events: " + message.typeName());
      write(new ClientMessage.Heartbeat());
    } else if (message instanceof ServerMessage.Goodbye goodbye && !closing) {
      stats.violation("a bystander was sent goodbye", user + ": " + goodbye);
    } else {
      replies.add(message);
    }
  }

  /** Logs out (the goodbye is expected now) and closes. */
  @Override
  public void close() {
    closing = true;
    write(new ClientMessage.Logout());
    try {
      socket.close();
    } catch (IOException e) {
      // Closed already.
    }
  }
}
