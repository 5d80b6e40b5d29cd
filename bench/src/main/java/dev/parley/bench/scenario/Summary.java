package dev.parley.bench.scenario;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result of one scenario run: ordered keys with values, printed as one {@code key=value} line
 * for people and shell scripts, and as one JSON object for machines. A value that could not be
 * measured (no server PID given, nothing delivered) is {@code unknown} in the line and {@code null}
 * in JSON, so that every summary of a scenario has the same keys. Values are single tokens.
 */
public final class Summary {

  private static final String UNKNOWN = "unknown";

  /** A value as the line shows it and as JSON shows it. */
  private record Value(String text, String json) {}

  private final Map<String, Value> values = new LinkedHashMap<>();
  private final List<Summary> steps = new ArrayList<>();

  public Summary(String scenario) {
    put("scenario", scenario);
  }

  public Summary put(String key, long value) {
    String text = Long.toString(value);
    return add(key, new Value(text, text));
  }

  /** A number with {@code decimals} decimals; NaN or infinite is unknown. */
  public Summary put(String key, double value, int decimals) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return unknown(key);
    }
    String text = String.format(Locale.ROOT, "%." + decimals + "f", value);
    return add(key, new Value(text, text));
  }

  /** An offered rate: a number of sends per second, or {@code max} (empty). */
  public Summary rate(String key, java.util.OptionalDouble rate) {
    return rate.isPresent() ? put(key, rate.getAsDouble(), 0) : put(key, "max");
  }

  public Summary put(String key, boolean value) {
    String text = Boolean.toString(value);
    return add(key, new Value(text, text));
  }

  /** A word (no spaces); null is unknown. */
  public Summary put(String key, String value) {
    if (value == null) {
      return unknown(key);
    }
    String token = value.isEmpty() ? "-" : value.replaceAll("\\s+", "_");
    return add(key, new Value(token, quote(token)));
  }

  public Summary unknown(String key) {
    return add(key, new Value(UNKNOWN, "null"));
  }

  /**
   * Sub-results (the sweep's steps): in the JSON object as {@code "step_results"}, not in the line.
   */
  public Summary steps(List<Summary> stepSummaries) {
    steps.clear();
    steps.addAll(stepSummaries);
    return this;
  }

  /** A value as the line shows it, or null without that key (for tests and the sweep). */
  public String get(String key) {
    Value value = values.get(key);
    return value == null ? null : value.text();
  }

  public List<String> keys() {
    return List.copyOf(values.keySet());
  }

  /** {@code key=value key=value ...} */
  public String line() {
    StringBuilder out = new StringBuilder();
    values.forEach(
        (key, value) -> {
          if (out.length() > 0) {
            out.append(' ');
          }
          out.append(key).append('=').append(value.text());
        });
    return out.toString();
  }

  /** One JSON object on one line. */
  public String json() {
    StringBuilder out = new StringBuilder("{");
    values.forEach(
        (key, value) -> {
          if (out.length() > 1) {
            out.append(',');
          }
          out.append(quote(key)).append(':').append(value.json());
        });
    if (!steps.isEmpty()) {
      out.append(",\"step_results\":[");
      for (int i = 0; i < steps.size(); i++) {
        out.append(i == 0 ? "" : ",").append(steps.get(i).json());
      }
      out.append(']');
    }
    return out.append('}').toString();
  }

  private Summary add(String key, Value value) {
    values.put(key, value);
    return this;
  }

  private static String quote(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }
}
