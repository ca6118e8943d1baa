package dev.elbus.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * What the command lines of the client CLI ({@link Cli}) and the stand-alone server ({@code
 * dev.elbus.server.Main}) share: how picocli is set up, and the converters and version provider
 * both use.
 */
public final class CommandLines {
  /** The longest time a seconds option takes: a day, as the configuration file's timeouts. */
  static final double MAX_SECONDS = 86_400;

  private CommandLines() {}

  /**
   * A picocli parser for {@code command}: words are taken literally (no {@code @file} expansion),
   * a repeated option keeps its last value, help has no colours.
   */
  public static CommandLine parser(Object command) {
    return new CommandLine(command).setExpandAtFiles(false).setOverwrittenOptionsAllowed(true)
        .setColorScheme(CommandLine.Help.defaultColorScheme(CommandLine.Help.Ansi.OFF));
  }

  /** Seconds (decimals allowed, more than 0, at most a day) as milliseconds, at least 1. */
  public static final class Seconds implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String v) {
      double t;
      try {
        t = Double.parseDouble(v);
      } catch (NumberFormatException e) {
        throw new TypeConversionException("not a number of seconds: '" + v + "'");
      }
      if (!(t > 0) || t > MAX_SECONDS) {
        throw new TypeConversionException("must be more than 0 and at most 86400 seconds: '"
            + v + "'");
      }
      return Math.max(1, Math.round(t * 1000));
    }
  }

  /** A whole number that may have {@code _} separators ({@code 1_000_000}). */
  public static final class Count implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String v) {
      try {
        return Integer.parseInt(v.replace("_", ""));
      } catch (NumberFormatException e) {
        throw new TypeConversionException("not an integer: '" + v + "'");
      }
    }
  }

  /** {@code COMMAND (elbus for the JVM) VERSION}, the version from the build's resource. */
  public static final class Version implements CommandLine.IVersionProvider {
    @Spec
    CommandSpec spec;

    @Override
    public String[] getVersion() throws IOException {
      Properties p = new Properties();
      try (InputStream in = CommandLines.class.getResourceAsStream("/elbus-version.properties")) {
        if (in != null) {
          p.load(in);
        }
      }
      return new String[] {spec.name() + " (elbus for the JVM) "
          + p.getProperty("version", "unknown")};
    }
  }
}
