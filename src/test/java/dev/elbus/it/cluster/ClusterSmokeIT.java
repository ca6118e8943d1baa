package dev.elbus.it.cluster;

import dev.elbus.support.RawClient;
import dev.elbus.support.TestCluster;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.Test;

import static dev.elbus.support.RawClient.utf8;

class ClusterSmokeIT {
  @Test
  void smoke() throws Exception {
    long t0 = System.nanoTime();
    try (TestCluster c = TestCluster.start("smoke-" + System.nanoTime(), 3)) {
      System.out.println("started in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      try (RawClient a = c.node(0).registered(Transport.TCP, "a");
           RawClient b = c.node(1).registered(Transport.UNIX, "b")) {
        a.frame(1, 0x12, 1, "b", utf8("hello"));
        a.expectAck(1, 0x01);
        b.expect(RawClient.brokerFrame(0x12, false, "a", null, utf8("hello")));
        a.frame(2, 0x12, 1, "nobody", utf8("x"));
        a.expectAck(2, 0x71);
        b.frame(3, 0x02, 1, utf8("t/#"));
        b.expectAck(3, 0x01);
        a.frame(4, 0x01, 1, "t/1", utf8("pub"));
        a.expectAck(4, 0x01);
        b.expect(RawClient.brokerFrame(0x01, false, "a", "t/1", utf8("pub")));
        try (RawClient a2 = c.node(2).raw(Transport.TCP)) {
          System.out.println("dup code " + a2.handshake("a"));
        }
      }
      System.out.println("done in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }
    System.out.println("closed in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
  }
}
