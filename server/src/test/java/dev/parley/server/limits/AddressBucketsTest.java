package dev.parley.server.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.parley.protocol.CommandRate;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class AddressBucketsTest {

  private static final long SECOND = 1_000_000_000L;

  @Test
  void shouldMatchAddressesInACidrRangeOnly() throws Exception {
    AddressRange loopback = AddressRange.parse("127.0.0.0/8");
    assertTrue(loopback.contains(InetAddress.getByName("127.1.2.3")));
    assertFalse(loopback.contains(InetAddress.getByName("128.0.0.1")));
    AddressRange odd = AddressRange.parse("10.0.0.0/13");
    assertTrue(odd.contains(InetAddress.getByName("10.7.255.255")));
    assertFalse(odd.contains(InetAddress.getByName("10.8.0.0")));
    AddressRange single = AddressRange.parse("::1");
    assertTrue(single.contains(InetAddress.getByName("::1")));
    assertFalse(single.contains(InetAddress.getByName("127.0.0.1")));
    assertTrue(AddressRange.parse("0.0.0.0/0").contains(InetAddress.getByName("192.0.2.1")));
  }

  @Test
  void shouldRefuseWhatIsNotALiteralRange() {
    assertThrows(IllegalArgumentException.class, () -> AddressRange.parse("localhost"));
    assertThrows(IllegalArgumentException.class, () -> AddressRange.parse("10.0.0.0/33"));
    assertThrows(IllegalArgumentException.class, () -> AddressRange.parse("10.0.0.0/x"));
  }

  @Test
  void shouldLimitEachAddressOnItsOwnAndNeverAnExemptOne() throws Exception {
    AddressBuckets buckets =
        new AddressBuckets(new CommandRate(1, 2), List.of(AddressRange.parse("10.0.0.0/8")), 100);
    InetAddress one = InetAddress.getByName("192.0.2.1");
    InetAddress two = InetAddress.getByName("192.0.2.2");
    InetAddress exempt = InetAddress.getByName("10.9.9.9");

    assertTrue(buckets.tryTake(one, 0));
    assertTrue(buckets.tryTake(one, 0));
    assertFalse(buckets.tryTake(one, 0));
    assertTrue(buckets.tryTake(two, 0));
    for (int i = 0; i < 100; i++) {
      assertTrue(buckets.tryTake(exempt, 0));
    }
    assertTrue(buckets.tryTake(one, SECOND));
    assertEquals(2, buckets.size());
  }

  @Test
  void shouldRememberAtMostSoManyAddressesForgettingRefilledOnesFirst() throws Exception {
    AddressBuckets buckets = new AddressBuckets(new CommandRate(1, 1), List.of(), 2);
    InetAddress first = InetAddress.getByName("192.0.2.1");
    InetAddress second = InetAddress.getByName("192.0.2.2");
    InetAddress third = InetAddress.getByName("192.0.2.3");
    buckets.tryTake(first, 0);
    buckets.tryTake(second, 10 * SECOND);

    assertTrue(buckets.tryTake(third, 10 * SECOND));

    // first had refilled and was forgotten; second, still empty, is remembered.
    assertEquals(2, buckets.size());
    assertFalse(buckets.tryTake(second, 10 * SECOND));
  }
}
