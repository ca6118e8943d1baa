/**
 * The broker on the Vert.x event bus (docs/eventbus.md): the {@link dev.elbus.eventbus.Bridge} and
 * its rules, and the headers of the messages the broker sends and takes ({@link
 * dev.elbus.eventbus.EventBusHeaders}).
 */
package dev.elbus.eventbus;
