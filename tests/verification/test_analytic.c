/* Verification against answers worked out independently of the library
 * (issue 2, items a-e and h). Each test states its analytic solution. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "support.h"

/* Tight tolerances: the verification is of the model and assembly, not of
 * the default accuracy. */
static vs_solver_options tight(double t_end, double dt) {
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = t_end;
  o.output_dt_s = dt;
  o.rtol = 1e-12;
  o.atol_volume_ml = 1e-13;
  o.atol_flow_ml_s = 1e-13;
  o.max_step_s = 0;
  return o;
}

/* (a) A flow Q into compartment 0 of a chain c0 - c1 - ... - c{N-1} - out,
 * every link R. At steady state each link carries Q, so
 *     p_i = p_out + Q R (N - i)       exactly. */
static void steady_resistor_chain(void **state) {
  (void)state;
  enum { N = 20 };
  const double q = 5.0, r = 0.1, p_out = 3.0;
  vs_network *net = NULL;
  assert_int_equal(vs_network_create(&net), 0);
  vs_network_set_tilt(net, &(vs_waveform){.kind = VS_WAVE_CONSTANT});
  char name[N + 1][16];
  for (int i = 0; i < N; ++i) {
    snprintf(name[i], sizeof name[i], "c%d", i);
    t_compartment(net, name[i], vs_wall_linear(0.05, 10.0), 0.0, 0.0);
  }
  t_pressure_node(net, "out", p_out, 0.0);
  for (int i = 0; i < N; ++i) {
    char l[16];
    snprintf(l, sizeof l, "r%d", i);
    t_link(net, l, name[i], i + 1 < N ? name[i + 1] : "out", r, 0.0);
  }
  vs_waveform qw = vs_waveform_constant(q);
  t_flow_source(net, "in", "c0", &qw);
  t_validate(net);
  /* Slowest mode ~ R C (2N/pi)^2 = 0.8 s: 60 s is > 70 time constants. */
  vs_solver_options o = tight(60.0, 1.0);
  vs_run_result *res = t_run(net, &o);
  double worst = 0;
  for (int i = 0; i < N; ++i) {
    double exact = p_out + q * r * (N - i);
    double got = t_last(res, "pressure", name[i]);
    worst = fmax(worst, fabs(got - exact) / exact);
    assert_rel(got, exact, 1e-9);
  }
  print_message("steady_resistor_chain: N = %d, worst relative error %.3g\n",
                N, worst);
  vs_result_free(&res);
  vs_network_free(&net);
}

/* (b) One compartment C, p(0) = p0, draining through R into 0 mmHg:
 *     p(t) = p0 exp(-t / (R C)). */
static void rc_discharge(void **state) {
  (void)state;
  const double c = 2.0, r = 1.0, p0 = 20.0;
  vs_network *net = NULL;
  assert_int_equal(vs_network_create(&net), 0);
  t_compartment(net, "c", vs_wall_linear(c, 0.0), 0.0, p0);
  t_pressure_node(net, "ground", 0.0, 0.0);
  t_link(net, "r", "c", "ground", r, 0.0);
  t_validate(net);
  vs_solver_options o = tight(10.0, 0.1);
  vs_run_result *res = t_run(net, &o);
  double worst = 0;
  for (size_t k = 0; k < res->n_samples; ++k) {
    double exact = p0 * exp(-res->time[k] / (r * c));
    double got = t_at(res, "pressure", "c", k);
    worst = fmax(worst, fabs(got - exact) / exact);
    assert_rel(got, exact, 1e-6);
  }
  print_message("rc_discharge: worst relative error %.3g over %zu samples\n",
                worst, res->n_samples);
  vs_result_free(&res);
  vs_network_free(&net);
}

/* (c) A standing column of collapsible compartments open to a pressure p_top
 * at the top. Whatever the start, blood settles until nothing flows:
 *     p_i = p_top + rho g (z_top - z_i)
 * rho g computed here in SI: 1060 kg/m^3 x 9.80665 m/s^2, per cm, in mmHg. */
