// Parley's web client: the chat protocol (docs/protocol.md, version 3) over one WebSocket to the
// node that served this page, one JSON frame per text message. Every piece of text that comes from
// a user (names, messages, error subjects) reaches the page through textContent, never as HTML.

const PROTOCOL_VERSION = 3;

/** The conversation of broadcasts, in data-conversation. */
const EVERYONE = '*';

/** First wait before reconnecting; it doubles after each failed attempt... */
const RECONNECT_MIN_MS = 500;
/** ...up to this, so a server back after a long outage is found within this long. */
const RECONNECT_MAX_MS = 15_000;
/**
 * Each wait is drawn between this share of it and all of it, so that the browsers a server restart
 * cut off together do not all come back at the same instant.
 */
const RECONNECT_JITTER_FLOOR = 0.5;

/**
 * The backoff starts again from its shortest wait only once a connection has lasted this long, so
 * that a server which accepts the session and then drops it at once is not asked again and again
 * at the shortest wait.
 */
const STABLE_CONNECTION_MS = 10_000;

/** A WebSocket that has not opened by then is given up and tried again. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The server's heartbeat-timeout: it sends a heartbeat after 15 s of our silence and answers every
 * command, so a server silent this long is gone even if the socket looks open (§4.6).
 */
const SERVER_SILENCE_MS = 45_000;

/** Acknowledgements of a burst of messages (a full mailbox at login) go out as one ack. */
const ACK_DELAY_MS = 20;

/** Longest message text the server takes, counted as encoded in JSON (protocol.md, limits). */
const MAX_TEXT_BYTES = 61_440;

/** Names (usernames) are 1 to 64 characters, without whitespace or control characters. */
const MAX_NAME_LENGTH = 64;
const NAME_FORBIDDEN = /[\s\p{Cc}]/u;

/** Direct messages kept while they wait for the server, as the terminal client's default. */
const MAX_UNSENT_MESSAGES = 1000;

/** How long logout waits for the server's goodbye before ending the session on this side. */
const LOGOUT_WAIT_MS = 5_000;

/** Used until the server's hello announces its own commandRate. */
const DEFAULT_RATE = { perSecond: 20, burst: 100 };
/**
 * Share of the announced burst the page uses. The server counts a frame when its session gets to
 * it, not when it was sent, and its bucket stops filling at the burst: frames held up behind a
 * slow one (a commit) and then read together can meet a bucket the page thought fuller.
 */
const BURST_SHARE = 0.5;

/**
 * The resumption token of the last login, per tab: it survives a reload but not the tab, and never
 * reaches localStorage, where every tab and every later visitor of the browser profile could read it.
 */
const SESSION_KEY = 'parley.session';

const MS_PER_SECOND = 1000;
const COUNTDOWN_TICK_MS = 1000;

const $ = (id) => document.getElementById(id);

const ui = {
  connection: $('connection'),
  retryNow: $('retry-now'),
  me: $('me'),
  logout: $('logout'),
  loginPanel: $('login-panel'),
  loginForm: $('login'),
  username: $('username'),
  password: $('password'),
  loginButton: $('login-button'),
  loginStatus: $('login-status'),
  loginNote: $('login-note'),
  chat: $('chat'),
  sidebarToggle: $('sidebar-toggle'),
  conversations: $('conversations'),
  openForm: $('open-form'),
  newConversation: $('new-conversation'),
  openStatus: $('open-status'),
  onlineUsers: $('online-users'),
  onlineEmpty: $('online-empty'),
  onlineOmitted: $('online-omitted'),
  sinceForm: $('since-form'),
  sinceSeconds: $('since-seconds'),
  whoelsesince: $('whoelsesince'),
  recentStatus: $('recent-status'),
  recentUsers: $('recent-users'),
  title: $('conversation-title'),
  block: $('block'),
  unblock: $('unblock'),
  messages: $('messages'),
  composer: $('composer'),
  message: $('message'),
  send: $('send'),
  archive: $('archive'),
};

const state = {
  /** The open WebSocket, or null. */
  ws: null,
  /** Where the connection is in the login phases: offline, hello, username, password, resume, active. */
  phase: 'offline',
  /** The username the server holds a password step for (it keeps it after a wrong password). */
  passwordFor: null,
  /** The logged-in user, or null. */
  me: null,
  /** Whose conversations the page holds: kept while a lost session waits for the password again. */
  chatOwner: null,
  /** {username, token} to resume with, or null. */
  session: loadSession(),
  /** {username, password} typed by the user and not answered yet. */
  pendingLogin: null,
  /** Whether a connection has ever reached the server's hello (for the first-load message). */
  reachedServer: false,
  reconnectAttempt: 0,
  reconnectTimer: null,
  reconnectAt: 0,
  countdownTimer: null,
  connectTimer: null,
  stableTimer: null,
  watchdogTimer: null,
  logoutTimer: null,
  /** Highest seq shown; a message sent again at a reconnect is shown once. */
  lastSeq: 0,
  ackedSeq: 0,
  ackTimer: null,
  /** Commands sent and not answered yet, oldest first: the server answers each, in order. */
  awaiting: [],
  /** Frames waiting for the rate the server announced. */
  sendQueue: [],
  tokens: DEFAULT_RATE.burst,
  rate: DEFAULT_RATE,
  refilledAt: performance.now(),
  pumpTimer: null,
  /** Direct messages not answered by the server yet, in the order typed: {id, to, text, el, sent}. */
  outbox: [],
  conversations: new Map(),
  current: EVERYONE,
  online: [],
  /** Whom the user blocked (true) or unblocked (false), as far as this session has learnt. */
  blocked: new Map(),
  sidebarOpen: false,
};

