/**
 * Access control (PROTOCOL.md section 11, docs/aaa.md): the per-listener {@link
 * dev.elbus.aaa.AaaPolicy}, each client's {@link dev.elbus.aaa.ClientAcl} and the {@link
 * dev.elbus.aaa.AccessRights} the broker checks.
 */
package dev.elbus.aaa;
