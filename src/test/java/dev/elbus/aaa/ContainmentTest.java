package dev.elbus.aaa;

import dev.elbus.protocol.Masks;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiPredicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pattern containment ({@link ClientAcl#topicMaskCovers}, {@link ClientAcl#nameMaskCovers})
 * against a brute-force reference built on the broker's own matchers ({@link Masks}).
 *
 * <p>Why the finite reference is exact: literals in the random patterns come from {a, b, ""}; the
 * enumerated subjects use those plus a fresh symbol z that no pattern contains, so a wildcard
 * level of P can always take a value no literal of M equals. If P is not covered by M, a
 * counterexample exists of depth at most max(len P, len M) + 1: P without a rest wildcard only
 * matches subjects of depth len P (the one with z at every wildcard level is matched by M iff M
 * covers P); with a rest wildcard at k, either the counterexample at depth k + 1 filled with z
 * works, or M has no rest wildcard and any subject deeper than len M (depth len M + 1 suffices)
 * escapes M. The enumeration goes to max(len P, len M) + 2 for margin.
 */
class ContainmentTest {
  private static final String[] LITERALS = {"a", "b", ""};
  private static final String[] SUBJECT_LEVELS = {"a", "b", "", "z"};

  @Test
  void topicContainmentMatchesBruteForce() {
    check('/', "+", "#", Masks::topicMatches, ClientAcl::topicMaskCovers, 1_000_001L);
  }

  @Test
  void nameContainmentMatchesBruteForce() {
    check('.', "?", "*", Masks::nameMatches, ClientAcl::nameMaskCovers, 2_000_002L);
  }

  private static void check(char sep, String one, String rest, BiPredicate<String, String> matches,
      BiPredicate<String, String> covers, long seed) {
    Random r = new Random(seed);
    int yes = 0;
    int no = 0;
    List<String> failures = new ArrayList<>();
    for (int n = 0; n < 6000; n++) {
      String[] p = random(r, one, rest);
      String[] m = random(r, one, rest);
      String ps = String.join(String.valueOf(sep), p);
      String ms = String.join(String.valueOf(sep), m);
      int depth = Math.max(p.length, m.length) + 2;
      boolean expected = true;
      for (String s : subjects(sep, depth)) {
        if (matches.test(ps, s) && !matches.test(ms, s)) {
          expected = false;
          break;
        }
      }
      boolean actual = covers.test(ms, ps);
      if (actual != expected && failures.size() < 20) {
        failures.add("seed " + seed + " case " + n + ": mask '" + ms + "' pattern '" + ps
            + "': expected " + expected + ", got " + actual);
      }
      if (expected) {
        yes++;
      } else {
        no++;
      }
    }
    assertThat(failures).isEmpty();
    // the generator must exercise both outcomes a lot, or the comparison proves little
    assertThat(yes).isGreaterThan(600);
    assertThat(no).isGreaterThan(600);
  }

  /** 1-4 levels: literals a, b, "" and both wildcards, the rest wildcard anywhere. */
  private static String[] random(Random r, String one, String rest) {
    String[] out = new String[1 + r.nextInt(4)];
    for (int i = 0; i < out.length; i++) {
      int k = r.nextInt(10);
      out[i] = k < 4 ? one : k < 6 ? rest : LITERALS[r.nextInt(LITERALS.length)];
    }
    return out;
  }

  private static final java.util.Map<String, List<String>> SUBJECTS = new java.util.HashMap<>();

  /** Every subject of depth 1..maxDepth over {@link #SUBJECT_LEVELS}. */
  private static List<String> subjects(char sep, int maxDepth) {
    return SUBJECTS.computeIfAbsent(sep + "" + maxDepth, k -> {
      List<String> out = new ArrayList<>();
      List<String> level = List.of("");
      for (int d = 1; d <= maxDepth; d++) {
        List<String> next = new ArrayList<>();
        for (String prefix : level) {
          for (String l : SUBJECT_LEVELS) {
            next.add(d == 1 ? l : prefix + sep + l);
          }
        }
        out.addAll(next);
        level = next;
      }
      return out;
    });
  }

  @Test
  void topicExamplesFromTheSpec() {
    assertThat(ClientAcl.topicMaskCovers("news/#", "news/+")).isTrue();
    assertThat(ClientAcl.topicMaskCovers("news/#", "news/a/#")).isTrue();
    assertThat(ClientAcl.topicMaskCovers("news/#", "news/x")).isTrue();
    assertThat(ClientAcl.topicMaskCovers("news/#", "news/#")).isTrue();
    assertThat(ClientAcl.topicMaskCovers("news/#", "news/#/x")).isTrue(); // is news/#
    assertThat(ClientAcl.topicMaskCovers("news/#", "#")).isFalse();
    assertThat(ClientAcl.topicMaskCovers("news/#", "+/x")).isFalse();
    assertThat(ClientAcl.topicMaskCovers("news/#", "news")).isFalse();
    assertThat(ClientAcl.topicMaskCovers("news/#", "+")).isFalse();
    assertThat(ClientAcl.topicMaskCovers("+/x", "#/x")).isFalse();
    assertThat(ClientAcl.topicMaskCovers("+/x", "a/x")).isTrue();
    assertThat(ClientAcl.topicMaskCovers("+/x", "+/x")).isTrue();
    assertThat(ClientAcl.topicMaskCovers("+/x", "+/x/y")).isFalse();
    assertThat(ClientAcl.topicMaskCovers("+/x", "+/#")).isFalse();
    assertThat(ClientAcl.topicMaskCovers("a/#/b", "a/c")).isTrue(); // mask is a/#
    assertThat(ClientAcl.topicMaskCovers("#", "#")).isTrue();
    assertThat(ClientAcl.topicMaskCovers("#", "")).isTrue();
    assertThat(ClientAcl.topicMaskCovers("+", "")).isTrue(); // "" is one empty level
    assertThat(ClientAcl.topicMaskCovers("", "+")).isFalse();
    assertThat(ClientAcl.topicMaskCovers("a/b", "a/+")).isFalse();
    // wildcard characters inside a level are literal
    assertThat(ClientAcl.topicMaskCovers("a+/x", "a+/x")).isTrue();
    assertThat(ClientAcl.topicMaskCovers("a+/x", "ab/x")).isFalse();
    assertThat(ClientAcl.topicMaskCovers("a/b#", "a/+")).isFalse();
  }

  @Test
  void nameExamplesFromTheSpec() {
    assertThat(ClientAcl.nameMaskCovers("worker.*", "worker.?")).isTrue();
    assertThat(ClientAcl.nameMaskCovers("worker.*", "worker.*")).isTrue();
    assertThat(ClientAcl.nameMaskCovers("worker.*", "worker.a.b")).isTrue();
    assertThat(ClientAcl.nameMaskCovers("worker.*", "*")).isFalse();
    assertThat(ClientAcl.nameMaskCovers("worker.*", "?.x")).isFalse();
    assertThat(ClientAcl.nameMaskCovers("worker.*", "worker")).isFalse();
    assertThat(ClientAcl.nameMaskCovers("?.x", "*.x")).isFalse();
    assertThat(ClientAcl.nameMaskCovers("*", "?.test.*")).isTrue();
    assertThat(ClientAcl.nameMaskCovers("?.test.*", "g1.test.?")).isTrue();
    assertThat(ClientAcl.nameMaskCovers("worker*", "workerx")).isFalse(); // literal part
  }
}