// ---------------------------------------------------------------------------------------------
// Connection

function webSocketUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

function connect() {
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = null;
  stopCountdown();
  if (state.ws) return;
  if (ui.connection.dataset.state === 'unreachable') {
    // Still unreachable until the server answers: a test or a user sees one state, not a flicker.
    setConnection('unreachable', `${unreachableText()} Trying again now…`);
  } else {
    setConnection('connecting', state.session ? `Connecting to resume as ${state.session.username}…` : 'Connecting…');
  }
  let socket;
  try {
    socket = new WebSocket(webSocketUrl());
  } catch (e) {
    console.warn('cannot open the WebSocket', e);
    scheduleReconnect();
    return;
  }
  state.ws = socket;
  state.phase = 'hello';
  state.connectTimer = setTimeout(() => {
    if (state.ws === socket && socket.readyState !== WebSocket.OPEN) connectionLost(socket);
  }, CONNECT_TIMEOUT_MS);
  socket.addEventListener('open', () => {
    if (state.ws !== socket) return;
    clearTimeout(state.connectTimer);
    armWatchdog(socket);
    sendNow({ type: 'hello', version: PROTOCOL_VERSION });
  });
  socket.addEventListener('message', (event) => {
    if (state.ws !== socket) return;
    armWatchdog(socket);
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (e) {
      console.warn('unreadable frame from the server', e);
      return;
    }
    if (frame === null || typeof frame !== 'object' || typeof frame.type !== 'string') {
      console.warn('frame without a type from the server');
      return;
    }
    handleFrame(frame);
  });
  socket.addEventListener('close', () => {
    if (state.ws === socket) connectionLost(socket);
  });
}

/** Forgets the socket (closing it if it is still open) and everything tied to it. */
function detach(socket) {
  if (state.ws === socket) state.ws = null;
  try {
    socket.close();
  } catch (e) {
    // Already closing; nothing to do.
  }
  clearTimeout(state.connectTimer);
  clearTimeout(state.stableTimer);
  clearTimeout(state.watchdogTimer);
  clearTimeout(state.pumpTimer);
  state.pumpTimer = null;
  state.phase = 'offline';
  state.passwordFor = null;
  state.sendQueue = [];
  const unanswered = state.awaiting;
  state.awaiting = [];
  for (const command of unanswered) {
    // Nobody knows whether the server got it; broadcasts are not kept, so they are not sent again.
    if (command.type === 'broadcast') {
      markFailed(command.el, 'The connection was lost before the server answered: it may not have been sent.');
    }
  }
  for (const entry of state.outbox) {
    entry.sent = false;
    setStatus(entry.el, 'pending', 'Waiting for the connection…');
  }
  updateControls();
}

/**
 * An unexpected close, or a server gone silent: try again. At the login form too, so that the form
 * says whether the server can be reached before anyone types a password; a server that is up closes
 * an idle login form's connection with goodbye, which is not retried.
 */
function connectionLost(socket) {
  detach(socket);
  if (state.pendingLogin) {
    loginSays('The server cannot be reached. Your login will be tried when it is back.', { error: false });
    // Another name or password may be typed meanwhile; the latest one is tried.
    ui.loginButton.disabled = false;
  }
  scheduleReconnect();
}

function scheduleReconnect() {
  const ceiling = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** state.reconnectAttempt);
  const wait = ceiling * (RECONNECT_JITTER_FLOOR + (1 - RECONNECT_JITTER_FLOOR) * Math.random());
  state.reconnectAttempt += 1;
  state.reconnectAt = performance.now() + wait;
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = setTimeout(connect, wait);
  showCountdown();
  clearInterval(state.countdownTimer);
  state.countdownTimer = setInterval(showCountdown, COUNTDOWN_TICK_MS);
}

function resetBackoffWhenStable() {
  clearTimeout(state.stableTimer);
  state.stableTimer = setTimeout(() => {
    state.reconnectAttempt = 0;
  }, STABLE_CONNECTION_MS);
}

function showCountdown() {
  const seconds = Math.max(0, Math.ceil((state.reconnectAt - performance.now()) / MS_PER_SECOND));
  setConnection('unreachable', `${unreachableText()} Trying again in ${seconds} s.`);
  ui.retryNow.hidden = false;
}

function unreachableText() {
  if (state.me) return 'Connection lost. Your messages are kept and sent once it is back.';
  return state.reachedServer
    ? 'The server cannot be reached.'
    : 'The server cannot be reached (it may be down, or this network cannot get to it).';
}

function stopCountdown() {
  clearInterval(state.countdownTimer);
  state.countdownTimer = null;
  ui.retryNow.hidden = true;
}

function armWatchdog(socket) {
  clearTimeout(state.watchdogTimer);
  state.watchdogTimer = setTimeout(() => {
    if (state.ws === socket) {
      console.warn(`nothing from the server for ${SERVER_SILENCE_MS} ms: reconnecting`);
      connectionLost(socket);
    }
  }, SERVER_SILENCE_MS);
}

function setConnection(kind, text) {
  ui.connection.dataset.state = kind;
  ui.connection.textContent = text;
}

