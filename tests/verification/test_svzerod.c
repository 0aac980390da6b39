/* svZeroDSolver import (issue 8): vessel chains and bifurcations written in
 * svZeroDSolver's JSON format (the .json files of tests/svzerod, each stating its
 * analytic answer) against their steady states; pulsatile models against
 * venosim's own run at tighter tolerances; refused blocks; the emitted case
 * file against the imported network. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

#include "support.h"

#ifndef VS_TEST_SVZEROD_DIR
#error "VS_TEST_SVZEROD_DIR must name tests/svzerod"
#endif

#define CGS_P VS_DYN_CM2_PER_MMHG /* dyn/cm^2 per mmHg */

/* Steady states must agree to this (issue 8). */
#define STEADY_REL 1e-6

static vs_svzerod_model *load(const char *file, const vs_svzerod_options *o) {
  char path[512], msg[1024];
  snprintf(path, sizeof path, "%s/%s", VS_TEST_SVZEROD_DIR, file);
  vs_svzerod_model *m = NULL;
  if (vs_svzerod_load_file(path, o, &m, msg, sizeof msg))
    fail_msg("import %s: %s", file, msg);
  return m;
}

/* The run at tolerances tight enough that the steady state, not the
 * integrator, decides the last sample. */
static vs_run_result *run_tight(const vs_svzerod_model *m) {
  vs_solver_options o = m->solver;
  o.rtol = 1e-10;
  o.atol_volume_ml = m->solver.atol_volume_ml * 1e-3; /* sized to the
                                                        smallest compliance */
  o.atol_flow_ml_s = 1e-12;
  return t_run(m->network, &o);
}

static void expect_p(const vs_run_result *r, const char *node, double p_cgs) {
  double got = t_last(r, "pressure", node);
  print_message("  p[%s] = %.12g mmHg, analytic %.12g (rel %.2g)\n", node,
                got, p_cgs / CGS_P, fabs(got * CGS_P - p_cgs) / fabs(p_cgs));
  assert_rel(got, p_cgs / CGS_P, STEADY_REL);
}

static void expect_q(const vs_run_result *r, const char *link, double q) {
  double got = t_last(r, "flow", link);
  print_message("  Q[%s] = %.12g mL/s, analytic %.12g (rel %.2g)\n", link, got,
                q, fabs(got - q) / fabs(q));
  assert_rel(got, q, STEADY_REL);
}

/* Q = 5 through three vessels and a resistance outlet; the summed series
 * elements are exact, so the steady pressures are those of the file. */
static void chain_steady_state(void **state) {
  (void)state;
  vs_svzerod_model *m = load("chain_steady.json", NULL);
  const vs_network *net = m->network;
  assert_int_equal(vs_network_compartment_count(net), 3);
  assert_int_equal(vs_network_link_count(net), 3);
  assert_int_equal(m->n_junction_nodes, 0);
  assert_int_equal(m->steady_initial, 0);
  assert_rel(m->solver.t_end_s, 10.0, 1e-15);
  assert_rel(m->solver.output_dt_s, 0.01, 1e-15);
  /* v0 -> v1: v0's L, then v1's R and stenosis, summed exactly. */
  int k = vs_network_find_link(net, "v0->v1");
  assert_true(k >= 0);
  const vs_link_spec *l = vs_network_link(net, (size_t)k);
  assert_rel(l->resistance_mmhg_s_ml, 200.0 / CGS_P, 1e-15);
  assert_rel(l->inertance_mmhg_s2_ml, 1.0 / CGS_P, 1e-15);
  assert_true(l->has_stenosis);
  double rs, bs, ls;
  vs_stenosis_coefficients(&l->stenosis, 0.035, m->density_g_cm3,
                           VS_PI * l->diameter_cm * l->diameter_cm / 4.0, &rs,
                           &bs, &ls);
  assert_true(rs == 0.0 && ls == 0.0);
  assert_rel(bs, 10.0 / CGS_P, 1e-14);
  vs_run_result *r = run_tight(m);
  expect_p(r, "v0", 4250.0);
  expect_p(r, "v1", 3000.0);
  expect_p(r, "v2", 2500.0);
  expect_q(r, "v0->v1", 5.0);
  expect_q(r, "v1->v2", 5.0);
  expect_q(r, "v2->OUT:Pd", 5.0);
  vs_result_free(&r);
  vs_svzerod_free(&m);
}

