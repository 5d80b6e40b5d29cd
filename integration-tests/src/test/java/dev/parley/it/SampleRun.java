package dev.parley.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.parley.it.support.MutableClock;
import dev.parley.it.support.Typist;
import java.time.Duration;
import java.util.function.Function;

/**
 * The classic application's reference sample run, line by line, with five users who log in through
 * {@code login} (their client at its welcome line). The server's clock is moved by hand so that
 * r2d2 was online 10 to 5 minutes ago and vader 5 to 2 minutes ago, as the run assumes.
 *
 * <p>Where the run says a user sees nothing, the user's next line is checked to be the next thing
 * that happens to them: a line they would have seen comes before it.
 */
final class SampleRun {

  private SampleRun() {}

  static void replay(MutableClock clock, Function<String, Typist> login) {
    // r2d2 online from 10 to 5 minutes ago, vader from 5 to 2 minutes ago.
    Typist r2d2 = login.apply("r2d2");
    clock.advance(Duration.ofMinutes(5));
    logout(r2d2);
    Typist vader = login.apply("vader");
    clock.advance(Duration.ofMinutes(3));
    logout(vader);
    clock.advance(Duration.ofMinutes(2));

    Typist hans = login.apply("hans");
    Typist yoda = login.apply("yoda");
    hans.expect("yoda logged in");
    Typist luke = login.apply("luke");
    hans.expect("luke logged in");
    yoda.expect("luke logged in");

    // 1-2
    hans.type("whoelse").expect("yoda", "luke");
    hans.type("whatsthetime").expect("Error. Invalid command");
    // 3-4
    hans.type("message yoda Hey Dude");
    yoda.expect("hans: Hey Dude");
    hans.type("message bob party time").expect("Error. Invalid user");
    // 5
    hans.type("broadcast vader sucks");
    yoda.expect("hans: vader sucks");
    luke.expect("hans: vader sucks");
    // 6-7: luke has blocked hans, so only yoda hears hans rock.
    luke.type("block hans").expect("hans is blocked");
    hans.type("broadcast I rock").expect("Your message could not be delivered to some recipients");
    yoda.expect("hans: I rock");
    // 8-9
    hans.type("message luke You angry?")
        .expect("Your message could not be delivered as the recipient has blocked you");
    hans.type("block hans").expect("Error. Cannot block self");
    // 10-11 (luke's next line shows that "hans: I rock" never reached him)
    luke.type("unblock yoda").expect("Error. yoda was not blocked");
    luke.type("unblock hans").expect("hans is unblocked");
    // 12
    luke.type("whoelsesince 200").expect("hans", "yoda", "vader");
    yoda.type("whoelsesince 500").expect("hans", "luke", "vader", "r2d2");
    // 13: a message to luke while he is away is kept and shown when he is back.
    logout(luke);
    hans.expect("luke logged out");
    yoda.expect("luke logged out");
    hans.type("message luke Let's rock");
    // Commands are answered in order: once whoelse is, the message is stored.
    hans.type("whoelse").expect("yoda");
    luke = login.apply("luke");
    luke.expect("hans: Let's rock");
    hans.expect("luke logged in");
    yoda.expect("luke logged in");
    // 14
    logout(yoda);
    hans.expect("yoda logged out");
    luke.expect("yoda logged out");
    // 15-18: a private chat, both ways, bypassing the server.
    hans.type("private luke hey dude").expect("Error. Private messaging to luke not enabled");
    hans.type("startprivate luke").expect("Start private messaging with luke");
    luke.expect("hans started private messaging with you");
    hans.type("private luke hey dude");
    luke.expect("hans(private): hey dude");
    luke.type("private hans hello");
    hans.expect("luke(private): hello");
    // 19: yoda is offline, so the message is kept for him.
    hans.type("message yoda force is strong");
    hans.type("whoelse").expect("luke");
    // 20: logging out closes the private chat, and luke is told of both.
    logout(hans);
    luke.expectInAnyOrder("hans logged out", "Private messaging with hans closed: hans logged out");

    Typist yodaAgain = login.apply("yoda");
    yodaAgain.expect("hans: force is strong");
    luke.expect("yoda logged in");
  }

  static void logout(Typist client) {
    client.type("logout").expect("You are logged out");
    assertEquals(0, client.exitStatus(), client::transcript);
  }
}
