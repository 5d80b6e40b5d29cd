package dev.parley.it.support;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.openqa.selenium.By;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * The web client page the node serves at {@code /}, in one {@link Browser}, driven through the DOM
 * contract it keeps for its tests (docs/web-client.md): ids for the controls, {@code data-*}
 * attributes for state. Every step waits for what it expects to see, never for a fixed time.
 */
public final class WebClient {

  /** The states {@code #connection} shows in its {@code data-state}. */
  public static final List<String> CONNECTION_STATES =
      List.of("disconnected", "connecting", "connected", "unreachable");

  /** The conversation of the broadcasts. */
  public static final String BROADCASTS = "*";

  /**
   * One entry of the open conversation's log, as the page shows it; {@code note} is what an
   * outgoing message's status says ("Kept for ..."), null on others.
   */
  public record Message(
      String kind, String from, String sender, String text, String status, String note) {}

  /**
   * Reads the whole log in one round trip: a condition polled every few milliseconds would
   * otherwise ask the driver for each message's attributes one by one.
   */
  private static final String READ_MESSAGES =
      "return Array.from(document.querySelectorAll('#messages .message')).map(m => {"
          + " const text = m.querySelector('.text'); const from = m.querySelector('.from');"
          + " const note = m.querySelector('.status');"
          + " return {kind: m.dataset.kind || null, from: m.dataset.from || null,"
          + " sender: from ? from.textContent : null, text: text ? text.textContent : null,"
          + " status: m.dataset.status || null, note: note ? note.textContent : null}; });";

  private final Browser browser;
  private final URI page;

  private WebClient(Browser browser, URI page) {
    this.browser = browser;
    this.page = page;
  }

  /** Loads the page in {@code browser} and waits for its script to have run. */
  public static WebClient open(Browser browser, URI page) {
    WebClient client = new WebClient(browser, page);
    client.load();
    return client;
  }

  /** Loads the page again, as a user's reload does: whatever the script held in memory is gone. */
  public void load() {
    browser.driver().get(page.toString());
    browser.until(
        "the page's script to set body[data-ready=true]",
        driver -> {
          if ("true".equals(browser.script("return document.body.dataset.ready;"))) {
            return true;
          }
          // A page without a script (the server's 404, say) would only run out the wait.
          if ((Boolean)
              browser.script(
                  "return document.readyState === 'complete' && document.scripts.length === 0;")) {
            throw new AssertionError(
                page + " is not the web client; it shows: " + find(By.tagName("body")).getText());
          }
          return false;
        });
  }

  public Browser browser() {
    return browser;
  }

  /** Logs in through the login form and waits for the chat to be shown, as {@code user}. */
  public WebClient login(String user, String password) {
    WebElement username = visible(By.id("username"));
    username.clear();
    username.sendKeys(user);
    WebElement secret = visible(By.id("password"));
    secret.clear();
    secret.sendKeys(password);
    clickable(By.id("login-button")).click();
    // What the user sees; the contract's form#login[hidden] has an assertion of its own.
    try {
      browser.until(
          "the login form to give way to the chat after logging in as " + user,
          driver -> !find(By.id("login")).isDisplayed() && find(By.id("chat")).isDisplayed());
    } catch (TimeoutException e) {
      throw new AssertionError(
          user + " not logged in; #login-status says: " + find(By.id("login-status")).getText(), e);
    }
    browser.until("#me to show " + user, ExpectedConditions.textToBe(By.id("me"), user));
    return this;
  }

  /** Logs out with the button and waits for the login form to be back. */
  public WebClient logout() {
    clickable(By.id("logout")).click();
    browser.until(
        "the login form to come back after logging out",
        driver -> find(By.id("login")).isDisplayed());
    return this;
  }

  /** The {@code data-state} of {@code #connection}. */
  public String connectionState() {
    return find(By.id("connection")).getAttribute("data-state");
  }

  /** Waits for {@code user} to be listed among the users online. */
  public WebClient awaitOnline(String user) {
    browser.until(
        user + " listed online", ExpectedConditions.presenceOfElementLocated(online(user)));
    return this;
  }

  /** Waits for {@code user} to be gone from the users online. */
  public WebClient awaitOffline(String user) {
    browser.until(
        user + " gone from the users online",
        driver -> driver.findElements(online(user)).isEmpty());
    return this;
  }

