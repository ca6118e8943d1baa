package dev.elbus.impl.net;

import dev.elbus.client.Bind;
import dev.elbus.impl.routing.Router;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.WriteBufferWaterMark;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;

import java.util.ArrayList;
import java.util.List;

/**
 * A thin lifecycle shell: listens on every configured listener and hands each accepted socket to
 * a {@link ClientConnection} (behind a TLS handler from the listener's {@link ListenerTls} on a
 * TLS listener). Deployed with one instance per event loop; Vert.x shares each bound
 * address between the instances and spreads connections round-robin. Holds no protocol logic and
 * no state beyond its servers.
 */
public final class ListenerVerticle extends VerticleBase {
  /**
   * Socket reads one connection gets per event-loop turn before the loop serves the others (read
   * fairness, docs/performance.md). Netty's default is 16; with reads of up to 64 KiB that let one
   * flooding connection decode 1 MiB, thousands of frames, between two turns of its neighbours.
   */
  static final int READS_PER_TURN = 4;
  /** Read buffers sized to what arrives, 64 KiB at most; shared by every connection. */
  private static final RecvByteBufAllocator READS = new AdaptiveRecvByteBufAllocator(512,
      16 * 1024, 64 * 1024).maxMessagesPerRead(READS_PER_TURN);

  private final Router router;
  private final List<ListenerRuntime> listeners;
  private final List<NetServer> servers = new ArrayList<>();

  public ListenerVerticle(Router router, List<ListenerRuntime> listeners) {
    this.router = router;
    this.listeners = listeners;
  }

  @Override
  public Future<?> start() {
    List<Future<?>> all = new ArrayList<>();
    for (ListenerRuntime l : listeners) {
      all.add(listen(l));
    }
    return Future.all(all);
  }

  private Future<NetServer> listen(ListenerRuntime l) {
    Bind b = l.bind();
    NetServerOptions o = new NetServerOptions()
        .setTcpNoDelay(true)
        .setReuseAddress(true)
        .setRegisterWriteHandler(false);
    NetServer server = vertx.createNetServer(o);
    int bufSize = l.options().getBufSize();
    WriteBufferWaterMark mark = new WriteBufferWaterMark(bufSize, Math.max(bufSize * 4, bufSize + 1));
    server.connectHandler(so -> {
      ChannelHandlerContext hctx = ((NetSocketInternal) so).channelHandlerContext();
      Channel listening = hctx.channel().parent();
      if (listening != null) {
        AcceptPacer pacer = l.pacer();
        pacer.installOn(listening);
        pacer.arrived(hctx.channel());
      }
      hctx.channel().config().setWriteBufferWaterMark(mark);
      hctx.channel().config().setRecvByteBufAllocator(READS);
      if (l.tls() != null) {
        // first in the pipeline: the connection behind it reads and writes plain text
        hctx.pipeline().addFirst("tls", l.tls().newHandler(hctx.alloc()));
      }
      hctx.pipeline().addBefore("handler", "elbus", new ClientConnection(router, l));
    });
    servers.add(server);
    Future<NetServer> f;
    if (b.type() == Bind.Type.UNIX) {
      f = server.listen(SocketAddress.domainSocketAddress(b.path()));
    } else {
      f = server.listen(l.listenPort(), b.host());
    }
    return f.onSuccess(s -> {
      if (b.type() == Bind.Type.TCP) {
        String host = b.host();
        l.label((host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + s.actualPort());
      }
    });
  }

  /** The context (event loop) this instance serves its connections on, once deployed. */
  public io.vertx.core.Context loop() {
    return context;
  }

  @Override
  public Future<?> stop() {
    List<Future<?>> all = new ArrayList<>();
    for (NetServer s : servers) {
      all.add(s.close());
    }
    return Future.all(all);
  }
}
