package dev.parley.client.console;

import dev.parley.client.command.CommandParser;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;
import org.jline.reader.Candidate;
import org.jline.reader.Completer;
import org.jline.reader.LineReader;
import org.jline.reader.ParsedLine;

/**
 * Tab completion at the command prompt: the first word completes to a command name, the second to a
 * user name after a command that takes one. The names are those the console was told of ({@link
 * #add}, {@link #remove}): users who logged in or were listed by whoelse, and people who sent a
 * message. Completion runs on the console's input thread while the actor updates the names, hence a
 * concurrent set.
 */
public final class CommandCompleter implements Completer {

  private final Set<String> users = new ConcurrentSkipListSet<>();

  public void add(String user) {
    if (!user.isBlank()) {
      users.add(user);
    }
  }

  public void remove(String user) {
    users.remove(user);
  }

  /** The names known now, sorted. */
  public List<String> users() {
    return List.copyOf(users);
  }

  @Override
  public void complete(LineReader reader, ParsedLine line, List<Candidate> candidates) {
    List<String> words = line.words();
    int index = line.wordIndex();
    if (index == 0) {
      CommandParser.COMMANDS.forEach(command -> candidates.add(new Candidate(command)));
    } else if (index == 1 && CommandParser.TAKES_USER.contains(words.get(0))) {
      users.forEach(user -> candidates.add(new Candidate(user)));
    } else if (index == 1 && "help".equals(words.get(0))) {
      CommandParser.COMMANDS.forEach(command -> candidates.add(new Candidate(command)));
    }
  }
}