  /** The {@code data-user} of each entry in the list of users online, in the page's order. */
  public List<String> onlineUsers() {
    return browser.driver().findElements(By.cssSelector("#online-users li[data-user]")).stream()
        .map(item -> item.getAttribute("data-user"))
        .toList();
  }

  /** Opens the conversation with {@code user} by clicking them in the list of users online. */
  public WebClient clickOnline(String user) {
    clickable(online(user)).click();
    return awaitTitle(user);
  }

  /** Opens a conversation with {@code user} by name, through "Start a conversation with". */
  public WebClient startConversation(String user) {
    WebElement name = visible(By.id("new-conversation"));
    name.clear();
    name.sendKeys(user);
    clickable(By.id("open-conversation")).click();
    return awaitTitle(user);
  }

  /** Waits for the conversation {@code name} to show {@code count} unread messages. */
  public WebClient awaitUnread(String name, String count) {
    browser.until(
        "conversation " + name + " to show " + count + " unread",
        driver -> count.equals(unread(name)));
    return this;
  }

  /** Waits for the conversation {@code name} (a user, or {@link #BROADCASTS}) to be listed. */
  public WebElement awaitConversation(String name) {
    return browser.until(
        "conversation " + name + " listed",
        ExpectedConditions.presenceOfElementLocated(conversation(name)));
  }

  /** The unread count the conversation {@code name} shows, blank when it shows none. */
  public String unread(String name) {
    List<WebElement> unread = awaitConversation(name).findElements(By.cssSelector(".unread"));
    return unread.isEmpty() ? "" : unread.get(0).getText().trim();
  }

  /** Opens the listed conversation {@code name} (a user, or {@link #BROADCASTS}). */
  public WebClient openConversation(String name) {
    awaitConversation(name);
    clickable(conversation(name)).click();
    return BROADCASTS.equals(name) ? this : awaitTitle(name);
  }

  /**
   * Sends {@code text} to the open conversation with the composer and waits for the server to have
   * accepted it.
   */
  public WebClient send(String text) {
    return submit(text).awaitOutgoing(text, "accepted", Browser.PATIENCE);
  }

  /** Sends {@code text} to the open conversation with the composer, without waiting. */
  public WebClient submit(String text) {
    type(text);
    clickable(By.id("send")).click();
    return this;
  }

  /** Waits up to {@code patience} for the outgoing {@code text} to have {@code status}. */
  public WebClient awaitOutgoing(String text, String status, Duration patience) {
    browser.until(
        "\"" + text + "\" " + status,
        patience,
        driver ->
            messages().stream()
                .anyMatch(
                    m ->
                        "outgoing".equals(m.kind())
                            && text.equals(m.text())
                            && status.equals(m.status())));
    return this;
  }

  /** Waits for the outgoing {@code text} to have a status note that holds {@code fragment}. */
  public Message awaitOutgoingNote(String text, String fragment) {
    return browser.until(
        "\"" + text + "\" noted with \"" + fragment + "\"",
        driver ->
            messages().stream()
                .filter(m -> "outgoing".equals(m.kind()) && text.equals(m.text()))
                .filter(m -> m.note() != null && m.note().contains(fragment))
                .findFirst()
                .orElse(null));
  }

  /** Whether the element with id {@code id} carries the {@code hidden} attribute. */
  public boolean hidden(String id) {
    return find(By.id(id)).getDomAttribute("hidden") != null;
  }

  /** The text of the element with id {@code id}, as shown. */
  public String text(String id) {
    return find(By.id(id)).getText().trim();
  }

  /** Waits up to {@code patience} for {@code #connection} to show {@code state}. */
  public WebClient awaitConnection(String state, Duration patience) {
    browser.until(
        "#connection[data-state=" + state + "]",
        patience,
        ExpectedConditions.attributeToBe(By.id("connection"), "data-state", state));
    return this;
  }

  /** Types {@code text} in the composer, key by key, without sending it. */
  public WebClient type(String text) {
    WebElement message = visible(By.id("message"));
    message.clear();
    message.sendKeys(text);
    return this;
  }

