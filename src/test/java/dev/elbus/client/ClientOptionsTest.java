package dev.elbus.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** {@link ClientOptions}: the reconnect backoff, validation, and the copy. */
class ClientOptionsTest {

  @Test
  void backoffDoublesUpToTheBoundWithJitterInItsUpperHalf() {
    ClientOptions o = new ClientOptions().setReconnectDelayMs(100).setReconnectMaxDelayMs(1000);
    assertThat(o.reconnectDelay(1, 0)).isEqualTo(50);
    assertThat(o.reconnectDelay(1, 0.999999)).isEqualTo(100);
    assertThat(o.reconnectDelay(2, 0.999999)).isEqualTo(200);
    assertThat(o.reconnectDelay(4, 0.999999)).isEqualTo(800);
    assertThat(o.reconnectDelay(5, 0.999999)).isEqualTo(1000);
    assertThat(o.reconnectDelay(5, 0)).isEqualTo(500);
    assertThat(o.reconnectDelay(Integer.MAX_VALUE, 0.5)).isBetween(500L, 1000L);
    // a bound below the first delay: the first delay is the bound
    assertThat(new ClientOptions().setReconnectDelayMs(300).setReconnectMaxDelayMs(100)
        .reconnectDelay(3, 0.999999)).isEqualTo(300);
    assertThat(new ClientOptions().setReconnectDelayMs(1).reconnectDelay(1, 0)).isEqualTo(1);
  }

  @Test
  void rejectsOutOfRangeValues() {
    ClientOptions o = new ClientOptions();
    assertThatThrownBy(() -> o.setReconnectDelayMs(0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setReconnectMaxDelayMs(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setReconnectAttempts(-1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> o.setWriteQueueMaxSize(1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theCopyHasEverySetting() {
    ClientOptions o = new ClientOptions().setTimeoutMs(1234).setPingIntervalMs(55)
        .setMaxFrameSize(999).setSecondaryAttempts(3).setReconnect(true)
        .setReconnectDelayMs(7).setReconnectMaxDelayMs(70).setReconnectAttempts(9)
        .setWriteQueueMaxSize(4096);
    ClientOptions c = new ClientOptions(o);
    assertThat(c).usingRecursiveComparison().isEqualTo(o);
    assertThat(new ClientOptions().isReconnect()).isFalse();
    assertThat(new ClientOptions().getReconnectAttempts()).isZero();
  }
}
