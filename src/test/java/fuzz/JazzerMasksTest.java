package fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.elbus.aaa.ClientAcl;
import dev.elbus.protocol.Masks;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * The two pattern languages (topics over {@code /} with {@code +}/{@code #}, client names over
 * {@code .} with {@code ?}/{@code *}): the matchers ({@code Masks}) and the containment checks the
 * AAA rights rest on ({@code ClientAcl.topicMaskCovers}/{@code nameMaskCovers}, PROTOCOL.md
 * section 11: a pattern must never reach more than the masks allow).
 *
 * <p>Input: a mask, a pattern and filler text, separated by {@code 00} bytes (UTF-8). For each
 * language: the pattern matches a subject built from it (wildcards filled from the filler); if the
 * mask covers the pattern it matches that subject too; every pattern covers itself; and a
 * {@code ClientAcl} holding the mask decides exactly as the containment and match functions do.
 */
class JazzerMasksTest {
  @FuzzTest(maxDuration = "10m")
  void masks(byte[] data) {
    String[] in = Masks.split(new String(data, StandardCharsets.UTF_8), '\0');
    String mask = in[0];
    String pattern = in.length > 1 ? in[1] : "";
    String filler = in.length > 2 ? in[2] : "";
    check(mask, pattern, filler, '/', "+", "#", Masks::topicMatches, ClientAcl::topicMaskCovers);
    check(mask, pattern, filler, '.', "?", "*", Masks::nameMatches, ClientAcl::nameMaskCovers);
    ClientAcl acl = ClientAcl.builder()
        .subscribe(ClientAcl.Rule.only(mask)).publish(ClientAcl.Rule.only(mask))
        .broadcast(ClientAcl.Rule.only(mask)).p2p(ClientAcl.Rule.only(mask)).build();
    String topic = instantiate(pattern, filler, '/', "+", "#");
    String name = instantiate(pattern, filler, '.', "?", "*");
    same("canSubscribe", acl.canSubscribe(pattern), ClientAcl.topicMaskCovers(mask, pattern),
        mask, pattern);
    same("canBroadcast", acl.canBroadcast(pattern), ClientAcl.nameMaskCovers(mask, pattern),
        mask, pattern);
    same("canPublish", acl.canPublish(topic), Masks.topicMatches(mask, topic), mask, topic);
    same("canSendTo", acl.canSendTo(name), Masks.nameMatches(mask, name), mask, name);
  }

  private static void check(String mask, String pattern, String filler, char sep, String one,
      String rest, BiPredicate<String, String> matches, BiPredicate<String, String> covers) {
    String subject = instantiate(pattern, filler, sep, one, rest);
    if (!matches.test(pattern, subject)) {
      throw new AssertionError("pattern '" + pattern + "' does not match its own instance '"
          + subject + "'");
    }
    if (covers.test(mask, pattern) && !matches.test(mask, subject)) {
      throw new AssertionError("mask '" + mask + "' covers pattern '" + pattern + "' but not its"
          + " instance '" + subject + "'");
    }
    if (!covers.test(pattern, pattern)) {
      throw new AssertionError("pattern '" + pattern + "' does not cover itself");
    }
  }

  private static void same(String what, boolean acl, boolean direct, String mask, String s) {
    if (acl != direct) {
      throw new AssertionError(what + " with mask '" + mask + "' on '" + s + "': ACL says " + acl
          + ", the pattern functions say " + direct);
    }
  }

  /**
   * A subject the pattern matches: literal levels kept, each one-level wildcard replaced by a
   * filler level, the rest wildcard by one or two filler levels (and nothing after it).
   */
  static String instantiate(String pattern, String filler, char sep, String one, String rest) {
    List<String> fill = new ArrayList<>();
    for (String f : Masks.split(filler, sep)) {
      fill.add(f);
    }
    String[] p = Masks.split(pattern, sep);
    List<String> out = new ArrayList<>();
    int k = 0;
    for (String level : p) {
      if (level.equals(rest)) {
        out.add(fill.get(k++ % fill.size()));
        if (filler.length() % 2 == 1) {
          out.add(fill.get(k++ % fill.size()));
        }
        break;
      }
      out.add(level.equals(one) ? fill.get(k++ % fill.size()) : level);
    }
    return String.join(String.valueOf(sep), out);
  }
}
