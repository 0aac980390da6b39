/* Numerical guards (hardening issue, item 4): a NaN or a negative volume in
 * the state, or CVODE giving up, ends the run with a clear message recorded
 * with it (status failed, message naming the state and the time); the
 * samples up to there are valid and the rest are NaN, never garbage. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "support.h"

/* Integrate and return the status; the result is kept for inspection. */
static int t_run_status(const vs_network *net, const vs_solver_options *opt,
                        vs_run_result **res) {
  vs_system *sys = NULL;
  char msg[256];
  if (vs_system_create(net, &sys, msg, sizeof msg)) fail_msg("system: %s", msg);
  if (vs_result_create(res, "guard")) fail_msg("result");
  int rc = vs_integrate(sys, opt, *res);
  vs_system_free(&sys);
  return rc;
}

static void assert_contains(const char *text, const char *part) {
  if (!strstr(text, part))
    fail_msg("'%s' does not contain '%s'", text, part);
}

/* Rows [0, n_good) hold finite values (volumes >= 0); rows from n_good on
 * are NaN, their times too. */
static void assert_rows(const vs_run_result *r, size_t n_good) {
  for (size_t k = 0; k < r->n_samples; ++k) {
    int good = k < n_good;
    if (good != !isnan(r->time[k]))
      fail_msg("time[%zu] = %g (expected %s)", k, r->time[k],
               good ? "a time" : "NaN");
    for (size_t s = 0; s < r->n_series; ++s) {
      const vs_series *ser = &r->series[s];
      for (size_t j = 0; j < ser->n_columns; ++j) {
        double v = ser->data[k * ser->n_columns + j];
        if (good ? !isfinite(v) : !isnan(v))
          fail_msg("%s[%zu][%s] = %g (expected %s)", ser->name, k,
                   ser->column_names[j], v, good ? "finite" : "NaN");
        if (good && strcmp(ser->name, "volume") == 0 && v < -1e-9)
          fail_msg("volume[%zu][%s] = %g < 0", k, ser->column_names[j], v);
      }
    }
  }
}

static vs_network *flat_network(void) {
  vs_network *net = NULL;
  assert_int_equal(vs_network_create(&net), 0);
  vs_waveform flat = vs_waveform_constant(0.0);
  vs_network_set_tilt(net, &flat);
  return net;
}

/* 10 mL (C = 2 mL/mmHg, p = 5 mmHg) drained at 5 mL/s: V(t) = 10 - 5 t
 * empties at t = 2 s. Without the guard a linear wall keeps going to
 * -10 mL at 4 s with status ok. */
static void guard_negative_volume(void **state) {
  (void)state;
  vs_network *net = flat_network();
  t_compartment(net, "calf", vs_wall_linear(2.0, 0.0), 0.0, 5.0);
  vs_waveform q = vs_waveform_constant(-5.0);
  t_flow_source(net, "pump", "calf", &q);
  /* A pressure boundary, as every network needs, too tight to matter: it
   * lets in about 1e-7 mL/s. */
  t_pressure_node(net, "vein", 100.0, 0.0);
  t_link(net, "seep", "calf", "vein", 1e9, 0.0);
  t_validate(net);
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 4.0;
  o.output_dt_s = 0.5;
  vs_run_result *res = NULL;
  int rc = t_run_status(net, &o, &res);
  print_message("negative volume: %s\n", res->message);
  assert_int_equal(rc, VS_ENONFINITE);
  assert_int_equal(res->status, VS_RUN_FAILED);
  assert_contains(res->message, "negative volume at t = 2.5 s");
  assert_contains(res->message, "compartment 'calf'");
  assert_rows(res, 5); /* t = 0, 0.5, 1, 1.5, 2 */
  assert_rel(t_at(res, "volume", "calf", 2), 5.0, 1e-6);
  vs_result_free(&res);
  vs_network_free(&net);
}

/* p_init below the pressure of an empty linear wall: V(0) = 2 (-50) + 10 =
 * -90 mL. The run fails at t = 0 and nothing is sampled. */
static void guard_negative_initial_volume(void **state) {
  (void)state;
  vs_network *net = flat_network();
  t_compartment(net, "c", vs_wall_linear(2.0, 10.0), 0.0, -50.0);
  t_pressure_node(net, "out", 0.0, 0.0);
  t_link(net, "r", "c", "out", 1.0, 0.0);
  t_validate(net);
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 1.0;
  o.output_dt_s = 0.1;
  vs_run_result *res = NULL;
  int rc = t_run_status(net, &o, &res);
  print_message("negative initial volume: %s\n", res->message);
  assert_int_equal(rc, VS_ENONFINITE);
  assert_int_equal(res->status, VS_RUN_FAILED);
  assert_contains(res->message, "negative volume at t = 0 s");
  assert_contains(res->message, "compartment 'c' would hold -90 mL");
  assert_rows(res, 0);
  vs_result_free(&res);
  vs_network_free(&net);
}

/* The right-hand side refuses a NaN in any state, also in those it does not
 * read (W), and a collapsible vein with no volume. */
