/* Element models against hand-computed values and their own derivatives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "venosim/venosim.h"

#define assert_close(a, b, rel)                                              \
  assert_true(fabs((a) - (b)) <= (rel) * fmax(fabs(b), 1e-300))

static void waveform_table_interpolates_and_holds(void **state) {
  (void)state;
  vs_waveform w = vs_waveform_constant(0.0);
  const double t[] = {0.0, 1.0, 3.0}, v[] = {2.0, 4.0, 0.0};
  assert_int_equal(vs_waveform_set_table(&w, 3, t, v, 0), 0);
  assert_close(vs_waveform_eval(&w, 0.5), 3.0, 1e-15);
  assert_close(vs_waveform_eval(&w, 2.0), 2.0, 1e-15);
  assert_close(vs_waveform_eval(&w, -1.0), 2.0, 1e-15);
  assert_true(vs_waveform_eval(&w, 10.0) == 0.0);
  double tb = 0;
  assert_int_equal(vs_waveform_next_breakpoint(&w, 0.0, &tb), 1);
  assert_close(tb, 1.0, 1e-15);
  assert_int_equal(vs_waveform_next_breakpoint(&w, 1.0, &tb), 1);
  assert_close(tb, 3.0, 1e-15);
  assert_int_equal(vs_waveform_next_breakpoint(&w, 3.0, &tb), 0);
  vs_waveform_clear(&w);
}

static void waveform_periodic_table_repeats(void **state) {
  (void)state;
  vs_waveform w = vs_waveform_constant(0.0);
  const double t[] = {0.0, 0.25, 1.0}, v[] = {0.0, 100.0, 0.0};
  assert_int_equal(vs_waveform_set_table(&w, 3, t, v, 1), 0);
  assert_close(vs_waveform_eval(&w, 5.125), 50.0, 1e-12);
  double tb = 0;
  assert_int_equal(vs_waveform_next_breakpoint(&w, 5.1, &tb), 1);
  assert_close(tb, 5.25, 1e-12);
  assert_int_equal(vs_waveform_next_breakpoint(&w, 5.25, &tb), 1);
  assert_close(tb, 6.0, 1e-12);
  /* Non-increasing times are refused and leave w unchanged. */
  const double bad_t[] = {0.0, 0.0};
  assert_int_equal(vs_waveform_set_table(&w, 2, bad_t, v, 0), VS_EINVAL);
  assert_close(vs_waveform_eval(&w, 0.25), 100.0, 1e-15);
  vs_waveform_clear(&w);
}

static void waveform_sine(void **state) {
  (void)state;
  vs_waveform w = vs_waveform_constant(5.0);
  w.kind = VS_WAVE_SINE;
  w.amplitude = 2.0;
  w.period_s = 4.0;
  assert_close(vs_waveform_eval(&w, 1.0), 7.0, 1e-15);
  assert_close(vs_waveform_eval(&w, 3.0), 3.0, 1e-15);
}

/* The faster look-ups give vs_waveform_eval's value exactly: a hint kept
 * between calls in any order of times, and one place shared by two tables
 * over the same knots. */
static void waveform_hint_and_shared_knots_match_eval(void **state) {
  (void)state;
  const double t[] = {0.0, 0.5, 0.75, 2.0, 3.0};
  const double va[] = {1.0, 3.0, -2.0, 0.5, 1.0};
  const double vb[] = {0.0, 7.0, 7.5, -1.0, 0.0};
  for (int periodic = 0; periodic <= 1; ++periodic) {
    vs_waveform a = vs_waveform_constant(0.0), b = vs_waveform_constant(0.0);
    assert_int_equal(vs_waveform_set_table(&a, 5, t, va, periodic), 0);
    assert_int_equal(vs_waveform_set_table(&b, 5, t, vb, periodic), 0);
    assert_true(vs_waveform_same_knots(&a, &b));
    size_t hint_a = 0, hint_b = 0;
    /* Forward in small steps, then jumps back and forth, knots included. */
    for (int i = -20; i < 260; ++i) {
      double tt = i < 200 ? 0.025 * i : 7.3 - 0.61 * (i - 200) * (i % 2 ? 1 : -1);
      if (i % 17 == 0) tt = t[(size_t)(i / 17) % 5];
      double ea = vs_waveform_eval(&a, tt), eb = vs_waveform_eval(&b, tt);
      assert_true(vs_waveform_eval_hint(&a, tt, &hint_a) == ea);
      vs_wave_place at = vs_waveform_locate(&b, tt, &hint_b);
      assert_true(vs_waveform_eval_at(&a, &at) == ea);
      assert_true(vs_waveform_eval_at(&b, &at) == eb);
    }
    vs_waveform c = vs_waveform_constant(0.0);
    const double tc[] = {0.0, 0.5, 0.8, 2.0, 3.0};
    assert_int_equal(vs_waveform_set_table(&c, 5, tc, va, periodic), 0);
    assert_false(vs_waveform_same_knots(&a, &c));
    vs_waveform_clear(&a);
    vs_waveform_clear(&b);
    vs_waveform_clear(&c);
  }
}

