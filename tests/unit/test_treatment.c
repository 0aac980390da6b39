/* Lesions and treatments (treatment.h) against hand-computed values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "venosim/error.h"
#include "venosim/treatment.h"
#include "venosim/units.h"

#define assert_close(a, b, rel)                                              \
  assert_true(fabs((a) - (b)) <= (rel) * fmax(fabs(b), 1e-300))

/* C = f_ref / pi in mmHg mm, computed from first principles: a force per
 * length f (N/cm = 1e5 dyn/cm) on a diameter d (mm = 0.1 cm) gives
 * f 1e5 / (pi d 0.1) dyn/cm^2. */
static double c_mmhg_mm(double f_n_per_cm) {
  return f_n_per_cm * 1e5 / (VS_PI * 0.1) / 1333.224;
}

/* Positive root of a d^2 + b d + c = 0 (a > 0, c < 0), cancellation-free. */
static double quadratic_root(double a, double b, double c) {
  double disc = sqrt(b * b - 4.0 * a * c);
  return b <= 0.0 ? (-b + disc) / (2.0 * a) : (2.0 * c) / (-b - disc);
}

/* The curve knobs stay in their documented ranges. */
static void shape_knobs_in_range(void **state) {
  (void)state;
  assert_true(VS_STENT_NITINOL_PLATEAU_END >= VS_STENT_REFERENCE_FRACTION &&
              VS_STENT_NITINOL_PLATEAU_END <= 0.99);
  assert_true(VS_STENT_BRAIDED_STIFFENING >= 1.0 &&
              VS_STENT_BRAIDED_STIFFENING <= 20.0);
}

static void clot_ratio_and_removal(void **state) {
  (void)state;
  assert_close(vs_clot_area_ratio(0.3), 0.7, 1e-15);
  assert_true(vs_clot_area_ratio(1.0) == 0.0);
  assert_true(vs_clot_area_ratio(-0.2) == 1.0);
  assert_true(vs_clot_area_ratio(1.5) == 0.0);
  assert_close(vs_clot_after_removal(0.8, 0.25), 0.2, 1e-15);
  assert_true(vs_clot_after_removal(0.8, 0.0) == 0.0);
  assert_close(vs_clot_after_removal(0.8, 1.0), 0.8, 1e-15);
}

static void balloon_recoil_limits(void **state) {
  (void)state;
  /* No recoil: the balloon's lumen; total recoil: no gain. */
  assert_close(vs_balloon_lumen_mm(6.0, 16.0, 0.0), 16.0, 1e-15);
  assert_close(vs_balloon_lumen_mm(6.0, 16.0, 1.0), 6.0, 1e-15);
  /* Default: area kept 0.65 of the balloon's. */
  double d = vs_balloon_lumen_mm(6.0, 16.0, VS_BALLOON_RECOIL_DEFAULT);
  assert_close(d * d, 16.0 * 16.0 * 0.65, 1e-14);
  /* Never below the lesion's own lumen. */
  assert_close(vs_balloon_lumen_mm(12.0, 14.0, 0.5), 12.0, 1e-15);
  assert_true(isnan(vs_balloon_lumen_mm(6.0, 16.0, 1.2)));
  assert_true(isnan(vs_balloon_lumen_mm(6.0, 16.0, -0.1)));
  assert_true(isnan(vs_balloon_lumen_mm(0.0, 16.0, 0.3)));
  assert_true(isnan(vs_balloon_lumen_mm(6.0, -1.0, 0.3)));
}

/* The curve's closed form at chosen points, its scaling at 0.75 D, zero at
 * and above nominal, continuity at the kinks, strict decrease below D. */
