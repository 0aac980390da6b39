/**
 * @file network.h
 * @brief The lumped network: compartments, pressure nodes, links, sources.
 *
 * A network is the description a run is built from; it knows nothing of the
 * ODE solver or of files (DESIGN.md data flow: run --build--> network).
 *
 * - A compartment holds a volume of blood (the state V, mL) behind a wall
 *   law (wall.h), at a height (cm, for hydrostatics), under an external
 *   pressure that may vary in time. Its pressure is p = p_ext(t) + p_tm(V).
 * - A pressure node is a boundary whose pressure is prescribed in time
 *   (right atrium, a reservoir, the far end of an outflow resistance).
 * - A link joins two nodes (compartments or pressure nodes, not two pressure
 *   nodes) and carries the flow Q (mL/s, positive from `from` to `to`):
 *
 *       L dQ/dt = dp_eff - R(alpha) Q - B |Q| Q
 *       dp_eff  = p_from - p_to + rho g sin(tilt(t)) (z_from - z_to)
 *
 *   R is a given resistance, plus Poiseuille's from a diameter and length
 *   (following the current area of collapsible ends, segment.h), plus the
 *   viscous Young-Tsai term of a stenosis; B is the stenosis expansion loss
 *   (stenosis.h); L is a given inertance plus the geometric and stenosis
 *   inertances. A link with L > 0 carries Q as a state; with L = 0 the flow
 *   is the algebraic root of dp_eff = R Q + B |Q| Q. The given resistance
 *   may follow a waveform (a microvascular bed dilating in exercise).
 * - A link may hold a venous valve (valve.h) whose annulus is the link's
 *   diameter: its opening zeta becomes a state, and its loss B(zeta) and
 *   inertance L(zeta) add to the link's, so a valved link is always
 *   inertial. Forward is from `from` to `to`.
 * - A flow source injects a prescribed flow (mL/s, a waveform) into a
 *   compartment (negative: withdraws).
 *
 * Compartments and pressure nodes share one namespace ("nodes"); links and
 * flow sources share another. The tilt is the body's angle from horizontal
 * in degrees (90 = upright: heights act fully; 0 = supine).
 */
#ifndef VENOSIM_NETWORK_H
#define VENOSIM_NETWORK_H

#include <stddef.h>

#include "venosim/stenosis.h"
#include "venosim/valve.h"
#include "venosim/wall.h"
#include "venosim/waveform.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vs_network vs_network;

typedef struct {
  const char *name;     /**< unique node name */
  double height_cm;     /**< height above the floor when upright, cm */
  vs_wall wall;         /**< pressure-volume law */
  vs_waveform p_ext;    /**< external pressure, mmHg (copied) */
  double p_init_mmhg;   /**< initial (absolute) pressure, mmHg */
} vs_compartment_spec;

typedef struct {
  const char *name;     /**< unique node name */
  double height_cm;     /**< height, cm */
  vs_waveform pressure; /**< prescribed pressure, mmHg (copied) */
} vs_pressure_node_spec;

typedef struct {
  const char *name;              /**< unique link/source name */
  const char *from;              /**< node name; Q > 0 flows from -> to */
  const char *to;                /**< node name */
  double resistance_mmhg_s_ml;   /**< given resistance (>= 0) */
  double inertance_mmhg_s2_ml;   /**< given inertance (>= 0) */
  int poiseuille;                /**< add 8 pi mu l / A^2 from the geometry */
  int geometric_inertance;       /**< add rho l / A0 from the geometry */
  double diameter_cm;            /**< free lumen diameter D0 (geometry) */
  double length_cm;              /**< segment length (geometry) */
  int collapsible;               /**< Poiseuille R follows the mean area
                                      ratio of the tube-law end compartments */
  int has_stenosis;              /**< add a Young-Tsai stenosis */
  vs_stenosis stenosis;          /**< needs diameter_cm for A0 */
  int resistance_varies;         /**< the given resistance is
                                      resistance_wave(t), not the constant */
  vs_waveform resistance_wave;   /**< mmHg s/mL, >= 0 (copied) */
  int has_valve;                 /**< a valve sits on this link */
  vs_valve valve;                /**< needs diameter_cm for the annulus */
  unsigned n_parallel;           /**< identical vessels side by side (paired
                                      tibial veins): geometric resistance
                                      and inertance divide by it, valve
                                      annulus and stenosis lumen multiply;
                                      0 or 1: one vessel */
} vs_link_spec;

