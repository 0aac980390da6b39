/**
 * @file sweep.h
 * @brief Sweeps: one case file, many runs over varied inputs.
 *
 * A case file's optional `sweep:` section varies numeric inputs, each named
 * by its path in the case schema (`venosim schema`):
 *
 *     links[l05].stenosis.area_ratio     a list item by its `name`
 *     compartments[0].wall.k_mmhg        ... or by its index
 *     compartments[*].wall.k_mmhg        every item the key applies to
 *     boundaries[inflow].flow_ml_s.mean  a key of a waveform mapping
 *     solver.rtol                        a mapping that may be absent
 *
 * in three blocks whose runs multiply, in this order (the last varies
 * fastest):
 *
 *     grid:   every combination of the lists (the first input slowest)
 *     zip:    lists of one length side by side (run k takes item k of each)
 *     random: a Latin hypercube over ranges (`samples` strata per input, one
 *             sample in each, strata paired by random permutations), with a
 *             seed; uniform or log-uniform
 *
 * Every value is checked against its key's type, unit and range when the
 * sweep is loaded, and errors name the file, line and column of the sweep
 * entry. A run is then the case file with its values written into the parsed
 * document, read back through the same reader as a hand-written case
 * (case.h), so it is validated exactly like one. Runs are built on demand,
 * one at a time per thread: a sweep holds its plan, never its networks, and
 * memory does not grow with the number of runs.
 *
 * Treatment arms (`arms:`, case.h) multiply the runs once more: every
 * parameter set (a patient) is run untreated and then with each arm, the
 * arm varying fastest, so run r is patient r / A, arm r % A (A arms
 * counting the untreated one) and its baseline (the untreated run it is
 * compared with) is r - r % A.
 *
 * Runs are named `<case>-<index>` with the index zero-padded to the width of
 * the largest (at least 4 digits), then `-<arm>` when the case has arms; a
 * case without a sweep is one run named after the case (`<case>-<arm>` with
 * arms). `sweep.max_runs` (default 10000) bounds the expansion, arms
 * included.
 */
#ifndef VENOSIM_SWEEP_H
#define VENOSIM_SWEEP_H

#include <stddef.h>

#include "venosim/case.h"
#include "venosim/runner.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vs_sweep vs_sweep;

/** One varied input: a /summary column. */
typedef struct {
  const char *path;   /**< as written in the case, e.g. "links[l05].stenosis.kt" */
  const char *column; /**< /summary column name (`column:`, or the path) */
  const char *unit;   /**< the key's unit ("1": dimensionless) */
  const char *block;  /**< "grid", "zip" or "random" */
  size_t n_values;    /**< values in its list (grid, zip) or samples */
  size_t n_targets;   /**< keys it sets (more than 1 with [*]) */
} vs_sweep_input;

/** Read a case file and expand its sweep (a case without one gives one
 *  run). Errors as vs_case_load_file: "FILE:LINE:COL: message", *s NULL. */
int vs_sweep_load_file(const char *path, vs_sweep **s, char *msg,
                       size_t msglen);
/** The same from text in memory (display_name stands for the file). */
int vs_sweep_load_string(const char *text, size_t len,
                         const char *display_name, vs_sweep **s, char *msg,
                         size_t msglen);
void vs_sweep_free(vs_sweep **s);

/** The case as written, validated and built (name, text, resolved text). */
const vs_case *vs_sweep_case(const vs_sweep *s);
/** Number of runs (1 without a sweep). */
size_t vs_sweep_run_count(const vs_sweep *s);
/** Arms per patient, the untreated one included (1 without arms). */
size_t vs_sweep_arm_count(const vs_sweep *s);
/** Name of arm k ("untreated" for 0), or NULL. */
const char *vs_sweep_arm_name(const vs_sweep *s, size_t arm);
/** The untreated run of run `run`'s patient (itself when untreated). */
size_t vs_sweep_baseline(const vs_sweep *s, size_t run);
/** Runs contributed by each block: 0 for a block that is absent. */
void vs_sweep_block_counts(const vs_sweep *s, size_t *grid, size_t *zip,
                           size_t *random);
/** Varied inputs, in /summary order: grid, zip, then random. */
size_t vs_sweep_input_count(const vs_sweep *s);
const vs_sweep_input *vs_sweep_input_info(const vs_sweep *s, size_t j);

/** Run `run`'s name into buf; returns 0 or VS_EINVAL (index out of range). */
int vs_sweep_run_name(const vs_sweep *s, size_t run, char *buf, size_t len);
/** The values of run `run`'s inputs, values[vs_sweep_input_count()]. */
int vs_sweep_run_values(const vs_sweep *s, size_t run, double *values);
/** Build run `run`: the case with its values, validated, network built.
 *  Safe to call from several threads at once. On error msg names the run
 *  and its values, then the reader's "FILE:LINE:COL: message". */
int vs_sweep_build_run(const vs_sweep *s, size_t run, vs_case **c, char *msg,
                       size_t msglen);

/** Build every run once to check it (in parallel on `threads`, 0: all
 *  cores) and free it again. Returns 0, or the error of the lowest-numbered
 *  run that fails, in msg. A case without a sweep was checked by load. */
int vs_sweep_validate(const vs_sweep *s, int threads, char *msg,
                      size_t msglen);

/** A run source for the runner (runner.h) that builds each run on demand
 *  with vs_sweep_build_run and frees it after the run. The sweep must
 *  outlive the source. */
void vs_sweep_run_source(const vs_sweep *s, vs_run_source *src);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_SWEEP_H */
