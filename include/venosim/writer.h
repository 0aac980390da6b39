/**
 * @file writer.h
 * @brief HDF5 results, H5MD-style, streamed and safe against crashes.
 *
 * Layout of a results file (DESIGN.md, contracts):
 *
 *   /h5md                       H5MD root: attribute version = [1, 1];
 *     author/  (attr name)      creator/ (attrs name, version)
 *   /parameters                 attrs: venosim_version, git_commit,
 *                               sundials_version, hdf5_version, threads,
 *                               mpi_ranks, command_line, case_path, n_runs,
 *                               n_finished, complete (0 while the batch is
 *                               under way, 1 once assembled), series ("all",
 *                               "every Nth sample", "none"), fingerprint;
 *                               datasets case_file (verbatim text) and
 *                               case_resolved (every default filled in)
 *   /runs/<run>/                one group per run, in run order; attrs
 *                               status ("ok"|"failed"), message, index, name
 *     time                      (n_samples) s
 *     <series>                  (n_samples, n_columns), attrs unit,
 *                               description; <series>_columns: names
 *     events                    compound {time_s, kind, message}
 *     solver_stats              attributes: CVODE counters, wall time
 *     network/                  what the network joins (result.h): node_name,
 *                               node_height_cm, node_length_cm,
 *                               link_name, link_from,
 *                               link_to, link_diameter_cm, link_n_parallel,
 *                               link_valve
 *   /summary/                   one 1D dataset per column, one row per run,
 *                               in run order; attribute `columns` lists them
 *     run_name, status, message strings
 *     arm, baseline             strings, with treatment arms: the run's arm
 *                               and the run it is compared with
 *     <column>                  double, attrs unit, description
 *     offload_<column>          with arms: this run minus its baseline
 *
 * Every dataset carrying a quantity has a `unit` attribute. Object
 * modification times are not stored, so reruns are byte-identical. With
 * `summary_only`, /runs stays empty; with `series_stride` N > 1 the time
 * series keep samples 0, N, 2N, ...
 *
 * Series are written a chunk of rows at a time, read from the run with
 * vs_result_read_rows (in memory or spilled, result.h), and OUT's assembly
 * copies them from the parts the same way: the writer never holds a whole
 * series, and the file is the same byte for byte either way.
 *
 * Crash safety. Runs are stored as they finish (in any order) into part
 * files in OUT.parts/, several runs per part: a part is written under a
 * temporary name, synced and renamed, so it is whole or absent. A
 * background thread commits the open part when runs are waiting and then
 * republishes OUT itself, again under a temporary name, synced and renamed:
 * at any moment OUT is a readable file holding every committed run, with
 * /summary complete for them (the others read "pending") and /runs/<run>
 * as HDF5 external links into the parts (h5py follows them; in C, open the
 * run's group before reading its string attributes: HDF5 1.10 misreads
 * them through H5Aopen_by_name across an external link). Commits follow finished runs at
 * once, but never spend more than about a tenth of the time on
 * republishing OUT (it grows with the number of runs). vs_writer_finish
 * assembles the final, self-contained OUT in run order, renames it into
 * place and removes the parts. After a kill, OUT and OUT.parts/ are left as
 * they were at the last commit; opening again with `resume` takes over
 * every run of the parts that belongs to this same output (same
 * fingerprint: case, version, runs, columns, series kept) so only the
 * missing runs need computing. The writer knows nothing of physics.
 *
 * Several processes (MPI ranks) may write one output: each opens the writer
 * with its rank, stores its runs in its own parts, and rank 0 alone
 * publishes OUT (adopting the other ranks' parts as they appear) and
 * assembles it once every rank has called vs_writer_flush.
 */
#ifndef VENOSIM_WRITER_H
#define VENOSIM_WRITER_H

#include <stddef.h>

#include "venosim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vs_writer vs_writer;

/** A /summary column besides run_name, status and message. */
typedef struct {
  const char *name;
  const char *unit;
  const char *description;
} vs_column_info;

