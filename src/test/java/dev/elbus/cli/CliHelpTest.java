package dev.elbus.cli;

import static dev.elbus.cli.CliRunner.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.elbus.cli.CliRunner.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CLI's command line without a broker: generated help per command, the version, and the bash
 * completion script (sourced into a real bash, which is asked for completions).
 */
class CliHelpTest {

  @ParameterizedTest
  @ValueSource(strings = {"listen", "send", "publish", "rpc", "rpc listen", "rpc notify",
      "rpc call0", "rpc call", "broker", "broker test", "broker info", "broker stats",
      "broker client.list", "benchmark", "completion"})
  void everyCommandHasItsOwnHelp(String command) {
    List<String> args = new ArrayList<>(List.of("/tmp/elbus.sock"));
    args.addAll(List.of(command.split(" ")));
    args.add("--help");
    Result r = run(args.toArray(new String[0]));
    assertThat(r.code()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).startsWith("Usage: elbus PATH [-n NAME] [--timeout S] " + command)
        .contains("-h, --help");
    // -h is the same, and help needs no PATH
    List<String> noPath = new ArrayList<>(args.subList(1, args.size() - 1));
    noPath.add("-h");
    assertThat(run(noPath.toArray(new String[0])).out()).isEqualTo(r.out());
    // the top-level help lists every runnable command
    if (!command.equals("rpc") && !command.equals("broker")) {
      assertThat(run("--help").out()).contains("\n  " + command + " ");
    }
  }

  @Test
  void jsonOptionsAreDocumentedWhereTheyExist() {
    for (String c : new String[] {"broker test", "broker info", "broker stats",
        "broker client.list", "rpc call", "benchmark"}) {
      String[] words = (c + " --help").split(" ");
      assertThat(run(words).out()).as(c).contains("--json");
    }
    assertThat(run("rpc", "call0", "--help").out()).doesNotContain("--json");
  }

  @Test
  void versionIsTheBuildsVersion() {
    Result r = run("--version");
    assertThat(r.code()).isZero();
    assertThat(r.out()).matches("elbus \\(elbus for the JVM\\) \\d+\\.\\d+\\.\\d+\\S*\n");
    assertThat(run("-V").out()).isEqualTo(r.out());
  }

  @Test
  void completionPrintsABashScriptForEveryCommand() {
    Result r = run("completion");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).startsWith("#!/usr/bin/env bash")
        .contains("complete -F _complete_elbus", "_picocli_elbus_benchmark",
            "_picocli_elbus_rpc_call", "_picocli_elbus_broker_clientlist", "--payload-size",
            "--timeout");
    // a PATH before the command is allowed (and ignored)
    assertThat(run("/tmp/elbus.sock", "completion").out()).isEqualTo(r.out());
  }

  /** Sources the script into bash and asks what completes the last word of {@code line}. */
  private static String complete(Path script, String... words) throws Exception {
    String array = String.join(" ", words);
    String cmd = "source " + script + " 2>/dev/null; COMP_WORDS=(" + array + "); COMP_CWORD="
        + (words.length - 1) + "; COMP_LINE='" + array + "'; COMP_POINT=${#COMP_LINE}; "
        + "_complete_elbus elbus '" + words[words.length - 1] + "' '"
        + words[words.length - 2] + "' 2>/dev/null; echo \"${COMPREPLY[*]}\"";
    Process p = new ProcessBuilder("bash", "--norc", "--noprofile", "-c", cmd)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    return out.strip();
  }

  @Test
  void bashCompletesCommandsSubcommandsAndOptions(@TempDir Path dir) throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/bin/bash")) || Files.isExecutable(
        Path.of("/usr/bin/bash")), "bash is installed");
    Path script = dir.resolve("elbus.bash");
    Files.writeString(script, run("completion").out());
    assertThat(complete(script, "elbus", "/tmp/x.sock", "br")).isEqualTo("broker");
    assertThat(complete(script, "elbus", "/tmp/x.sock", "rpc", "c").split(" "))
        .containsExactlyInAnyOrder("call0", "call");
    assertThat(complete(script, "elbus", "/tmp/x.sock", "broker", "cl")).isEqualTo("client.list");
    assertThat(complete(script, "elbus", "/tmp/x.sock", "benchmark", "--pa").split(" "))
        .containsExactlyInAnyOrder("--paced", "--payload-size");
  }
}
