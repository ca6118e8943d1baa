package dev.elbus.eventbus;

import dev.elbus.config.InternalClientOptions;
import static dev.elbus.eventbus.Eb.await;
import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import dev.elbus.config.BrokerOptions;
import dev.elbus.ClientInfo;
import dev.elbus.InternalClient;
import dev.elbus.config.InternalClientOptions.Overflow;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.support.BrokerMemory;
import dev.elbus.support.Figures;
import dev.elbus.support.LeakGate;
import dev.elbus.support.LogCapture;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.util.concurrent.TimeUnit;

/**
 * An internal client's queue is bounded (docs/eventbus.md, "Slow consumers"): flooding a client
 * whose event-bus consumer is paused keeps the heap flat, the frames past the bound are refused
 * (counted, logged once, visible in client.list and stats; a direct sender gets 77) or the client
 * is disconnected, by its policy; network clients are unaffected, and nothing accepted is lost.
 */
@ExtendWith(LeakGate.class)
class InternalQueueBoundIT {
  private static final int QUEUE = 2_000;
  private static final long QUEUE_BYTES = 1L << 20;
  private static final int PAYLOAD = 1000;
  /** Direct messages sent to the full client after the flood. */
  private static final int DIRECT = 4;

  private static TestBroker broker() throws Exception {
    return TestBroker.start(1, l -> l.setTimeoutMs(60_000), new BrokerOptions()
        .setInternalClients(new InternalClientOptions().setQueueSize(QUEUE)
            .setQueueMaxBytes(QUEUE_BYTES)));
  }

