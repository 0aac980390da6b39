/**
 * @file writer.h
 * @brief HDF5 results, H5MD-style, safe against crashes.
 *
 * Layout of a results file (DESIGN.md, contracts):
 *
 *   /h5md                       H5MD root: attribute version = [1, 1];
 *     author/  (attr name)      creator/ (attrs name, version)
 *   /parameters                 attrs: venosim_version, git_commit,
 *                               sundials_version, hdf5_version, threads,
 *                               command_line, case_path, n_runs;
 *                               datasets case_file (verbatim text) and
 *                               case_resolved (every default filled in)
 *   /runs/<run>/                one group per run, in run order; attrs
 *                               status ("ok"|"failed"), message, index
 *     time                      (n_samples) s
 *     <series>                  (n_samples, n_columns), attrs unit,
 *                               description; <series>_columns: names
 *     events                    compound {time_s, kind, message}
 *     solver_stats              attributes: CVODE counters, wall time
 *   /summary/                   one 1D dataset per column, one row per run
 *     run_name, status          strings
 *     <column>                  double, attrs unit, description
 *
 * Every dataset carrying a quantity has a `unit` attribute. Object
 * modification times are not stored, so reruns are byte-identical.
 *
 * Safety: each finished run is written at once to its own small file in
 * OUT.parts/ (written under a temporary name, then renamed), so a run that
 * finished is never lost, whatever happens to the process afterwards. The
 * results file is assembled from those parts under a temporary name and
 * renamed to OUT only when complete: a crash or kill never leaves a corrupt
 * file under the final name. The writer knows nothing of physics.
 */
#ifndef VENOSIM_WRITER_H
#define VENOSIM_WRITER_H

#include <stddef.h>

#include "venosim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vs_writer vs_writer;

/** A /summary column besides run_name and status. */
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
} vs_output_meta;

/** Prepare to write OUT: checks that its folder exists and is writable and
 *  creates OUT.parts/. Nothing is created on error (msg says why). */
int vs_writer_open(vs_writer **w, const char *path, const vs_output_meta *meta,
                   char *msg, size_t msglen);

/** Store run number `index` (0..n_runs-1) with its summary row
 *  (meta->n_summary_columns values). Runs may arrive in any order; call
 *  from one thread at a time. */
int vs_writer_add_run(vs_writer *w, size_t index, const vs_run_result *r,
                      const double *summary_values, char *msg, size_t msglen);

/** Assemble OUT from the parts in run order (runs never added appear with
 *  status "missing"), rename it into place, remove OUT.parts/. Frees *w. */
int vs_writer_finish(vs_writer **w, char *msg, size_t msglen);

/** Give up without assembling: the parts stay on disk. Frees *w. */
void vs_writer_abandon(vs_writer **w);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_WRITER_H */
