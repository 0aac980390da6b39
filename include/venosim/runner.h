/**
 * @file runner.h
 * @brief Runs many cases in parallel and hands each result to the writer.
 *
 * OpenMP threads take runs dynamically; every run owns its SUNDIALS context,
 * vectors and solver memory, so a run depends only on its own inputs and the
 * results do not depend on the number of threads. Finished runs go to the
 * writer one at a time (HDF5 is serialised); a failed run is recorded with
 * its reason and the others go on.
 */
#ifndef VENOSIM_RUNNER_H
#define VENOSIM_RUNNER_H

#include <stddef.h>

#include "venosim/network.h"
#include "venosim/solver.h"
#include "venosim/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const char *name;           /**< unique run name */
  const vs_network *network;  /**< validated network (borrowed, read-only) */
  vs_solver_options solver;
} vs_run_spec;

typedef enum {
  VS_PROGRESS_NONE = 0,
  VS_PROGRESS_BAR,   /**< a status line on stderr */
  VS_PROGRESS_JSONL  /**< one JSON object per finished run on stderr */
} vs_progress_kind;

typedef struct {
  int threads;                 /**< 0: all cores */
  vs_progress_kind progress;
} vs_runner_options;

/** Outcome of a batch, for the caller's table. */
typedef struct {
  size_t n_runs;
  size_t n_failed;
  vs_run_status *status;  /**< n_runs (owned) */
  double *metrics;        /**< n_runs * vs_metrics_count() (owned) */
  char **messages;        /**< n_runs failure messages or NULL (owned) */
} vs_batch_summary;

/** Run every spec; each finished run is passed to `w` (may be NULL: nothing
 *  written). Returns 0 when the batch ran (some runs may have failed: see
 *  summary->n_failed) or a negative status when writing failed. */
int vs_runner_execute(const vs_run_spec *runs, size_t n,
                      const vs_runner_options *opt, vs_writer *w,
                      vs_batch_summary *summary, char *msg, size_t msglen);

void vs_batch_summary_clear(vs_batch_summary *s);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_RUNNER_H */
