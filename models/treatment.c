/* Lesions and treatments: clot, balloon, stents, stockings, wall shear
 * (treatment.h). */
#include "venosim/treatment.h"

#include <float.h>
#include <math.h>
#include <stdio.h>

#include "venosim/error.h"
#include "venosim/units.h"

/* N/cm over (pi d[mm]) -> mmHg: 1 N/cm = 1e5 dyn/cm, 1 mm = 0.1 cm. */
#define VS_N_PER_CM_PER_MM_TO_MMHG (1e6 / VS_DYN_CM2_PER_MMHG)

static double clamp01(double x) {
  if (x < 0.0) return 0.0;
  if (x > 1.0) return 1.0;
  return x; /* NaN passes through */
}

static int positive_finite(double x) { return isfinite(x) && x > 0.0; }

static int fail(char *msg, size_t msglen, const char *why) {
  if (msg && msglen) snprintf(msg, msglen, "%s", why);
  return VS_EINVAL;
}

/* ---- clot ---------------------------------------------------------------- */

double vs_clot_area_ratio(double occupied_fraction) {
  return 1.0 - clamp01(occupied_fraction);
}

double vs_clot_after_removal(double occupied_fraction,
                             double residual_fraction) {
  return clamp01(occupied_fraction) * clamp01(residual_fraction);
}

/* ---- balloon ------------------------------------------------------------- */

double vs_balloon_lumen_mm(double lesion_lumen_mm, double balloon_mm,
                           double recoil) {
  if (!positive_finite(lesion_lumen_mm) || !positive_finite(balloon_mm) ||
      !(recoil >= VS_BALLOON_RECOIL_MIN && recoil <= VS_BALLOON_RECOIL_MAX))
    return NAN;
  return fmax(lesion_lumen_mm, balloon_mm * sqrt(1.0 - recoil));
}

/* ---- stents -------------------------------------------------------------- */

vs_stent vs_stent_default(vs_stent_type type, double nominal_mm,
                          double length_cm) {
  vs_stent s;
  s.type = type;
  s.nominal_diameter_mm = nominal_mm;
  s.length_cm = length_cm;
  s.radial_force_n_per_cm = type == VS_STENT_BRAIDED
                                ? VS_STENT_RADIAL_FORCE_BRAIDED_DEFAULT_N_PER_CM
                                : VS_STENT_RADIAL_FORCE_NITINOL_DEFAULT_N_PER_CM;
  return s;
}

int vs_stent_validate(const vs_stent *s, char *msg, size_t msglen) {
  if (!s) return fail(msg, msglen, "no stent");
  if (s->type != VS_STENT_NITINOL && s->type != VS_STENT_BRAIDED)
    return fail(msg, msglen, "unknown stent type");
  if (!(s->nominal_diameter_mm >= VS_STENT_NOMINAL_MIN_MM &&
        s->nominal_diameter_mm <= VS_STENT_NOMINAL_MAX_MM))
    return fail(msg, msglen, "stent nominal diameter must be in [6, 30] mm");
  if (!positive_finite(s->length_cm))
    return fail(msg, msglen, "stent length must be positive and finite");
  if (!(s->radial_force_n_per_cm >= VS_STENT_RADIAL_FORCE_MIN_N_PER_CM &&
        s->radial_force_n_per_cm <= VS_STENT_RADIAL_FORCE_MAX_N_PER_CM))
    return fail(msg, msglen, "stent radial force must be in [0.05, 10] N/cm");
  return VS_OK;
}

/* f(x), N/cm, for a valid stent and x = d/D > 0. */
static double stent_force(const vs_stent *s, double x) {
  const double f = s->radial_force_n_per_cm;
  const double xr = VS_STENT_REFERENCE_FRACTION;
  if (x >= 1.0) return 0.0;
  if (s->type == VS_STENT_NITINOL) {
    const double xp = VS_STENT_NITINOL_PLATEAU_END;
    const double slope = VS_STENT_NITINOL_PLATEAU_SLOPE / (1.0 - xr);
    if (x <= xp) return f * (1.0 + slope * (xr - x));
    return f * (1.0 + slope * (xr - xp)) * (1.0 - x) / (1.0 - xp);
  }
  if (x >= xr) return f * (1.0 - x) / (1.0 - xr);
  return f * (1.0 + VS_STENT_BRAIDED_STIFFENING * (xr - x) / (1.0 - xr));
}

double vs_stent_force_n_per_cm(const vs_stent *s, double d_mm) {
  if (vs_stent_validate(s, NULL, 0) || !(d_mm > 0.0)) return NAN;
  return stent_force(s, d_mm / s->nominal_diameter_mm);
}

static double stent_pressure(const vs_stent *s, double d_mm) {
  return stent_force(s, d_mm / s->nominal_diameter_mm) *
         VS_N_PER_CM_PER_MM_TO_MMHG / (VS_PI * d_mm);
}

double vs_stent_pressure_mmhg(const vs_stent *s, double d_mm) {
  if (vs_stent_validate(s, NULL, 0) || !(d_mm > 0.0)) return NAN;
  return stent_pressure(s, d_mm);
}

/* ---- lesion load ---------------------------------------------------------- */

