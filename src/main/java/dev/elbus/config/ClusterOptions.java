package dev.elbus.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Cluster mode (docs/cluster.md): brokers with the same cluster {@linkplain #getName name} form
 * one bus over the clustered Vert.x event bus with Hazelcast. Set on {@link
 * BrokerOptions#setCluster}; the {@code cluster:} section of {@code conf/elbus.yaml} is the same.
 *
 * <p>Two groups of settings. The Hazelcast member and the event bus ({@link #getHost}, {@link
 * #getPort}, {@link #getMembers}, {@link #getBusHost}, {@link #getBusPort}, the heartbeat, merge
 * and quorum settings) build the clustered Vert.x when the broker creates it (the stand-alone
 * server, {@code ElbusVerticle.clusteredVertx}); a Vert.x an application clustered itself keeps
 * its own. The others ({@link #getNodeName}, {@link #getTimeoutMs}, the window and queue bounds)
 * are the broker's and always apply.
 */
public final class ClusterOptions {
  /** Default cluster name. */
  public static final String DEFAULT_NAME = "elbus";
  /** Default Hazelcast member port. */
  public static final int DEFAULT_PORT = 5701;
  /** Default heartbeat interval, seconds. */
  public static final int DEFAULT_HEARTBEAT_SECONDS = 1;
  /** Default time without a heartbeat after which a member is declared dead, seconds. */
  public static final int DEFAULT_MAX_NO_HEARTBEAT_SECONDS = 10;
  /** Default period of the split-brain merge check, seconds. */
  public static final int DEFAULT_MERGE_SECONDS = 5;
  /** Default time a node waits for another node's answer (ack 78 after it), milliseconds. */
  public static final long DEFAULT_TIMEOUT_MS = 5_000;
  /** Default bytes of frames in flight to one node (sent, not yet answered). */
  public static final long DEFAULT_WINDOW_BYTES = 8L << 20;
  /** Default bytes of frames waiting for the window of one node before frames are refused. */
  public static final long DEFAULT_QUEUE_MAX_BYTES = 64L << 20;

  private String name = DEFAULT_NAME;
  private String host = "127.0.0.1";
  private int port = DEFAULT_PORT;
  private List<String> members = new ArrayList<>();
  private String busHost;
  private int busPort;
  private String nodeName;
  private int heartbeatSeconds = DEFAULT_HEARTBEAT_SECONDS;
  private int maxNoHeartbeatSeconds = DEFAULT_MAX_NO_HEARTBEAT_SECONDS;
  private int mergeSeconds = DEFAULT_MERGE_SECONDS;
  private int quorum;
  private long timeoutMs = DEFAULT_TIMEOUT_MS;
  private long windowBytes = DEFAULT_WINDOW_BYTES;
  private long queueMaxBytes = DEFAULT_QUEUE_MAX_BYTES;

  public ClusterOptions() {}

  public ClusterOptions(ClusterOptions o) {
    this.name = o.name;
    this.host = o.host;
    this.port = o.port;
    this.members = new ArrayList<>(o.members);
    this.busHost = o.busHost;
    this.busPort = o.busPort;
    this.nodeName = o.nodeName;
    this.heartbeatSeconds = o.heartbeatSeconds;
    this.maxNoHeartbeatSeconds = o.maxNoHeartbeatSeconds;
    this.mergeSeconds = o.mergeSeconds;
    this.quorum = o.quorum;
    this.timeoutMs = o.timeoutMs;
    this.windowBytes = o.windowBytes;
    this.queueMaxBytes = o.queueMaxBytes;
  }

  /** Brokers with the same cluster name form one cluster (Hazelcast's cluster name). */
  public String getName() {
    return name;
  }

  public ClusterOptions setName(String name) {
    this.name = nonEmpty(name, "cluster name");
    return this;
  }

  /**
   * The address of this node's cluster traffic: the interface Hazelcast binds and announces (an
   * IP address or a host name resolving to one of this machine's addresses); default {@code
   * 127.0.0.1}.
   */
  public String getHost() {
    return host;
  }

  public ClusterOptions setHost(String host) {
    this.host = nonEmpty(host, "cluster host");
    return this;
  }

  /** This node's Hazelcast member port (never incremented: a taken port fails the start). */
  public int getPort() {
    return port;
  }

  public ClusterOptions setPort(int port) {
    this.port = port(port, "cluster port", false);
    return this;
  }

  /**
   * The TCP join list, {@code HOST:PORT} (or {@code HOST}, port 5701) of members to join; this
   * node may be in it. No multicast: an empty list starts a cluster of one that others join.
   */
  public List<String> getMembers() {
    return members;
  }

  public ClusterOptions setMembers(List<String> members) {
    List<String> copy = new ArrayList<>();
    for (String m : Objects.requireNonNull(members, "members")) {
      copy.add(nonEmpty(m, "cluster member"));
    }
    this.members = copy;
    return this;
  }

  /** The event bus's host (Vert.x's cluster connections); {@code null}: {@link #getHost}. */
  public String getBusHost() {
    return busHost;
  }

  public ClusterOptions setBusHost(String busHost) {
    this.busHost = busHost == null ? null : nonEmpty(busHost, "bus host");
    return this;
  }

  /** The event bus's port; 0 (default): chosen by the system, published through Hazelcast. */
  public int getBusPort() {
    return busPort;
  }

  public ClusterOptions setBusPort(int busPort) {
    this.busPort = port(busPort, "bus port", true);
    return this;
  }

  /**
   * This node's name in {@code client.list} and {@code stats}; {@code null} (default): the
   * Hazelcast member address, {@code HOST:PORT}.
   */
  public String getNodeName() {
    return nodeName;
  }

  public ClusterOptions setNodeName(String nodeName) {
    this.nodeName = nodeName == null ? null : nonEmpty(nodeName, "node name");
    return this;
  }

  /** Hazelcast heartbeat interval, seconds (default 1). */
  public int getHeartbeatSeconds() {
    return heartbeatSeconds;
  }

  public ClusterOptions setHeartbeatSeconds(int s) {
    this.heartbeatSeconds = positive(s, "heartbeat");
    return this;
  }

  /**
   * Seconds without a heartbeat after which a member is declared dead (default 10): with the
   * heartbeat interval, the bound on noticing a hung node or a partition. A killed process on
   * a reachable host is noticed sooner (its connections are refused, about 0.4 s).
   */
  public int getMaxNoHeartbeatSeconds() {
    return maxNoHeartbeatSeconds;
  }

  public ClusterOptions setMaxNoHeartbeatSeconds(int s) {
    this.maxNoHeartbeatSeconds = positive(s, "max_no_heartbeat");
    return this;
  }

  /** Seconds between Hazelcast's checks for another part of a split cluster (default 5). */
  public int getMergeSeconds() {
    return mergeSeconds;
  }

  public ClusterOptions setMergeSeconds(int s) {
    this.mergeSeconds = positive(s, "merge");
    return this;
  }

  /**
   * Split-brain protection of the names: registrations (and the release of dead nodes' names)
   * need at least this many members on this side; 0 (default): off.
   */
  public int getQuorum() {
    return quorum;
  }

  public ClusterOptions setQuorum(int quorum) {
    if (quorum < 0 || quorum == 1) {
      throw new IllegalArgumentException("quorum must be 0 (off) or at least 2: " + quorum);
    }
    this.quorum = quorum;
    return this;
  }

  /**
   * How long a node waits for another node's answer, milliseconds (default 5000): an acked
   * message forwarded to another node and not answered within it is acked {@code 78}.
   */
  public long getTimeoutMs() {
    return timeoutMs;
  }

  public ClusterOptions setTimeoutMs(long timeoutMs) {
    if (timeoutMs <= 0) {
      throw new IllegalArgumentException("cluster timeout must be positive: " + timeoutMs);
    }
    this.timeoutMs = timeoutMs;
    return this;
  }

  /** Bytes of frames in flight to one node at most (sent, not yet answered); default 8 MiB. */
  public long getWindowBytes() {
    return windowBytes;
  }

  public ClusterOptions setWindowBytes(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("cluster window must be positive: " + bytes);
    }
    this.windowBytes = bytes;
    return this;
  }

  /**
   * Bytes of frames waiting for one node's window at most (default 64 MiB); past it frames for
   * that node are refused (a direct sender gets {@code 77}) and counted.
   */
  public long getQueueMaxBytes() {
    return queueMaxBytes;
  }

  public ClusterOptions setQueueMaxBytes(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("cluster queue_max_bytes must be positive: " + bytes);
    }
    this.queueMaxBytes = bytes;
    return this;
  }

  private static String nonEmpty(String s, String what) {
    if (s == null || s.isEmpty()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
    return s;
  }

  private static int port(int p, String what, boolean zero) {
    if (p < (zero ? 0 : 1) || p > 65535) {
      throw new IllegalArgumentException(what + " must be " + (zero ? 0 : 1) + "..65535: " + p);
    }
    return p;
  }

  private static int positive(int s, String what) {
    if (s <= 0) {
      throw new IllegalArgumentException(what + " must be a positive number of seconds: " + s);
    }
    return s;
  }
}
