/** The {@code elbus} client command line tool and its benchmark. */
package dev.elbus.cli;
