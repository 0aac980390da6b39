/**
 * @file svzerod.h
 * @brief Import of svZeroDSolver (SimVascular) models: JSON in, a validated
 *        venosim network and solver options out, and the equivalent case
 *        file (YAML) for `venosim run`.
 *
 * Supported blocks (svZeroDSolver's documented equations, CGS units unless
 * the options say otherwise):
 *
 *   BloodVessel (R_poiseuille R, C, L, stenosis_coefficient S; each default 0)
 *
 *       P_in - P_out - (R + S|Q_in|) Q_in - L dQ_out/dt = 0
 *       Q_in - Q_out - C d/dt (P_in - (R + S|Q_in|) Q_in) = 0
 *
 *     i.e. the resistor and the stenosis come first, the capacitor sits
 *     between them and the inductor, grounded at pressure 0:
 *
 *       P_in --R--S--+--L-- P_out        P_c = P_in - (R + S|Q_in|) Q_in
 *                    C                   C dP_c/dt = Q_in - Q_out
 *                    |                   L dQ_out/dt = P_c - P_out
 *                   gnd
 *
 *   Junctions: NORMAL_JUNCTION (also "internal_junction"): one massless node,
 *     equal pressures, flows conserved; BloodVesselJunction: one inlet, each
 *     outlet i through R_i, L_i, S_i (junction_values lists); resistive_junction:
 *     every inlet and outlet through its own R (list: inlets, then outlets)
 *     to a massless centre node.
 *   Boundary conditions (bc_values): FLOW (Q, t: inflow at a vessel inlet,
 *     outflow at an outlet), PRESSURE (P, t), RESISTANCE (R, Pd[, t]):
 *     P - Pd = R Q, RCR (Rp, C, Rd, Pd[, t]): P = P_c + Rp Q,
 *     C dP_c/dt = Q - (P_c - Pd)/Rd with the capacitor grounded at 0.
 *     A time table repeats with period t[last] - t[0] (t[0] must be 0) and
 *     is linear between its points, as in svZeroDSolver.
 *   simulation_parameters: number_of_cardiac_cycles,
 *     number_of_time_pts_per_cardiac_cycle (required); steady_initial
 *     (default true), cardiac_period. The period is that of the time tables
 *     (they must agree), else cardiac_period, else 1 s. The run lasts
 *     cycles x period with one output every period / (points - 1).
 *
 * Anything else (other block types, closed-loop blocks, chambers, valves,
 * "fn" expressions, initial_condition, coupled simulations) is refused with
 * "FILE:LINE:COL: message" naming the block.
 *
 * Mapping onto venosim (exact unless stated):
 * - every capacitor (vessel C, RCR C) is a compartment with a linear wall of
 *   compliance C and unstressed volume 0, so p = V / C, as grounded at 0;
 * - elements in series through massless nodes (a vessel's L, the next
 *   vessel's R and S across a two-vessel junction, a boundary resistance)
 *   are summed into one link: the same flow passes each, so
 *   L dQ/dt = p_a - p_b - (sum R) Q - (sum S) |Q| Q holds exactly;
 * - a FLOW boundary becomes a flow source on the first compartment its flow
 *   reaches (the series elements in between only change the inlet pressure,
 *   which svZeroDSolver reports and venosim does not);
 * - a stenosis coefficient S becomes a link's expansion loss B = S through a
 *   Young-Tsai stenosis whose viscous and inertial terms are switched off
 *   (ku = la_ls = la_ds = 0) and whose kt is chosen to give B exactly;
 * - APPROXIMATION: a massless node joining three or more branches (a
 *   bifurcation) cannot be merged, and venosim has no algebraic node. It
 *   becomes a compartment of small compliance C_J = tau_J G_J, with G_J the
 *   sum over its branches of 1 / (R + S Q_scale) (Q_scale: the largest
 *   prescribed flow) and tau_J = junction_tau_fraction x period (default
 *   1e-7 of a period); with no resistance at the node, C_J = tau_J^2 / L_J
 *   (L_J: its branches' inductances in parallel). The node then relaxes to
 *   the balance of flows with the time constant tau_J (with an inductive
 *   branch it forms an overdamped pair whenever tau_J < L G_J / 4).
 *   Steady states are unchanged (dV/dt = 0 there, so flows balance exactly
 *   and the node pressure is the junction's); in transients the node stores
 *   C_J dP_J/dt, a flow error of relative order tau_J / (time scale of the
 *   signal): it falls in proportion to junction_tau_fraction (measured:
 *   2e-6 of the largest flow for the default in a pulsatile bifurcation,
 *   worst in the start-up transient). Each such node is listed in notes.
 *   Its volume is tiny, so the volume tolerance is set to 1e-6 mmHg times
 *   the smallest compliance (at least 1e-14 mL).
 * Initial state: with steady_initial (svZeroDSolver's default) every
 * compartment starts at the steady pressure of the mean boundary values
 * (Newton on the resistive network, sparse LU), else at 0. Inductive links
 * without any resistance start at zero flow (venosim sets an inertial
 * link's initial flow from its resistance).
 *
 * Results are venosim's (mmHg, mL, mL/s): compartment pressures are the
 * capacitor pressures P_c, link flows are vessel flows (named "a->b" after
 * the nodes they join). All cycles are written.
 */