// ---------------------------------------------------------------------------------------------
// Sending, paced to the server's commandRate

/** Sends at once, outside the pacing: hello, ack, heartbeat and logout (not rate limited). */
function sendNow(frame) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return false;
  state.ws.send(JSON.stringify(frame));
  return true;
}

/**
 * A login step: sent at once (nothing else is in flight before login), but counted, since the
 * server's rate counts every frame but ack, logout and heartbeat.
 */
function sendLoginFrame(frame) {
  refill();
  state.tokens -= 1;
  sendNow(frame);
}

function refill() {
  const now = performance.now();
  state.tokens = Math.min(state.rate.burst, state.tokens + ((now - state.refilledAt) / MS_PER_SECOND) * state.rate.perSecond);
  state.refilledAt = now;
}

/** Sends a command that the server answers, in order, as fast as its rate allows. */
function sendCommand(frame, context) {
  state.sendQueue.push({ frame, context: { type: frame.type, ...context } });
  pump();
}

function pump() {
  clearTimeout(state.pumpTimer);
  state.pumpTimer = null;
  refill();
  while (state.sendQueue.length > 0 && state.tokens >= 1) {
    const { frame, context } = state.sendQueue.shift();
    if (!sendNow(frame)) return;
    state.tokens -= 1;
    state.awaiting.push(context);
  }
  if (state.sendQueue.length > 0) {
    const wait = ((1 - state.tokens) / state.rate.perSecond) * MS_PER_SECOND;
    state.pumpTimer = setTimeout(pump, wait);
  }
}

function scheduleAck() {
  if (state.ackTimer !== null) return;
  state.ackTimer = setTimeout(() => {
    state.ackTimer = null;
    if (state.phase === 'active' && state.lastSeq > state.ackedSeq && sendNow({ type: 'ack', seq: state.lastSeq })) {
      state.ackedSeq = state.lastSeq;
    }
  }, ACK_DELAY_MS);
}

// ---------------------------------------------------------------------------------------------
// Frames from the server

function handleFrame(frame) {
  switch (frame.type) {
    case 'hello':
      return onHello(frame);
    case 'password-required':
      return onPasswordRequired(frame);
    case 'login-failed':
      return onLoginFailed(frame);
    case 'login-accepted':
      return onLoginAccepted(frame);
    case 'heartbeat':
      sendNow({ type: 'heartbeat' });
      return;
    case 'goodbye':
      return onGoodbye(frame);
    case 'message-received':
      return onMessageReceived(frame);
    case 'broadcast-received':
      appendMessage(conversation(EVERYONE), { kind: 'broadcast', from: frame.from, text: frame.text });
      return;
    case 'user-logged-in':
      return onUserLoggedIn(frame.user);
    case 'user-logged-out':
      return onUserLoggedOut(frame.user);
    case 'peer-invited':
      // Only sent to clients that take private chats; this one sends no peerPort.
      return;
    case 'error':
      return onError(frame, state.phase === 'active' ? replyContext(frame.type, frame.command) : null);
    default:
      return onReply(frame, replyContext(frame.type));
  }
}

/**
 * The command a reply answers: the oldest unanswered one, since the server answers one at a time
 * in order. Checked against the reply's kind, in case the two ever disagree.
 */
function replyContext(replyType, command) {
  const head = state.awaiting.shift();
  if (!head) return null;
  if (replyType === 'error' && command !== undefined && head.type !== command) {
    console.warn(`error about ${command} while ${head.type} was awaited`);
  }
  return head;
}

function onHello(frame) {
  state.reachedServer = true;
  if (frame.version !== PROTOCOL_VERSION) {
    console.warn(`server speaks version ${frame.version}`);
  }
  const rate = frame.commandRate;
  const announced =
    rate && rate.perSecond > 0 && rate.burst >= 1 ? { perSecond: rate.perSecond, burst: rate.burst } : DEFAULT_RATE;
  state.rate = { perSecond: announced.perSecond, burst: Math.max(1, Math.floor(announced.burst * BURST_SHARE)) };
  // Our hello was the first frame the server counted.
  state.tokens = state.rate.burst - 1;
  state.refilledAt = performance.now();
  state.phase = 'username';
  if (state.session && !state.me && !state.pendingLogin) {
    loginSays(`Resuming your session as ${state.session.username}…`, { error: false });
  }
  if (state.session) {
    state.phase = 'resume';
    sendLoginFrame({ type: 'resume', username: state.session.username, token: state.session.token });
    setConnection('connecting', `Resuming as ${state.session.username}…`);
  } else if (state.pendingLogin) {
    sendLoginStep();
  } else {
    resetBackoffWhenStable();
    setConnection('connected', 'Connected. Log in to chat.');
  }
}

function sendLoginStep() {
  const login = state.pendingLogin;
  if (state.phase === 'password' && state.passwordFor === login.username) {
    sendLoginFrame({ type: 'password', password: login.password });
  } else {
    sendLoginFrame({ type: 'username', username: login.username });
  }
  setConnection('connecting', `Logging in as ${login.username}…`);
}

function onPasswordRequired(frame) {
  state.phase = 'password';
  state.passwordFor = frame.username;
  if (state.pendingLogin && state.pendingLogin.username === frame.username) {
    sendLoginFrame({ type: 'password', password: state.pendingLogin.password });
  }
}

