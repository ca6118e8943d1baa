package dev.elbus.it.rpc;

import static dev.elbus.it.rpc.RpcWire.ack;
import static dev.elbus.it.rpc.RpcWire.assertAcks;
import static dev.elbus.it.rpc.RpcWire.assertFrame;
import static dev.elbus.it.rpc.RpcWire.call;
import static dev.elbus.it.rpc.RpcWire.exchange;
import static dev.elbus.it.rpc.RpcWire.message;
import static dev.elbus.support.RawClient.brokerFrame;
import static dev.elbus.support.RawClient.utf8;

import dev.elbus.config.BrokerOptions;
import dev.elbus.it.rpc.RpcWire.Exchange;
import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Core RPC switched off ({@link BrokerOptions#setCoreRpc}{@code (false)}): a call to {@code
 * .broker} is acked (the message was delivered) but never answered. A direct message to itself
 * serves as the marker: a reply, were there one, would be written before the call's ack and so
 * before the marker.
 */
@ExtendWith(LeakGate.class)
class CoreRpcOffIT {
  private static TestBroker broker;

  @BeforeAll
  static void start() throws Exception {
    broker = TestBroker.start(1, l -> { }, new BrokerOptions().setCoreRpc(false));
  }

  @AfterAll
  static void stop() throws Exception {
    broker.close();
  }

  @ParameterizedTest
  @EnumSource(Transport.class)
  void callToBrokerIsAckedButNotAnswered(Transport t) throws Exception {
    String me = "off-" + t.name().toLowerCase();
    try (RawClient c = broker.registered(t, me)) {
      call(c, 1, 1, 1, "test", new byte[0]);
      call(c, 2, 3, 2, "info", new byte[0]);
      call(c, 3, 1, 3, "benchmark.test", utf8("x"));
      call(c, 4, 1, 4, "no.such", new byte[0]);
      message(c, 5, 0, me, utf8("marker"));
      Exchange x = exchange(c, 4, 1);
      assertAcks(x, ack(1, 1), ack(2, 1), ack(3, 1), ack(4, 1));
      assertFrame(x.other(), brokerFrame(0x12, false, me, null, utf8("marker")));
    }
  }
}
