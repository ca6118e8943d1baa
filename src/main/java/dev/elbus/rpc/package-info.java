/**
 * The elbus RPC layer (PROTOCOL.md section 9) over any {@link dev.elbus.client.ElbusClient}:
 * {@link dev.elbus.rpc.RpcClient}, method handlers, errors and the MessagePack helpers.
 */
package dev.elbus.rpc;