static void stent_pressure_shapes(void **state) {
  (void)state;
  for (int t = 0; t < 2; ++t) {
    vs_stent s = vs_stent_default((vs_stent_type)t, 16.0, 6.0);
    double f = s.radial_force_n_per_cm;
    double c = c_mmhg_mm(f);
    assert_close(vs_stent_force_n_per_cm(&s, 12.0), f, 1e-14);
    assert_close(vs_stent_pressure_mmhg(&s, 12.0), c / 12.0, 1e-13);
    assert_true(vs_stent_pressure_mmhg(&s, 16.0) == 0.0);
    assert_true(vs_stent_pressure_mmhg(&s, 20.0) == 0.0);
    double prev = INFINITY;
    for (double d = 0.5; d < 16.0; d += 0.125) {
      double p = vs_stent_pressure_mmhg(&s, d);
      assert_true(p > 0.0 && p < prev);
      prev = p;
    }
    /* Continuity at every kink and at nominal. */
    const double kinks[] = {VS_STENT_REFERENCE_FRACTION,
                            VS_STENT_NITINOL_PLATEAU_END, 1.0};
    for (size_t k = 0; k < 3; ++k) {
      double d = kinks[k] * 16.0, h = 1e-9;
      assert_true(fabs(vs_stent_pressure_mmhg(&s, d - h) -
                       vs_stent_pressure_mmhg(&s, d + h)) < 1e-6);
    }
  }
  /* Nitinol hand values: a gently rising plateau, then linear to zero from
   * 0.9 D. With sigma = 0.5 and x_ref = 0.75, b = 2: f(0.4) = f_ref 1.7,
   * f(0.9) = f_ref 0.7, f(0.95) = 0.35 f_ref. */
  assert_close(VS_STENT_NITINOL_PLATEAU_SLOPE, 0.5, 0.0);
  vs_stent n = vs_stent_default(VS_STENT_NITINOL, 20.0, 6.0);
  double cn = c_mmhg_mm(n.radial_force_n_per_cm);
  assert_close(vs_stent_pressure_mmhg(&n, 8.0), cn * 1.7 / 8.0, 1e-13);
  assert_close(vs_stent_pressure_mmhg(&n, 19.0), cn * 0.35 / 19.0, 1e-13);
  /* Braided: upper branch linear from 0.75 D, lower branch s times steeper. */
  vs_stent b = vs_stent_default(VS_STENT_BRAIDED, 20.0, 6.0);
  double cb = c_mmhg_mm(b.radial_force_n_per_cm);
  assert_close(vs_stent_pressure_mmhg(&b, 17.5), cb * 0.5 / 17.5, 1e-13);
  assert_close(vs_stent_pressure_mmhg(&b, 10.0),
               cb * (1.0 + VS_STENT_BRAIDED_STIFFENING) / 10.0, 1e-13);
}

static void braided_presses_harder_below_three_quarters(void **state) {
  (void)state;
  vs_stent n = vs_stent_default(VS_STENT_NITINOL, 16.0, 8.0);
  vs_stent b = vs_stent_default(VS_STENT_BRAIDED, 16.0, 8.0);
  b.radial_force_n_per_cm = n.radial_force_n_per_cm;
  assert_close(vs_stent_pressure_mmhg(&b, 12.0),
               vs_stent_pressure_mmhg(&n, 12.0), 1e-14);
  for (double d = 2.0; d < 12.0; d += 0.25)
    assert_true(vs_stent_pressure_mmhg(&b, d) >
                vs_stent_pressure_mmhg(&n, d));
  /* Flatter nitinol keeps more force near nominal. */
  for (double d = 12.25; d < 16.0; d += 0.25)
    assert_true(vs_stent_pressure_mmhg(&n, d) >
                vs_stent_pressure_mmhg(&b, d));
}

