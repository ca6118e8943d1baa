/**
 * Implementation, not API: the configuration file's parser ({@code ServerConfig}, shared by the
 * server and {@code ElbusVerticle}) and file reading with vertx-config.
 */
package dev.elbus.impl.config;
