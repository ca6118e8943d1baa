package dev.elbus.impl.net;

import dev.elbus.client.ElbusClient;
import dev.elbus.impl.codec.RpcFrames;
import dev.elbus.protocol.QoS;
import dev.elbus.rpc.MsgPack;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A FIFO command channel of a broker (PROTOCOL.md section 12, {@code -B
 * fifo:PATH}): a named pipe (mode 0622) whose lines are sent by the broker's own client {@code
 * .broker} (see {@link FifoCommand} for the line forms). Malformed lines are logged and skipped.
 *
 * <p>One daemon thread reads the pipe. It holds the pipe open for writing too, so the pipe never
 * reaches end-of-file: writers may come and go.
 */
public final class FifoChannel {
  private static final Logger LOG = LoggerFactory.getLogger(FifoChannel.class);
  /** S_IFMT / S_IFIFO of st_mode. */
  private static final int S_IFMT = 0170000;
  private static final int S_IFIFO = 0010000;

  private final Path path;
  private final ElbusClient core;
  private volatile boolean stopped;
  private RandomAccessFile pipe;
  private Thread reader;

  public FifoChannel(Path path, ElbusClient core) {
    this.path = path;
    this.core = core;
  }

  /** Creates the pipe (replacing a stale one) and starts reading. */
  public void start() throws IOException {
    if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      if (!isFifo(path)) {
        throw new IOException("cannot create FIFO " + path + ": a file that is not a FIFO is in the way");
      }
      Files.delete(path);
    }
    Process p = new ProcessBuilder("mkfifo", "-m", "0622", path.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException("cannot create FIFO " + path + ": " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while creating FIFO " + path);
    }
    pipe = new RandomAccessFile(path.toFile(), "rw");
    reader = new Thread(this::readLoop, "elbus-fifo");
    reader.setDaemon(true);
    reader.start();
    LOG.info("FIFO command channel at {}", path);
  }

  public static boolean isFifo(Path p) throws IOException {
    Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    return mode instanceof Integer && (((Integer) mode) & S_IFMT) == S_IFIFO;
  }

  private void readLoop() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        new FileInputStream(pipe.getFD()), StandardCharsets.UTF_8))) {
      String line;
      while (!stopped && (line = r.readLine()) != null) {
        if (!line.isBlank()) {
          execute(line);
        }
      }
    } catch (IOException e) {
      if (!stopped) {
        LOG.error("FIFO {}: read failed, channel closed: {}", path, e.getMessage());
      }
    }
  }

  /** Executes one line; a malformed line or a failed send is logged. */
  void execute(String line) {
    FifoCommand c;
    try {
      c = FifoCommand.parse(line);
    } catch (IllegalArgumentException e) {
      LOG.warn("FIFO {}: skipped malformed line '{}': {}", path, line, e.getMessage());
      return;
    }
    Future<Void> f;
    switch (c.kind()) {
      case PUBLISH:
        f = core.publish(c.target(), Buffer.buffer(c.payload()), QoS.PROCESSED);
        break;
      case BROADCAST:
        f = core.broadcast(c.target(), Buffer.buffer(c.payload()), QoS.PROCESSED);
        break;
      case NOTIFY:
        f = core.send(c.target(), RpcFrames.notification(Buffer.buffer(c.payload())),
            QoS.PROCESSED);
        break;
      case CALL0:
        f = core.send(c.target(), RpcFrames.request(0, c.method(),
            c.params().isEmpty() ? Buffer.buffer() : MsgPack.encodeBuffer(c.params())),
            QoS.PROCESSED);
        break;
      default:
        f = core.send(c.target(), Buffer.buffer(c.payload()), QoS.PROCESSED);
    }
    f.onFailure(e -> LOG.warn("FIFO {}: '{}' failed: {}", path, line, e.getMessage()));
  }

  /** Stops reading and removes the pipe. */
  public void stop() {
    stopped = true;
    try {
      if (pipe != null) {
        // wake the reader: it checks the flag after each line
        pipe.write('\n');
        pipe.close();
      }
      Files.deleteIfExists(path);
    } catch (IOException e) {
      LOG.warn("FIFO {}: {}", path, e.getMessage());
    }
  }
}
