/**
 * @file solver.h
 * @brief The ODE system of a network and its integration with CVODE.
 *
 * State vector y (DESIGN.md: volumes, flows):
 *
 *     [ V_c  for each compartment c        mL
 *       Q_k  for each inertial link k      mL/s   (L_k > 0)
 *       zeta for each valve                1      (opening, valve.h)
 *       W_b  for each boundary branch b    mL     (cumulative inflow) ]
 *
 *     dV_c/dt = sum of link flows into c - out of c + sources into c
 *     dQ_k/dt = (dp_eff - R Q - B |Q| Q) / L           (network.h)
 *     dzeta/dt = smooth Mynard rate of the valve's pressure difference
 *     dW_b/dt = flow entering the network through b
 *
 * Boundary branches are links touching a pressure node and flow sources;
 * W makes sum(V) - sum(W) an exact linear invariant of the discrete BDF
 * solution (mass balance to round-off) and gives the volume each boundary
 * has delivered. The Jacobian is analytic and assembled once through a fixed
 * sparsity pattern, then copied into a dense or a compressed-sparse-column
 * matrix: both linear solvers see bit-identical values.
 *
 * CVODE: BDF, Newton, dense LU for small systems and KLU for large ones
 * (automatic above `dense_max_states`, or forced); per-kind absolute
 * tolerances; maximum order and step; a Jacobian at most
 * VS_JAC_EVAL_STEPS_VALVES steps old in networks with valves; stop times
 * at every breakpoint of the forcing; output on a fixed grid. The dense
 * LU and the vector arithmetic are SUNDIALS' own algorithms compiled with
 * venosim (integrator.c: Debian's SUNDIALS is built without
 * optimisation), with bit-identical results.
 */
#ifndef VENOSIM_SOLVER_H
#define VENOSIM_SOLVER_H

#include <stddef.h>

#include "venosim/network.h"
#include "venosim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  VS_LINSOL_AUTO = 0,
  VS_LINSOL_DENSE,
  VS_LINSOL_KLU
} vs_linsol_kind;

typedef struct {
  double t_end_s;         /**< end of the simulation, s (> 0) */
  double output_dt_s;     /**< output grid spacing, s (> 0) */
  double rtol;            /**< relative tolerance */
  double atol_volume_ml;  /**< absolute tolerance on volumes, mL */
  double atol_flow_ml_s;  /**< absolute tolerance on flows, mL/s */
  double atol_valve;      /**< absolute tolerance on valve openings, 1 */
  double max_step_s;      /**< largest step, s (0: no limit) */
  double initial_step_s;  /**< first step, s (0: CVODE's estimate) */
  int max_order;          /**< BDF order limit, 1..5 */
  long max_steps;         /**< steps allowed between two outputs */
  vs_linsol_kind linear_solver;
  long dense_max_states;  /**< AUTO picks dense up to this many states */
  int stability_limit_detection; /**< CVODE's BDF stability limit
                                      detection (1: on); leg runs turn it
                                      on (leg.h) */
  long jac_eval_steps;    /**< most steps between two Jacobian evaluations;
                               0: automatic, VS_JAC_EVAL_STEPS_VALVES for a
                               network with valves, CVODE's own default
                               (51) otherwise */
  double nonlin_conv_coef; /**< CVODE's safety factor on the Newton
                                iteration's convergence test, (0, 1];
                                0: CVODE's 0.1. Leg runs take
                                VS_LEG_NONLIN_CONV_COEF (leg.h) */
} vs_solver_options;

/** Automatic Jacobian age limit of a network with valves, in steps. A
 *  valve's loss changes by orders of magnitude as it opens or shuts, so
 *  its Jacobian goes stale within a few steps; Newton's iteration then
 *  fails to converge and CVODE cuts the step. Refreshing the Jacobian
 *  every 10 steps instead of CVODE's 51 takes 15 to 23 % fewer steps
 *  for the leg runs of the demonstration (the same results within the
 *  integration tolerance). Without valves it only adds Jacobians and
 *  factorisations (the svZeroDSolver chain: 12 % more work). */
#define VS_JAC_EVAL_STEPS_VALVES 10

/** Defaults: t_end 10 s, output 0.01 s, rtol 1e-6, atol 1e-6 mL,
 *  1e-6 mL/s and 1e-6 (valve opening), max_step 0.05 s, order 5, 100000 steps, AUTO with dense up to
 *  100 states, no stability limit detection, automatic Jacobian age,
 *  CVODE's Newton convergence test. */
vs_solver_options vs_solver_options_default(void);
/** Checks ranges; 0 or VS_EINVAL with the offending option in msg. */
int vs_solver_options_validate(const vs_solver_options *o, char *msg,
                               size_t msglen);

/** The assembled ODE system (opaque). */
typedef struct vs_system vs_system;

/** Build the system of a validated network (the network must outlive it
 *  and not change while the system is used: the system keeps the forcing
 *  of the last time it was asked about, and the merged breakpoints). */
int vs_system_create(const vs_network *net, vs_system **sys, char *msg,
                     size_t msglen);
void vs_system_free(vs_system **sys);

size_t vs_system_state_count(const vs_system *sys);
/** Number of structural non-zeros of the Jacobian (diagonal included). */
size_t vs_system_jacobian_nonzeros(const vs_system *sys);

/** Initial state from each compartment's initial pressure at t. */
int vs_system_initial_state(const vs_system *sys, double t, double *y);
/** ydot = f(t, y). Returns 0, or VS_ENONFINITE for a non-physical state
 *  (a tube-law volume <= 0, a non-finite value). */
int vs_system_rhs(const vs_system *sys, double t, const double *y,
                  double *ydot);
/** Jacobian df/dy at (t, y), written densely into jac (n*n, column-major:
 *  jac[i + j*n] = df_i/dy_j). For tests and small systems. */
int vs_system_jacobian_dense(const vs_system *sys, double t, const double *y,
                             double *jac);
/** Pressures (mmHg) of all nodes: compartments, then pressure nodes. */
int vs_system_pressures(const vs_system *sys, double t, const double *y,
                        double *p);
/** Flows (mL/s) of all branches: links, then flow sources. */
int vs_system_flows(const vs_system *sys, double t, const double *y,
                    double *q);
/** Next forcing breakpoint strictly after t (1 if any). */
int vs_system_next_breakpoint(const vs_system *sys, double t, double *t_next);
/** Name of state i, e.g. "V[calf]", "Q[femoral]", "W[inflow]". */
const char *vs_system_state_name(const vs_system *sys, size_t i);

/** Integrate from t = 0 to t_end and fill `res`: time; series "pressure"
 *  (nodes), "volume" (compartments), "flow" (branches), "boundary_volume"
 *  (cumulative inflow per boundary branch), "valve_opening" (every valve,
 *  when there are valves); events; statistics; status.
 *  The samples stay in memory (res->time, series data) unless res was set
 *  to spill them first (vs_result_set_spill; result.h).
 *  A solver failure is recorded in res (status VS_RUN_FAILED, message) and
 *  also returned (VS_ESOLVER / VS_ENONFINITE; VS_EIO: samples that could
 *  not be spilled); the samples taken before the failure are kept. */
int vs_integrate(const vs_system *sys, const vs_solver_options *opt,
                 vs_run_result *res);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_SOLVER_H */
