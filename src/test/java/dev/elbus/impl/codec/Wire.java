package dev.elbus.impl.codec;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds byte streams by hand (little-endian), independently of {@link FrameEncoder}. */
final class Wire {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  static Wire of(int... bytes) {
    return new Wire().u8(bytes);
  }

  Wire u8(int... bytes) {
    for (int b : bytes) {
      out.write(b);
    }
    return this;
  }

  Wire u16(int v) {
    return u8(v & 0xFF, (v >>> 8) & 0xFF);
  }

  Wire u32(long v) {
    return u8((int) (v & 0xFF), (int) ((v >>> 8) & 0xFF), (int) ((v >>> 16) & 0xFF),
        (int) ((v >>> 24) & 0xFF));
  }

  Wire bytes(byte[] b) {
    out.write(b, 0, b.length);
    return this;
  }

  Wire ascii(String s) {
    return bytes(s.getBytes(StandardCharsets.UTF_8));
  }

  /** The client handshake: {@code EB 01 00}, u16 name length, name. */
  Wire hello(byte[] name) {
    return u8(0xEB, 0x01, 0x00).u16(name.length).bytes(name);
  }

  /** A client frame: op id, flags, body length, body. */
  Wire clientFrame(int opId, int flags, byte[] body) {
    return u32(opId & 0xFFFFFFFFL).u8(flags).u32(body.length).bytes(body);
  }

  int size() {
    return out.size();
  }

  byte[] toArray() {
    return out.toByteArray();
  }

  static byte[] ascii0(String s) {
    // "a\0b" style strings: \0 is the protocol separator
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] concat(byte[]... parts) {
    Wire w = new Wire();
    for (byte[] p : parts) {
      w.bytes(p);
    }
    return w.toArray();
  }
}
