/**
 * @file segment.h
 * @brief Viscous resistance and inertance of a vein segment (PHYSICS.md 1.2).
 *
 * A link between two compartments carries the flow Q (mL/s) of one segment
 * of length l (cm). For a circular lumen of area A (cm^2):
 *
 *     R = 8 mu l / (pi r^4) = 8 pi mu l / A^2      (Poiseuille)
 *     L = rho l / A                                (inertance, flat profile)
 *
 * mu in poise, rho in g/cm^3; results converted to mmHg s/mL and
 * mmHg s^2/mL. Open iliofemoral veins are almost resistance-free: about
 * 0.006 mmHg across a common iliac vein at 5 mL/s.
 *
 * A collapsible segment follows its current area A = alpha A0. Distended
 * (alpha >= 1) the lumen stays circular and R = R0 alpha^-2. Collapsing
 * (alpha < 1) the lumen flattens into an ellipse of semi-axes a, b whose
 * perimeter stays about constant, a + b = 2 r0 (Ramanujan's perimeter to
 * first order), so ab = r0^2 alpha and the elliptic Poiseuille resistance
 * R = 4 mu l (a^2 + b^2) / (pi a^3 b^3) becomes
 *
 *     R = R0 (2 - alpha) / alpha^3                 (alpha < 1)
 *
 * continuous with the circular law at alpha = 1, and rising like alpha^-3
 * (a slit) as the vein closes: much faster than A^-2, as observed.
 * The inertance uses the reference area (it matters only in fast transients).
 */
#ifndef VENOSIM_SEGMENT_H
#define VENOSIM_SEGMENT_H

#ifdef __cplusplus
extern "C" {
#endif

/** Poiseuille resistance (mmHg s/mL) of a circular tube of area a_cm2,
 *  length l_cm, viscosity mu_poise. */
double vs_segment_resistance(double mu_poise, double l_cm, double a_cm2);

/** Inertance (mmHg s^2/mL) of a tube of area a_cm2 and length l_cm. */
double vs_segment_inertance(double rho_g_cm3, double l_cm, double a_cm2);

/** Resistance multiplier f(alpha) = R(alpha A0) / R(A0) of a collapsible
 *  segment (alpha > 0); *df_dalpha if non-NULL. */
double vs_segment_collapse_factor(double alpha, double *df_dalpha);

/** Wall shear stress (dyn/cm^2) of Poiseuille flow Q (mL/s) in a circular
 *  lumen of radius r_cm: tau = 4 mu Q / (pi r^3). */
double vs_segment_wall_shear(double mu_poise, double q_ml_s, double r_cm);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_SEGMENT_H */
