package dev.elbus.support;

/** The two socket transports every integration test runs over. */
public enum Transport {
  TCP,
  UNIX;

  /** {@code name} made unique per transport ({@code tcp-NAME}, {@code unix-NAME}). */
  public String qualify(String name) {
    return name().toLowerCase() + "-" + name;
  }
}