static void linear_wall(void **state) {
  (void)state;
  vs_wall w = vs_wall_linear(2.0, 10.0);
  double d = 0;
  assert_close(vs_wall_pressure(&w, 30.0, &d), 10.0, 1e-15);
  assert_close(d, 0.5, 1e-15);
  double v = 0;
  assert_int_equal(vs_wall_volume(&w, 10.0, &v), 0);
  assert_close(v, 30.0, 1e-15);
}

/* Shapiro's law by hand: K (alpha^10 - alpha^-1.5). */
static void tube_law_values_inverse_and_slope(void **state) {
  (void)state;
  vs_wall w = vs_wall_tube_law(40.0, 1.0, 10.0); /* A0 = 1 cm^2, l = 10 cm */
  double d = 0;
  assert_true(fabs(vs_wall_pressure(&w, 10.0, &d)) < 1e-14);
  /* Compliance at alpha = 1 is A0 l / (11.5 K). */
  assert_close(1.0 / d, 10.0 / (11.5 * 40.0), 1e-14);
  const double alphas[] = {0.05, 0.3, 0.9, 1.0, 1.1, 1.3};
  for (size_t i = 0; i < sizeof alphas / sizeof *alphas; ++i) {
    double a = alphas[i], v = a * 10.0;
    double p = vs_wall_pressure(&w, v, &d);
    assert_close(p, 40.0 * (pow(a, 10.0) - pow(a, -1.5)), 1e-13);
    double h = 1e-6 * v;
    double fd = (vs_wall_pressure(&w, v + h, NULL) -
                 vs_wall_pressure(&w, v - h, NULL)) / (2 * h);
    assert_close(d, fd, 1e-7);
    double back = 0;
    assert_int_equal(vs_wall_volume(&w, p, &back), 0);
    assert_close(back, v, 1e-12);
  }
}

/* Exponents other than Shapiro's: integers and half-integers take a
 * faster path than pow(), any other exponent pow() itself. */
static void tube_law_other_exponents(void **state) {
  (void)state;
  const double ms[] = {7.0, 4.5, 2.3}, ns[] = {-2.5, -1.0, -0.7};
  const double alphas[] = {0.05, 0.3, 0.9, 1.0, 1.1, 1.3};
  for (size_t e = 0; e < 3; ++e) {
    vs_wall w = vs_wall_tube_law(40.0, 1.0, 10.0);
    w.m = ms[e];
    w.n = ns[e];
    for (size_t i = 0; i < sizeof alphas / sizeof *alphas; ++i) {
      double a = alphas[i], d;
      double p = vs_wall_pressure(&w, 10.0 * a, &d);
      double exact = 40.0 * (pow(a, ms[e]) - pow(a, ns[e]));
      assert_true(fabs(p - exact) <= 1e-13 * fmax(1.0, fabs(exact)));
      double dexact = 40.0 * (ms[e] * pow(a, ms[e] - 1.0) -
                              ns[e] * pow(a, ns[e] - 1.0)) / 10.0;
      assert_close(d, dexact, 1e-13);
    }
  }
}

