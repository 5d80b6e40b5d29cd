package dev.parley.bench.client;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLException;

/**
 * One simulated user: a non-blocking connection owned by one {@link EventLoop}, which makes its TLS
 * handshake (unless the fleet speaks plain TCP, see {@link TlsChannel}), logs in step by step
 * ({@code hello}, {@code username}, {@code password}), then hands the frames it receives to the
 * scenario's {@link Traffic}. Every user counts presence events (and otherwise ignores them),
 * acknowledges the messages it receives (every {@value #ACK_EVERY}, and whenever asked), keeps its
 * session alive with {@code activity} when it has been silent for the keepalive interval, and
 * notices a goodbye or a broken connection, which the fleet counts as a disconnect. All of it runs
 * on the loop's thread.
 *
 * <p>Once the fleet's {@link Reconnects} are armed, a user whose session ends comes back as
 * Parley's client does: it waits ({@link State#WAITING}) for its backoff, connects again and logs
 * in again, trying again after a longer wait when an attempt fails for a passing reason. It then
 * acknowledges what it had received before (a laggard does not: it acknowledges only what arrives
 * again, so that the store must show it kept everything), and passes on a message that the server
 * sends again (one with a {@code seq} it has seen) only once, as the client shows it only once.
 */
public final class SimUser implements LineSplitter.Sink {

  /** Where the user is in its connection's life. */
  public enum State {
    NEW,
    CONNECTING,
    /** Connected, in the TLS handshake; the hello waits for its end. */
    HANDSHAKING,
    HELLO_SENT,
    /** Coming back with the token of the last login instead of the username and password. */
    RESUME_SENT,
    USERNAME_SENT,
    PASSWORD_SENT,
    ACTIVE,
    LOGGING_OUT,
    /** Between connections: the session was lost and the next attempt to come back is due. */
    WAITING,
    CLOSED
  }

  static final int ACK_EVERY = 64;

  private static final int FIRST_OUT_BYTES = 512;
  private static final int MAX_READS_PER_WAKEUP = 4;
  private static final int MAX_ALREADY_ONLINE_RETRIES = 50;
  private static final long ALREADY_ONLINE_RETRY_NANOS = 100_000_000L;

  private static final byte[] SEQ_KEY = Frames.key("seq");
  private static final byte[] REASON_KEY = Frames.key("reason");
  private static final byte[] CODE_KEY = Frames.key("code");
  private static final byte[] RESUME_TOKEN_KEY = Frames.key("resumeToken");
  private static final String RESUME_REFUSED = "resume-refused";
  private static final byte[] PER_SECOND_KEY = Frames.key("perSecond");
  private static final byte[] BURST_KEY = Frames.key("burst");
  private static final String CLOSED_BY_SERVER = "the server closed the connection";

  private final Fleet fleet;
  private final EventLoop loop;
  private final int index;
  private final byte[] name;
  private final LineSplitter splitter;

  /** Decrypted bytes go to the splitter (made once: the read path allocates nothing). */
  private final TlsChannel.Sink plaintext;

  private SocketChannel channel;

  /** TLS over the channel; null over plain TCP, and between connections. */
  private TlsChannel tls;

  private SelectionKey key;
  private FrameBuffer out;
  private boolean dirty;
  private boolean writeInterest;
  private State state = State.NEW;
  private long loginStarted;
  private int loginRetries;
  private long lastSeq;

  /** The highest seq received on earlier connections: the server may send those again. */
  private long seqBeforeLogin;

  private long ackedSeq;
  private int sinceAck;
  private long lastCommand;
  private int logins;

  /** Acknowledging nothing until the next return (a laggard). */
  private boolean holdingAcks;

  /**
   * A laggard back in: it acknowledges only what it receives on this connection, so that the server
   * must send again everything it had left unacknowledged (which shows the store kept it).
   */
  private boolean ackingThisConnectionOnly;

  /** The highest seq received on the current connection, sent again or new. */
  private long connectionSeq;

  /** Logging in again after a lost session (failures are then retried, not counted as failed). */
  private boolean returning;

  /**
   * The token the last login gave for resuming its session, as JSON string content (tokens need no
   * escapes); null if none, or once used or refused.
   */
  private byte[] resumeToken;

  private int attempt;
  private int connections;

  /** Whether the current connection has brought a line from the server. */
  private boolean heardOnConnection;

  private long lostAt;
  private Reconnects.Storm backIn;

  /** Messages or broadcasts sent and not yet answered, in the current phase (for the traffic). */
  public int inFlight;

