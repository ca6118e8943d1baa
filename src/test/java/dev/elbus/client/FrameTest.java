package dev.elbus.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.elbus.impl.codec.ProtocolException;
import dev.elbus.protocol.Protocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

/** {@link Frame#parse}: bodies, copies, and the per-connection cache of sender and topic. */
class FrameTest {

  private static ByteBuf body(String... parts) {
    ByteBuf b = Unpooled.buffer();
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        b.writeByte(0);
      }
      b.writeBytes(parts[i].getBytes(StandardCharsets.UTF_8));
    }
    return b;
  }

  @Test
  void parsesMessagesAndPublicationsCopyingThePayload() {
    ByteBuf m = body("sender%%2", "pay\0load");
    Frame f = Frame.parse(Protocol.FRAME_MESSAGE, true, m);
    m.setByte(m.writerIndex() - 1, 'X'); // the frame has its own copy
    assertThat(f.kind()).isEqualTo(FrameKind.MESSAGE);
    assertThat(f.sender()).isEqualTo("sender%%2");
    assertThat(f.primarySender()).isEqualTo("sender");
    assertThat(f.topic()).isNull();
    assertThat(f.payload().toString()).isEqualTo("pay\0load");
    assertThat(f.realtime()).isTrue();
    // the payload is an ordinary growable Buffer
    assertThat(f.payload().appendString("!").toString()).isEqualTo("pay\0load!");

    Frame p = Frame.parse(Protocol.FRAME_PUBLISH, false, body("s", "a/b", ""));
    assertThat(p.topic()).isEqualTo("a/b");
    assertThat(p.payload().length()).isZero();
  }

  @Test
  void theNamesCacheReturnsWhatTheBytesSay() {
    Frame.Names names = new Frame.Names();
    String[][] frames = {
        {"alpha", "t/1", "x"}, {"alpha", "t/1", "y"}, {"beta", "t/1", "z"}, {"alpha", "t/2", ""},
        {"alphb", "t/2", "q"}, {"", "", "e"}, {"ünï", "温度", "u"}, {"ünï", "温度", "v"},
    };
    for (String[] f : frames) {
      Frame parsed = Frame.parse(Protocol.FRAME_PUBLISH, false, body(f), names);
      assertThat(parsed.sender()).isEqualTo(f[0]);
      assertThat(parsed.topic()).isEqualTo(f[1]);
      assertThat(parsed.payload().toString()).isEqualTo(f[2]);
    }
    // a cached name does not let invalid bytes of the same length through
    Frame.parse(Protocol.FRAME_MESSAGE, false, body("ab", "p"), names);
    ByteBuf bad = Unpooled.buffer().writeByte(0xC3).writeByte('b').writeByte(0).writeByte('p');
    assertThatThrownBy(() -> Frame.parse(Protocol.FRAME_MESSAGE, false, bad, names))
        .isInstanceOf(ProtocolException.class);
  }

  @Test
  void malformedBodiesAreProtocolErrors() {
    assertThatThrownBy(() -> Frame.parse(Protocol.FRAME_MESSAGE, false, body("no-separator")))
        .isInstanceOf(ProtocolException.class);
    assertThatThrownBy(() -> Frame.parse(Protocol.FRAME_PUBLISH, false, body("s", "no-topic-end")))
        .isInstanceOf(ProtocolException.class);
    assertThatThrownBy(() -> Frame.parse(0x55, false, body("s", "p")))
        .isInstanceOf(ProtocolException.class);
  }
}
