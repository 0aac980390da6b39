/* The assembled ODE system's storage, shared by system.c and integrator.c. */
#ifndef VENOSIM_SYSTEM_INTERNAL_H
#define VENOSIM_SYSTEM_INTERNAL_H

#include <stddef.h>

#include "venosim/solver.h"

typedef enum {
  VS_STATE_VOLUME = 0,      /* V, mL */
  VS_STATE_FLOW,            /* Q, mL/s */
  VS_STATE_BOUNDARY_VOLUME, /* W, mL */
  VS_STATE_VALVE            /* zeta, 1 */
} vs_state_kind;

/* A link's coefficients, fixed at assembly. */
typedef struct {
  int node[2];        /* from, to: node indices */
  int comp[2];        /* the same as compartment indices, or -1 */
  double height[2];   /* cm */
  double r_const;     /* given + stenosis viscous resistance, mmHg s/mL */
  const vs_waveform *r_wave; /* given resistance in time, or NULL */
  double r_pois0;     /* Poiseuille resistance at the reference area */
  double b;           /* stenosis expansion loss, mmHg s^2/mL^2 */
  double l;           /* total inertance, mmHg s^2/mL */
  int collapsible;    /* r_pois0 scales with the ends' area ratio */
  int tube_end[2];    /* which ends are tube-law compartments */
  double vref[2];     /* their reference volumes A0 l, mL */
  int n_tube_ends;
  int state;          /* index of Q in y, or -1 (algebraic flow) */
  const vs_valve *valve; /* the link's valve, or NULL */
  double a_ann;       /* valve annulus area, cm^2 */
  int zeta;           /* index of the valve opening in y, or -1 */
  double station_extra; /* the valve's station length over the link's,
                           less 1: the share of the link's Poiseuille drop
                           added to the valve's drive (0: none) */
  int boundary;       /* index of W in y, or -1 (interior link) */
  double inflow_sign; /* +1 if Q > 0 enters the network, -1 if it leaves */
} vs_link_model;

typedef enum { VS_JAC_PATTERN = 0, VS_JAC_VALUES } vs_jac_mode;

typedef struct {
  vs_jac_mode mode;
  size_t count;       /* calls so far in this pass */
  size_t *rows, *cols;/* PATTERN: coordinates of each call */
  const size_t *slot; /* VALUES: call -> index into vals */
  double *vals;
} vs_jac_acc;

/* One time-dependent input: its waveform and where its value goes. */
typedef struct {
  const vs_waveform *w;
  double *out;
  int group;   /* its knot group, or -1: a formula or a table of its own */
  size_t hint; /* its last table interval (vs_waveform_eval_hint) */
} vs_forcing_slot;

/* Tables over the same knots (every input of a leg run): t is located
 * among the knots once for all of them. */
typedef struct {
  const vs_waveform *knots; /* the first member; its knots are the group's */
  size_t hint;
  vs_wave_place at;         /* where the last t fell */
} vs_knot_group;

/* The forcing at one time: every waveform of the network evaluated once.
 * CVODE evaluates the right-hand side several times at the same t (each
 * Newton iteration of a step, the Jacobian, the output sample), so the
 * values are kept until t changes. Constant waveforms are evaluated once,
 * when the system is built. */
typedef struct {
  double t;        /* time of the values below; NaN: none yet */
  double *p_ext;   /* external pressure of each compartment, mmHg */
  double *p_node;  /* pressure of each pressure node, mmHg */
  double *r_given; /* each link's resistance given in time (0: none) */
  double *q_src;   /* each flow source, mL/s */
  double tilt_deg; /* body tilt, degrees */
  double gh;       /* hydrostatic gradient, mmHg per cm of height */
  vs_forcing_slot *slot; /* the inputs that vary, n_slots */
  size_t n_slots;
  vs_knot_group *group;  /* n_groups */
  size_t n_groups;
} vs_forcing;

/* The state whose node pressures the system holds (p, dpdv): its time and
 * compartment volumes; valid once they hold a successful evaluation. */
typedef struct {
  int valid;
  double t;
  double *v;
} vs_pressure_memo;

struct vs_system {
  const struct vs_network *net;
  size_t n_state;
  char **state_names;
  vs_state_kind *state_kind;
  vs_link_model *links;
  size_t *src_boundary; /* W index of each flow source */
  size_t n_valves;
  size_t *valve_link;   /* link index of each valve, in link order */
  /* Jacobian in compressed sparse columns. */
  size_t nnz;
  size_t *jac_slot;
  size_t *jac_colptr; /* n_state + 1 */
  size_t *jac_rowidx; /* nnz */
  double *jac_vals;   /* nnz, scratch */
  /* Scratch for one evaluation (a system serves one thread). */
  double *p, *dpdv, *q, *dqdt;
  double *dp; /* each valve's closing drive (valve.h: its station), mmHg */
  vs_forcing *forcing; /* cache of the forcing at the last time asked */
  vs_pressure_memo *pressures_of; /* the state p and dpdv belong to */
  /* Every knot of the non-periodic tables, sorted, without repeats: the
   * next breakpoint is one binary search away. Periodic tables (if any)
   * are asked one by one. */
  double *breaks;
  size_t n_breaks;
  int periodic_tables;
};

/* Jacobian values in CSC order (jac_colptr / jac_rowidx) into vals[nnz]. */
int vs_system_jacobian_values(const vs_system *sys, double t, const double *y,
                              double *vals);

#endif /* VENOSIM_SYSTEM_INTERNAL_H */
