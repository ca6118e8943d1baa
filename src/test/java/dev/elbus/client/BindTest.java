package dev.elbus.client;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The address syntax, the {@code tls://} form of a client address included. */
class BindTest {

  @Test
  void tlsAddressIsTcpWithTls() {
    Bind b = Bind.parse("tls://127.0.0.1:7777");
    assertThat(b.type()).isEqualTo(Bind.Type.TCP);
    assertThat(b.isTls()).isTrue();
    assertThat(b.host()).isEqualTo("127.0.0.1");
    assertThat(b.port()).isEqualTo(7777);
    assertThat(b).hasToString("tls://127.0.0.1:7777").isEqualTo(Bind.tls("127.0.0.1", 7777))
        .isNotEqualTo(Bind.tcp("127.0.0.1", 7777));
    assertThat(Bind.parse("tls://[::1]:7777")).hasToString("tls://[::1]:7777")
        .extracting(Bind::host).isEqualTo("::1");
    assertThat(Bind.parse("127.0.0.1:7777").isTls()).isFalse();
  }

  @Test
  void tlsIsForTcpAddressesOnly() {
    for (String bad : new String[] {"tls:///tmp/elbus.sock", "tls://x.sock", "tls://fifo:/x",
        "tls://tls://h:1"}) {
      assertThatThrownBy(() -> Bind.parse(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("bind '" + bad + "': expected tls://HOST:PORT (TLS is for TCP addresses)");
    }
    assertThatThrownBy(() -> Bind.parse("tls://h")).hasMessageContaining("expected HOST:PORT");
  }
}