const LOGIN_FAILURES = {
  'unknown-user': (name) => `There is no account named “${name}”.`,
  'invalid-password': (name) => `Wrong password for ${name}. After three wrong passwords in a row the account is locked for a while.`,
  'already-online': (name) => `${name} is already logged in somewhere else. Log out there first.`,
  'resume-refused': () => 'Your session could not be resumed. Please log in again.',
};

function onLoginFailed(frame) {
  const name = frame.username ?? state.pendingLogin?.username ?? state.session?.username ?? '';
  if (frame.reason === 'resume-refused') {
    const session = state.session;
    clearSession();
    state.phase = 'username';
    if (state.me) {
      // Lost the session while away: back to the form, keeping the conversations and the unsent
      // messages for when the same user logs in again.
      leaveChat({ keep: true });
    }
    if (session) ui.username.value = session.username;
    loginFailed(LOGIN_FAILURES['resume-refused'](name));
    if (state.pendingLogin) sendLoginStep();
    ui.password.focus();
    return;
  }
  state.pendingLogin = null;
  state.phase = frame.reason === 'invalid-password' ? 'password' : 'username';
  if (frame.reason !== 'invalid-password') state.passwordFor = null;
  const describe = LOGIN_FAILURES[frame.reason];
  loginFailed(describe ? describe(name) : `Login failed (${frame.reason}).`);
  ui.password.value = '';
  (frame.reason === 'invalid-password' ? ui.password : ui.username).focus();
}

/**
 * Shows `text` under the login form: an error in #login-status (an alert), anything else (progress,
 * having logged out) in #login-note (a status), so that only what went wrong looks like it.
 */
function loginSays(text, { error = true } = {}) {
  ui.loginStatus.textContent = error ? text : '';
  ui.loginNote.textContent = error ? '' : text;
}

function loginFailed(text) {
  loginSays(text);
  ui.loginButton.disabled = false;
  setConnection('connected', 'Connected. Log in to chat.');
}

function onLoginAccepted(frame) {
  const previous = state.chatOwner;
  state.me = frame.username;
  state.pendingLogin = null;
  state.phase = 'active';
  resetBackoffWhenStable();
  if (frame.resumeToken) {
    saveSession({ username: frame.username, token: frame.resumeToken });
  } else {
    clearSession();
  }
  if (previous !== frame.username) resetChat();
  state.chatOwner = frame.username;
  ui.password.value = '';
  loginSays('');
  ui.loginButton.disabled = false;
  ui.me.textContent = frame.username;
  showChat(true);
  ui.logout.hidden = false;
  setConnection('connected', `Connected as ${frame.username}.`);
  // Messages shown before the connection broke are acknowledged at once (§10, 4).
  if (state.lastSeq > 0) {
    sendNow({ type: 'ack', seq: state.lastSeq });
    state.ackedSeq = state.lastSeq;
  }
  sendCommand({ type: 'whoelse' });
  for (const entry of state.outbox) sendMessage(entry);
  updateControls();
  if (previous !== frame.username) ui.message.focus();
}

const GOODBYES = {
  'logged-out': 'You have logged out.',
  'timed-out': 'You were logged out after a long time without activity.',
  'account-locked': 'Wrong password three times in a row: the account is now locked for a while. Try again later.',
  'account-blocked': 'This account is locked after too many wrong passwords. Try again later.',
  'account-removed': 'Your account was removed by an administrator.',
  resumed: 'This session was taken up in another window or tab.',
  'unsupported-version': 'This server does not speak the web client’s protocol version. Reload the page.',
};

/** Goodbyes that end the session as the user meant or can expect: not shown as errors. */
const NEUTRAL_GOODBYES = new Set(['logged-out', 'resumed']);

/** Reasons after which trying again with the session is right: the server or the link failed. */
const TRANSIENT_GOODBYES = new Set([
  'server-shutdown',
  'server-busy',
  'unresponsive',
  'rate-limited',
  'protocol-violation',
  'frame-too-long',
]);

function onGoodbye(frame) {
  const socket = state.ws;
  const reason = frame.reason;
  if (TRANSIENT_GOODBYES.has(reason)) {
    console.info(`server said goodbye (${reason}): reconnecting`);
    connectionLost(socket);
    return;
  }
  clearTimeout(state.logoutTimer);
  detach(socket);
  const wasIn = state.me !== null;
  const name = state.me ?? state.pendingLogin?.username ?? state.session?.username;
  clearSession();
  state.pendingLogin = null;
  if (wasIn) leaveChat();
  if (reason === 'timed-out' && !wasIn) {
    // The server closes a connection that stays at the login form; the next login opens another.
    setConnection('disconnected', 'Not connected. Logging in connects again.');
    return;
  }
  setConnection('disconnected', reason === 'logged-out' ? 'Logged out.' : 'Not connected.');
  const text = GOODBYES[reason] ?? `The server closed the connection (${reason}).`;
  loginSays(name && reason.startsWith('account-') ? `${name}: ${text}` : text, {
    error: !NEUTRAL_GOODBYES.has(reason),
  });
  ui.password.value = '';
  ui.loginButton.disabled = false;
}

// ---------------------------------------------------------------------------------------------
// Messages

function onMessageReceived(frame) {
  if (frame.seq > state.lastSeq) {
    appendMessage(conversation(frame.from), { kind: 'incoming', from: frame.from, text: frame.text });
    state.lastSeq = frame.seq;
  }
  // After it is in the document (or was already, when the server sends it again).
  scheduleAck();
}

