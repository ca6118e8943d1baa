package dev.elbus.aaa;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CidrTest {

  /** Literal addresses only: {@code getByName} does no lookup for a literal. */
  static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  /** An {@link Inet6Address} object holding an IPv4-mapped address (Java's parser would give v4). */
  static InetAddress mapped(int a, int b, int c, int d) throws Exception {
    byte[] x = new byte[16];
    x[10] = (byte) 0xff;
    x[11] = (byte) 0xff;
    x[12] = (byte) a;
    x[13] = (byte) b;
    x[14] = (byte) c;
    x[15] = (byte) d;
    return Inet6Address.getByAddress(null, x, -1);
  }

  @Test
  void ipv4Network() throws Exception {
    Cidr c = Cidr.parse("10.0.0.0/8");
    assertThat(c.isIpv4()).isTrue();
    assertThat(c.prefixLength()).isEqualTo(8);
    assertThat(c.contains(ip("10.0.0.0"))).isTrue();
    assertThat(c.contains(ip("10.255.255.255"))).isTrue();
    assertThat(c.contains(ip("11.0.0.0"))).isFalse();
    assertThat(c.contains(ip("9.255.255.255"))).isFalse();
    assertThat(c.contains(ip("::1"))).isFalse();
    assertThat(c.toString()).isEqualTo("10.0.0.0/8");
    assertThat(Cidr.parse("192.168.1.128/25").contains(ip("192.168.1.127"))).isFalse();
    assertThat(Cidr.parse("192.168.1.128/25").contains(ip("192.168.1.200"))).isTrue();
    Cidr all = Cidr.parse("0.0.0.0/0");
    assertThat(all.contains(ip("1.2.3.4"))).isTrue();
    assertThat(all.contains(ip("255.255.255.255"))).isTrue();
    assertThat(all.contains(ip("2001:db8::1"))).isFalse();
  }

  @Test
  void hostBitsAreIgnoredAndBareAddressIsOneHost() throws Exception {
    assertThat(Cidr.parse("10.1.2.3/8")).isEqualTo(Cidr.parse("10.0.0.0/8"));
    assertThat(Cidr.parse("10.1.2.3/8").toString()).isEqualTo("10.0.0.0/8");
    Cidr one = Cidr.parse("192.168.1.5");
    assertThat(one).isEqualTo(Cidr.parse("192.168.1.5/32"));
    assertThat(one.contains(ip("192.168.1.5"))).isTrue();
    assertThat(one.contains(ip("192.168.1.4"))).isFalse();
    Cidr six = Cidr.parse("::1");
    assertThat(six).isEqualTo(Cidr.parse("::1/128"));
    assertThat(six.prefixLength()).isEqualTo(128);
    assertThat(six.contains(ip("::1"))).isTrue();
    assertThat(six.contains(ip("::2"))).isFalse();
    assertThat(six.contains(ip("127.0.0.1"))).isFalse();
  }

  @Test
  void ipv6Network() throws Exception {
    Cidr c = Cidr.parse("2001:DB8::/32");
    assertThat(c.isIpv4()).isFalse();
    assertThat(c.contains(ip("2001:db8:1::5"))).isTrue();
    assertThat(c.contains(ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"))).isTrue();
    assertThat(c.contains(ip("2001:db9::"))).isFalse();
    assertThat(c.contains(ip("10.0.0.1"))).isFalse();
    assertThat(c.toString()).isEqualTo("2001:db8::/32");
    assertThat(Cidr.parse("fe80::1/10").toString()).isEqualTo("fe80::/10");
    assertThat(Cidr.parse("fe80::/10").contains(ip("febf::1"))).isTrue();
    assertThat(Cidr.parse("fe80::/10").contains(ip("fec0::1"))).isFalse();
    assertThat(Cidr.parse("::/0").toString()).isEqualTo("::/0");
    assertThat(Cidr.parse("2001:db8:0:0:1:0:0:1").toString()).isEqualTo("2001:db8::1:0:0:1/128");
    assertThat(Cidr.parse("2001:db8:0:1:1:1:1:1").toString())
        .isEqualTo("2001:db8:0:1:1:1:1:1/128");
    assertThat(Cidr.parse("1:2:3:4:5:6:7::").toString()).isEqualTo("1:2:3:4:5:6:7:0/128");
    assertThat(Cidr.parse("64:ff9b::192.0.2.33").toString()).isEqualTo("64:ff9b::c000:221/128");
  }

  @Test
  void ipv4MappedAddressesAreIpv4() throws Exception {
    assertThat(Cidr.parse("::ffff:10.0.0.0/104")).isEqualTo(Cidr.parse("10.0.0.0/8"));
    assertThat(Cidr.parse("::FFFF:a00:0/104")).isEqualTo(Cidr.parse("10.0.0.0/8"));
    assertThat(Cidr.parse("::ffff:10.1.2.3").isIpv4()).isTrue();
    assertThat(Cidr.parse("::ffff:0:0/96")).isEqualTo(Cidr.parse("0.0.0.0/0"));
    Cidr v4 = Cidr.parse("10.0.0.0/8");
    assertThat(mapped(10, 1, 2, 3)).isInstanceOf(Inet6Address.class);
    assertThat(v4.contains(mapped(10, 1, 2, 3))).isTrue();
    assertThat(v4.contains(mapped(11, 1, 2, 3))).isFalse();
    assertThat(Cidr.parse("::ffff:10.0.0.0/104").contains(ip("10.9.9.9"))).isTrue();
    // IPv4-compatible (deprecated) ::a.b.c.d is not mapped
    assertThat(Cidr.parse("::10.0.0.0/104").isIpv4()).isFalse();
    assertThat(Cidr.parse("::10.0.0.0/104").contains(ip("10.0.0.1"))).isFalse();
    // an IPv6 network holds an IPv4 address when it holds its mapped form
    assertThat(Cidr.parse("::/0").contains(ip("1.2.3.4"))).isTrue();
    assertThat(Cidr.parse("::ffff:0:0/95").isIpv4()).isFalse();
    assertThat(Cidr.parse("::ffff:0:0/95").contains(ip("1.2.3.4"))).isTrue();
    assertThat(Cidr.parse("2001:db8::/32").contains(mapped(1, 2, 3, 4))).isFalse();
  }

  @Test
  void ofAddressAndNetwork() throws Exception {
    assertThat(Cidr.of(ip("10.1.2.3"), 16)).isEqualTo(Cidr.parse("10.1.0.0/16"));
    assertThat(Cidr.of(mapped(10, 1, 2, 3), 104)).isEqualTo(Cidr.parse("10.0.0.0/8"));
    assertThat(Cidr.parse("10.1.2.3/16").network()).isEqualTo(ip("10.1.0.0"));
    assertThat(Cidr.parse("10.1.2.3/16").network()).isInstanceOf(Inet4Address.class);
    assertThat(Cidr.parse("2001:db8::1/32").network()).isEqualTo(ip("2001:db8::"));
    assertThatThrownBy(() -> Cidr.of(ip("10.0.0.1"), 33))
        .hasMessage("prefix length must be 0-32, got 33");
  }

  @Test
  void equalsAndHashCode() {
    assertThat(Cidr.parse("2001:db8:0::/48")).isEqualTo(Cidr.parse("2001:DB8::0/48"))
        .hasSameHashCodeAs(Cidr.parse("2001:DB8::0/48"));
    assertThat(Cidr.parse("10.0.0.0/8")).isNotEqualTo(Cidr.parse("10.0.0.0/9"));
    assertThat(Cidr.parse("0.0.0.0/0")).isNotEqualTo(Cidr.parse("::/0"));
    assertThat(Cidr.parse("::a00:0/104")).isNotEqualTo(Cidr.parse("10.0.0.0/8"));
  }

  @Test
  void exactMessages() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0/8"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("'10.0.0/8' is not a CIDR network");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33"))
        .hasMessage("'10.0.0.0/33' is not a CIDR network: prefix length must be 0-32");
    assertThatThrownBy(() -> Cidr.parse("::/129"))
        .hasMessage("'::/129' is not a CIDR network: prefix length must be 0-128");
    assertThatThrownBy(() -> Cidr.parse("localhost"))
        .hasMessage("'localhost' is not a CIDR network: host names are not resolved, "
            + "write an address");
    assertThatThrownBy(() -> Cidr.parse("a\nb"))
        .hasMessage("'a\\u000ab' is not a CIDR network: host names are not resolved, "
            + "write an address");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "/", "/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8",
      "10.0.0.0/08", "10.0.0.0/8/8", "10.0.0.0/1000", "10.0.0.0/ 8", " 10.0.0.1", "10.0.0.1 ",
      "10.0.0.256", "010.0.0.1", "10.0.0.1.", ".10.0.0.1", "10..0.1", "10.0.0.0.0", "1.2.3",
      "0x0a.0.0.1", "\u0661\u0660.0.0.1", "localhost", "example.com/24", "fe80::1%eth0",
      "[::1]", "[::1]/128", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1::2::3", ":::", "::1::",
      "12345::", "::g", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1.2.3.4::", "::1.2.3",
      "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4", ":1::2", "1::2:", "::\uff11", "*", "any"})
  void rejectsMalformed(String s) {
    assertThatThrownBy(() -> Cidr.parse(s))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(AaaParser.quote(s) + " is not a CIDR network");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0.0.0.0", "255.255.255.255/32", "::", "::/0", "::1", "1::",
      "1:2:3:4:5:6:7:8", "1:2:3:4:5:6::8", "1::8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4",
      "::1.2.3.4", "abcd:EF01::", "0:0:0:0:0:0:0:0/1"})
  void acceptsValid(String s) {
    assertThat(Cidr.parse(s)).isNotNull();
  }

  /** Random IPv6 text forms against the JDK's literal parser (no lookup for literals). */
  @Test
  void ipv6ParserAgreesWithTheJdkOnRandomLiterals() throws Exception {
    Random r = new Random(20240601);
    for (int n = 0; n < 5000; n++) {
      int[] g = new int[8];
      for (int i = 0; i < 8; i++) {
        g[i] = r.nextInt(3) == 0 ? 0 : r.nextInt(3) == 0 ? r.nextInt(16) : r.nextInt(65536);
      }
      if (r.nextInt(5) == 0) {
        g = new int[] {0, 0, 0, 0, 0, 0xffff, g[6], g[7]};
      }
      boolean v4tail = r.nextInt(4) == 0;
      String[] parts = new String[v4tail ? 7 : 8];
      for (int i = 0; i < (v4tail ? 6 : 8); i++) {
        String h = Integer.toHexString(g[i]);
        parts[i] = r.nextBoolean() ? h.toUpperCase() : h;
      }
      if (v4tail) {
        parts[6] = (g[6] >> 8) + "." + (g[6] & 0xff) + "." + (g[7] >> 8) + "." + (g[7] & 0xff);
      }
      String text = String.join(":", parts);
      // compress a random run of zero groups (not inside the IPv4 tail)
      int from = r.nextInt(parts.length);
      int to = from;
      while (to < parts.length - (v4tail ? 1 : 0) && parts[to].equals("0")) {
        to++;
      }
      if (to > from) {
        text = String.join(":", java.util.Arrays.copyOfRange(parts, 0, from)) + "::"
            + String.join(":", java.util.Arrays.copyOfRange(parts, to, parts.length));
      }
      Cidr c = Cidr.parse(text);
      InetAddress jdk = ip(text);
      assertThat(c.network().getAddress()).as(text).isEqualTo(jdk.getAddress());
      assertThat(c.contains(jdk)).as(text).isTrue();
      assertThat(Cidr.parse(c.toString())).as(text).isEqualTo(c);
      int p = r.nextInt(c.isIpv4() ? 33 : 129);
      Cidr net = Cidr.parse(text + "/" + p);
      assertThat(net.contains(jdk)).as(text + "/" + p).isTrue();
      assertThat(Cidr.parse(net.toString())).as(text + "/" + p).isEqualTo(net);
    }
  }
}
