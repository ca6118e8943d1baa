package dev.elbus.impl.routing;

/**
 * The result of an operation decided later, elsewhere: on another node of a cluster (a direct
 * message queued there, a name claimed in the cluster, a subscription every node has applied).
 * A method that takes one and returns {@link Router#PENDING} calls it exactly once, on any
 * thread; one that returns a code never calls it.
 */
@FunctionalInterface
public interface Completion {
  /** The operation's result code (PROTOCOL.md section 4). */
  void complete(int code);
}
