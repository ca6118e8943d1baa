package dev.elbus.cli;

import static dev.elbus.cli.CliRunner.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.cli.CliRunner.Result;
import dev.elbus.client.ClientOptions;
import dev.elbus.client.Frame;
import dev.elbus.client.NetworkClient;
import dev.elbus.config.ListenerOptions;
import dev.elbus.config.TlsOptions;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestCerts;
import dev.elbus.support.TestCerts.Issued;
import dev.elbus.support.TlsBroker;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The CLI's TLS options against TLS listeners (in-process, so every message is checked to the
 * letter; {@code ServerTlsIT} runs the CLI as a process): tls:// addresses with a CA, a client
 * certificate for mutual TLS, hostname verification, the one-line failures (exit 1) and the
 * usage errors (exit 2).
 */
@ExtendWith(LeakGate.class)
class CliTlsIT {
  @TempDir
  static Path dir;
  private static TestCerts certs;
  private static TlsBroker broker;
  private static Vertx vertx;
  private static Issued plc1;

  @BeforeAll
  static void start() throws Exception {
    certs = TestCerts.create(dir);
    Issued server = certs.server("server");
    Issued noIp = certs.serverWithoutIp("noip");
    plc1 = certs.client("plc1", "plc1");
    TlsOptions tls = new TlsOptions().setCert(server.cert().toString())
        .setKey(server.key().toString());
    broker = TlsBroker.start(1,
        ListenerOptions.of("127.0.0.1:0").setTls(tls),
        ListenerOptions.of("127.0.0.1:0").setTls(new TlsOptions(tls)
            .setCa(certs.caPem().toString()).setClientAuth(TlsOptions.ClientAuth.REQUIRED)
            .setNameFromCn(true)),
        ListenerOptions.of("127.0.0.1:0").setTls(new TlsOptions()
            .setCert(noIp.cert().toString()).setKey(noIp.key().toString())),
        ListenerOptions.of("127.0.0.1:0"));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      vertx.close().await(20, TimeUnit.SECONDS);
    } finally {
      broker.close();
    }
  }

  private static String ca() {
    return certs.caPem().toString();
  }

  @Test
  void sendPublishAndCallOverTls() throws Exception {
    NetworkClient peer = NetworkClient.connect(vertx, broker.tls(0), "cli.peer",
        new ClientOptions().setTlsCa(ca())).await(20, TimeUnit.SECONDS);
    try {
      BlockingQueue<Frame> in = new LinkedBlockingQueue<>();
      peer.frameHandler(in::add);
      peer.subscribe("cli/#").await(20, TimeUnit.SECONDS);
      Result send = run(broker.tls(0), "--tls-ca", ca(), "send", "cli.peer", "over tls");
      assertThat(send.code()).as(send.err()).isZero();
      assertThat(in.poll(20, TimeUnit.SECONDS).payload().toString(StandardCharsets.UTF_8))
          .isEqualTo("over tls");
      Result pub = run(broker.tls(0), "--tls-ca", ca(), "publish", "cli/x", "21.5");
      assertThat(pub.code()).as(pub.err()).isZero();
      assertThat(in.poll(20, TimeUnit.SECONDS).topic()).isEqualTo("cli/x");
      Result call = run(broker.tls(0), "--tls-ca", ca(), "rpc", "call", "--json", ".broker",
          "test");
      assertThat(call.code()).as(call.err()).isZero();
      assertThat(call.out()).contains("\"ok\": true");
    } finally {
      peer.close().await(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void mutualTlsWithTheCertificatesName() {
    Result ok = run(broker.tls(1), "--tls-ca", ca(), "--tls-cert", plc1.cert().toString(),
        "--tls-key", plc1.key().toString(), "-n", "plc1", "broker", "test");
    assertThat(ok.code()).as(ok.err()).isZero();
    assertThat(ok.out()).isEqualTo("ok\n");
    Result other = run(broker.tls(1), "--tls-ca", ca(), "--tls-cert", plc1.cert().toString(),
        "--tls-key", plc1.key().toString(), "-n", "plc2", "broker", "test");
    assertThat(other.code()).isEqualTo(1);
    assertThat(other.errLines()).containsExactly("elbus: registration of 'plc2' refused: access "
        + "denied");
    Result noCert = run(broker.tls(1), "--tls-ca", ca(), "-n", "plc1", "broker", "test");
    assertThat(noCert.code()).isEqualTo(1);
    assertThat(noCert.errLines()).hasSize(1).allMatch(l -> l.startsWith("elbus: TLS handshake "
        + "with " + broker.tls(1) + " failed: the broker refused the handshake (TLS alert "));
  }

  @Test
  void certificateProblemsAreOneLineAndExitOne() {
    Result untrusted = run(broker.tls(0), "broker", "test");
    assertThat(untrusted.code()).isEqualTo(1);
    assertThat(untrusted.out()).isEmpty();
    assertThat(untrusted.errLines()).containsExactly("elbus: TLS handshake with " + broker.tls(0)
        + " failed: the broker's certificate is not trusted (it does not chain to a trusted CA)");
    Result misnamed = run(broker.tls(2), "--tls-ca", ca(), "broker", "test");
    assertThat(misnamed.code()).isEqualTo(1);
    assertThat(misnamed.errLines()).containsExactly("elbus: TLS handshake with " + broker.tls(2)
        + " failed: the broker's certificate does not name the host connected to (No subject "
        + "alternative names matching IP address 127.0.0.1 found)");
    Result unchecked = run(broker.tls(2), "--tls-ca", ca(), "--tls-no-verify-hostname",
        "broker", "test");
    assertThat(unchecked.code()).as(unchecked.err()).isZero();
    Result plainPort = run("tls://" + broker.plain(3), "--tls-ca", ca(), "broker", "test");
    assertThat(plainPort.code()).isEqualTo(1);
    assertThat(plainPort.errLines()).hasSize(1).allMatch(l -> l.startsWith("elbus: TLS "
        + "handshake with tls://" + broker.plain(3) + " failed: "));
  }

  @Test
  void tlsOptionsNeedATlsAddressAndReadableFiles() {
    Result plain = run(broker.plain(3), "--tls-ca", ca(), "broker", "test");
    assertThat(plain.code()).isEqualTo(2);
    assertThat(plain.errLines()).containsExactly("elbus: --tls-ca needs a tls://HOST:PORT "
        + "address, not " + broker.plain(3) + " (see --help)");
    Result noKey = run(broker.tls(1), "--tls-cert", plc1.cert().toString(), "broker", "test");
    assertThat(noKey.code()).isEqualTo(2);
    assertThat(noKey.errLines()).containsExactly("elbus: --tls-cert needs --tls-key (see --help)");
    Result missing = run(broker.tls(0), "--tls-ca", dir.resolve("none.pem").toString(), "broker",
        "test");
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.errLines()).containsExactly("elbus: --tls-ca: cannot read "
        + dir.resolve("none.pem") + " (see --help)");
    Result unix = run("tls:///tmp/elbus.sock", "broker", "test");
    assertThat(unix.code()).isEqualTo(2);
    assertThat(unix.errLines()).containsExactly("elbus: bind 'tls:///tmp/elbus.sock': expected "
        + "tls://HOST:PORT (TLS is for TCP addresses) (see --help)");
    assertThat(run("--help").out()).contains("--tls-ca=FILE", "--tls-cert=FILE",
        "--tls-key=FILE", "--tls-no-verify-hostname", "tls://HOST:PORT");
  }
}
