package dev.elbus.support;

import dev.elbus.Broker;
import dev.elbus.ElbusVerticle;
import dev.elbus.Internals;
import dev.elbus.client.Bind;
import dev.elbus.impl.net.ListenerRuntime;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Brokers of one cluster in this JVM for integration tests: each node a clustered Vert.x
 * (Hazelcast on 127.0.0.1, a free port) made by {@link ElbusVerticle#clusteredVertx} and an
 * {@link ElbusVerticle} with a TCP listener (ephemeral port) and a Unix socket, configured as a
 * user would. The settings are the fast ones of docs/cluster.md (a dead member noticed in at
 * most 3 s). {@link Node#crash} stops a node's Hazelcast member without a goodbye, as a killed
 * process would.
 */
public final class TestCluster implements AutoCloseable {
  private final String name;
  private final java.util.function.BiConsumer<Integer, JsonObject> customize;
  private final List<Integer> ports = new ArrayList<>();
  private final List<Node> nodes = new ArrayList<>();

  private TestCluster(String name, java.util.function.BiConsumer<Integer, JsonObject> customize) {
    this.name = name;
    this.customize = customize;
  }

  /** Starts {@code n} nodes, one after another, each joining the ones before. */
  public static TestCluster start(String name, int n) throws Exception {
    return start(name, n, (i, c) -> { });
  }

  /**
   * Starts {@code n} nodes; {@code customize} may change node {@code i}'s configuration (the
   * JSON of conf/elbus.yaml) before it starts.
   */
  public static TestCluster start(String name, int n,
      java.util.function.BiConsumer<Integer, JsonObject> customize) throws Exception {
    TestCluster c = new TestCluster(name, customize);
    for (int i = 0; i < n; i++) {
      c.ports.add(freePort());
    }
    try {
      for (int i = 0; i < n; i++) {
        c.nodes.add(c.startNode(i));
      }
    } catch (Exception | Error e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** The configuration of node {@code i} (JSON, the schema of conf/elbus.yaml). */
  public JsonObject config(int i, Path socket) {
    JsonArray members = new JsonArray();
    for (int p : ports) {
      members.add("127.0.0.1:" + p);
    }
    JsonObject c = new JsonObject()
        .put("workers", 2)
        // broker pings every timeout: none during a test, so that raw reads see only frames
        .put("timeout", 60)
        .put("listeners", new JsonArray()
            .add(new JsonObject().put("bind", "127.0.0.1:0"))
            .add(new JsonObject().put("bind", socket.toString())))
        .put("cluster", new JsonObject()
            .put("name", name)
            .put("host", "127.0.0.1")
            .put("port", ports.get(i))
            .put("members", members)
            .put("node", "n" + (i + 1))
            .put("max_no_heartbeat", 3)
            .put("merge", 2)
            .put("timeout", 3));
    customize.accept(i, c);
    return c;
  }

  private Node startNode(int i) throws Exception {
    Path dir = Files.createTempDirectory("elbus-cluster");
    Path socket = dir.resolve("elbus.sock");
    JsonObject config = config(i, socket);
    Vertx vertx = ElbusVerticle.clusteredVertx(config, new VertxOptions()
        .setPreferNativeTransport(true).setEventLoopPoolSize(3)).await(60, TimeUnit.SECONDS);
    return deploy(i, vertx, config, dir, socket);
  }

  /**
   * Starts node {@code i} again on a clustered Vert.x made as an application makes its own (its
   * own Hazelcast configuration and HazelcastClusterManager, TCP join to the other members), with
   * a cluster section that names only the node: the verticle joins that cluster.
   */
  public Node restartOnOwnVertx(int i) throws Exception {
    Path dir = Files.createTempDirectory("elbus-cluster");
    Path socket = dir.resolve("elbus.sock");
    JsonObject config = config(i, socket);
    config.put("cluster", new JsonObject().put("node", "n" + (i + 1)).put("timeout", 3));
    com.hazelcast.config.Config hc = io.vertx.spi.cluster.hazelcast.ConfigUtil.loadConfig();
    hc.setClusterName(name);
    hc.setProperty("hazelcast.phone.home.enabled", "false");
    hc.setProperty("hazelcast.wait.seconds.before.join", "0");
    hc.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    hc.getNetworkConfig().setPort(ports.get(i)).setPortAutoIncrement(false);
    hc.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    hc.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
    hc.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    List<String> members = new ArrayList<>();
    for (int p : ports) {
      members.add("127.0.0.1:" + p);
    }
    hc.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(true).setMembers(members);
    Vertx vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(3)
            .setEventBusOptions(new io.vertx.core.eventbus.EventBusOptions().setHost("127.0.0.1")))
        .withClusterManager(new io.vertx.spi.cluster.hazelcast.HazelcastClusterManager(hc))
        .buildClustered().await(60, TimeUnit.SECONDS);
    Node n = deploy(i, vertx, config, dir, socket);
    nodes.set(i, n);
    return n;
  }

  /**
   * Undeploys node {@code i}'s broker and deploys a new one on the same clustered Vert.x (the
   * Vert.x node id stays), as an application that restarts its verticle does. The old broker's
   * messages to the other nodes of the {@code dropped} kinds (the first byte of impl.cluster's
   * Wire: 2 DELTAS, 7 BYE) are dropped on their way out, as when they are lost (with 7 the
   * others learn of the restart from the new broker alone); those of the {@code delayed} kinds
   * are sent only after {@code between} ran, once the old broker is gone (their requests time
   * out first) and before the new one starts.
   */
  public Node redeploy(int i, Runnable between, int[] dropped, int... delayed) throws Exception {
    Node old = nodes.get(i);
    List<io.vertx.core.eventbus.DeliveryContext<Object>> held =
        java.util.Collections.synchronizedList(new ArrayList<>());
    io.vertx.core.Handler<io.vertx.core.eventbus.DeliveryContext<Object>> drop = ctx -> {
      Object body = ctx.body();
      if (ctx.message().address().startsWith("elbus.node.") && body instanceof
          io.vertx.core.buffer.Buffer && ((io.vertx.core.buffer.Buffer) body).length() > 0) {
        int kind = ((io.vertx.core.buffer.Buffer) body).getByte(0);
        for (int k : dropped) {
          if (k == kind) {
            return; // never sent: the request times out
          }
        }
        for (int k : delayed) {
          if (k == kind) {
            held.add(ctx);
            return;
          }
        }
      }
      ctx.next();
    };
    old.vertx.eventBus().addOutboundInterceptor(drop);
    try {
      old.vertx.undeploy(old.deploymentId).await(60, TimeUnit.SECONDS);
    } finally {
      old.vertx.eventBus().removeOutboundInterceptor(drop);
    }
    between.run();
    synchronized (held) {
      for (io.vertx.core.eventbus.DeliveryContext<Object> ctx : held) {
        ctx.next();
      }
    }
    deleteDir(old.dir);
    Path dir = Files.createTempDirectory("elbus-cluster");
    Path socket = dir.resolve("elbus.sock");
    Node n = deploy(i, old.vertx, config(i, socket), dir, socket);
    nodes.set(i, n);
    return n;
  }

  private Node deploy(int i, Vertx vertx, JsonObject config, Path dir, Path socket)
      throws Exception {
    ElbusVerticle v = new ElbusVerticle();
    String id;
    try {
      id = vertx.deployVerticle(v, new DeploymentOptions().setConfig(config))
          .await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close().await(20, TimeUnit.SECONDS);
      throw e;
    }
    int port = -1;
    for (ListenerRuntime l : Internals.listeners(v.broker())) {
      if (l.bind().type() == Bind.Type.TCP) {
        port = l.actualPort();
      }
    }
    return new Node(i, vertx, v.broker(), dir, socket, port, id);
  }

  /** Node {@code i} (0-based). */
  public Node node(int i) {
    return nodes.get(i);
  }

  public List<Node> nodes() {
    return nodes;
  }

  /** Starts node {@code i} again after a crash (a new Vert.x node id, same ports). */
  public Node restart(int i) throws Exception {
    Node n = startNode(i);
    nodes.set(i, n);
    return n;
  }

  /** One node: its Vert.x, broker and listeners. */
  public static final class Node {
    public final int index;
    public final Vertx vertx;
    public final Broker broker;
    private final Path dir;
    public final Path socket;
    public final int port;
    private final String deploymentId;
    private boolean down;

    Node(int index, Vertx vertx, Broker broker, Path dir, Path socket, int port,
        String deploymentId) {
      this.index = index;
      this.vertx = vertx;
      this.broker = broker;
      this.dir = dir;
      this.socket = socket;
      this.port = port;
      this.deploymentId = deploymentId;
    }

    /** A raw connection over {@code t} (not yet handshaken). */
    public RawClient raw(Transport t) throws IOException {
      return RawClient.open(t, port, socket);
    }

    /** A raw connection registered as {@code name} (asserted OK). */
    public RawClient registered(Transport t, String name) throws IOException {
      return raw(t).registerAs(name, " on node " + (index + 1));
    }

    /**
     * A crash: the Hazelcast member stops at once, without leaving (the others find out as
     * they would of a killed process), then the rest of the node goes.
     */
    public void crash() throws Exception {
      Internals.hazelcastTerminate(vertx);
      stop();
    }

    /** Closes the broker and Vert.x (a graceful leave, unless crashed first). */
    public void stop() throws Exception {
      if (down) {
        return;
      }
      down = true;
      try {
        vertx.close().await(30, TimeUnit.SECONDS);
      } finally {
        deleteDir(dir);
      }
    }
  }

  private static void deleteDir(Path dir) throws IOException {
    try (var s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        Files.deleteIfExists(p);
      }
    }
    Files.deleteIfExists(dir);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws Exception {
    Exception first = null;
    for (int i = nodes.size() - 1; i >= 0; i--) {
      try {
        nodes.get(i).stop();
      } catch (Exception e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
