package dev.parley.protocol;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** The {@code type} name of each wire record, read once from its family's {@link JsonSubTypes}. */
final class WireNames {

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
    return NAMES.get(frame.getClass());
  }

  /**
   * The records of {@code family} that are frames on the wire, each with its own {@code type} (what
   * the family permits besides, such as {@link ServerMessage.Encoded}, is not decoded).
   */
  static java.util.Set<Class<?>> framesOf(Class<?> family) {
    java.util.Set<Class<?>> frames = new java.util.HashSet<>();
    for (JsonSubTypes.Type subType : family.getAnnotation(JsonSubTypes.class).value()) {
      frames.add(subType.value());
    }
    return java.util.Set.copyOf(frames);
  }
}