/* With steady_initial the run starts in the steady state of the mean
 * boundary values: sample 0 already holds the analytic pressures. */
static void steady_initial_state(void **state) {
  (void)state;
  vs_svzerod_options o = vs_svzerod_options_default();
  o.steady_initial = 1;
  vs_svzerod_model *m = load("chain_steady.json", &o);
  assert_int_equal(m->steady_initial, 1);
  vs_solver_options so = m->solver;
  so.t_end_s = 0.1;
  vs_run_result *r = t_run(m->network, &so);
  const double p[] = {4250.0, 3000.0, 2500.0};
  const char *c[] = {"v0", "v1", "v2"};
  for (int i = 0; i < 3; ++i) {
    assert_rel(t_at(r, "pressure", c[i], 0), p[i] / CGS_P, 1e-12);
    assert_rel(t_last(r, "pressure", c[i]), p[i] / CGS_P, STEADY_REL);
  }
  assert_rel(t_at(r, "flow", "v0->v1", 0), 5.0, 1e-12);
  vs_result_free(&r);
  vs_svzerod_free(&m);
}

/* Positive root of a q^2 + b q + c = 0. */
static double root(double a, double b, double c) {
  return (-b + sqrt(b * b - 4.0 * a * c)) / (2.0 * a);
}

/* NORMAL_JUNCTION with three vessels: the junction becomes a small
 * compliance, which cannot change a steady state. */
static void bifurcation_steady_state(void **state) {
  (void)state;
  vs_svzerod_model *m = load("bifurcation_steady.json", NULL);
  assert_int_equal(m->n_junction_nodes, 1);
  print_message("  notes: %s", m->notes);
  double q1 = root(20.0, 2800.0, -7700.0), q2 = 5.0 - q1;
  double pj = 200.0 + 1600.0 * q2;
  assert_rel(500.0 + 1200.0 * q1 + 20.0 * q1 * q1, pj, 1e-12);
  vs_run_result *r = run_tight(m);
  expect_p(r, "v0", pj);
  expect_p(r, "J0", pj);
  expect_p(r, "v1", 500.0 + 1000.0 * q1);
  expect_p(r, "v2", 200.0 + 1300.0 * q2);
  expect_p(r, "OUT2", 200.0 + 800.0 * q2);
  expect_q(r, "v0->J0", 5.0);
  expect_q(r, "J0->v1", q1);
  expect_q(r, "J0->v2", q2);
  expect_q(r, "OUT2->OUT2:Pd", q2);
  vs_result_free(&r);
  vs_svzerod_free(&m);
}

/* BloodVesselJunction: each outlet has its own R, L and S. */
static void blood_vessel_junction_steady_state(void **state) {
  (void)state;
  vs_svzerod_model *m = load("bvj_steady.json", NULL);
  double q1 = root(20.0, 650.0 + 1050.0, -(300.0 + 1050.0 * 5.0 - 100.0));
  double q2 = 5.0 - q1, pj = 300.0 + 1050.0 * q2;
  vs_run_result *r = run_tight(m);
  expect_p(r, "J0", pj);
  expect_p(r, "v1", 100.0 + 400.0 * q1);
  expect_p(r, "v2", 300.0 + 600.0 * q2);
  expect_q(r, "J0->v1", q1);
  expect_q(r, "J0->v2", q2);
  vs_result_free(&r);
  vs_svzerod_free(&m);
}

