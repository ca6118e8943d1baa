package dev.elbus.impl.cluster;

import dev.elbus.protocol.Protocol;
import io.netty.buffer.Unpooled;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Link} on a real Vert.x event bus: a backlog behind the window meets a node whose inbox
 * is gone (the event bus fails each request at once, no handler): every waiting batch is sent
 * and failed in turn, without nesting one call per batch, and no ack is completed under the
 * link's monitor.
 */
class LinkTest {
  private static final String NODE = "link-test-node";
  private Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aBacklogFailedAtOnceByTheEventBusIsSentInTurnNotNested() throws Exception {
    int backlog = 50_000;
    CompletableFuture<Message<Buffer>> first = new CompletableFuture<>();
    MessageConsumer<Buffer> inbox = vertx.eventBus().<Buffer>consumer(ClusterNode.inbox(NODE),
        first::complete);
    inbox.completion().await(10, TimeUnit.SECONDS);
    // a window of one byte: one batch in flight, the others wait
    Link link = new Link(NODE, vertx, 5_000, 1, Long.MAX_VALUE, new ClusterStats());
    AtomicInteger notRegistered = new AtomicInteger();
    AtomicInteger other = new AtomicInteger();
    AtomicInteger underMonitor = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(backlog + 1);
    for (int i = 0; i <= backlog; i++) {
      Link.Batch b = new Link.Batch(Unpooled.buffer(8).writeByte(Wire.BATCH));
      b.frames = 1;
      b.ack(code -> {
        if (Thread.holdsLock(link)) {
          underMonitor.incrementAndGet();
        }
        (code == Protocol.ERR_CLIENT_NOT_REGISTERED ? notRegistered : other).incrementAndGet();
        done.countDown();
      });
      link.submit(b);
    }
    assertThat(link.backlog()[1]).as("bytes waiting").isGreaterThan(0);
    Message<Buffer> m = first.get(10, TimeUnit.SECONDS);
    // the node's inbox goes (it crashed), then the batch in flight is answered: the next ones
    // are failed by the event bus as they are sent
    inbox.unregister().await(10, TimeUnit.SECONDS);
    m.reply(Buffer.buffer().appendByte((byte) Protocol.RESPONSE_OK));
    assertThat(done.await(30, TimeUnit.SECONDS)).as("every ack completed").isTrue();
    assertThat(notRegistered.get()).isEqualTo(backlog);
    assertThat(other.get()).isEqualTo(1); // the answered one: 01
    assertThat(underMonitor.get()).as("acks completed under the link's monitor").isZero();
    assertThat(link.backlog()).containsExactly(0L, 0L);
  }
}
