package dev.elbus.impl.codec;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 decoding of names and topics: invalid input is an error, never replaced. */
public final class Utf8 {
  private Utf8() {}

  /** Continues while the byte is ASCII (stops at the first byte with the high bit set). */
  private static final io.netty.util.ByteProcessor NON_ASCII = b -> b >= 0;

  /**
   * Decodes {@code len} bytes at {@code index} of {@code buf} (reader index untouched).
   *
   * @return the string, or {@code null} when the bytes are not valid UTF-8
   */
  public static String decode(ByteBuf buf, int index, int len) {
    // one scan of the buffer, not an access per byte: a leak-tracking buffer records each
    // access, which made a 16 MiB topic cost minutes under Netty's PARANOID leak detection
    boolean ascii = len == 0 || buf.forEachByte(index, len, NON_ASCII) < 0;
    if (ascii) {
      return buf.toString(index, len, StandardCharsets.US_ASCII);
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(buf.nioBuffer(index, len))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * The bytes as a string when they are strict UTF-8 without control characters (tab, newline and
   * carriage return allowed), else {@code null}: whether a payload can be shown as text.
   */
  public static String printable(byte[] bytes) {
    String s = decode(bytes);
    if (s == null) {
      return null;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c) && c != '\t' && c != '\n' && c != '\r') {
        return null;
      }
    }
    return s;
  }

  /** Decodes a whole byte array strictly; {@code null} when invalid. */
  public static String decode(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
