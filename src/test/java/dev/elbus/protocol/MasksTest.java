package dev.elbus.protocol;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Topic and name patterns (PROTOCOL.md section 5). */
public class MasksTest {

  @ParameterizedTest(name = "''{0}'' vs ''{1}'' -> {2}")
  @CsvSource(delimiter = '|', value = {
      // # needs at least one more level: a/# does not match a
      "a/#          | a                 | false",
      "a/#          | a/b               | true",
      "a/#          | a/b/c             | true",
      "a/#          | a/                | true",
      "a/#          | b/a               | false",
      // # alone matches every topic, the empty one included
      "'#'          | ''                | true",
      "'#'          | a                 | true",
      "'#'          | /                 | true",
      "'#'          | a/b/c             | true",
      // + matches exactly one level, an empty one too
      "+            | ''                | true",
      "+            | a                 | true",
      "+            | a/b               | false",
      "a/+          | a/                | true",
      "a/+          | a                 | false",
      "a/+/c        | a//c              | true",
      "+/+          | /                 | true",
      "+            | /                 | false",
      // levels are raw strings: /a, a and a//b are distinct
      "/a           | a                 | false",
      "a            | /a                | false",
      "/a           | /a                | true",
      "a/b          | a//b              | false",
      "a//b         | a//b              | true",
      "a//b         | a/b               | false",
      "a/           | a                 | false",
      "''           | ''                | true",
      "''           | a                 | false",
      "a            | ''                | false",
      // a # before the last level ends the pattern
      "a/#/b        | a/x               | true",
      "a/#/b        | a/x/b             | true",
      "a/#/b        | a/x/y             | true",
      "a/#/b        | a                 | false",
      "'#/b'        | a                 | true",
      // the example of the spec
      "+/topic/#    | x/topic/event     | true",
      "+/topic/#    | x/topic/sub/event | true",
      "+/topic/#    | x/topic           | false",
      "+/topic/#    | x/y/topic/event   | false",
      // wildcard characters inside a published topic are plain characters
      "a/+          | a/+               | true",
      "a/#          | a/#               | true",
      "a/b          | a/+               | false",
      "a/b          | a/#               | false",
      "+            | #                 | true",
      "a/+          | a/#/b             | false",
      // wildcards only as whole levels
      "a+           | ab                | false",
      "a+           | a+                | true",
      "a#           | ab                | false",
      "a/b#         | a/b/c             | false",
      "a/x+/c       | a/x+/c            | true",
      ".broker/warn | .broker/warn      | true",
  })
  void topicEdgeCases(String pattern, String topic, boolean expected) {
    assertThat(Masks.topicMatches(pattern, topic)).isEqualTo(expected);
    assertThat(RefMatch.topic(pattern, topic)).as("reference").isEqualTo(expected);
  }

  @ParameterizedTest(name = "''{0}'' vs ''{1}'' -> {2}")
  @CsvSource(delimiter = '|', value = {
      "?                 | a                        | true",
      "?                 | a.b                      | false",
      "a.*               | a.b                      | true",
      "a.*               | a.b.c                    | true",
      "a.*               | a                        | false",
      "a.*               | b.c                      | false",
      "*                 | a                        | true",
      "*                 | a.b.c                    | true",
      "*                 | x%%1                     | true",
      "a.*.c             | a.b                      | true",
      "a.*.c             | a.b.d                    | true",
      "a.*.c             | a                        | false",
      "?.test.*          | g1.test.client1          | true",
      "?.test.*          | g1.test.subgroup.client2 | true",
      "?.test.*          | g1.test                  | false",
      "?.test.*          | g1.x.test.client1        | false",
      "a.?               | a.b%%0                   | true",
      "a.?               | a.b.c                    | false",
      "?.?               | a.b                      | true",
      "?.?               | a.                       | true",
      "a.b               | a.b                      | true",
      "a.b               | a.b.c                    | false",
      "a.b               | a.bc                     | false",
      "a.b               | a                        | false",
      "a.b               | a.b%%1                   | false",
      "a.b%%1            | a.b%%1                   | true",
      "a*                | ab                       | false",
      "a?                | a?                       | true",
      "?                 | ?                        | true",
      "a.b               | a.?                      | false",
  })
  void nameEdgeCases(String mask, String name, boolean expected) {
    assertThat(Masks.nameMatches(mask, name)).isEqualTo(expected);
    assertThat(Masks.nameMatches(Masks.split(mask, '.'), name)).isEqualTo(expected);
    assertThat(RefMatch.name(mask, name)).as("reference").isEqualTo(expected);
  }

  @Test
  void nameWildcardDetection() {
    assertThat(Masks.isNameWildcard("a.b")).isFalse();
    assertThat(Masks.isNameWildcard("a*")).isFalse();
    assertThat(Masks.isNameWildcard("a?.b")).isFalse();
    assertThat(Masks.isNameWildcard("")).isFalse();
    assertThat(Masks.isNameWildcard("a.?")).isTrue();
    assertThat(Masks.isNameWildcard("*")).isTrue();
    assertThat(Masks.isNameWildcard("a.*.c")).isTrue();
  }