static void hydrostatic_column(void **state) {
  (void)state;
  enum { N = 10 };
  const double p_top = 4.0, z_top = 120.0;
  const double rho_g_mmhg_per_cm = 1060.0 * 9.80665 * 0.01 / 133.3224;
  vs_network *net = NULL;
  assert_int_equal(vs_network_create(&net), 0); /* default tilt: upright */
  char name[N][16];
  for (int i = 0; i < N; ++i) {
    snprintf(name[i], sizeof name[i], "z%d", i);
    t_compartment(net, name[i], vs_wall_tube_law(30.0, 1.2, 10.0),
                  10.0 + 10.0 * i, 10.0);
  }
  t_pressure_node(net, "top", p_top, z_top);
  for (int i = 0; i < N; ++i) {
    char l[16];
    snprintf(l, sizeof l, "l%d", i);
    t_link(net, l, name[i], i + 1 < N ? name[i + 1] : "top", 0.01, 0.0);
  }
  t_validate(net);
  vs_solver_options o = tight(200.0, 10.0);
  vs_run_result *res = t_run(net, &o);
  double worst = 0;
  for (int i = 0; i < N; ++i) {
    double exact = p_top + rho_g_mmhg_per_cm * (z_top - (10.0 + 10.0 * i));
    double got = t_last(res, "pressure", name[i]);
    worst = fmax(worst, fabs(got - exact) / exact);
    assert_rel(got, exact, 1e-6);
  }
  print_message("hydrostatic_column: worst relative error %.3g\n", worst);
  vs_result_free(&res);
  vs_network_free(&net);
}

/* A chain of collapsible R-C-L vessels under a periodic table inflow, with a
 * stenosis, draining to a pressure node: used by (d) and (h). */
static vs_network *pulsatile_chain(int n, double area_ratio) {
  vs_network *net = NULL;
  if (vs_network_create(&net)) fail();
  vs_waveform flat = vs_waveform_constant(0.0);
  vs_network_set_tilt(net, &flat);
  for (int i = 0; i < n; ++i) {
    char c[16];
    snprintf(c, sizeof c, "v%d", i);
    t_compartment(net, c, vs_wall_tube_law(40.0, 1.13, 3.0), 0.0, 8.0);
  }
  t_pressure_node(net, "out", 5.0, 0.0);
  for (int i = 0; i < n; ++i) {
    char l[16], a[16], b[16];
    snprintf(l, sizeof l, "s%d", i);
    snprintf(a, sizeof a, "v%d", i);
    snprintf(b, sizeof b, "v%d", i + 1);
    vs_link_spec s = vs_link_spec_default();
    s.name = l;
    s.from = a;
    s.to = i + 1 < n ? b : "out";
    s.diameter_cm = 1.2;
    s.length_cm = 3.0;
    s.poiseuille = 1;
    s.geometric_inertance = 1;
    s.collapsible = 1;
    if (i == n / 2) {
      s.has_stenosis = 1;
      s.stenosis = vs_stenosis_young_tsai(area_ratio, 3.0);
    }
    if (vs_network_add_link(net, &s) < 0) fail();
  }
  vs_waveform q = vs_waveform_constant(0.0);
  const double t[] = {0.0, 0.3, 0.6, 1.0}, v[] = {2.0, 12.0, 3.0, 2.0};
  vs_waveform_set_table(&q, 4, t, v, 1);
  t_flow_source(net, "inflow", "v0", &q);
  vs_waveform_clear(&q);
  t_validate(net);
  return net;
}

/* (d) Mass: sum(V(T)) - sum(V(0)) must equal the volume that crossed the
 * boundaries to round-off; and the inflow's volume must match its exact
 * integral (the mean of the table, 5.35 mL/s, times T). */
static void mass_conservation_pulsatile(void **state) {
  (void)state;
  vs_network *net = pulsatile_chain(12, 0.3);
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 10.0;
  vs_run_result *res = t_run(net, &o);
  const vs_series *v = vs_result_series(res, "volume");
  const vs_series *w = vs_result_series(res, "boundary_volume");
  size_t last = res->n_samples - 1;
  double dv = 0, crossed = 0, throughput = 0;
  for (size_t j = 0; j < v->n_columns; ++j)
    dv += v->data[last * v->n_columns + j] - v->data[j];
  for (size_t j = 0; j < w->n_columns; ++j) {
    crossed += w->data[last * w->n_columns + j];
    throughput += fabs(w->data[last * w->n_columns + j]);
  }
  double err = fabs(dv - crossed) / throughput;
  print_message("mass_conservation: |dV - W| / throughput = %.3g\n", err);
  assert_true(err <= 1e-9);
  /* Table mean: trapezoids 0.3*(2+12)/2 + 0.3*(12+3)/2 + 0.4*(3+2)/2. */
  double exact_in = (2.1 + 2.25 + 1.0) * 10.0;
  assert_rel(t_last(res, "boundary_volume", "W[inflow]"), exact_in, 1e-6);
  vs_result_free(&res);
  vs_network_free(&net);
}

/* (e) Steady flow Q through a stenosis link: the pressure drop equals the
 * Young-Tsai formula, evaluated here in SI units from its published form:
 *   dp = mu Kv/(2 pi r0^3) Q + Kt rho/(2 A0^2) (A0/As - 1)^2 Q^2
 *   Kv = 32 (La/D0) (A0/As)^2, La = 0.83 Ls + 1.64 Ds. */
