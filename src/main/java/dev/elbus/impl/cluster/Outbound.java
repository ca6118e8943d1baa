package dev.elbus.impl.cluster;

import dev.elbus.impl.routing.Completion;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.ThreadExecutorMap;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

import java.util.ArrayList;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Batches the frames one thread routes to other nodes: per destination node, one batch per
 * event-loop turn. On an event loop the first frame of a turn for a node opens a batch and
 * schedules one task, run by the loop once the current I/O (a read batch of every ready
 * connection) is processed, which hands every open batch of the thread to its {@link Link}: so a
 * burst of frames costs one event-bus message per node, not one per frame. A batch past {@link
 * #MAX_BATCH} bytes is handed over at once. On any other thread (an in-process client called
 * from a worker) each frame is handed over as it comes.
 *
 * <p>The hand-over runs on a Vert.x context of the producing event loop (one per loop, made
 * once). A batch the {@link Link} sends at once is requested there, so its reply, and the acks
 * it completes, come back on that loop; a batch that waited behind the window is sent by the
 * thread that frees room or is already handing batches over (another batch's reply, on
 * whichever loop that was, or another producer), and its acks come back on that thread's
 * context. An ack's handler must not assume the producing loop.
 */
final class Outbound {
  /** A batch is handed over once it holds this many bytes. */
  static final int MAX_BATCH = 64 * 1024;
  private static final int INITIAL = 4096;

  private final VertxInternal vertx;
  private final ConcurrentHashMap<EventExecutor, ContextInternal> contexts =
      new ConcurrentHashMap<>();
  private final FastThreadLocal<Local> local = new FastThreadLocal<>() {
    @Override
    protected Local initialValue() {
      return new Local();
    }
  };

  Outbound(VertxInternal vertx) {
    this.vertx = vertx;
  }

  /** One thread's open batches. */
  private final class Local {
    /** The thread's event loop, {@code null} off event loops. */
    final EventLoop loop;
    final ArrayList<Link> links = new ArrayList<>(4);
    final ArrayList<Link.Batch> batches = new ArrayList<>(4);
    boolean flushPending;
    final Runnable flush = this::flush;

    Local() {
      EventExecutor e = ThreadExecutorMap.currentExecutor();
      this.loop = e instanceof EventLoop && e.inEventLoop() ? (EventLoop) e : null;
    }

    Link.Batch batch(Link link) {
      for (int i = 0; i < links.size(); i++) {
        if (links.get(i) == link) {
          return batches.get(i);
        }
      }
      Link.Batch b = new Link.Batch(Unpooled.buffer(INITIAL));
      b.buf.writeByte(Wire.BATCH);
      if (loop != null) {
        links.add(link);
        batches.add(b);
        if (!flushPending) {
          flushPending = true;
          loop.execute(flush);
        }
      }
      return b;
    }

    void appended(Link link, Link.Batch b, Completion ack) {
      b.frames++;
      if (ack != null) {
        b.ack(ack);
      }
      if (loop == null) {
        link.submit(b);
      } else if (b.buf.readableBytes() >= MAX_BATCH) {
        int i = links.indexOf(link);
        links.remove(i);
        batches.remove(i);
        link.submit(b);
      }
    }

    void flush() {
      flushPending = false;
      if (links.isEmpty()) {
        return;
      }
      contexts.computeIfAbsent(loop, l -> vertx.contextBuilder().withEventLoop(loop).build())
          .dispatch(this::submitAll);
    }

    private void submitAll() {
      // a submission may complete acks whose handlers route more frames: work on a copy
      Link[] ls = links.toArray(new Link[0]);
      Link.Batch[] bs = batches.toArray(new Link.Batch[0]);
      links.clear();
      batches.clear();
      for (int i = 0; i < ls.length; i++) {
        ls[i].submit(bs[i]);
      }
    }
  }

  /**
   * The buffer to write one entry for {@code link} into, on the calling thread; call {@link
   * #appended} right after writing it.
   */
  Link.Batch batch(Link link) {
    return local.get().batch(link);
  }

  /** One entry was written into {@code b} ({@code ack}: its sender's ack, or {@code null}). */
  void appended(Link link, Link.Batch b, Completion ack) {
    local.get().appended(link, b, ack);
  }

  /** The buffer of a batch, to write an entry into. */
  static ByteBuf buf(Link.Batch b) {
    return b.buf;
  }
}
