/**
 * Implementation, not API: the wire format. Resumable decoders for either side, exact-size frame
 * encoding, UTF-8 checks, RPC frames. Depends on {@code dev.elbus.protocol} only; no I/O.
 */
package dev.elbus.impl.codec;
