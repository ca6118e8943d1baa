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
 *
 * <p>Every function walks its input in one loop, and the matchers that take a subject (topic,
 * name) as a string read it in place: a subject of many levels costs no allocation, whatever its
 * depth (a published topic or a p2p target is client input of up to {@code max_frame_size}).
 */
public final class Masks {
  private Masks() {}

  /** Does the subscription pattern match the published topic? Allocates nothing. */
  public static boolean topicMatches(String pattern, String topic) {
    return matches(pattern, topic, '/', "+", "#");
  }

  /** Does the pre-split subscription pattern match the pre-split topic ({@link #split} on '/')? */
  public static boolean topicMatches(String[] patternLevels, String[] topicLevels) {
    return matches(patternLevels, topicLevels, "+", "#");
  }

  /** Does the pre-split subscription pattern match the topic? Reads the topic in place. */
  public static boolean topicMatches(String[] patternLevels, String topic) {
    return matches(patternLevels, topic, '/', "+", "#");
  }

  /** Does the broadcast mask match the client name? Allocates nothing. */
  public static boolean nameMatches(String mask, String name) {
    return matches(mask, name, '.', "?", "*");
  }

  /** Does the pre-split broadcast mask match the client name? Reads the name in place. */
  public static boolean nameMatches(String[] maskParts, String name) {
    return matches(maskParts, name, '.', "?", "*");
  }

  /** Does the mask contain a wildcard part ({@code ?} or {@code *})? */
  public static boolean isNameWildcard(String mask) {
    return firstWildcard(mask, '.', "?", "*") >= 0;
  }

  /** Does the pattern contain a wildcard level ({@code +} or {@code #})? */
  public static boolean isTopicWildcard(String pattern) {
    return firstWildcard(pattern, '/', "+", "#") >= 0;
  }

  /** Number of levels (parts) of {@code s}: its separators plus one. */
  public static int levels(String s, char sep) {
    int n = 1;
    for (int i = s.indexOf(sep); i >= 0; i = s.indexOf(sep, i + 1)) {
      n++;
    }
    return n;
  }

  /**
   * The trie levels a topic pattern occupies: for a pattern with a wildcard level ({@code +} or
   * {@code #}), its levels up to its first {@code #} (where it ends); 0 for a pattern without one
   * (it is kept by its text, not in the trie). Summed over a client's patterns, this bounds both
   * the trie nodes the client's patterns create and the nodes one lookup visits because of them
   * (the broker's topic index).
   */
  public static int wildcardLevels(String pattern) {
    int level = 0;
    boolean wildcard = false;
    int pos = 0;
    int n = pattern.length();
    while (true) {
      int end = pattern.indexOf('/', pos);
      if (end < 0) {
        end = n;
      }
      level++;
      if (isLevel(pattern, pos, end, "#")) {
        return level;
      }
      wildcard |= isLevel(pattern, pos, end, "+");
      if (end == n) {
        return wildcard ? level : 0;
      }
      pos = end + 1;
    }
  }

  /** Index of the first level (part) equal to {@code one} or {@code rest}, or -1. */
  private static int firstWildcard(String s, char sep, String one, String rest) {
    int level = 0;
    int pos = 0;
    int n = s.length();
    while (true) {
      int end = s.indexOf(sep, pos);
      if (end < 0) {
        end = n;
      }
      if (isLevel(s, pos, end, one) || isLevel(s, pos, end, rest)) {
        return level;
      }
      if (end == n) {
        return -1;
      }
      level++;
      pos = end + 1;
    }
  }

  private static boolean isLevel(String s, int from, int to, String level) {
    return to - from == level.length() && s.regionMatches(from, level, 0, level.length());
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

  /**
   * The pre-split pattern against a subject read in place: {@code pos} is the start of the
   * subject's next level, {@code n + 1} once the subject has no more levels.
   */
  public static boolean matches(String[] pat, String subj, char sep, String one, String rest) {
    int n = subj.length();
    int pos = 0;
    for (String p : pat) {
      if (pos > n) {
        return false;
      }
      if (p.equals(rest)) {
        return true;
      }
      int end = subj.indexOf(sep, pos);
      if (end < 0) {
        end = n;
      }
      if (!p.equals(one) && !isLevel(subj, pos, end, p)) {
        return false;
      }
      pos = end + 1;
    }
    return pos > n;
  }

  /** Pattern and subject both read in place. */
  static boolean matches(String pat, String subj, char sep, String one, String rest) {
    int pn = pat.length();
    int n = subj.length();
    int pp = 0;
    int pos = 0;
    while (true) {
      int pend = pat.indexOf(sep, pp);
      if (pend < 0) {
        pend = pn;
      }
      if (pos > n) {
        return false;
      }
      if (isLevel(pat, pp, pend, rest)) {
        return true;
      }
      int end = subj.indexOf(sep, pos);
      if (end < 0) {
        end = n;
      }
      if (!isLevel(pat, pp, pend, one)
          && (end - pos != pend - pp || !subj.regionMatches(pos, pat, pp, pend - pp))) {
        return false;
      }
      pos = end + 1;
      if (pend == pn) {
        return pos > n;
      }
      pp = pend + 1;
    }
  }

  /** Splits on {@code sep} keeping empty parts ({@code ""} is one empty part). */
  public static String[] split(String s, char sep) {
    String[] out = new String[levels(s, sep)];
    int start = 0;
    int k = 0;
    for (int i = s.indexOf(sep); i >= 0; i = s.indexOf(sep, start)) {
      out[k++] = s.substring(start, i);
      start = i + 1;
    }
    out[k] = s.substring(start);
    return out;
  }
}