/* svZeroDSolver's own steadyFlow_bifurcationR_R1 layout: resistances only.
 * The junction is the only compliant node left. */
static void resistive_bifurcation(void **state) {
  (void)state;
  vs_svzerod_model *m = load("bifurcation_r.json", NULL);
  assert_int_equal(vs_network_compartment_count(m->network), 1);
  vs_run_result *r = run_tight(m);
  expect_p(r, "J0", 600.0);
  expect_q(r, "J0->OUT1:Pd", 2.5);
  expect_q(r, "J0->OUT2:Pd", 2.5);
  vs_result_free(&r);
  vs_svzerod_free(&m);
}

/* Worst |a - b| / max |b| over a series. */
static double worst_rel(const vs_run_result *a, const vs_run_result *b,
                        const char *series) {
  const vs_series *x = vs_result_series(a, series);
  const vs_series *y = vs_result_series(b, series);
  assert_non_null(x);
  assert_non_null(y);
  assert_int_equal(a->n_samples, b->n_samples);
  size_t n = a->n_samples * x->n_columns;
  double scale = 0, worst = 0;
  for (size_t k = 0; k < n; ++k) scale = fmax(scale, fabs(y->data[k]));
  for (size_t k = 0; k < n; ++k)
    worst = fmax(worst, fabs(x->data[k] - y->data[k]) / scale);
  return worst;
}

static void pulsatile_against_tight(const char *file) {
  vs_svzerod_model *m = load(file, NULL);
  vs_solver_options o = m->solver;
  o.rtol = 1e-8;
  o.atol_volume_ml *= 1e-2;
  o.atol_flow_ml_s = 1e-9;
  vs_run_result *run = t_run(m->network, &o);
  o.rtol *= 1e-2;
  o.atol_volume_ml *= 1e-2;
  o.atol_flow_ml_s *= 1e-2;
  vs_run_result *ref = t_run(m->network, &o);
  double wp = worst_rel(run, ref, "pressure"), wq = worst_rel(run, ref, "flow");
  print_message("  %s: worst difference / max |reference|: pressure %.3g, "
                "flow %.3g (%ld vs %ld steps)\n",
                file, wp, wq, run->stats.steps, ref->stats.steps);
  assert_true(wp <= 1e-6 && wq <= 1e-6);
  vs_result_free(&run);
  vs_result_free(&ref);
  vs_svzerod_free(&m);
}

static void chain_pulsatile(void **state) {
  (void)state;
  pulsatile_against_tight("chain_pulsatile.json");
}

static void bifurcation_pulsatile(void **state) {
  (void)state;
  pulsatile_against_tight("bifurcation_pulsatile.json");
}

/* The junction approximation converges: the transient with the default
 * tau_J = 1e-7 of a period differs from tau_J = 1e-9 by about 2e-6 of the
 * signal (the error is proportional to tau_J). */
static void junction_approximation_converges(void **state) {
  (void)state;
  vs_svzerod_options o = vs_svzerod_options_default();
  vs_svzerod_model *a = load("bifurcation_pulsatile.json", &o);
  o.junction_tau_fraction = 1e-9;
  vs_svzerod_model *b = load("bifurcation_pulsatile.json", &o);
  vs_solver_options so = a->solver;
  so.rtol = 1e-11;
  so.atol_volume_ml = 1e-14;
  so.atol_flow_ml_s = 1e-12;
  vs_run_result *ra = t_run(a->network, &so);
  vs_run_result *rb = t_run(b->network, &so);
  double wp = worst_rel(ra, rb, "pressure"), wq = worst_rel(ra, rb, "flow");
  print_message("  tau_J 1e-7 vs 1e-9 of a period: worst difference / max: "
                "pressure %.3g, flow %.3g\n", wp, wq);
  assert_true(wp <= 1e-5 && wq <= 1e-5);
  vs_result_free(&ra);
  vs_result_free(&rb);
  vs_svzerod_free(&a);
  vs_svzerod_free(&b);
}