typedef struct {
  const char *creator;          /**< "venosim" */
  const char *version;          /**< venosim version */
  const char *git_commit;       /**< commit the binary was built from */
  const char *author;           /**< user name, or "unknown" */
  const char *command_line;
  int threads;
  const char *case_path;        /**< NULL for the built-in demonstration */
  const char *case_text;        /**< verbatim case file, may be NULL */
  const char *case_resolved;    /**< resolved case, may be NULL */
  size_t n_runs;
  size_t n_summary_columns;
  const vs_column_info *summary_columns;
  const char *sundials_version; /**< e.g. "6.4.1" (the writer does not link
                                     SUNDIALS); NULL: "unknown" */
  int summary_only;             /**< store no time series (/runs empty) */
  size_t series_stride;         /**< keep every Nth sample (0 or 1: all) */
  int resume;                   /**< take over the runs an interrupted
                                     session of this output left */
  int rank, n_ranks;            /**< MPI: this process (0, and 0 or 1:
                                     alone) */
  double commit_interval_s;     /**< least time between two commits (0:
                                     as soon as runs finish) */
  const char *const *arms;      /**< treatment arms: each run's arm name
                                     (n_runs), or NULL */
  const size_t *baseline;       /**< with arms: each run's baseline run,
                                     the same patient untreated (itself
                                     when untreated) */
  size_t offload_first_column;  /**< with arms: columns from this one on
                                     (the metrics) get offload_<name> */
} vs_output_meta;

/** Prepare to write OUT: checks that its folder exists and is writable,
 *  creates OUT.parts/ and (rank 0) publishes an OUT with every run
 *  pending. Without `resume`, parts of an interrupted session of the same
 *  output are an error (VS_EINVAL, nothing touched): resume, or remove
 *  them. With `resume`, their runs are taken over; an OUT already complete
 *  for this output is kept as it is (vs_writer_done_count() == n_runs and
 *  finish leaves it alone). Nothing is created on error (msg says why). */
int vs_writer_open(vs_writer **w, const char *path, const vs_output_meta *meta,
                   char *msg, size_t msglen);

/** Store run number `index` (0..n_runs-1) with its summary row
 *  (meta->n_summary_columns values, NULL: NaN). Runs may arrive in any
 *  order and from several threads. Returns 0, or the first error of
 *  writing (then every later call returns it too). */
int vs_writer_add_run(vs_writer *w, size_t index, const vs_run_result *r,
                      const double *summary_values, char *msg, size_t msglen);

/** 1 if run `index` is already stored (taken over, or added and
 *  committed). */
int vs_writer_has_run(const vs_writer *w, size_t index);
/** Runs stored so far (all ranks' that this process knows of). */
size_t vs_writer_done_count(const vs_writer *w);
/** Runs stored with status failed. */
size_t vs_writer_failed_count(const vs_writer *w);
/** The stored status (VS_RUN_OK, VS_RUN_FAILED; VS_RUN_PENDING if not
 *  stored) and, if row is not NULL, summary row of run `index`. */
int vs_writer_run_status(const vs_writer *w, size_t index, double *row);

/** Called once per run when it is committed: safe on disk, and (rank 0) in
 *  OUT; with its group name and status. Runs on the writer's own thread;
 *  set it before adding runs. */
typedef void (*vs_writer_listener)(void *user, size_t index, const char *name,
                                   int status);
void vs_writer_set_listener(vs_writer *w, vs_writer_listener fn, void *user);

/** Commit every run added so far and stop the background thread (later
 *  runs are committed by finish). After this returns, this process's runs
 *  are all in parts on disk: MPI ranks call it before rank 0 finishes. */
int vs_writer_flush(vs_writer *w, char *msg, size_t msglen);

/** Rank 0 (or alone): flush, take over every part on disk of this output
 *  (other ranks' too), assemble OUT from the parts in run order (runs never
 *  added appear with status "missing"), rename it into place and remove
 *  OUT.parts/. Other ranks: flush only. Frees *w. */
int vs_writer_finish(vs_writer **w, char *msg, size_t msglen);

/** Give up without assembling: commit what can be, then stop. The parts and
 *  the last published OUT stay on disk for a later resume. Frees *w. */
void vs_writer_abandon(vs_writer **w);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_WRITER_H */
