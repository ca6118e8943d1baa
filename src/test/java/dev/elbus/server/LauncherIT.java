package dev.elbus.server;

import dev.elbus.rpc.MsgPack;
import dev.elbus.support.RawClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.launcher.application.VertxApplication;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.elbus.support.RawClient.concat;
import static dev.elbus.support.RawClient.utf8;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Vert.x 5's application launcher ({@code io.vertx:vertx-launcher-application}) runs {@code
 * dev.elbus.ElbusVerticle} from the fat jar with a JSON configuration file, and its shutdown
 * (SIGTERM, which closes Vert.x) announces the broker's shutdown to the clients before they are
 * closed (README, "Embedding").
 */
class LauncherIT {

  @Test
  void theApplicationLauncherDeploysTheVerticleAndShutsItDownCleanly(@TempDir Path dir)
      throws Exception {
    Path sock = dir.resolve("elbus.sock");
    int port = ServerProcess.freePort();
    Path conf = dir.resolve("elbus.json");
    Files.writeString(conf, new JsonObject().put("workers", 1).put("listeners", new JsonArray()
        .add(new JsonObject().put("bind", sock.toString()))
        .add(new JsonObject().put("bind", "127.0.0.1:" + port))).encode());
    List<Path> launcher = List.of(jarOf(VertxApplication.class),
        jarOf(picocli.CommandLine.class));
    try (ServerProcess p = ServerProcess.startMain(launcher,
        VertxApplication.class.getName(), "dev.elbus.ElbusVerticle", "-conf", conf.toString())) {
      assertThat(p.awaitLine("listening on 127.0.0.1:" + port, 30_000))
          .as(String.join("\n", p.output())).isTrue();
      try (RawClient tcp = RawClient.tcp("127.0.0.1", port); RawClient unix = RawClient.unix(sock)) {
        assertThat(tcp.handshake("t1")).isEqualTo(0x01);
        assertThat(unix.handshake("u1")).isEqualTo(0x01);
        unix.frame(1, 0x12, 1, "t1", utf8("hello")).expectAck(1, 0x01);
        assertThat(tcp.nextFrame()).endsWith(concat(utf8("u1"), new byte[] {0}, utf8("hello")));

        p.terminate();
        for (RawClient c : List.of(tcp, unix)) {
          byte[] f = c.nextFrame(10_000);
          byte[] prefix = concat(new byte[] {0x01}, RawClient.le32(f.length - 6),
              new byte[] {0}, utf8(".broker"), new byte[] {0}, utf8(".broker/warn"),
              new byte[] {0});
          assertThat(f).startsWith(prefix);
          Map<String, Object> m = MsgPack.decodeMap(Arrays.copyOfRange(f, prefix.length,
              f.length));
          assertThat(m.get("s")).isEqualTo("shutdown");
          c.expectClosed(10_000);
        }
      }
      assertThat(p.awaitExit(20_000)).as(String.join("\n", p.output())).isNotEqualTo(-1);
    }
    assertThat(sock).doesNotExist();
  }

  private static Path jarOf(Class<?> c) throws Exception {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
  }
}
