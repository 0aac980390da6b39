/**
 * @file result.h
 * @brief What one run produces: sampled series, event log, statistics,
 *        status and metrics. Plain data, shared by the solver (which fills
 *        it) and the writer (which stores it); neither knows the other.
 */
#ifndef VENOSIM_RESULT_H
#define VENOSIM_RESULT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One sampled quantity: n_samples rows x n_columns, row-major. */
typedef struct {
  char *name;           /**< dataset name: "pressure", "volume", "flow" */
  char *unit;           /**< "mmHg", "mL", "mL/s" */
  char *description;    /**< one sentence for the file's readers */
  size_t n_columns;
  char **column_names;  /**< one per column (owned) */
  double *data;         /**< n_samples * n_columns (owned) */
} vs_series;

/** A line of the event log. */
typedef struct {
  double time_s;
  char kind[32];     /**< "start", "breakpoint", "warning", "end", "fail" */
  char message[224];
} vs_event;

/** CVODE's counters and the cost of a run. */
typedef struct {
  long steps;
  long rhs_evals;
  long jac_evals;
  long lin_setups;
  long error_test_fails;
  long nonlin_iters;
  long nonlin_conv_fails;
  int last_order;
  double last_step_s;
  double wall_time_s;
  long n_states;
  long jac_nonzeros;
  char linear_solver[16]; /**< "dense" or "klu" */
} vs_solver_stats;

/** A labelled window of the run's timeline (network.h phases). */
typedef struct {
  char name[32];
  double t_start_s;
  double t_end_s;
} vs_phase;

/** The network a run was built from, as its results file describes it:
 *  where each node sits and what each link joins (diagrams draw it). All
 *  arrays owned; empty (n_nodes 0) when not filled in. */
typedef struct {
  size_t n_nodes;            /**< compartments, then pressure nodes */
  char **node_names;
  double *node_height_cm;    /**< standing height */
  size_t n_links;
  char **link_names;
  char **link_from;          /**< node names; flow > 0 from -> to */
  char **link_to;
  double *link_diameter_cm;  /**< each vessel's lumen (0: no geometry) */
  double *link_n_parallel;   /**< vessels side by side */
  double *link_valve;        /**< 1 where a valve sits, else 0 */
} vs_result_network;

/** Allocate a network table of n_nodes and n_links (zeroed, NULL names);
 *  0 or VS_ENOMEM (then *t is empty). */
int vs_result_network_alloc(vs_result_network *t, size_t n_nodes,
                            size_t n_links);
void vs_result_network_clear(vs_result_network *t);

typedef enum {
  VS_RUN_PENDING = 0,
  VS_RUN_OK = 1,
  VS_RUN_FAILED = 2
} vs_run_status;

typedef struct {
  char *name;             /**< run name (unique in a file) */
  vs_run_status status;
  char message[512];      /**< why it failed, or "" */
  size_t n_samples;
  double *time;           /**< n_samples output times, s (owned) */
  size_t n_series;
  vs_series *series;      /**< owned */
  size_t n_events, cap_events;
  vs_event *events;       /**< owned */
  vs_solver_stats stats;
  size_t n_phases;
  vs_phase *phases;       /**< the network's phases (owned) */
  vs_result_network topology; /**< what the network joins (owned) */
  char site_link[64];     /**< the link draining the network's
                               measurement site ("": none) */
  double site_lumen_mm;   /**< the site's effective lumen diameter, mm
                               (NaN: no site; 0: occluded) */
  double viscosity_mpa_s; /**< blood viscosity of the run */
  const struct vs_network *network; /**< the network the run was built
                                         from, borrowed while its metrics
                                         are taken (external pressures);
                                         NULL otherwise */
  size_t n_metrics;
  double *metrics;        /**< aligned with the metric table (NaN: n/a) */
} vs_run_result;

/** Zero-initialised result with the given name (copied). */
int vs_result_create(vs_run_result **r, const char *name);
void vs_result_free(vs_run_result **r);

/** Allocate `n_samples` rows for a new series (NaN-filled); returns it or
 *  NULL (out of memory). Column names are copied. The pointer is valid only
 *  until the next series is added (the array may move). */
vs_series *vs_result_add_series(vs_run_result *r, const char *name,
                                const char *unit, const char *description,
                                size_t n_columns, const char *const *columns);
/** Allocate the time column for n_samples (call before adding series). */
int vs_result_set_samples(vs_run_result *r, size_t n_samples);
/** Append a phase (name truncated to 31 characters). */
int vs_result_add_phase(vs_run_result *r, const char *name, double t_start_s,
                        double t_end_s);
/** Phase by name, or NULL. */
const vs_phase *vs_result_phase(const vs_run_result *r, const char *name);
/** Series by name, or NULL. */
const vs_series *vs_result_series(const vs_run_result *r, const char *name);
/** Append a formatted event (silently drops when out of memory). */
void vs_result_event(vs_run_result *r, double t_s, const char *kind,
                     const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/** Mark the run failed with a formatted message (the first one is kept). */
void vs_result_fail(vs_run_result *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_RESULT_H */
