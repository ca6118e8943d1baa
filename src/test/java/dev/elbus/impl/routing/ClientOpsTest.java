package dev.elbus.impl.routing;

import dev.elbus.impl.codec.ProtocolException;
import dev.elbus.protocol.Protocol;
import dev.elbus.support.LeakGate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link ClientOps}, the one home of the operations' body grammar: an operation taken from a
 * socket client's frame and the same operation from an in-process client's strings deliver the
 * same bytes, are counted alike (where writes are counted, in the {@link Router}), and acked by
 * the frame path only; malformed bodies and fields are refused on both paths.
 */
@ExtendWith(LeakGate.class)
class ClientOpsTest {
  private final BrokerStats stats = new BrokerStats();
  private final Router router = new Router(new ClientRegistry(), new TopicIndex(), stats,
      UnpooledByteBufAllocator.DEFAULT);
  private final List<ByteBuf> sources = new ArrayList<>();

  @AfterEach
  void release() {
    sources.forEach(ByteBuf::release);
  }

  private TestSession registered(String name) {
    TestSession s = new TestSession(name);
    s.unregisterOnDisconnect = router;
    assertThat(router.register(s)).isEqualTo(Protocol.RESPONSE_OK);
    return s;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] body(String... fields) {
    return String.join("\0", fields).getBytes(StandardCharsets.UTF_8);
  }

  /** {@code body} inside a larger read buffer, as a socket read holds it. */
  private ByteBuf read(byte[] body) {
    ByteBuf b = UnpooledByteBufAllocator.DEFAULT.heapBuffer(body.length + 8);
    b.writeBytes(new byte[] {1, 2, 3, 4}).writeBytes(body).writeBytes(new byte[] {5, 6, 7, 8});
    sources.add(b);
    return b;
  }

  private static int flags(int op, int qos) {
    return op | qos << Protocol.QOS_SHIFT;
  }

  /** {@code body} as one frame of operation {@code op} inside a read buffer. */
  private void frame(ClientOps o, int op, int qos, byte[] body) {
    o.frame(1, flags(op, qos), read(body), 4, body.length);
  }

  /** Runs one operation on a fresh broker core, once from bytes, once from strings. */
  private void same(Consumer<ClientOps> fromFrame, Consumer<ClientOps> fromStrings,
      String... receivers) {
    List<List<byte[]>> got = new ArrayList<>();
    List<long[]> counted = new ArrayList<>();
    for (Consumer<ClientOps> run : List.of(fromFrame, fromStrings)) {
      ClientOpsTest t = new ClientOpsTest();
      TestSession sender = t.registered("snd");
      List<TestSession> rx = new ArrayList<>();
      for (String r : receivers) {
        TestSession s = t.registered(r);
        t.router.subscribe(s, "t/#");
        rx.add(s);
      }
      run.accept(ClientOps.of(t.router, sender));
      List<byte[]> frames = new ArrayList<>();
      rx.forEach(s -> frames.addAll(s.frames));
      got.add(frames);
      counted.add(new long[] {sender.rFrames(), sender.rBytes(), t.stats.rFrames(),
          t.stats.rBytes(), t.stats.wBytes()});
      t.release();
    }
    assertThat(got.get(0)).isNotEmpty();
    assertThat(got.get(1)).usingRecursiveComparison().isEqualTo(got.get(0));
    assertThat(counted.get(1)).containsExactly(counted.get(0));
  }

  @Test
  void aMessageFromBytesAndFromStringsIsTheSameOperation() {
    same(o -> frame(o, Protocol.OP_MESSAGE, 0, body("rx", "hi")),
        o -> o.message("rx", Unpooled.wrappedBuffer(utf8("hi")), false), "rx");
  }

  @Test
  void aBroadcastFromBytesAndFromStringsIsTheSameOperation() {
    same(o -> frame(o, Protocol.OP_BROADCAST, 0, body("r.?", "hi")),
        o -> o.broadcast("r.?", Unpooled.wrappedBuffer(utf8("hi")), false), "r.1", "r.2");
  }

