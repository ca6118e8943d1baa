package dev.elbus.client;

import static dev.elbus.client.ClientTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** Many QoS 0 messages from one {@link NetworkClient} to another arrive complete and in order. */
@ExtendWith(LeakGate.class)
class NetworkClientStreamIT {
  private static final int COUNT = 100_000;
  /**
   * Messages in flight at most (sent, not yet received). QoS 0 has no flow control: without a
   * window a receiver slower than the sender overflows its broker queue (8192 frames) and is
   * dropped as a slow consumer, which is the broker's documented behaviour, not a client bug.
   */
  private static final int WINDOW = 2_000;

  @RegisterExtension
  static final ClientTestSupport clients = new ClientTestSupport(TestBroker::start);

  @ParameterizedTest
  @EnumSource(Transport.class)
  void hundredThousandMessagesArriveInOrder(Transport t) throws Exception {
    String prefix = t.name().toLowerCase();
    NetworkClient a = clients.connect(t, prefix + "-stream-a");
    NetworkClient b = clients.connect(t, prefix + "-stream-b");
    Semaphore window = new Semaphore(WINDOW);
    CountDownLatch all = new CountDownLatch(COUNT + 1);
    AtomicReference<String> error = new AtomicReference<>();
    long[] expected = {0};
    b.frameHandler(f -> { // on b's context only
      long seq = f.payload().getLong(0);
      if (seq != expected[0] || !f.sender().equals(a.name()) || f.payload().length() != 16) {
        error.compareAndSet(null, "expected #" + expected[0] + " but got " + f + " #" + seq);
      }
      expected[0]++;
      window.release();
      all.countDown();
    });

    for (long i = 0; i < COUNT; i++) {
      if (!window.tryAcquire(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS)) {
        throw new AssertionError("receiver stalled; error: " + error.get() + ", received "
            + (COUNT + 1 - all.getCount()));
      }
      a.send(b.name(), Buffer.buffer(16).appendLong(i).appendLong(~i), QoS.NO)
          .onFailure(e -> error.compareAndSet(null, "send failed: " + e));
    }
    // one acked message after the stream: its ack proves the broker processed all before it
    await(a.send(b.name(), Buffer.buffer(16).appendLong(COUNT).appendLong(~COUNT),
        QoS.PROCESSED));

    assertThat(all.await(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS))
        .as("all %d messages received (error: %s)", COUNT + 1, error.get()).isTrue();
    assertThat(error.get()).isNull();
    assertThat(a.isConnected()).isTrue();
    assertThat(b.isConnected()).isTrue();
  }
}
