package dev.elbus.protocol;

/**
 * The two pattern languages of elbus (PROTOCOL.md section 5), as plain functions.
 *
 * <ul>
 *   <li>Topics: levels separated by {@code /}; {@code +} matches exactly one level, {@code #}
 *       matches one or more remaining levels and ends the pattern ({@code a/#/b} is {@code a/#});
 *       unlike MQTT, {@code a/#} does not match {@code a}.
 *   <li>Client names: parts separated by {@code .}; {@code ?} matches exactly one part, {@code *}
 *       matches one or more remaining parts and ends the pattern.
 * </ul>
 *
 * Levels and parts are compared as raw strings: an empty level is a level.
 */
public final class Masks {
  private Masks() {}

  /** Does the subscription pattern match the published topic? */
  public static boolean topicMatches(String pattern, String topic) {
    return matches(split(pattern, '/'), split(topic, '/'), "+", "#");
  }

  /** Does the pre-split subscription pattern match the pre-split topic ({@link #split} on '/')? */
  public static boolean topicMatches(String[] patternLevels, String[] topicLevels) {
    return matches(patternLevels, topicLevels, "+", "#");
  }

  /** Does the broadcast mask match the client name? */
  public static boolean nameMatches(String mask, String name) {
    return matches(split(mask, '.'), split(name, '.'), "?", "*");
  }

  /** Does the pre-split broadcast mask match the client name? */
  public static boolean nameMatches(String[] maskParts, String name) {
    return matches(maskParts, split(name, '.'), "?", "*");
  }

  /** Does the mask contain a wildcard part ({@code ?} or {@code *})? */
  public static boolean isNameWildcard(String mask) {
    for (String p : split(mask, '.')) {
      if (p.equals("?") || p.equals("*")) {
        return true;
      }
    }
    return false;
  }

  public static boolean matches(String[] pat, String[] subj, String one, String rest) {
    int i = 0;
    for (; i < pat.length; i++) {
      String p = pat[i];
      if (p.equals(rest)) {
        return subj.length > i;
      }
      if (i >= subj.length) {
        return false;
      }
      if (!p.equals(one) && !p.equals(subj[i])) {
        return false;
      }
    }
    return i == subj.length;
  }

  /** Splits on {@code sep} keeping empty parts ({@code ""} is one empty part). */
  public static String[] split(String s, char sep) {
    int n = 1;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == sep) {
        n++;
      }
    }
    String[] out = new String[n];
    int start = 0;
    int k = 0;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) == sep) {
        out[k++] = s.substring(start, i);
        start = i + 1;
      }
    }
    out[k] = s.substring(start);
    return out;
  }
}
