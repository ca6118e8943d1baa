package dev.elbus.impl.codec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reference decoders written straight from PROTOCOL.md sections 1-3: whole byte arrays, no
 * streaming, long arithmetic. The oracle the streaming decoders are compared with.
 */
final class RefDecoders {
  private RefDecoders() {}

  /** What a correct decoder reports for a whole stream. */
  static final class Result {
    final List<Ev> events = new ArrayList<>();
    /** True when the stream holds a protocol violation (after the last event). */
    boolean error;
    /** End offset (exclusive) of each event in the stream. */
    final List<Integer> ends = new ArrayList<>();

    void add(Ev e, int end) {
      events.add(e);
      ends.add(end);
    }
  }

  private static long u32(byte[] s, int i) {
    return (s[i] & 0xFFL) | (s[i + 1] & 0xFFL) << 8 | (s[i + 2] & 0xFFL) << 16
        | (s[i + 3] & 0xFFL) << 24;
  }

  private static int u16(byte[] s, int i) {
    return (s[i] & 0xFF) | (s[i + 1] & 0xFF) << 8;
  }

  /** The client stream: greeting echo, name, then 9-byte-header frames. */
  static Result client(byte[] s, long maxFrameSize, int maxNameLength) {
    Result r = new Result();
    int n = s.length;
    if (n < 3) {
      return r;
    }
    r.add(Ev.hello(s[0] & 0xFF, u16(s, 1)), 3);
    if (n < 5) {
      return r;
    }
    int nameLen = u16(s, 3);
    if (nameLen > maxNameLength) {
      r.error = true;
      return r;
    }
    int p = 5;
    if (n - p < nameLen) {
      return r;
    }
    r.add(Ev.name(Arrays.copyOfRange(s, p, p + nameLen)), p + nameLen);
    p += nameLen;
    while (n - p >= 9) {
      int opId = (int) u32(s, p);
      int flags = s[p + 4] & 0xFF;
      if (flags == 0) {
        p += 9;
        r.add(Ev.ping(), p);
        continue;
      }
      long len = u32(s, p + 5);
      if (len > maxFrameSize) {
        r.error = true;
        return r;
      }
      if ((long) n - p - 9 < len) {
        return r;
      }
      r.add(Ev.frame(opId, flags, Arrays.copyOfRange(s, p + 9, p + 9 + (int) len)),
          p + 9 + (int) len);
      p += 9 + (int) len;
    }
    return r;
  }

  /** The broker stream: greeting, two response bytes, then 6-byte-header frames. */
  static Result broker(byte[] s, long maxFrameSize) {
    Result r = new Result();
    int n = s.length;
    if (n < 3) {
      return r;
    }
    r.add(Ev.greeting(s[0] & 0xFF, u16(s, 1)), 3);
    for (int p = 3; p < 5; p++) {
      if (n <= p) {
        return r;
      }
      r.add(Ev.response(s[p] & 0xFF), p + 1);
    }
    int p = 5;
    while (n - p >= 6) {
      int type = s[p] & 0xFF;
      if (type == 0xFE) {
        r.add(Ev.ack((int) u32(s, p + 1), s[p + 5] & 0xFF), p + 6);
        p += 6;
        continue;
      }
      if (type == 0x00) {
        r.add(Ev.ping(), p + 6);
        p += 6;
        continue;
      }
      long len = u32(s, p + 1);
      if (len > maxFrameSize) {
        r.error = true;
        return r;
      }
      if ((long) n - p - 6 < len) {
        return r;
      }
      r.add(Ev.brokerFrame(type, s[p + 5] != 0, Arrays.copyOfRange(s, p + 6, p + 6 + (int) len)),
          p + 6 + (int) len);
      p += 6 + (int) len;
    }
    return r;
  }
}
