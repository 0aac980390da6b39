/* Sweeps (sweep.h): how many runs, in which order, with which values; the
 * values land in the built network exactly where the path points; the
 * Latin hypercube puts one sample in each stratum and depends on the seed
 * only; every kind of mistake is an error at the sweep entry's line. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "venosim/error.h"
#include "venosim/leg.h"
#include "venosim/network.h"
#include "venosim/sweep.h"
#include "venosim/units.h"

enum { MSG_LEN = 2048 };

/* Two compartments (one tube law, one linear) draining through a link
 * with a stenosis into a pressure boundary; a sweep section appended. */
static const char base[] =
    "name: tiny\n"
    "description: a small network to sweep\n"
    "posture: {tilt_deg: 0}\n"
    "solver: {t_end_s: 1, output_dt_s: 0.1}\n"
    "compartments:\n"
    "  - name: a\n"
    "    p_init_mmhg: 10\n"
    "    wall: {type: tube_law, k_mmhg: 40, diameter_mm: 10, length_cm: 5}\n"
    "  - name: b\n"
    "    p_init_mmhg: 8\n"
    "    wall: {type: linear, compliance_ml_mmhg: 1}\n"
    "boundaries:\n"
    "  - {name: out, type: pressure, pressure_mmhg: 5}\n"
    "links:\n"
    "  - name: ab\n"
    "    from: a\n"
    "    to: b\n"
    "    diameter_mm: 10\n"
    "    length_cm: 5\n"
    "    stenosis: {area_ratio: 0.5, length_cm: 2}\n"
    "  - {name: bo, from: b, to: out, resistance_mmhg_s_ml: 1}\n";
/* `base` has 21 lines: a sweep section starts at line 22. */
#define SWEEP_LINE 22

static vs_sweep *load(const char *sweep, char *msg) {
  size_t n = strlen(base) + strlen(sweep) + 1;
  char *text = malloc(n);
  assert_non_null(text);
  snprintf(text, n, "%s%s", base, sweep);
  vs_sweep *s = NULL;
  int rc = vs_sweep_load_string(text, strlen(text), "tiny.yaml", &s, msg,
                                MSG_LEN);
  free(text);
  if (rc) assert_null(s);
  return s;
}

static vs_sweep *load_ok(const char *sweep) {
  char msg[MSG_LEN];
  vs_sweep *s = load(sweep, msg);
  if (!s) fail_msg("unexpected error: %s", msg);
  return s;
}

/* The error message of a sweep that must fail; checks its position. */
static void expect_error(const char *sweep, int line, const char *text) {
  char msg[MSG_LEN], where[64];
  vs_sweep *s = load(sweep, msg);
  if (s) fail_msg("expected an error about '%s'", text);
  snprintf(where, sizeof where, "tiny.yaml:%d:", line);
  if (!strstr(msg, where) || !strstr(msg, text))
    fail_msg("expected '%s' and '%s' in: %s", where, text, msg);
}

static void test_no_sweep_is_one_run(void **state) {
  (void)state;
  vs_sweep *s = load_ok("");
  assert_int_equal(vs_sweep_run_count(s), 1);
  assert_int_equal(vs_sweep_input_count(s), 0);
  char name[64];
  assert_int_equal(vs_sweep_run_name(s, 0, name, sizeof name), VS_OK);
  assert_string_equal(name, "tiny");
  assert_int_equal(vs_sweep_run_name(s, 1, name, sizeof name), VS_EINVAL);
  vs_case *c = NULL;
  char msg[MSG_LEN];
  assert_int_equal(vs_sweep_build_run(s, 0, &c, msg, sizeof msg), VS_OK);
  assert_int_equal(vs_network_compartment_count(c->network), 2);
  vs_case_free(&c);
  vs_sweep_free(&s);
  vs_sweep_free(&s); /* harmless twice */
}

/* grid 2 x 3, zip 2, random 4: 48 runs, random fastest, grid first input
 * slowest. */