function onReply(frame, context) {
  switch (frame.type) {
    case 'message-accepted': {
      const entry = takeFromOutbox(frame.id);
      if (entry) {
        setStatus(entry.el, 'accepted', '');
        if (frame.stored) keptFor(entry.el, entry.to);
      }
      return;
    }
    case 'broadcast-sent':
      if (context?.el) {
        setStatus(context.el, 'accepted', frame.complete ? '' : 'Not everyone online received it.');
      }
      return;
    case 'online-users':
      return onOnlineUsers(frame);
    case 'recent-users':
      return onRecentUsers(frame);
    case 'block-confirmed':
      setBlocked(frame.user, true);
      notice(
        conversation(frame.user),
        `You blocked ${frame.user}: they can no longer message you, reach you with broadcasts or see when you are online.`,
      );
      return;
    case 'unblock-confirmed':
      setBlocked(frame.user, false);
      notice(conversation(frame.user), `You unblocked ${frame.user}.`);
      return;
    default:
      console.warn(`unexpected frame ${frame.type}`);
  }
}

const MESSAGE_ERRORS = {
  'blocked-by-user': (s) => `${s} has blocked you: not delivered.`,
  'invalid-user': (s) => `There is no user named ${s}: not delivered.`,
  self: () => 'You cannot send a message to yourself.',
  'mailbox-full': (s) => `${s} has too many unread messages: not delivered. Try again later.`,
  'rate-limited': () => 'Sent too fast: not delivered. Try again in a moment.',
  unavailable: () => 'The server could not store it: not delivered. Try again.',
  'invalid-text': (s) => `This text cannot be sent${s ? ` (${s})` : ''}.`,
};

/** Failures after which the same message (same id) may simply be sent again. */
const RETRYABLE = new Set(['rate-limited', 'unavailable']);

const COMMAND_ERRORS = {
  'invalid-user': (s) => `There is no user named ${s}.`,
  self: () => 'You cannot do that to yourself.',
  'already-blocked': (s) => `${s} is already blocked.`,
  'not-blocked': (s) => `${s} was not blocked.`,
  unavailable: () => 'The server could not do that just now. Try again.',
  'rate-limited': () => 'Too fast: that was not done. Try again in a moment.',
  'invalid-argument': (s) => `The server refused that${s ? `: ${s}` : ''}.`,
  'invalid-text': (s) => `This text cannot be sent${s ? ` (${s})` : ''}.`,
};

function onError(frame, context) {
  const code = frame.code;
  const subject = frame.subject ?? '';
  if (state.phase !== 'active') {
    if (code === 'rate-limited') {
      state.pendingLogin = null;
      loginFailed('Too many login attempts from this address. Wait a moment and try again.');
    } else {
      console.warn(`error during login: ${code} ${frame.command ?? ''} ${subject}`);
    }
    return;
  }
  if (frame.command === 'message' || context?.type === 'message') {
    const entry = takeFromOutbox(frame.id ?? context?.id);
    const describe = MESSAGE_ERRORS[code];
    const text = describe ? describe(subject || entry?.to || '') : `Not delivered (${code}).`;
    if (entry) {
      markFailed(entry.el, text, RETRYABLE.has(code) ? () => retry(entry) : null);
    } else {
      notice(currentConversation(), text);
    }
    return;
  }
  if (frame.command === 'broadcast' || context?.type === 'broadcast') {
    const describe = COMMAND_ERRORS[code];
    if (context?.el) markFailed(context.el, describe ? describe(subject) : `Not sent (${code}).`);
    return;
  }
  const describe = COMMAND_ERRORS[code];
  const text = describe ? describe(subject || context?.user || '') : `The server refused ${frame.command ?? 'a command'} (${code}).`;
  if (frame.command === 'whoelsesince' || context?.type === 'whoelsesince') {
    ui.recentStatus.textContent = text;
    return;
  }
  const about = context?.user ?? (frame.command === 'block' || frame.command === 'unblock' ? subject : null);
  if (about && code === 'already-blocked') setBlocked(about, true);
  if (about && code === 'not-blocked') setBlocked(about, false);
  notice(about ? conversation(about) : currentConversation(), text);
}

function takeFromOutbox(id) {
  const index = state.outbox.findIndex((entry) => entry.id === id);
  return index < 0 ? null : state.outbox.splice(index, 1)[0];
}

function retry(entry) {
  if (state.outbox.length >= MAX_UNSENT_MESSAGES) return;
  state.outbox.push(entry);
  setStatus(entry.el, 'pending', 'Sending…');
  if (state.phase === 'active') sendMessage(entry);
  else setStatus(entry.el, 'pending', 'Waiting for the connection…');
}

function sendMessage(entry) {
  entry.sent = true;
  setStatus(entry.el, 'pending', 'Sending…');
  sendCommand({ type: 'message', to: entry.to, text: entry.text, id: entry.id }, { id: entry.id });
}

/**
 * A version 7 UUID: it begins with the time, so the server's index of ids grows at its end
 * (protocol.md §10). Built from getRandomValues, which unlike randomUUID also exists on a plain
 * http: page (a node started with --plaintext, reached by its address).
 */
function messageId() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let time = Date.now();
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The text's size as the server counts it: its JSON string encoding in UTF-8, quotes left out. */
function encodedBytes(text) {
  return new TextEncoder().encode(JSON.stringify(text)).length - 2;
}

