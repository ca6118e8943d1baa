/**
 * Implementation, not API: what the broker's TLS listeners and the client's TLS connections
 * share, the one-line description of a failed TLS handshake. No broker internals: the client
 * uses it too.
 */
package dev.elbus.impl.tls;
