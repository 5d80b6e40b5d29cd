package dev.parley.server.tcp;

import dev.parley.server.ServerSettings;
import dev.parley.server.testing.TestSettings;

/**
 * {@link ListenerTest}'s flows with Parley's own sockets under the connections ({@code socket-io =
 * nio}) instead of Akka IO's TCP.
 */
class ListenerOverOwnSocketsTest extends ListenerTest {

  @Override
  ServerSettings settings(String overrides) {
    return TestSettings.with("socket-io = nio\n" + overrides);
  }
}