function onComposerSubmit(event) {
  event.preventDefault();
  const text = ui.message.value;
  if (text.trim() === '' || !state.me) return;
  const conv = currentConversation();
  const size = encodedBytes(text);
  if (size > MAX_TEXT_BYTES) {
    notice(conv, `Too long to send: ${size} bytes, the limit is ${MAX_TEXT_BYTES}.`);
    return;
  }
  if (conv.name === EVERYONE) {
    if (state.phase !== 'active') {
      notice(conv, 'Not connected: broadcasts are not kept for later. Send it again once connected.');
      return;
    }
    const el = appendMessage(conv, { kind: 'outgoing', from: state.me, text, status: 'pending' });
    setStatus(el, 'pending', 'Sending…');
    sendCommand({ type: 'broadcast', text }, { el });
  } else {
    if (state.outbox.length >= MAX_UNSENT_MESSAGES) {
      notice(conv, `${MAX_UNSENT_MESSAGES} messages are already waiting to be sent. Wait for the connection.`);
      return;
    }
    const el = appendMessage(conv, { kind: 'outgoing', from: state.me, text, status: 'pending' });
    const entry = { id: messageId(), to: conv.name, text, el, sent: false };
    state.outbox.push(entry);
    if (state.phase === 'active') sendMessage(entry);
    else setStatus(el, 'pending', 'Waiting for the connection…');
  }
  ui.message.value = '';
  ui.message.focus();
}

// ---------------------------------------------------------------------------------------------
// Conversations and their logs

/** The conversation with `name` (EVERYONE for broadcasts), made on first use. */
function conversation(name) {
  let conv = state.conversations.get(name);
  if (conv) return conv;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'conversation-button';
  button.dataset.conversation = name;
  const label = document.createElement('span');
  label.className = 'name';
  label.textContent = name === EVERYONE ? 'Everyone' : name;
  const unread = document.createElement('span');
  unread.className = 'unread';
  unread.textContent = '0';
  unread.hidden = true;
  button.append(label, unread);
  button.addEventListener('click', () => openConversation(name));
  ui.conversations.append(button);
  const store = document.createElement('div');
  store.dataset.log = name;
  ui.archive.append(store);
  conv = { name, button, unreadEl: unread, unread: 0, store };
  state.conversations.set(name, conv);
  refreshPresence(conv);
  return conv;
}

function currentConversation() {
  return conversation(state.current);
}

function openConversation(name) {
  const next = conversation(name);
  const previous = state.conversations.get(state.current);
  if (previous && previous !== next) {
    previous.store.append(...ui.messages.childNodes);
    previous.button.removeAttribute('aria-current');
  }
  if (previous !== next || ui.messages.childNodes.length === 0) {
    ui.messages.append(...next.store.childNodes);
  }
  state.current = name;
  next.button.setAttribute('aria-current', 'true');
  next.unread = 0;
  showUnread(next);
  ui.title.textContent = name === EVERYONE ? 'Everyone' : name;
  const isUser = name !== EVERYONE;
  showBlockButtons();
  ui.message.placeholder = isUser ? `Message ${name}` : 'Message everyone online';
  updateControls();
  setSidebar(false);
  ui.messages.scrollTop = ui.messages.scrollHeight;
}

/** Adds a message to its conversation's log; the element is in the document when this returns. */
function appendMessage(conv, { kind, from, text, status }) {
  const el = document.createElement('div');
  el.className = 'message';
  el.dataset.kind = kind;
  if (from !== undefined) el.dataset.from = from;
  if (status) el.dataset.status = status;
  if (from !== undefined) {
    const who = document.createElement('span');
    who.className = 'from';
    who.textContent = from;
    el.append(who);
  }
  const body = document.createElement('p');
  body.className = 'text';
  body.dir = 'auto';
  body.textContent = text;
  el.append(body);
  if (kind === 'outgoing') {
    const note = document.createElement('span');
    note.className = 'status';
    el.append(note);
  }
  if (conv.name === state.current) {
    const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
    ui.messages.append(el);
    if (atBottom || kind === 'outgoing') ui.messages.scrollTop = ui.messages.scrollHeight;
    if (document.hidden && (kind === 'incoming' || kind === 'broadcast')) {
      conv.unread += 1;
      showUnread(conv);
    }
  } else {
    conv.store.append(el);
    if (kind === 'incoming' || kind === 'broadcast') {
      conv.unread += 1;
      showUnread(conv);
    }
  }
  return el;
}

function notice(conv, text) {
  return appendMessage(conv, { kind: 'notice', text });
}

function setStatus(el, status, text) {
  el.dataset.status = status;
  const note = el.querySelector('.status');
  if (note) note.textContent = text;
  const retryButton = el.querySelector('.retry');
  if (retryButton) retryButton.remove();
}

function markFailed(el, text, onRetry) {
  setStatus(el, 'failed', text);
  el.setAttribute('role', 'alert');
  if (onRetry) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'retry link-button';
    button.textContent = 'Retry';
    button.addEventListener('click', () => {
      el.removeAttribute('role');
      onRetry();
    });
    el.append(button);
  }
}

