/**
 * Implementation, not API: the broker assembled. {@code BrokerImpl} (lifecycle, listeners,
 * shutdown), the core client {@code .broker} and the AAA file watchers.
 */
package dev.elbus.impl.core;