int vs_lesion_load_validate(const vs_lesion_load *l, char *msg,
                            size_t msglen) {
  if (!l) return fail(msg, msglen, "no lesion load");
  if (!positive_finite(l->lumen_mm))
    return fail(msg, msglen, "lesion lumen must be positive and finite");
  if (!(l->stiffness_mmhg >= VS_LESION_STIFFNESS_MIN_MMHG &&
        l->stiffness_mmhg <= VS_LESION_STIFFNESS_MAX_MMHG))
    return fail(msg, msglen, "lesion stiffness must be in [0, 1000] mmHg");
  if (!(isfinite(l->external_mmhg) && l->external_mmhg >= 0.0))
    return fail(msg, msglen, "external pressure must be >= 0 and finite");
  return VS_OK;
}

static double lesion_pressure(const vs_lesion_load *l, double d_mm) {
  return l->stiffness_mmhg * fmax(0.0, d_mm / l->lumen_mm - 1.0) +
         l->external_mmhg;
}

double vs_lesion_pressure_mmhg(const vs_lesion_load *l, double d_mm) {
  if (vs_lesion_load_validate(l, NULL, 0) || !(d_mm > 0.0)) return NAN;
  return lesion_pressure(l, d_mm);
}

int vs_stent_deploy(const vs_stent *s, const vs_lesion_load *l,
                    double *lumen_mm) {
  if (!lumen_mm || vs_stent_validate(s, NULL, 0) ||
      vs_lesion_load_validate(l, NULL, 0))
    return VS_EINVAL;
  const double dn = s->nominal_diameter_mm;
  /* g(d) = p_stent - p_lesion strictly decreases on (0, D); g(D) <= 0. */
  if (lesion_pressure(l, dn) <= 0.0) {
    *lumen_mm = dn;
    return VS_OK;
  }
  /* A lower end with g > 0: for d <= 0.75 D, f >= f_ref, and for d <= L the
   * lesion presses with p_ext alone, so g(d) >= C/d - p_ext with
   * C = f_ref (unit) / pi, positive for d < C / p_ext. */
  const double c =
      s->radial_force_n_per_cm * VS_N_PER_CM_PER_MM_TO_MMHG / VS_PI;
  double lo = fmin(VS_STENT_REFERENCE_FRACTION * dn, l->lumen_mm);
  if (l->external_mmhg > 0.0) lo = fmin(lo, c / l->external_mmhg);
  lo *= 0.5;
  double hi = dn;
  /* Halve the bracket down to a few ulps: at most ~60 steps from (0, D]. */
  for (int it = 0; it < 200 && hi - lo > 4.0 * DBL_EPSILON * hi; ++it) {
    double mid = 0.5 * (lo + hi);
    if (stent_pressure(s, mid) - lesion_pressure(l, mid) > 0.0)
      lo = mid;
    else
      hi = mid;
  }
  *lumen_mm = 0.5 * (lo + hi);
  return VS_OK;
}

double vs_stent_adjacent_area_ratio(double diameter_narrowing) {
  double keep = 1.0 - clamp01(diameter_narrowing);
  return keep * keep;
}

/* ---- stockings ------------------------------------------------------------ */

vs_stocking vs_stocking_class(int cls) {
  vs_stocking s;
  s.ankle_mmhg = cls == 1   ? VS_STOCKING_CLASS1_MMHG
                 : cls == 2 ? VS_STOCKING_CLASS2_MMHG
                 : cls == 3 ? VS_STOCKING_CLASS3_MMHG
                            : NAN;
  s.ankle_height_cm = VS_STOCKING_ANKLE_HEIGHT_DEFAULT_CM;
  s.top_height_cm = VS_STOCKING_TOP_THIGH_CM;
  s.top_fraction = VS_STOCKING_TOP_FRACTION_DEFAULT;
  return s;
}

int vs_stocking_validate(const vs_stocking *s, char *msg, size_t msglen) {
  if (!s) return fail(msg, msglen, "no stocking");
  if (!(isfinite(s->ankle_mmhg) && s->ankle_mmhg >= 0.0))
    return fail(msg, msglen, "stocking ankle pressure must be >= 0 and finite");
  if (!isfinite(s->ankle_height_cm) || !isfinite(s->top_height_cm) ||
      !(s->top_height_cm > s->ankle_height_cm))
    return fail(msg, msglen, "stocking top must be above its ankle height");
  if (!(s->top_fraction >= 0.0 && s->top_fraction <= 1.0))
    return fail(msg, msglen, "stocking top fraction must be in [0, 1]");
  return VS_OK;
}

double vs_stocking_pressure_mmhg(const vs_stocking *s, double height_cm) {
  if (vs_stocking_validate(s, NULL, 0) || isnan(height_cm)) return NAN;
  if (height_cm <= s->ankle_height_cm) return s->ankle_mmhg;
  if (height_cm > s->top_height_cm) return 0.0;
  double u = (height_cm - s->ankle_height_cm) /
             (s->top_height_cm - s->ankle_height_cm);
  return s->ankle_mmhg * (1.0 - (1.0 - s->top_fraction) * u);
}

/* ---- wall shear ------------------------------------------------------------ */

double vs_wall_shear_stress_pa(double flow_ml_s, double diameter_mm,
                               double viscosity_mpa_s) {
  if (!positive_finite(diameter_mm) || !positive_finite(viscosity_mpa_s))
    return NAN;
  double r = 0.5 * diameter_mm;
  /* mPa s x mL/s / mm^3 = 1e-3 x 1e-6 / 1e-9 Pa = 1 Pa. */
  return 4.0 * viscosity_mpa_s * flow_ml_s / (VS_PI * r * r * r);
}