function showUnread(conv) {
  conv.unreadEl.textContent = String(conv.unread);
  conv.unreadEl.hidden = conv.unread === 0;
  conv.button.setAttribute(
    'aria-label',
    `${conv.name === EVERYONE ? 'Everyone' : conv.name}${conv.unread ? `, ${conv.unread} unread` : ''}`,
  );
  let total = 0;
  for (const c of state.conversations.values()) total += c.unread;
  document.title = total > 0 ? `(${total}) Parley` : 'Parley';
  ui.sidebarToggle.textContent = total > 0 ? `People and conversations (${total} unread)` : 'People and conversations';
}

/** Back to an empty chat, for a new user on this page. */
function resetChat() {
  for (const conv of state.conversations.values()) {
    conv.button.remove();
    conv.store.remove();
  }
  state.conversations.clear();
  ui.messages.replaceChildren();
  state.outbox = [];
  state.lastSeq = 0;
  state.ackedSeq = 0;
  state.online = [];
  state.blocked.clear();
  renderOnline();
  ui.recentUsers.replaceChildren();
  ui.recentStatus.textContent = '';
  state.current = EVERYONE;
  openConversation(EVERYONE);
}

/**
 * Shows the login form again. The chat is cleared, since whoever logs in next may be someone else,
 * unless `keep`: the same user is expected back (the session could not be resumed).
 */
function leaveChat({ keep = false } = {}) {
  state.me = null;
  ui.me.textContent = '';
  showChat(false);
  ui.logout.hidden = true;
  if (!keep) {
    resetChat();
    state.chatOwner = null;
  }
  updateControls();
}

// ---------------------------------------------------------------------------------------------
// Presence

function onOnlineUsers(frame) {
  state.online = frame.users.filter((u) => u !== state.me);
  // A login missed while the connection was down.
  for (const user of state.online) deliveredAtLogin(user);
  ui.onlineOmitted.hidden = !frame.omitted;
  ui.onlineOmitted.textContent = frame.omitted ? `and ${frame.omitted} more` : '';
  renderOnline();
}

function onUserLoggedIn(user) {
  deliveredAtLogin(user);
  if (user === state.me || state.online.includes(user)) return;
  state.online.push(user);
  renderOnline();
}

function onUserLoggedOut(user) {
  state.online = state.online.filter((u) => u !== user);
  renderOnline();
}

/**
 * Marks a message the server stored for `user`, who was offline. If they are listed online already,
 * they logged in after it was stored (the two news can cross), and had it then.
 */
function keptFor(el, user) {
  if (state.online.includes(user)) {
    setStatus(el, 'accepted', deliveredText(user));
  } else {
    el.dataset.keptFor = user;
    setStatus(el, 'accepted', `Kept for ${user} until they log in.`);
  }
}

/** The server hands a user what it kept for them when they log in: the notes say so then. */
function deliveredAtLogin(user) {
  for (const el of document.querySelectorAll('.message[data-kept-for]')) {
    // Compared here rather than in the selector, which a name could break.
    if (el.dataset.keptFor !== user) continue;
    delete el.dataset.keptFor;
    setStatus(el, el.dataset.status, deliveredText(user));
  }
}

function deliveredText(user) {
  return `${user} was offline; delivered when they logged in.`;
}

function renderOnline() {
  ui.onlineUsers.replaceChildren(...state.online.map((user) => personItem(user)));
  ui.onlineEmpty.hidden = state.online.length > 0;
  for (const conv of state.conversations.values()) refreshPresence(conv);
}

/** An li for a user, which opens the conversation with them. */
function personItem(user) {
  const li = document.createElement('li');
  li.dataset.user = user;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'person';
  button.textContent = user;
  li.append(button);
  li.addEventListener('click', () => openConversation(user));
  return li;
}

function refreshPresence(conv) {
  if (conv.name !== EVERYONE) conv.button.dataset.online = String(state.online.includes(conv.name));
}

function onRecentUsers(frame) {
  const users = frame.users.filter((u) => u !== state.me);
  ui.recentUsers.replaceChildren(...users.map((user) => personItem(user)));
  const more = frame.omitted ? ` and ${frame.omitted} more` : '';
  ui.recentStatus.textContent =
    users.length === 0
      ? `Nobody else in the last ${frame.seconds} s.`
      : `${users.length}${more} in the last ${frame.seconds} s:`;
}

// ---------------------------------------------------------------------------------------------
// The user's actions

function validName(name) {
  return name.length > 0 && name.length <= MAX_NAME_LENGTH && !NAME_FORBIDDEN.test(name);
}

function onLoginSubmit(event) {
  event.preventDefault();
  if (state.me) return;
  const username = ui.username.value.trim();
  const password = ui.password.value;
  if (!validName(username)) {
    loginSays('Enter your username (no spaces).');
    ui.username.focus();
    return;
  }
  if (password === '') {
    loginSays('Enter your password.');
    ui.password.focus();
    return;
  }
  // A session kept from before is for whoever logs in now only if it is the same name.
  if (state.session && state.session.username !== username) clearSession();
  state.pendingLogin = { username, password };
  loginSays('Logging in…', { error: false });
  ui.loginButton.disabled = true;
  if (!state.ws) {
    connect();
  } else if (state.phase === 'username') {
    sendLoginStep();
  } else if (state.phase === 'password') {
    if (state.passwordFor === username) {
      sendLoginStep();
    } else {
      // The server holds the password step for another name; a new connection starts over.
      detach(state.ws);
      connect();
    }
  }
  // In 'hello' or 'resume' the answer to those sends the login.
}