/* Separate collapse stiffness: Kd (alpha^m - 1) - Kc (alpha^n - 1). */
static void tube_law_two_stiffnesses(void **state) {
  (void)state;
  vs_wall w = vs_wall_tube_law(48.0, 1.0, 10.0);
  w.k_collapse_mmhg = 2.0;
  const double alphas[] = {0.05, 0.3, 0.9, 1.0, 1.1, 1.3};
  for (size_t i = 0; i < sizeof alphas / sizeof *alphas; ++i) {
    double a = alphas[i], v = 10.0 * a, d;
    double p = vs_wall_pressure(&w, v, &d);
    double exact = 48.0 * (pow(a, 10.0) - 1.0) - 2.0 * (pow(a, -1.5) - 1.0);
    assert_true(fabs(p - exact) <= 1e-12 * fmax(1.0, fabs(exact)));
    double h = 1e-6 * v;
    double fd = (vs_wall_pressure(&w, v + h, NULL) -
                 vs_wall_pressure(&w, v - h, NULL)) / (2 * h);
    assert_close(d, fd, 1e-7);
    double back = 0;
    assert_int_equal(vs_wall_volume(&w, p, &back), 0);
    assert_close(back, v, 1e-12);
  }
}

/* PHYSICS.md 1.2: about 0.006 mmHg across a 6 cm common iliac vein
 * (200 mm^2) at 5 mL/s. */
static void poiseuille_common_iliac(void **state) {
  (void)state;
  double r = vs_segment_resistance(0.035, 6.0, 2.0);
  /* SI by hand: r = sqrt(2e-4 / pi) m, R = 8 mu l / (pi r^4) in Pa s/m^3,
   * then Pa -> mmHg and m^3 -> mL. */
  double r_m = sqrt(2e-4 / VS_PI);
  double r_si = 8.0 * 3.5e-3 * 0.06 / (VS_PI * pow(r_m, 4));
  assert_close(r, r_si * 1e-6 / 133.3224, 1e-12);
  double dp = r * 5.0;
  assert_true(dp > 0.004 && dp < 0.007);
}

static void collapse_factor_continuous_with_slope(void **state) {
  (void)state;
  double d_lo, d_hi;
  double f_lo = vs_segment_collapse_factor(1.0 - 1e-12, &d_lo);
  double f_hi = vs_segment_collapse_factor(1.0, &d_hi);
  assert_close(f_lo, f_hi, 1e-10);
  const double alphas[] = {0.05, 0.4, 0.99, 1.01, 1.5};
  for (size_t i = 0; i < sizeof alphas / sizeof *alphas; ++i) {
    double a = alphas[i], d, h = 1e-7 * a;
    vs_segment_collapse_factor(a, &d);
    double fd = (vs_segment_collapse_factor(a + h, NULL) -
                 vs_segment_collapse_factor(a - h, NULL)) / (2 * h);
    assert_close(d, fd, 1e-6);
  }
  /* Ellipse of fixed a + b: at alpha = 0.5 the law gives 1.5 / 0.125 = 12. */
  assert_close(vs_segment_collapse_factor(0.5, NULL), 12.0, 1e-15);
}

/* PHYSICS.md 1.3 quotes, at A0 = 2 cm^2, Ls = 3 cm: 20 % left gives 0.4 and
 * 2.6 mmHg at 10 and 30 mL/s; 10 % left gives 1.8 and 12.7 mmHg. */
static void young_tsai_quoted_gradients(void **state) {
  (void)state;
  const struct {
    double ratio, q, dp;
  } cases[] = {{0.2, 10, 0.4}, {0.2, 30, 2.6}, {0.1, 10, 1.8}, {0.1, 30, 12.7}};
  for (size_t i = 0; i < 4; ++i) {
    vs_stenosis s = vs_stenosis_young_tsai(cases[i].ratio, 3.0);
    double dp = vs_stenosis_pressure_drop(&s, 0.035, 1.06, 2.0, cases[i].q);
    /* The quoted figures are rounded to 0.1 mmHg. */
    assert_true(fabs(dp - cases[i].dp) <= 0.06 + 0.01 * cases[i].dp);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(waveform_table_interpolates_and_holds),
      cmocka_unit_test(waveform_periodic_table_repeats),
      cmocka_unit_test(waveform_sine),
      cmocka_unit_test(waveform_hint_and_shared_knots_match_eval),
      cmocka_unit_test(linear_wall),
      cmocka_unit_test(tube_law_values_inverse_and_slope),
      cmocka_unit_test(tube_law_two_stiffnesses),
      cmocka_unit_test(tube_law_other_exponents),
      cmocka_unit_test(poiseuille_common_iliac),
      cmocka_unit_test(collapse_factor_continuous_with_slope),
      cmocka_unit_test(young_tsai_quoted_gradients),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
