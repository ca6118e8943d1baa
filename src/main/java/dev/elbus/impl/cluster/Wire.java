package dev.elbus.impl.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What nodes send each other on their inbox addresses ({@code elbus.node.<node id>}): one
 * Vert.x {@code Buffer} per message, its first byte the kind. Integers are big-endian, strings
 * a u32 length and UTF-8. Nodes of one cluster run the same jar: there is no version field.
 *
 * <pre>
 * HELLO   01 str node-id, u64 incarnation, snapshot
 *                                             reply: empty, once applied
 * DELTAS  02 str node-id, u64 incarnation, u32 n, delta*
 *                                             reply: empty, once applied (fails RESET: hello
 *                                             again)
 * BATCH   03 entry*                           reply: u8 code per acked entry, in order
 * EVICT   04 str name, str holder             reply: empty, once disconnected
 * LIST    05 MessagePack params               reply: MessagePack {clients, secondaries, more}
 * STATS   06                                  reply: MessagePack counters
 * BYE     07 str node-id, u64 incarnation     reply: empty (the sender's broker closed)
 *
 * incarnation: random per start of a broker: a broker started again on the same Vert.x node
 * (same node id) numbers its announcements from 0 again, and is told apart by it
 * snapshot  str node-name, u64 seq, u32 n, (str name, u64 token)*, u32 m, str pattern*
 * delta     u64 seq, u8 op (REG, UNREG: str name, u64 token; SUB, UNSUB: str pattern)
 * entry     u8 kind (MSG, BCAST, PUB, PUBFOR), u8 flags (1 realtime, 2 acked), u32 stat bytes,
 *           str key (target, mask or topic), [str receiver: PUBFOR], u32 n, n bytes: the broker
 *           frame for the receivers, header included
 * </pre>
 */
final class Wire {
  static final int HELLO = 1;
  static final int DELTAS = 2;
  static final int BATCH = 3;
  static final int EVICT = 4;
  static final int LIST = 5;
  static final int STATS = 6;
  static final int BYE = 7;

  static final int REG = 1;
  static final int UNREG = 2;
  static final int SUB = 3;
  static final int UNSUB = 4;

  static final int MSG = 1;
  static final int BCAST = 2;
  static final int PUB = 3;
  static final int PUBFOR = 4;

  static final int REALTIME = 1;
  static final int ACKED = 2;

  /** The failure code of a DELTAS the receiver cannot apply: the sender says HELLO again. */
  static final int RESET = 1;

  private Wire() {}

  static void writeString(ByteBuf b, String s) {
    int n = ByteBufUtil.utf8Bytes(s);
    b.writeInt(n);
    ByteBufUtil.reserveAndWriteUtf8(b, s, n);
  }

  static String readString(ByteBuf b) {
    int n = b.readInt();
    if (n < 0 || n > b.readableBytes()) {
      throw new IllegalArgumentException("bad string length " + n);
    }
    String s = b.toString(b.readerIndex(), n, StandardCharsets.UTF_8);
    b.skipBytes(n);
    return s;
  }

  /**
   * Reads strings, remembering the last one: a stream of frames to one topic or target decodes
   * it once. One thread at a time.
   */
  static final class KeyCache {
    private static final int MAX = 256;
    private byte[] lastBytes = new byte[0];
    private String last = "";

    String read(ByteBuf b) {
      int n = b.readInt();
      if (n < 0 || n > b.readableBytes()) {
        throw new IllegalArgumentException("bad string length " + n);
      }
      int at = b.readerIndex();
      if (n == lastBytes.length) {
        int i = 0;
        while (i < n && b.getByte(at + i) == lastBytes[i]) {
          i++;
        }
        if (i == n) {
          b.skipBytes(n);
          return last;
        }
      }
      String s = b.toString(at, n, StandardCharsets.UTF_8);
      if (n <= MAX) {
        byte[] copy = new byte[n];
        b.getBytes(at, copy);
        lastBytes = copy;
        last = s;
      }
      b.skipBytes(n);
      return s;
    }
  }

  /** One delta: {@code op} on {@code key} (a name with its token, or a pattern). */
  record Delta(long seq, int op, String key, long token) {
    void write(ByteBuf b) {
      b.writeLong(seq);
      b.writeByte(op);
      writeString(b, key);
      if (op == REG || op == UNREG) {
        b.writeLong(token);
      }
    }

    static Delta read(ByteBuf b) {
      long seq = b.readLong();
      int op = b.readUnsignedByte();
      String key = readString(b);
      long token = op == REG || op == UNREG ? b.readLong() : 0;
      if (op < REG || op > UNSUB) {
        throw new IllegalArgumentException("bad delta op " + op);
      }
      return new Delta(seq, op, key, token);
    }
  }

  /** What a node announces of itself: its names with their tokens and its patterns. */
  record Snapshot(String nodeName, long seq, Map<String, Long> names, List<String> patterns) {
    ByteBuf encode(String node, long incarnation) {
      ByteBuf b = Unpooled.buffer(64 + 32 * (names.size() + patterns.size()));
      b.writeByte(HELLO);
      writeString(b, node);
      b.writeLong(incarnation);
      writeBody(b);
      return b;
    }

    void writeBody(ByteBuf b) {
      writeString(b, nodeName);
      b.writeLong(seq);
      b.writeInt(names.size());
      for (Map.Entry<String, Long> e : names.entrySet()) {
        writeString(b, e.getKey());
        b.writeLong(e.getValue());
      }
      b.writeInt(patterns.size());
      for (String p : patterns) {
        writeString(b, p);
      }
    }

    static Snapshot read(ByteBuf b) {
      String nodeName = readString(b);
      long seq = b.readLong();
      int n = count(b);
      Map<String, Long> names = new java.util.HashMap<>();
      for (int i = 0; i < n; i++) {
        String name = readString(b);
        names.put(name, b.readLong());
      }
      int m = count(b);
      List<String> patterns = new ArrayList<>(m);
      for (int i = 0; i < m; i++) {
        patterns.add(readString(b));
      }
      return new Snapshot(nodeName, seq, names, patterns);
    }
  }

  /** A DELTAS message of {@code node}'s {@code deltas}, in order. */
  static ByteBuf deltas(String node, long incarnation, List<Delta> deltas) {
    ByteBuf b = Unpooled.buffer(64 + 32 * deltas.size());
    b.writeByte(DELTAS);
    writeString(b, node);
    b.writeLong(incarnation);
    b.writeInt(deltas.size());
    for (Delta d : deltas) {
      d.write(b);
    }
    return b;
  }

  /** A BYE of {@code node}'s broker of {@code incarnation}. */
  static ByteBuf bye(String node, long incarnation) {
    ByteBuf b = Unpooled.buffer(16 + node.length() * 3);
    b.writeByte(BYE);
    writeString(b, node);
    b.writeLong(incarnation);
    return b;
  }

  /** A count read from a peer: never more than the bytes that could hold it. */
  static int count(ByteBuf b) {
    int n = b.readInt();
    if (n < 0 || n > b.readableBytes()) {
      throw new IllegalArgumentException("bad count " + n);
    }
    return n;
  }
}
