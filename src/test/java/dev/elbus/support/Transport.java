package dev.elbus.support;

/** The two socket transports every integration test runs over. */
public enum Transport {
  TCP,
  UNIX
}
