package dev.elbus.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.elbus.client.ClientOptions;
import dev.elbus.client.ElbusException;
import dev.elbus.client.Frame;
import dev.elbus.client.FrameKind;
import dev.elbus.client.NetworkClient;
import dev.elbus.config.ListenerOptions;
import dev.elbus.config.TlsOptions;
import dev.elbus.protocol.Protocol;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.RpcClient;
import dev.elbus.rpc.RpcHandler;
import dev.elbus.support.LeakGate;
import dev.elbus.support.LogCapture;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestCerts;
import dev.elbus.support.TestCerts.Issued;
import dev.elbus.support.TlsBroker;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PfxOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TLS listeners (issue 14, item 2) with certificates made at test time: handshake, registration
 * and traffic (direct, publish, RPC) over TLS with the Java client, beside a plain TCP listener of
 * the same broker; a plain client on a TLS port; expired, untrusted and misnamed certificates on
 * either side, each refused with a reason; mutual TLS with the CN rule; the key formats; the
 * certificate reload; and start-up with files that do not load.
 */
@ExtendWith(LeakGate.class)
class TlsIT {
  private static final long TIMEOUT_S = 20;
  /** Handshake deadline of the TLS listeners: short, a silent plain client waits for it. */
  private static final long HANDSHAKE_MS = 1_500;

  private static final int TLS = 0;
  private static final int PLAIN = 1;
  private static final int MUTUAL = 2;
  private static final int EXPIRED = 3;
  private static final int NO_IP = 4;
  private static final int REQUEST = 5;
  private static final int RSA = 6;

