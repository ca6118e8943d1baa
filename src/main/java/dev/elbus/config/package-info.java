/**
 * The broker's settings: {@link dev.elbus.config.BrokerOptions} (broker-wide), {@link
 * dev.elbus.config.ListenerOptions} (per listener, TLS included: {@link
 * dev.elbus.config.TlsOptions}) and {@link dev.elbus.config.InternalClientOptions} (per in-process
 * client). The configuration file and {@code ElbusVerticle}'s JSON are read into these.
 */
package dev.elbus.config;
