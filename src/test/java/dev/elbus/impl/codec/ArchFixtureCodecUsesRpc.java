package dev.elbus.impl.codec;

import dev.elbus.rpc.RpcException;

/**
 * A deliberate violation for ArchitectureTest (never used): the codec depending on the RPC API,
 * which depends on the codec (as an overload of {@code RpcFrames.error} once did).
 */
final class ArchFixtureCodecUsesRpc {
  RpcException error;
}
