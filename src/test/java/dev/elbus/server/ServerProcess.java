package dev.elbus.server;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The built fat jar ({@code target/elbus.jar}) run as a separate process, as a user or the Docker
 * image runs it. Collects its output lines.
 */
final class ServerProcess implements AutoCloseable {
  static final Path JAR = Path.of("target", "elbus.jar");

  private final Process process;
  private final List<String> lines = new CopyOnWriteArrayList<>();

  private ServerProcess(Process p) {
    this.process = p;
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
          StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) {
          lines.add(l);
        }
      } catch (IOException e) {
        // process gone
      }
    }, "server-output");
    t.setDaemon(true);
    t.start();
  }

  /** Starts {@code java [jvmArgs] -jar target/elbus.jar args...}. */
  static ServerProcess start(List<String> jvmArgs, String... args) throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR + " missing: run the tests with `mvnw verify`");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-jar");
    cmd.add(JAR.toString());
    cmd.addAll(List.of(args));
    return new ServerProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start());
  }

  /**
   * Starts {@code java -cp target/elbus.jar:extra... mainClass args...}: another entry point
   * run with the fat jar's classes.
   */
  static ServerProcess startMain(List<Path> extraClasspath, String mainClass, String... args)
      throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR + " missing: run the tests with `mvnw verify`");
    }
    List<String> cp = new ArrayList<>();
    cp.add(JAR.toString());
    extraClasspath.forEach(p -> cp.add(p.toString()));
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(String.join(java.io.File.pathSeparator, cp));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return new ServerProcess(new ProcessBuilder(cmd).redirectErrorStream(true).start());
  }

  static ServerProcess start(String... args) throws IOException {
    return start(List.of(), args);
  }

  /** Starts {@code bin/elbusd args...} with {@code ELBUS_JAVA_OPTS=javaOpts}. */
  static ServerProcess startScript(String javaOpts, String... args) throws IOException {
    if (!Files.isRegularFile(JAR)) {
      throw new IllegalStateException(JAR + " missing: run the tests with `mvnw verify`");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of("bin", "elbusd").toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("ELBUS_JAVA_OPTS", javaOpts);
    // the script runs `java` from the PATH: the JDK running the tests comes first
    pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":"
        + pb.environment().getOrDefault("PATH", ""));
    return new ServerProcess(pb.start());
  }

  /** Waits until a line containing {@code text} was printed. */
  boolean awaitLine(String text, long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000;
    while (System.nanoTime() < deadline) {
      for (String l : lines) {
        if (l.contains(text)) {
          return true;
        }
      }
      if (!process.isAlive()) {
        Thread.sleep(100); // let the reader collect the last lines
        return lines.stream().anyMatch(l -> l.contains(text));
      }
      Thread.sleep(20);
    }
    return false;
  }

  /** Waits for the exit and returns the code ({@code -1} on timeout). */
  int awaitExit(long timeoutMs) throws InterruptedException {
    return process.waitFor(timeoutMs, TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  long pid() {
    return process.pid();
  }

  /** SIGTERM. */
  void terminate() {
    process.destroy();
  }

  List<String> output() {
    return List.copyOf(lines);
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
