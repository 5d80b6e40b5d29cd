package dev.parley.it.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a fuzz run did and found, shared by all its threads: frames and bytes sent per category,
 * connections per plan, frames received per type, and findings. A finding is either a violation
 * (something the test asserts never happens: a bystander not answered, a process gone, a private
 * line printed for a stranger) or an anomaly (the server misbehaving towards the fuzzer itself,
 * such as a frame over the limit); each keeps its count and its first examples.
 */
public final class FuzzStats {

  /** How bad a finding is. */
  public enum Severity {
    /** The test fails. */
    VIOLATION,
    /** Reported; fails the test only with {@code -Dfuzz.strict=true}. */
    ANOMALY
  }

  private static final int EXAMPLES = 3;
  private static final int EXAMPLE_LENGTH = 400;

  private final Map<String, LongAdder> frames = new ConcurrentSkipListMap<>();
  private final Map<String, LongAdder> bytes = new ConcurrentSkipListMap<>();
  private final Map<String, LongAdder> counts = new ConcurrentSkipListMap<>();
  private final Map<String, Finding> findings = new ConcurrentHashMap<>();
  private final Map<String, Long> maxima = new ConcurrentSkipListMap<>();

  /** One kind of finding: how often, and what it looked like the first few times. */
  public static final class Finding {
    private final Severity severity;
    private final LongAdder count = new LongAdder();
    private final List<String> examples = new ArrayList<>();

    private Finding(Severity severity) {
      this.severity = severity;
    }

    public Severity severity() {
      return severity;
    }

    public long count() {
      return count.sum();
    }

    public synchronized List<String> examples() {
      return List.copyOf(examples);
    }

    private synchronized void add(String example) {
      count.increment();
      if (examples.size() < EXAMPLES) {
        examples.add(
            example.length() > EXAMPLE_LENGTH
                ? example.substring(0, EXAMPLE_LENGTH) + "... (" + example.length() + " chars)"
                : example);
      }
    }
  }

  /** One line sent under {@code category}. */
  public void sent(String category, int length) {
    frames.computeIfAbsent(category, key -> new LongAdder()).increment();
    bytes.computeIfAbsent(category, key -> new LongAdder()).add(length);
  }

  /** Counts an event: a connection of some plan, a frame of some type received, ... */
  public void count(String what) {
    counts.computeIfAbsent(what, key -> new LongAdder()).increment();
  }

  /** Keeps the largest {@code value} seen under {@code what} (a latency, say). */
  public void max(String what, long value) {
    maxima.merge(what, value, Math::max);
  }

  /** Counts {@code n} events at once. */
  public void add(String what, long n) {
    counts.computeIfAbsent(what, key -> new LongAdder()).add(n);
  }

  public void violation(String kind, String example) {
    findings.computeIfAbsent(kind, key -> new Finding(Severity.VIOLATION)).add(example);
  }

  public void anomaly(String kind, String example) {
    findings.computeIfAbsent(kind, key -> new Finding(Severity.ANOMALY)).add(example);
  }

  public long framesSent() {
    return frames.values().stream().mapToLong(LongAdder::sum).sum();
  }

  public long bytesSent() {
    return bytes.values().stream().mapToLong(LongAdder::sum).sum();
  }

  public long counted(String what) {
    LongAdder adder = counts.get(what);
    return adder == null ? 0 : adder.sum();
  }

  public Map<String, Finding> findings(Severity severity) {
    Map<String, Finding> selected = new TreeMap<>();
    findings.forEach(
        (kind, finding) -> {
          if (finding.severity() == severity) {
            selected.put(kind, finding);
          }
        });
    return selected;
  }

  /** The tables a run ends with. */
  public String summary() {
    StringBuilder text = new StringBuilder();
    text.append(String.format("%-34s %12s %14s%n", "sent, by category", "frames", "bytes"));
    frames.forEach(
        (category, count) ->
            text.append(
                String.format(
                    "  %-32s %12d %14d%n", category, count.sum(), bytes.get(category).sum())));
    text.append(String.format("  %-32s %12d %14d%n", "total", framesSent(), bytesSent()));
    text.append("counted\n");
    counts.forEach(
        (what, count) -> text.append(String.format("  %-46s %12d%n", what, count.sum())));
    text.append("largest\n");
    maxima.forEach((what, value) -> text.append(String.format("  %-46s %12d%n", what, value)));
    for (Severity severity : Severity.values()) {
      Map<String, Finding> selected = findings(severity);
      text.append(severity == Severity.VIOLATION ? "violations: " : "anomalies: ")
          .append(selected.size())
          .append('\n');
      selected.forEach(
          (kind, finding) -> {
            text.append(String.format("  %s (%d)%n", kind, finding.count()));
            finding
                .examples()
                .forEach(example -> text.append("    e.g. ").append(example).append('\n'));
          });
    }
    return text.toString();
  }
}
