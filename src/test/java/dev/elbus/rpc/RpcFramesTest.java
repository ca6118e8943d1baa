package dev.elbus.rpc;

import dev.elbus.impl.codec.RpcFrames;
import dev.elbus.support.LeakGate;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Golden bytes and parse failures of the RPC frames (PROTOCOL.md section 9). */
@ExtendWith(LeakGate.class)
class RpcFramesTest {

  static Buffer hex(String s) {
    String h = s.replace(" ", "");
    byte[] b = new byte[h.length() / 2];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
    }
    return Buffer.buffer(b);
  }

  static String hexOf(Buffer b) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < b.length(); i++) {
      if (i > 0) {
        sb.append(' ');
      }
      sb.append(String.format("%02x", b.getUnsignedByte(i)));
    }
    return sb.toString();
  }

  @Test
  void notificationGoldenBytes() {
    assertThat(hexOf(RpcFrames.notification(Buffer.buffer("hi")))).isEqualTo("00 68 69");
    assertThat(hexOf(RpcFrames.notification(null))).isEqualTo("00");
    RpcFrames.Parsed p = RpcFrames.parse(hex("00 68 69"));
    assertThat(p).isInstanceOf(RpcFrames.Notification.class);
    assertThat(((RpcFrames.Notification) p).payload().toString()).isEqualTo("hi");
    assertThat(((RpcFrames.Notification) RpcFrames.parse(hex("00"))).payload().length()).isZero();
  }

  @Test
  void requestGoldenBytes() {
    assertThat(hexOf(RpcFrames.request(1, "test", Buffer.buffer())))
        .isEqualTo("01 01 00 00 00 74 65 73 74 00");
    assertThat(hexOf(RpcFrames.request(0x01020304L, "m", hex("81 a2 6f 6b c3"))))
        .isEqualTo("01 04 03 02 01 6d 00 81 a2 6f 6b c3");
    // call0: call id 0
    assertThat(hexOf(RpcFrames.request(0, "x", null))).isEqualTo("01 00 00 00 00 78 00");
    // the largest call id is u32, not a negative int
    assertThat(hexOf(RpcFrames.request(0xFFFF_FFFFL, "", null))).isEqualTo("01 ff ff ff ff 00");

    RpcFrames.Request r = (RpcFrames.Request) RpcFrames.parse(
        hex("01 04 03 02 01 6d 00 81 a2 6f 6b c3"));
    assertThat(r.callId()).isEqualTo(0x01020304L);
    assertThat(r.method()).isEqualTo("m");
    assertThat(hexOf(r.params())).isEqualTo("81 a2 6f 6b c3");
    RpcFrames.Request big = (RpcFrames.Request) RpcFrames.parse(hex("01 ff ff ff ff 00"));
    assertThat(big.callId()).isEqualTo(4_294_967_295L);
    assertThat(big.method()).isEmpty();
    assertThat(big.params().length()).isZero();
  }

  @Test
  void requestParamsMayContainZeroBytes() {
    // only the first 00 ends the method; params are opaque
    RpcFrames.Request r = (RpcFrames.Request) RpcFrames.parse(hex("01 02 00 00 00 61 00 00 62 00"));
    assertThat(r.method()).isEqualTo("a");
    assertThat(hexOf(r.params())).isEqualTo("00 62 00");
  }

  @Test
  void utf8MethodName() {
    Buffer b = RpcFrames.request(5, "größe", null);
    assertThat(hexOf(b)).isEqualTo("01 05 00 00 00 67 72 c3 b6 c3 9f 65 00");
    assertThat(((RpcFrames.Request) RpcFrames.parse(b)).method()).isEqualTo("größe");
  }

  @Test
  void replyGoldenBytes() {
    assertThat(hexOf(RpcFrames.reply(0x01020304L, hex("81 a2 6f 6b c3"))))
        .isEqualTo("11 04 03 02 01 81 a2 6f 6b c3");
    assertThat(hexOf(RpcFrames.reply(9, null))).isEqualTo("11 09 00 00 00");
    RpcFrames.Reply r = (RpcFrames.Reply) RpcFrames.parse(hex("11 04 03 02 01 81 a2 6f 6b c3"));
    assertThat(r.callId()).isEqualTo(0x01020304L);
    assertThat(hexOf(r.result())).isEqualTo("81 a2 6f 6b c3");
    RpcFrames.Reply empty = (RpcFrames.Reply) RpcFrames.parse(hex("11 09 00 00 00"));
    assertThat(empty.callId()).isEqualTo(9);
    assertThat(empty.result().length()).isZero();
  }

  @Test
  void errorReplyGoldenBytes() {
    // -32601 as i16 LE is a7 80
    assertThat(hexOf(RpcFrames.error(7, RpcErrorCode.METHOD_NOT_FOUND, Buffer.buffer("x"))))
        .isEqualTo("12 07 00 00 00 a7 80 78");
    // -32113 (bus error 0x71) is 0x828f: 8f 82
    assertThat(hexOf(RpcFrames.error(1, RpcErrorCode.bus(0x71), null)))
        .isEqualTo("12 01 00 00 00 8f 82");
    // a positive application code
    assertThat(hexOf(RpcFrames.error(1, (short) 5, null))).isEqualTo("12 01 00 00 00 05 00");
    assertThat(hexOf(RpcFrames.error(2, RpcException.internal("boom").code(),
        RpcException.internal("boom").data())))
        .isEqualTo("12 02 00 00 00 a5 80 62 6f 6f 6d");

    RpcFrames.ErrorReply e = (RpcFrames.ErrorReply) RpcFrames.parse(
        hex("12 07 00 00 00 a7 80 78"));
    assertThat(e.callId()).isEqualTo(7);
    assertThat(e.code()).isEqualTo((short) -32601);
    assertThat(e.data().toString()).isEqualTo("x");
    RpcFrames.ErrorReply noData = (RpcFrames.ErrorReply) RpcFrames.parse(
        hex("12 01 00 00 00 8f 82"));
    assertThat(noData.code()).isEqualTo((short) -32113);
    assertThat(noData.data().length()).isZero();
  }

  @Test
  void parsedPartsAreCopies() {
    Buffer in = hex("11 01 00 00 00 41 42");
    RpcFrames.Reply r = (RpcFrames.Reply) RpcFrames.parse(in);
    in.setByte(5, (byte) 0x5A);
    assertThat(r.result().toString()).isEqualTo("AB");
  }

  @Test
  void parseFailuresAreValuesNotExceptions() {
    assertInvalid(Buffer.buffer(), "empty");
    assertInvalid(null, "empty");
    assertInvalid(hex("01"), "request too short");
    assertInvalid(hex("01 01 00 00"), "request too short");
    assertInvalid(hex("01 01 00 00 00"), "request too short");
    assertInvalid(hex("01 01 00 00 00 74 65 73 74"), "without a method terminator");
    assertInvalid(hex("01 01 00 00 00 ff fe 00"), "not valid UTF-8");
    assertInvalid(hex("11"), "reply too short");
    assertInvalid(hex("11 01 00 00"), "reply too short");
    assertInvalid(hex("12 01 00 00 00"), "error reply too short");
    assertInvalid(hex("12 01 00 00 00 a7"), "error reply too short");
    assertInvalid(hex("05 01 02"), "unknown RPC frame type 0x05");
    assertInvalid(hex("ff"), "unknown RPC frame type 0xff");
  }

  private static void assertInvalid(Buffer in, String reason) {
    RpcFrames.Parsed p = RpcFrames.parse(in);
    assertThat(p).isInstanceOf(RpcFrames.Invalid.class);
    assertThat(((RpcFrames.Invalid) p).reason()).contains(reason);
  }

  @Test
  void encodingRejectsWhatCannotBeOnTheWire() {
    assertThatThrownBy(() -> RpcFrames.request(1, "a\0b", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NUL");
    assertThatThrownBy(() -> RpcFrames.request(0x1_0000_0000L, "a", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("u32");
    assertThatThrownBy(() -> RpcFrames.reply(-1, null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RpcFrames.error(-1, (short) 0, null))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
