package dev.parley.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** The {@code type} name of each wire record, read once from its family's {@link JsonSubTypes}. */
public final class WireNames {

  private static final ClassValue<String> NAMES =
      new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> type) {
          for (Class<?> family : type.getInterfaces()) {
            JsonSubTypes subTypes = family.getAnnotation(JsonSubTypes.class);
            if (subTypes == null) {
              continue;
            }
            for (JsonSubTypes.Type subType : subTypes.value()) {
              if (subType.value() == type) {
                return subType.name();
              }
            }
          }
          throw new IllegalStateException(type.getName() + " is not a registered wire frame");
        }
      };

  private WireNames() {}

  static String of(Object frame) {
    return ofRecord(frame.getClass());
  }

  /** The {@code type} name of the wire record {@code type}. */
  static String ofRecord(Class<?> type) {
    return NAMES.get(type);
  }

  /**
   * The records of {@code family} that are frames on the wire, each with its own {@code type} (what
   * the family permits besides, such as {@link ServerMessage.Encoded}, is not decoded).
   */
  static java.util.Set<Class<?>> framesOf(Class<?> family) {
    java.util.Set<Class<?>> frames = new java.util.HashSet<>();
    for (JsonSubTypes.Type subType : subTypes(family)) {
      frames.add(subType.value());
    }
    return java.util.Set.copyOf(frames);
  }

  /**
   * Every {@code type} name of {@code family} ({@link ClientMessage}, {@link ServerMessage} or
   * {@link PeerMessage}), in the order the family registers them: for tests and tools that must
   * know every frame there is, including the ones added after they were written.
   */
  public static java.util.List<String> namesOf(Class<?> family) {
    return java.util.Arrays.stream(subTypes(family)).map(JsonSubTypes.Type::name).toList();
  }

  /**
   * Every field name the frames of {@code family} have on the wire (their record components, as the
   * codec writes them), each once: like {@link #namesOf}, for tests and tools.
   */
  public static java.util.List<String> fieldsOf(Class<?> family) {
    return java.util.Arrays.stream(subTypes(family))
        .flatMap(subType -> java.util.Arrays.stream(subType.value().getRecordComponents()))
        .map(java.lang.reflect.RecordComponent::getName)
        .distinct()
        .toList();
  }

  private static JsonSubTypes.Type[] subTypes(Class<?> family) {
    return family.getAnnotation(JsonSubTypes.class).value();
  }
}
