package dev.elbus.impl.net;

import dev.elbus.client.Bind;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.impl.routing.ClientRegistry;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.TopicIndex;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The broker's routing path for a QoS 0 publication, without sockets: the bytes of a read batch
 * enter the real {@link ClientConnection} of a publisher (decode), the router matches the topic
 * and encodes the frame once, every subscriber's {@link SocketSession} queues it, and at the end
 * of the batch each subscriber's channel gets its frames (coalesced) and one flush. The channels
 * are Netty {@code EmbeddedChannel}s on the benchmark thread, so the figures are the broker's own
 * work, with no syscall and no wakeup. Run with the allocation profiler:
 *
 * <pre>
 * ./mvnw -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) org.openjdk.jmh.Main \
 *     RoutingBench -prof gc
 * </pre>
 *
 * <p>{@code gc.alloc.rate.norm} is bytes allocated per publication (an operation is one frame
 * read; with 10 subscribers it is delivered ten times). Options given with {@code -jvmArgsAppend}
 * replace the ones of {@code @Fork} below: repeat them.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
// the broker's event loops are FastThreadLocalThreads, which get the pooled allocator's
// thread caches; the benchmark thread gets them through useCacheForAllThreads
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=DISABLED",
    "-Dio.netty.allocator.useCacheForAllThreads=true"})
public class RoutingBench {
  /** Publications per read batch (one {@code channelRead} + {@code channelReadComplete}). */
  static final int BATCH = 64;
  private static final String TOPIC = "bench/sensors/t1";

  @Param({"1", "10"})
  public int subscribers;

  @Param({"100"})
  public int payload;

  private EmbeddedChannel publisher;
  private EmbeddedChannel[] subs;
  private ByteBuf batch;

  @Setup(Level.Trial)
  public void setup() {
    // as in the broker: channels on Netty's default allocator, the router on the pooled one
    ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
    Router router = new Router(new ClientRegistry(), new TopicIndex(), new BrokerStats(),
        PooledByteBufAllocator.DEFAULT);
    ListenerOptions lo = new ListenerOptions().setBind(Bind.tcp("127.0.0.1", 0))
        .setTimeoutMs(3_600_000);
    ListenerRuntime listener = new ListenerRuntime(lo, 0, router.stats());
    publisher = connect(router, listener, "pub");
    subs = new EmbeddedChannel[subscribers];
    byte[] topic = TOPIC.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < subscribers; i++) {
      subs[i] = connect(router, listener, "sub" + i);
      ByteBuf sub = alloc.buffer();
      sub.writeIntLE(1).writeByte(0x02 | 1 << 6).writeIntLE(topic.length).writeBytes(topic);
      subs[i].writeInbound(sub);
      drain(subs[i]);
    }
    batch = alloc.directBuffer(BATCH * (9 + topic.length + 1 + payload));
    for (int i = 0; i < BATCH; i++) {
      batch.writeIntLE(0).writeByte(0x01).writeIntLE(topic.length + 1 + payload)
          .writeBytes(topic).writeByte(0).writeZero(payload);
    }
  }

  private static EmbeddedChannel connect(Router router, ListenerRuntime listener, String name) {
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.pipeline().addLast(new ClientConnection(router, listener));
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    ByteBuf hello = ch.alloc().buffer();
    hello.writeByte(0xEB).writeShortLE(1).writeShortLE(n.length).writeBytes(n);
    ch.writeInbound(hello);
    drain(ch);
    if (router.registry().get(name) == null) {
      throw new IllegalStateException(name + " did not register");
    }
    return ch;
  }

  private static int drain(EmbeddedChannel ch) {
    int n = 0;
    Object o;
    while ((o = ch.readOutbound()) != null) {
      n += ((ByteBuf) o).readableBytes();
      ((ByteBuf) o).release();
    }
    return n;
  }

  /** One read batch of {@link #BATCH} publications, routed, delivered and flushed. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public int publish() {
    batch.retain().readerIndex(0);
    publisher.writeInbound(batch);
    int n = 0;
    for (EmbeddedChannel s : subs) {
      n += drain(s);
    }
    return n;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    publisher.finishAndReleaseAll();
    for (EmbeddedChannel s : subs) {
      s.finishAndReleaseAll();
    }
    batch.release();
  }
}
