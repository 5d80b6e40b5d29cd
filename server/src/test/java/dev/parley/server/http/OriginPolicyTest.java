package dev.parley.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OriginPolicyTest {

  private static final String NODE = "https://chat.example.org:8443";

  private final OriginPolicy policy = new OriginPolicy(List.of("https://web.example.org"));

  @Test
  void shouldAllowThePageTheNodeServes() {
    assertTrue(policy.allows(Optional.of("https://chat.example.org:8443"), NODE));
    // Browsers send the host as typed; case and the default port do not make another origin.
    assertTrue(
        policy.allows(Optional.of("https://Chat.Example.org"), "https://chat.example.org:443"));
  }

  @Test
  void shouldAllowAHandshakeWithoutOrigin() {
    assertTrue(policy.allows(Optional.empty(), NODE));
  }

  @Test
  void shouldAllowAConfiguredOrigin() {
    assertTrue(policy.allows(Optional.of("https://web.example.org:443"), NODE));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "https://evil.example.com",
        // Same host, another port or scheme: another origin.
        "https://chat.example.org:9443",
        "http://chat.example.org:8443",
        "null",
        "not an origin",
        ""
      })
  void shouldRefuseOtherPages(String origin) {
    assertFalse(policy.allows(Optional.of(origin), NODE));
  }

  @Test
  void shouldAllowAnyOriginOnlyWhenConfiguredSo() {
    OriginPolicy open = new OriginPolicy(List.of(OriginPolicy.ANY));

    assertTrue(open.allows(Optional.of("https://evil.example.com"), NODE));
  }

  @Test
  void shouldRefuseAConfiguredOriginItCannotRead() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new OriginPolicy(List.of("example")));

    assertTrue(e.getMessage().contains("http.allowed-origins"), e.getMessage());
  }

  @Test
  void shouldNormalizeDefaultPorts() {
    assertEquals(Optional.of("http://a.example:80"), OriginPolicy.normalize("http://A.example"));
    assertEquals(Optional.of("https://a.example:443"), OriginPolicy.normalize("https://a.example"));
    // The WebSocket request's own URI, as Akka HTTP gives it.
    assertEquals(
        Optional.of("https://a.example:8443"), OriginPolicy.normalize("wss://a.example:8443"));
    assertEquals(Optional.empty(), OriginPolicy.normalize("ftp://a.example"));
  }
}