  @Test
  void aPublicationFromBytesAndFromStringsIsTheSameOperation() {
    same(o -> frame(o, Protocol.OP_PUBLISH, 2, body("t/ä", "21.5")),
        o -> o.publish("t/ä", Unpooled.wrappedBuffer(utf8("21.5")), true), "a", "b");
  }

  @Test
  void aPublishForFromBytesAndFromStringsIsTheSameOperation() {
    same(o -> frame(o, Protocol.OP_PUBLISH_FOR, 0, body("t/x", "b", "p")),
        o -> o.publishFor("t/x", "b", Unpooled.wrappedBuffer(utf8("p")), false), "a", "b");
  }

  @Test
  void aTopicListIsCountedOnceAsOneFrameOnBothPaths() {
    TestSession s = registered("s");
    ClientOps ops = ClientOps.of(router, s);
    byte[] list = body("a/+", "b/#", "c");
    ops.frame(1, flags(Protocol.OP_SUBSCRIBE, 0), read(list), 4, list.length);
    assertThat(s.subscriptions()).contains("a/+", "b/#", "c");
    assertThat(s.rFrames()).isEqualTo(1);
    assertThat(s.rBytes()).isEqualTo(list.length);
    assertThat(ops.unsubscribe(List.of("a/+", "b/#", "c"))).isEqualTo(Protocol.RESPONSE_OK);
    assertThat(s.subscriptions()).doesNotContain("a/+", "b/#", "c");
    assertThat(s.rFrames()).isEqualTo(2);
    assertThat(s.rBytes()).isEqualTo(2L * list.length);
    assertThat(stats.rBytes()).isEqualTo(2L * list.length);
  }

  @Test
  void anAckedFrameIsAckedAndTheUncountedOpsCountNothing() {
    TestSession s = registered("s");
    registered("rx");
    ClientOps.of(router, s).frame(7, flags(Protocol.OP_MESSAGE, 1), read(body("nobody", "x")),
        4, 8);
    assertThat(s.frames).hasSize(1);
    assertThat(s.frames.get(0)).containsExactly(0xFE, 7, 0, 0, 0,
        Protocol.ERR_CLIENT_NOT_REGISTERED);
    long before = stats.rFrames();
    assertThat(ClientOps.uncounted(router, s).publish("t/x", Unpooled.EMPTY_BUFFER, false))
        .isEqualTo(Protocol.RESPONSE_OK);
    assertThat(stats.rFrames()).isEqualTo(before);
  }

  @Test
  void malformedBodiesAndFieldsAreRefusedOnBothPaths() {
    ClientOps ops = ClientOps.of(router, registered("s"));
    byte[] noSep = utf8("rx-without-separator");
    assertThatThrownBy(() -> ops.frame(1, flags(Protocol.OP_MESSAGE, 0), read(noSep), 4,
        noSep.length)).isInstanceOf(ProtocolException.class).hasMessageContaining("00");
    byte[] badUtf8 = {(byte) 0xC3, 0x28, 0, 'x'};
    assertThatThrownBy(() -> ops.frame(1, flags(Protocol.OP_PUBLISH, 0), read(badUtf8), 4, 4))
        .isInstanceOf(ProtocolException.class).hasMessageContaining("UTF-8");
    byte[] oneSep = body("t/x", "receiver-and-payload");
    assertThatThrownBy(() -> ops.frame(1, flags(Protocol.OP_PUBLISH_FOR, 0), read(oneSep), 4,
        oneSep.length)).isInstanceOf(ProtocolException.class)
        .hasMessageContaining("two 00 separators");
    assertThat(ops.message("r\0x", Unpooled.EMPTY_BUFFER, false)).isEqualTo(Protocol.ERR_DATA);
    assertThat(ops.publish(null, Unpooled.EMPTY_BUFFER, false)).isEqualTo(Protocol.ERR_DATA);
    assertThat(ops.subscribe(List.of("a", "b\0"))).isEqualTo(Protocol.ERR_DATA);
    // a refused field reaches no one and is not counted
    assertThat(ops.session().rFrames()).isZero();
  }
}