  /** Sends made in the current phase, which numbers the next one (for the traffic). */
  public long sends;

  /** Sends that were due while the window was full, by due time (for the traffic). */
  public final LongRing backlog;

  SimUser(Fleet fleet, EventLoop loop, int index, String name, int maxFrameBytes, int backlog) {
    this.fleet = fleet;
    this.loop = loop;
    this.index = index;
    this.name = Frames.escape(name).getBytes(StandardCharsets.UTF_8);
    this.splitter = new LineSplitter(maxFrameBytes);
    this.plaintext = (bytes, from, length) -> splitter.feed(bytes, from, length, this);
    this.backlog = new LongRing(backlog);
  }

  public int index() {
    return index;
  }

  /** The username (for messages to people). */
  public String name() {
    return new String(name, StandardCharsets.UTF_8);
  }

  public EventLoop loop() {
    return loop;
  }

  public State state() {
    return state;
  }

  public boolean isActive() {
    return state == State.ACTIVE;
  }

  /** Sessions this user has had: 1 after its first login, one more after each return. */
  public int logins() {
    return logins;
  }

  // ---------------------------------------------------------------- sending (loop thread)

  /**
   * Sends a direct message to {@code to}: the payload carries {@code token}, this user's index,
   * {@code number} and {@code stamp}; the id is {@code TOKEN-SENDER-NUMBER}, new to the server.
   */
  public void sendMessage(SimUser to, byte[] token, long number, long stamp, int payloadBytes) {
    ClientFrames.message(out(), to.name, token, index, number, stamp, payloadBytes);
    commandSent();
  }

  /** Sends a broadcast whose payload carries {@code token}, this user's index, number and stamp. */
  public void sendBroadcast(byte[] token, long number, long stamp, int payloadBytes) {
    ClientFrames.broadcast(out(), token, index, number, stamp, payloadBytes);
    commandSent();
  }

  /** Asks who else is online ({@code whoelse}). */
  public void sendWhoelse() {
    out().put(ClientFrames.WHOELSE);
    commandSent();
  }

  /**
   * Acknowledges nothing from now until this user has lost its session and come back, as the client
   * of someone who walked away: the server keeps what it sends beyond the delivery window.
   */
  public void holdAcks() {
    holdingAcks = true;
  }

  /** Acknowledges every message received so far, unless that is done already (or held). */
  public void acknowledge() {
    long upTo = ackingThisConnectionOnly ? Math.min(lastSeq, connectionSeq) : lastSeq;
    if (state == State.ACTIVE && !holdingAcks && upTo > ackedSeq) {
      ClientFrames.ack(out(), upTo);
      ackedSeq = upTo;
      sinceAck = 0;
      wrote();
    }
  }

  /** Ends the session politely: acknowledge, {@code logout}, then wait for the server to close. */
  void logOut() {
    switch (state) {
      case ACTIVE -> {
        acknowledge();
        out().put(ClientFrames.LOGOUT);
        wrote();
        state = State.LOGGING_OUT;
      }
      case LOGGING_OUT, CLOSED -> {}
      // Waiting to come back, or logging in: the session is not there to log out of.
      default -> close();
    }
  }

  /** Sends {@code activity} when the user has been silent for {@code quietNanos}. */
  void keepAlive(long now, long quietNanos) {
    if (state == State.ACTIVE && now - lastCommand >= quietNanos) {
      out().put(ClientFrames.ACTIVITY);
      commandSent();
    }
  }

  private void commandSent() {
    lastCommand = MonotonicClock.now();
    wrote();
  }

  private FrameBuffer out() {
    if (out == null) {
      out = new FrameBuffer(FIRST_OUT_BYTES);
    }
    return out;
  }

  private void wrote() {
    if (!dirty && channel != null) {
      dirty = true;
      loop.markDirty(this);
    }
  }

  /** Writes what is waiting, as far as the socket takes it; asks for more room if needed. */
  void flush() {
    dirty = false;
    if (channel == null || out == null || state == State.CONNECTING) {
      return;
    }
    try {
      boolean all = tls == null ? out.writeTo(channel) : out.writeTo(tls);
      if (state == State.HANDSHAKING && tls.handshakeDone()) {
        // The hello went out with the handshake's last records (or waits in the socket's queue).
        opened();
      }
      if (all == writeInterest) {
        writeInterest = !all;
        key.interestOps(all ? SelectionKey.OP_READ : SelectionKey.OP_READ | SelectionKey.OP_WRITE);
      }
    } catch (IOException e) {
      broken(e);
    }
  }

  // ---------------------------------------------------------------- connection (loop thread)