/* Closed-form force balances on linear branches, solved here by hand. */
static void deploy_matches_hand_force_balance(void **state) {
  (void)state;
  double d = 0.0;

  /* 1. Nitinol plateau vs stretched scar: C/d = k (d/L - 1) + p_ext
   *    => (k/L) d^2 + (p_ext - k) d - C = 0. */
  {
    vs_stent s = vs_stent_default(VS_STENT_NITINOL, 16.0, 6.0);
    vs_lesion_load l = {.lumen_mm = 8.0, .stiffness_mmhg = 60.0,
                        .external_mmhg = 5.0};
    double c = c_mmhg_mm(s.radial_force_n_per_cm);
    double b = VS_STENT_NITINOL_PLATEAU_SLOPE /
               (1.0 - VS_STENT_REFERENCE_FRACTION);
    double want = quadratic_root(
        l.stiffness_mmhg / l.lumen_mm,
        l.external_mmhg - l.stiffness_mmhg + c * b / 16.0,
        -c * (1.0 + b * VS_STENT_REFERENCE_FRACTION));
    assert_true(want > l.lumen_mm &&
                want < VS_STENT_NITINOL_PLATEAU_END * 16.0);
    assert_int_equal(vs_stent_deploy(&s, &l, &d), VS_OK);
    assert_close(d, want, 1e-9);
  }
  /* 2. Nitinol falling branch, C' (1/d - 1/D) with C' = C / (1 - x_p),
   *    vs a soft scar: (k/L) d^2 + (p_ext - k + C'/D) d - C' = 0. */
  {
    vs_stent s = vs_stent_default(VS_STENT_NITINOL, 14.0, 6.0);
    vs_lesion_load l = {.lumen_mm = 12.0, .stiffness_mmhg = 30.0,
                        .external_mmhg = 0.0};
    /* f at the plateau's end: f_ref (1 + b (x_ref - x_p)). */
    double b = VS_STENT_NITINOL_PLATEAU_SLOPE /
               (1.0 - VS_STENT_REFERENCE_FRACTION);
    double cp = c_mmhg_mm(s.radial_force_n_per_cm) *
                (1.0 + b * (VS_STENT_REFERENCE_FRACTION -
                            VS_STENT_NITINOL_PLATEAU_END)) /
                (1.0 - VS_STENT_NITINOL_PLATEAU_END);
    double want = quadratic_root(l.stiffness_mmhg / l.lumen_mm,
                                 l.external_mmhg - l.stiffness_mmhg + cp / 14.0,
                                 -cp);
    assert_true(want > l.lumen_mm &&
                want > VS_STENT_NITINOL_PLATEAU_END * 14.0 && want < 14.0);
    assert_int_equal(vs_stent_deploy(&s, &l, &d), VS_OK);
    assert_close(d, want, 1e-9);
  }
  /* 3. Braided upper branch vs a pure extrinsic (May-Thurner) load:
   *    C/(1 - x_r) (1/d - 1/D) = p_ext  =>  1/d = p_ext (1 - x_r)/C + 1/D. */
  {
    vs_stent s = vs_stent_default(VS_STENT_BRAIDED, 16.0, 6.0);
    vs_lesion_load l = {.lumen_mm = 6.0, .stiffness_mmhg = 0.0,
                        .external_mmhg = 10.0};
    double c = c_mmhg_mm(s.radial_force_n_per_cm);
    double want =
        1.0 / (l.external_mmhg * (1.0 - VS_STENT_REFERENCE_FRACTION) / c +
               1.0 / 16.0);
    assert_true(want > VS_STENT_REFERENCE_FRACTION * 16.0 && want < 16.0);
    assert_int_equal(vs_stent_deploy(&s, &l, &d), VS_OK);
    assert_close(d, want, 1e-9);
  }
  /* 4. Braided lower branch, C (1 + s (x_r - d/D)/(1 - x_r)) / d = k (d/L - 1)
   *    => (k/L) d^2 + (C s/((1 - x_r) D) - k) d - C (1 + s x_r/(1 - x_r)) = 0. */
  {
    vs_stent s = vs_stent_default(VS_STENT_BRAIDED, 20.0, 6.0);
    vs_lesion_load l = {.lumen_mm = 8.0, .stiffness_mmhg = 200.0,
                        .external_mmhg = 0.0};
    double c = c_mmhg_mm(s.radial_force_n_per_cm);
    double xr = VS_STENT_REFERENCE_FRACTION, st = VS_STENT_BRAIDED_STIFFENING;
    double want = quadratic_root(
        l.stiffness_mmhg / l.lumen_mm,
        c * st / ((1.0 - xr) * 20.0) - l.stiffness_mmhg,
        -c * (1.0 + st * xr / (1.0 - xr)));
    assert_true(want > l.lumen_mm && want < xr * 20.0);
    assert_int_equal(vs_stent_deploy(&s, &l, &d), VS_OK);
    assert_close(d, want, 1e-9);
  }
}

