package dev.parley.client.testing;

import dev.parley.client.tls.Security;
import dev.parley.transport.TlsIdentity;
import dev.parley.transport.TlsMaterialException;
import java.time.Duration;
import java.util.Optional;

/** Clients' identities for tests of private chats, made as a client makes its own at start. */
public final class TestSecurity {

  private static final Duration VALIDITY = Duration.ofDays(1);

  private TestSecurity() {}

  /** A new identity, with no trust in any server: the peer link needs none. */
  public static Security create() {
    try {
      return Security.of(TlsIdentity.selfSigned("Parley test client", VALIDITY), Optional.empty());
    } catch (TlsMaterialException e) {
      throw new IllegalStateException("cannot make a test identity", e);
    }
  }
}