  @Test
  void aPausedConsumerRefusesFramesPastTheBoundAndLosesNothingItAccepted() throws Exception {
    int n = 100_000;
    int chunk = 1_000;
    try (TestBroker tb = broker();
         LogCapture log = LogCapture.on("dev.elbus.impl.eventbus.InternalSession")) {
      InternalClient slow = tb.broker().registerClient("slow");
      await(slow.subscribe("load/#"));
      Eb.Inbox in = Eb.Inbox.on(tb.vertx(), "elbus.client.slow");
      in.consumer.pause();
      long heapBefore = BrokerMemory.heapUsedAfterGc();
      long maxHeap = 0;
      try (RawClient a = tb.registered(Transport.TCP, "pair.a");
           RawClient b = tb.registered(Transport.UNIX, "pair.b")) {
        byte[] payload = new byte[PAYLOAD];
        int seq = 0;
        long t0 = System.nanoTime();
        for (int c = 0; c < n / chunk; c++) {
          ByteArrayOutputStream flood = new ByteArrayOutputStream();
          for (int i = 0; i < chunk; i++, seq++) {
            System.arraycopy(le32(seq), 0, payload, 0, 4);
            flood.write(frame(0, 0x01, 0, concat(utf8("load/x"), new byte[] {0}, payload)));
          }
          // the control pair: a message from a to b after the flood chunk, acked
          flood.write(frame(c, 0x12, 1, concat(utf8("pair.b"), new byte[] {0}, le32(c))));
          a.send(flood.toByteArray());
          a.expectAck(c, 0x01);
          b.expect(brokerFrame(0x12, false, "pair.a", null, le32(c)));
          if (c % 20 == 0) {
            maxHeap = Math.max(maxHeap, BrokerMemory.heapUsedAfterGc() - heapBefore);
          }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        maxHeap = Math.max(maxHeap, BrokerMemory.heapUsedAfterGc() - heapBefore);
        // direct messages to the full client, as large as a publication, in one write: the last
        // is refused with 77 (the paused consumer's window lets one frame through a second, so
        // an earlier one may still fit), and the sender stays connected
        ByteArrayOutputStream direct = new ByteArrayOutputStream();
        for (int i = 0; i < DIRECT; i++) {
          System.arraycopy(le32(n + i), 0, payload, 0, 4);
          direct.write(frame(1_000_000 + i, 0x12, 1, concat(utf8("slow"), new byte[] {0},
              payload)));
        }
        a.send(direct.toByteArray());
        for (int i = 0; i < DIRECT - 1; i++) {
          byte[] ack = a.read(6);
          assertThat(ack[5] == 0x01 || ack[5] == 0x77).as("ack code %02x", ack[5]).isTrue();
        }
        a.expectAck(1_000_000 + DIRECT - 1, 0x77);
        assertThat(slow.isConnected()).isTrue();
        assertThat(slow.queued()).isLessThanOrEqualTo(QUEUE);
        long dropped = slow.dropped();
        assertThat(dropped).as("frames refused").isGreaterThan(n - QUEUE - 1_000L);
        ClientInfo ci = tb.broker().clients().stream().filter(x -> x.name().equals("slow"))
            .findFirst().orElseThrow();
        assertThat(ci.dropped()).isEqualTo(dropped);
        assertThat(tb.router().stats().dropped()).isEqualTo(dropped);
        assertThat(log.matching(Level.WARN, "slow")).as("warnings").hasSize(1);
        assertThat(log.matching(Level.WARN, "slow").get(0).getFormattedMessage())
            .contains("not keeping up");
        Figures.print("INTERNAL flood of %d publications of %d B to a paused consumer in %d ms:"
            + " %d refused, %d queued, broker heap at most +%s (bound %d frames, %d B);"
            + " control pair: %d messages, 0 lost%n", n, PAYLOAD, ms, dropped, slow.queued(),
            BrokerMemory.mib(maxHeap), QUEUE, QUEUE_BYTES, n / chunk);
        assertThat(maxHeap).as("heap growth").isLessThan(32L << 20);
      }
      // resumed: what was accepted arrives, in order; with the refused ones it makes up the flood
      in.consumer.resume();
      long received = 0;
      int last = -1;
      while (received + slow.dropped() < n + DIRECT) {
        Message<Buffer> m = in.messages.poll(10, TimeUnit.SECONDS);
        if (m == null) {
          break;
        }
        int s = m.body().getIntLE(0);
        assertThat(s).as("order").isGreaterThan(last);
        last = s;
        received++;
      }
      assertThat(received + slow.dropped()).as("received + refused (publications and direct "
          + "messages)").isEqualTo(n + DIRECT);
      Eb.await(tb.vertx().timer(200));
      assertThat(log.matching(Level.INFO, "caught up")).hasSize(1);
      in.close();
      await(slow.close());
    }
  }

  @Test
  void theDisconnectPolicyUnregistersTheClientOnce() throws Exception {
    try (TestBroker tb = broker();
         LogCapture log = LogCapture.on("dev.elbus.impl.eventbus.InternalSession")) {
      InternalClient gone = tb.broker().registerClient("gone", new InternalClientOptions()
          .setQueueSize(100).setOverflow(Overflow.DISCONNECT));
      await(gone.subscribe("load/#"));
      Eb.Inbox in = Eb.Inbox.on(tb.vertx(), "elbus.client.gone");
      in.consumer.pause();
      try (RawClient a = tb.registered(Transport.TCP, "pub")) {
        ByteArrayOutputStream flood = new ByteArrayOutputStream();
        for (int i = 0; i < 2_000; i++) {
          flood.write(frame(i, 0x01, i == 1_999 ? 1 : 0, concat(utf8("load/x"), new byte[] {0},
              le32(i))));
        }
        a.send(flood.toByteArray());
        a.expectAck(1_999, 0x01);
        assertThat(gone.isConnected()).isFalse();
        assertThat(tb.router().registry().get("gone")).isNull();
        assertThat(tb.router().stats().closes(CloseReason.SLOW_CONSUMER)).isEqualTo(1);
        assertThat(log.matching(Level.WARN, "slow_consumer")).hasSize(1);
        assertThat(gone.dropped()).isZero();
        // the publisher is unaffected
        a.frame(5_000, 0x01, 1, "load/x", utf8("after"));
        a.expectAck(5_000, 0x01);
      }
      in.close();
    }
  }

  private static byte[] frame(int opId, int op, int qos, byte[] body) {
    return concat(le32(opId), new byte[] {(byte) (op | qos << 6)}, le32(body.length), body);
  }
}
