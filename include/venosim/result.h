/**
 * @file result.h
 * @brief What one run produces: sampled series, event log, statistics,
 *        status and metrics. Plain data, shared by the solver (which fills
 *        it) and the writer (which stores it); neither knows the other.
 *
 * Where the samples live. A run samples n_samples output times; each
 * series holds n_samples rows of n_columns values.
 *
 * - In memory (the default): `vs_run_result.time` and every
 *   `vs_series.data` are whole arrays, read directly. Memory grows with
 *   the run: n_samples x (columns of every series + 1) x 8 bytes.
 * - Spilling (vs_result_set_spill, what the runner does): the time column
 *   and every series are sample stores. Rows are appended in blocks of
 *   about `block_bytes`; once a store holds more than `memory_bytes` of
 *   full blocks, its oldest full blocks go to a temporary file that has no
 *   name (created and unlinked at once: it never outlives the process).
 *   `time` and `data` are then NULL and a run's memory no longer depends
 *   on its length.
 *
 * vs_result_put_time / vs_result_put_row store samples and
 * vs_result_read_times / _rows / _column read them back, whichever the
 * kind: the writer reads rows block by block, the metrics one column at a
 * time. Rows never stored read NaN, never a plausible 0.
 */
#ifndef VENOSIM_RESULT_H
#define VENOSIM_RESULT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Rows of samples kept in blocks, spilled to a temporary file beyond a
 *  memory budget (opaque; result.c). */
typedef struct vs_sample_store vs_sample_store;

/** One sampled quantity: n_samples rows x n_columns. */
typedef struct {
  char *name;           /**< dataset name: "pressure", "volume", "flow" */
  char *unit;           /**< "mmHg", "mL", "mL/s" */
  char *description;    /**< one sentence for the file's readers */
  size_t n_columns;
  char **column_names;  /**< one per column (owned) */
  double *data;         /**< n_samples * n_columns, row-major (owned);
                             NULL when the run spills its samples */
  vs_sample_store *store; /**< the rows when the run spills (owned), else
                               NULL */
} vs_series;

/** Size of one block of rows of a sample store: large enough that a
 *  spill or a read back is one system call for many rows, small enough to
 *  be nothing next to a run's solver memory. A block holds at least one
 *  row, however wide. */
#define VS_SAMPLE_BLOCK_BYTES ((size_t)64 << 10)
/** Full blocks a spilling store keeps in memory before it writes the
 *  oldest to its file (the runner's choice): short runs never touch the
 *  disk, long ones hold about this much per series. */
#define VS_SAMPLE_MEMORY_BYTES ((size_t)1 << 20)

/** How a run spills its samples (vs_result_set_spill). */
typedef struct {
  size_t memory_bytes; /**< full blocks kept in memory per series, bytes
                            (0: only the block being filled) */
  size_t block_bytes;  /**< bytes of one block (0: VS_SAMPLE_BLOCK_BYTES) */
  const char *dir;     /**< folder of the temporary files (NULL: $TMPDIR,
                            else /tmp); copied */
} vs_spill_options;

/** Spilling with the runner's budget: VS_SAMPLE_MEMORY_BYTES per series,
 *  blocks of VS_SAMPLE_BLOCK_BYTES, files in $TMPDIR or /tmp. */
vs_spill_options vs_spill_options_default(void);

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
  double *node_length_cm;    /**< length of vein a compartment stands for
                                  (tube-law walls), else 0 */
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
  double *time;           /**< n_samples output times, s (owned); NULL
                               when the run spills its samples */
  vs_sample_store *time_store; /**< the times when spilling (owned) */
  char *spill_dir;        /**< spilling: folder of its files (owned; NULL:
                               $TMPDIR or /tmp) */
  size_t spill_memory_bytes, spill_block_bytes;
  int spill;              /**< 1: samples go to stores (set_spill) */
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

/** Fills r->topology from the network the run is built from (what
 *  vs_run_batch and vs_integrate do when it is empty). Out of memory
 *  leaves it empty, which a run does not need: VS_OK or VS_ENOMEM. */
int vs_result_describe_network(vs_run_result *r,
                               const struct vs_network *net);

/** Zero-initialised result with the given name (copied). */
int vs_result_create(vs_run_result **r, const char *name);
void vs_result_free(vs_run_result **r);

/** Make the run spill its samples (see the top of this file): call before
 *  vs_result_set_samples. o NULL: vs_spill_options_default(). 0,
 *  VS_EINVAL (samples already allocated) or VS_ENOMEM. */
int vs_result_set_spill(vs_run_result *r, const vs_spill_options *o);
/** Allocate `n_samples` rows for a new series (reading NaN until stored);
 *  returns it or NULL (out of memory). Column names are copied. The
 *  pointer is valid only until the next series is added (the array may
 *  move). */
vs_series *vs_result_add_series(vs_run_result *r, const char *name,
                                const char *unit, const char *description,
                                size_t n_columns, const char *const *columns);
/** Allocate the time column for n_samples, NaN until stored (call before
 *  adding series). */
int vs_result_set_samples(vs_run_result *r, size_t n_samples);

/** Store output time t of sample k / row k of series s (n_columns values).
 *  In memory any k < n_samples may be stored, again and again; a spilling
 *  run appends, so k must be the next row of that store (0, 1, 2, ...).
 *  Returns 0; VS_EINVAL (k out of range or out of order); VS_ENOMEM; or
 *  VS_EIO when the rows could not be spilled (temporary file not created
 *  or disk full): the run is then failed with a message naming the series,
 *  the folder and the system's reason (vs_result_fail), no further row is
 *  taken, and the rows stored before stay readable. */
int vs_result_put_time(vs_run_result *r, size_t k, double t);
int vs_result_put_row(vs_run_result *r, vs_series *s, size_t k,
                      const double *row);

/** Output times of samples first, first + step, ... (count of them) into
 *  out. Returns 0, VS_EINVAL (a sample beyond n_samples, step 0) or VS_EIO
 *  (the temporary file could not be read; errno says why). */
int vs_result_read_times(const vs_run_result *r, size_t first, size_t count,
                         size_t step, double *out);
/** Rows first, first + step, ... (count of them) of series s into out,
 *  row-major (count x n_columns). Returns as vs_result_read_times. */
int vs_result_read_rows(const vs_run_result *r, const vs_series *s,
                        size_t first, size_t count, size_t step, double *out);
/** Column j of series s, all n_samples values, into out. Returns as
 *  vs_result_read_times (VS_EINVAL: j out of range). */
int vs_result_read_column(const vs_run_result *r, const vs_series *s,
                          size_t j, double *out);
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
