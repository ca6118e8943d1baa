package dev.elbus.rpc;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * RPC params written as {@code k=v} words, as the FIFO channel (PROTOCOL.md section 12) and the
 * {@code elbus} CLI take them: the words become a MessagePack map (see {@link MsgPack#encode})
 * whose values are typed by {@link #typed}.
 *
 * <p>Threading: stateless; safe from any thread.
 */
public final class KvParams {
  private KvParams() {}

  /**
   * Parses {@code k=v} words into a map in word order (a repeated key keeps its last value).
   *
   * @throws IllegalArgumentException naming the first word that is not {@code k=v} with a
   *     non-empty key
   */
  public static Map<String, Object> parse(List<String> words) {
    Map<String, Object> params = new LinkedHashMap<>();
    for (String w : words) {
      int eq = w.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("RPC parameter '" + w + "' is not k=v");
      }
      params.put(w.substring(0, eq), typed(w.substring(eq + 1)));
    }
    return params;
  }

  /**
   * A {@code k=v} value typed as section 12 says: {@code true}/{@code false} become booleans,
   * integers longs, decimals doubles, anything else (the empty string included) stays a string.
   */
  public static Object typed(String v) {
    if (v.equals("true")) {
      return Boolean.TRUE;
    }
    if (v.equals("false")) {
      return Boolean.FALSE;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      // not an integer
    }
    if (!v.isEmpty() && (Character.isDigit(v.charAt(v.length() - 1)) || v.endsWith("."))) {
      try {
        return Double.parseDouble(v);
      } catch (NumberFormatException e) {
        // not a number
      }
    }
    return v;
  }
}