typedef struct {
  const char *name;        /**< unique link/source name */
  const char *compartment; /**< node receiving the flow */
  vs_waveform flow;        /**< mL/s into the compartment (copied) */
} vs_flow_source_spec;

/** A zeroed link spec: no resistance, no inertance, no geometry, no
 *  stenosis, no valve (but their defaults filled in, ready to switch on). */
vs_link_spec vs_link_spec_default(void);

int vs_network_create(vs_network **net);
void vs_network_free(vs_network **net);

/** Blood properties: density g/cm^3, viscosity mPa s. */
int vs_network_set_blood(vs_network *net, double density_g_cm3,
                         double viscosity_mpa_s);
/** Blood viscosity, mPa s. */
double vs_network_viscosity_mpa_s(const vs_network *net);
/** Body tilt, degrees from horizontal (copied). Default: 90 (upright). */
int vs_network_set_tilt(vs_network *net, const vs_waveform *tilt_deg);

/** Each add copies the spec and returns the new element's index (>= 0) or a
 *  negative status (VS_EINVAL for a duplicate or empty name). Names are
 *  resolved by vs_network_validate, so elements may be added in any order. */
int vs_network_add_compartment(vs_network *net, const vs_compartment_spec *s);
int vs_network_add_pressure_node(vs_network *net,
                                 const vs_pressure_node_spec *s);
int vs_network_add_link(vs_network *net, const vs_link_spec *s);
int vs_network_add_flow_source(vs_network *net, const vs_flow_source_spec *s);

/** Label a window [t_start, t_end] of the forcing timeline ("standing",
 *  "walking"): runs report these phases with their results, and the
 *  clinical measurements are taken in them. Returns the index or a
 *  negative status. */
int vs_network_add_phase(vs_network *net, const char *name, double t_start_s,
                         double t_end_s);
size_t vs_network_phase_count(const vs_network *net);
/** Phase i: its name (owned by the network) and window. */
const char *vs_network_phase(const vs_network *net, size_t i,
                             double *t_start_s, double *t_end_s);

/** Mark the run's measurement site: a diseased or treated segment's
 *  effective lumen diameter (cm; 0: occluded) and the link that drains it
 *  (NULL when an occlusion removed it). Runs report it with their results
 *  (result.h) and the treated-site metrics are taken there. The link is
 *  resolved by name at vs_network_validate. */
int vs_network_set_site(vs_network *net, const char *link,
                        double lumen_diameter_cm);
/** 1 if the network has a site: its link name (NULL if none) into *link
 *  and its lumen diameter (cm). */
int vs_network_site(const vs_network *net, const char **link,
                    double *lumen_diameter_cm);

/** Resolves names and checks every parameter and the topology (every link
 *  end exists, no link between two pressure nodes, every compartment
 *  reachable from a pressure node or flow source through links). Returns 0
 *  or VS_ENETWORK with the first problem, naming the element, in msg. */
int vs_network_validate(vs_network *net, char *msg, size_t msglen);

size_t vs_network_compartment_count(const vs_network *net);
size_t vs_network_pressure_node_count(const vs_network *net);
size_t vs_network_link_count(const vs_network *net);
size_t vs_network_flow_source_count(const vs_network *net);

/** Node index by name: compartments are 0..nc-1, pressure nodes nc..; -1 if
 *  absent. */
int vs_network_find_node(const vs_network *net, const char *name);
/** Link index by name; -1 if absent. */
int vs_network_find_link(const vs_network *net, const char *name);

/** Name of node i (compartments first, then pressure nodes). */
const char *vs_network_node_name(const vs_network *net, size_t i);
/** Name of link or flow source i (links first, then sources). */
const char *vs_network_branch_name(const vs_network *net, size_t i);

/** Read access to the stored specs (name strings owned by the network). */
const vs_compartment_spec *vs_network_compartment(const vs_network *net,
                                                  size_t i);
const vs_pressure_node_spec *vs_network_pressure_node(const vs_network *net,
                                                      size_t i);
const vs_link_spec *vs_network_link(const vs_network *net, size_t i);
const vs_flow_source_spec *vs_network_flow_source(const vs_network *net,
                                                  size_t i);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_NETWORK_H */
