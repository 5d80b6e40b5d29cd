package dev.parley.server.tcp;

import dev.parley.server.ServerSettings;
import dev.parley.server.testing.TestSettings;

/**
 * {@link ListenerTest}'s flows with Akka IO's TCP under the connections ({@code socket-io = akka})
 * instead of Parley's own sockets.
 */
class ListenerOverAkkaTcpTest extends ListenerTest {

  @Override
  ServerSettings settings(String overrides) {
    return TestSettings.with("socket-io = akka\n" + overrides);
  }
}
