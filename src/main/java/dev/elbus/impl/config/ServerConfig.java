package dev.elbus.impl.config;

import dev.elbus.client.Bind;
import dev.elbus.config.BrokerOptions;
import dev.elbus.config.ClusterOptions;
import dev.elbus.config.InternalClientOptions;
import dev.elbus.config.ListenerOptions;
import dev.elbus.config.TlsOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The stand-alone server's configuration ({@code conf/elbus.yaml}): broker-wide settings, listener
 * defaults and the listeners. Parsed from the JSON tree vertx-config produces; every error names
 * the file, the entry and the bad value.
 *
 * <pre>
 * workers: 0             # event loops serving the listeners; 0 = number of cores
 * core_rpc: true         # .broker answers test/info/stats/client.list/benchmark.test
 * timeout: 5             # seconds: handshake deadline, ping interval, mid-frame stall limit
 * buf_size: 16384        # bytes: socket write buffer (writability high-water mark)
 * buf_ttl: 10            # microseconds: upper bound of write coalescing
 * turn_budget: 5000      # microseconds one connection's frames may hold its event loop per turn
 * queue_size: 8192       # frames waiting for a client whose socket takes nothing (see below)
 * queue_max_bytes: 134217728
 * write_timeout: 1       # seconds a socket may take nothing while queue_size frames wait
 * max_frame_size: 67108864
 * max_name_length: 65535
 * max_connections: 10000 # connections per listener; more are closed at once
 * max_handshakes: 2048   # connections in their handshake per listener; more close the oldest
 * handshake_rate: 1000   # new connections a second while more than handshake_burst are in their
 * handshake_burst: 64    #   handshake (the others wait); default 1000 on TCP, 0 (off) on Unix
 * max_topic_levels: 128  # per-client limits (docs/protocol-notes.md): input beyond gets 72
 * max_subscription_bytes: 33554432
 * max_subscriptions: 1000000
 * max_wildcard_levels: 4096
 * max_name_parts: 128
 * aaa: conf/aaa.yaml     # AAA file for every listener (absent: no AAA, everyone allowed)
 * aaa_scan_period: 1     # seconds between checks of the AAA file for changes
 * force_register: false  # BUS/RT: a new client with a taken name replaces the old one
 * idle_timeout: 0        # seconds without any input (pings included) before a close; 0 = off
 * listeners:             # each entry may override any of the settings above
 *   - bind: /tmp/elbus.sock
 *   - bind: 127.0.0.1:7777
 *   - bind: 0.0.0.0:7778 # TLS: per TCP listener only, see {@link dev.elbus.config.TlsOptions}
 *     tls: {cert: server.pem, key: server.key, ca: ca.pem, client_auth: required,
 *           name_from_cn: true, scan_period: 1}
 * bridge:                # event-bus address and bridge rules, see {@link BridgeConfig}
 *   inbound:
 *     - {topic: sensors/#, address: app.sensors}
 * cluster:               # cluster mode (docs/cluster.md); absent: a single broker
 *   name: elbus
 *   host: 127.0.0.1
 *   port: 5701
 *   members: [127.0.0.1:5701, 127.0.0.1:5702]
 * http: 127.0.0.1:9777   # monitoring endpoint (/metrics, /health, /ready); absent: none
 * </pre>
 */
public final class ServerConfig {
  private static final Set<String> LISTENER_KEYS = Set.of("bind", "timeout", "buf_size", "buf_ttl",
      "turn_budget", "queue_size", "queue_max_bytes", "write_timeout", "max_frame_size",
      "max_name_length", "aaa", "aaa_scan_period", "force_register", "idle_timeout",
      "max_connections", "max_handshakes", "handshake_rate", "handshake_burst",
      "max_topic_levels", "max_subscription_bytes", "max_subscriptions", "max_wildcard_levels",
      "max_name_parts", "tls");
  private static final Set<String> TLS_KEYS = Set.of("cert", "key", "ca", "client_auth",
      "name_from_cn", "scan_period");
  private static final Set<String> TOP_KEYS = Set.of("workers", "core_rpc", "timeout", "buf_size",
      "buf_ttl", "turn_budget", "queue_size", "queue_max_bytes", "write_timeout",
      "max_frame_size", "max_name_length", "listeners", "fifo", "pid_file", "aaa",
      "aaa_scan_period", "force_register", "idle_timeout", "max_connections", "max_handshakes",
      "handshake_rate", "handshake_burst", "max_topic_levels", "max_subscription_bytes",
      "max_subscriptions", "max_wildcard_levels", "max_name_parts", "bridge", "internal_clients",
      "http", "cluster");
  private static final Set<String> INTERNAL_KEYS = Set.of("queue_size", "queue_max_bytes",
      "overflow");
  private static final Set<String> CLUSTER_KEYS = Set.of("name", "host", "port", "members",
      "node", "bus_host", "bus_port", "heartbeat", "max_no_heartbeat", "merge", "quorum",
      "timeout", "window", "queue_max_bytes");

  private int workers;
  private boolean coreRpc = true;
  private final ListenerOptions defaults = new ListenerOptions();
  private final List<ListenerOptions> listeners = new ArrayList<>();
  private final List<String> fifos = new ArrayList<>();
  private String pidFile;
  private BridgeConfig bridge = BridgeConfig.defaults();
  private final InternalClientOptions internalClients = new InternalClientOptions();
  private ClusterOptions cluster;
  private Bind http;

  /** Workers (0 = number of cores). */
  public int workers() {
    return workers;
  }

  public ServerConfig workers(int w) {
    this.workers = w;
    return this;
  }

  /** Workers to run: {@link #workers()}, or the number of cores when that is 0. */
  public int effectiveWorkers() {
    return workers > 0 ? workers : Runtime.getRuntime().availableProcessors();
  }

  public boolean coreRpc() {
    return coreRpc;
  }

  /**
   * The broker-wide settings of this configuration: workers, {@code core_rpc}, the event-bus
   * address of {@code bridge:} and the {@code internal_clients:} defaults.
   */
  public BrokerOptions brokerOptions() {
    return new BrokerOptions().setWorkers(effectiveWorkers()).setCoreRpc(coreRpc)
        .setEventBusAddress(bridge.brokerAddress()).setInternalClients(internalClients)
        .setCluster(cluster);
  }

  /** The {@code cluster:} section; {@code null} when absent (a single broker). */
  public ClusterOptions cluster() {
    return cluster;
  }

  /** Settings new listeners start from (command-line flags change these). */
  public ListenerOptions defaults() {
    return defaults;
  }

  public List<ListenerOptions> listeners() {
    return listeners;
  }

  public List<String> fifos() {
    return fifos;
  }

  public String pidFile() {
    return pidFile;
  }

  public ServerConfig pidFile(String p) {
    this.pidFile = p;
    return this;
  }

  /** The {@code bridge:} section: the broker's event-bus address and the bridge rules. */
  public BridgeConfig bridge() {
    return bridge;
  }

  /**
   * The {@code internal_clients:} section: queue bounds and overflow policy of the broker's
   * internal clients (unset values: the defaults of {@link InternalClientOptions}).
   */
  public InternalClientOptions internalClients() {
    return internalClients;
  }

  /**
   * The monitoring endpoint's address ({@code http: HOST:PORT}, port 0: an ephemeral one), or
   * {@code null}: no HTTP port at all.
   */
  public Bind http() {
    return http;
  }

  /**
   * Parses a configuration tree.
   *
   * @param source the file name, for error messages
   * @throws IllegalArgumentException naming {@code source}, the entry and the bad value
   */
  public static ServerConfig parse(JsonObject json, String source) {
    ServerConfig c = new ServerConfig();
    for (String k : json.fieldNames()) {
      if (k.equals("tls")) {
        throw new IllegalArgumentException(source + ": tls is set per listener (listeners[N].tls),"
            + " not at the top level");
      }
      if (!TOP_KEYS.contains(k)) {
        throw new IllegalArgumentException(source + ": unknown key '" + k + "'");
      }
    }
    c.workers = (int) number(json, "workers", source + ": ", 0, 1024, 0);
    Object rpc = json.getValue("core_rpc");
    if (rpc != null && !(rpc instanceof Boolean)) {
      throw new IllegalArgumentException(source + ": core_rpc must be true or false, got '" + rpc
          + "'");
    }
    c.coreRpc = rpc == null || (Boolean) rpc;
    applyListenerSettings(json, c.defaults, source, "");
    Object ls = json.getValue("listeners");
    if (ls != null) {
      if (!(ls instanceof JsonArray)) {
        throw new IllegalArgumentException(source + ": listeners must be a list");
      }
      JsonArray arr = (JsonArray) ls;
      for (int i = 0; i < arr.size(); i++) {
        String where = "listeners[" + i + "]";
        Object e = arr.getValue(i);
        if (!(e instanceof JsonObject)) {
          throw new IllegalArgumentException(source + ": " + where + " must be a map with 'bind'");
        }
        JsonObject lj = (JsonObject) e;
        for (String k : lj.fieldNames()) {
          if (!LISTENER_KEYS.contains(k)) {
            throw new IllegalArgumentException(source + ": " + where + ": unknown key '" + k + "'");
          }
        }
        Object b = lj.getValue("bind");
        if (!(b instanceof String)) {
          throw new IllegalArgumentException(source + ": " + where + ": 'bind' is required");
        }
        Bind bind;
        try {
          bind = Bind.parse((String) b);
        } catch (IllegalArgumentException ex) {
          throw new IllegalArgumentException(source + ": " + where + ": " + ex.getMessage());
        }
        if (bind.type() == Bind.Type.FIFO) {
          c.fifos.add(bind.path());
          continue;
        }
        if (bind.isTls()) {
          throw new IllegalArgumentException(source + ": " + where + ": bind '" + b + "': a "
              + "listener gets TLS from its tls: {cert, key} settings; bind it to HOST:PORT");
        }
        ListenerOptions lo = new ListenerOptions(c.defaults).setBind(bind);
        applyListenerSettings(lj, lo, source, where + ": ");
        if (lj.containsKey("tls")) {
          lo.setTls(parseTls(lj.getValue("tls"), bind, source + ": " + where + ": "));
        }
        c.listeners.add(lo);
      }
    }
    Object fifo = json.getValue("fifo");
    if (fifo != null) {
      if (!(fifo instanceof String) || ((String) fifo).isEmpty()) {
        throw new IllegalArgumentException(source + ": fifo must be a path");
      }
      c.fifos.add((String) fifo);
    }
    Object pid = json.getValue("pid_file");
    if (pid != null) {
      if (!(pid instanceof String) || ((String) pid).isEmpty()) {
        throw new IllegalArgumentException(source + ": pid_file must be a path");
      }
      c.pidFile = (String) pid;
    }
    c.http = parseHttp(json.getValue("http"), source);
    c.bridge = BridgeConfig.parse(json.getValue("bridge"), source);
    parseInternalClients(json.getValue("internal_clients"), c.internalClients, source);
    c.cluster = parseCluster(json.getValue("cluster"), source);
    return c;
  }

  /** The {@code cluster:} section (docs/cluster.md), {@code null} when absent. */
  private static ClusterOptions parseCluster(Object section, String source) {
    if (section == null) {
      return null;
    }
    String w = source + ": cluster: ";
    if (!(section instanceof JsonObject)) {
      throw new IllegalArgumentException(source + ": cluster must be a map");
    }
    JsonObject j = (JsonObject) section;
    for (String k : j.fieldNames()) {
      if (!CLUSTER_KEYS.contains(k)) {
        throw new IllegalArgumentException(w + "unknown key '" + k + "'");
      }
    }
    ClusterOptions o = new ClusterOptions();
    if (j.containsKey("name")) {
      o.setName(string(j, "name", w));
    }
    if (j.containsKey("host")) {
      o.setHost(string(j, "host", w));
    }
    if (j.containsKey("port")) {
      o.setPort((int) number(j, "port", w, 1, 65535, 0));
    }
    if (j.containsKey("members")) {
      Object m = j.getValue("members");
      if (!(m instanceof JsonArray)) {
        throw new IllegalArgumentException(w + "members must be a list of HOST:PORT");
      }
      List<String> members = new ArrayList<>();
      for (Object e : (JsonArray) m) {
        if (!(e instanceof String) || ((String) e).isEmpty()) {
          throw new IllegalArgumentException(w + "members must be a list of HOST:PORT, got '"
              + e + "'");
        }
        members.add(member((String) e, w));
      }
      o.setMembers(members);
    }
    if (j.containsKey("node")) {
      o.setNodeName(string(j, "node", w));
    }
    if (j.containsKey("bus_host")) {
      o.setBusHost(string(j, "bus_host", w));
    }
    if (j.containsKey("bus_port")) {
      o.setBusPort((int) number(j, "bus_port", w, 0, 65535, 0));
    }
    if (j.containsKey("heartbeat")) {
      o.setHeartbeatSeconds((int) number(j, "heartbeat", w, 1, 3600, 0));
    }
    if (j.containsKey("max_no_heartbeat")) {
      o.setMaxNoHeartbeatSeconds((int) number(j, "max_no_heartbeat", w, 1, 86_400, 0));
    }
    if (j.containsKey("merge")) {
      o.setMergeSeconds((int) number(j, "merge", w, 1, 86_400, 0));
    }
    if (j.containsKey("quorum")) {
      long q = number(j, "quorum", w, 0, 1024, 0);
      if (q == 1) {
        throw new IllegalArgumentException(w + "quorum must be 0 (off) or at least 2, got 1");
      }
      o.setQuorum((int) q);
    }
    if (j.containsKey("timeout")) {
      o.setTimeoutMs(millis(j, "timeout", w));
    }
    if (j.containsKey("window")) {
      o.setWindowBytes(number(j, "window", w, 1, Long.MAX_VALUE, 0));
    }
    if (j.containsKey("queue_max_bytes")) {
      o.setQueueMaxBytes(number(j, "queue_max_bytes", w, 1, Long.MAX_VALUE, 0));
    }
    if (o.getHeartbeatSeconds() >= o.getMaxNoHeartbeatSeconds()) {
      throw new IllegalArgumentException(w + "max_no_heartbeat (" + o.getMaxNoHeartbeatSeconds()
          + ") must be more than heartbeat (" + o.getHeartbeatSeconds() + ")");
    }
    return o;
  }

  /** Seconds (decimals allowed, more than 0, at most a day) as milliseconds, at least 1. */
  private static long millis(JsonObject j, String key, String where) {
    double t = decimal(j, key, where);
    if (!(t > 0) || t > 86_400) {
      throw new IllegalArgumentException(where + key + " must be more than 0 and at most 86400 "
          + "seconds, got " + t);
    }
    return Math.max(1, Math.round(t * 1000));
  }

  /** A cluster member {@code HOST[:PORT]}, checked; returned as given. */
  public static String member(String m, String where) {
    int colon = m.lastIndexOf(':');
    if (m.startsWith("[") ? colon > m.indexOf(']') : colon >= 0) {
      String p = m.substring(colon + 1);
      int port;
      try {
        port = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 1 || port > 65535 || colon == 0) {
        throw new IllegalArgumentException(where + "member '" + m + "' is not HOST:PORT");
      }
    }
    return m;
  }

  private static String string(JsonObject j, String key, String where) {
    Object v = j.getValue(key);
    if (!(v instanceof String) || ((String) v).isEmpty()) {
      throw new IllegalArgumentException(where + key + " must be a non-empty string, got '" + v
          + "'");
    }
    return (String) v;
  }

  /** {@code http: HOST:PORT}: a TCP address; absent or null: no endpoint. */
  private static Bind parseHttp(Object v, String source) {
    if (v == null) {
      return null;
    }
    String bad = source + ": http must be HOST:PORT (e.g. 127.0.0.1:9777), got '" + v + "'";
    if (!(v instanceof String)) {
      throw new IllegalArgumentException(bad);
    }
    Bind b;
    try {
      b = Bind.parse((String) v);
    } catch (IllegalArgumentException e) {
      if (e.getMessage().contains("port out of range")) {
        throw new IllegalArgumentException(source + ": http port out of range 0-65535, got '" + v
            + "'");
      }
      throw new IllegalArgumentException(bad);
    }
    if (b.type() != Bind.Type.TCP || b.host().isEmpty()) {
      throw new IllegalArgumentException(bad);
    }
    return b;
  }

  /** A listener's {@code tls:} map ({@link TlsOptions}); {@code w} names the listener. */
  private static TlsOptions parseTls(Object section, Bind bind, String w) {
    if (section == null) {
      return null;
    }
    if (!(section instanceof JsonObject)) {
      throw new IllegalArgumentException(w + "tls must be a map with cert and key");
    }
    if (bind.type() != Bind.Type.TCP) {
      throw new IllegalArgumentException(w + "tls is for TCP listeners; " + bind
          + " is a Unix socket (its file permissions protect it)");
    }
    JsonObject j = (JsonObject) section;
    String tw = w + "tls: ";
    for (String k : j.fieldNames()) {
      if (!TLS_KEYS.contains(k)) {
        throw new IllegalArgumentException(tw + "unknown key '" + k + "'");
      }
    }
    TlsOptions t = new TlsOptions().setCert(path(j, "cert", tw)).setKey(path(j, "key", tw))
        .setCa(path(j, "ca", tw));
    if (j.containsKey("client_auth")) {
      Object v = j.getValue("client_auth");
      TlsOptions.ClientAuth a = null;
      for (TlsOptions.ClientAuth c : TlsOptions.ClientAuth.values()) {
        if (c.key().equals(v)) {
          a = c;
        }
      }
      if (a == null) {
        throw new IllegalArgumentException(tw + "client_auth must be none, request or required, "
            + "got '" + v + "'");
      }
      t.setClientAuth(a);
    }
    if (j.containsKey("name_from_cn")) {
      Object f = j.getValue("name_from_cn");
      if (!(f instanceof Boolean)) {
        throw new IllegalArgumentException(tw + "name_from_cn must be true or false, got '" + f
            + "'");
      }
      t.setNameFromCn((Boolean) f);
    }
    if (j.containsKey("scan_period")) {
      double p = decimal(j, "scan_period", tw);
      if (!(p > 0) || p > 86_400) {
        throw new IllegalArgumentException(tw + "scan_period must be more than 0 and at most "
            + "86400 seconds, got " + p);
      }
      t.setScanPeriodMs(Math.max(1, Math.round(p * 1000)));
    }
    try {
      t.validate();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(w + e.getMessage());
    }
    return t;
  }

  /** An optional file path; {@code null} when absent. */
  private static String path(JsonObject j, String key, String where) {
    Object v = j.getValue(key);
    if (v != null && (!(v instanceof String) || ((String) v).isEmpty())) {
      throw new IllegalArgumentException(where + key + " must be the path of a PEM file, got '"
          + v + "'");
    }
    return (String) v;
  }

  private static void parseInternalClients(Object section, InternalClientOptions o,
      String source) {
    if (section == null) {
      return;
    }
    String w = source + ": internal_clients: ";
    if (!(section instanceof JsonObject)) {
      throw new IllegalArgumentException(source + ": internal_clients must be a map");
    }
    JsonObject j = (JsonObject) section;
    for (String k : j.fieldNames()) {
      if (!INTERNAL_KEYS.contains(k)) {
        throw new IllegalArgumentException(w + "unknown key '" + k + "'");
      }
    }
    if (j.containsKey("queue_size")) {
      o.setQueueSize((int) number(j, "queue_size", w, 1, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("queue_max_bytes")) {
      o.setQueueMaxBytes(number(j, "queue_max_bytes", w, 1, Long.MAX_VALUE, 0));
    }
    if (j.containsKey("overflow")) {
      Object v = j.getValue("overflow");
      InternalClientOptions.Overflow p = null;
      for (InternalClientOptions.Overflow c : InternalClientOptions.Overflow.values()) {
        if (c.key().equals(v)) {
          p = c;
        }
      }
      if (p == null) {
        throw new IllegalArgumentException(w + "overflow must be refuse or disconnect, got '" + v
            + "'");
      }
      o.setOverflow(p);
    }
  }

  private static void applyListenerSettings(JsonObject j, ListenerOptions lo, String source,
      String where) {
    String w = source + ": " + where;
    if (j.containsKey("timeout")) {
      double t = decimal(j, "timeout", w);
      if (!(t > 0) || t > 86_400) {
        throw new IllegalArgumentException(w + "timeout must be more than 0 and at most 86400 "
            + "seconds, got " + t);
      }
      lo.setTimeoutMs(Math.max(1, Math.round(t * 1000)));
    }
    if (j.containsKey("buf_size")) {
      lo.setBufSize((int) number(j, "buf_size", w, 1, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("buf_ttl")) {
      lo.setBufTtlUs(number(j, "buf_ttl", w, 0, Long.MAX_VALUE, 0));
    }
    if (j.containsKey("turn_budget")) {
      lo.setTurnBudgetUs(number(j, "turn_budget", w, 0, 1_000_000, 0));
    }
    if (j.containsKey("queue_size")) {
      lo.setQueueSize((int) number(j, "queue_size", w, 1, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("queue_max_bytes")) {
      lo.setQueueMaxBytes(number(j, "queue_max_bytes", w, 1, Long.MAX_VALUE, 0));
    }
    if (j.containsKey("write_timeout")) {
      double t = decimal(j, "write_timeout", w);
      if (!(t > 0) || t > 86_400) {
        throw new IllegalArgumentException(w + "write_timeout must be more than 0 and at most "
            + "86400 seconds, got " + t);
      }
      lo.setWriteTimeoutMs(Math.max(1, Math.round(t * 1000)));
    }
    if (j.containsKey("max_frame_size")) {
      lo.setMaxFrameSize((int) number(j, "max_frame_size", w, 1, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("aaa")) {
      Object a = j.getValue("aaa");
      if (a != null && (!(a instanceof String) || ((String) a).isEmpty())) {
        throw new IllegalArgumentException(w + "aaa must be the path of an AAA file, got '" + a
            + "'");
      }
      lo.setAaaFile((String) a);
    }
    if (j.containsKey("aaa_scan_period")) {
      double t = decimal(j, "aaa_scan_period", w);
      if (!(t > 0) || t > 86_400) {
        throw new IllegalArgumentException(w + "aaa_scan_period must be more than 0 and at most "
            + "86400 seconds, got " + t);
      }
      lo.setAaaScanPeriodMs(Math.max(1, Math.round(t * 1000)));
    }
    if (j.containsKey("force_register")) {
      Object f = j.getValue("force_register");
      if (!(f instanceof Boolean)) {
        throw new IllegalArgumentException(w + "force_register must be true or false, got '" + f
            + "'");
      }
      lo.setForceRegister((Boolean) f);
    }
    if (j.containsKey("idle_timeout")) {
      double t = decimal(j, "idle_timeout", w);
      if (t < 0 || t > 86_400) {
        throw new IllegalArgumentException(w + "idle_timeout must be 0 (off) to 86400 seconds, got "
            + t);
      }
      lo.setIdleTimeoutMs(Math.round(t * 1000));
    }
    if (j.containsKey("max_connections")) {
      lo.setMaxConnections((int) number(j, "max_connections", w, 1, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("max_handshakes")) {
      lo.setMaxHandshakes((int) number(j, "max_handshakes", w, 1, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("handshake_rate")) {
      lo.setHandshakeRate((int) number(j, "handshake_rate", w, 0, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("handshake_burst")) {
      lo.setHandshakeBurst((int) number(j, "handshake_burst", w, 0, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("max_topic_levels")) {
      lo.setMaxTopicLevels((int) number(j, "max_topic_levels", w, 1, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("max_subscription_bytes")) {
      lo.setMaxSubscriptionBytes(number(j, "max_subscription_bytes", w, 1, Long.MAX_VALUE, 0));
    }
    if (j.containsKey("max_subscriptions")) {
      lo.setMaxSubscriptions((int) number(j, "max_subscriptions", w, 1, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("max_wildcard_levels")) {
      lo.setMaxWildcardLevels((int) number(j, "max_wildcard_levels", w, 0, Integer.MAX_VALUE,
          0));
    }
    if (j.containsKey("max_name_parts")) {
      lo.setMaxNameParts((int) number(j, "max_name_parts", w, 1, Integer.MAX_VALUE, 0));
    }
    if (j.containsKey("max_name_length")) {
      lo.setMaxNameLength((int) number(j, "max_name_length", w, 1, 65535, 0));
    }
  }

  private static long number(JsonObject j, String key, String where, long min, long max,
      long dflt) {
    Object v = j.getValue(key);
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof Number) || v instanceof Double || v instanceof Float) {
      throw new IllegalArgumentException(where + key + " must be an integer, got '" + v + "'");
    }
    long n = ((Number) v).longValue();
    if (n < min || n > max) {
      throw new IllegalArgumentException(where + key + " must be " + min + ".." + max + ", got "
          + n);
    }
    return n;
  }

  private static double decimal(JsonObject j, String key, String where) {
    Object v = j.getValue(key);
    if (!(v instanceof Number)) {
      throw new IllegalArgumentException(where + key + " must be a number, got '" + v + "'");
    }
    return ((Number) v).doubleValue();
  }
}
