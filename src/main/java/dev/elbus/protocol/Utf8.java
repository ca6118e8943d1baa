package dev.elbus.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 decoding of names and topics: invalid input is an error, never replaced. */
public final class Utf8 {
  private Utf8() {}

  /**
   * Decodes {@code len} bytes at {@code index} of {@code buf} (reader index untouched).
   *
   * @return the string, or {@code null} when the bytes are not valid UTF-8
   */
  public static String decode(ByteBuf buf, int index, int len) {
    boolean ascii = true;
    for (int i = 0; i < len; i++) {
      if (buf.getByte(index + i) < 0) {
        ascii = false;
        break;
      }
    }
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