static void test_counts_order_and_names(void **state) {
  (void)state;
  vs_sweep *s = load_ok("sweep:\n"
                        "  grid:\n"
                        "    - {input: 'links[ab].stenosis.area_ratio', "
                        "values: [0.2, 0.8]}\n"
                        "    - {input: 'compartments[a].wall.k_mmhg', "
                        "values: [20, 40, 80], unit: mmHg}\n"
                        "  zip:\n"
                        "    - {input: 'links[bo].resistance_mmhg_s_ml', "
                        "values: [1, 2]}\n"
                        "    - {input: solver.rtol, values: [1.0e-6, 1.0e-7]}\n"
                        "  random:\n"
                        "    samples: 4\n"
                        "    inputs:\n"
                        "      - {input: 'links[ab].stenosis.kt', min: 1, "
                        "max: 3, column: kt}\n");
  assert_int_equal(vs_sweep_run_count(s), 48);
  size_t g, z, r;
  vs_sweep_block_counts(s, &g, &z, &r);
  assert_int_equal(g, 6);
  assert_int_equal(z, 2);
  assert_int_equal(r, 4);
  assert_int_equal(vs_sweep_input_count(s), 5);
  const vs_sweep_input *in = vs_sweep_input_info(s, 1);
  assert_string_equal(in->path, "compartments[a].wall.k_mmhg");
  assert_string_equal(in->column, "compartments[a].wall.k_mmhg");
  assert_string_equal(in->unit, "mmHg");
  assert_string_equal(in->block, "grid");
  assert_string_equal(vs_sweep_input_info(s, 4)->column, "kt");
  assert_string_equal(vs_sweep_input_info(s, 4)->block, "random");
  assert_string_equal(vs_sweep_input_info(s, 3)->unit, "1");
  assert_null(vs_sweep_input_info(s, 5));

  static const double k[3] = {20, 40, 80}, r_bo[2] = {1, 2},
                      rtol[2] = {1e-6, 1e-7};
  double v[5], first_kt[4];
  for (size_t run = 0; run < 48; ++run) {
    assert_int_equal(vs_sweep_run_values(s, run, v), VS_OK);
    size_t k_random = run % 4, k_zip = (run / 4) % 2, k_grid = run / 8;
    assert_true(v[0] == (k_grid / 3 ? 0.8 : 0.2));
    assert_true(v[1] == k[k_grid % 3]);
    assert_true(v[2] == r_bo[k_zip]);
    assert_true(v[3] == rtol[k_zip]);
    if (run < 4) first_kt[run] = v[4];
    assert_true(v[4] == first_kt[k_random]); /* the same sample each block */
  }
  char name[64];
  vs_sweep_run_name(s, 7, name, sizeof name);
  assert_string_equal(name, "tiny-0007");
  assert_int_equal(vs_sweep_run_values(s, 48, v), VS_EINVAL);
  vs_sweep_free(&s);
}