/* A model built from text; returns the status and the message. */
static int load_text(const char *text, char *msg, size_t len) {
  vs_svzerod_model *m = NULL;
  int rc = vs_svzerod_load_string(text, strlen(text), "bad.json", NULL, &m,
                                  msg, len);
  vs_svzerod_free(&m);
  return rc;
}

#define BAD_MODEL(vessel_values, vessel_type, bc_type, bc_values, extra)      \
  "{\n"                                                                       \
  "  \"simulation_parameters\": {\"number_of_cardiac_cycles\": 1,\n"          \
  "    \"number_of_time_pts_per_cardiac_cycle\": 11},\n"                      \
  "  \"boundary_conditions\": [\n"                                            \
  "    {\"bc_name\": \"IN\", \"bc_type\": \"FLOW\", \"bc_values\": "          \
  "{\"Q\": [1, 1], \"t\": [0, 1]}},\n"                                        \
  "    {\"bc_name\": \"OUT\", \"bc_type\": " bc_type ",\n"                   \
  "     \"bc_values\": " bc_values "}],\n"                                    \
  "  \"vessels\": [{\"vessel_id\": 0, \"vessel_name\": \"v\",\n"              \
  "    \"boundary_conditions\": {\"inlet\": \"IN\", \"outlet\": \"OUT\"},\n"  \
  "    \"zero_d_element_type\": " vessel_type ",\n"                           \
  "    \"zero_d_element_values\": " vessel_values "}]" extra "\n}\n"

#define GOOD_VESSEL "{\"R_poiseuille\": 1, \"C\": 1e-5}"
#define GOOD_BC "{\"R\": 100, \"Pd\": 0}"

static void expect_refused(const char *text, const char *line_col,
                           const char *words) {
  char msg[1024];
  int rc = load_text(text, msg, sizeof msg);
  print_message("  refused: %s\n", msg);
  assert_true(rc < 0);
  char where[64];
  snprintf(where, sizeof where, "bad.json:%s: ", line_col);
  assert_non_null(strstr(msg, where));
  assert_non_null(strstr(msg, words));
}

static void unsupported_blocks_are_named(void **state) {
  (void)state;
  /* the good model loads */
  char msg[1024];
  assert_int_equal(load_text(BAD_MODEL(GOOD_VESSEL, "\"BloodVessel\"",
                                       "\"RESISTANCE\"", GOOD_BC, ""),
                             msg, sizeof msg), 0);
  expect_refused(BAD_MODEL(GOOD_VESSEL, "\"BloodVessel\"", "\"CORONARY\"",
                           "{\"Ra\": 1}", ""),
                 "6:36", "bc_type 'CORONARY' is not supported");
  expect_refused(BAD_MODEL(GOOD_VESSEL, "\"BloodVesselCRL\"", "\"RESISTANCE\"",
                           GOOD_BC, ""),
                 "10:29", "zero_d_element_type 'BloodVesselCRL' is not "
                          "supported");
  expect_refused(BAD_MODEL("{\"R\": 1}", "\"BloodVessel\"", "\"RESISTANCE\"",
                           GOOD_BC, ""),
                 "11:32", "unknown parameter 'R' in BloodVessel 'v'");
  expect_refused(BAD_MODEL(GOOD_VESSEL, "\"BloodVessel\"", "\"PRESSURE\"",
                           "{\"fn\": \"sin(t)\"}", ""),
                 "7:21", "expressions (\"fn\") are not supported");
  expect_refused(BAD_MODEL(GOOD_VESSEL, "\"BloodVessel\"", "\"RESISTANCE\"",
                           GOOD_BC, ",\n  \"chambers\": []"),
                 "12:4", "'chambers' is not supported");
  expect_refused(BAD_MODEL(GOOD_VESSEL, "\"BloodVessel\"", "\"RESISTANCE\"",
                           GOOD_BC, ",\n  \"junctions\": [{\"junction_name\": "
                           "\"J\", \"junction_type\": \"magic\", "
                           "\"inlet_vessels\": [0], \"outlet_vessels\": [0]}]"),
                 "12:58", "junction_type 'magic' is not supported");
  /* a JSON syntax error is placed too */
  int rc = load_text("{\n  \"vessels\": [1, 2,,]\n}\n", msg, sizeof msg);
  print_message("  refused: %s\n", msg);
  assert_int_equal(rc, VS_EPARSE);
  assert_non_null(strstr(msg, "bad.json:2:"));
  /* a vessel end left open */
  rc = load_text("{\"simulation_parameters\": {\"number_of_cardiac_cycles\": 1,"
                 " \"number_of_time_pts_per_cardiac_cycle\": 3},"
                 " \"boundary_conditions\": [{\"bc_name\": \"IN\", \"bc_type\":"
                 " \"FLOW\", \"bc_values\": {\"Q\": 1}}],"
                 " \"vessels\": [{\"vessel_id\": 0, \"vessel_name\": \"v\","
                 " \"boundary_conditions\": {\"inlet\": \"IN\"},"
                 " \"zero_d_element_type\": \"BloodVessel\","
                 " \"zero_d_element_values\": {\"C\": 1}}]}",
                 msg, sizeof msg);
  print_message("  refused: %s\n", msg);
  assert_int_equal(rc, VS_ENETWORK);
  assert_non_null(strstr(msg, "outlet is connected to no junction"));
}

