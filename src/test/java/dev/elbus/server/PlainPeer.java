package dev.elbus.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code plain_peer.py} or {@code plain_peer.js} (test resources) as a process: an elbus client
 * written apart from this project's Java code, on the wire as the upstream Python and Node.js
 * clients are. It registers, subscribes to a topic, prints {@code READY}, prints the next two data
 * frames, sends {@code hello from python|node} to its target with QoS 1 and prints {@code OK}.
 */
final class PlainPeer implements AutoCloseable {
  /** The interpreter and script of each peer. */
  enum Lang {
    PYTHON("python3", "plain_peer.py"),
    NODE("node", "plain_peer.js");

    final String interpreter;
    final String script;

    Lang(String interpreter, String script) {
      this.interpreter = interpreter;
      this.script = script;
    }
  }

  private static final String[] SCRIPTS = {"plain_peer.py", "burst_reader.py", "plain_peer.js"};

  private final Process process;
  private final BufferedReader out;

  private PlainPeer(Process process) {
    this.process = process;
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8));
  }

  /** Starts the peer against {@code addr} ({@code HOST:PORT} or a socket path), scripts in dir. */
  static PlainPeer start(Path dir, Lang lang, String addr, String name, String topic,
      String target) throws IOException {
    for (String f : SCRIPTS) {
      Path to = dir.resolve(f);
      if (!Files.exists(to)) {
        try (InputStream in = PlainPeer.class.getResourceAsStream("/" + f)) {
          Files.write(to, in.readAllBytes());
        }
      }
    }
    return new PlainPeer(new ProcessBuilder(lang.interpreter, dir.resolve(lang.script).toString(),
        addr, name, topic, target).redirectErrorStream(true).start());
  }

  /** The next line it printed ({@code null} once it exited). */
  String line() throws IOException {
    return out.readLine();
  }

  /** Asserts it exits with status 0 (it printed OK). */
  void assertExitedOk() throws InterruptedException {
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();
  }

  @Override
  public void close() throws IOException {
    process.destroyForcibly();
    out.close();
  }
}