/* The values reach the network: where the path points, and only there. */
static void test_values_land_in_the_network(void **state) {
  (void)state;
  vs_sweep *s = load_ok("sweep:\n"
                        "  zip:\n"
                        "    - {input: 'compartments[*].wall.k_mmhg', "
                        "values: [25, 50]}\n"
                        "    - {input: 'links[0].stenosis.la_ds', "
                        "values: [1.5, 2.5]}\n"
                        "    - {input: 'links[ab].stenosis.area_ratio', "
                        "values: [0.25, 1]}\n"
                        "    - {input: 'boundaries[out].pressure_mmhg', "
                        "values: [3, 4]}\n"
                        "    - {input: 'solver.max_order', values: [2, 4]}\n"
                        "    - {input: 'blood.density_g_cm3', "
                        "values: [1.0, 1.1]}\n");
  /* [*] skips b, whose linear wall has no k_mmhg. */
  assert_int_equal(vs_sweep_input_info(s, 0)->n_targets, 1);
  for (size_t run = 0; run < 2; ++run) {
    vs_case *c = NULL;
    char msg[MSG_LEN];
    assert_int_equal(vs_sweep_build_run(s, run, &c, msg, sizeof msg), VS_OK);
    const vs_compartment_spec *a = vs_network_compartment(c->network, 0);
    const vs_compartment_spec *b = vs_network_compartment(c->network, 1);
    assert_true(a->wall.k_mmhg == (run ? 50 : 25));
    assert_true(b->wall.compliance_ml_mmhg == 1); /* untouched */
    const vs_link_spec *ab = vs_network_link(c->network, 0);
    assert_true(ab->stenosis.la_ds == (run ? 2.5 : 1.5));
    assert_true(ab->stenosis.area_ratio == (run ? 1 : 0.25));
    assert_true(ab->stenosis.length_cm == 2); /* the rest as written */
    const vs_pressure_node_spec *out = vs_network_pressure_node(c->network, 0);
    assert_true(out->pressure.value == (run ? 4 : 3));
    assert_int_equal(c->solver.max_order, run ? 4 : 2);
    assert_true(c->solver.t_end_s == 1);
    /* The resolved case of a run holds its values, not the sweep. */
    assert_null(strstr(c->resolved, "\nsweep:"));
    vs_case_free(&c);
  }
  /* The case as written keeps its sweep (for the results file). */
  assert_non_null(strstr(vs_sweep_case(s)->text, "sweep:"));
  vs_sweep_free(&s);
}

/* Latin hypercube: every stratum of every input holds one sample; log
 * scale stratifies the logarithm; the seed alone decides the sample. */
static void test_latin_hypercube(void **state) {
  (void)state;
  const char *text = "sweep:\n"
                     "  max_runs: 1000\n"
                     "  random:\n"
                     "    seed: 42\n"
                     "    samples: 200\n"
                     "    inputs:\n"
                     "      - {input: 'compartments[a].wall.k_mmhg', "
                     "min: 10, max: 1000, scale: log}\n"
                     "      - {input: 'links[ab].stenosis.kt', min: 1, max: 2}\n";
  vs_sweep *s = load_ok(text), *again = load_ok(text);
  enum { N = 200 };
  int hit[2][N] = {{0}};
  double v[2], w[2];
  for (size_t run = 0; run < N; ++run) {
    vs_sweep_run_values(s, run, v);
    vs_sweep_run_values(again, run, w);
    assert_memory_equal(v, w, sizeof v);
    assert_true(v[0] >= 10 && v[0] <= 1000 && v[1] >= 1 && v[1] <= 2);
    int k0 = (int)floor(log(v[0] / 10) / log(100) * N);
    int k1 = (int)floor((v[1] - 1) * N);
    if (k0 == N) k0 = N - 1;
    if (k1 == N) k1 = N - 1;
    hit[0][k0]++;
    hit[1][k1]++;
  }
  for (int k = 0; k < N; ++k) {
    assert_int_equal(hit[0][k], 1);
    assert_int_equal(hit[1][k], 1);
  }
  vs_sweep_free(&again);
  char other[1024];
  snprintf(other, sizeof other, "%s", text);
  memcpy(strstr(other, "seed: 42"), "seed: 43", 8);
  again = load_ok(other);
  vs_sweep_run_values(s, 0, v);
  vs_sweep_run_values(again, 0, w);
  assert_true(v[0] != w[0]);
  vs_sweep_free(&again);
  vs_sweep_free(&s);
}

/* A run that fails the reader's cross-key checks: found by validate, the
 * lowest such run first, with the run and its values named. */
static void test_validate_reports_the_first_bad_run(void **state) {
  (void)state;
  vs_sweep *s = load_ok("sweep:\n"
                        "  grid:\n"
                        "    - {input: solver.output_dt_s, values: [0.1, 2, "
                        "3]}\n");
  char msg[MSG_LEN];
  assert_int_equal(vs_sweep_validate(s, 2, msg, sizeof msg), VS_ESCHEMA);
  assert_non_null(strstr(msg, "run tiny-0001"));
  assert_non_null(strstr(msg, "solver.output_dt_s = 2"));
  assert_non_null(strstr(msg, "must not exceed"));
  vs_case *c = NULL;
  assert_int_equal(vs_sweep_build_run(s, 0, &c, msg, sizeof msg), VS_OK);
  vs_case_free(&c);
  vs_sweep_free(&s);
}

