/**
 * The elbus protocol's constants and rules that users meet: result codes and operations
 * ({@link dev.elbus.protocol.Protocol}), {@link dev.elbus.protocol.QoS} and the topic and name masks
 * ({@link dev.elbus.protocol.Masks}). Depends on nothing else of the project.
 */
package dev.elbus.protocol;
