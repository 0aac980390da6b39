/**
 * @file wall.h
 * @brief Pressure-volume law of a compartment's wall (PHYSICS.md 1.1).
 *
 * A compartment's state is its volume V (mL). Its pressure is
 *
 *     p = p_ext(t) + p_tm(V)
 *
 * with the transmural pressure p_tm given by one of two wall laws.
 *
 * Linear compliance (rigid-ish vessels, lumped beds, verification):
 *
 *     p_tm = (V - V0) / C                     C in mL/mmHg, V0 in mL
 *
 * Collapsible vein, Shapiro's tube law (Shapiro, J Biomech Eng 1977;99:126),
 * as used for veins by Mueller & Toro (Int J Numer Meth Biomed Eng 2014):
 *
 *     p_tm = K (alpha^m - alpha^n),   alpha = A / A0 = V / (A0 l)
 *     m = 10, n = -3/2 (defaults)
 *     dp_tm/dV = K (m alpha^(m-1) - n alpha^(n-1)) / (A0 l)
 *
 * A thin vein buckles far more easily than it distends, so venosim lets the
 * two branches have their own stiffness, Kd for distension and Kc for
 * collapse, in one smooth law that is Shapiro's when Kd = Kc = K:
 *
 *     p_tm = Kd (alpha^m - 1) - Kc (alpha^n - 1)
 *
 * K (mmHg) scales with wall stiffness, K ~ E/(12(1-nu^2)) (h0/R0)^3. No
 * reliable venous E is public: K is an input (default and range in the case
 * schema), calibrated to calf volume data and swept. Compliance per unit
 * length at alpha = 1 is A0/((m - n) K) = A0/(11.5 K). As alpha -> 0 the law
 * gives p_tm -> -infinity, so a collapsible compartment's volume stays
 * positive under any finite load.
 */
#ifndef VENOSIM_WALL_H
#define VENOSIM_WALL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  VS_WALL_LINEAR = 0,
  VS_WALL_TUBE_LAW
} vs_wall_kind;

typedef struct {
  vs_wall_kind kind;
  /* linear */
  double compliance_ml_mmhg; /**< C, mL/mmHg (> 0) */
  double v0_ml;              /**< unstressed volume V0, mL (>= 0) */
  /* tube law */
  double k_mmhg;    /**< stiffness K (distension, Kd), mmHg (> 0) */
  double k_collapse_mmhg; /**< collapse stiffness Kc, mmHg (> 0); equal
                               to k_mmhg for Shapiro's law */
  double area0_cm2; /**< reference area A0, cm^2 (> 0) */
  double length_cm; /**< compartment length l, cm (> 0) */
  double m;         /**< distension exponent (default 10) */
  double n;         /**< collapse exponent (default -1.5) */
} vs_wall;

/** A linear wall. */
vs_wall vs_wall_linear(double compliance_ml_mmhg, double v0_ml);
/** A Shapiro tube-law wall with the default exponents m = 10, n = -3/2 and
 *  Kc = Kd = k_mmhg. */
vs_wall vs_wall_tube_law(double k_mmhg, double area0_cm2, double length_cm);

/** Transmural pressure (mmHg) at volume v_ml; *dp_dv (mmHg/mL) if non-NULL.
 *  For the tube law v_ml must be > 0. */
double vs_wall_pressure(const vs_wall *w, double v_ml, double *dp_dv);

/** Volume at which the transmural pressure equals p_tm (the inverse law;
 *  Newton on log alpha for the tube law). Returns 0 and sets *v_ml, or
 *  VS_EINVAL if the wall is invalid. */
int vs_wall_volume(const vs_wall *w, double p_tm_mmhg, double *v_ml);

/** Reference volume: V0 for a linear wall, A0 l for the tube law. */
double vs_wall_reference_volume(const vs_wall *w);

/** Checks the parameters; returns 0 or VS_EINVAL with a reason in msg. */
int vs_wall_validate(const vs_wall *w, char *msg, unsigned long msglen);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_WALL_H */
