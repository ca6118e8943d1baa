package dev.elbus.impl.codec;

import java.util.Arrays;

/**
 * One decoded event, comparable by value: client side (hello, name, ping, frame) and broker side
 * (greeting, response, ping, ack, frame).
 */
final class Ev {
  static final char HELLO = 'H';
  static final char NAME = 'N';
  static final char PING = 'P';
  static final char FRAME = 'F';
  static final char GREETING = 'G';
  static final char RESPONSE = 'R';
  static final char ACK = 'A';
  static final char BFRAME = 'B';

  final char kind;
  /** hello: greeting; frame: op id; greeting: greeting byte; response: code; ack: op id. */
  final int a;
  /** hello: version; frame: flags; greeting: version; ack: code; broker frame: type*2+realtime. */
  final int b;
  final byte[] data;

  private Ev(char kind, int a, int b, byte[] data) {
    this.kind = kind;
    this.a = a;
    this.b = b;
    this.data = data == null ? new byte[0] : data;
  }

  static Ev hello(int greeting, int version) {
    return new Ev(HELLO, greeting, version, null);
  }

  static Ev name(byte[] name) {
    return new Ev(NAME, 0, 0, name);
  }

  static Ev ping() {
    return new Ev(PING, 0, 0, null);
  }

  static Ev frame(int opId, int flags, byte[] body) {
    return new Ev(FRAME, opId, flags, body);
  }

  static Ev greeting(int greeting, int version) {
    return new Ev(GREETING, greeting, version, null);
  }

  static Ev response(int code) {
    return new Ev(RESPONSE, code, 0, null);
  }

  static Ev ack(int opId, int code) {
    return new Ev(ACK, opId, code, null);
  }

  static Ev brokerFrame(int type, boolean realtime, byte[] body) {
    return new Ev(BFRAME, type, realtime ? 1 : 0, body);
  }

  boolean realtime() {
    return b == 1;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Ev)) {
      return false;
    }
    Ev e = (Ev) o;
    return kind == e.kind && a == e.a && b == e.b && Arrays.equals(data, e.data);
  }

  @Override
  public int hashCode() {
    return (kind * 31 + a) * 31 + b + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder().append(kind).append('(')
        .append(Integer.toHexString(a)).append(',').append(Integer.toHexString(b));
    if (data.length > 0) {
      sb.append(",").append(data.length).append("B:");
      for (int i = 0; i < Math.min(data.length, 24); i++) {
        sb.append(String.format("%02x", data[i] & 0xFF));
      }
      if (data.length > 24) {
        sb.append("..");
      }
    }
    return sb.append(')').toString();
  }
}