static void test_errors_name_the_entry(void **state) {
  (void)state;
  const int L = SWEEP_LINE + 2; /* the first entry's line */
  expect_error("sweep: {max_runs: 5}\n", SWEEP_LINE,
               "give at least one of grid, zip or random");
  expect_error("sweep:\n  grid:\n    - {input: 'links[ab].stenosis.area_ratio', "
               "values: [0.5, 1.5]}\n",
               L, "value [1] 1.5 is out of the key's range (0, 1]");
  expect_error("sweep:\n  grid:\n    - {input: 'links[ab].stenosis.arearatio', "
               "values: [0.5]}\n",
               L, "unknown key 'arearatio' (expected one of: area_ratio");
  expect_error("sweep:\n  grid:\n    - {input: 'links[nope].length_cm', "
               "values: [1]}\n",
               L, "no item of links is named 'nope'");
  expect_error("sweep:\n  grid:\n    - {input: 'links[7].length_cm', "
               "values: [1]}\n",
               L, "links has no item [7] (it has 2)");
  expect_error("sweep:\n  grid:\n    - {input: 'compartments[b].wall.k_mmhg',"
               " values: [1]}\n",
               L, "exists only where type is tube_law");
  expect_error("sweep:\n  grid:\n    - {input: 'links[ab].from', values: [1]}\n",
               L, "is not a number");
  expect_error("sweep:\n  grid:\n    - {input: 'links[bo].stenosis.kt', "
               "values: [1]}\n",
               L, "links[bo].stenosis is not in the case");
  expect_error("sweep:\n  grid:\n    - {input: 'links[bo].diameter_mm', "
               "values: [10]}\n",
               L, "has no default");
  expect_error("sweep:\n  grid:\n    - {input: 'links..x', values: [1]}\n", L,
               "expected a key name");
  expect_error("sweep:\n  grid:\n    - {input: solver.max_order, "
               "values: [2.5]}\n",
               L, "value [0] 2.5 is not a whole number");
  expect_error("sweep:\n  grid:\n    - {input: solver.rtol, values: [1.0e-6], "
               "unit: s}\n",
               L, "unit 's' does not match the key's unit '1'");
  expect_error("sweep:\n  grid:\n    - {input: solver.rtol, values: [1.0e-6], "
               "column: volume_change}\n",
               L, "the /summary column 'volume_change' is taken");
  expect_error("sweep:\n  grid:\n    - {input: solver.rtol, values: [1.0e-6]}"
               "\n    - {input: solver.rtol, values: [1.0e-7]}\n",
               L + 1, "sets a key that input 'solver.rtol'");
  expect_error("sweep:\n  zip:\n    - {input: solver.rtol, values: [1.0e-6]}"
               "\n    - {input: solver.t_end_s, values: [1, 2]}\n",
               L + 1, "zip lists must be of one length");
  expect_error("sweep:\n  max_runs: 3\n  grid:\n    - {input: solver.rtol, "
               "values: [1.0e-6, 1.0e-7]}\n    - {input: solver.t_end_s, "
               "values: [1, 2]}\n",
               SWEEP_LINE + 1, "expands to 4 runs (grid 4 x zip 1 x random 1)");
  expect_error("sweep:\n  random:\n    samples: 3\n    inputs:\n"
               "      - {input: solver.max_order, min: 1, max: 5}\n",
               SWEEP_LINE + 4, "random sampling needs a real-valued key");
  expect_error("sweep:\n  random:\n    samples: 3\n    inputs:\n"
               "      - {input: 'links[ab].stenosis.kt', min: 2, max: 1}\n",
               SWEEP_LINE + 4, "max must be above min");
  expect_error("sweep:\n  random:\n    samples: 3\n    inputs:\n"
               "      - {input: 'links[ab].stenosis.kt', min: 0, max: 1, "
               "scale: log}\n",
               SWEEP_LINE + 4, "scale log needs min > 0");
  /* The sweep section itself goes through the schema check. */
  expect_error("sweep:\n  grid:\n    - {inptu: solver.rtol, values: [1]}\n", L,
               "unknown key 'inptu'");
}

