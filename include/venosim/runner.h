/**
 * @file runner.h
 * @brief Runs many cases in parallel and hands each result to the writer.
 *
 * OpenMP threads take runs dynamically; every run owns its SUNDIALS context,
 * vectors and solver memory, so a run depends only on its own inputs and the
 * results do not depend on the number of threads. Runs come from a run
 * source that builds each one when a thread takes it and frees it after the
 * run, so memory does not grow with the number of runs. Each run spills its
 * samples beyond VS_SAMPLE_MEMORY_BYTES per series to an unnamed file in
 * $TMPDIR (result.h), so memory does not grow with a run's length either (a
 * run whose samples cannot be spilled, on a full disk, fails with the
 * reason). Finished runs go to the writer (writer.h), which stores them in
 * run order whatever order they finish in; a failed run is recorded with
 * its reason and the others go on.
 *
 * Several processes (MPI ranks) share a batch by run index: process `rank`
 * of `n_ranks` computes the runs i with i % n_ranks == rank. Runs the writer
 * already holds (an interrupted session taken up with resume) are skipped.
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

/** A run given in full (vs_runner_execute). */
typedef struct {
  const char *name;           /**< unique run name */
  const vs_network *network;  /**< validated network (borrowed, read-only) */
  vs_solver_options solver;
} vs_run_spec;

/** One run as a run source hands it out. */
typedef struct {
  const char *name;           /**< run name (the source's storage) */
  const vs_network *network;  /**< validated network */
  vs_solver_options solver;
  const double *inputs;       /**< the source's n_inputs values, or NULL */
  void *handle;               /**< the source's, for release */
} vs_run_job;

/** Where runs come from. acquire and release are called from several
 *  threads at once, each with its own job. */
typedef struct {
  size_t n_runs;
  size_t n_inputs; /**< values per run that lead its summary row (a sweep's
                        varied inputs); the metrics follow them */
  /** Build run `index` into *job. On error fill msg (the run is recorded
   *  as failed with it) and set job->name if known. */
  int (*acquire)(void *user, size_t index, vs_run_job *job, char *msg,
                 size_t msglen);
  /** Free what acquire made (also after a failed acquire). */
  void (*release)(void *user, vs_run_job *job);
  void *user;
} vs_run_source;

typedef enum {
  VS_PROGRESS_NONE = 0,
  VS_PROGRESS_BAR,   /**< a status line on stderr */
  VS_PROGRESS_JSONL  /**< one JSON object on stderr per run, once the run is
                          safe in the results file */
} vs_progress_kind;

typedef struct {
  int threads;                 /**< 0: all cores */
  vs_progress_kind progress;
  int rank, n_ranks;           /**< this process's share (0 and 0 or 1: all) */
  int no_metrics;              /**< leave vs_batch_summary.metrics NULL: for
                                    big batches whose metrics the writer
                                    holds anyway */
} vs_runner_options;

/** Outcome of a batch, for the caller's table. Runs of other ranks read as
 *  VS_RUN_PENDING with NaN metrics. */
typedef struct {
  size_t n_runs;
  size_t n_failed;        /**< failed runs among this process's */
  size_t n_resumed;       /**< runs the writer already held */
  size_t n_computed;      /**< runs computed by this process */
  vs_run_status *status;  /**< n_runs (owned) */
  double *metrics;        /**< n_runs * vs_metrics_count() (owned), or NULL
                               with no_metrics */
  char **messages;        /**< n_runs failure messages or NULL (owned) */
} vs_batch_summary;

/** Run every run of `src` that is this process's and not yet in `w` (w may
 *  be NULL: nothing written, nothing skipped). Returns 0 when the batch ran
 *  (some runs may have failed: see summary->n_failed) or a negative status
 *  when writing failed (computing stops). */
int vs_runner_run(const vs_run_source *src, const vs_runner_options *opt,
                  vs_writer *w, vs_batch_summary *summary, char *msg,
                  size_t msglen);

/** A run source over an array of n specs (no varied inputs), which must
 *  outlive it. */
void vs_runner_spec_source(const vs_run_spec *runs, size_t n,
                           vs_run_source *src);

/** vs_runner_run over an array of specs (no varied inputs). */
int vs_runner_execute(const vs_run_spec *runs, size_t n,
                      const vs_runner_options *opt, vs_writer *w,
                      vs_batch_summary *summary, char *msg, size_t msglen);

void vs_batch_summary_clear(vs_batch_summary *s);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_RUNNER_H */
