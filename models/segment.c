/* Resistance, inertance and wall shear of a vein segment (segment.h). */
#include "venosim/segment.h"

#include "venosim/units.h"

double vs_segment_resistance(double mu_poise, double l_cm, double a_cm2) {
  /* 8 pi mu l / A^2 in dyn s/cm^5, converted to mmHg s/mL. */
  return 8.0 * VS_PI * mu_poise * l_cm / (a_cm2 * a_cm2) /
         VS_DYN_CM2_PER_MMHG;
}

double vs_segment_inertance(double rho_g_cm3, double l_cm, double a_cm2) {
  return rho_g_cm3 * l_cm / a_cm2 / VS_DYN_CM2_PER_MMHG;
}

double vs_segment_collapse_factor(double alpha, double *df_dalpha) {
  if (alpha >= 1.0) {
    /* Circular lumen: R ~ A^-2. */
    if (df_dalpha) *df_dalpha = -2.0 / (alpha * alpha * alpha);
    return 1.0 / (alpha * alpha);
  }
  /* Ellipse of fixed a + b: R/R0 = (2 - alpha) / alpha^3. */
  double a3 = alpha * alpha * alpha;
  if (df_dalpha) *df_dalpha = (-alpha - 3.0 * (2.0 - alpha)) / (a3 * alpha);
  return (2.0 - alpha) / a3;
}

double vs_segment_wall_shear(double mu_poise, double q_ml_s, double r_cm) {
  return 4.0 * mu_poise * q_ml_s / (VS_PI * r_cm * r_cm * r_cm);
}
