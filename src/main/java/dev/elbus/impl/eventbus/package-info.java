/**
 * Implementation, not API: in-process clients and the event bus. Internal client sessions and
 * handles, flow-controlled delivery to addresses, the broker's request address and the bridge.
 */
package dev.elbus.impl.eventbus;