  /** The open conversation's log as it stands. */
  @SuppressWarnings("unchecked")
  public List<Message> messages() {
    List<Map<String, Object>> read = (List<Map<String, Object>>) browser.script(READ_MESSAGES);
    return read.stream()
        .map(
            m ->
                new Message(
                    (String) m.get("kind"),
                    (String) m.get("from"),
                    (String) m.get("sender"),
                    (String) m.get("text"),
                    (String) m.get("status"),
                    (String) m.get("note")))
        .toList();
  }

  /**
   * Waits for a message of {@code kind} from {@code from} (in its data-from and its shown sender)
   * with exactly {@code text}.
   */
  public Message awaitMessage(String kind, String from, String text) {
    return browser.until(
        kind + " message from " + from + " \"" + text + "\"",
        driver ->
            messages().stream()
                .filter(
                    m ->
                        kind.equals(m.kind())
                            && from.equals(m.from())
                            && from.equals(m.sender())
                            && text.equals(m.text()))
                .findFirst()
                .orElse(null));
  }

  /** Waits for a notice (the page's own line in the log) that holds {@code fragment}. */
  public Message awaitNotice(String fragment) {
    return browser.until(
        "a notice with \"" + fragment + "\"",
        driver ->
            messages().stream()
                .filter(m -> "notice".equals(m.kind()) && m.text() != null)
                .filter(m -> m.text().contains(fragment))
                .findFirst()
                .orElse(null));
  }

  /** Clicks {@code #block} or {@code #unblock}, for the open conversation's user. */
  public WebClient click(String id) {
    clickable(By.id(id)).click();
    return this;
  }

  /** Asks for the users online in the last {@code seconds} and returns those the page lists. */
  public List<String> whoElseSince(int seconds) {
    WebElement since = visible(By.id("since-seconds"));
    since.clear();
    since.sendKeys(String.valueOf(seconds));
    clickable(By.id("whoelsesince")).click();
    return browser
        .until(
            "#recent-users to list someone",
            ExpectedConditions.presenceOfAllElementsLocatedBy(By.cssSelector("#recent-users li")))
        .stream()
        .map(item -> item.getText().trim())
        .toList();
  }

  /** The text of the label for the control with id {@code id}; fails when there is none. */
  public String labelFor(String id) {
    return find(By.cssSelector("label[for='" + id + "']")).getAttribute("textContent").trim();
  }

  /** Whether the page is wider than the window, so that the user would have to scroll sideways. */
  public boolean scrollsSideways() {
    return (Boolean)
        browser.script(
            "return document.documentElement.scrollWidth > window.innerWidth"
                + " || document.body.scrollWidth > window.innerWidth;");
  }

  public WebElement find(By by) {
    return browser.until("an element " + by, ExpectedConditions.presenceOfElementLocated(by));
  }

  /** Waits for the element, opens what folds it away if anything does, waits for it shown. */
  private WebElement visible(By by) {
    reveal(find(by));
    return browser.until(by + " visible", ExpectedConditions.visibilityOfElementLocated(by));
  }

  private WebElement clickable(By by) {
    reveal(find(by));
    return browser.until(by + " clickable", ExpectedConditions.elementToBeClickable(by));
  }

  /**
   * Clicks the collapsed disclosure button (aria-controls, aria-expanded=false) of a region that
   * holds {@code element}, as a user would to reach it: on a phone the page folds its sidebar away.
   */
  private void reveal(WebElement element) {
    if (element.isDisplayed()) {
      return;
    }
    Object toggle =
        browser.script(
            "for (let e = arguments[0]; e; e = e.parentElement) {"
                + "  if (!e.id) continue;"
                + "  const b = document.querySelector("
                + "    'button[aria-controls=\"' + e.id + '\"][aria-expanded=\"false\"]');"
                + "  if (b && b.offsetParent !== null) return b;"
                + "}"
                + "return null;",
            element);
    if (toggle instanceof WebElement button) {
      button.click();
    }
  }

  private WebClient awaitTitle(String name) {
    browser.until(
        "#conversation-title to name " + name,
        driver -> {
          List<WebElement> title = driver.findElements(By.id("conversation-title"));
          return !title.isEmpty() && title.get(0).getText().contains(name);
        });
    return this;
  }

  private static By online(String user) {
    return By.cssSelector("#online-users li[data-user='" + user + "']");
  }

  private static By conversation(String name) {
    return By.cssSelector("#conversations button[data-conversation='" + name + "']");
  }
}
