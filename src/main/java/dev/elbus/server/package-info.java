/** The stand-alone server ({@code elbusd}): flags, the configuration file, signals. */
package dev.elbus.server;
