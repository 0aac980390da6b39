/* (f) The analytic Jacobian against central finite differences of the
 * right-hand side, on networks that use every element: linear and tube-law
 * walls (collapsed and distended), given, Poiseuille and collapsible
 * resistances, inertial and algebraic links, Young-Tsai stenoses in both,
 * hydrostatics under a changing tilt, external pressures, pressure nodes,
 * flow sources, a resistance that follows a waveform, valves (competent
 * and leaking, inertial and algebraic, between compartments and onto a
 * pressure node), bundles of parallel vessels and a wall whose collapse
 * stiffness differs from its distension stiffness. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "support.h"

static vs_link_spec geometric(const char *name, const char *from,
                              const char *to, double d_cm, double l_cm) {
  vs_link_spec s = vs_link_spec_default();
  s.name = name;
  s.from = from;
  s.to = to;
  s.diameter_cm = d_cm;
  s.length_cm = l_cm;
  s.poiseuille = 1;
  return s;
}

static vs_network *every_element(void) {
  vs_network *net = NULL;
  if (vs_network_create(&net)) fail();
  vs_waveform tilt = vs_waveform_constant(0.0);
  const double tt[] = {0.0, 1.0}, tv[] = {10.0, 80.0};
  vs_waveform_set_table(&tilt, 2, tt, tv, 0);
  vs_network_set_tilt(net, &tilt);
  vs_waveform_clear(&tilt);

  t_compartment(net, "bed", vs_wall_linear(2.0, 100.0), 10.0, 20.0);
  t_compartment(net, "a", vs_wall_tube_law(30.0, 0.8, 10.0), 30.0, 15.0);
  t_compartment(net, "b", vs_wall_tube_law(50.0, 1.2, 6.0), 50.0, 10.0);
  vs_wall soft = vs_wall_tube_law(20.0, 2.0, 8.0);
  soft.k_collapse_mmhg = 1.5; /* buckles more easily than it distends */
  t_compartment(net, "c", soft, 80.0, 8.0);
  t_compartment(net, "d", vs_wall_linear(0.3, 5.0), 90.0, 6.0);
  t_pressure_node(net, "atrium", 4.0, 120.0);
  t_pressure_node(net, "artery", 95.0, 120.0);

  /* bed -> a: given resistance, algebraic */
  t_link(net, "micro", "artery", "bed", 15.0, 0.0);
  t_link(net, "bed_a", "bed", "a", 0.2, 0.0);
  /* a -> b: collapsible Poiseuille, inertial */
  vs_link_spec ab = geometric("a_b", "a", "b", 1.0, 10.0);
  ab.collapsible = 1;
  ab.geometric_inertance = 1;
  if (vs_network_add_link(net, &ab) < 0) fail();
  /* b -> c: collapsible, algebraic, with a stenosis (expansion loss) */
  vs_link_spec bc = geometric("b_c", "b", "c", 1.2, 6.0);
  bc.collapsible = 1;
  bc.has_stenosis = 1;
  bc.stenosis = vs_stenosis_young_tsai(0.3, 2.0);
  bc.stenosis.ku = 0.0; /* keep it algebraic */
  if (vs_network_add_link(net, &bc) < 0) fail();
  /* c -> d: stenosis with inertia; d -> atrium: collapsible from one end */
  vs_link_spec cd = geometric("c_d", "c", "d", 1.6, 8.0);
  cd.has_stenosis = 1;
  cd.stenosis = vs_stenosis_young_tsai(0.2, 3.0);
  if (vs_network_add_link(net, &cd) < 0) fail();
  vs_link_spec out = geometric("d_out", "c", "atrium", 1.8, 10.0);
  out.collapsible = 1;
  out.geometric_inertance = 1;
  if (vs_network_add_link(net, &out) < 0) fail();
  t_link(net, "d_atrium", "d", "atrium", 0.05, 0.001);
  /* Valves: a competent one from bed to d, a leaking one from a to atrium. */
  vs_link_spec v1 = geometric("valve_bed_d", "bed", "d", 0.8, 2.0);
  v1.poiseuille = 0;
  v1.has_valve = 1;
  if (vs_network_add_link(net, &v1) < 0) fail();
  vs_link_spec v2 = geometric("valve_a_atrium", "a", "atrium", 0.9, 2.0);
  v2.has_valve = 1;
  v2.valve.m_rg = 0.2;
  v2.valve.kvc = 30.0;
  v2.valve.dp_open_mmhg = 0.5;
  /* Standing for 8 cm of vein: its drive adds the rest of the station's
   * viscous drop (valve.h). */
  v2.valve.station_length_cm = 8.0;
  if (vs_network_add_link(net, &v2) < 0) fail();
  /* A valve without inertance on a bundle of three vessels: the flow is
   * algebraic in the pressures and the opening. */
  vs_link_spec v3 = geometric("valve_b_d", "b", "d", 0.6, 3.0);
  v3.has_valve = 1;
  v3.valve.l_eff_cm = 0.0;
  v3.valve.m_rg = 0.05;
  v3.n_parallel = 3;
  v3.collapsible = 1;
  v3.valve.station_length_cm = 12.0;
  if (vs_network_add_link(net, &v3) < 0) fail();
  /* A microvascular bed that dilates: a resistance following a table. */
  vs_link_spec m = vs_link_spec_default();
  m.name = "dilating";
  m.from = "artery";
  m.to = "c";
  m.resistance_varies = 1;
  m.resistance_wave = vs_waveform_constant(0.0);
  const double rt[] = {0.0, 0.5, 1.0}, rv[] = {20.0, 5.0, 8.0};
  vs_waveform_set_table(&m.resistance_wave, 3, rt, rv, 0);
  if (vs_network_add_link(net, &m) < 0) fail();
  vs_waveform_clear(&m.resistance_wave);
  vs_waveform q = vs_waveform_constant(0.0);
  q.kind = VS_WAVE_SINE;
  q.value = 3.0;
  q.amplitude = 1.0;
  q.period_s = 1.0;
  t_flow_source(net, "leak", "b", &q);
  t_validate(net);
  return net;
}

