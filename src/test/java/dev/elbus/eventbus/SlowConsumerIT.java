package dev.elbus.eventbus;

import static dev.elbus.eventbus.Eb.await;
import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.le32;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.ClientInfo;
import dev.elbus.InternalClient;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;

/**
 * Internal consumers that take nothing (a paused event-bus consumer, an address without
 * consumer) never stall network clients; the paused one loses nothing and its backlog is visible.
 */
@ExtendWith(LeakGate.class)
class SlowConsumerIT {
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = Eb.broker();
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  @Test
  void pausedAndMissingConsumersDoNotStallATcpPair() throws Exception {
    int n = 10_000;
    int chunk = 500;
    InternalClient slow = tb.broker().registerClient("slow");
    InternalClient deaf = tb.broker().registerClient("deaf"); // nobody consumes its address
    await(slow.subscribe("load/#"));
    await(deaf.subscribe("load/#"));
    Eb.Inbox in = new Eb.Inbox();
    in.consumer = tb.vertx().eventBus().consumer("elbus.client.slow", in);
    await(in.consumer.completion());
    in.consumer.pause();
    try (RawClient a = tb.registered(Transport.TCP, "pair.a");
        RawClient b = tb.registered(Transport.TCP, "pair.b")) {
      int seq = 0;
      for (int c = 0; c < n / chunk; c++) {
        ByteArrayOutputStream toB = new ByteArrayOutputStream();
        ByteArrayOutputStream toA = new ByteArrayOutputStream();
        ByteArrayOutputStream atB = new ByteArrayOutputStream();
        ByteArrayOutputStream atA = new ByteArrayOutputStream();
        for (int i = 0; i < chunk; i++, seq++) {
          // a floods the internal subscribers and messages b; b messages a
          toB.write(frame(0x01, concat(utf8("load/x"), new byte[] {0}, le32(seq))));
          toB.write(frame(0x12, concat(utf8("pair.b"), new byte[] {0}, le32(seq))));
          toA.write(frame(0x12, concat(utf8("pair.a"), new byte[] {0}, le32(seq))));
          atB.write(brokerFrame(0x12, false, "pair.a", null, le32(seq)));
          atA.write(brokerFrame(0x12, false, "pair.b", null, le32(seq)));
        }
        a.send(toB.toByteArray());
        b.send(toA.toByteArray());
        b.expect(atB.toByteArray());
        a.expect(atA.toByteArray());
      }
      // every publication a sent before its last message to b is queued for slow by now
      assertThat(slow.queued()).isPositive();
      ClientInfo ci = tb.broker().clients().stream().filter(x -> x.name().equals("slow"))
          .findFirst().orElseThrow();
      assertThat(ci.queue()).isPositive();
      assertThat(in.messages.size()).isZero(); // paused: nothing handled
      assertThat(slow.isConnected()).isTrue();
      assertThat(deaf.isConnected()).isTrue();
      // the pair still talks while the backlog waits
      a.frame(9, 0x12, 1, "pair.b", utf8("still here"));
      a.expectAck(9, 0x01);
      b.expect(brokerFrame(0x12, false, "pair.a", null, utf8("still here")));
    }
    // resumed, the consumer gets every publication, in order: none was discarded
    in.consumer.resume();
    for (int i = 0; i < n; i++) {
      Message<Buffer> m = in.take();
      assertThat(m.body().getIntLE(0)).isEqualTo(i);
    }
    in.close();
    await(slow.close());
    await(deaf.close());
  }

  private static byte[] frame(int op, byte[] body) {
    return concat(new byte[] {0, 0, 0, 0, (byte) op}, le32(body.length), body);
  }
}