/* Every deployment on a grid satisfies the balance and stays in (0, D]. */
static void deploy_balances_on_a_grid(void **state) {
  (void)state;
  for (int t = 0; t < 2; ++t)
    for (double dn = 10.0; dn <= 24.0; dn += 2.0)
      for (double k = 0.0; k <= 1000.0; k += 125.0)
        for (double pe = 0.0; pe <= 40.0; pe += 10.0) {
          vs_stent s = vs_stent_default((vs_stent_type)t, dn, 6.0);
          vs_lesion_load l = {.lumen_mm = 7.0, .stiffness_mmhg = k,
                              .external_mmhg = pe};
          double d = -1.0;
          assert_int_equal(vs_stent_deploy(&s, &l, &d), VS_OK);
          assert_true(d > 0.0 && d <= dn);
          if (d < dn) {
            double ps = vs_stent_pressure_mmhg(&s, d);
            double pl = vs_lesion_pressure_mmhg(&l, d);
            assert_true(fabs(ps - pl) <= 1e-8 * fmax(ps, 1.0));
          }
        }
}

static void deploy_limits(void **state) {
  (void)state;
  double d = 0.0;
  for (int t = 0; t < 2; ++t) {
    vs_stent s = vs_stent_default((vs_stent_type)t, 16.0, 6.0);
    /* Nothing resists: the stent reaches its nominal size. */
    vs_lesion_load free_wall = {.lumen_mm = 8.0, .stiffness_mmhg = 0.0,
                                .external_mmhg = 0.0};
    assert_int_equal(vs_stent_deploy(&s, &free_wall, &d), VS_OK);
    assert_true(d == 16.0);
    /* A lesion already wider than the stent, uncompressed: no contact. */
    vs_lesion_load wide = {.lumen_mm = 18.0, .stiffness_mmhg = 500.0,
                           .external_mmhg = 0.0};
    assert_int_equal(vs_stent_deploy(&s, &wide, &d), VS_OK);
    assert_true(d == 16.0);
    /* A stiffer lesion yields less, and a very stiff one hardly at all: at
     * the root k (d/L - 1) = p_stent(d) <= p_stent(L), so the gain
     * d - L <= L p_stent(L) / k -> 0 as k grows. */
    double prev = 16.0;
    for (double k = 10.0; k <= 1000.0; k *= 10.0) {
      vs_lesion_load l = {.lumen_mm = 8.0, .stiffness_mmhg = k,
                          .external_mmhg = 0.0};
      assert_int_equal(vs_stent_deploy(&s, &l, &d), VS_OK);
      assert_true(d > 8.0 && d < prev);
      assert_true(d - 8.0 <= 8.0 * vs_stent_pressure_mmhg(&s, 8.0) / k);
      prev = d;
    }
    /* k = 1000: within 8 % (nitinol, whose plateau rises gently) and 12 %
     * (braided, which presses harder when compressed) of the lesion's
     * lumen. */
    assert_true(prev < (t == VS_STENT_NITINOL ? 1.08 : 1.12) * 8.0);
  }
  /* The documented default: a 16 mm nitinol stent in an 8 mm scar opens to
   * about 12 mm. */
  vs_stent s = vs_stent_default(VS_STENT_NITINOL, 16.0, 6.0);
  vs_lesion_load l = {.lumen_mm = 8.0,
                      .stiffness_mmhg = VS_LESION_STIFFNESS_DEFAULT_MMHG,
                      .external_mmhg = 0.0};
  assert_int_equal(vs_stent_deploy(&s, &l, &d), VS_OK);
  assert_true(fabs(d - 12.0) < 0.1);
}

/* A wider stent in the same lesion never gives a smaller lumen, so the same
 * flow shears the wall less. */
