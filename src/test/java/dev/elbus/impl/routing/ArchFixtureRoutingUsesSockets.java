package dev.elbus.impl.routing;

import io.netty.channel.Channel;
import io.vertx.core.net.NetSocket;

/** A deliberate violation for ArchitectureTest (never used): the routing core touching sockets. */
final class ArchFixtureRoutingUsesSockets {
  Channel channel;
  NetSocket socket;
}
