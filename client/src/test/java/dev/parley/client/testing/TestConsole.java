package dev.parley.client.testing;

import akka.Done;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import dev.parley.client.console.Console;

/**
 * Stands in for the {@link Console} where only the shown lines matter: every line goes to a probe
 * and receipts and closing are answered at once.
 */
public final class TestConsole {

  private TestConsole() {}

  public static Behavior<Console.Command> create(ActorRef<String> lines) {
    return Behaviors.receive(Console.Command.class)
        .onMessage(Console.Print.class, print -> show(lines, print.line()))
        .onMessage(Console.PrintWithReceipt.class, print -> showWithReceipt(lines, print))
        .onMessage(Console.Close.class, TestConsole::closed)
        // Names for Tab completion: nothing is shown.
        .onMessage(Console.UserSeen.class, seen -> Behaviors.same())
        .onMessage(Console.UserGone.class, gone -> Behaviors.same())
        .build();
  }

  private static Behavior<Console.Command> show(ActorRef<String> lines, String line) {
    lines.tell(line);
    return Behaviors.same();
  }

  private static Behavior<Console.Command> showWithReceipt(
      ActorRef<String> lines, Console.PrintWithReceipt print) {
    // Receipt first: once the test sees the line, the chat's acknowledgement is already queued.
    print.replyTo().tell(new Console.Receipt(print.ticket()));
    lines.tell(print.line());
    return Behaviors.same();
  }

  private static Behavior<Console.Command> closed(Console.Close close) {
    close.replyTo().tell(Done.getInstance());
    return Behaviors.same();
  }
}
