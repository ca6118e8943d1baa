/**
 * The elbus broker as a Vert.x component: {@link dev.elbus.ElbusVerticle} (the verticle, configured
 * with the schema of {@code conf/elbus.yaml} as JSON), {@link dev.elbus.Broker} (the programmatic
 * API and handle), {@link dev.elbus.InternalClient} (an in-process client) and the read-only views
 * {@link dev.elbus.ClientInfo}, {@link dev.elbus.ListenerInfo} and {@link dev.elbus.BrokerStats}.
 *
 * <p>The public API is this package and {@code client}, {@code rpc}, {@code config}, {@code
 * eventbus}, {@code aaa} and {@code protocol} beside it. Packages under {@code dev.elbus.impl} are
 * the implementation: not part of the API, they change without notice.
 */
package dev.elbus;
