package dev.elbus.impl.routing;

import io.netty.buffer.ByteBuf;

/**
 * The other nodes of a cluster, as the {@link Router} sees them when the broker is one node of
 * several (docs/cluster.md): what the router asks about names and receivers that are not on this
 * node. {@code dev.elbus.impl.cluster} implements it; a single broker has none, and the router
 * then never calls anything here (one null check per operation).
 *
 * <p>Names starting with {@code .} belong to their node ({@code .broker}, the bridge's clients):
 * they are never claimed in the cluster and never reached from another node. The router hands
 * every other name here; the implementation decides.
 *
 * <p>Every method may be called from any thread; none blocks.
 */
public interface RemoteNodes {
  /**
   * Claims the name of a network client in the cluster (unique in the cluster; {@code force}:
   * BUS/RT force-register, a primary held elsewhere is disconnected there). {@code claimed} gets
   * OK once the name is {@code s}'s and every other node can reach it here; the caller then
   * registers it on its own thread with {@link #registerClaimed} (or gives it up with {@link
   * #abandon}). Any other code refuses the registration ({@code 76} held elsewhere, {@code 71} a
   * secondary whose primary is registered nowhere, {@code 74} no quorum).
   */
  void register(Session s, boolean force, Completion claimed);

  /**
   * Registers here ({@link Router#registerHere}) a client whose name {@link #register} claimed;
   * a refusal here gives the claim up.
   *
   * @return the registration code
   */
  int registerClaimed(Session s, boolean force);

  /** Gives up the claim of a client that went away before {@link #registerClaimed}. */
  void abandon(Session s);

  /**
   * Registers an in-process client at once (its API answers synchronously): refused with {@code
   * 76} when the name is known to be held on another node; otherwise registered here and claimed
   * in the cluster in the background. A client that loses the claim to a registration made on
   * another node at the same moment is disconnected.
   *
   * @return the registration code
   */
  int registerNow(Session s);

  /** {@code s}, registered here, is gone: its name is released in the cluster. */
  void unregistered(Session s);

  /** A client of this node subscribed to {@code pattern}: the node's interest in it counts one more. */
  void subscribed(String pattern);

  /** A client of this node dropped {@code pattern}: the node's interest in it counts one less. */
  void unsubscribed(String pattern);

  /**
   * Arranges for {@code done} to be called with OK once every other node has applied what this
   * node announced before this call (new subscription patterns, registrations): a publication
   * any node routes after that reaches the subscriptions made here before it. The wait is
   * bounded: after the implementation's timeout {@code done} is called with OK all the same;
   * and a node not yet holding this node's state (being sent it, or not answering) is not
   * waited for (docs/cluster.md, "Limits").
   *
   * @return false when nothing was outstanding ({@code done} is not called)
   */
  boolean barrier(Completion done);

  /**
   * A direct message to {@code target}, a name not registered on this node. {@code src[index..
   * index+len)} is the payload.
   *
   * @param done the sender's ack, {@code null} when it asked for none
   * @return {@code 71} when the name is registered nowhere in the cluster, or {@link
   *     Router#PENDING}: {@code done} gets the receiving node's answer (or {@code 78})
   */
  int message(Session from, String target, ByteBuf src, int index, int len, boolean realtime,
      int statBytes, Completion done);

  /** A broadcast: every other node delivers it to its clients matching {@code mask}. */
  void broadcast(Session from, String mask, ByteBuf src, int index, int len, boolean realtime,
      int statBytes);

  /**
   * A publication: {@code src[index..index+len)} is {@code topic 00 payload}. It crosses to the
   * nodes with a matching subscription.
   */
  void publish(Session from, String topic, ByteBuf src, int index, int len, boolean realtime,
      int statBytes);

  /** Publish-for (BUS/RT): crosses to the nodes with a matching subscription. */
  void publishFor(Session from, String topic, String receiver, ByteBuf src, int topicIndex,
      int topicLen, int payloadIndex, int payloadLen, boolean realtime, int statBytes);
}
