package dev.elbus.aaa;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.Objects;

/**
 * An IPv4 or IPv6 network in CIDR notation, as used by {@code hosts_allow} (PROTOCOL.md section
 * 11). Immutable; {@link #equals} compares the network (family, masked address, prefix length).
 *
 * <h2>Accepted text</h2>
 *
 * <ul>
 *   <li>{@code a.b.c.d/n} with {@code n} in 0-32: four decimal octets 0-255, no leading zeros
 *       ({@code 010.0.0.1} is refused rather than guessed to be octal or decimal);
 *   <li>{@code x:x::x/n} with {@code n} in 0-128: RFC 4291 text form, at most one {@code ::},
 *       optionally ending in an embedded IPv4 address ({@code ::ffff:10.0.0.0/104}); no zone id
 *       ({@code %eth0}) and no brackets;
 *   <li>a bare address, meaning {@code /32} or {@code /128}.
 * </ul>
 *
 * Only literals are parsed, by this class itself: a host name is refused and no DNS lookup is ever
 * made. Address bits beyond the prefix are ignored ({@code 10.1.2.3/8} is {@code 10.0.0.0/8}), as
 * most ACL parsers do.
 *
 * <h2>IPv4-mapped addresses</h2>
 *
 * An IPv4-mapped IPv6 address {@code ::ffff:a.b.c.d} is the IPv4 address {@code a.b.c.d}: a
 * network written in mapped form with a prefix of at least 96 is stored as the IPv4 network
 * ({@code ::ffff:10.0.0.0/104} equals {@code 10.0.0.0/8}), and {@link #contains} treats a mapped
 * client address (as a dual-stack socket reports it) as its IPv4 address. Conversely an IPv6
 * network contains an IPv4 address when it contains its mapped form, so {@code ::/0} contains every
 * address of both families and {@code 10.0.0.0/8} contains {@code ::ffff:10.1.2.3}.
 */