static void guard_rhs_refuses_nonphysical_states(void **state) {
  (void)state;
  vs_network *net = flat_network();
  t_compartment(net, "c", vs_wall_linear(2.0, 10.0), 0.0, 5.0);
  t_compartment(net, "v", vs_wall_tube_law(20.0, 1.0, 3.0), 0.0, 5.0);
  t_pressure_node(net, "out", 0.0, 0.0);
  t_link(net, "cv", "c", "v", 1.0, 0.01); /* inertial: a flow state */
  t_link(net, "r", "v", "out", 1.0, 0.0); /* a boundary: a W state */
  t_validate(net);
  vs_system *sys = NULL;
  char msg[256];
  assert_int_equal(vs_system_create(net, &sys, msg, sizeof msg), 0);
  size_t n = vs_system_state_count(sys);
  double *y = calloc(n, sizeof *y), *y0 = calloc(n, sizeof *y0);
  double *ydot = calloc(n, sizeof *ydot);
  assert_non_null(y);
  assert_non_null(y0);
  assert_non_null(ydot);
  assert_int_equal(vs_system_initial_state(sys, 0.0, y0), 0);
  memcpy(y, y0, n * sizeof *y);
  assert_int_equal(vs_system_rhs(sys, 0.0, y, ydot), 0);
  for (size_t i = 0; i < n; ++i) {
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t b = 0; b < 3; ++b) {
      memcpy(y, y0, n * sizeof *y);
      y[i] = bad[b];
      if (vs_system_rhs(sys, 0.0, y, ydot) != VS_ENONFINITE)
        fail_msg("the RHS accepted %s = %g", vs_system_state_name(sys, i),
                 bad[b]);
    }
  }
  /* V[v] (the tube-law compartment) is state 1. */
  assert_string_equal(vs_system_state_name(sys, 1), "V[v]");
  memcpy(y, y0, n * sizeof *y);
  y[1] = 0.0;
  assert_int_equal(vs_system_rhs(sys, 0.0, y, ydot), VS_ENONFINITE);
  y[1] = -1.0;
  assert_int_equal(vs_system_rhs(sys, 0.0, y, ydot), VS_ENONFINITE);
  free(y);
  free(y0);
  free(ydot);
  vs_system_free(&sys);
  vs_network_free(&net);
}

/* A flow so large that the volume overflows: the run stops with a message
 * (CVODE's, or the guard's) instead of writing inf. (The case schema bounds flows far below this;
 * the library alone does not.) */
static void guard_overflow(void **state) {
  (void)state;
  vs_network *net = flat_network();
  t_compartment(net, "c", vs_wall_linear(1.0, 0.0), 0.0, 0.0);
  t_pressure_node(net, "out", 0.0, 0.0);
  t_link(net, "r", "c", "out", 1e7, 0.0);
  vs_waveform q = vs_waveform_constant(1e306);
  t_flow_source(net, "flood", "c", &q);
  t_validate(net);
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 1000.0;
  o.output_dt_s = 10.0;
  o.max_step_s = 0.0;
  vs_run_result *res = NULL;
  int rc = t_run_status(net, &o, &res);
  print_message("overflow: %s\n", res->message);
  assert_true(rc == VS_ENONFINITE || rc == VS_ESOLVER);
  assert_int_equal(res->status, VS_RUN_FAILED);
  assert_true(strstr(res->message, "CVODE failed at t = ") ||
              strstr(res->message, "non-finite state at t = "));
  /* Whatever was sampled is finite; the rest NaN. */
  size_t good = 0;
  while (good < res->n_samples && !isnan(res->time[good])) ++good;
  assert_true(good < res->n_samples);
  assert_rows(res, good);
  vs_result_free(&res);
  vs_network_free(&net);
}

/* CVODE gives up (a step limit far too small): the run fails with CVODE's
 * own reason and the time; the samples it reached are kept. */
static void guard_cvode_gives_up(void **state) {
  (void)state;
  vs_network *net = t_rcl_chain(5);
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 10.0;
  o.output_dt_s = 1.0;
  o.rtol = 1e-10;
  o.max_steps = 10;
  vs_run_result *res = NULL;
  int rc = t_run_status(net, &o, &res);
  print_message("CVODE gives up: %s\n", res->message);
  assert_int_equal(rc, VS_ESOLVER);
  assert_int_equal(res->status, VS_RUN_FAILED);
  assert_contains(res->message, "CVODE failed at t = ");
  assert_contains(res->message, "mxstep");
  size_t good = 0;
  while (good < res->n_samples && !isnan(res->time[good])) ++good;
  assert_true(good >= 1 && good < res->n_samples);
  assert_rows(res, good);
  vs_result_free(&res);
  vs_network_free(&net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(guard_negative_volume),
      cmocka_unit_test(guard_negative_initial_volume),
      cmocka_unit_test(guard_rhs_refuses_nonphysical_states),
      cmocka_unit_test(guard_overflow),
      cmocka_unit_test(guard_cvode_gives_up),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
