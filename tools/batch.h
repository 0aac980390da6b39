/* The command's batches: sweeps from case files, the output file, the
 * table, exit codes, and MPI (tools/batch.c). venosim.c parses the command
 * line and calls these. */
#ifndef VENOSIM_TOOLS_BATCH_H
#define VENOSIM_TOOLS_BATCH_H

#include <stddef.h>

#include "venosim/venosim.h"

enum { EXIT_ALL_OK = 0, EXIT_BAD_INPUT = 1, EXIT_RUNS_FAILED = 2 };

/* How to run a batch (from the command line). */
typedef struct {
  int threads;               /* 0: all cores */
  vs_progress_kind progress;
  int resume;                /* take up an interrupted session */
  int summary_only;          /* store no time series */
  size_t decimate;           /* keep every Nth sample (0, 1: all) */
} vs_cli_run_options;

/* Name of run i, for the table printed after the batch. */
typedef void (*vs_cli_namer)(const void *user, size_t i, char *buf,
                             size_t len);

/* A batch to run and write: runs from a source; its varied inputs lead the
 * /summary columns, the metrics follow. */
typedef struct {
  const vs_run_source *src;
  const vs_column_info *inputs;
  size_t n_inputs;
  vs_cli_namer name;
  const void *name_user;
  const char *output, *case_path, *case_text, *case_resolved, *command_line;
  /* Treatment arms, or NULL: each run's arm name and baseline run (the
   * same patient untreated); /summary gets offload_<metric> columns and
   * the table an offloading block. */
  const char *const *arms;
  const size_t *baseline;
} vs_cli_batch;

/* Runs the batch, writes OUT, prints the table (or a count for big ones);
 * returns the exit code. Under MPI every rank calls it. */
int vs_cli_run_batch(const vs_cli_batch *b, const vs_cli_run_options *o);

/* `venosim run CASE.yaml`: the case's sweep (or its one run). */
int vs_cli_run_case(const char *case_path, const char *output,
                    const vs_cli_run_options *o, const char *command_line);

/* `venosim check CASE.yaml`: validates the case and every run of its sweep,
 * and says how many runs it expands to. */
int vs_cli_check_case(const char *case_path, int threads);

/* MPI: starts it when the process was launched by mpirun/srun (and the
 * command was built with VENOSIM_MPI); finalises at exit. Without MPI,
 * rank 0 of 1. */
void vs_cli_mpi_init(int *argc, char ***argv);
int vs_cli_rank(void);
int vs_cli_ranks(void);

#endif