static void wider_stent_wider_lumen_lower_shear(void **state) {
  (void)state;
  const vs_lesion_load lesions[] = {
      {.lumen_mm = 8.0, .stiffness_mmhg = 60.0, .external_mmhg = 5.0},
      {.lumen_mm = 6.0, .stiffness_mmhg = 300.0, .external_mmhg = 0.0},
      {.lumen_mm = 12.0, .stiffness_mmhg = 20.0, .external_mmhg = 15.0}};
  for (size_t i = 0; i < 3; ++i)
    for (int t = 0; t < 2; ++t) {
      double prev_d = 0.0, prev_tau = INFINITY;
      for (double dn = 10.0; dn <= 20.0 + 1e-9; dn += 0.5) {
        vs_stent s = vs_stent_default((vs_stent_type)t, dn, 6.0);
        double d = 0.0;
        assert_int_equal(vs_stent_deploy(&s, &lesions[i], &d), VS_OK);
        double tau = vs_wall_shear_stress_pa(10.0, d, 3.5);
        /* Equal lumens (a stent past full expansion) differ by ulps. */
        assert_true(d >= prev_d * (1.0 - 1e-12));
        assert_true(tau <= prev_tau * (1.0 + 1e-12));
        prev_d = d;
        prev_tau = tau;
      }
    }
}

static void adjacent_narrowing_is_a_diameter_fraction(void **state) {
  (void)state;
  double a = vs_stent_adjacent_area_ratio(VS_STENT_ADJACENT_NARROWING_DEFAULT);
  assert_close(a, (1.0 - 0.217) * (1.0 - 0.217), 1e-15);
  /* Al-Hakim's means: 11.9 -> 9.3 mm. */
  assert_close(sqrt(a), 1.0 - 0.217, 1e-15);
  assert_true(vs_stent_adjacent_area_ratio(0.0) == 1.0);
}

static void stocking_profile(void **state) {
  (void)state;
  vs_stocking s = vs_stocking_class(2);
  assert_true(s.ankle_mmhg == 28.0);
  assert_int_equal(vs_stocking_validate(&s, NULL, 0), VS_OK);
  assert_close(vs_stocking_pressure_mmhg(&s, 2.0), 28.0, 1e-15);
  assert_close(vs_stocking_pressure_mmhg(&s, 8.0), 28.0, 1e-15);
  /* Midway between ankle (8 cm) and top (75 cm): halfway from 28 to 11.2. */
  assert_close(vs_stocking_pressure_mmhg(&s, 41.5), 0.5 * (28.0 + 11.2),
               1e-14);
  assert_close(vs_stocking_pressure_mmhg(&s, 75.0), 11.2, 1e-14);
  assert_true(vs_stocking_pressure_mmhg(&s, 75.5) == 0.0);
  assert_true(vs_stocking_pressure_mmhg(&s, 120.0) == 0.0);
  assert_true(vs_stocking_class(1).ankle_mmhg == 18.0);
  assert_true(vs_stocking_class(3).ankle_mmhg == 40.0);
  /* Knee-length with a flat profile. */
  vs_stocking k = {.ankle_mmhg = 20.0, .ankle_height_cm = 8.0,
                   .top_height_cm = 45.0, .top_fraction = 1.0};
  assert_close(vs_stocking_pressure_mmhg(&k, 30.0), 20.0, 1e-15);
  assert_true(vs_stocking_pressure_mmhg(&k, 46.0) == 0.0);
}

/* tau = 4 mu Q / (pi r^3) in SI: 10 mL/s through 12 mm at 3.5 mPa s. */
static void wall_shear_stress_in_si(void **state) {
  (void)state;
  double mu = 3.5e-3, q = 10e-6, r = 6e-3; /* Pa s, m^3/s, m */
  double want = 4.0 * mu * q / (VS_PI * r * r * r);
  assert_close(vs_wall_shear_stress_pa(10.0, 12.0, 3.5), want, 1e-14);
  assert_close(want, 0.20630, 1e-4);
  assert_close(vs_wall_shear_stress_pa(-10.0, 12.0, 3.5), -want, 1e-14);
  /* Doubling the diameter divides it by 8. */
  assert_close(vs_wall_shear_stress_pa(10.0, 24.0, 3.5), want / 8.0, 1e-14);
  assert_true(isnan(vs_wall_shear_stress_pa(10.0, 0.0, 3.5)));
  assert_true(isnan(vs_wall_shear_stress_pa(10.0, 12.0, -1.0)));
}