  @TempDir
  static Path dir;
  private static TestCerts certs;
  private static TlsBroker broker;
  private static Vertx vertx;
  private final List<NetworkClient> clients = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    certs = TestCerts.create(dir);
    Issued server = certs.server("server");
    Path ca = certs.caPem();
    TlsOptions tls = new TlsOptions().setCert(server.cert().toString())
        .setKey(server.key().toString());
    Issued expired = certs.expiredServer("expired-server");
    Issued noIp = certs.serverWithoutIp("noip-server");
    Issued rsa = certs.server("rsa-server", "localhost", true,
        Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)), true);
    broker = TlsBroker.start(2,
        ListenerOptions.of("127.0.0.1:0").setTimeoutMs(HANDSHAKE_MS).setTls(tls),
        ListenerOptions.of("127.0.0.1:0"),
        ListenerOptions.of("127.0.0.1:0").setTls(new TlsOptions(tls).setCa(ca.toString())
            .setClientAuth(TlsOptions.ClientAuth.REQUIRED).setNameFromCn(true)),
        ListenerOptions.of("127.0.0.1:0").setTls(new TlsOptions()
            .setCert(expired.cert().toString()).setKey(expired.key().toString())),
        ListenerOptions.of("127.0.0.1:0").setTls(new TlsOptions()
            .setCert(noIp.cert().toString()).setKey(noIp.key().toString())),
        ListenerOptions.of("127.0.0.1:0").setTls(new TlsOptions(tls).setCa(ca.toString())
            .setClientAuth(TlsOptions.ClientAuth.REQUEST)),
        ListenerOptions.of("127.0.0.1:0").setTls(new TlsOptions()
            .setCert(rsa.cert().toString()).setKey(rsa.key().toString())));
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (vertx != null) {
        vertx.close().await(TIMEOUT_S, TimeUnit.SECONDS);
      }
    } finally {
      if (broker != null) {
        broker.close();
      }
    }
  }

  @AfterEach
  void closeClients() throws Exception {
    for (NetworkClient c : clients) {
      c.close().await(TIMEOUT_S, TimeUnit.SECONDS);
    }
    clients.clear();
  }

  private static ClientOptions trusting() {
    return new ClientOptions().setTlsCa(certs.caPem().toString());
  }

  private NetworkClient connect(String address, String name, ClientOptions o) throws Exception {
    NetworkClient c = NetworkClient.connect(vertx, address, name, o)
        .await(TIMEOUT_S, TimeUnit.SECONDS);
    clients.add(c);
    return c;
  }

  /** The failure of a connect that must fail. */
  private static ElbusException refused(String address, String name, ClientOptions o) {
    Future<NetworkClient> f = NetworkClient.connect(vertx, address, name, o);
    Throwable t = null;
    try {
      NetworkClient c = f.await(TIMEOUT_S, TimeUnit.SECONDS);
      c.close();
    } catch (Throwable e) {
      t = e;
    }
    assertThat(t).as("connect to %s as %s fails", address, name)
        .isInstanceOf(ElbusException.class);
    return (ElbusException) t;
  }

  private static BlockingQueue<Frame> inbox(NetworkClient c) {
    BlockingQueue<Frame> q = new LinkedBlockingQueue<>();
    c.frameHandler(q::add);
    return q;
  }

  private static Frame next(BlockingQueue<Frame> q) throws InterruptedException {
    Frame f = q.poll(TIMEOUT_S, TimeUnit.SECONDS);
    assertThat(f).as("a frame within %d s", TIMEOUT_S).isNotNull();
    return f;
  }

  private static String text(Frame f) {
    return f.payload().toString(StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- handshake and traffic

  @Test
  void theJavaClientRegistersAndExchangesTrafficOverTlsBesideAPlainListener() throws Exception {
    NetworkClient a = connect(broker.tls(TLS), "tls.a", trusting());
    NetworkClient b = connect(broker.tls(TLS), "tls.b", trusting());
    NetworkClient p = connect(broker.plain(PLAIN), "plain.p", new ClientOptions());
    BlockingQueue<Frame> bIn = inbox(b);
    BlockingQueue<Frame> pIn = inbox(p);

    // direct messages both ways between a TLS and a plain client, acked
    a.send("plain.p", Buffer.buffer("from tls"), QoS.PROCESSED).await(TIMEOUT_S, TimeUnit.SECONDS);
    Frame f = next(pIn);
    assertThat(f.kind()).isEqualTo(FrameKind.MESSAGE);
    assertThat(f.sender()).isEqualTo("tls.a");
    assertThat(text(f)).isEqualTo("from tls");
    p.send("tls.b", Buffer.buffer("from plain"), QoS.PROCESSED)
        .await(TIMEOUT_S, TimeUnit.SECONDS);
    assertThat(text(next(bIn))).isEqualTo("from plain");

    // a publication reaches subscribers on both listeners
    b.subscribe("tls/+/t").await(TIMEOUT_S, TimeUnit.SECONDS);
    p.subscribe("tls/#").await(TIMEOUT_S, TimeUnit.SECONDS);
    a.publish("tls/x/t", Buffer.buffer("21.5"), QoS.PROCESSED).await(TIMEOUT_S, TimeUnit.SECONDS);
    for (BlockingQueue<Frame> q : List.of(bIn, pIn)) {
      Frame pub = next(q);
      assertThat(pub.kind()).isEqualTo(FrameKind.PUBLISH);
      assertThat(pub.topic()).isEqualTo("tls/x/t");
      assertThat(text(pub)).isEqualTo("21.5");
    }

    // RPC: a TLS client calls a method of another TLS client and the broker's own
    RpcClient server = new RpcClient(vertx, b).handler("echo",
        RpcHandler.sync(e -> Buffer.buffer(e.sender() + ": ").appendBuffer(e.params())));
    RpcClient caller = new RpcClient(vertx, a);
    Buffer reply = caller.call("tls.b", "echo", Buffer.buffer("hi"))
        .await(TIMEOUT_S, TimeUnit.SECONDS);
    assertThat(reply.toString(StandardCharsets.UTF_8)).isEqualTo("tls.a: hi");
    assertThat(caller.call(".broker", "test", Buffer.buffer()).await(TIMEOUT_S, TimeUnit.SECONDS)
        .length()).isPositive();
    assertThat(server.pendingCalls()).isZero();
  }

  @Test
  void largeFramesCrossTlsRecordsIntact() throws Exception {
    NetworkClient a = connect(broker.tls(TLS), "big.a", trusting());
    NetworkClient b = connect(broker.tls(RSA), "big.b", trusting());
    BlockingQueue<Frame> bIn = inbox(b);
    byte[] payload = new byte[3 * 1024 * 1024 + 17];
    new Random(14).nextBytes(payload);
    List<Future<Void>> sent = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      sent.add(a.send("big.b", Buffer.buffer(payload), QoS.PROCESSED));
    }
    // and many small ones right behind, coalesced into records
    for (int i = 0; i < 2_000; i++) {
      sent.add(a.send("big.b", Buffer.buffer("small " + i), QoS.NO));
    }
    Future.all(sent).await(TIMEOUT_S, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      assertThat(next(bIn).payload().getBytes()).isEqualTo(payload);
    }
    for (int i = 0; i < 2_000; i++) {
      assertThat(text(next(bIn))).isEqualTo("small " + i);
    }
  }

  @Test
  void aRawTlsClientGetsTheGreetingAndThePkcs1RsaCertificateWorks() throws Exception {
    try (SSLSocket s = tlsSocket(broker.port(RSA))) {
      assertThat(s.getInputStream().readNBytes(3)).isEqualTo(new byte[] {(byte) 0xEB, 1, 0});
      X509Certificate c = (X509Certificate) s.getSession().getPeerCertificates()[0];
      assertThat(c.getPublicKey().getAlgorithm()).isEqualTo("RSA");
    }
    assertThat(Files.readString(dir.resolve("rsa-server.key")))
        .startsWith("-----BEGIN RSA PRIVATE KEY-----");
  }

  // ---------------------------------------------------------------- plain clients on TLS ports

  @Test
  void aPlainClientThatWaitsForTheGreetingIsClosedAtTheHandshakeDeadline() throws Exception {
    try (LogCapture log = LogCapture.on("dev.elbus"); RawClient raw = RawClient.tcp("127.0.0.1",
        broker.port(TLS))) {
      long before = broker.closes("handshake_timeout");
      // the greeting is never sent in clear: nothing, then the close
      raw.expectSilence(HANDSHAKE_MS / 2);
      raw.expectClosed(HANDSHAKE_MS + 10_000);
      awaitTrue(() -> broker.closes("handshake_timeout") == before + 1);
      List<ILoggingEvent> lines = awaitLines(log, "TLS handshake not completed within 1500 ms");
      assertThat(lines).hasSize(1);
      assertThat(lines.get(0).getLevel()).isEqualTo(Level.WARN);
      assertThat(lines.get(0).getThrowableProxy()).isNull();
      assertThat(log.aboveWarn()).isEmpty();
    }
  }

  @Test
  void aPlainClientThatTalksIsRefusedAtOnceWithOneLogLine() throws Exception {
    try (LogCapture log = LogCapture.on("dev.elbus")) {
      long before = broker.closes("tls");
      for (int i = 0; i < 20; i++) {
        try (RawClient raw = RawClient.tcp("127.0.0.1", broker.port(TLS))) {
          // what a plain elbus client answers to a greeting, and a name
          raw.send(0xEB, 0x01, 0x00).send(RawClient.le16(5)).send(RawClient.utf8("plain"));
          raw.expectClosed(5_000);
        }
      }
      awaitTrue(() -> broker.closes("tls") == before + 20);
      List<ILoggingEvent> lines = awaitLines(log, "client does not speak TLS");
      assertThat(lines).hasSize(20).allSatisfy(e -> {
        assertThat(e.getLevel()).isEqualTo(Level.WARN);
        assertThat(e.getThrowableProxy()).isNull();
        assertThat(e.getFormattedMessage()).contains("disconnected: tls (TLS handshake failed: "
            + "the client does not speak TLS (it sent plain-text bytes))");
      });
      assertThat(log.events()).filteredOn(e -> e.getThrowableProxy() != null).isEmpty();
      assertThat(log.aboveWarn()).isEmpty();
    }
    // and the listener still serves TLS clients
    connect(broker.tls(TLS), "after.plain", trusting());
  }

  @Test
  void connectionsInTheirTlsHandshakeHoldHandshakeSlots() throws Exception {
    Issued server = certs.server("slots");
    try (TlsBroker b = TlsBroker.start(1, ListenerOptions.of("127.0.0.1:0").setMaxHandshakes(2)
        .setTls(new TlsOptions().setCert(server.cert().toString())
            .setKey(server.key().toString())));
        RawClient first = RawClient.tcp("127.0.0.1", b.port(0));
        RawClient second = RawClient.tcp("127.0.0.1", b.port(0))) {
      awaitTrue(() -> b.broker().listeners().get(0).connections() == 2);
      // a third silent socket closes the oldest: TLS handshakes are handshakes
      try (RawClient third = RawClient.tcp("127.0.0.1", b.port(0))) {
        first.expectClosed(10_000);
        awaitTrue(() -> b.closes("max_handshakes") == 1);
        // and a TLS client still gets in, closing the oldest silent one
        NetworkClient c = connect(b.tls(0), "slots.client", trusting());
        second.expectClosed(10_000);
        c.close().await(TIMEOUT_S, TimeUnit.SECONDS);
        clients.remove(c);
      }
    }
  }

  @Test
  void theJavaClientOnAPlainPortWithTlsFailsWithAReason() {
    ElbusException e = refused("tls://" + broker.plain(PLAIN), "tls.to.plain", trusting());
    assertThat(e.code()).isEqualTo(Protocol.ERR_IO);
    assertThat(e.getMessage()).startsWith("TLS handshake with tls://127.0.0.1:"
        + broker.port(PLAIN) + " failed: ");
  }

  // ---------------------------------------------------------------- the broker's certificate

  @Test
  void anUntrustedBrokerCertificateFailsTheConnectWithAReason() throws Exception {
    // the JVM's CAs do not know the test CA; nor does a client that trusts another CA
    for (ClientOptions o : List.of(new ClientOptions(),
        new ClientOptions().setTlsCa(certs.otherCaPem().toString()))) {
      ElbusException e = refused(broker.tls(TLS), "untrusting", o);
      assertThat(e.code()).isEqualTo(Protocol.ERR_IO);
      assertThat(e.getMessage()).startsWith("TLS handshake with " + broker.tls(TLS) + " failed: "
          + "the broker's certificate is not trusted (");
    }
    // a PKCS#12 trust store with the CA works as well as the PEM file
    Path p12 = dir.resolve("trust.p12");
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(certs.caPem())) {
      ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509")
          .generateCertificate(in));
    }
    try (var out = Files.newOutputStream(p12)) {
      ks.store(out, "secret".toCharArray());
    }
    connect(broker.tls(TLS), "p12.trust", new ClientOptions().setTlsTrustOptions(
        new PfxOptions().setPath(p12.toString()).setPassword("secret")));
  }

  @Test
  void anExpiredBrokerCertificateFailsTheConnectWithAReason() {
    ElbusException e = refused(broker.tls(EXPIRED), "expiry", trusting());
    assertThat(e.code()).isEqualTo(Protocol.ERR_IO);
    assertThat(e.getMessage()).startsWith("TLS handshake with " + broker.tls(EXPIRED)
        + " failed: the broker's certificate has expired (NotAfter: ");
  }

  @Test
  void theHostnameIsCheckedUnlessTurnedOff() throws Exception {
    ElbusException e = refused(broker.tls(NO_IP), "hostname", trusting());
    assertThat(e.getMessage()).startsWith("TLS handshake with " + broker.tls(NO_IP) + " failed: "
        + "the broker's certificate does not name the host connected to (No subject alternative "
        + "names matching IP address 127.0.0.1 found)");
    // by its DNS name it matches; without the check the IP address is fine too
    connect("tls://localhost:" + broker.port(NO_IP), "by.name", trusting());
    connect(broker.tls(NO_IP), "unchecked", trusting().setTlsHostnameVerification(false));
    // but turning the check off does not trust an expired certificate
    assertThat(refused(broker.tls(EXPIRED), "unchecked.expired",
        trusting().setTlsHostnameVerification(false)).getMessage()).contains("has expired");
  }

  @Test
  void tlsSettingsWithoutTlsAndTlsOnAUnixSocketAreErrors() {
    assertThatThrownBy(() -> NetworkClient.connect(vertx, broker.plain(PLAIN), "x", trusting())
        .await(TIMEOUT_S, TimeUnit.SECONDS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("TLS settings given for " + broker.plain(PLAIN) + ", which is not a "
            + "tls://HOST:PORT address (nor is ClientOptions.setTls(true) set)");
    assertThatThrownBy(() -> NetworkClient.connect(vertx, "/tmp/none.sock", "x",
        new ClientOptions().setTls(true)).await(TIMEOUT_S, TimeUnit.SECONDS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("TLS is for TCP addresses, not /tmp/none.sock");
  }

  @Test
  void setTlsTurnsTlsOnForAHostPortAddress() throws Exception {
    NetworkClient c = connect(broker.plain(TLS), "settls", trusting().setTls(true));
    c.send("settls", Buffer.buffer("me"), QoS.PROCESSED).await(TIMEOUT_S, TimeUnit.SECONDS);
  }

  // ---------------------------------------------------------------- client certificates

  @Test
  void mutualTlsAdmitsTheNameOfTheCertificatesCn() throws Exception {
    Issued plc1 = certs.client("plc1", "plc1");
    ClientOptions o = trusting().setTlsCert(plc1.cert().toString(), plc1.key().toString());
    NetworkClient c = connect(broker.tls(MUTUAL), "plc1", o);
    // a secondary of that name too
    NetworkClient sec = connect(broker.tls(MUTUAL), "plc1%%ui", o);
    BlockingQueue<Frame> in = inbox(sec);
    c.send("plc1%%ui", Buffer.buffer("to my secondary"), QoS.PROCESSED)
        .await(TIMEOUT_S, TimeUnit.SECONDS);
    assertThat(text(next(in))).isEqualTo("to my secondary");
    NetworkClient auto = c.registerSecondary().await(TIMEOUT_S, TimeUnit.SECONDS);
    clients.add(auto);
    assertThat(auto.name()).startsWith("plc1%%");
  }

  @Test
  void mutualTlsRefusesANameThatIsNotTheCn() throws Exception {
    Issued plc2 = certs.client("plc2", "plc2");
    ClientOptions o = trusting().setTlsCert(plc2.cert().toString(), plc2.key().toString());
    try (LogCapture log = LogCapture.on("dev.elbus")) {
      for (String name : List.of("plc1", "plc22", "PLC2", "other%%plc2")) {
        ElbusException e = refused(broker.tls(MUTUAL), name, o);
        assertThat(e.code()).as(name).isEqualTo(Protocol.ERR_ACCESS);
      }
      assertThat(awaitLines(log, "refused: name 'plc1' is not the client certificate's CN "
          + "'plc2' (tls.name_from_cn)")).hasSize(1);
    }
    // a certificate with no CN, or two, names nobody
    Issued noCn = certs.client("nocn", "O=elbus, OU=plc", Instant.now().minus(Duration.ofDays(1)),
        Instant.now().plus(Duration.ofDays(1)), true);
    Issued twoCn = certs.client("twocn", "CN=a, CN=b", Instant.now().minus(Duration.ofDays(1)),
        Instant.now().plus(Duration.ofDays(1)), true);
    try (LogCapture log = LogCapture.on("dev.elbus")) {
      assertThat(refused(broker.tls(MUTUAL), "plc", trusting().setTlsCert(noCn.cert().toString(),
          noCn.key().toString())).code()).isEqualTo(Protocol.ERR_ACCESS);
      assertThat(refused(broker.tls(MUTUAL), "a", trusting().setTlsCert(twoCn.cert().toString(),
          twoCn.key().toString())).code()).isEqualTo(Protocol.ERR_ACCESS);
      assertThat(awaitLines(log, "has no CN")).hasSize(1);
      assertThat(awaitLines(log, "has more than one CN")).hasSize(1);
    }
  }

  @Test
  void mutualTlsRefusesMissingUntrustedAndExpiredClientCertificatesWithAReason()
      throws Exception {
    Issued untrusted = certs.client("untrusted-client", "CN=plc3",
        Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(1)), false);
    Issued expired = certs.client("expired-client", "CN=plc3",
        Instant.now().minus(Duration.ofDays(3)), Instant.now().minus(Duration.ofDays(1)), true);
    String[][] cases = {
        {null, null, "no client certificate was presented, and the broker requires one"},
        {untrusted.cert().toString(), untrusted.key().toString(),
            "the client's certificate is not trusted (its signature does not verify with a "
                + "trusted CA's key)"},
        {expired.cert().toString(), expired.key().toString(),
            "the client's certificate has expired (NotAfter: "}};
    for (String[] c : cases) {
      try (LogCapture log = LogCapture.on("dev.elbus")) {
        long before = broker.closes("tls");
        ClientOptions o = trusting();
        if (c[0] != null) {
          o.setTlsCert(c[0], c[1]);
        }
        ElbusException e = refused(broker.tls(MUTUAL), "plc3", o);
        assertThat(e.code()).isEqualTo(Protocol.ERR_IO);
        // the client learns that the broker refused it (a TLS alert), the broker's log says why
        assertThat(e.getMessage()).as(c[2]).startsWith("TLS handshake with "
            + broker.tls(MUTUAL) + " failed: the broker refused the handshake (TLS alert ");
        assertThat(awaitLines(log, "disconnected: tls (TLS handshake failed: " + c[2]))
            .as(c[2]).hasSize(1).allSatisfy(l -> assertThat(l.getThrowableProxy()).isNull());
        awaitTrue(() -> broker.closes("tls") == before + 1);
      }
    }
  }

  @Test
  void requestedClientCertificatesAreOptionalButCheckedWhenGiven() throws Exception {
    connect(broker.tls(REQUEST), "no.cert", trusting());
    Issued good = certs.client("req-good", "whatever");
    connect(broker.tls(REQUEST), "any.name", trusting().setTlsCert(good.cert().toString(),
        good.key().toString()));
    Issued untrusted = certs.client("req-untrusted", "CN=x",
        Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(1)), false);
    assertThat(refused(broker.tls(REQUEST), "bad.cert", trusting().setTlsCert(
        untrusted.cert().toString(), untrusted.key().toString())).getMessage())
        .contains("the broker refused the handshake (TLS alert ");
  }

  // ---------------------------------------------------------------- reload

  @Test
  void aChangedCertificateServesNewConnectionsAndABrokenOneKeepsTheOld(@TempDir Path d)
      throws Exception {
    Issued first = certs.server("reload-1");
    Issued second = certs.server("reload-2");
    Issued third = certs.server("reload-3");
    Path cert = d.resolve("server.pem");
    Path key = d.resolve("server.key");
    Files.copy(first.cert(), cert);
    Files.copy(first.key(), key);
    try (LogCapture log = LogCapture.on("dev.elbus");
        TlsBroker b = TlsBroker.start(1, ListenerOptions.of("127.0.0.1:0").setTls(
            new TlsOptions().setCert(cert.toString()).setKey(key.toString())
                .setScanPeriodMs(50)))) {
      int port = b.port(0);
      assertThat(servedSerial(port)).isEqualTo(first.x509().getSerialNumber());
      NetworkClient old = connect("tls://127.0.0.1:" + port, "reload.old", trusting());
      BlockingQueue<Frame> oldIn = inbox(old);

      // a new pair (key first, then certificate, each renamed into place)
      TestCerts.replace(second.key(), key);
      TestCerts.replace(second.cert(), cert);
      awaitTrue(() -> second.x509().getSerialNumber().equals(servedSerial(port)));
      awaitLines(log, "reloaded: certificate CN=localhost");
      // the connection made before keeps working
      old.send("reload.old", Buffer.buffer("still here"), QoS.PROCESSED)
          .await(TIMEOUT_S, TimeUnit.SECONDS);
      assertThat(text(next(oldIn))).isEqualTo("still here");

      // a broken certificate file: logged once, the certificate in force is kept
      Files.writeString(d.resolve("junk"), "-----BEGIN CERTIFICATE-----\nnot base64\n");
      TestCerts.replace(d.resolve("junk"), cert);
      List<ILoggingEvent> broken = awaitLines(log, "the certificate in force is kept: tls: cert "
          + cert + ": not a PEM certificate");
      assertThat(broken.get(0).getLevel()).isEqualTo(Level.ERROR);
      Thread.sleep(300); // several scans: still one line
      assertThat(log.matching(Level.ERROR, "the certificate in force is kept")).hasSize(1);
      assertThat(servedSerial(port)).isEqualTo(second.x509().getSerialNumber());

      // a certificate whose key has not followed yet: kept out until the key comes
      TestCerts.replace(third.cert(), cert);
      awaitLines(log, "tls: key " + key + " does not match the certificate in " + cert);
      assertThat(servedSerial(port)).isEqualTo(second.x509().getSerialNumber());
      TestCerts.replace(third.key(), key);
      awaitTrue(() -> third.x509().getSerialNumber().equals(servedSerial(port)));
      // a missing key file is a problem too, and the old pair stays
      Files.delete(key);
      awaitLines(log, "tls: key " + key + ": cannot read: no such file");
      assertThat(servedSerial(port)).isEqualTo(third.x509().getSerialNumber());
      old.send("reload.old", Buffer.buffer("and now"), QoS.PROCESSED)
          .await(TIMEOUT_S, TimeUnit.SECONDS);
      assertThat(text(next(oldIn))).isEqualTo("and now");
      old.close().await(TIMEOUT_S, TimeUnit.SECONDS);
    }
  }

  // ---------------------------------------------------------------- start-up

  @Test
  void aListenerWhoseCertificateDoesNotLoadDoesNotStart(@TempDir Path d) throws Exception {
    Issued a = certs.server("startup-a");
    Issued b = certs.server("startup-b");
    Path junk = Files.writeString(d.resolve("junk.pem"), "hello\n");
    String[][] cases = {
        {d.resolve("none.pem").toString(), a.key().toString(),
            "tls: cert " + d.resolve("none.pem") + ": cannot read: no such file"},
        {junk.toString(), a.key().toString(), "tls: cert " + junk + ": "},
        {a.cert().toString(), junk.toString(), "tls: key " + junk + ": not a PEM private key"},
        {a.cert().toString(), b.key().toString(),
            "tls: key " + b.key() + " does not match the certificate in " + a.cert()}};
    for (String[] c : cases) {
      int port;
      try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
        port = s.getLocalPort();
      }
      assertThatThrownBy(() -> TlsBroker.start(1, ListenerOptions.of("127.0.0.1:" + port)
          .setTls(new TlsOptions().setCert(c[0]).setKey(c[1]))))
          .hasMessageStartingWith("listener 127.0.0.1:" + port + ": " + c[2]);
      // nothing listens
      assertThatThrownBy(() -> RawClient.tcp("127.0.0.1", port).close())
          .isInstanceOf(java.io.IOException.class);
    }
    assertThatThrownBy(() -> TlsBroker.start(1, ListenerOptions.of("127.0.0.1:0").setTls(
        new TlsOptions().setCert(a.cert().toString()).setKey(a.key().toString())
            .setNameFromCn(true))))
        .hasMessage("listener 127.0.0.1:0: tls: name_from_cn needs client_auth: required");
  }

  // ---------------------------------------------------------------- helpers

  /** A JDK TLS socket to {@code port} that trusts the test CA, handshaken. */
  private static SSLSocket tlsSocket(int port) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(certs.caPem())) {
      ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509")
          .generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
    s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(TIMEOUT_S));
    s.startHandshake();
    return s;
  }

  /** The serial number of the certificate a new connection to {@code port} is served. */
  private static java.math.BigInteger servedSerial(int port) {
    try (SSLSocket s = tlsSocket(port)) {
      return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private interface Check {
    boolean holds() throws Exception;
  }

  private static void awaitTrue(Check c) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
    while (!c.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + TIMEOUT_S + " s");
      }
      Thread.sleep(20);
    }
  }

  /** Waits for a log line containing {@code text} and returns every such line. */
  private static List<ILoggingEvent> awaitLines(LogCapture log, String text) throws Exception {
    awaitTrue(() -> !log.matching(Level.TRACE, text).isEmpty());
    Thread.sleep(50);
    return log.matching(Level.TRACE, text);
  }
}
