package dev.elbus.rpc;

import dev.elbus.support.LeakGate;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link RpcErrorCode} values (PROTOCOL.md section 9) and {@link RpcException} messages. */
@ExtendWith(LeakGate.class)
class RpcErrorsTest {

  @Test
  void standardCodes() {
    assertThat(RpcErrorCode.PARSE).isEqualTo((short) -32700);
    assertThat(RpcErrorCode.INVALID_REQUEST).isEqualTo((short) -32600);
    assertThat(RpcErrorCode.METHOD_NOT_FOUND).isEqualTo((short) -32601);
    assertThat(RpcErrorCode.INVALID_PARAMS).isEqualTo((short) -32602);
    assertThat(RpcErrorCode.INTERNAL).isEqualTo((short) -32603);
  }

  @Test
  void busCodesAreMinus32000MinusTheResultCode() {
    assertThat(RpcErrorCode.bus(0x71)).isEqualTo((short) -32113);
    assertThat(RpcErrorCode.BUS_NOT_REGISTERED).isEqualTo((short) -32113);
    assertThat(RpcErrorCode.BUS_IO).isEqualTo((short) -32115);
    assertThat(RpcErrorCode.BUS_TIMEOUT).isEqualTo((short) -32120);
    assertThat(RpcErrorCode.BUS_ACCESS).isEqualTo((short) -32121);
    assertThat(RpcErrorCode.bus(0xFF)).isEqualTo((short) -32255);
    assertThatThrownBy(() -> RpcErrorCode.bus(256)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RpcErrorCode.bus(-1)).isInstanceOf(IllegalArgumentException.class);
    assertThat(RpcErrorCode.isBus(-32113)).isTrue();
    assertThat(RpcErrorCode.busResultCode(-32120)).isEqualTo(0x78);
    assertThat(RpcErrorCode.isBus(RpcErrorCode.METHOD_NOT_FOUND)).isFalse();
    assertThat(RpcErrorCode.isBus(-32000)).isFalse();
    assertThat(RpcErrorCode.busResultCode(5)).isEqualTo(-1);
  }

  @Test
  void names() {
    assertThat(RpcErrorCode.name(-32601)).isEqualTo("method not found");
    assertThat(RpcErrorCode.name(-32113)).isEqualTo("bus error: not registered");
    assertThat(RpcErrorCode.name(-32120)).isEqualTo("bus error: timeout");
    assertThat(RpcErrorCode.name(7)).isEqualTo("error");
  }

  @Test
  void exceptionCarriesCodeAndDataWithAReadableMessage() {
    RpcException e = new RpcException(RpcErrorCode.METHOD_NOT_FOUND, "no such method");
    assertThat(e.code()).isEqualTo((short) -32601);
    assertThat(e.data().toString()).isEqualTo("no such method");
    assertThat(e.dataAsString()).isEqualTo("no such method");
    assertThat(e.getMessage()).isEqualTo("rpc error -32601 (method not found): no such method");
    assertThat(e).isInstanceOf(RuntimeException.class);
    assertThat(e.getStackTrace()).isEmpty();
  }

  @Test
  void exceptionMessageForEmptyAndBinaryData() {
    assertThat(new RpcException((short) -32603, (Buffer) null).getMessage())
        .isEqualTo("rpc error -32603 (internal error)");
    assertThat(new RpcException((short) 3, Buffer.buffer(new byte[] {1, (byte) 0xFF, 0}))
        .getMessage()).isEqualTo("rpc error 3 (error): 3 bytes of binary data");
    String longText = "y".repeat(500);
    assertThat(new RpcException((short) 3, longText).getMessage()).endsWith("y...")
        .hasSizeLessThan(300);
  }

  @Test
  void factories() {
    assertThat(RpcException.parse("p").code()).isEqualTo(RpcErrorCode.PARSE);
    assertThat(RpcException.invalidRequest("r").code()).isEqualTo(RpcErrorCode.INVALID_REQUEST);
    assertThat(RpcException.methodNotFound("m").dataAsString()).isEqualTo("method not found: m");
    assertThat(RpcException.invalidParams("i").code()).isEqualTo(RpcErrorCode.INVALID_PARAMS);
    assertThat(RpcException.internal("x").code()).isEqualTo(RpcErrorCode.INTERNAL);
    assertThat(RpcException.bus(0x78, "t").code()).isEqualTo((short) -32120);
  }
}