static void invalid_inputs_are_refused(void **state) {
  (void)state;
  const vs_stent good_s = vs_stent_default(VS_STENT_NITINOL, 16.0, 6.0);
  const vs_lesion_load good_l = {.lumen_mm = 8.0, .stiffness_mmhg = 60.0,
                                 .external_mmhg = 0.0};
  double d = 42.0;
  char msg[128];
  assert_int_equal(vs_stent_deploy(NULL, &good_l, &d), VS_EINVAL);
  assert_int_equal(vs_stent_deploy(&good_s, NULL, &d), VS_EINVAL);
  assert_int_equal(vs_stent_deploy(&good_s, &good_l, NULL), VS_EINVAL);

  vs_stent bad_s[6];
  for (int i = 0; i < 6; ++i) bad_s[i] = good_s;
  bad_s[0].type = (vs_stent_type)7;
  bad_s[1].nominal_diameter_mm = 5.0;
  bad_s[2].nominal_diameter_mm = 31.0;
  bad_s[3].length_cm = 0.0;
  bad_s[4].radial_force_n_per_cm = 0.01;
  bad_s[5].radial_force_n_per_cm = NAN;
  for (int i = 0; i < 6; ++i) {
    assert_int_equal(vs_stent_deploy(&bad_s[i], &good_l, &d), VS_EINVAL);
    assert_int_equal(vs_stent_validate(&bad_s[i], msg, sizeof msg),
                     VS_EINVAL);
    assert_true(msg[0] != '\0');
    assert_true(isnan(vs_stent_pressure_mmhg(&bad_s[i], 10.0)));
  }
  vs_lesion_load bad_l[5];
  for (int i = 0; i < 5; ++i) bad_l[i] = good_l;
  bad_l[0].lumen_mm = 0.0;
  bad_l[1].stiffness_mmhg = -1.0;
  bad_l[2].stiffness_mmhg = 2000.0;
  bad_l[3].external_mmhg = -1.0;
  bad_l[4].external_mmhg = INFINITY;
  for (int i = 0; i < 5; ++i) {
    assert_int_equal(vs_stent_deploy(&good_s, &bad_l[i], &d), VS_EINVAL);
    assert_int_equal(vs_lesion_load_validate(&bad_l[i], msg, sizeof msg),
                     VS_EINVAL);
    assert_true(isnan(vs_lesion_pressure_mmhg(&bad_l[i], 10.0)));
  }
  assert_true(d == 42.0); /* untouched on failure */
  assert_true(isnan(vs_stent_pressure_mmhg(&good_s, 0.0)));
  assert_true(isnan(vs_lesion_pressure_mmhg(&good_l, -1.0)));

  vs_stocking st = vs_stocking_class(4);
  assert_int_equal(vs_stocking_validate(&st, msg, sizeof msg), VS_EINVAL);
  assert_true(isnan(vs_stocking_pressure_mmhg(&st, 10.0)));
  st = vs_stocking_class(2);
  st.top_height_cm = st.ankle_height_cm;
  assert_int_equal(vs_stocking_validate(&st, msg, sizeof msg), VS_EINVAL);
  st = vs_stocking_class(2);
  st.top_fraction = 1.5;
  assert_int_equal(vs_stocking_validate(&st, msg, sizeof msg), VS_EINVAL);
  assert_int_equal(vs_stocking_validate(NULL, msg, sizeof msg), VS_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(shape_knobs_in_range),
      cmocka_unit_test(clot_ratio_and_removal),
      cmocka_unit_test(balloon_recoil_limits),
      cmocka_unit_test(stent_pressure_shapes),
      cmocka_unit_test(braided_presses_harder_below_three_quarters),
      cmocka_unit_test(deploy_matches_hand_force_balance),
      cmocka_unit_test(deploy_balances_on_a_grid),
      cmocka_unit_test(deploy_limits),
      cmocka_unit_test(wider_stent_wider_lumen_lower_shear),
      cmocka_unit_test(adjacent_narrowing_is_a_diameter_fraction),
      cmocka_unit_test(stocking_profile),
      cmocka_unit_test(wall_shear_stress_in_si),
      cmocka_unit_test(invalid_inputs_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
