package dev.elbus.impl.net;

import dev.elbus.aaa.AaaPolicy;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.client.Bind;
import dev.elbus.config.ListenerOptions;
import dev.elbus.impl.routing.BrokerStats;
import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.ClientRegistry;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Router;
import dev.elbus.impl.routing.Session;
import dev.elbus.impl.routing.TopicIndex;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;

/**
 * One connection's byte stream through the real {@link ClientConnection} in an {@code
 * EmbeddedChannel}, with a fresh router, for the coverage-guided fuzz targets ({@code
 * fuzz.ConnectionFuzzTest}); {@link ConnectionFuzzTest} does the same at volume with its own
 * generator. After the stream and the close:
 *
 * <ul>
 *   <li>no exception escaped the connection code (it would count as {@link
 *       CloseReason#INTERNAL_ERROR});
 *   <li>every client the stream registered is gone, with its subscriptions;
 *   <li>every buffer is released (the allocator's used memory is back to zero).
 * </ul>
 */
public final class ConnectionHarness {
  private static final int MAX_FRAME = 70_000;
  /** A listener with AAA: "a" is restricted, "c.d" may do everything, nobody else may register. */
  private static final AaaPolicy POLICY = AaaPolicy.builder()
      .client("a", ClientAcl.builder()
          .p2p(ClientAcl.Rule.only("sink", "c.*"))
          .publish(ClientAcl.Rule.only("t/#"))
          .subscribe(ClientAcl.Rule.only("t/+", "a/#"))
          .broadcast(ClientAcl.Rule.deny())
          .build())
      .client("c.d", ClientAcl.ALLOW_ALL)
      .build();

  static {
    // protocol errors are the normal outcome here: log only errors (internal errors)
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ClientConnection.class))
        .setLevel(ch.qos.logback.classic.Level.ERROR);
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ListenerRuntime.class))
        .setLevel(ch.qos.logback.classic.Level.ERROR);
  }

  private ConnectionHarness() {}

  /** Receives everything: a subscriber to '#' and a message target, releasing what it gets. */
  private static final class Sink extends Session {
    Sink() {
      super("sink", ClientKind.INTERNAL, null, null);
    }

    @Override
    public int deliver(ByteBuf frame, boolean realtime) {
      frame.release();
      return Protocol.RESPONSE_OK;
    }

    @Override
    public void disconnect(CloseReason reason) {}

    @Override
    public int queued() {
      return 0;
    }
  }

  /**
   * Feeds {@code stream} to a new connection in the chunks {@code cuts} gives (first 0, last the
   * length), then closes it.
   *
   * @param aaa run on a listener with an AAA policy
   * @throws AssertionError when an invariant does not hold
   */
  public static void run(byte[] stream, int[] cuts, boolean aaa) {
    UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false, true);
    BrokerStats stats = new BrokerStats();
    Router router = new Router(new ClientRegistry(), new TopicIndex(), stats, alloc);
    Sink sink = new Sink();
    router.register(sink);
    router.subscribe(sink, "#");
    int baseClients = router.registry().size();
    int baseTopics = router.topics().size();
    ListenerOptions lo = new ListenerOptions().setBind(Bind.tcp("127.0.0.1", 0))
        .setMaxFrameSize(MAX_FRAME).setQueueSize(64);
    if (aaa) {
      lo.setAaa(POLICY);
    }
    ListenerRuntime listener = new ListenerRuntime(lo, 0, stats);
    EmbeddedChannel ch = new EmbeddedChannel();
    ch.config().setAllocator(alloc);
    ch.pipeline().addLast(new ClientConnection(router, listener));
    for (int i = 1; i < cuts.length && ch.isOpen(); i++) {
      int off = cuts[i - 1];
      int len = cuts[i] - off;
      ch.writeInbound(alloc.heapBuffer(Math.max(len, 1)).writeBytes(stream, off, len));
      ch.runPendingTasks();
      drain(ch);
    }
    ch.close();
    ch.runPendingTasks();
    drain(ch);
    ch.finishAndReleaseAll();
    if (stats.closes(CloseReason.INTERNAL_ERROR) != 0) {
      throw new AssertionError("an unexpected exception escaped the connection code (see the"
          + " ERROR log line)");
    }
    if (router.registry().size() != baseClients) {
      throw new AssertionError("clients left registered: " + router.registry().size());
    }
    if (router.topics().size() != baseTopics) {
      throw new AssertionError("subscriptions left: " + router.topics().size());
    }
    long used = alloc.metric().usedHeapMemory() + alloc.metric().usedDirectMemory();
    if (used != 0) {
      throw new AssertionError(used + " bytes of buffers not released");
    }
    if (listener.connections() != 0) {
      throw new AssertionError("connection still counted on the listener");
    }
  }

  private static void drain(EmbeddedChannel ch) {
    Object o;
    while ((o = ch.readOutbound()) != null) {
      ((ByteBuf) o).release();
    }
    while ((o = ch.readInbound()) != null) {
      ((ByteBuf) o).release();
    }
  }
}
