package dev.elbus.aaa;

import dev.elbus.protocol.Masks;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The rights of one AAA entry (PROTOCOL.md section 11): where the client may connect from and what
 * it may send. Immutable and thread-safe; {@link #equals} is semantic (order and duplicates in
 * lists do not matter), so a reload can find the clients whose rights changed.
 *
 * <h2>The five rights</h2>
 *
 * <ul>
 *   <li>{@link #hostAllowed}: the peer address must be in one of the {@code hosts_allow}
 *       networks; no networks means any address of either family.
 *   <li>{@link #canSendTo}: the direct-message target is a literal (full) client name; allowed
 *       when one allowed name mask matches it ({@link Masks#nameMatches}). A secondary
 *       {@code hist%%1} is a name of its own: the mask {@code hist} does not match it. The broker
 *       passes the target's primary name (so {@code hist} allows {@code hist%%1}: a secondary is
 *       an instance of its primary).
 *   <li>{@link #canPublish}: the topic is literal ({@code +} and {@code #} in it are plain
 *       characters); allowed when one allowed topic mask matches it ({@link Masks#topicMatches}).
 *   <li>{@link #canSubscribe} and {@link #canBroadcast}: the request is itself a pattern; it is
 *       allowed only when one allowed mask <em>covers</em> it (below), never by comparing strings.
 * </ul>
 *
 * Each of p2p, publish, subscribe and broadcast is a {@link Rule}: any (the default), a list of
 * masks, or denied. A list holding the full wildcard ({@code *} for names, {@code #} for topics,
 * also as the first level of a longer mask such as {@code #/x}) is stored as "any"; an empty list
 * is stored as "denied". Only the client's registration name is checked here; a secondary
 * {@code NAME%%SFX} uses the entry of {@code NAME} (see {@link AaaPolicy#forClient}).
 *
 * <h2>Pattern containment</h2>
 *
 * A mask M covers a pattern P when every topic (name) P matches is matched by M. Both languages
 * work alike: levels split on {@code /} (parts on {@code .}); the one-level wildcard is {@code +}
 * ({@code ?}) and the rest wildcard is {@code #} ({@code *}), which matches one or more levels and
 * ends the pattern wherever it stands ({@code a/#/b} is {@code a/#}). Walking level {@code i} from
 * 0:
 *
 * <ol>
 *   <li>M has ended: covered iff P has ended too;
 *   <li>M is {@code #} at i: covered iff P has a level at i ({@code a/#} does not match {@code a});
 *   <li>P has ended while M continues: not covered;
 *   <li>P is {@code #} at i (M is not): not covered (P reaches arbitrary depth);
 *   <li>M is {@code +} at i: it covers a P literal or {@code +}; go on;
 *   <li>M is a literal: it covers only the identical P literal (not {@code +}); go on.
 * </ol>
 *
 * Examples: {@code news/#} covers {@code news/+}, {@code news/a/#} and {@code news/x}, not
 * {@code #}, {@code +/x} or {@code news}; {@code +/x} does not cover {@code #/x} (which is
 * {@code #}); {@code worker.*} covers {@code worker.?}, {@code worker.*} and {@code worker.a.b},
 * not {@code *} or {@code ?.x}. A request is checked against each allowed mask separately: a
 * pattern that only the union of two masks would cover (allowed {@code +} and {@code +/#},
 * request {@code #}) is refused, which errs on the safe side.
 */
public final class ClientAcl implements dev.elbus.aaa.AccessRights {
  /** The entry with every right and no address restriction ({@code {}} in the file). */
  public static final ClientAcl ALLOW_ALL = builder().build();

  private final List<Cidr> hostsAllow;
  private final Set<Cidr> hostSet;
  private final Rule p2p;
  private final Rule publish;
  private final Rule subscribe;
  private final Rule broadcast;
  private final String[][] p2pParts;
  private final String[][] publishParts;
  private final String[][] subscribeParts;
  private final String[][] broadcastParts;

  private ClientAcl(Builder b) {
    this.hostsAllow = List.copyOf(new LinkedHashSet<>(b.hosts));
    this.hostSet = Set.copyOf(hostsAllow);
    this.p2p = b.p2p.normalise('.', "*");
    this.publish = b.publish.normalise('/', "#");
    this.subscribe = b.subscribe.normalise('/', "#");
    this.broadcast = b.broadcast.normalise('.', "*");
    this.p2pParts = p2p.split('.');
    this.publishParts = publish.split('/');
    this.subscribeParts = subscribe.split('/');
    this.broadcastParts = broadcast.split('.');
  }

  /** A builder starting from {@link #ALLOW_ALL}. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * May a client of this entry connect from {@code address}? Clients without a network address
   * (Unix socket, in-process) are not subject to this check: the caller skips it for them.
   */
  public boolean hostAllowed(InetAddress address) {
    Objects.requireNonNull(address, "address");
    if (hostsAllow.isEmpty()) {
      return true;
    }
    for (Cidr c : hostsAllow) {
      if (c.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** May it send a direct message to the client with this full name? */
  @Override
  public boolean canSendTo(String targetName) {
    return matchesLiteral(p2p, p2pParts, targetName, '.', "?", "*");
  }

  /** May it publish to this (literal) topic? */
  @Override
  public boolean canPublish(String topic) {
    return matchesLiteral(publish, publishParts, topic, '/', "+", "#");
  }

  /** May it subscribe to this topic pattern? Every topic it can match must be allowed. */
  @Override
  public boolean canSubscribe(String pattern) {
    return coveredBy(subscribe, subscribeParts, Masks.split(pattern, '/'), "+", "#");
  }

  /** May it broadcast with this name mask? Every name it can match must be allowed. */
  @Override
  public boolean canBroadcast(String mask) {
    return coveredBy(broadcast, broadcastParts, Masks.split(mask, '.'), "?", "*");
  }

  /** Does the topic mask cover the topic pattern (class Javadoc, "Pattern containment")? */
  public static boolean topicMaskCovers(String mask, String pattern) {
    return covers(Masks.split(mask, '/'), Masks.split(pattern, '/'), "+", "#");
  }

  /** Does the client-name mask cover the name pattern (class Javadoc, "Pattern containment")? */
  public static boolean nameMaskCovers(String mask, String pattern) {
    return covers(Masks.split(mask, '.'), Masks.split(pattern, '.'), "?", "*");
  }

  /** The allowed networks, in file order without duplicates; empty = any address. */
  public List<Cidr> hostsAllow() {
    return hostsAllow;
  }

  /** Direct messages: target name masks. */
  public Rule p2p() {
    return p2p;
  }

  /** Publications: topic masks. */
  public Rule publish() {
    return publish;
  }

  /** Subscriptions: topic masks. */
  public Rule subscribe() {
    return subscribe;
  }

  /** Broadcasts: name masks. */
  public Rule broadcast() {
    return broadcast;
  }

  /**
   * The entry in the file's schema ({@link AaaParser}), default rights left out; parsing it gives
   * an equal entry.
   */
  public JsonObject toJson() {
    JsonObject j = new JsonObject();
    if (!hostsAllow.isEmpty()) {
      JsonArray a = new JsonArray();
      hostsAllow.forEach(c -> a.add(c.toString()));
      j.put("hosts_allow", a);
    }
    put(j, "p2p", p2p);
    put(j, "publish", publish);
    put(j, "subscribe", subscribe);
    put(j, "broadcast", broadcast);
    return j;
  }

  private static void put(JsonObject j, String right, Rule r) {
    if (r.isDenied()) {
      j.put("deny_" + right, true);
    } else if (!r.isAny()) {
      j.put("allow_" + right + "_to", new JsonArray(new ArrayList<>(r.masks())));
    }
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ClientAcl)) {
      return false;
    }
    ClientAcl c = (ClientAcl) o;
    return hostSet.equals(c.hostSet) && p2p.equals(c.p2p) && publish.equals(c.publish)
        && subscribe.equals(c.subscribe) && broadcast.equals(c.broadcast);
  }

  @Override
  public int hashCode() {
    return Objects.hash(hostSet, p2p, publish, subscribe, broadcast);
  }

  /** The entry as compact JSON, e.g. {@code {"deny_p2p":true}}. */
  @Override
  public String toString() {
    return toJson().encode();
  }

  // ---- matching ----

  /** The subject (a target name, a published topic: client input) is read in place. */
  private static boolean matchesLiteral(Rule r, String[][] masks, String subject, char sep,
      String one, String rest) {
    if (r.isAny() || r.isDenied()) {
      return r.isAny();
    }
    for (String[] m : masks) {
      if (Masks.matches(m, subject, sep, one, rest)) {
        return true;
      }
    }
    return false;
  }

  private static boolean coveredBy(Rule r, String[][] masks, String[] pattern, String one,
      String rest) {
    if (r.isAny() || r.isDenied()) {
      return r.isAny();
    }
    for (String[] m : masks) {
      if (covers(m, pattern, one, rest)) {
        return true;
      }
    }
    return false;
  }

  /** Containment, as the class Javadoc states it. */
  static boolean covers(String[] mask, String[] pattern, String one, String rest) {
    for (int i = 0; ; i++) {
      if (i == mask.length) {
        return i == pattern.length;
      }
      String m = mask[i];
      if (m.equals(rest)) {
        return i < pattern.length;
      }
      if (i == pattern.length) {
        return false;
      }
      String p = pattern[i];
      if (p.equals(rest)) {
        return false;
      }
      if (m.equals(one)) {
        continue;
      }
      if (p.equals(one) || !m.equals(p)) {
        return false;
      }
    }
  }

  /**
   * One right: {@linkplain #any() any}, {@linkplain #deny() denied}, or {@linkplain #only only}
   * what a list of masks allows. Immutable; equality ignores mask order and duplicates.
   */
  public static final class Rule {
    private static final Rule ANY = new Rule(true, Set.of());
    private static final Rule DENY = new Rule(false, Set.of());

    private final boolean any;
    private final Set<String> masks;

    private Rule(boolean any, Set<String> masks) {
      this.any = any;
      this.masks = masks;
    }

    /** Everything is allowed (the default). */
    public static Rule any() {
      return ANY;
    }

    /** Nothing is allowed ({@code deny_X: true}). */
    public static Rule deny() {
      return DENY;
    }

    /** Only what one of the masks allows; no masks = nothing ({@code allow_X_to}). */
    public static Rule only(Collection<String> masks) {
      LinkedHashSet<String> s = new LinkedHashSet<>();
      for (String m : masks) {
        if (m.indexOf('\0') >= 0) {
          throw new IllegalArgumentException("mask " + AaaParser.quote(m)
              + " contains a NUL character");
        }
        s.add(m);
      }
      return s.isEmpty() ? DENY : new Rule(false, Collections.unmodifiableSet(s));
    }

    /** {@link #only(Collection)} of the given masks. */
    public static Rule only(String... masks) {
      return only(Arrays.asList(masks));
    }

    /** Is everything allowed? */
    public boolean isAny() {
      return any;
    }

    /** Is nothing allowed? */
    public boolean isDenied() {
      return !any && masks.isEmpty();
    }

    /** The masks of a list rule, in the order given; empty for any and deny. */
    public Set<String> masks() {
      return masks;
    }

    /** A list holding the full wildcard (as its first level) becomes {@link #any()}. */
    Rule normalise(char sep, String full) {
      for (String m : masks) {
        if (Masks.split(m, sep)[0].equals(full)) {
          return ANY;
        }
      }
      return this;
    }

    String[][] split(char sep) {
      String[][] out = new String[masks.size()][];
      int i = 0;
      for (String m : masks) {
        out[i++] = Masks.split(m, sep);
      }
      return out;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Rule && ((Rule) o).any == any && ((Rule) o).masks.equals(masks);
    }

    @Override
    public int hashCode() {
      return masks.hashCode() * 31 + (any ? 1 : 0);
    }

    /** {@code any}, {@code deny} or the mask list, e.g. {@code [ui.*, historian]}. */
    @Override
    public String toString() {
      return any ? "any" : masks.isEmpty() ? "deny" : masks.toString();
    }
  }

  /** Builds a {@link ClientAcl}; every right starts as {@link Rule#any()}, hosts as any. */
  public static final class Builder {
    private final List<Cidr> hosts = new ArrayList<>();
    private Rule p2p = Rule.any();
    private Rule publish = Rule.any();
    private Rule subscribe = Rule.any();
    private Rule broadcast = Rule.any();

    private Builder() {}

    /** Adds allowed networks (none added = any address). */
    public Builder hostsAllow(Collection<Cidr> networks) {
      networks.forEach(c -> hosts.add(Objects.requireNonNull(c, "network")));
      return this;
    }

    /**
     * Adds allowed networks given as text ({@link Cidr#parse}).
     *
     * @throws IllegalArgumentException when one is not a CIDR network
     */
    public Builder hostsAllow(String... networks) {
      for (String n : networks) {
        hosts.add(Cidr.parse(n));
      }
      return this;
    }

    /** Direct-message targets (name masks). */
    public Builder p2p(Rule r) {
      this.p2p = Objects.requireNonNull(r);
      return this;
    }

    /** Topics it may publish to (topic masks). */
    public Builder publish(Rule r) {
      this.publish = Objects.requireNonNull(r);
      return this;
    }

    /** Topic patterns it may subscribe to (topic masks). */
    public Builder subscribe(Rule r) {
      this.subscribe = Objects.requireNonNull(r);
      return this;
    }

    /** Broadcast masks it may use (name masks). */
    public Builder broadcast(Rule r) {
      this.broadcast = Objects.requireNonNull(r);
      return this;
    }

    /** The entry; the builder may be reused. */
    public ClientAcl build() {
      return new ClientAcl(this);
    }
  }
}
