/**
 * Implementation, not API: the routing core shared by every event loop. Registry, topic index,
 * {@code Router} and {@code Session}, the sink every kind of client implements. No sockets.
 */
package dev.elbus.impl.routing;
