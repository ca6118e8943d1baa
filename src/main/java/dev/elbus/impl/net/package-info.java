/**
 * Implementation, not API: listeners and connections. The per-event-loop listener verticle, the
 * socket connection (transport and handshake), socket sessions and their outbound scheduling, the
 * FIFO command channel.
 */
package dev.elbus.impl.net;