/* Compare J with central differences at state y; returns the worst error
 * relative to the size of the entries in that row. */
static double jacobian_error(const vs_system *sys, double t, double *y) {
  size_t n = vs_system_state_count(sys);
  double *jac = calloc(n * n, sizeof *jac);
  double *fp = calloc(n, sizeof *fp), *fm = calloc(n, sizeof *fm);
  double *rowscale = calloc(n, sizeof *rowscale);
  assert_non_null(jac);
  assert_int_equal(vs_system_jacobian_dense(sys, t, y, jac), 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      rowscale[i] = fmax(rowscale[i], fabs(jac[i + j * n]));
  double worst = 0;
  for (size_t j = 0; j < n; ++j) {
    double yj = y[j], h = 1e-6 * fmax(fabs(yj), 1.0);
    y[j] = yj + h;
    assert_int_equal(vs_system_rhs(sys, t, y, fp), 0);
    y[j] = yj - h;
    assert_int_equal(vs_system_rhs(sys, t, y, fm), 0);
    y[j] = yj;
    for (size_t i = 0; i < n; ++i) {
      double fd = (fp[i] - fm[i]) / (2 * h);
      double err = fabs(fd - jac[i + j * n]) / fmax(rowscale[i], 1e-12);
      if (err > 1e-5)
        print_error("d f[%s] / d y[%s]: analytic %.9g, finite diff %.9g\n",
                    vs_system_state_name(sys, i), vs_system_state_name(sys, j),
                    jac[i + j * n], fd);
      worst = fmax(worst, err);
    }
  }
  free(jac);
  free(fp);
  free(fm);
  free(rowscale);
  return worst;
}

static void jacobian_matches_finite_differences(void **state) {
  (void)state;
  vs_network *net = every_element();
  vs_system *sys = NULL;
  char msg[256];
  assert_int_equal(vs_system_create(net, &sys, msg, sizeof msg), 0);
  size_t n = vs_system_state_count(sys);
  double *y = calloc(n, sizeof *y);
  assert_int_equal(vs_system_initial_state(sys, 0.0, y), 0);
  /* Several states: the initial one, and random ones with each tube-law
   * compartment collapsed (alpha < 1) or distended (alpha > 1) and random
   * flows of both signs. */
  srand(12345);
  /* Valves start at their equilibrium, which can sit within a finite
   * difference step of fully open, where the area is clamped: move them
   * inside (0, 1) so the differences see one side of the law only. */
  for (size_t i = 0; i < n; ++i)
    if (vs_system_state_name(sys, i)[0] == 'z') y[i] = 0.5;
  double worst = jacobian_error(sys, 0.3, y);
  const double vref[] = {8.0, 7.2, 16.0}; /* A0 l of a, b, c */
  for (int trial = 0; trial < 20; ++trial) {
    for (size_t i = 0; i < n; ++i) {
      double u = (double)rand() / RAND_MAX;
      const char *name = vs_system_state_name(sys, i);
      if (i >= 1 && i <= 3) {
        double alpha = trial % 2 ? 0.3 + 0.6 * u : 1.05 + 0.2 * u;
        y[i] = alpha * vref[i - 1];
      } else if (name[0] == 'Q') {
        y[i] = 20.0 * (u - 0.5);
      } else if (name[0] == 'z') {
        y[i] = 0.02 + 0.96 * u; /* valve opening inside (0, 1) */
      } else if (name[0] == 'V') {
        y[i] *= 0.9 + 0.2 * u;
      }
    }
    worst = fmax(worst, jacobian_error(sys, 0.1 + 0.04 * trial, y));
  }
  print_message("Jacobian: %zu states, %zu non-zeros, worst relative error "
                "%.3g over 21 states\n",
                n, vs_system_jacobian_nonzeros(sys), worst);
  assert_true(worst < 1e-6);
  free(y);
  vs_system_free(&sys);
  vs_network_free(&net);
}

/* The pattern is complete: every non-zero the finite differences find lies
 * in the structural pattern (otherwise KLU would silently drop it). */
static void pattern_covers_all_dependencies(void **state) {
  (void)state;
  vs_network *net = every_element();
  vs_system *sys = NULL;
  char msg[256];
  assert_int_equal(vs_system_create(net, &sys, msg, sizeof msg), 0);
  size_t n = vs_system_state_count(sys);
  double *y = calloc(n, sizeof *y), *jac = calloc(n * n, sizeof *jac);
  double *f0 = calloc(n, sizeof *f0), *f1 = calloc(n, sizeof *f1);
  assert_int_equal(vs_system_initial_state(sys, 0.0, y), 0);
  for (size_t i = 0; i < n; ++i) y[i] += 0.01 * (double)(i + 1);
  assert_int_equal(vs_system_jacobian_dense(sys, 0.5, y, jac), 0);
  assert_int_equal(vs_system_rhs(sys, 0.5, y, f0), 0);
  for (size_t j = 0; j < n; ++j) {
    double yj = y[j];
    y[j] += 1e-3 * fmax(1.0, fabs(yj));
    assert_int_equal(vs_system_rhs(sys, 0.5, y, f1), 0);
    y[j] = yj;
    for (size_t i = 0; i < n; ++i)
      if (f1[i] != f0[i] && jac[i + j * n] == 0.0)
        fail_msg("f[%s] depends on y[%s] outside the pattern",
                 vs_system_state_name(sys, i), vs_system_state_name(sys, j));
  }
  free(y);
  free(jac);
  free(f0);
  free(f1);
  vs_system_free(&sys);
  vs_network_free(&net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(jacobian_matches_finite_differences),
      cmocka_unit_test(pattern_covers_all_dependencies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
