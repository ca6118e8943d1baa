/**
 * Coverage-guided fuzz targets (Jazzer, RELIABILITY.md item 11), one {@code @FuzzTest} per class
 * since Jazzer fuzzes one target per JVM.
 *
 * <p>The package is {@code fuzz} (not under {@code dev.elbus}) so that Jazzer's own corpus layout,
 * {@code <package>/<TestClass>Inputs/<method>/} on the test class path, puts the seed corpora and
 * the findings under {@code src/test/resources/fuzz/}: e.g. {@code
 * src/test/resources/fuzz/JazzerDecoderTestInputs/clientDecoder/}. In the normal suite each target
 * replays its corpus (regression mode); with {@code JAZZER_FUZZ=1} (the reliability profile) it
 * fuzzes, and a failing input is written to that same directory, where it stays as a regression
 * seed. The generated corpus goes to {@code .cifuzz-corpus/} (ignored by git). The instrumented
 * packages are set in {@code src/test/resources/junit-platform.properties} ({@code
 * jazzer.instrument}): Surefire's manifest-only class path hides the class directories from
 * Jazzer's own guess.
 */
package fuzz;
