package dev.parley.bench.scenario;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

class SummaryTest {

  @Test
  void shouldPrintOneLineAndOneJsonObject() {
    Summary summary =
        new Summary("direct")
            .put("clients", 200)
            .rate("offered_per_s", OptionalDouble.empty())
            .put("p99_ms", 1.23456, 2)
            .put("p50_ms", Double.NaN, 2)
            .put("ok", true)
            .put("miss", "p99 over slo");
    assertEquals(
        "scenario=direct clients=200 offered_per_s=max p99_ms=1.23 p50_ms=unknown ok=true"
            + " miss=p99_over_slo",
        summary.line());
    assertEquals(
        "{\"scenario\":\"direct\",\"clients\":200,\"offered_per_s\":\"max\",\"p99_ms\":1.23,"
            + "\"p50_ms\":null,\"ok\":true,\"miss\":\"p99_over_slo\"}",
        summary.json());
  }

  @Test
  void shouldNestStepsInJsonOnly() {
    Summary step = new Summary("sweep-step").put("step", 1);
    Summary sweep = new Summary("sweep").put("steps", 1).steps(List.of(step));
    assertEquals("scenario=sweep steps=1", sweep.line());
    assertEquals(
        "{\"scenario\":\"sweep\",\"steps\":1,"
            + "\"step_results\":[{\"scenario\":\"sweep-step\",\"step\":1}]}",
        sweep.json());
  }
}