  /** Opens the connection and starts logging in. */
  void connect() {
    state = State.CONNECTING;
    connections++;
    heardOnConnection = false;
    loginStarted = MonotonicClock.now();
    // Nothing of an earlier connection carries over: a half line, or frames it could not send.
    splitter.reset();
    if (out != null) {
      out.clear();
    }
    writeInterest = false;
    try {
      channel = SocketChannel.open();
      fleet.opened();
      channel.configureBlocking(false);
      // Frames go out as soon as they are written, as a chat client's would.
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
      boolean connected = channel.connect(fleet.address(index));
      key =
          channel.register(
              loop.selector(), connected ? SelectionKey.OP_READ : SelectionKey.OP_CONNECT, this);
      if (connected) {
        connected();
      }
    } catch (IOException e) {
      broken(e);
    }
  }

  void onConnectable() throws IOException {
    channel.finishConnect();
    key.interestOps(SelectionKey.OP_READ);
    connected();
  }

  /** The hello is sent at once over plain TCP; over TLS, when the handshake is done. */
  private void connected() throws IOException {
    TlsDialer dialer = fleet.tls(index);
    if (dialer == null) {
      opened();
    } else {
      tls = new TlsChannel(dialer.newEngine(), channel, loop.tlsScratch(dialer));
      tls.begin();
      state = State.HANDSHAKING;
    }
    out().put(ClientFrames.HELLO);
    wrote();
  }

  void onReadable(ByteBuffer buffer) throws IOException {
    if (tls != null) {
      readTls();
      return;
    }
    // A frame of this read may have ended the connection (a goodbye): then there is none to read.
    for (int i = 0; i < MAX_READS_PER_WAKEUP && channel != null; i++) {
      buffer.clear();
      int read = channel.read(buffer);
      if (read < 0) {
        splitter.finish(this);
        ended(CLOSED_BY_SERVER, Reconnects.CLOSED);
        return;
      }
      if (read == 0) {
        return;
      }
      splitter.feed(buffer.array(), 0, read, this);
      if (read < buffer.capacity()) {
        return;
      }
    }
  }

  /** Over TLS: as above, with the reads decrypted (the loop's buffer is not used). */
  private void readTls() throws IOException {
    TlsChannel reading = tls;
    for (int i = 0; i < MAX_READS_PER_WAKEUP; i++) {
      int read = reading.read(plaintext);
      if (tls != reading) {
        // A frame of this read ended the connection.
        return;
      }
      if (read == TlsChannel.END) {
        splitter.finish(this);
        ended(CLOSED_BY_SERVER, Reconnects.CLOSED);
        return;
      }
      if (read == 0 || !reading.filled()) {
        break;
      }
    }
    // The handshake moves on reads: its end lets the hello go; its records may wait for the socket.
    if (state == State.HANDSHAKING || reading.wantsWrite()) {
      wrote();
    }
  }

  /** The connection failed (reset, refused, a line too long): the connection is done. */
  void broken(Exception e) {
    if (state != State.CLOSED && state != State.WAITING) {
      String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      String cause =
          switch (state) {
            case CONNECTING -> Reconnects.UNREACHABLE;
            // The server's certificate refused, or no TLS on the other side: trying again would
            // not change it.
            case HANDSHAKING ->
                e instanceof SSLException ? Reconnects.TLS_FAILED : Reconnects.RESET;
            default -> Reconnects.RESET;
          };
      ended(e instanceof SSLException ? "TLS: " + message : message, cause);
    }
  }

  /**
   * The connection is over; what that means depends on how far the user got. {@code why} is for
   * people, {@code cause} is its short word (see {@link Reconnects}).
   */
  private void ended(String why, String cause) {
    State was = state;
    close();
    switch (was) {
      case LOGGING_OUT, CLOSED, WAITING, NEW -> {}
      case ACTIVE -> {
        fleet.disconnected(this, why);
        lost(cause);
      }
      default -> loginEnded(why, cause, Reconnects.isPassing(cause));
    }
  }

  /** A login attempt ended without a session: counted as failed, or (returning) retried. */
  private void loginEnded(String why, String cause, boolean passing) {
    if (!returning) {
      fleet.loginFailed(this, why);
      return;
    }
    Reconnects reconnects = fleet.reconnects();
    if (passing) {
      reconnects.refused(cause);
      attempt++;
      waitToComeBack(reconnects);
    } else {
      returning = false;
      reconnects.gaveUp(cause, MonotonicClock.now());
    }
  }

