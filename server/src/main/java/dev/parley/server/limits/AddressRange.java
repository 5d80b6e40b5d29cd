package dev.parley.server.limits;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A block of IP addresses in CIDR notation ({@code 10.0.0.0/8}, {@code ::1/128}), or a single
 * address ({@code 192.0.2.7}). Only literal addresses are accepted: a host name would make the
 * configuration depend on DNS at start-up.
 */
public record AddressRange(byte[] network, int prefixLength) {

  /** Parses {@code text}; throws IllegalArgumentException, naming it, if it is not a range. */
  public static AddressRange parse(String text) {
    String trimmed = text.strip();
    int slash = trimmed.indexOf('/');
    String host = slash < 0 ? trimmed : trimmed.substring(0, slash);
    if (host.isEmpty() || !(host.indexOf(':') >= 0 || Character.isDigit(host.charAt(0)))) {
      throw new IllegalArgumentException("not an IP address or CIDR range: '" + text + "'");
    }
    byte[] network;
    try {
      network = InetAddress.getByName(host).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IP address or CIDR range: '" + text + "'", e);
    }
    int bits = network.length * Byte.SIZE;
    int prefix;
    try {
      prefix = slash < 0 ? bits : Integer.parseInt(trimmed.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a CIDR prefix length in '" + text + "'", e);
    }
    if (prefix < 0 || prefix > bits) {
      throw new IllegalArgumentException("prefix length out of range in '" + text + "'");
    }
    return new AddressRange(network, prefix);
  }

  /** Whether {@code address} is in this range (an IPv4 address is never in an IPv6 range). */
  public boolean contains(InetAddress address) {
    byte[] candidate = address.getAddress();
    if (candidate.length != network.length) {
      return false;
    }
    int fullBytes = prefixLength / Byte.SIZE;
    for (int i = 0; i < fullBytes; i++) {
      if (candidate[i] != network[i]) {
        return false;
      }
    }
    int remainingBits = prefixLength % Byte.SIZE;
    if (remainingBits == 0) {
      return true;
    }
    int mask = (0xFF << (Byte.SIZE - remainingBits)) & 0xFF;
    return (candidate[fullBytes] & mask) == (network[fullBytes] & mask);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof AddressRange range
        && prefixLength == range.prefixLength
        && java.util.Arrays.equals(network, range.network);
  }

  @Override
  public int hashCode() {
    return 31 * java.util.Arrays.hashCode(network) + prefixLength;
  }

  @Override
  public String toString() {
    try {
      return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixLength;
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