static double young_tsai_si_mmhg(double ratio, double d0_m, double ls_m,
                                 double q_m3_s) {
  const double mu = 3.5e-3, rho = 1060.0, kt = 1.52, pi = 3.14159265358979;
  double a0 = pi * d0_m * d0_m / 4, r0 = d0_m / 2;
  double ds = d0_m * sqrt(ratio);
  double la = 0.83 * ls_m + 1.64 * ds;
  double kv = 32.0 * (la / d0_m) / (ratio * ratio);
  double dp = mu * kv / (2 * pi * r0 * r0 * r0) * q_m3_s +
              kt * rho / (2 * a0 * a0) * pow(1 / ratio - 1, 2) * q_m3_s * q_m3_s;
  return dp / 133.3224;
}

static void stenosis_steady_young_tsai(void **state) {
  (void)state;
  const double ratios[] = {0.5, 0.3, 0.1};
  const double q = 15.0, d0_cm = 1.6, ls_cm = 3.0, p_out = 5.0;
  for (int i = 0; i < 3; ++i) {
    vs_network *net = NULL;
    assert_int_equal(vs_network_create(&net), 0);
    t_compartment(net, "upstream", vs_wall_linear(0.5, 20.0), 0.0, p_out);
    t_pressure_node(net, "out", p_out, 0.0);
    vs_link_spec s = vs_link_spec_default();
    s.name = "lesion";
    s.from = "upstream";
    s.to = "out";
    s.diameter_cm = d0_cm;
    s.has_stenosis = 1;
    s.stenosis = vs_stenosis_young_tsai(ratios[i], ls_cm);
    assert_true(vs_network_add_link(net, &s) >= 0);
    vs_waveform qw = vs_waveform_constant(q);
    t_flow_source(net, "in", "upstream", &qw);
    t_validate(net);
    vs_solver_options o = tight(60.0, 5.0);
    vs_run_result *res = t_run(net, &o);
    double dp = t_last(res, "pressure", "upstream") - p_out;
    double exact = young_tsai_si_mmhg(ratios[i], d0_cm / 100, ls_cm / 100,
                                      q * 1e-6);
    print_message("stenosis %.0f %% left: dp = %.9g mmHg, Young-Tsai %.9g\n",
                  100 * ratios[i], dp, exact);
    assert_rel(dp, exact, 1e-8);
    vs_result_free(&res);
    vs_network_free(&net);
  }
}

/* A valve in steady flow: a reservoir at 10 mmHg feeds compartment c through
 * R = 0.5; c drains through a valve to 0 mmHg. Shut against the flow, a
 * valve (annulus 5 mm) leaking through Mrg A_ann carries the root of
 *     B Q^2 + R Q - 10 = 0,   B = rho / (2 (Mrg A_ann)^2)
 * and, opened with the flow, the same with B = rho / (2 (Mst A_ann)^2):
 * Bernoulli's loss at the effective area, worked out in SI here. */
static double valve_steady_flow(int forward, double m_rg, double m_st) {
  vs_network *net = NULL;
  if (vs_network_create(&net)) fail();
  vs_waveform flat = vs_waveform_constant(0.0);
  vs_network_set_tilt(net, &flat);
  t_compartment(net, "c", vs_wall_linear(0.5, 10.0), 0.0, 5.0);
  t_pressure_node(net, "reservoir", 10.0, 0.0);
  t_pressure_node(net, "sink", 0.0, 0.0);
  t_link(net, "feed", "reservoir", "c", 0.5, 0.0);
  vs_link_spec v = vs_link_spec_default();
  v.name = "valve";
  v.from = forward ? "c" : "sink"; /* forward: opens with the flow */
  v.to = forward ? "sink" : "c";
  v.diameter_cm = 0.5; /* small enough that the open valve drops > 3 mmHg,
                         where the softplus smoothing is below 1e-15 */
  v.has_valve = 1;
  v.valve.m_rg = m_rg;
  v.valve.m_st = m_st;
  if (vs_network_add_link(net, &v) < 0) fail();
  t_validate(net);
  vs_solver_options o = tight(30.0, 5.0);
  vs_run_result *res = t_run(net, &o);
  double q = t_last(res, "flow", "feed");
  vs_result_free(&res);
  vs_network_free(&net);
  return q;
}

static double bernoulli_root(double ratio) {
  const double rho = 1060.0, pi = 3.14159265358979;
  double a = ratio * pi * 0.005 * 0.005 / 4.0;         /* m^2 */
  double b_si = rho / (2 * a * a);                     /* Pa s^2/m^6 */
  double b = b_si / 133.3224 * 1e-12;                  /* mmHg s^2/mL^2 */
  double r = 0.5;
  return (-r + sqrt(r * r + 4 * b * 10.0)) / (2 * b);
}

