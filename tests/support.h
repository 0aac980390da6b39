/* Small builders shared by the tests: networks in a few lines. Each aborts
 * the test (cmocka's fail()) when the library refuses an element, so a test
 * never runs on a network it did not mean to build. */
#ifndef VENOSIM_TESTS_SUPPORT_H
#define VENOSIM_TESTS_SUPPORT_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "venosim/venosim.h"

#define assert_rel(a, b, rel)                                                 \
  do {                                                                        \
    double a_ = (a), b_ = (b);                                                \
    if (!(fabs(a_ - b_) <= (rel) * fabs(b_))) {                               \
      print_error("%s = %.17g, expected %.17g (relative error %.3g > %g)\n",  \
                  #a, a_, b_, fabs(a_ - b_) / fabs(b_), (double)(rel));       \
      fail();                                                                 \
    }                                                                         \
  } while (0)

static inline void t_compartment(vs_network *net, const char *name, vs_wall w,
                                 double height_cm, double p_init) {
  vs_compartment_spec c = {.name = name, .height_cm = height_cm, .wall = w,
                           .p_ext = vs_waveform_constant(0.0),
                           .p_init_mmhg = p_init};
  if (vs_network_add_compartment(net, &c) < 0) fail_msg("compartment %s", name);
}

static inline void t_pressure_node(vs_network *net, const char *name,
                                   double p, double height_cm) {
  vs_pressure_node_spec s = {.name = name, .height_cm = height_cm,
                             .pressure = vs_waveform_constant(p)};
  if (vs_network_add_pressure_node(net, &s) < 0) fail_msg("node %s", name);
}

/* A link with a given resistance and inertance. */
static inline void t_link(vs_network *net, const char *name, const char *from,
                          const char *to, double r, double l) {
  vs_link_spec s = vs_link_spec_default();
  s.name = name;
  s.from = from;
  s.to = to;
  s.resistance_mmhg_s_ml = r;
  s.inertance_mmhg_s2_ml = l;
  if (vs_network_add_link(net, &s) < 0) fail_msg("link %s", name);
}

static inline void t_flow_source(vs_network *net, const char *name,
                                 const char *comp, const vs_waveform *q) {
  vs_flow_source_spec s = {.name = name, .compartment = comp, .flow = *q};
  if (vs_network_add_flow_source(net, &s) < 0) fail_msg("source %s", name);
}

static inline void t_validate(vs_network *net) {
  char msg[256];
  if (vs_network_validate(net, msg, sizeof msg)) fail_msg("validate: %s", msg);
}

/* Integrate a network and return its result (fails the test on error). */
static inline vs_run_result *t_run(const vs_network *net,
                                   const vs_solver_options *opt) {
  vs_system *sys = NULL;
  char msg[256];
  if (vs_system_create(net, &sys, msg, sizeof msg)) fail_msg("system: %s", msg);
  vs_run_result *res = NULL;
  if (vs_result_create(&res, "test")) fail_msg("result");
  int rc = vs_integrate(sys, opt, res);
  vs_system_free(&sys);
  if (rc) fail_msg("integrate: %s", res->message);
  return res;
}

/* Value of a series column at sample k. */
static inline double t_at(const vs_run_result *r, const char *series,
                          const char *column, size_t k) {
  const vs_series *s = vs_result_series(r, series);
  if (!s) fail_msg("no series %s", series);
  for (size_t j = 0; j < s->n_columns; ++j)
    if (strcmp(s->column_names[j], column) == 0)
      return s->data[k * s->n_columns + j];
  fail_msg("no column %s in %s", column, series);
  return NAN;
}

static inline double t_last(const vs_run_result *r, const char *series,
                            const char *column) {
  return t_at(r, series, column, r->n_samples - 1);
}

/* A damped chain of n R-C-L vessels: linear compliance, given R and L, a stenosis on the middle one;
 * a sine-plus-table inflow; a pressure outlet. */
static inline vs_network *t_rcl_chain(int n) {
  vs_network *net = NULL;
  if (vs_network_create(&net)) fail();
  vs_waveform flat = vs_waveform_constant(0.0);
  vs_network_set_tilt(net, &flat);
  for (int i = 0; i < n; ++i) {
    char c[16];
    snprintf(c, sizeof c, "c%d", i);
    t_compartment(net, c, vs_wall_linear(0.05, 5.0), 0.0, 6.0);
  }
  t_pressure_node(net, "out", 5.0, 0.0);
  for (int i = 0; i < n; ++i) {
    char l[16], a[16], b[16];
    snprintf(l, sizeof l, "rl%d", i);
    snprintf(a, sizeof a, "c%d", i);
    snprintf(b, sizeof b, "c%d", i + 1);
    vs_link_spec s = vs_link_spec_default();
    s.name = l;
    s.from = a;
    s.to = i + 1 < n ? b : "out";
    s.resistance_mmhg_s_ml = 0.02;
    s.inertance_mmhg_s2_ml = 0.002;
    if (i == n / 2) {
      s.diameter_cm = 1.4;
      s.has_stenosis = 1;
      s.stenosis = vs_stenosis_young_tsai(0.15, 2.0);
    }
    if (vs_network_add_link(net, &s) < 0) fail();
  }
  vs_waveform q = vs_waveform_constant(0.0);
  const double t[] = {0.0, 0.1, 0.35, 0.5, 1.0};
  const double v[] = {4.0, 20.0, 8.0, 2.0, 4.0};
  vs_waveform_set_table(&q, 5, t, v, 1);
  t_flow_source(net, "inflow", "c0", &q);
  vs_waveform_clear(&q);
  t_validate(net);
  return net;
}

#endif /* VENOSIM_TESTS_SUPPORT_H */
