/**
 * @file stenosis.h
 * @brief Pressure loss across a stenosis or clot (PHYSICS.md 1.3).
 *
 * Young & Tsai (J Biomech 1973;6:395, 547), Seeley & Young (J Biomech
 * 1976;9:439):
 *
 *     dp = mu Kv / (2 pi r0^3) Q                          viscous
 *        + Kt rho / (2 A0^2) (A0/As - 1)^2 |Q| Q          expansion loss
 *        + Ku rho Ls / A0 dQ/dt                           inertia
 *
 *     Kv = 32 (La / D0) (A0/As)^2,   La = 0.83 Ls + 1.64 Ds
 *     Kt = 1.52, Ku = 1.2 (defaults; inputs, since these come from
 *     axisymmetric arterial plugs and iliac compressions are slit-like)
 *
 * A0 = pi r0^2 = pi D0^2/4 is the free lumen, As = pi Ds^2/4 the narrowest
 * lumen, Ls the stenosis length. svZeroDSolver's "stenosis coefficient"
 * is the expansion term alone. Check at venous scale (A0 = 2 cm^2, Ls = 3
 * cm): As/A0 = 0.2 gives 0.4 mmHg at 10 mL/s, 2.6 mmHg at 30 mL/s.
 */
#ifndef VENOSIM_STENOSIS_H
#define VENOSIM_STENOSIS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double area_ratio; /**< As/A0 in (0, 1]: lumen left */
  double length_cm;  /**< Ls, cm (> 0) */
  double kt;         /**< expansion-loss coefficient (default 1.52) */
  double ku;         /**< inertance coefficient (default 1.2) */
  double la_ls;      /**< La = la_ls Ls + la_ds Ds: default 0.83 */
  double la_ds;      /**< default 1.64 */
} vs_stenosis;

/** Young-Tsai defaults for a stenosis of the given lumen ratio and length. */
vs_stenosis vs_stenosis_young_tsai(double area_ratio, double length_cm);

/** Coefficients of dp = r Q + b |Q| Q + l dQ/dt for a stenosis in a vessel of
 *  free area a0_cm2: r (mmHg s/mL), b (mmHg s^2/mL^2), l (mmHg s^2/mL). */
void vs_stenosis_coefficients(const vs_stenosis *s, double mu_poise,
                              double rho_g_cm3, double a0_cm2, double *r,
                              double *b, double *l);

/** Steady pressure drop (mmHg) at flow q: r q + b |q| q. */
double vs_stenosis_pressure_drop(const vs_stenosis *s, double mu_poise,
                                 double rho_g_cm3, double a0_cm2, double q);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_STENOSIS_H */
