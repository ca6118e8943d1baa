package dev.elbus.impl.routing;

import dev.elbus.aaa.AccessRights;
import dev.elbus.impl.codec.FrameEncoder;
import dev.elbus.protocol.Masks;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A registered client as the routing core sees it: a name, counters, subscriptions, and a sink
 * ({@link #deliver}) whose implementation decides how frames reach the client (a socket, a Java
 * handler, an event-bus address). Routing code may call {@link #deliver} from any thread.
 */
public abstract class Session {
  /**
   * Memory a queued frame costs besides its bytes (the buffer object and the queue slot), counted
   * against a queue's byte bound so that the bound holds for tiny frames too.
   */
  public static final int QUEUED_FRAME_OVERHEAD = 64;

  private final String name;
  private final byte[] nameBytes;
  private final String primaryName;
  private final ClientKind kind;
  private final String source;
  private final String port;

  /** What this client may do; {@code null}: everything (no AAA on its listener). */
  private volatile AccessRights rights;
  /** The primary of a secondary client; set on registration. */
  private volatile Session primary;
  /** Secondaries of a primary (empty for a secondary). */
  final CopyOnWriteArrayList<Session> secondaries = new CopyOnWriteArrayList<>();
  /** Subscription patterns as the client sent them. */
  final Set<String> subscriptions = ConcurrentHashMap.newKeySet();
  /** Exclusion patterns (BUS/RT) as the client sent them. */
  final Set<String> exclusions = ConcurrentHashMap.newKeySet();

  /** The bounds on this client's input ({@link ClientLimits#NONE}: none). */
  private volatile ClientLimits limits = ClientLimits.NONE;
  // what the subscriptions and exclusions hold, against the limits (written by the thread that
  // handles the client's input)
  final AtomicLong patternBytes = new AtomicLong();
  final AtomicLong wildcardLevels = new AtomicLong();
  /** Bit per {@link Limit} ordinal: this client's first refusal by it was logged. */
  private final java.util.concurrent.atomic.AtomicInteger refusalsLogged =
      new java.util.concurrent.atomic.AtomicInteger();

  // r_* are written by the thread that handles this client's input; w_* by any router thread
  final AtomicLong rFrames = new AtomicLong();
  final AtomicLong rBytes = new AtomicLong();
  final AtomicLong wFrames = new AtomicLong();
  final AtomicLong wBytes = new AtomicLong();

  protected Session(String name, ClientKind kind, String source, String port) {
    this.name = name;
    this.nameBytes = name.getBytes(StandardCharsets.UTF_8);
    int sep = name.indexOf(dev.elbus.protocol.Protocol.SECONDARY_SEP);
    this.primaryName = sep < 0 ? name : name.substring(0, sep);
    this.kind = kind;
    this.source = source;
    this.port = port;
  }

  /**
   * Hands one frame to this client. Takes ownership of {@code frame} (one reference), whatever
   * the outcome.
   *
   * <p>The buffer may be shared with the other receivers of the same broadcast or publication
   * (each holds its own reference): read it by absolute index from its reader index, never move
   * its indexes or change its bytes, and hand a {@code duplicate()} to anything that does (a
   * channel write moves the reader index).
   *
   * @param frame a complete broker frame (header and body), never mutated afterwards
   * @param realtime the frame must not wait for write coalescing
   * @return {@code RESPONSE_OK}, or {@code ERR_NOT_DELIVERED} when the client cannot take it (its
   *     queue overflowed: it is being disconnected)
   */
  public abstract int deliver(ByteBuf frame, boolean realtime);

  /**
   * Hands this client the ack {@code FE <opId> <code>}, as {@link #deliver} would a frame
   * encoded with {@code alloc}; a transport may write it straight into its own buffer instead.
   */
  public int deliverAck(ByteBufAllocator alloc, int opId, int code, boolean realtime) {
    return deliver(FrameEncoder.ack(alloc, opId, code), realtime);
  }

  /** Closes this client's connection (or detaches an internal client) for {@code reason}. */
  public abstract void disconnect(CloseReason reason);

  /** Frames accepted for this client and not yet handed to its transport. */
  public abstract int queued();

  /**
   * Frames this client did not take because its queue was full, while it stayed registered (an
   * internal client whose overflow policy refuses frames); 0 for every other client.
   */
  public long dropped() {
    return 0;
  }

  /** True when nothing accepted for this client is still waiting to be written (approximate). */
  public boolean flushed() {
    return queued() == 0;
  }

  public final String name() {
    return name;
  }

  /** The UTF-8 bytes of the full name: the {@code sender} field of frames it sends. */
  public final byte[] nameBytes() {
    return nameBytes;
  }

  /** The name before {@code %%}: the primary's name (this name for a primary). */
  public final String primaryName() {
    return primaryName;
  }

  public final boolean isSecondary() {
    return primaryName.length() != name.length();
  }

  public final Session primary() {
    return primary;
  }

  final void primary(Session p) {
    this.primary = p;
  }

  /** The client's access rights, {@code null} when unrestricted. */
  public final AccessRights rights() {
    return rights;
  }

  /** Sets the rights the client registered with (before it is registered). */
  public final void rights(AccessRights r) {
    this.rights = r;
  }

  /** The bounds on this client's input. */
  public final ClientLimits limits() {
    return limits;
  }

  /** Sets the bounds on this client's input (before it is registered). */
  public final void limits(ClientLimits l) {
    this.limits = java.util.Objects.requireNonNull(l);
  }

  /** Marks {@code l} as logged for this client; true the first time only. */
  final boolean firstRefusal(Limit l) {
    int bit = 1 << l.ordinal();
    int v;
    do {
      v = refusalsLogged.get();
      if ((v & bit) != 0) {
        return false;
      }
    } while (!refusalsLogged.compareAndSet(v, v | bit));
    return true;
  }

  /** A client name for a log line: long names (up to 64 KiB) are cut. */
  public static String display(String name) {
    return name.length() <= 80 ? name : name.substring(0, 64) + "...(" + name.length()
        + " chars)";
  }

  /** What the client connected through (its listener), {@code null} for internal clients. */
  public Object origin() {
    return null;
  }

  public final ClientKind kind() {
    return kind;
  }

  /** TCP peer {@code ip:port}, else {@code null}. */
  public final String source() {
    return source;
  }

  /** The listener the client came through, {@code null} for internal clients. */
  public final String port() {
    return port;
  }

  /** Number of registered secondaries of this primary. */
  public final int secondaryCount() {
    return secondaries.size();
  }

  public final Set<String> subscriptions() {
    return java.util.Collections.unmodifiableSet(subscriptions);
  }

  /** Counts a frame received from this client (not pings) with its body length. */
  final void countRead(int bodyBytes) {
    rFrames.incrementAndGet();
    rBytes.addAndGet(bodyBytes);
  }

  final void countWrite(long bodyBytes) {
    wFrames.incrementAndGet();
    wBytes.addAndGet(bodyBytes);
  }

  public final long rFrames() {
    return rFrames.get();
  }

  public final long rBytes() {
    return rBytes.get();
  }

  public final long wFrames() {
    return wFrames.get();
  }

  public final long wBytes() {
    return wBytes.get();
  }

  @Override
  public String toString() {
    return name;
  }
}