#ifndef VENOSIM_SVZEROD_H
#define VENOSIM_SVZEROD_H

#include <stddef.h>

#include "venosim/network.h"
#include "venosim/solver.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Units of the numbers in the JSON file. */
typedef enum {
  VS_SVZEROD_UNITS_CGS = 0, /**< dyn/cm^2, mL/s, dyn s/cm^5, cm^5/dyn,
                                 dyn s^2/cm^5, dyn s^2/cm^8 (SimVascular) */
  VS_SVZEROD_UNITS_MMHG     /**< mmHg, mL/s, mmHg s/mL, mL/mmHg, ... */
} vs_svzerod_units;

typedef struct {
  vs_svzerod_units units;
  double junction_tau_fraction; /**< tau_J / period of bifurcation nodes
                                     (> 0, default 1e-7) */
  int steady_initial;           /**< -1: as the file says (default true);
                                     0 or 1: override */
} vs_svzerod_options;

/** Defaults: CGS, junction_tau_fraction 1e-7, steady_initial from the file. */
vs_svzerod_options vs_svzerod_options_default(void);

/** An imported model. */
typedef struct {
  char *path;            /**< file name as given (or a display name) */
  char *name;            /**< the file's stem */
  char *description;     /**< what the case shows (from the file's
                              description, with the origin) */
  char *text;            /**< the JSON verbatim */
  char *notes;           /**< one line per approximation or dropped
                              element, "" if none */
  vs_network *network;   /**< validated network (owned) */
  vs_solver_options solver;
  double period_s;       /**< cardiac period */
  long n_cycles;         /**< number_of_cardiac_cycles */
  long pts_per_cycle;    /**< number_of_time_pts_per_cardiac_cycle */
  size_t n_junction_nodes; /**< massless nodes given a small compliance */
  int steady_initial;    /**< the initial state is the mean steady state */
  double density_g_cm3;  /**< blood density used for the stenosis loss */
  double viscosity_mpa_s;
} vs_svzerod_model;

/** Read and translate a svZeroDSolver JSON file (opt NULL: defaults). On
 *  error returns VS_EIO, VS_EPARSE, VS_ESCHEMA or VS_ENETWORK, writes
 *  "FILE:LINE:COL: message" (or "FILE: message") into msg and sets *m to
 *  NULL. */
int vs_svzerod_load_file(const char *path, const vs_svzerod_options *opt,
                         vs_svzerod_model **m, char *msg, size_t msglen);

/** The same from text in memory; display_name names it in messages. */
int vs_svzerod_load_string(const char *text, size_t len,
                           const char *display_name,
                           const vs_svzerod_options *opt,
                           vs_svzerod_model **m, char *msg, size_t msglen);

void vs_svzerod_free(vs_svzerod_model **m);

/** The model as a venosim case file (YAML, malloc'd into *yaml): loaded
 *  with vs_case_load_file it builds the same network, bit for bit, and the
 *  same solver options. Returns 0 or VS_ENOMEM / VS_EINVAL. */
int vs_svzerod_emit_yaml(const vs_svzerod_model *m, char **yaml, char *msg,
                         size_t msglen);

/** vs_svzerod_emit_yaml into a file (written whole, then renamed). */
int vs_svzerod_write_yaml(const vs_svzerod_model *m, const char *path,
                          char *msg, size_t msglen);

/** 1 if path names a JSON file (ends in ".json", any case). */
int vs_svzerod_is_json_path(const char *path);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_SVZEROD_H */
