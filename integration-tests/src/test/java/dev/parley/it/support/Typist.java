package dev.parley.it.support;

/**
 * A client driven through its terminal, in-process ({@link HeadlessClient}) or as a program of its
 * own ({@link Program}): a script written against this runs against either.
 */
public interface Typist {

  /** Types lines, each followed by Enter. */
  Typist type(String... lines);

  /** The next lines printed are exactly these, in this order. */
  Typist expect(String... lines);

  /** The next lines printed are these, in any order (events from independent sources). */
  Typist expectInAnyOrder(String... lines);

  /** Waits for the client to finish and returns its exit status. */
  int exitStatus();

  /** Everything printed so far. */
  String transcript();
}
