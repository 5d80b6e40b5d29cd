package dev.parley.protocol;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Keeps {@code docs/protocol.md} honest. Every non-blank line of a {@code ```json} block in the
 * document is one example frame behind a direction prefix ({@code C→S}, {@code S→C}, {@code A→B},
 * {@code B→A}); each must decode with the codec of its direction and be exactly what Parley would
 * write for it, and together they must show every frame of every family. Every enumerated wire
 * value must be named in the document too.
 */
final class ProtocolDocTest {

  /** Relative to the module directory, where Maven runs the tests. */
  private static final Path DOC = Path.of("..", "docs", "protocol.md");

  private static final String JSON_FENCE = "```json";
  private static final String FENCE = "```";

  /** Direction prefix to the codec that reads frames travelling that way. */
  private static final Map<String, JsonCodec<?>> CODECS =
      Map.of(
          "C→S", JsonCodec.CLIENT,
          "S→C", JsonCodec.SERVER,
          "A→B", JsonCodec.PEER,
          "B→A", JsonCodec.PEER);

  /** One example line: where it is, which way it goes and its JSON. */
  private record Example(int line, String prefix, String json) {
    JsonCodec<?> codec() {
      return CODECS.get(prefix);
    }

    String displayName() {
      String shown = prefix + " " + json;
      return "line " + line + ": " + (shown.length() > 90 ? shown.substring(0, 87) + "..." : shown);
    }
  }

  @TestFactory
  Stream<DynamicTest> shouldDecodeEveryExampleAsParleyWritesIt() throws IOException {
    List<Example> examples = examples();
    assertFalse(examples.isEmpty(), "no examples found in " + DOC);
    return examples.stream()
        .map(
            example ->
                DynamicTest.dynamicTest(
                    example.displayName(), () -> assertCanonicalFrame(example.codec(), example)));
  }

  @Test
  void shouldShowEveryClientFrame() throws IOException {
    assertEquals(Set.of(), missingFrom(ClientMessage.class), "client frames without an example");
  }

  @Test
  void shouldShowEveryServerFrame() throws IOException {
    assertEquals(Set.of(), missingFrom(ServerMessage.class), "server frames without an example");
  }

  @Test
  void shouldShowEveryPeerFrame() throws IOException {
    assertEquals(Set.of(), missingFrom(PeerMessage.class), "peer frames without an example");
  }

  @Test
  void shouldUseTheCurrentVersionInEveryHello() throws IOException {
    for (Example example : examples()) {
      Object frame = ((Inbound.Frame<?>) example.codec().decode(example.json())).frame();
      Integer version = null;
      if (frame instanceof ClientMessage.Hello hello) {
        version = hello.version();
      } else if (frame instanceof ServerMessage.Hello hello) {
        version = hello.version();
      } else if (frame instanceof PeerMessage.Hello hello) {
        version = hello.version();
      }
      if (version == null) {
        continue;
      }
      assertEquals(Protocol.VERSION, version, example.displayName());
    }
  }

  @Test
  void shouldNameEveryEnumeratedValue() throws IOException {
    String doc = Files.readString(DOC, StandardCharsets.UTF_8);
    List<Class<? extends Enum<?>>> enums =
        List.of(
            ServerMessage.LoginFailed.Reason.class,
            ServerMessage.Error.Code.class,
            ServerMessage.Goodbye.Reason.class,
            PeerMessage.Bye.Reason.class);

    assertAll(
        enums.stream()
            .flatMap(type -> Stream.of(type.getEnumConstants()))
            .map(
                value ->
                    () -> {
                      String name = "`" + wireName(value) + "`";
                      assertTrue(doc.contains(name), () -> value + " is not described as " + name);
                    }));
  }

  // ---------------------------------------------------------------------------------------------

  private static <T> void assertCanonicalFrame(JsonCodec<T> codec, Example example) {
    Inbound.Frame<?> decoded =
        assertInstanceOf(
            Inbound.Frame.class, codec.decode(example.json()), () -> example.displayName());
    @SuppressWarnings("unchecked") // decoded by this very codec
    T frame = (T) decoded.frame();
    assertEquals(
        example.json(), codec.toJson(frame), () -> example.displayName() + ", Parley writes it as");
  }

  private static Set<String> missingFrom(Class<?> family) throws IOException {
    Set<Class<?>> shown = new HashSet<>();
    for (Example example : examples()) {
      if (example.codec().family() == family
          && example.codec().decode(example.json()) instanceof Inbound.Frame<?> decoded) {
        shown.add(decoded.frame().getClass());
      }
    }
    Set<String> missing = new TreeSet<>();
    for (Class<?> record : WireNames.framesOf(family)) {
      if (!shown.contains(record)) {
        missing.add(record.getSimpleName());
      }
    }
    return missing;
  }

  /**
   * The examples in the document's {@code json} blocks. A line there without a known prefix fails
   * the test rather than being skipped, so a typo cannot hide an example.
   */
  private static List<Example> examples() throws IOException {
    List<String> lines = Files.readAllLines(DOC, StandardCharsets.UTF_8);
    List<Example> examples = new ArrayList<>();
    boolean inFence = false;
    boolean inJson = false;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith(FENCE)) {
        inJson = !inFence && line.strip().equals(JSON_FENCE);
        inFence = !inFence;
        continue;
      }
      if (!inJson || line.isBlank()) {
        continue;
      }
      int space = line.indexOf(' ');
      String prefix = space < 0 ? line : line.substring(0, space);
      if (!CODECS.containsKey(prefix)) {
        fail(
            "line "
                + (i + 1)
                + " of "
                + DOC
                + " has no direction prefix "
                + CODECS.keySet()
                + ": "
                + line);
      }
      examples.add(new Example(i + 1, prefix, line.substring(space + 1)));
    }
    assertFalse(inFence, "unclosed code block in " + DOC);
    return examples;
  }

  private static String wireName(Enum<?> value) {
    try {
      return value
          .getDeclaringClass()
          .getField(value.name())
          .getAnnotation(JsonProperty.class)
          .value();
    } catch (NoSuchFieldException e) {
      throw new AssertionError(e);
    }
  }
}