/* The emitted case file builds the same network: identical results. */
static void round_trip(const char *file) {
  vs_svzerod_model *m = load(file, NULL);
  char msg[1024], path[] = "/tmp/venosim-svzerod-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  if (vs_svzerod_write_yaml(m, path, msg, sizeof msg))
    fail_msg("write: %s", msg);
  vs_case *c = NULL;
  if (vs_case_load_file(path, &c, msg, sizeof msg)) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "cat -n %s | head -80", path);
    if (system(cmd) < 0) print_error("cannot show %s\n", path);
    fail_msg("load the emitted case: %s", msg);
  }
  remove(path);
  assert_int_equal(vs_network_compartment_count(c->network),
                   vs_network_compartment_count(m->network));
  assert_int_equal(vs_network_link_count(c->network),
                   vs_network_link_count(m->network));
  assert_int_equal(vs_network_flow_source_count(c->network),
                   vs_network_flow_source_count(m->network));
  assert_memory_equal(&c->solver, &m->solver, sizeof c->solver);
  vs_run_result *a = t_run(m->network, &m->solver);
  vs_run_result *b = t_run(c->network, &c->solver);
  double wp = worst_rel(a, b, "pressure"), wq = worst_rel(a, b, "flow");
  print_message("  %s -> YAML -> run: worst difference %.3g (pressure), "
                "%.3g (flow)\n", file, wp, wq);
  assert_true(wp == 0.0 && wq == 0.0);
  vs_result_free(&a);
  vs_result_free(&b);
  vs_case_free(&c);
  vs_svzerod_free(&m);
}

static void yaml_round_trip(void **state) {
  (void)state;
  round_trip("chain_pulsatile.json");
  round_trip("bifurcation_pulsatile.json");
  round_trip("bvj_steady.json");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chain_steady_state),
      cmocka_unit_test(steady_initial_state),
      cmocka_unit_test(bifurcation_steady_state),
      cmocka_unit_test(blood_vessel_junction_steady_state),
      cmocka_unit_test(resistive_bifurcation),
      cmocka_unit_test(chain_pulsatile),
      cmocka_unit_test(bifurcation_pulsatile),
      cmocka_unit_test(junction_approximation_converges),
      cmocka_unit_test(unsupported_blocks_are_named),
      cmocka_unit_test(yaml_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
