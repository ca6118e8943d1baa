package dev.elbus.protocol;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * Reference matchers written from PROTOCOL.md section 5 without {@link Masks}: each pattern is
 * translated into a regular expression over the whole topic / name.
 */
public final class RefMatch {
  private RefMatch() {}

  /**
   * {@code one} matches exactly one level (any characters but the separator, possibly none);
   * {@code rest} ends the pattern and matches one or more levels: after the separator that
   * follows the previous level, anything at all (an empty remainder is one empty level). At the
   * start, {@code rest} alone matches everything.
   */
  static Pattern compile(String pattern, char sep, String one, String rest) {
    String[] levels = pattern.split(Pattern.quote(String.valueOf(sep)), -1);
    String sepRe = Pattern.quote(String.valueOf(sep));
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < levels.length; i++) {
      if (i > 0) {
        re.append(sepRe);
      }
      if (levels[i].equals(rest)) {
        re.append("(?s).*");
        return Pattern.compile(re.toString());
      }
      re.append(levels[i].equals(one) ? "[^" + sepRe + "]*" : Pattern.quote(levels[i]));
    }
    return Pattern.compile(re.toString());
  }

  private static final Map<String, Pattern> TOPICS = new ConcurrentHashMap<>();
  private static final Map<String, Pattern> NAMES = new ConcurrentHashMap<>();

  public static boolean topic(String pattern, String topic) {
    return TOPICS.computeIfAbsent(pattern, p -> compile(p, '/', "+", "#")).matcher(topic)
        .matches();
  }

  public static boolean name(String mask, String name) {
    return NAMES.computeIfAbsent(mask, m -> compile(m, '.', "?", "*")).matcher(name).matches();
  }
}
