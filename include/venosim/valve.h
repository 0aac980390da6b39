/**
 * @file valve.h
 * @brief Venous valve: a smooth form of Mynard's valve law (PHYSICS.md 1.4).
 *
 * Mynard, Davidson, Penny & Smolich, Int J Numer Meth Biomed Eng
 * 2012;28:626, model a valve by an opening state zeta in [0, 1]:
 *
 *     dzeta/dt = (1 - zeta) Kvo (dp - dp_open)    if dp > dp_open
 *     dzeta/dt =      zeta  Kvc (dp - dp_close)   if dp < dp_close
 *     A_eff = (A_max - A_min) zeta + A_min,
 *     A_max = Mst A_ann,  A_min = Mrg A_ann
 *     dp = B Q |Q| + L dQ/dt,  B = rho / (2 A_eff^2),  L = rho l_eff / A_eff
 *
 * An `if` in the right-hand side breaks BDF error control (DESIGN.md,
 * pitfalls), so venosim replaces the two ramps by softplus functions of
 * width w (mmHg), which tend to Mynard's law as w -> 0 and are infinitely
 * differentiable:
 *
 *     s_w(x) = w ln(1 + exp(x / w))
 *     dzeta/dt = Kvo (1 - zeta) s_w(dp - dp_open) - Kvc zeta s_w(dp_close - dp)
 *
 * The interval [0, 1] is invariant (the rates vanish at its ends). A
 * competent valve (Mrg = 0) would have an infinite loss when shut, so A_min
 * has a floor, `leak_floor` A_ann, that keeps B finite while letting only a
 * negligible flow through. Mrg > 0 leaks (incompetence, reflux); Mst < 1 is
 * a stenotic valve. dp is the pressure difference across the valve in its
 * forward direction (towards the heart), hydrostatic head included.
 *
 * The valve's station. A model valve often stands for more than the
 * leaflets at one point: a leg segment's valve stands for the valves along
 * the whole segment, while the segment itself may be cut into n
 * compartments (leg.h), so the link that carries the valve is 1/n of the
 * segment long. The closing drive is then taken over the station, the
 * length of vein the valve stands for, so that it does not shrink as the
 * segment is cut finer:
 *
 *     dp_v = dp + (l_station / l_link - 1) R_p Q
 *
 * with dp the link's pressure difference and R_p its Poiseuille
 * resistance. A station of 0 (the default) or equal to the link's length
 * gives Mynard's dp across the link.
 *
 * Rates: published Kvo and Kvc are heart-valve values (0.012 to 0.04
 * cm^2 dyn^-1 s^-1, i.e. 16 to 53 mmHg^-1 s^-1); none are public for veins.
 * They are inputs, calibrated so that a competent venous valve closes within
 * about 0.2 s of reverse flow (normal reflux time 0.19 to 0.21 s).
 */
#ifndef VENOSIM_VALVE_H
#define VENOSIM_VALVE_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  double kvo;           /**< opening rate Kvo, 1/(mmHg s) (> 0) */
  double kvc;           /**< closing rate Kvc, 1/(mmHg s) (> 0) */
  double dp_open_mmhg;  /**< opening threshold (default 0) */
  double dp_close_mmhg; /**< closing threshold (default 0) */
  double m_st;          /**< Mst: open area / annulus area, (0, 1] */
  double m_rg;          /**< Mrg: shut area / annulus area, [0, 1): 0 competent */
  double leak_floor;    /**< floor of A_min / A_ann for a competent valve */
  double l_eff_cm;      /**< effective length for the inertance, cm; 0:
                             no inertance (the link's flow is then
                             algebraic unless the link has its own) */
  double smoothing_mmhg;/**< softplus width w, mmHg (> 0) */
  double station_length_cm; /**< length of vein the valve stands for, cm;
                                 0: its link's own length (above) */
} vs_valve;

/** Defaults: Kvo = Kvc = 20 /(mmHg s), thresholds 0, Mst = 1, Mrg = 0,
 *  leak floor 1e-4, l_eff 1 cm, smoothing 0.1 mmHg, station 0 (the
 *  link's length). */
vs_valve vs_valve_default(void);

/** Checks the parameters; 0 or VS_EINVAL with the reason in msg. */
int vs_valve_validate(const vs_valve *v, char *msg, unsigned long msglen);

/** dzeta/dt at pressure difference dp (mmHg) and opening zeta; the partial
 *  derivatives with respect to dp and zeta if non-NULL. */
double vs_valve_rate(const vs_valve *v, double dp, double zeta,
                     double *d_dp, double *d_zeta);

/** Effective area (cm^2) at opening zeta (clamped to [0, 1]) for an annulus
 *  of a_ann_cm2; dA/dzeta if non-NULL (0 outside [0, 1]). */
double vs_valve_area(const vs_valve *v, double a_ann_cm2, double zeta,
                     double *da_dzeta);

/** Loss coefficient B = rho / (2 A^2) (mmHg s^2/mL^2) and inertance
 *  L = rho l_eff / A (mmHg s^2/mL) at effective area a_cm2; their
 *  derivatives with respect to A if non-NULL. */
void vs_valve_coefficients(const vs_valve *v, double rho_g_cm3, double a_cm2,
                           double *b, double *l, double *db_da,
                           double *dl_da);

/** Softplus s_w(x) = w ln(1 + exp(x/w)), overflow-safe; s' if non-NULL. */
double vs_softplus(double x, double w, double *ds_dx);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_VALVE_H */
