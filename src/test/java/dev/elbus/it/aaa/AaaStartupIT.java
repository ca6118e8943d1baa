package dev.elbus.it.aaa;

import dev.elbus.Broker;
import dev.elbus.client.Bind;
import dev.elbus.config.ListenerOptions;
import dev.elbus.support.LeakGate;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A listener whose AAA file cannot be loaded must not start (fail closed), and the error must name
 * the file and, for a file that parses, the entry at fault.
 */
@ExtendWith(LeakGate.class)
class AaaStartupIT {
  @TempDir
  Path dir;
  private Vertx vertx;
  private Broker broker;

  @BeforeEach
  void create() {
    vertx = Vertx.vertx();
    broker = Broker.create(vertx);
  }

  @AfterEach
  void close() throws Exception {
    broker.close().await(10, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** Deploys a TCP and a Unix listener with {@code aaa} and returns the failure. */
  private Throwable deployFailure(Path aaa) {
    Path sock = dir.resolve("s.sock");
    Throwable t = catchThrowable(() -> broker.deploy(List.of(
        new ListenerOptions().setBind(Bind.tcp("127.0.0.1", 0)).setAaaFile(aaa.toString()),
        new ListenerOptions().setBind(Bind.unix(sock.toString())).setAaaFile(aaa.toString())), 1)
        .await(20, TimeUnit.SECONDS));
    assertThat(t).as("deployment with AAA file " + aaa).isNotNull();
    // nothing listens
    assertThat(broker.listeners()).isEmpty();
    assertThat(sock).doesNotExist();
    return t;
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
      bad CIDR            | clients: {x: {hosts_allow: [10.0.0/8]}}               | clients.x.hosts_allow[0]: '10.0.0/8' is not a CIDR network
      second bad CIDR     | clients: {x: {hosts_allow: [10.0.0.0/8, '::1/129']}}  | clients.x.hosts_allow[1]: '::1/129'
      host name           | clients: {x: {hosts_allow: [localhost]}}              | clients.x.hosts_allow[0]: 'localhost'
      unknown key         | clients: {x: {allow_pub_to: [a]}}                     | clients.x: unknown key 'allow_pub_to'
      scalar instead list | clients: {x: {allow_publish_to: a/#}}                 | clients.x.allow_publish_to: must be a list
      deny contradiction  | clients: {x: {deny_p2p: true, allow_p2p_to: [a]}}     | clients.x: deny_p2p: true contradicts
      no clients          | users: {}                                             | clients' is missing (write 'clients: {}' to admit nobody)
      """)
  void invalidFileFailsNamingFileAndEntry(String what, String yaml, String message)
      throws Exception {
    Path f = dir.resolve("aaa.yaml");
    Files.writeString(f, yaml + "\n");
    Throwable t = deployFailure(f);
    assertThat(t).hasMessageContaining(f.toString()).hasMessageContaining(message);
  }

  @Test
  void yamlSyntaxErrorFailsNamingTheFileAndPosition() throws Exception {
    Path f = dir.resolve("aaa.yaml");
    Files.writeString(f, "clients:\n  x: {hosts_allow: [127.0.0.1/32\n");
    assertThat(deployFailure(f)).hasMessageContaining(f.toString())
        .hasMessageContaining("line 2, column 20");
  }

  @Test
  void topLevelListFailsNamingTheFile() throws Exception {
    Path f = dir.resolve("aaa.yaml");
    Files.writeString(f, "- clients\n");
    assertThat(deployFailure(f)).hasMessageContaining(f.toString())
        .hasMessageContaining("not a map");
  }

  @Test
  void missingFileFailsNamingTheFile() {
    Path f = dir.resolve("nowhere.yaml");
    assertThat(deployFailure(f)).hasMessage(f + ": cannot read: no such file");
  }

  @Test
  void jsonFileByExtension() throws Exception {
    Path f = dir.resolve("aaa.json");
    Files.writeString(f, "{\"clients\": {\"x\": {\"hosts_allow\": [\"300.0.0.1/32\"]}}}");
    assertThat(deployFailure(f)).hasMessageContaining(f.toString())
        .hasMessageContaining("clients.x.hosts_allow[0]");
  }
}
