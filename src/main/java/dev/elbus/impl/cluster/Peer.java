package dev.elbus.impl.cluster;

import dev.elbus.impl.routing.ClientKind;
import dev.elbus.impl.routing.CloseReason;
import dev.elbus.impl.routing.Session;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;

import java.util.HashSet;

/**
 * Another node as this node knows it: what it announced (its names and subscription patterns,
 * from its snapshot and the deltas after it) and the {@link Link} frames for it take. It stands
 * in the interest index ({@code TopicIndex}) as the one subscriber of its patterns, so that a
 * topic's match lists the nodes to send a publication to; it is never registered and never
 * delivered to.
 *
 * <p>The announced state is written on the cluster's control context only; the index and the
 * replica of names it feeds are read by every event loop.
 */
final class Peer extends Session {
  final String node;
  final Link link;
  /** The start of the node's broker this state is of (a restarted broker has another). */
  final long incarnation;
  /** The node's name ({@code cluster.node}), for {@code client.list} and {@code stats}. */
  volatile String nodeName;
  // control context only
  /** The last of the node's sequence numbers applied here. */
  long applied = -1;
  final HashSet<String> patterns = new HashSet<>();
  final HashSet<String> names = new HashSet<>();

  Peer(String node, long incarnation, Link link) {
    super("node:" + node, ClientKind.INTERNAL, null, null);
    this.node = node;
    this.incarnation = incarnation;
    this.link = link;
  }

  @Override
  public int deliver(ByteBuf frame, boolean realtime) {
    frame.release();
    return Protocol.ERR_NOT_DELIVERED;
  }

  @Override
  public void disconnect(CloseReason reason) {
    // not a client
  }

  @Override
  public int queued() {
    return 0;
  }
}
