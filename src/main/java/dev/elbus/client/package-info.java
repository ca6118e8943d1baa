/**
 * The Java elbus client: {@link dev.elbus.client.ElbusClient} (over a socket, {@link
 * dev.elbus.client.NetworkClient}, or in-process), incoming {@link dev.elbus.client.Frame}s, result
 * codes as {@link dev.elbus.client.ElbusException}, and {@link dev.elbus.client.Bind}, the address
 * syntax shared with the broker's listeners. Depends on no part of the broker.
 */
package dev.elbus.client;
