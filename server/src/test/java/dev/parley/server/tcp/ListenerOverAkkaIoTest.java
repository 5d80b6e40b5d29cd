package dev.parley.server.tcp;

import dev.parley.server.ServerSettings;
import dev.parley.server.testing.TestSettings;

/**
 * {@link ListenerTest}'s flows with Akka IO's TCP under the connections ({@code socket-io = akka}),
 * the fallback an operator can switch to.
 */
class ListenerOverAkkaIoTest extends ListenerTest {

  @Override
  ServerSettings settings(String overrides) {
    return TestSettings.with("socket-io = akka\n" + overrides);
  }
}
