package dev.elbus.impl.routing;

import dev.elbus.protocol.Protocol;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Who is registered: every client (primaries and secondaries) by full name, and the primary /
 * secondary links (PROTOCOL.md section 7). Lookups are lock-free; registration and removal are
 * serialised by the registry's monitor so that a secondary can never attach to a primary that is
 * leaving. No lock is held while a client is disconnected or anything is delivered.
 *
 * <p>Primaries are also kept sorted by name, so that {@code client.list} reads a page of them in
 * order without sorting every client on each call.
 */
public final class ClientRegistry {
  private final ConcurrentHashMap<String, Session> byName = new ConcurrentHashMap<>();
  private final ConcurrentSkipListMap<String, Session> primaries = new ConcurrentSkipListMap<>();

  /**
   * Registers {@code s}.
   *
   * @return {@code RESPONSE_OK}, {@code ERR_BUSY} when the full name is taken, or {@code
   *     ERR_CLIENT_NOT_REGISTERED} for a secondary whose primary is not registered
   */
  public synchronized int register(Session s) {
    if (s.isSecondary()) {
      Session p = byName.get(s.primaryName());
      if (p == null || p.isSecondary()) {
        return Protocol.ERR_CLIENT_NOT_REGISTERED;
      }
      if (byName.putIfAbsent(s.name(), s) != null) {
        return Protocol.ERR_BUSY;
      }
      s.primary(p);
      p.secondaries.add(s);
      return Protocol.RESPONSE_OK;
    }
    if (byName.putIfAbsent(s.name(), s) != null) {
      return Protocol.ERR_BUSY;
    }
    primaries.put(s.name(), s);
    return Protocol.RESPONSE_OK;
  }

  /**
   * Registers {@code s}, a secondary whose primary is registered on another node of a cluster
   * (which disconnects it when that primary goes): not linked to a primary here.
   *
   * @return {@code RESPONSE_OK}, or {@code ERR_BUSY} when the full name is taken
   */
  public synchronized int registerDetached(Session s) {
    return byName.putIfAbsent(s.name(), s) != null ? Protocol.ERR_BUSY : Protocol.RESPONSE_OK;
  }

  /**
   * Removes {@code s} if it is the client registered under its name.
   *
   * @return the secondaries that must now be disconnected (a primary's), or {@code null} when
   *     {@code s} was not registered (already removed)
   */
  public synchronized List<Session> unregister(Session s) {
    if (!byName.remove(s.name(), s)) {
      return null;
    }
    if (s.isSecondary()) {
      Session p = s.primary();
      if (p != null) {
        p.secondaries.remove(s);
      }
      return List.of();
    }
    primaries.remove(s.name(), s);
    List<Session> orphans = new ArrayList<>(s.secondaries);
    for (Session sec : orphans) {
      byName.remove(sec.name(), sec);
    }
    s.secondaries.clear();
    return orphans;
  }

  public Session get(String name) {
    return byName.get(name);
  }

  public boolean isRegistered(Session s) {
    return byName.get(s.name()) == s;
  }

  /** A weakly consistent view of every registered client. */
  public Collection<Session> all() {
    return byName.values();
  }

  /** Registered primaries sorted by name: a weakly consistent, read-only view. */
  public NavigableMap<String, Session> primaries() {
    return java.util.Collections.unmodifiableNavigableMap(primaries);
  }

  public int size() {
    return byName.size();
  }
}