public final class Cidr {
  private static final byte[] MAPPED_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff,
      (byte) 0xff};

  /** 4 bytes (IPv4) or 16 bytes (IPv6), bits beyond {@link #prefix} cleared. */
  private final byte[] network;
  private final int prefix;

  private Cidr(byte[] network, int prefix) {
    if (network.length == 16 && prefix >= 96 && isMapped(network)) {
      network = Arrays.copyOfRange(network, 12, 16);
      prefix -= 96;
    }
    this.network = mask(network, prefix);
    this.prefix = prefix;
  }

  /**
   * Parses {@code a.b.c.d/n}, {@code x::y/n} or a bare address.
   *
   * @throws IllegalArgumentException {@code 'VALUE' is not a CIDR network}, possibly followed by
   *     the reason
   */
  public static Cidr parse(String text) {
    Objects.requireNonNull(text, "text");
    String addr = text;
    int prefix = -1;
    int slash = text.indexOf('/');
    if (slash >= 0) {
      addr = text.substring(0, slash);
      prefix = parsePrefix(text.substring(slash + 1));
      if (prefix < 0) {
        throw bad(text, null);
      }
    }
    byte[] bytes = addr.indexOf(':') >= 0 ? parseIpv6(addr) : parseIpv4(addr);
    if (bytes == null) {
      boolean hostLike = addr.indexOf(':') < 0 && addr.chars().anyMatch(Character::isLetter);
      throw bad(text, hostLike ? "host names are not resolved, write an address" : null);
    }
    int max = bytes.length * 8;
    if (prefix > max) {
      throw bad(text, "prefix length must be 0-" + max);
    }
    return new Cidr(bytes, prefix < 0 ? max : prefix);
  }

  /**
   * The network of {@code address} with the given prefix length (bits beyond it are ignored).
   *
   * @throws IllegalArgumentException when the prefix length is out of range for the family
   */
  public static Cidr of(InetAddress address, int prefixLength) {
    byte[] b = address.getAddress();
    if (prefixLength < 0 || prefixLength > b.length * 8) {
      throw new IllegalArgumentException("prefix length must be 0-" + b.length * 8 + ", got "
          + prefixLength);
    }
    return new Cidr(b, prefixLength);
  }

  /** Is {@code address} in this network? IPv4-mapped IPv6 addresses count as IPv4 addresses. */
  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    if (network.length == 4) {
      if (a.length == 16) {
        if (!isMapped(a)) {
          return false;
        }
        a = Arrays.copyOfRange(a, 12, 16);
      }
    } else if (a.length == 4) {
      byte[] m = Arrays.copyOf(MAPPED_PREFIX, 16);
      System.arraycopy(a, 0, m, 12, 4);
      a = m;
    }
    return Arrays.equals(mask(a, prefix), network);
  }

  /** Is this an IPv4 network (including one written in IPv4-mapped form)? */
  public boolean isIpv4() {
    return network.length == 4;
  }

  /** The prefix length: 0-32 for IPv4, 0-128 for IPv6. */
  public int prefixLength() {
    return prefix;
  }

  /** The network address (host bits cleared); never looked up. */
  public InetAddress network() {
    try {
      // no host name given: no lookup; a stored IPv6 network is never IPv4-mapped
      return InetAddress.getByAddress(network);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e); // cannot happen: the length is 4 or 16
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Cidr && ((Cidr) o).prefix == prefix
        && Arrays.equals(((Cidr) o).network, network);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(network) * 31 + prefix;
  }

  /** Canonical text: {@code 10.0.0.0/8}, {@code fe80::/10} (RFC 5952 compression). */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    if (network.length == 4) {
      for (int i = 0; i < 4; i++) {
        sb.append(i == 0 ? "" : ".").append(network[i] & 0xff);
      }
    } else {
      int[] g = new int[8];
      for (int i = 0; i < 8; i++) {
        g[i] = (network[2 * i] & 0xff) << 8 | (network[2 * i + 1] & 0xff);
      }
      int bestStart = -1;
      int bestLen = 1; // a single zero group is not compressed
      for (int i = 0; i < 8; ) {
        int j = i;
        while (j < 8 && g[j] == 0) {
          j++;
        }
        if (j - i > bestLen) {
          bestStart = i;
          bestLen = j - i;
        }
        i = j == i ? i + 1 : j;
      }
      for (int i = 0; i < 8; i++) {
        if (i == bestStart) {
          sb.append("::");
          i += bestLen - 1;
          continue;
        }
        if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
          sb.append(':');
        }
        sb.append(Integer.toHexString(g[i]));
      }
    }
    return sb.append('/').append(prefix).toString();
  }

  // ---- parsing ----

  private static IllegalArgumentException bad(String text, String reason) {
    return new IllegalArgumentException(AaaParser.quote(text) + " is not a CIDR network"
        + (reason == null ? "" : ": " + reason));
  }

  /** Decimal 0-999 without sign or leading zeros; -1 when malformed. */
  private static int parsePrefix(String s) {
    if (s.isEmpty() || s.length() > 3 || (s.length() > 1 && s.charAt(0) == '0')) {
      return -1;
    }
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  /** Four dotted decimal octets, or null. */
  static byte[] parseIpv4(String s) {
    byte[] out = new byte[4];
    int part = 0;
    int start = 0;
    for (int i = 0; i <= s.length(); i++) {
      if (i == s.length() || s.charAt(i) == '.') {
        if (part == 4) {
          return null;
        }
        int v = parseOctet(s, start, i);
        if (v < 0) {
          return null;
        }
        out[part++] = (byte) v;
        start = i + 1;
      }
    }
    return part == 4 ? out : null;
  }

  private static int parseOctet(String s, int from, int to) {
    int len = to - from;
    if (len < 1 || len > 3 || (len > 1 && s.charAt(from) == '0')) {
      return -1;
    }
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v <= 255 ? v : -1;
  }

  /** RFC 4291 section 2.2 text form (no zone id), or null. */
  static byte[] parseIpv6(String s) {
    int dc = s.indexOf("::");
    if (dc >= 0 && s.indexOf("::", dc + 1) >= 0) {
      return null;
    }
    String head = dc < 0 ? s : s.substring(0, dc);
    String tail = dc < 0 ? "" : s.substring(dc + 2);
    int[] h = groups(head, dc < 0); // an embedded IPv4 address may only be the last 32 bits
    int[] t = dc < 0 ? new int[0] : groups(tail, true);
    if (h == null || t == null) {
      return null;
    }
    int total = h.length + t.length;
    if (dc < 0 ? total != 8 : total > 7) {
      return null;
    }
    byte[] out = new byte[16];
    for (int i = 0; i < h.length; i++) {
      out[2 * i] = (byte) (h[i] >> 8);
      out[2 * i + 1] = (byte) h[i];
    }
    for (int i = 0; i < t.length; i++) {
      int k = 8 - t.length + i;
      out[2 * k] = (byte) (t[i] >> 8);
      out[2 * k + 1] = (byte) t[i];
    }
    return out;
  }

  /**
   * Colon-separated hex groups of 1-4 digits ({@code ""} is no group); when {@code ipv4Last}, the
   * last group may be a dotted IPv4 address, which counts as two groups. Null when malformed.
   */
  private static int[] groups(String s, boolean ipv4Last) {
    if (s.isEmpty()) {
      return new int[0];
    }
    String[] parts = s.split(":", -1);
    String last = parts[parts.length - 1];
    boolean v4 = last.indexOf('.') >= 0;
    if (v4 && !ipv4Last) {
      return null;
    }
    int[] out = new int[parts.length + (v4 ? 1 : 0)];
    for (int i = 0; i < parts.length - (v4 ? 1 : 0); i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 4) {
        return null;
      }
      int v = 0;
      for (int k = 0; k < p.length(); k++) {
        int d = Character.digit(p.charAt(k), 16);
        if (d < 0 || p.charAt(k) > 'f') {
          return null; // Character.digit also accepts non-ASCII digits
        }
        v = v << 4 | d;
      }
      out[i] = v;
    }
    if (v4) {
      byte[] b = parseIpv4(last);
      if (b == null) {
        return null;
      }
      out[parts.length - 1] = (b[0] & 0xff) << 8 | (b[1] & 0xff);
      out[parts.length] = (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }
    return out;
  }

  private static boolean isMapped(byte[] a) {
    for (int i = 0; i < 12; i++) {
      if (a[i] != MAPPED_PREFIX[i]) {
        return false;
      }
    }
    return true;
  }

  private static byte[] mask(byte[] a, int prefix) {
    byte[] out = a.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.min(8, Math.max(0, prefix - 8 * i));
      out[i] &= (byte) (0xff00 >> keep);
    }
    return out;
  }
}
