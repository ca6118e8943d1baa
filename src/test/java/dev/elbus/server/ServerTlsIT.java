package dev.elbus.server;

import dev.elbus.client.ClientOptions;
import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.client.NetworkClient;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcHandler;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestCerts;
import dev.elbus.support.TestCerts.Issued;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The issue's "done when" for TLS, with processes: the stand-alone server (the fat jar) with a
 * TLS listener, a mutual-TLS listener and a plain TCP listener from one configuration file; the
 * CLI as a process and the Java client over TLS; and plain-socket Python and Node.js clients
 * ({@code plain_peer.py}, {@code plain_peer.js}: the upstream clients' wire behaviour, written
 * apart from this project's Java code) on the plain listener of the same broker, exchanging
 * messages with the TLS clients.
 */
@ExtendWith(LeakGate.class)
class ServerTlsIT {
  private static final long TIMEOUT_S = 30;

  @Test
  void tlsListenersServeTheCliAndJavaClientWhileThePlainListenerServesPlainClients(
      @TempDir Path dir) throws Exception {
    TestCerts certs = TestCerts.create(dir);
    Issued server = certs.server("server");
    Issued plc1 = certs.client("plc1", "plc1");
    int tls = ServerProcess.freePort();
    int plain = ServerProcess.freePort();
    int mutual = ServerProcess.freePort();
    Path conf = Files.writeString(dir.resolve("elbus.yaml"), String.join("\n",
        "workers: 1",
        "listeners:",
        "  - bind: 127.0.0.1:" + tls,
        "    tls:",
        "      cert: " + server.cert(),
        "      key: " + server.key(),
        "  - bind: 127.0.0.1:" + plain,
        "  - bind: 127.0.0.1:" + mutual,
        "    tls: {cert: " + server.cert() + ", key: " + server.key() + ", ca: "
            + certs.caPem() + ", client_auth: required, name_from_cn: true}",
        ""));
    String ca = certs.caPem().toString();
    Vertx vertx = Vertx.vertx();
    try (ServerProcess srv = ServerProcess.start("-c", conf.toString())) {
      assertThat(srv.awaitLine("elbus broker started", 30_000)).as(srv.output().toString())
          .isTrue();

      // the Java client over TLS: one collecting what it receives, one answering an RPC method
      ClientOptions trusting = new ClientOptions().setTlsCa(ca);
      NetworkClient java = NetworkClient.connect(vertx, "tls://127.0.0.1:" + tls, "java.tls",
          trusting).await(TIMEOUT_S, TimeUnit.SECONDS);
      BlockingQueue<Frame> javaIn = new LinkedBlockingQueue<>();
      java.frameHandler(javaIn::add);
      java.subscribe("proc/#").await(TIMEOUT_S, TimeUnit.SECONDS);
      NetworkClient javaRpc = NetworkClient.connect(vertx, "tls://127.0.0.1:" + tls,
          "java.rpc", trusting).await(TIMEOUT_S, TimeUnit.SECONDS);
      new RpcClient(vertx, javaRpc)
          .handler("hello", RpcHandler.sync(e -> Buffer.buffer("hello, " + e.sender())));

      // the plain Python and Node.js clients on the plain listener of the same broker
      try (PlainPeer py = PlainPeer.start(dir, PlainPeer.Lang.PYTHON, "127.0.0.1:" + plain,
          "py.plain", "proc/#", "java.tls");
           PlainPeer js = PlainPeer.start(dir, PlainPeer.Lang.NODE, "127.0.0.1:" + plain,
               "js.plain", "proc/#", "java.tls")) {
        assertThat(py.line()).isEqualTo("READY");
        assertThat(js.line()).isEqualTo("READY");

        // the CLI process publishes over TLS: the plain clients and the Java client get it
        assertThat(cli("tls://127.0.0.1:" + tls, "--tls-ca", ca, "-n", "cli.pub", "publish",
            "proc/t1", "21.5")).containsExactly("exit 0");
        assertThat(py.line()).isEqualTo("PUBLISH cli.pub proc/t1 21.5");
        assertThat(js.line()).isEqualTo("PUBLISH cli.pub proc/t1 21.5");
        Frame pub = javaIn.poll(TIMEOUT_S, TimeUnit.SECONDS);
        assertThat(pub).isNotNull();
        assertThat(pub.kind()).isEqualTo(FrameKind.PUBLISH);
        assertThat(pub.sender()).isEqualTo("cli.pub");

        // the Java TLS client sends to each plain client, which answers it
        java.send("py.plain", Buffer.buffer("hi python"), QoS.PROCESSED)
            .await(TIMEOUT_S, TimeUnit.SECONDS);
        java.send("js.plain", Buffer.buffer("hi node"), QoS.PROCESSED)
            .await(TIMEOUT_S, TimeUnit.SECONDS);
        assertThat(py.line()).isEqualTo("MESSAGE java.tls hi python");
        assertThat(py.line()).isEqualTo("OK");
        assertThat(js.line()).isEqualTo("MESSAGE java.tls hi node");
        assertThat(js.line()).isEqualTo("OK");
        Map<String, String> replies = new HashMap<>();
        for (int i = 0; i < 2; i++) {
          Frame reply = javaIn.poll(TIMEOUT_S, TimeUnit.SECONDS);
          assertThat(reply).isNotNull();
          assertThat(reply.kind()).isEqualTo(FrameKind.MESSAGE);
          replies.put(reply.sender(), reply.payload().toString(StandardCharsets.UTF_8));
        }
        assertThat(replies).containsOnly(Map.entry("py.plain", "hello from python"),
            Map.entry("js.plain", "hello from node"));
        py.assertExitedOk();
        js.assertExitedOk();
      }

      // the CLI sends and calls over TLS
      assertThat(cli("tls://127.0.0.1:" + tls, "--tls-ca", ca, "-n", "cli.send", "send",
          "java.tls", "direct")).containsExactly("exit 0");
      Frame direct = javaIn.poll(TIMEOUT_S, TimeUnit.SECONDS);
      assertThat(direct).isNotNull();
      assertThat(direct.payload().toString(StandardCharsets.UTF_8)).isEqualTo("direct");
      assertThat(cli("tls://127.0.0.1:" + tls, "--tls-ca", ca, "-n", "cli.rpc", "rpc", "call",
          "java.rpc", "hello")).containsExactly("hello, cli.rpc", "exit 0");

      // mutual TLS: the CLI with a client certificate, registered as its CN
      assertThat(cli("tls://127.0.0.1:" + mutual, "--tls-ca", ca, "--tls-cert",
          plc1.cert().toString(), "--tls-key", plc1.key().toString(), "-n", "plc1", "broker",
          "test")).containsExactly("ok", "exit 0");
      List<String> notCn = cli("tls://127.0.0.1:" + mutual, "--tls-ca", ca, "--tls-cert",
          plc1.cert().toString(), "--tls-key", plc1.key().toString(), "-n", "plc2", "broker",
          "test");
      assertThat(notCn).hasSize(2).endsWith("exit 1");
      assertThat(notCn.get(0)).startsWith("elbus: ").contains("access denied");

      // an untrusted certificate: one line, exit 1
      List<String> untrusted = cli("tls://127.0.0.1:" + tls, "broker", "test");
      assertThat(untrusted).containsExactly("elbus: TLS handshake with tls://127.0.0.1:" + tls
          + " failed: the broker's certificate is not trusted (it does not chain to a trusted "
          + "CA)", "exit 1");

      java.close().await(TIMEOUT_S, TimeUnit.SECONDS);
      javaRpc.close().await(TIMEOUT_S, TimeUnit.SECONDS);
      srv.terminate();
      assertThat(srv.awaitExit(20_000)).isEqualTo(0);
      assertThat(srv.output()).noneMatch(l -> l.contains("ERROR") || l.contains("Exception"));
    } finally {
      vertx.close().await(TIMEOUT_S, TimeUnit.SECONDS);
    }
  }

  /** Runs the CLI as a process ({@code java -cp target/elbus.jar dev.elbus.cli.Cli ARGS}). */
  private static List<String> cli(String... args) throws Exception {
    try (ServerProcess p = ServerProcess.startMain(List.of(), "dev.elbus.cli.Cli", args)) {
      int code = p.awaitExit(TIMEOUT_S * 1000);
      Thread.sleep(100); // let the reader collect the last lines
      List<String> out = new ArrayList<>(p.output());
      out.add("exit " + code);
      return out;
    }
  }
}
