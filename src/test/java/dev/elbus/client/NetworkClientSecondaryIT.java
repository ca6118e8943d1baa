package dev.elbus.client;

import static dev.elbus.client.ClientTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.elbus.client.ClientTestSupport.Inbox;
import dev.elbus.protocol.QoS;
import dev.elbus.support.LeakGate;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Secondary clients ({@code NAME%%N}, PROTOCOL.md section 7) through {@link NetworkClient}. */
@ExtendWith(LeakGate.class)
class NetworkClientSecondaryIT {
  @RegisterExtension
  static final ClientTestSupport clients = new ClientTestSupport(TestBroker::start);


  @ParameterizedTest
  @EnumSource(Transport.class)
  void secondariesReceiveTheirOwnMessages(Transport t) throws Exception {
    NetworkClient primary = clients.connect(t, t.qualify("prim"));
    NetworkClient s1 = clients.track(await(primary.registerSecondary()));
    NetworkClient s2 = clients.track(await(primary.registerSecondary()));
    NetworkClient peer = clients.connect(t, t.qualify("peer"));
    assertThat(s1.name()).isEqualTo(primary.name() + "%%1");
    assertThat(s2.name()).isEqualTo(primary.name() + "%%2");
    assertThat(s1.isConnected()).isTrue();
    Inbox pIn = Inbox.of(primary);
    Inbox s1In = Inbox.of(s1);
    Inbox s2In = Inbox.of(s2);
    Inbox peerIn = Inbox.of(peer);

    await(peer.send(s1.name(), Buffer.buffer("to s1"), QoS.PROCESSED));
    await(peer.send(s2.name(), Buffer.buffer("to s2"), QoS.PROCESSED));
    await(peer.send(primary.name(), Buffer.buffer("to primary"), QoS.PROCESSED));
    assertThat(s1In.next().payload().toString()).isEqualTo("to s1");
    assertThat(s2In.next().payload().toString()).isEqualTo("to s2");
    // the primary's first frame is its own: it saw none of its secondaries' messages
    assertThat(pIn.next().payload().toString()).isEqualTo("to primary");

    await(s1.send(peer.name(), Buffer.buffer("from s1"), QoS.REALTIME_PROCESSED));
    Frame f = peerIn.next();
    assertThat(f.sender()).isEqualTo(primary.name() + "%%1");
    assertThat(f.primarySender()).isEqualTo(primary.name());
    assertThat(f.payload().toString()).isEqualTo("from s1");
    assertThat(f.realtime()).isTrue();

    // a secondary of a secondary is another secondary of the same primary; s1's own counter
    // starts at 1, so %%1 (s1) and %%2 (s2) are busy and skipped
    NetworkClient s3 = clients.track(await(s1.registerSecondary()));
    assertThat(s3.name()).isEqualTo(primary.name() + "%%3");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void busySuffixIsSkipped(Transport t) throws Exception {
    NetworkClient primary = clients.connect(t, t.qualify("skip"));
    clients.connect(t, primary.name() + "%%1");
    clients.connect(t, primary.name() + "%%2");
    NetworkClient s = clients.track(await(primary.registerSecondary()));
    assertThat(s.name()).isEqualTo(primary.name() + "%%3");
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void closingThePrimaryDisconnectsSecondaries(Transport t) throws Exception {
    NetworkClient primary = clients.connect(t, t.qualify("owner"));
    NetworkClient s1 = clients.track(await(primary.registerSecondary()));
    NetworkClient s2 = clients.track(await(primary.registerSecondary()));
    CompletableFuture<Void> s1Closed = new CompletableFuture<>();
    s1.closeHandler(v -> s1Closed.complete(null));

    await(primary.close());

    s1Closed.get(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
    await(s2.closeFuture());
    assertThat(s1.isConnected()).isFalse();
    assertThat(s2.isConnected()).isFalse();
    // a close handler set after the end runs at once
    CompletableFuture<Void> late = new CompletableFuture<>();
    s2.closeHandler(v -> late.complete(null));
    late.get(ClientTestSupport.TIMEOUT_S, TimeUnit.SECONDS);
  }
}