  @Test
  void splitKeepsEmptyParts() {
    assertThat(Masks.split("", '/')).containsExactly("");
    assertThat(Masks.split("/", '/')).containsExactly("", "");
    assertThat(Masks.split("/a", '/')).containsExactly("", "a");
    assertThat(Masks.split("a/", '/')).containsExactly("a", "");
    assertThat(Masks.split("a//b", '/')).containsExactly("a", "", "b");
    assertThat(Masks.split("a.b/c", '.')).containsExactly("a", "b/c");
  }

  /** Random strings over a small alphabet, so that wildcards, separators and empties collide. */
  public static String random(Random r, char sep, String one, String rest, boolean pattern) {
    String[] levels = pattern
        ? new String[] {"", "a", "b", "ab", one, one, rest, rest}
        : new String[] {"", "a", "b", "ab", one, rest};
    int n = r.nextInt(5);
    StringBuilder sb = new StringBuilder(levels[r.nextInt(levels.length)]);
    for (int i = 0; i < n; i++) {
      sb.append(sep).append(levels[r.nextInt(levels.length)]);
    }
    if (r.nextInt(20) == 0) {
      sb.append(one); // a wildcard character inside a level is a plain character
    }
    return sb.toString();
  }

  @Test
  void topicsAgreeWithTheReferenceOnRandomCases() {
    long seed = 4242;
    Random r = new Random(seed);
    int matches = 0;
    for (int i = 0; i < 30_000; i++) {
      String p = random(r, '/', "+", "#", true);
      String t = random(r, '/', "+", "#", false);
      boolean expected = RefMatch.topic(p, t);
      assertThat(Masks.topicMatches(p, t)).as("seed %d case %d: '%s' vs '%s'", seed, i, p, t)
          .isEqualTo(expected);
      assertThat(Masks.topicMatches(Masks.split(p, '/'), t)).isEqualTo(expected);
      assertThat(Masks.topicMatches(Masks.split(p, '/'), Masks.split(t, '/')))
          .isEqualTo(expected);
      matches += expected ? 1 : 0;
    }
    assertThat(matches).as("both outcomes are exercised").isBetween(3_000, 27_000);
  }

  @Test
  void namesAgreeWithTheReferenceOnRandomCases() {
    long seed = 4343;
    Random r = new Random(seed);
    int matches = 0;
    for (int i = 0; i < 30_000; i++) {
      String m = random(r, '.', "?", "*", true);
      String n = random(r, '.', "?", "*", false);
      boolean expected = RefMatch.name(m, n);
      assertThat(Masks.nameMatches(m, n)).as("seed %d case %d: '%s' vs '%s'", seed, i, m, n)
          .isEqualTo(expected);
      assertThat(Masks.nameMatches(Masks.split(m, '.'), n)).isEqualTo(expected);
      matches += expected ? 1 : 0;
    }
    assertThat(matches).as("both outcomes are exercised").isBetween(3_000, 27_000);
  }

  @ParameterizedTest(name = "''{0}'' -> levels {1}, wildcard levels {2}, wildcard {3}")
  @CsvSource(delimiter = '|', value = {
      "''           | 1 | 0 | false",
      "a            | 1 | 0 | false",
      "a/b/c        | 3 | 0 | false",
      "a/b/#        | 3 | 3 | true",
      "'#'          | 1 | 1 | true",
      "+            | 1 | 1 | true",
      "+/a/b        | 3 | 3 | true",
      "a/+/b        | 3 | 3 | true",
      "a/b/+        | 3 | 3 | true",
      "a/+/#        | 3 | 3 | true",
      "a/+/#/x/y    | 5 | 3 | true",
      "a/#/+/y      | 4 | 2 | true",
      "a+/b#        | 2 | 0 | false",
      "//           | 3 | 0 | false",
  })
  void levelsAndWildcardLevels(String pattern, int levels, int wildcardLevels, boolean wildcard) {
    assertThat(Masks.levels(pattern, '/')).isEqualTo(levels);
    assertThat(Masks.wildcardLevels(pattern)).isEqualTo(wildcardLevels);
    assertThat(Masks.isTopicWildcard(pattern)).isEqualTo(wildcard);
  }

  /** Subjects of many levels are read in place: deep inputs need neither stack nor arrays. */
  @Test
  void deepSubjectsAreMatchedInPlace() {
    String deep = "a" + "/a".repeat(1_000_000);
    assertThat(Masks.topicMatches("a/#", deep)).isTrue();
    assertThat(Masks.topicMatches("+/+", deep)).isFalse();
    assertThat(Masks.topicMatches(deep, deep)).isTrue();
    assertThat(Masks.topicMatches(deep + "/b", deep)).isFalse();
    assertThat(Masks.nameMatches(new String[] {"a", "*"}, deep.replace('/', '.'))).isTrue();
    assertThat(Masks.levels(deep, '/')).isEqualTo(1_000_001);
    assertThat(Masks.wildcardLevels(deep)).isZero();
  }
}
