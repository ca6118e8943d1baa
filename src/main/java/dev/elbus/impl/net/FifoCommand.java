package dev.elbus.impl.net;

import dev.elbus.rpc.KvParams;

import java.util.Arrays;
import java.util.Map;

/**
 * One line of the FIFO command channel (PROTOCOL.md section 12), parsed. Lines are:
 *
 * <pre>
 *   TARGET MESSAGE             direct message; a broadcast when TARGET contains '*' or '?'
 *   =TOPIC MESSAGE             publication
 *   TARGET .MESSAGE            RPC notification
 *   TARGET :method k=v k=v     RPC call without reply (call id 0), params a MessagePack map
 * </pre>
 *
 * MESSAGE is the rest of the line (elbus kept only its first word). Param values are typed by
 * {@link KvParams#typed}: {@code true}/{@code false} become booleans, integers longs, decimals
 * doubles, anything else strings.
 */
public final class FifoCommand {
  /** What a line asks for. */
  public enum Kind { MESSAGE, BROADCAST, PUBLISH, NOTIFY, CALL0 }

  private final Kind kind;
  private final String target;
  private final String payload;
  private final String method;
  private final Map<String, Object> params;

  private FifoCommand(Kind kind, String target, String payload, String method,
      Map<String, Object> params) {
    this.kind = kind;
    this.target = target;
    this.payload = payload;
    this.method = method;
    this.params = params;
  }

  /**
   * Parses a line (without its line terminator).
   *
   * @throws IllegalArgumentException describing why the line is malformed
   */
  public static FifoCommand parse(String line) {
    String l = line.strip();
    if (l.isEmpty()) {
      throw new IllegalArgumentException("empty line");
    }
    int sp = l.indexOf(' ');
    if (sp < 0) {
      throw new IllegalArgumentException("expected 'TARGET MESSAGE', '=TOPIC MESSAGE', "
          + "'TARGET .MESSAGE' or 'TARGET :method k=v ...'");
    }
    String head = l.substring(0, sp);
    String rest = l.substring(sp + 1).stripLeading();
    if (head.startsWith("=")) {
      String topic = head.substring(1);
      if (topic.isEmpty()) {
        throw new IllegalArgumentException("empty topic");
      }
      return new FifoCommand(Kind.PUBLISH, topic, rest, null, null);
    }
    if (rest.startsWith(".")) {
      return new FifoCommand(Kind.NOTIFY, head, rest.substring(1), null, null);
    }
    if (rest.startsWith(":")) {
      String[] words = rest.substring(1).split("\\s+");
      String method = words[0];
      if (method.isEmpty()) {
        throw new IllegalArgumentException("empty RPC method");
      }
      Map<String, Object> params =
          KvParams.parse(Arrays.asList(words).subList(1, words.length));
      return new FifoCommand(Kind.CALL0, head, null, method, params);
    }
    boolean mask = head.indexOf('*') >= 0 || head.indexOf('?') >= 0;
    return new FifoCommand(mask ? Kind.BROADCAST : Kind.MESSAGE, head, rest, null, null);
  }

  public Kind kind() {
    return kind;
  }

  /** Target client, broadcast mask or topic. */
  public String target() {
    return target;
  }

  /** Message text (MESSAGE, BROADCAST, PUBLISH, NOTIFY). */
  public String payload() {
    return payload;
  }

  /** RPC method (CALL0). */
  public String method() {
    return method;
  }

  /** RPC params (CALL0), in line order. */
  public Map<String, Object> params() {
    return params;
  }
}
