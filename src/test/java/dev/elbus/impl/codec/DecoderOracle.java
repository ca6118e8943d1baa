package dev.elbus.impl.codec;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The differential check of {@link DecoderFuzzTest} for one client stream and one chunking, as a
 * public entry point for the coverage-guided fuzz targets ({@code fuzz.DecoderFuzzTest}): the
 * streaming decoder, fed {@code stream} in the chunks {@code cuts} gives, must report exactly the
 * events of the whole-array reference decoder ({@link RefDecoders}), raise a {@link
 * ProtocolException} exactly when the reference finds a violation and nothing else, release every
 * input chunk and every buffer it allocated, and never ask for more memory than twice what has
 * arrived (or 64 KiB): a declared length is not a reservation.
 */
public final class DecoderOracle {
  private DecoderOracle() {}

  /** Frame size limits the fuzz targets choose from. */
  public static final int[] MAX_FRAME = {16, 100, 1000, 70_000, Integer.MAX_VALUE};
  /** Name length limits the fuzz targets choose from. */
  public static final int[] MAX_NAME = {8, 300, 0xFFFF};

  /**
   * Feeds {@code stream} to {@code d} in the chunks of {@code cuts}, stopping the decoder from
   * outside before chunk {@code stopAt} (-1: never), then stops it: at most one {@link
   * ProtocolException}, no event after it, nothing partial kept, every chunk and every buffer
   * {@code tracking} handed out released.
   *
   * @return whether the decoder raised a protocol error
   */
  static boolean feedAll(StreamDecoder d, List<?> events, byte[] stream, int[] cuts, int stopAt,
      Chunks chunks, TrackingAllocator tracking) {
    boolean threw = false;
    int eventsAtError = -1;
    for (int i = 1; i < cuts.length; i++) {
      if (i == stopAt + 1) {
        d.stop();
        assertThat(d.hasPartialInput()).isFalse();
        tracking.assertAllReleased();
      }
      try {
        d.feed(chunks.input(stream, cuts[i - 1], cuts[i] - cuts[i - 1]));
      } catch (ProtocolException e) {
        assertThat(threw).as("a second ProtocolException after the decoder stopped").isFalse();
        threw = true;
        eventsAtError = events.size();
        assertThat(d.hasPartialInput()).isFalse();
        tracking.assertAllReleased();
      }
      // any other exception propagates and fails the case
    }
    if (threw) {
      assertThat(events).as("events after the error").hasSize(eventsAtError);
    }
    d.stop();
    assertThat(d.hasPartialInput()).isFalse();
    chunks.assertAllReleased();
    tracking.assertAllReleased();
    return threw;
  }

  /** Chunk boundaries for {@code len} bytes from a seed (first 0, last {@code len}). */
  public static int[] cuts(int len, long seed) {
    return Chunks.random(len, new java.util.Random(seed));
  }

  /**
   * Checks one stream.
   *
   * @throws AssertionError when the decoder disagrees with the reference or leaks
   */
  public static void checkClient(byte[] stream, int[] cuts, int maxFrame, int maxName) {
    RefDecoders.Result ref = RefDecoders.client(stream, maxFrame, maxName);
    Recorders.Client rec = new Recorders.Client();
    TrackingAllocator tracking = new TrackingAllocator(false);
    Chunks chunks = new Chunks();
    ClientStreamDecoder d = new ClientStreamDecoder(tracking, rec, maxFrame, maxName);
    boolean threw = feedAll(d, rec.events, stream, cuts, -1, chunks, tracking);
    List<Ev> expected = ref.events;
    assertThat(rec.events).as("events (chunks %s)", Chunks.describe(cuts)).isEqualTo(expected);
    assertThat(threw).as("protocol error raised").isEqualTo(ref.error);
    assertThat((long) tracking.largestRequest()).as("largest buffer requested for %d bytes",
        stream.length).isLessThanOrEqualTo(Math.max(65_536L, 2L * stream.length));
  }
}
