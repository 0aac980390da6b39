/* Pressure-volume laws of compartment walls (wall.h). */
#include "venosim/wall.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "venosim/error.h"

/* Shapiro's exponents for veins (Mueller & Toro 2014). */
#define VS_TUBE_LAW_DEFAULT_M 10.0
#define VS_TUBE_LAW_DEFAULT_N (-1.5)

vs_wall vs_wall_linear(double compliance_ml_mmhg, double v0_ml) {
  vs_wall w;
  memset(&w, 0, sizeof w);
  w.kind = VS_WALL_LINEAR;
  w.compliance_ml_mmhg = compliance_ml_mmhg;
  w.v0_ml = v0_ml;
  return w;
}

vs_wall vs_wall_tube_law(double k_mmhg, double area0_cm2, double length_cm) {
  vs_wall w;
  memset(&w, 0, sizeof w);
  w.kind = VS_WALL_TUBE_LAW;
  w.k_mmhg = k_mmhg;
  w.k_collapse_mmhg = k_mmhg;
  w.area0_cm2 = area0_cm2;
  w.length_cm = length_cm;
  w.m = VS_TUBE_LAW_DEFAULT_M;
  w.n = VS_TUBE_LAW_DEFAULT_N;
  return w;
}

double vs_wall_reference_volume(const vs_wall *w) {
  return w->kind == VS_WALL_LINEAR ? w->v0_ml : w->area0_cm2 * w->length_cm;
}

/* Largest |exponent| taken by repeated squaring instead of pow(). */
#define VS_WALL_FAST_POWER_MAX 32.0

/* x^k for an integer k >= 0, by squaring. */
static double int_power(double x, unsigned k) {
  double r = 1.0;
  for (double b = x; k; k >>= 1, b *= b)
    if (k & 1u) r *= b;
  return r;
}

/* x^e (x > 0). The tube law runs in every right-hand side and its
 * exponents are small integers or half-integers (m = 10, n = -3/2):
 * those take a few multiplications, at most one square root and one
 * division, several times cheaper than pow() and equal to it within a few
 * units of round-off. Any other exponent goes through pow(). */
static double wall_power(double x, double e) {
  double a = fabs(e);
  if (!(a <= VS_WALL_FAST_POWER_MAX)) return pow(x, e);
  double whole = floor(a);
  double r;
  if (a == whole)
    r = int_power(x, (unsigned)whole);
  else if (a - whole == 0.5)
    r = int_power(x, (unsigned)whole) * sqrt(x);
  else
    return pow(x, e);
  return e < 0 ? 1.0 / r : r;
}

double vs_wall_pressure(const vs_wall *w, double v_ml, double *dp_dv) {
  if (w->kind == VS_WALL_LINEAR) {
    if (dp_dv) *dp_dv = 1.0 / w->compliance_ml_mmhg;
    return (v_ml - w->v0_ml) / w->compliance_ml_mmhg;
  }
  double vref = w->area0_cm2 * w->length_cm;
  double alpha = v_ml / vref;
  double am, an;
  if (w->m == VS_TUBE_LAW_DEFAULT_M && w->n == VS_TUBE_LAW_DEFAULT_N) {
    /* Shapiro's exponents, those of every vein of the leg: alpha^10 and
     * alpha^-3/2 written out. */
    double a2 = alpha * alpha, a4 = a2 * a2;
    am = a4 * a4 * a2;
    an = 1.0 / (alpha * sqrt(alpha));
  } else {
    am = wall_power(alpha, w->m);
    an = wall_power(alpha, w->n);
  }
  double kd = w->k_mmhg, kc = w->k_collapse_mmhg;
  if (dp_dv) *dp_dv = (kd * w->m * am - kc * w->n * an) / (alpha * vref);
  return kd * (am - 1.0) - kc * (an - 1.0);
}

int vs_wall_volume(const vs_wall *w, double p_tm_mmhg, double *v_ml) {
  char msg[128];
  if (!w || !v_ml || !isfinite(p_tm_mmhg) ||
      vs_wall_validate(w, msg, sizeof msg) != VS_OK)
    return VS_EINVAL;
  if (w->kind == VS_WALL_LINEAR) {
    *v_ml = w->v0_ml + w->compliance_ml_mmhg * p_tm_mmhg;
    return VS_OK;
  }
  /* p(x), x = log(alpha), is monotone increasing: Newton in x from the
   * branch that dominates (distension for p > 0, collapse for p < 0),
   * safeguarded by bisection on a bracket. */
  double kd = w->k_mmhg, kc = w->k_collapse_mmhg;
  double x = 0.0;
  if (p_tm_mmhg > 0) x = log1p(p_tm_mmhg / kd) / w->m;
  if (p_tm_mmhg < 0) x = log1p(-p_tm_mmhg / kc) / w->n;
  double lo = -50.0, hi = 50.0;
  for (int it = 0; it < 200; ++it) {
    double am = exp(w->m * x), an = exp(w->n * x);
    double f = kd * (am - 1.0) - kc * (an - 1.0) - p_tm_mmhg;
    if (f == 0.0) break;
    if (f > 0)
      hi = x;
    else
      lo = x;
    double df = kd * w->m * am - kc * w->n * an;
    double xn = x - f / df;
    /* Converged: stop before the bracket test, which a last step of
     * round-off size can fail. */
    if (fabs(xn - x) < 1e-15 * (1.0 + fabs(x))) {
      x = xn;
      break;
    }
    if (!(xn > lo && xn < hi)) xn = 0.5 * (lo + hi);
    x = xn;
  }
  *v_ml = exp(x) * w->area0_cm2 * w->length_cm;
  return VS_OK;
}

int vs_wall_validate(const vs_wall *w, char *msg, unsigned long msglen) {
  if (w->kind == VS_WALL_LINEAR) {
    if (!(w->compliance_ml_mmhg > 0) || !isfinite(w->compliance_ml_mmhg)) {
      snprintf(msg, msglen, "compliance must be positive and finite");
      return VS_EINVAL;
    }
    if (!(w->v0_ml >= 0) || !isfinite(w->v0_ml)) {
      snprintf(msg, msglen, "unstressed volume must be >= 0 and finite");
      return VS_EINVAL;
    }
    return VS_OK;
  }
  if (w->kind != VS_WALL_TUBE_LAW) {
    snprintf(msg, msglen, "unknown wall law");
    return VS_EINVAL;
  }
  if (!(w->k_mmhg > 0) || !isfinite(w->k_mmhg) ||
      !(w->k_collapse_mmhg > 0) || !isfinite(w->k_collapse_mmhg) ||
      !(w->area0_cm2 > 0) ||
      !isfinite(w->area0_cm2) || !(w->length_cm > 0) ||
      !isfinite(w->length_cm)) {
    snprintf(msg, msglen,
             "tube law needs positive, finite stiffness, area and length");
    return VS_EINVAL;
  }
  if (!(w->m > 0) || !(w->n < 0) || !isfinite(w->m) || !isfinite(w->n)) {
    snprintf(msg, msglen, "tube law needs exponents m > 0 and n < 0");
    return VS_EINVAL;
  }
  return VS_OK;
}
