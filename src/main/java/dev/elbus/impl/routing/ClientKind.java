package dev.elbus.impl.routing;

/** How a client is attached to the broker; the strings are those of {@code client.list}. */
public enum ClientKind {
  /** An in-process client (its frames go to a Java handler or an event-bus address). */
  INTERNAL("internal"),
  /** A Unix domain socket client. */
  LOCAL_IPC("local_ipc"),
  /** A TCP client. */
  TCP("tcp");

  private final String wireName;

  ClientKind(String wireName) {
    this.wireName = wireName;
  }

  /** The name used in {@code client.list}. */
  public String wireName() {
    return wireName;
  }
}