/* Treatment arms multiply the runs: each patient (sweep point) untreated,
 * then with each arm, the arm fastest; each run's baseline is its
 * patient's untreated run, and every arm's treatments reach its network. */
static void test_arms_runs_names_and_baselines(void **state) {
  (void)state;
  static const char text[] =
      "name: pts\n"
      "description: an iliac stenosis, untreated, stented, with stockings\n"
      "leg:\n"
      "  lesions:\n"
      "    - {segment: common_iliac, area_ratio: 0.2, length_cm: 4}\n"
      "arms:\n"
      "  - name: stent\n"
      "    treatments: [{kind: stent, segment: common_iliac, diameter_mm: 14, "
      "length_cm: 6}]\n"
      "  - name: palma\n"
      "    treatments: [{kind: palma}]\n"
      "sweep:\n"
      "  grid:\n"
      "    - {input: 'arms[stent].treatments[0].diameter_mm', values: [12, "
      "16], column: stent_diameter}\n";
  char msg[MSG_LEN], name[64];
  vs_sweep *s = NULL;
  if (vs_sweep_load_string(text, strlen(text), "arms.yaml", &s, msg, MSG_LEN))
    fail_msg("%s", msg);
  assert_int_equal(vs_sweep_run_count(s), 6);
  assert_int_equal(vs_sweep_arm_count(s), 3);
  assert_string_equal(vs_sweep_arm_name(s, 0), VS_CASE_UNTREATED_ARM);
  assert_string_equal(vs_sweep_arm_name(s, 2), "palma");
  assert_null(vs_sweep_arm_name(s, 3));
  static const char *const names[] = {"pts-0000-untreated", "pts-0000-stent",
                                      "pts-0000-palma",     "pts-0001-untreated",
                                      "pts-0001-stent",     "pts-0001-palma"};
  static const size_t baseline[] = {0, 0, 0, 3, 3, 3};
  static const double diameter[] = {12, 12, 12, 16, 16, 16};
  for (size_t i = 0; i < 6; ++i) {
    double v = 0;
    assert_int_equal(vs_sweep_run_name(s, i, name, sizeof name), VS_OK);
    assert_string_equal(name, names[i]);
    assert_int_equal(vs_sweep_baseline(s, i), baseline[i]);
    assert_int_equal(vs_sweep_run_values(s, i, &v), VS_OK);
    assert_true(v == diameter[i]);
    vs_case *c = NULL;
    if (vs_sweep_build_run(s, i, &c, msg, sizeof msg)) fail_msg("%s", msg);
    assert_int_equal(c->arm, i % 3);
    /* The Palma arm adds its graft; the others do not. */
    int graft = vs_network_find_link(c->network, VS_LEG_PALMA_LINK) >= 0;
    assert_int_equal(graft, i % 3 == 2);
    /* The stent's lumen is the site's: wider for the wider stent. */
    double lumen = 0;
    assert_true(vs_network_site(c->network, NULL, &lumen));
    if (i == 1 || i == 4) assert_true(lumen > 0.716 + 0.1);
    vs_case_free(&c);
  }
  vs_sweep_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_no_sweep_is_one_run),
      cmocka_unit_test(test_counts_order_and_names),
      cmocka_unit_test(test_values_land_in_the_network),
      cmocka_unit_test(test_latin_hypercube),
      cmocka_unit_test(test_validate_reports_the_first_bad_run),
      cmocka_unit_test(test_errors_name_the_entry),
      cmocka_unit_test(test_arms_runs_names_and_baselines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
