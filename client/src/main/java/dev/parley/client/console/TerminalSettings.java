package dev.parley.client.console;

import com.typesafe.config.Config;
import dev.parley.client.tls.TlsSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * How the console looks and remembers on an interactive terminal ({@code parley.client.terminal};
 * {@code reference.conf} documents each key). None of it applies to piped input, whose output stays
 * the classic plain text, except {@code timestamps}, which the user asks for explicitly.
 *
 * @param colors styles lines by what they are (off with {@code NO_COLOR} in the environment)
 * @param timestamps puts {@code [HH:MM] } before each incoming line
 * @param historyFile where the commands typed are kept between runs; empty keeps none
 * @param historySize how many commands the history keeps
 * @param clock the clock of the timestamps
 */
public record TerminalSettings(
    boolean colors, boolean timestamps, Optional<Path> historyFile, int historySize, Clock clock) {

  public static final String PATH = "parley.client.terminal";
  public static final String HISTORY_FILE_NAME = "history";

  /** The environment variable that turns colours off whatever its value (no-color.org). */
  public static final String NO_COLOR = "NO_COLOR";

  /** No colours, no timestamps, no history file: what the classic client does. */
  public static TerminalSettings plain() {
    return new TerminalSettings(false, false, Optional.empty(), 0, Clock.systemDefaultZone());
  }

  /** The settings under {@link #PATH}, with colours off if {@code env} has {@link #NO_COLOR}. */
  public static TerminalSettings fromConfig(Config config, Map<String, String> env) {
    Config terminal = config.getConfig(PATH);
    int historySize = terminal.getInt("history-size");
    if (historySize < 0) {
      throw new IllegalArgumentException(PATH + ".history-size must be 0 or more");
    }
    String home = config.getString(TlsSettings.HOME_PATH);
    Path directory =
        home.isBlank()
            ? Path.of(System.getProperty("user.home"), TlsSettings.DEFAULT_HOME)
            : Path.of(home);
    return new TerminalSettings(
        terminal.getBoolean("colors") && !env.containsKey(NO_COLOR),
        terminal.getBoolean("timestamps"),
        historySize == 0 ? Optional.empty() : Optional.of(directory.resolve(HISTORY_FILE_NAME)),
        historySize,
        Clock.systemDefaultZone());
  }
}