  /** Closes the socket without counting anything; a user waiting to come back stays away. */
  void close() {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    if (tls != null) {
      tls.close();
      tls = null;
    }
    if (key != null) {
      key.cancel();
      key = null;
    }
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // Closing anyway.
      }
      channel = null;
      fleet.closed();
    }
  }

  // ---------------------------------------------------------------- coming back (loop thread)

  /** The session ended: with reconnects armed, come back after the first wait. */
  private void lost(String cause) {
    Reconnects reconnects = fleet.reconnects();
    if (reconnects == null) {
      return;
    }
    lostAt = MonotonicClock.now();
    reconnects.lost(cause, lostAt, backIn);
    returning = true;
    attempt = 0;
    waitToComeBack(reconnects);
  }

  private void waitToComeBack(Reconnects reconnects) {
    state = State.WAITING;
    loop.schedule(
        reconnects.backoff().delayNanos(attempt, loop.random().nextDouble()), this::comeBack);
  }

  private void comeBack() {
    // Logged out (the run ended) while waiting: stay away.
    if (state != State.WAITING) {
      return;
    }
    Reconnects reconnects = fleet.reconnects();
    reconnects.attempted();
    connect();
    if (reconnects.loginTimeoutNanos() > 0) {
      int connection = connections;
      loop.schedule(reconnects.loginTimeoutNanos(), () -> loginTimedOut(connection));
    }
  }

  /**
   * The connection is open (over TLS: its handshake is done) and the hello is on its way. A user
   * coming back then gives the server the client's connect-timeout to say its first word.
   */
  private void opened() {
    state = State.HELLO_SENT;
    Reconnects reconnects = fleet.reconnects();
    if (returning && reconnects != null && reconnects.connectTimeoutNanos() > 0) {
      int connection = connections;
      loop.schedule(reconnects.connectTimeoutNanos(), () -> firstWordTimedOut(connection));
    }
  }

  /** The attempt on connection number {@code connection} has had all the time it may take. */
  private void loginTimedOut(int connection) {
    if (returning && loggingIn() && connection == connections) {
      close();
      loginEnded("no answer to the login", Reconnects.NO_ANSWER, true);
    }
  }

  /**
   * The attempt on connection number {@code connection} has had the time the server may take to say
   * its first word: a connection it said nothing on is one a restarted server, swamped by returning
   * clients, has not taken up (the operating system leaves it hanging for a minute).
   */
  private void firstWordTimedOut(int connection) {
    if (returning && loggingIn() && connection == connections && !heardOnConnection) {
      close();
      loginEnded("no answer on the connection", Reconnects.NO_ANSWER, true);
    }
  }

  private boolean loggingIn() {
    return state == State.CONNECTING
        || state == State.HANDSHAKING
        || state == State.HELLO_SENT
        || state == State.RESUME_SENT
        || state == State.USERNAME_SENT
        || state == State.PASSWORD_SENT;
  }

  // ---------------------------------------------------------------- frames (loop thread)

  @Override
  public void onLine(byte[] line, int from, int to) {
    heardOnConnection = true;
    FrameType type = Frames.type(line, from, to);
    if (type == FrameType.HEARTBEAT) {
      // Answered in any state, as the client does; not a command, so not paced. Not counted as a
      // line either: a silent user hears one every heartbeat interval for as long as it is
      // connected, so counting them would keep Fleet.awaitQuiet from ever seeing the quiet.
      out().put(ClientFrames.HEARTBEAT);
      wrote();
      return;
    }
    loop.lineReceived();
    switch (state) {
      case ACTIVE -> onActive(type, line, from, to);
      case HELLO_SENT, RESUME_SENT, USERNAME_SENT, PASSWORD_SENT -> onLogin(type, line, from, to);
      case LOGGING_OUT -> {
        // Waiting for the goodbye and the end of the stream; the rest no longer matters.
      }
      default -> {}
    }
  }

  private void onActive(FrameType type, byte[] line, int from, int to) {
    switch (type) {
      case USER_LOGGED_IN, USER_LOGGED_OUT -> loop.noticeReceived();
      case ACTIVITY_NOTED -> {}
      case MESSAGE_RECEIVED -> {
        long seq = Frames.longField(line, from, to, SEQ_KEY);
        connectionSeq = Math.max(connectionSeq, seq);
        if (seq <= seqBeforeLogin) {
          // Received on an earlier connection, sent again since it had not been acknowledged:
          // passed on once, and acknowledged again (else the delivery window stays full of it).
          loop.traffic().onResent(this, line, from, to);
          if (++sinceAck >= ACK_EVERY) {
            acknowledge();
          }
          return;
        }
        if (seq > lastSeq) {
          lastSeq = seq;
        }
        if (++sinceAck >= ACK_EVERY) {
          acknowledge();
        }
        loop.traffic().onFrame(this, type, line, from, to);
      }
      case GOODBYE -> {
        String reason = Frames.stringField(line, from, to, REASON_KEY);
        ended("goodbye " + reason, Reconnects.GOODBYE + reason);
      }
      default -> loop.traffic().onFrame(this, type, line, from, to);
    }
  }

  private void onLogin(FrameType type, byte[] line, int from, int to) {
    switch (type) {
      case HELLO -> {
        if (state == State.HELLO_SENT) {
          noteCommandRate(line, from, to);
          if (returning && resumeToken != null && fleet.reconnects().resumes()) {
            sendResume();
          } else {
            sendUsername();
          }
        } else {
          loginRefused("unexpected hello", "unexpected-hello");
        }
      }
      case PASSWORD_REQUIRED -> {
        out().put(fleet.passwordFrame());
        wrote();
        state = State.PASSWORD_SENT;
      }
      case LOGIN_ACCEPTED -> {
        boolean resumed = state == State.RESUME_SENT;
        // Each token is good once: the next return uses the one this login gave.
        String token = Frames.stringField(line, from, to, RESUME_TOKEN_KEY);
        resumeToken = token == null ? null : Frames.ascii(token);
        loggedIn(resumed);
      }
      case LOGIN_FAILED -> {
        String reason = Frames.stringField(line, from, to, REASON_KEY);
        if (state == State.RESUME_SENT && RESUME_REFUSED.equals(reason)) {
          // Expired, revoked or from another certificate: the password, as the client does.
          resumeToken = null;
          fleet.reconnects().resumeRefused();
          sendUsername();
          return;
        }
        // A session of an earlier run that is still closing; it will be gone in a moment. (A
        // returning user waits its backoff instead, as the client does.)
        if ("already-online".equals(reason)
            && !returning
            && loginRetries++ < MAX_ALREADY_ONLINE_RETRIES) {
          state = State.USERNAME_SENT;
          loop.schedule(ALREADY_ONLINE_RETRY_NANOS, this::retryUsername);
        } else {
          loginRefused("login-failed " + reason, "login-failed-" + reason);
        }
      }
      case GOODBYE -> {
        String reason = Frames.stringField(line, from, to, REASON_KEY);
        loginRefused("goodbye " + reason, Reconnects.GOODBYE + reason);
      }
      case ERROR -> {
        String code = Frames.stringField(line, from, to, CODE_KEY);
        loginRefused("error " + code, "error-" + code);
      }
      default -> {}
    }
  }

  private void retryUsername() {
    if (state == State.USERNAME_SENT) {
      sendUsername();
    }
  }

  private void sendResume() {
    // Kept until the server takes it (a new one comes with the login) or refuses it: an attempt
    // that fails otherwise (already online, server busy) leaves it good for the next.
    ClientFrames.resume(out(), name, resumeToken);
    wrote();
    state = State.RESUME_SENT;
  }

  private void sendUsername() {
    ClientFrames.username(out(), name);
    wrote();
    state = State.USERNAME_SENT;
  }

  private void loggedIn(boolean resumed) {
    state = State.ACTIVE;
    logins++;
    seqBeforeLogin = lastSeq;
    lastCommand = MonotonicClock.now();
    if (!returning) {
      fleet.loggedIn(this, lastCommand - loginStarted);
      return;
    }
    returning = false;
    boolean laggard = holdingAcks;
    holdingAcks = false;
    connectionSeq = 0;
    ackingThisConnectionOnly = laggard;
    backIn = fleet.reconnects().back(lastCommand, lastCommand - lostAt, resumed);
    ackedSeq = 0;
    if (!laggard) {
      // As the client does once back: acknowledge what was received before, so that the server
      // sends again only what never arrived.
      acknowledge();
    }
  }

  /** The server refused a login step: the attempt is over (and may be tried again later). */
  private void loginRefused(String why, String cause) {
    close();
    loginEnded(why, cause, Reconnects.isPassing(cause));
  }

  /** Version 2: the server announces the rate at which it takes this connection's frames. */
  private void noteCommandRate(byte[] line, int from, int to) {
    double perSecond = Frames.decimalField(line, from, to, PER_SECOND_KEY);
    long burst = Frames.longField(line, from, to, BURST_KEY);
    if (perSecond > 0 && burst > 0) {
      fleet.commandRate(perSecond, burst);
    }
  }
}
