package dev.elbus.rpc;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/**
 * Handles the requests of one method registered with {@link RpcClient#handler}.
 *
 * <p>The returned Future's value is the reply's result (a {@code null} Future or value is an
 * empty result). When the handler throws or the Future fails, the caller gets an error reply:
 * the code and data of an {@link RpcException}, else {@link RpcErrorCode#INTERNAL} with the
 * exception message as UTF-8 data. A request with call id 0 ({@code call0}) gets no reply in any
 * case (PROTOCOL.md section 9).
 *
 * <p>Threading: called on the thread that delivers the underlying client's frames (its Vert.x
 * context); a handler must not block it. It may complete its Future on any thread.
 */
@FunctionalInterface
public interface RpcHandler {

  /** Handles one request. */
  Future<Buffer> handle(RpcEvent event) throws Exception;

  /**
   * Adapts a synchronous handler that returns the result directly: {@code
   * RpcHandler.sync(e -> MsgPack.encodeBuffer(MsgPack.map("ok", true)))}.
   */
  static RpcHandler sync(Sync handler) {
    return e -> Future.succeededFuture(handler.handle(e));
  }

  /** A synchronous handler: returns the result or throws. */
  @FunctionalInterface
  interface Sync {
    Buffer handle(RpcEvent event) throws Exception;
  }
}
