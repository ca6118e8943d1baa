package dev.elbus.aaa;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an AAA file's tree (as vertx-config or {@code new JsonObject(map)} gives it) into an
 * {@link AaaPolicy}. Every problem is reported, not just the first; each message names the file,
 * the entry and the bad value, e.g. {@code conf/aaa.yaml: clients.plc1.hosts_allow[1]:
 * '10.0.0/8' is not a CIDR network}.
 *
 * <h2>Schema</h2>
 *
 * <pre>
 * clients:                 # required map: primary client name -&gt; entry
 *   plc1:                  # secondaries plc1%%x use this entry
 *     hosts_allow: [127.0.0.1/32, "::1/128", 10.0.0.0/8]  # CIDR list; default: any address
 *     allow_p2p_to: ["ui.*", "historian"]  # name masks for direct-message targets; default: any
 *     deny_p2p: false                      # true: no direct messages at all
 *     allow_publish_to: ["plc1/#"]         # topic masks; default: any
 *     deny_publish: false
 *     allow_subscribe_to: ["cmd/plc1/#"]   # topic masks covering each subscription pattern
 *     deny_subscribe: false
 *     allow_broadcast_to: ["plc.*"]        # name masks covering each broadcast mask
 *     deny_broadcast: false
 *   ui: {}                 # empty entry: every right, any address
 * </pre>
 *
 * Rules:
 *
 * <ul>
 *   <li>{@code clients} is required and must be a map; {@code clients: {}} is valid and admits
 *       nobody. No other top-level key is allowed.
 *   <li>A client name must be non-empty, must not start with {@code .}, and must not contain
 *       {@code %%} or a NUL character ({@link AaaPolicy#invalidName}). An entry must be a map
 *       ({@code {}} for every right); only the nine keys above are allowed.
 *   <li>{@code hosts_allow} and {@code allow_*_to} must be lists of strings (a single string is
 *       an error, so is {@code null}); each {@code hosts_allow} item must parse as a
 *       {@link Cidr}; a mask must not contain a NUL character. {@code allow_X_to: []} allows
 *       nothing; a list holding the full wildcard ({@code *} or {@code #}) allows everything.
 *   <li>{@code deny_*} must be a boolean; {@code deny_X: true} with a non-empty
 *       {@code allow_X_to} is a contradiction and an error.
 * </ul>
 *
 * The semantics of the rights are those of {@link ClientAcl}.
 */
public final class AaaParser {
  private static final Set<String> TOP_KEYS = Set.of("clients");
  private static final String[] RIGHTS = {"p2p", "publish", "subscribe", "broadcast"};
  private static final Set<String> CLIENT_KEYS = Set.of("hosts_allow", "allow_p2p_to",
      "deny_p2p", "allow_publish_to", "deny_publish", "allow_subscribe_to", "deny_subscribe",
      "allow_broadcast_to", "deny_broadcast");

  private AaaParser() {}

  /** Either a policy or the list of errors that prevented it. */
  public static final class Result {
    private final AaaPolicy policy;
    private final List<String> errors;

    private Result(AaaPolicy policy, List<String> errors) {
      this.policy = policy;
      this.errors = Collections.unmodifiableList(errors);
    }

    /** Did the tree parse without errors? */
    public boolean isOk() {
      return policy != null;
    }

    /**
     * The policy.
     *
     * @throws IllegalStateException when there were errors
     */
    public AaaPolicy policy() {
      if (policy == null) {
        throw new IllegalStateException("AAA policy has errors: " + errors);
      }
      return policy;
    }

    /** The errors, each naming the source, the entry and the value; empty when {@link #isOk}. */
    public List<String> errors() {
      return errors;
    }

    /**
     * The policy.
     *
     * @throws IllegalArgumentException with every error, one per line, when there were errors
     */
    public AaaPolicy orElseThrow() {
      if (policy == null) {
        throw new IllegalArgumentException(String.join("\n", errors));
      }
      return policy;
    }

    @Override
    public String toString() {
      return isOk() ? "ok " + policy : "errors " + errors;
    }
  }

  /**
   * Parses a policy tree.
   *
   * @param json the file's content ({@code null} is treated as an empty file)
   * @param source the file name, prefixed to every error
   */
  public static Result parse(JsonObject json, String source) {
    List<String> errors = new ArrayList<>();
    String src = source + ": ";
    Map<?, ?> top = json == null ? Map.of() : json.getMap();
    for (Object k : top.keySet()) {
      if (k == null || !TOP_KEYS.contains(k)) {
        errors.add(src + "unknown key " + render(k));
      }
    }
    AaaPolicy.Builder policy = AaaPolicy.builder();
    if (!top.containsKey("clients")) {
      errors.add(src + "'clients' is missing (write 'clients: {}' to admit nobody)");
    } else if (!(wrap(top.get("clients")) instanceof JsonObject)) {
      errors.add(src + "clients: must be a map of client names to entries, got "
          + render(top.get("clients")));
    } else {
      for (Map.Entry<?, ?> e : ((JsonObject) wrap(top.get("clients"))).getMap().entrySet()) {
        String name = String.valueOf(e.getKey());
        String why = AaaPolicy.invalidName(name);
        if (why != null) {
          errors.add(src + "clients: client name " + quote(name) + " " + why);
          continue;
        }
        ClientAcl acl = client(wrap(e.getValue()), src + "clients." + escape(name), errors);
        if (acl != null) {
          policy.client(name, acl);
        }
      }
    }
    return errors.isEmpty() ? new Result(policy.build(), List.of()) : new Result(null, errors);
  }

  /**
   * Parses a policy tree, throwing on errors.
   *
   * @throws IllegalArgumentException with every error, one per line
   */
  public static AaaPolicy parseOrThrow(JsonObject json, String source) {
    return parse(json, source).orElseThrow();
  }

  /** One entry; null (with errors added) when it is bad. */
  private static ClientAcl client(Object v, String where, List<String> errors) {
    if (!(v instanceof JsonObject)) {
      errors.add(where + ": must be a map ({} for an entry with every right), got " + render(v));
      return null;
    }
    int before = errors.size();
    Map<?, ?> m = ((JsonObject) v).getMap();
    for (Object k : m.keySet()) {
      if (k == null || !CLIENT_KEYS.contains(k)) {
        errors.add(where + ": unknown key " + render(k));
      }
    }
    ClientAcl.Builder b = ClientAcl.builder();
    if (m.containsKey("hosts_allow")) {
      List<String> hosts = strings(m.get("hosts_allow"), where + ".hosts_allow",
          "CIDR networks", errors);
      for (int i = 0; hosts != null && i < hosts.size(); i++) {
        try {
          b.hostsAllow(List.of(Cidr.parse(hosts.get(i))));
        } catch (IllegalArgumentException ex) {
          errors.add(where + ".hosts_allow[" + i + "]: " + ex.getMessage());
        }
      }
    }
    for (String right : RIGHTS) {
      String what = right.equals("publish") || right.equals("subscribe") ? "topic masks"
          : "client-name masks";
      String allowKey = "allow_" + right + "_to";
      String denyKey = "deny_" + right;
      List<String> masks = null;
      if (m.containsKey(allowKey)) {
        masks = strings(m.get(allowKey), where + "." + allowKey, what, errors);
        boolean nul = false;
        for (int i = 0; masks != null && i < masks.size(); i++) {
          if (masks.get(i).indexOf('\0') >= 0) {
            errors.add(where + "." + allowKey + "[" + i + "]: mask " + quote(masks.get(i))
                + " contains a NUL character");
            nul = true;
          }
        }
        masks = nul ? null : masks;
      }
      boolean deny = false;
      if (m.containsKey(denyKey)) {
        Object d = m.get(denyKey);
        if (d instanceof Boolean) {
          deny = (Boolean) d;
        } else {
          errors.add(where + "." + denyKey + ": must be true or false, got " + render(d));
        }
      }
      if (deny && masks != null && !masks.isEmpty()) {
        errors.add(where + ": " + denyKey + ": true contradicts the non-empty " + allowKey);
      }
      ClientAcl.Rule r = deny ? ClientAcl.Rule.deny()
          : masks != null ? ClientAcl.Rule.only(masks) : ClientAcl.Rule.any();
      switch (right) {
        case "p2p" -> b.p2p(r);
        case "publish" -> b.publish(r);
        case "subscribe" -> b.subscribe(r);
        default -> b.broadcast(r);
      }
    }
    return errors.size() == before ? b.build() : null;
  }

  /** A list of strings, or null (with errors added). */
  private static List<String> strings(Object v, String where, String what, List<String> errors) {
    Object w = wrap(v);
    if (!(w instanceof JsonArray)) {
      errors.add(where + ": must be a list of " + what + ", got " + render(v));
      return null;
    }
    List<?> list = ((JsonArray) w).getList();
    List<String> out = new ArrayList<>(list.size());
    boolean ok = true;
    for (int i = 0; i < list.size(); i++) {
      Object e = list.get(i);
      if (e instanceof String) {
        out.add((String) e);
      } else {
        errors.add(where + "[" + i + "]: must be a string, got " + render(e));
        ok = false;
      }
    }
    return ok ? out : null;
  }

  /** Maps and lists as {@link JsonObject} / {@link JsonArray}, the rest as is. */
  @SuppressWarnings("unchecked")
  private static Object wrap(Object v) {
    if (v instanceof Map) {
      return new JsonObject((Map<String, Object>) v);
    }
    if (v instanceof List) {
      return new JsonArray((List<Object>) v);
    }
    return v;
  }

  /** A value for an error message: strings quoted, maps and lists as JSON, others as text. */
  static String render(Object v) {
    Object w = wrap(v);
    if (w instanceof String) {
      return quote((String) w);
    }
    String s;
    try {
      s = w instanceof JsonObject ? ((JsonObject) w).encode()
          : w instanceof JsonArray ? ((JsonArray) w).encode() : String.valueOf(w);
    } catch (RuntimeException e) { // a value JSON cannot encode (e.g. a YAML date)
      s = String.valueOf(v);
    }
    return escape(s.length() > 100 ? s.substring(0, 100) + "..." : s);
  }

  /** {@code 'text'}, control characters escaped, cut after 100 characters. */
  static String quote(String s) {
    return "'" + escape(s.length() > 100 ? s.substring(0, 100) + "..." : s) + "'";
  }

  private static String escape(String s) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        if (sb == null) {
          sb = new StringBuilder(s.substring(0, i));
        }
        sb.append(String.format("\\u%04x", (int) c));
      } else if (sb != null) {
        sb.append(c);
      }
    }
    return sb == null ? s : sb.toString();
  }
}
