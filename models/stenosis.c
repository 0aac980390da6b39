/* Young-Tsai pressure loss across a stenosis (stenosis.h). */
#include "venosim/stenosis.h"

#include <math.h>
#include <stddef.h>

#include "venosim/units.h"

vs_stenosis vs_stenosis_young_tsai(double area_ratio, double length_cm) {
  vs_stenosis s;
  s.area_ratio = area_ratio;
  s.length_cm = length_cm;
  s.kt = 1.52;
  s.ku = 1.2;
  s.la_ls = 0.83;
  s.la_ds = 1.64;
  return s;
}

void vs_stenosis_coefficients(const vs_stenosis *s, double mu_poise,
                              double rho_g_cm3, double a0_cm2, double *r,
                              double *b, double *l) {
  double r0 = sqrt(a0_cm2 / VS_PI);
  double d0 = 2.0 * r0;
  double ds = d0 * sqrt(s->area_ratio);
  double la = s->la_ls * s->length_cm + s->la_ds * ds;
  double open = 1.0 / s->area_ratio; /* A0/As */
  double kv = 32.0 * (la / d0) * open * open;
  /* CGS coefficients, then dyn/cm^2 -> mmHg. */
  double rv = mu_poise * kv / (2.0 * VS_PI * r0 * r0 * r0);
  double bt = s->kt * rho_g_cm3 / (2.0 * a0_cm2 * a0_cm2) * (open - 1.0) *
              (open - 1.0);
  double lu = s->ku * rho_g_cm3 * s->length_cm / a0_cm2;
  if (r) *r = rv / VS_DYN_CM2_PER_MMHG;
  if (b) *b = bt / VS_DYN_CM2_PER_MMHG;
  if (l) *l = lu / VS_DYN_CM2_PER_MMHG;
}

double vs_stenosis_pressure_drop(const vs_stenosis *s, double mu_poise,
                                 double rho_g_cm3, double a0_cm2, double q) {
  double r, b;
  vs_stenosis_coefficients(s, mu_poise, rho_g_cm3, a0_cm2, &r, &b, NULL);
  return r * q + b * fabs(q) * q;
}
