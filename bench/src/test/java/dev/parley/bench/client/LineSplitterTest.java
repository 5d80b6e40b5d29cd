package dev.parley.bench.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LineSplitterTest {

  private final List<String> lines = new ArrayList<>();
  private final LineSplitter.Sink sink =
      (buf, from, to) -> lines.add(new String(buf, from, to - from, StandardCharsets.UTF_8));

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void shouldHandOverEveryCompleteLineOfARead() throws IOException {
    LineSplitter splitter = new LineSplitter(100);
    byte[] data = bytes("{\"a\":1}\n{\"b\":2}\n{\"c\"");
    splitter.feed(data, 0, data.length, sink);
    assertEquals(List.of("{\"a\":1}", "{\"b\":2}"), lines);
    assertEquals(4, splitter.pending());
  }

  @Test
  void shouldJoinALineSplitAcrossReads() throws IOException {
    LineSplitter splitter = new LineSplitter(100);
    byte[] data = bytes("first line\nsecond\nthird one\n");
    for (int i = 0; i < data.length; i++) {
      splitter.feed(data, i, 1, sink);
    }
    assertEquals(List.of("first line", "second", "third one"), lines);
    assertEquals(0, splitter.pending());
  }

  @Test
  void shouldReadFromAnOffsetInTheBuffer() throws IOException {
    LineSplitter splitter = new LineSplitter(100);
    byte[] data = bytes("xxxxab\ncd\nyyyy");
    splitter.feed(data, 4, 6, sink);
    assertEquals(List.of("ab", "cd"), lines);
  }

  @Test
  void shouldDropACarriageReturnAndSkipEmptyLines() throws IOException {
    LineSplitter splitter = new LineSplitter(100);
    byte[] data = bytes("one\r\n\n\r\ntwo\n");
    splitter.feed(data, 0, data.length, sink);
    assertEquals(List.of("one", "two"), lines);
  }

  @Test
  void shouldDropACarriageReturnSplitFromItsLineFeed() throws IOException {
    LineSplitter splitter = new LineSplitter(100);
    byte[] first = bytes("one\r");
    byte[] second = bytes("\ntwo\n");
    splitter.feed(first, 0, first.length, sink);
    splitter.feed(second, 0, second.length, sink);
    assertEquals(List.of("one", "two"), lines);
  }

  @Test
  void shouldHandOverALastLineWithoutLineFeedAtTheEnd() throws IOException {
    LineSplitter splitter = new LineSplitter(100);
    byte[] data = bytes("one\nlast");
    splitter.feed(data, 0, data.length, sink);
    splitter.finish(sink);
    assertEquals(List.of("one", "last"), lines);
  }

  @Test
  void shouldRefuseALineLongerThanTheLimit() throws IOException {
    LineSplitter splitter = new LineSplitter(10);
    byte[] fits = bytes("0123456789\n");
    splitter.feed(fits, 0, fits.length, sink);
    byte[] tooLong = bytes("0123456789ab");
    assertThrows(IOException.class, () -> splitter.feed(tooLong, 0, tooLong.length, sink));
  }

  @Test
  void shouldGrowForALongLineSplitAcrossManyReads() throws IOException {
    LineSplitter splitter = new LineSplitter(70_000);
    String line = "x".repeat(65_536);
    byte[] data = bytes(line + "\n");
    for (int at = 0; at < data.length; at += 1000) {
      splitter.feed(data, at, Math.min(1000, data.length - at), sink);
    }
    assertEquals(List.of(line), lines);
  }
}