function onOpenSubmit(event) {
  event.preventDefault();
  const name = ui.newConversation.value.trim();
  if (!validName(name)) {
    ui.openStatus.textContent = 'Enter a username (1 to 64 characters, no spaces).';
    return;
  }
  if (name === state.me) {
    ui.openStatus.textContent = 'That is you.';
    return;
  }
  ui.openStatus.textContent = '';
  ui.newConversation.value = '';
  openConversation(name);
  ui.message.focus();
}

function onSinceSubmit(event) {
  event.preventDefault();
  const seconds = Number(ui.sinceSeconds.value);
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    ui.recentStatus.textContent = 'Enter a whole number of seconds, 0 or more.';
    return;
  }
  if (state.phase !== 'active') {
    ui.recentStatus.textContent = 'Not connected.';
    return;
  }
  ui.recentStatus.textContent = 'Asking…';
  sendCommand({ type: 'whoelsesince', seconds });
}

function blockCommand(type) {
  const user = state.current;
  if (user === EVERYONE) return;
  if (state.phase !== 'active') {
    notice(conversation(user), 'Not connected: try again once the connection is back.');
    return;
  }
  sendCommand({ type, user }, { user });
}

function setBlocked(user, blocked) {
  state.blocked.set(user, blocked);
  if (user === state.current) showBlockButtons();
}

/**
 * Block and Unblock for the open user conversation: the one that applies once this session knows,
 * both until then (the protocol cannot list whom one blocked in an earlier session).
 */
function showBlockButtons() {
  const user = state.current;
  const blocked = user === EVERYONE ? undefined : state.blocked.get(user);
  const hadFocus = document.activeElement === ui.block || document.activeElement === ui.unblock;
  ui.block.hidden = user === EVERYONE || blocked === true;
  ui.unblock.hidden = user === EVERYONE || blocked === false;
  // The button just pressed may have gone: keep the keyboard on the one that took its place.
  if (hadFocus && document.activeElement.hidden) (ui.block.hidden ? ui.unblock : ui.block).focus();
}

function onLogout() {
  if (state.phase === 'active' && sendNow({ type: 'logout' })) {
    // The goodbye ends it; if it never comes, end it here anyway.
    clearTimeout(state.logoutTimer);
    const socket = state.ws;
    state.logoutTimer = setTimeout(() => {
      if (state.ws === socket) onGoodbye({ type: 'goodbye', reason: 'logged-out' });
    }, LOGOUT_WAIT_MS);
    return;
  }
  // Not connected: forget the session here; the server ends it when its resume window passes.
  clearTimeout(state.reconnectTimer);
  stopCountdown();
  if (state.ws) detach(state.ws);
  clearSession();
  state.pendingLogin = null;
  leaveChat();
  setConnection('disconnected', 'Logged out.');
  loginSays(GOODBYES['logged-out'], { error: false });
}

function updateControls() {
  const active = state.phase === 'active';
  // The online list is as of the last connection; it is asked again after reconnecting.
  ui.chat.dataset.link = active ? 'up' : 'down';
  ui.block.disabled = !active;
  ui.unblock.disabled = !active;
  ui.whoelsesince.disabled = !active;
  ui.send.disabled = state.current === EVERYONE && !active;
}

/** Either the login form or the chat; the form itself carries `hidden` too (the tests look at it). */
function showChat(chat) {
  ui.chat.hidden = !chat;
  ui.loginPanel.hidden = chat;
  ui.loginForm.hidden = chat;
}

function setSidebar(open) {
  state.sidebarOpen = open;
  ui.chat.dataset.sidebar = open ? 'open' : 'closed';
  ui.sidebarToggle.setAttribute('aria-expanded', String(open));
}

// ---------------------------------------------------------------------------------------------
// Session storage

function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null');
    return saved && typeof saved.username === 'string' && typeof saved.token === 'string' ? saved : null;
  } catch (e) {
    return null;
  }
}

function saveSession(session) {
  state.session = session;
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  } catch (e) {
    // Storage refused (private mode, quota): the session still resumes while the page stays open.
  }
}

function clearSession() {
  state.session = null;
  try {
    sessionStorage.removeItem(SESSION_KEY);
  } catch (e) {
    // Nothing was stored.
  }
}

// ---------------------------------------------------------------------------------------------
// Start

ui.loginForm.addEventListener('submit', onLoginSubmit);
ui.composer.addEventListener('submit', onComposerSubmit);
ui.message.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});
ui.openForm.addEventListener('submit', onOpenSubmit);
ui.sinceForm.addEventListener('submit', onSinceSubmit);
ui.block.addEventListener('click', () => blockCommand('block'));
ui.unblock.addEventListener('click', () => blockCommand('unblock'));
ui.logout.addEventListener('click', onLogout);
ui.retryNow.addEventListener('click', connect);
ui.sidebarToggle.addEventListener('click', () => setSidebar(!state.sidebarOpen));
window.addEventListener('online', () => {
  if (state.reconnectTimer !== null) connect();
});
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) {
    const conv = state.conversations.get(state.current);
    if (conv && conv.unread > 0) {
      conv.unread = 0;
      showUnread(conv);
    }
  }
});

openConversation(EVERYONE);
if (state.session) {
  ui.username.value = state.session.username;
  loginSays(`Resuming your session as ${state.session.username}…`, { error: false });
}
connect();
document.body.dataset.ready = 'true';
