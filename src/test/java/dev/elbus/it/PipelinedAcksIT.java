package dev.elbus.it;

import dev.elbus.support.LeakGate;
import dev.elbus.support.RawClient;
import dev.elbus.support.TestBroker;
import dev.elbus.support.Transport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;

/**
 * A client that pipelines acked frames gets every ack, also when one read batch queues an exact
 * multiple of the early-drain step (256 frames) for it: the early drain writes those acks without
 * a flush, and the drain at the end of the batch, which finds the queue empty, must still flush
 * them (the CLI benchmark's paced stages stalled with 1,024 acks unflushed).
 */
@ExtendWith(LeakGate.class)
class PipelinedAcksIT {
  private static TestBroker tb;

  @BeforeAll
  static void start() throws Exception {
    tb = TestBroker.start();
  }

  @AfterAll
  static void stop() throws Exception {
    tb.close();
  }

  @ParameterizedTest
  @CsvSource({"TCP, 256", "UNIX, 256", "TCP, 1024", "UNIX, 1024", "TCP, 300"})
  void everyAckOfOneWriteArrives(Transport t, int frames) throws Exception {
    try (RawClient c = tb.registered(t, t.qualify("pipeline." + frames))) {
      // one socket write of `frames` QoS 1 messages to a name nobody holds: one ack (71) each
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      byte[] body = concat(utf8("nobody.pipelined"), new byte[] {0}, utf8("x"));
      for (int id = 1; id <= frames; id++) {
        all.write(ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).putInt(id)
            .put((byte) (0x12 | 1 << 6)).putInt(body.length).array());
        all.write(body);
      }
      c.send(all.toByteArray());
      for (int id = 1; id <= frames; id++) {
        c.expectAck(id, 0x71);
      }
    }
  }
}
