package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.it.support.Browser;
import dev.parley.it.support.Browsers;
import dev.parley.it.support.HeadlessClient;
import dev.parley.it.support.ServerProcess;
import dev.parley.it.support.WebClient;
import dev.parley.it.support.WebClient.Message;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;

/**
 * The web client in a real browser (headless Chromium) against the packaged server over HTTPS and
 * WSS with its self-signed certificate, as a user meets it: browser users chat with each other and
 * with terminal users, see who is online as it changes, get what was sent while they were away once
 * (a backlog of 150 too), see markup as text, block and unblock, keep what they type while the
 * server restarts, and the page works on a phone's screen. One server serves the whole class (but
 * for the restarts); each test has users of its own, so that no test sees another's messages or
 * presence.
 */
// A hung chromedriver call does not answer interrupts: only a test thread of its own can be given
// up on, so that CI fails in minutes rather than waiting on it.
@Timeout(value = 90, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class BrowserIT {

  @RegisterExtension static final Browsers BROWSERS = new Browsers();

  @TempDir static Path directory;

  private static ServerProcess server;
  private static URI page;

  /** The accounts of all the tests, imported when the server starts; two or three per test. */
  private static final List<String> USERS =
      List.of(
          "ada", "bea", "cleo", "dan", "eve", "finn", "gwen", "hal", "ivy", "jack", "kim", "leo",
          "mia", "nia", "olga", "pete", "quinn", "rosa", "sam", "tom", "val", "xena", "yuri");

  /** Seconds back for whoelsesince: the whole of any test run. */
  private static final int RECENTLY = 300;

  /**
   * How long a page may take to find a restarted server: its back-off between attempts grows to 15
   * s (docs/web-client.md), and the restart takes a few seconds.
   */
  private static final Duration RECONNECTED = Duration.ofSeconds(30);

  /** How long a backlog of a hundred and more messages may take to be sent, stored and shown. */
  private static final Duration BACKLOG = Duration.ofSeconds(40);

  private static final String NO_SUCH_USER = "nobody-by-that-name";

  @BeforeAll
  static void startServer() throws Exception {
    if (!BROWSERS.available()) {
      return;
    }
    Path file = credentials(directory, USERS);
    server =
        ServerProcess.start(
            directory, List.of(), Map.of(), "--http-port", "0", "--credentials", file.toString());
    page = server.httpEndpoint();
  }

  @AfterAll
  static void stopServer() {
    if (server != null) {
      server.close();
      // Gone before JUnit removes its data directory.
      server.program().exitStatus();
    }
  }

  @Test
  void shouldReachTheNodeOverHttpsDespiteItsSelfSignedCertificate() {
    Browser browser = BROWSERS.open("health", Browser.DESKTOP);
    assertEquals("https", page.getScheme());
    browser.driver().get(page.resolve("health/live").toString());
    String body = browser.driver().findElement(By.tagName("body")).getText();
    assertTrue(body.contains("\"live\""), body);
  }

  @Test
  void shouldLabelEveryInputAndHideTheLoginFormOnceLoggedIn() {
    WebClient quinn = WebClient.open(BROWSERS.open("quinn", Browser.DESKTOP), page);
    assertEquals("Username", quinn.labelFor("username"));
    assertEquals("Password", quinn.labelFor("password"));
    assertEquals("Start a conversation with", quinn.labelFor("new-conversation"));
    assertEquals("Message", quinn.labelFor("message"));
    assertTrue(
        WebClient.CONNECTION_STATES.contains(quinn.connectionState()), quinn.connectionState());
    assertEquals("password", quinn.find(By.id("password")).getAttribute("type"));

    quinn.login("quinn", password("quinn"));
    assertEquals("connected", quinn.connectionState());
    assertNotNull(quinn.find(By.id("login")).getDomAttribute("hidden"), "form#login[hidden]");
    assertNull(quinn.find(By.id("chat")).getDomAttribute("hidden"), "#chat[hidden]");
  }

  @Test
  void shouldLetTwoBrowserUsersChatBothWays() {
    WebClient ada = browser("ada");
    WebClient bea = browser("bea");
    assertEquals("connected", ada.connectionState());

    ada.awaitOnline("bea").clickOnline("bea").send("Hi Bea, from one browser");
    bea.awaitUnread("ada", "1");
    bea.openConversation("ada").awaitMessage("incoming", "ada", "Hi Bea, from one browser");
    bea.send("Hi Ada, from the other");
    ada.awaitMessage("incoming", "bea", "Hi Ada, from the other");
    assertFalse(ada.onlineUsers().contains("ada"), "ada listed among the others online");
  }

  @Test
  void shouldLetABrowserUserAndATerminalUserChatBothWays() {
    WebClient cleo = browser("cleo");
    HeadlessClient dan = terminal("dan");
    cleo.awaitOnline("dan");

    dan.type("message cleo Hello from the terminal");
    cleo.openConversation("dan").awaitMessage("incoming", "dan", "Hello from the terminal");
    cleo.send("Hello from the browser");
    dan.awaitLineContaining("cleo: Hello from the browser", Browser.PATIENCE);

    dan.type("broadcast Hello everyone");
    cleo.openConversation(WebClient.BROADCASTS).awaitMessage("broadcast", "dan", "Hello everyone");
  }

  @Test
  void shouldShowTerminalUsersComingAndGoingLive() {
    WebClient eve = browser("eve");
    HeadlessClient finn = terminal("finn");
    eve.awaitOnline("finn");

    finn.type("logout");
    finn.exitStatus();
    eve.awaitOffline("finn");
  }

  @Test
  void shouldShowAMessageSentWhileAwayOnceAtTheNextLogin() {
    HeadlessClient hal = terminal("hal");
    hal.type("message gwen Sent while you were away");
    // The server answers a session's commands in order: this answer means it has kept the message.
    hal.type("message " + NO_SUCH_USER + " anyone there?");
    hal.awaitLineContaining("Error. Invalid user", Browser.PATIENCE);

    WebClient gwen = browser("gwen");
    gwen.openConversation("hal").awaitMessage("incoming", "hal", "Sent while you were away");
    gwen.logout();
    // Having logged out is no error: it is said in the status beside the login form, not the alert.
    assertEquals("You have logged out.", gwen.text("login-note"));
    assertEquals("", gwen.text("login-status"));
    // The server has ended her session: the next login is not refused as already online.
    hal.awaitLineContaining("gwen logged out", Browser.PATIENCE);

    // A second login in a fresh browser: nothing the first page kept can show the message again.
    WebClient again = WebClient.open(BROWSERS.open("gwen again", Browser.DESKTOP), page);
    again.login("gwen", password("gwen"));
    hal.type("message gwen Sent after you came back");
    // The mailbox is delivered in order: the second message coming means the first is not coming.
    again.openConversation("hal").awaitMessage("incoming", "hal", "Sent after you came back");
    assertEquals(
        List.of("Sent after you came back"),
        again.messages().stream().map(Message::text).toList(),
        "the message already acknowledged shown again");
  }

  @Test
  void shouldShowAWholeBacklogInOrderAtLoginAndNeverAgain() {
    // More than the 64 frames the WebSocket's outbound queue once held, and more than a mailbox
    // page (100): a web user with this many waiting was cut off as a slow reader at each login.
    int count = 150;
    List<String> backlog =
        IntStream.rangeClosed(1, count).mapToObj(n -> String.format("Backlog %03d", n)).toList();
    HeadlessClient tom = terminal("tom");
    // The terminal client paces itself to the server's commandRate, so none is refused.
    tom.type(backlog.stream().map(text -> "message val " + text).toArray(String[]::new));
    // The server answers a session's commands in order: this answer means it has kept them all.
    tom.type("message " + NO_SUCH_USER + " anyone there?");
    tom.awaitLineContaining("Error. Invalid user", BACKLOG);

    WebClient val = browser("val");
    val.awaitUnread("tom", String.valueOf(count)).openConversation("tom");
    val.browser()
        .until("all " + count + " messages shown", BACKLOG, d -> val.messages().size() >= count);
    List<Message> shown = val.messages();
    assertEquals(backlog, shown.stream().map(Message::text).toList());
    assertTrue(
        shown.stream().allMatch(m -> "incoming".equals(m.kind()) && "tom".equals(m.from())),
        "a backlog message not shown as incoming from tom");
    assertEquals("connected", val.connectionState(), "cut off while taking the backlog");
    val.logout();
    tom.awaitLineContaining("val logged out", Browser.PATIENCE);

    // A fresh browser: only the server could show the backlog again, had it not been acknowledged.
    WebClient again = WebClient.open(BROWSERS.open("val again", Browser.DESKTOP), page);
    again.login("val", password("val"));
    tom.type("message val Sent after you came back");
    // The mailbox is delivered in order: the new message coming means no older one is coming.
    again.openConversation("tom").awaitMessage("incoming", "tom", "Sent after you came back");
    assertEquals(
        List.of("Sent after you came back"),
        again.messages().stream().map(Message::text).toList(),
        "an acknowledged backlog message shown again");
  }

  @Test
  void shouldSayAMessageKeptForAnOfflineUserWasDeliveredOnceTheyLogIn() {
    WebClient xena = browser("xena");
    String text = "For when you are back";
    xena.startConversation("yuri").send(text).awaitOutgoingNote(text, "Kept for yuri");

    HeadlessClient yuri = terminal("yuri");
    yuri.awaitLineContaining("xena: " + text, Browser.PATIENCE);
    Message sent = xena.awaitOutgoingNote(text, "delivered when they logged in");
    assertEquals("yuri was offline; delivered when they logged in.", sent.note());
  }

  @Test
  void shouldShowMarkupAsTextAndNeverRunIt() {
    WebClient ivy = browser("ivy");
    HeadlessClient jack = terminal("jack");
    String script = "<script>document.body.dataset.pwned = 'script'</script>";
    String image =
        "<img src=x onerror=\"document.body.dataset.pwned = 'img'; document.title = 'x'\">";
    String last = "that was all";

    jack.type("message ivy " + script, "message ivy " + image, "message ivy " + last);
    ivy.openConversation("jack").awaitMessage("incoming", "jack", last);
    assertEquals(List.of(script, image, last), ivy.messages().stream().map(Message::text).toList());
    ivy.send(image);
    jack.awaitLineContaining("ivy: " + image, Browser.PATIENCE);

    // An element the markup would have made is there at once, whether or not it has run yet.
    assertEquals(0, ivy.browser().driver().findElements(By.cssSelector("#messages img")).size());
    assertEquals(0, ivy.browser().driver().findElements(By.cssSelector("#messages script")).size());
    assertNull(ivy.browser().script("return document.body.dataset.pwned;"));
    // The page puts unread counts in the title; the payload would have put "x".
    assertNotEquals("x", ivy.browser().driver().getTitle());
  }

  @Test
  void shouldListATerminalUserWhoLeftAmongThoseOnlineRecently() {
    WebClient olga = browser("olga");
    HeadlessClient pete = terminal("pete");
    olga.awaitOnline("pete");
    pete.type("logout");
    pete.exitStatus();
    olga.awaitOffline("pete");

    assertTrue(olga.whoElseSince(RECENTLY).contains("pete"), "pete not listed as recently online");
  }

  @Test
  void shouldDropWhatABlockedTerminalUserSendsUntilUnblocked() {
    WebClient rosa = browser("rosa");
    HeadlessClient sam = terminal("sam");
    rosa.startConversation("sam");
    // Nothing in this session says whether rosa blocked sam before: both are offered.
    assertFalse(rosa.hidden("block") || rosa.hidden("unblock"), "#block or #unblock hidden");
    rosa.click("block").awaitNotice("You blocked sam");
    assertTrue(rosa.hidden("block"), "#block offered for a blocked user");
    assertFalse(rosa.hidden("unblock"), "#unblock hidden for a blocked user");

    sam.type("message rosa Sent while blocked");
    // The server answers a session's commands in order: this answer means it has dropped that one.
    sam.type("message " + NO_SUCH_USER + " anyone there?");
    sam.awaitLineContaining("Error. Invalid user", Browser.PATIENCE);
    rosa.click("unblock").awaitNotice("You unblocked sam");
    assertTrue(rosa.hidden("unblock"), "#unblock offered for a user not blocked");
    assertFalse(rosa.hidden("block"), "#block hidden for a user not blocked");
    sam.type("message rosa Sent once unblocked");

    rosa.awaitMessage("incoming", "sam", "Sent once unblocked");
    assertFalse(
        rosa.messages().stream().anyMatch(m -> "Sent while blocked".equals(m.text())),
        "a message sent while blocked was delivered");
  }

  @Test
  void shouldTellATerminalUserThatTheWebClientTakesNoPrivateChats() {
    WebClient kim = browser("kim");
    HeadlessClient leo = terminal("leo");
    kim.awaitOnline("leo");

    leo.type("startprivate kim");
    leo.awaitLineContaining(
        "Error. kim is on the web client, which takes no private chats", Browser.PATIENCE);
  }

  @Test
  void shouldBeUsableOnAPhone() {
    Browser phone = BROWSERS.open("mia's phone", Browser.PHONE);
    assertEquals(Browser.PHONE, phone.viewport());
    WebClient mia = WebClient.open(phone, page);
    assertFalse(mia.scrollsSideways(), "the login page is wider than the phone");
    HeadlessClient nia = terminal("nia");
    mia.login("mia", password("mia"));

    mia.startConversation("nia").send("Sent from a phone");
    nia.awaitLineContaining("mia: Sent from a phone", Browser.PATIENCE);
    nia.type("message mia Received on a terminal");
    mia.awaitMessage("incoming", "nia", "Received on a terminal");
    assertFalse(mia.scrollsSideways(), "the chat is wider than the phone");
    BROWSERS.screenshot(phone);
  }

  @Test
  void shouldSendAMessageTypedWhileTheServerWasDownOnceItIsBack(@TempDir Path own)
      throws Exception {
    ServerProcess restarting = ownServer(own, List.of("tess", "uma"));
    WebClient tess =
        WebClient.open(BROWSERS.open("tess", Browser.DESKTOP), restarting.httpEndpoint())
            .login("tess", password("tess"))
            .startConversation("uma");

    restarting.stop();
    tess.awaitConnection("unreachable", Browser.PATIENCE);
    String text = "Typed while the server was down";
    tess.submit(text).awaitOutgoing(text, "pending", Browser.PATIENCE);
    restarting.restartOnTheSamePort();

    tess.awaitConnection("connected", RECONNECTED).awaitOutgoing(text, "accepted", RECONNECTED);
    HeadlessClient uma =
        BROWSERS.track(
            HeadlessClient.login(
                restarting.host(),
                restarting.port(),
                restarting.fingerprint(),
                "uma",
                password("uma")));
    uma.awaitLineContaining("tess: " + text, Browser.PATIENCE);
  }

  @Test
  void shouldShowTheNodeUnreachableBeforeLoginAndConnectOnceItIsBack(@TempDir Path own)
      throws Exception {
    ServerProcess restarting = ownServer(own, List.of("wes"));
    WebClient wes =
        WebClient.open(BROWSERS.open("wes", Browser.DESKTOP), restarting.httpEndpoint())
            .awaitConnection("connected", Browser.PATIENCE);

    restarting.stop();
    // Seen before anyone types a password; a login typed meanwhile waits for the node.
    wes.awaitConnection("unreachable", Browser.PATIENCE);
    assertTrue(wes.find(By.id("login-button")).isEnabled(), "#login-button disabled");
    assertTrue(wes.find(By.id("login")).isDisplayed(), "the login form is not shown");
    restarting.restartOnTheSamePort();

    wes.awaitConnection("connected", RECONNECTED).login("wes", password("wes"));
    assertEquals("connected", wes.connectionState());
  }

  /**
   * A server of the test's own, on an HTTP port it keeps across a restart (the page reconnects to
   * the address it was loaded from), stopped after the test.
   */
  private ServerProcess ownServer(Path own, List<String> users) throws IOException {
    ServerProcess restarting =
        ServerProcess.start(
            own,
            List.of(),
            Map.of(),
            "--http-port",
            String.valueOf(freePort()),
            "--credentials",
            credentials(own, users).toString());
    BROWSERS.track(
        () -> {
          restarting.close();
          // Gone before JUnit removes its data directory.
          restarting.program().exitStatus();
        });
    return restarting;
  }

  /** The page in a new desktop browser, logged in as {@code user}. */
  private WebClient browser(String user) {
    return WebClient.open(BROWSERS.open(user, Browser.DESKTOP), page).login(user, password(user));
  }

  /** The terminal client logged in as {@code user}, closed after the test's screenshots. */
  private HeadlessClient terminal(String user) {
    HeadlessClient client =
        HeadlessClient.login(
            server.host(), server.port(), server.fingerprint(), user, password(user));
    return BROWSERS.track(client);
  }

  private static Path credentials(Path directory, List<String> users) throws IOException {
    String lines =
        users.stream().map(user -> user + " " + password(user)).collect(Collectors.joining("\n"));
    return Files.writeString(directory.resolve("credentials.txt"), lines + "\n");
  }

  /** A port free now; the server that takes it keeps it across a restart. */
  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String password(String user) {
    return user + "-in-a-browser";
  }
}
