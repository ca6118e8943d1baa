package dev.elbus.aaa;

import dev.elbus.protocol.Protocol;
import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The AAA map of a listener (PROTOCOL.md section 11): which primary client names may register and
 * with which rights ({@link ClientAcl}). Immutable and thread-safe, so a reload swaps the whole
 * policy atomically. A name that is not in the map may not register; the empty policy admits
 * nobody.
 *
 * <p>From a file, use {@link AaaParser}; embedding applications build one directly:
 *
 * <pre>{@code
 * AaaPolicy policy = AaaPolicy.builder()
 *     .client("plc1", ClientAcl.builder()
 *         .hostsAllow("10.0.0.0/8")
 *         .publish(ClientAcl.Rule.only("plc1/#"))
 *         .subscribe(ClientAcl.Rule.only("cmd/plc1/#"))
 *         .build())
 *     .client("ui", ClientAcl.ALLOW_ALL)
 *     .build();
 * }</pre>
 *
 * <p>Reload: the broker keeps the rights a client had when it registered; after swapping in a new
 * policy it disconnects the clients (primaries and their secondaries) named by {@code
 * old.changedOrRemoved(newer)} so they re-register under the new rules.
 */
public final class AaaPolicy {
  /** The policy that admits nobody ({@code clients: {}}). */
  public static final AaaPolicy EMPTY = new AaaPolicy(new TreeMap<>());

  /** Sorted by name, for stable logs and {@link #toJson()}. */
  private final Map<String, ClientAcl> clients;

  private AaaPolicy(TreeMap<String, ClientAcl> clients) {
    this.clients = Collections.unmodifiableMap(clients);
  }

  /** A new, empty builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The entry of a primary client name.
   *
   * @return the rights, or {@code null} when that name may not register
   */
  public ClientAcl get(String primaryName) {
    return clients.get(primaryName);
  }

  /**
   * The entry for a client's full name: a secondary {@code NAME%%SFX} has the rights of its
   * primary {@code NAME}.
   *
   * @return the rights, or {@code null} when that client may not register
   */
  public ClientAcl forClient(String clientName) {
    return clients.get(primaryName(clientName));
  }

  /** The part before the first {@code %%} (the whole name for a primary). */
  public static String primaryName(String clientName) {
    int sep = clientName.indexOf(Protocol.SECONDARY_SEP);
    return sep < 0 ? clientName : clientName.substring(0, sep);
  }

  /** The primary names with an entry, sorted. */
  public Set<String> names() {
    return clients.keySet();
  }

  /** All entries by primary name, sorted; unmodifiable. */
  public Map<String, ClientAcl> entries() {
    return clients;
  }

  /** The number of entries. */
  public int size() {
    return clients.size();
  }

  /**
   * The primary names whose clients must be disconnected when {@code newer} replaces this
   * policy: those whose entry is gone or no longer equal. Names that only {@code newer} has are
   * not included (nobody with that name can be connected under this policy).
   *
   * @return a sorted, unmodifiable set (empty when nothing relevant changed)
   */
  public Set<String> changedOrRemoved(AaaPolicy newer) {
    Objects.requireNonNull(newer, "newer");
    TreeSet<String> out = new TreeSet<>();
    for (Map.Entry<String, ClientAcl> e : clients.entrySet()) {
      if (!e.getValue().equals(newer.clients.get(e.getKey()))) {
        out.add(e.getKey());
      }
    }
    return Collections.unmodifiableSet(out);
  }

  /**
   * The policy in the file's schema ({@link AaaParser}): {@code {"clients": {name: entry}}} with
   * default rights left out. Parsing it gives an equal policy.
   */
  public JsonObject toJson() {
    JsonObject c = new JsonObject();
    clients.forEach((name, acl) -> c.put(name, acl.toJson()));
    return new JsonObject().put("clients", c);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AaaPolicy && ((AaaPolicy) o).clients.equals(clients);
  }

  @Override
  public int hashCode() {
    return clients.hashCode();
  }

  /** Compact JSON of {@link #toJson()}. */
  @Override
  public String toString() {
    return toJson().encode();
  }

  /**
   * Why {@code name} cannot be a primary name in a policy, or {@code null} when it can: it must be
   * non-empty, must not start with {@code .} (reserved for the broker's internal clients) and must
   * not contain {@code %%} (secondaries use their primary's entry) or a NUL character.
   */
  public static String invalidName(String name) {
    if (name == null || name.isEmpty()) {
      return "is empty";
    }
    if (name.charAt(0) == '.') {
      return "starts with '.' (reserved for the broker's internal clients)";
    }
    if (name.contains(Protocol.SECONDARY_SEP)) {
      return "contains '" + Protocol.SECONDARY_SEP
          + "' (a secondary client uses its primary's entry)";
    }
    if (name.indexOf('\0') >= 0) {
      return "contains a NUL character";
    }
    return null;
  }

  /** Builds an {@link AaaPolicy}; a later entry for the same name replaces the earlier one. */
  public static final class Builder {
    private final Map<String, ClientAcl> clients = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Adds (or replaces) the entry of a primary client name.
     *
     * @throws IllegalArgumentException when the name is not a valid primary name
     *     ({@link AaaPolicy#invalidName})
     */
    public Builder client(String primaryName, ClientAcl acl) {
      String why = invalidName(primaryName);
      if (why != null) {
        throw new IllegalArgumentException("client name "
            + AaaParser.quote(String.valueOf(primaryName)) + " " + why);
      }
      clients.put(primaryName, Objects.requireNonNull(acl, "acl"));
      return this;
    }

    /** Removes the entry of a name, if any. */
    public Builder remove(String primaryName) {
      clients.remove(primaryName);
      return this;
    }

    /** The policy; the builder may be reused. */
    public AaaPolicy build() {
      return new AaaPolicy(new TreeMap<>(clients));
    }
  }
}