static void valve_steady_reflux_and_forward_flow(void **state) {
  (void)state;
  double leak = valve_steady_flow(0, 0.2, 1.0);
  print_message("leaking shut valve (Mrg 0.2): reflux %.9g mL/s, exact %.9g\n",
                leak, bernoulli_root(0.2));
  assert_rel(leak, bernoulli_root(0.2), 1e-6);
  double open = valve_steady_flow(1, 0.0, 0.7);
  print_message("open valve (Mst 0.7): flow %.9g mL/s, exact %.9g\n", open,
                bernoulli_root(0.7));
  assert_rel(open, bernoulli_root(0.7), 1e-6);
  /* Competent: only the regularising floor (1e-4 of the annulus) leaks. */
  double shut = valve_steady_flow(0, 0.0, 1.0);
  print_message("competent shut valve: %.3g mL/s\n", shut);
  assert_true(shut < 0.01);
  assert_rel(shut, bernoulli_root(1e-4), 1e-6);
}

/* Vessels side by side: n identical tubes carry n times the flow of one at
 * the same pressure drop (Poiseuille in each, worked out in SI here). */
static void parallel_bundle(void **state) {
  (void)state;
  const double q = 6.0, p_out = 2.0;
  vs_network *net = NULL;
  assert_int_equal(vs_network_create(&net), 0);
  t_compartment(net, "c", vs_wall_linear(0.5, 10.0), 0.0, p_out);
  t_pressure_node(net, "out", p_out, 0.0);
  vs_link_spec l = vs_link_spec_default();
  l.name = "bundle";
  l.from = "c";
  l.to = "out";
  l.diameter_cm = 0.3;
  l.length_cm = 20.0;
  l.poiseuille = 1;
  l.n_parallel = 6;
  assert_true(vs_network_add_link(net, &l) >= 0);
  vs_waveform qw = vs_waveform_constant(q);
  t_flow_source(net, "in", "c", &qw);
  t_validate(net);
  vs_solver_options o = tight(60.0, 5.0);
  vs_run_result *res = t_run(net, &o);
  const double pi = 3.14159265358979, r = 0.0015, mu = 3.5e-3, len = 0.2;
  double r_one = 8.0 * mu * len / (pi * pow(r, 4)); /* Pa s/m^3 */
  double dp = r_one / 6.0 * q * 1e-6 / 133.3224;
  assert_rel(t_last(res, "pressure", "c") - p_out, dp, 1e-8);
  vs_result_free(&res);
  vs_network_free(&net);
}

/* (h) Dense LU and KLU solve the same problem to 1e-6 relative (to the
 * largest pressure of the run, since pressures cross zero). */
static void dense_and_sparse_agree(void **state) {
  (void)state;
  vs_network *net = t_rcl_chain(60);
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 5.0;
  o.rtol = 1e-9;
  o.atol_volume_ml = o.atol_flow_ml_s = 1e-10;
  o.linear_solver = VS_LINSOL_DENSE;
  vs_run_result *dense = t_run(net, &o);
  o.linear_solver = VS_LINSOL_KLU;
  vs_run_result *klu = t_run(net, &o);
  assert_string_equal(dense->stats.linear_solver, "dense");
  assert_string_equal(klu->stats.linear_solver, "klu");
  const char *series[] = {"pressure", "flow"};
  for (int s = 0; s < 2; ++s) {
    const vs_series *a = vs_result_series(dense, series[s]);
    const vs_series *b = vs_result_series(klu, series[s]);
    double scale = 0, worst = 0;
    for (size_t k = 0; k < dense->n_samples * a->n_columns; ++k)
      scale = fmax(scale, fabs(a->data[k]));
    for (size_t k = 0; k < dense->n_samples * a->n_columns; ++k)
      worst = fmax(worst, fabs(a->data[k] - b->data[k]) / scale);
    print_message("dense vs KLU, %s: worst difference / max = %.3g\n",
                  series[s], worst);
    assert_true(worst <= 1e-6);
  }
  vs_result_free(&dense);
  vs_result_free(&klu);
  vs_network_free(&net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(steady_resistor_chain),
      cmocka_unit_test(rc_discharge),
      cmocka_unit_test(hydrostatic_column),
      cmocka_unit_test(mass_conservation_pulsatile),
      cmocka_unit_test(stenosis_steady_young_tsai),
      cmocka_unit_test(valve_steady_reflux_and_forward_flow),
      cmocka_unit_test(parallel_bundle),
      cmocka_unit_test(dense_and_sparse_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
