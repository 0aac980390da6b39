/* The command's batches (batch.h): a case file's sweep expanded and checked,
 * the results file opened (or resumed), the runs spread over threads and
 * MPI ranks, the table printed, the file assembled; exit codes 0, 1, 2.
 *
 * MPI (built with VENOSIM_MPI, launched by mpirun): every rank reads and
 * checks the case, opens the writer with its rank, and computes the runs
 * i with i % ranks == rank into its own parts; rank 0 publishes OUT as runs
 * arrive and, once every rank has flushed, assembles it. The file holds the
 * same runs, values and layout as a single-process run. Only the main
 * thread calls MPI. */
#include "batch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#ifdef VENOSIM_HAVE_MPI
#include <mpi.h>
#endif

/* Rows of the table printed after a batch; bigger batches get a count. */
#define TABLE_MAX_ROWS 50
/* Failure reasons printed on stderr (all are in the file). */
#define MAX_FAILURES_SHOWN 10

/* ---- MPI ------------------------------------------------------------------ */

static int g_rank = 0, g_ranks = 1;
#ifdef VENOSIM_HAVE_MPI
static int g_mpi = 0; /* MPI was started (under a launcher) */
#endif

int vs_cli_rank(void) { return g_rank; }
int vs_cli_ranks(void) { return g_ranks; }

#ifdef VENOSIM_HAVE_MPI
static void mpi_finalize(void) {
  int done = 0;
  MPI_Finalized(&done);
  if (!done) MPI_Finalize();
}
#endif

void vs_cli_mpi_init(int *argc, char ***argv) {
#ifdef VENOSIM_HAVE_MPI
  /* Only under a launcher (Open MPI, MPICH/Hydra, Slurm, PMIx): a plain
   * `venosim` stays a plain process. */
  if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") &&
      !getenv("PMIX_RANK"))
    return;
  int provided = 0;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) !=
      MPI_SUCCESS)
    return;
  g_mpi = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_ranks);
  atexit(mpi_finalize);
#else
  (void)argc, (void)argv;
#endif
}

/* The largest v of all ranks. */
static int all_max(int v) {
#ifdef VENOSIM_HAVE_MPI
  int out = v;
  if (g_mpi) MPI_Allreduce(&v, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return out;
#else
  return v;
#endif
}

static size_t all_sum(size_t v) {
#ifdef VENOSIM_HAVE_MPI
  unsigned long long in = v, out = v;
  if (g_mpi)
    MPI_Allreduce(&in, &out, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM,
                  MPI_COMM_WORLD);
  return (size_t)out;
#else
  return v;
#endif
}

static int from_root(int v) {
#ifdef VENOSIM_HAVE_MPI
  if (g_mpi) MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
#endif
  return v;
}

static void barrier(void) {
#ifdef VENOSIM_HAVE_MPI
  if (g_mpi) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

/* ---- the table ------------------------------------------------------------ */

/* A run's column in a block of the table: every run in the measurements,
 * the treated runs in the offloading. */
static int in_block(const vs_cli_batch *b, size_t i, int offload) {
  return !offload || (b->baseline && b->baseline[i] != i);
}

/* Run i's value of metric j in a block: itself, or minus its baseline. */
static double block_value(const vs_cli_batch *b, const vs_batch_summary *s,
                          size_t i, size_t j, int offload) {
  size_t nm = vs_metrics_count();
  double v = s->metrics[i * nm + j];
  return offload ? v - s->metrics[b->baseline[i] * nm + j] : v;
}

/* One block: a header of run names, then one row per metric that any of
 * its runs measured. */
static void print_block(const vs_cli_batch *b, const vs_batch_summary *s,
                        int width, int offload) {
  size_t nm = vs_metrics_count();
  const vs_metric_info *m = vs_metrics_table();
  char name[256];
  printf("%-34s %-10s", "metric", "unit");
  for (size_t i = 0; i < s->n_runs; ++i) {
    if (!in_block(b, i, offload)) continue;
    b->name(b->name_user, i, name, sizeof name);
    printf(" %*s", width, name);
  }
  printf("\n");
  for (size_t j = 0; j < nm; ++j) {
    int any = 0;
    for (size_t i = 0; i < s->n_runs; ++i)
      any |= in_block(b, i, offload) && isfinite(s->metrics[i * nm + j]);
    if (!any) continue;
    printf("%-34s %-10s", m[j].name, m[j].unit);
    for (size_t i = 0; i < s->n_runs; ++i)
      if (in_block(b, i, offload))
        printf(" %*.4g", width, block_value(b, s, i, j, offload));
    printf("\n");
  }
}

/* The measurements of each run side by side: one row per metric that any
 * run measured, one column per run (a handful of arms reads best so); with
 * treatment arms, then what each treatment took away (treated minus
 * untreated). */
static void print_table(const vs_cli_batch *b, const vs_batch_summary *s) {
  char name[256];
  int width = 12;
  for (size_t i = 0; i < s->n_runs; ++i) {
    b->name(b->name_user, i, name, sizeof name);
    int len = (int)strlen(name) + 2;
    if (len > width) width = len;
  }
  print_block(b, s, width, 0);
  printf("%-34s %-10s", "status", "");
  for (size_t i = 0; i < s->n_runs; ++i)
    printf(" %*s", width, s->status[i] == VS_RUN_OK ? "ok" : "FAILED");
  printf("\n");
  if (!b->baseline) return;
  printf("\noffloading: treated minus untreated, same patient\n");
  print_block(b, s, width, 1);
}

static void print_failures(const vs_cli_batch *b, const vs_batch_summary *s) {
  size_t shown = 0, failed = 0;
  char name[256];
  for (size_t i = 0; i < s->n_runs; ++i) {
    if (!s->messages[i]) continue;
    if (shown++ < MAX_FAILURES_SHOWN) {
      b->name(b->name_user, i, name, sizeof name);
      fprintf(stderr, "venosim: run '%s' failed: %s\n", name, s->messages[i]);
    }
    ++failed;
  }
  if (failed > MAX_FAILURES_SHOWN)
    fprintf(stderr, "venosim: ... and %zu more failed runs (see /summary)\n",
            failed - MAX_FAILURES_SHOWN);
}

/* ---- a batch ---------------------------------------------------------------- */

int vs_cli_run_batch(const vs_cli_batch *b, const vs_cli_run_options *o) {
  size_t nm = vs_metrics_count(), ni = b->n_inputs, n = b->src->n_runs;
  const vs_metric_info *metrics = vs_metrics_table();
  vs_column_info *cols = calloc(ni + nm + 1, sizeof *cols);
  if (!cols) return EXIT_BAD_INPUT;
  for (size_t j = 0; j < ni; ++j) cols[j] = b->inputs[j];
  for (size_t j = 0; j < nm; ++j)
    cols[ni + j] = (vs_column_info){metrics[j].name, metrics[j].unit,
                                    metrics[j].description};
  const char *user = getenv("USER");
  vs_output_meta meta = {
      .creator = "venosim",
      .version = VS_VERSION_STRING,
      .git_commit = VS_GIT_COMMIT,
      .author = user && *user ? user : "unknown",
      .command_line = b->command_line,
      .threads = o->threads > 0 ? o->threads : omp_get_max_threads(),
      .case_path = b->case_path,
      .case_text = b->case_text,
      .case_resolved = b->case_resolved,
      .n_runs = n,
      .n_summary_columns = ni + nm,
      .summary_columns = cols,
      .sundials_version = vs_sundials_version(),
      .summary_only = o->summary_only,
      .series_stride = o->decimate,
      .resume = o->resume,
      .rank = g_rank,
      .n_ranks = g_ranks,
      .arms = b->arms,
      .baseline = b->baseline,
      .offload_first_column = ni};
  char msg[1024];
  vs_writer *w = NULL;
  int rc = vs_writer_open(&w, b->output, &meta, msg, sizeof msg);
  if (rc) fprintf(stderr, "venosim: %s\n", msg);
  if (all_max(rc != 0)) { /* every rank stops if one cannot write */
    vs_writer_abandon(&w);
    free(cols);
    return EXIT_BAD_INPUT;
  }
  if (o->resume && g_rank == 0) {
    size_t done = vs_writer_done_count(w);
    fprintf(stderr, "venosim: resuming %s: %zu of %zu runs are done already, "
            "%zu to compute\n", b->output, done, n, n - done);
  }

  int table = g_ranks == 1 && n <= TABLE_MAX_ROWS;
  vs_runner_options ro = {.threads = o->threads,
                          .progress = o->progress,
                          .rank = g_rank,
                          .n_ranks = g_ranks,
                          .no_metrics = !table}; /* the writer has them */
  vs_batch_summary summary;
  rc = vs_runner_run(b->src, &ro, w, &summary, msg, sizeof msg);
  if (rc) fprintf(stderr, "venosim: writing results failed: %s\n", msg);
  if (all_max(rc != 0)) {
    vs_writer_abandon(&w);
    if (g_rank == 0)
      fprintf(stderr, "venosim: the runs that finished are kept in %s.parts/ "
              "(venosim run --resume takes them up)\n", b->output);
    vs_batch_summary_clear(&summary);
    free(cols);
    return EXIT_RUNS_FAILED;
  }
  barrier(); /* every rank's runs are in its parts: rank 0 assembles */
  size_t failed = all_sum(summary.n_failed);
  rc = vs_writer_finish(&w, msg, sizeof msg);
  if (rc) {
    fprintf(stderr, "venosim: assembling %s failed: %s\n", b->output, msg);
    fprintf(stderr, "venosim: the finished runs are kept in %s.parts/\n",
            b->output);
  }
  rc = from_root(rc);
  if (rc == VS_OK && g_rank == 0) {
    if (table) print_table(b, &summary);
    printf("wrote %s (%zu runs, %zu failed", b->output, n, failed);
    if (summary.n_resumed) printf(", %zu resumed", summary.n_resumed);
    if (g_ranks > 1) printf(", %d MPI ranks", g_ranks);
    printf(")\n");
  }
  print_failures(b, &summary);
  vs_batch_summary_clear(&summary);
  free(cols);
  if (rc) return EXIT_RUNS_FAILED;
  return failed ? EXIT_RUNS_FAILED : EXIT_ALL_OK;
}

/* ---- case files and their sweeps ------------------------------------------ */

static void sweep_namer(const void *user, size_t i, char *buf, size_t len) {
  if (vs_sweep_run_name(user, i, buf, len)) snprintf(buf, len, "run-%06zu", i);
}

/* Loads and checks every run; prints the problem (rank 0) on error. */
static int load_checked(const char *case_path, int threads, vs_sweep **s) {
  char msg[2048];
  int rc = vs_sweep_load_file(case_path, s, msg, sizeof msg);
  if (rc == VS_OK) rc = vs_sweep_validate(*s, threads, msg, sizeof msg);
  if (rc) {
    if (g_rank == 0) fprintf(stderr, "%s\n", msg);
    vs_sweep_free(s);
  }
  return rc;
}

int vs_cli_run_case(const char *case_path, const char *output,
                    const vs_cli_run_options *o, const char *command_line) {
  vs_sweep *s = NULL;
  if (load_checked(case_path, o->threads, &s)) return EXIT_BAD_INPUT;
  const vs_case *c = vs_sweep_case(s);
  size_t ni = vs_sweep_input_count(s);
  vs_column_info *inputs = calloc(ni + 1, sizeof *inputs);
  char **desc = calloc(ni + 1, sizeof *desc);
  int code = EXIT_BAD_INPUT;
  const char **arms = NULL;
  size_t *baseline = NULL;
  if (!inputs || !desc) goto done;
  for (size_t j = 0; j < ni; ++j) {
    const vs_sweep_input *in = vs_sweep_input_info(s, j);
    size_t len = strlen(in->path) + 64;
    if (!(desc[j] = malloc(len))) goto done;
    snprintf(desc[j], len, "sweep input %s (%s)", in->path, in->block);
    inputs[j] = (vs_column_info){in->column, in->unit, desc[j]};
  }
  size_t n = vs_sweep_run_count(s), n_arms = vs_sweep_arm_count(s);
  if (n_arms > 1) { /* treatment arms: offloading against the untreated */
    arms = calloc(n, sizeof *arms);
    baseline = calloc(n, sizeof *baseline);
    if (!arms || !baseline) goto done;
    for (size_t i = 0; i < n; ++i) {
      arms[i] = vs_sweep_arm_name(s, i % n_arms);
      baseline[i] = vs_sweep_baseline(s, i);
    }
  }
  vs_run_source src;
  vs_sweep_run_source(s, &src);
  vs_cli_batch b = {.src = &src,
                    .inputs = inputs,
                    .n_inputs = ni,
                    .name = sweep_namer,
                    .name_user = s,
                    .output = output,
                    .case_path = c->path,
                    .case_text = c->text,
                    .case_resolved = c->resolved,
                    .command_line = command_line,
                    .arms = (const char *const *)arms,
                    .baseline = baseline};
  code = vs_cli_run_batch(&b, o);
done:
  free(arms);
  free(baseline);
  for (size_t j = 0; desc && j < ni; ++j) free(desc[j]);
  free(desc);
  free(inputs);
  vs_sweep_free(&s);
  return code;
}

int vs_cli_check_case(const char *case_path, int threads) {
  vs_sweep *s = NULL;
  if (load_checked(case_path, threads, &s)) return EXIT_BAD_INPUT;
  if (g_rank != 0) { /* under mpirun, one report */
    vs_sweep_free(&s);
    return EXIT_ALL_OK;
  }
  const vs_case *c = vs_sweep_case(s);
  size_t n = vs_sweep_run_count(s), grid, zip, random;
  vs_sweep_block_counts(s, &grid, &zip, &random);
  printf("%s: ok: case '%s', %zu compartments, %zu pressure nodes, %zu links, "
         "%zu flow sources, %zu run%s",
         case_path, c->name, vs_network_compartment_count(c->network),
         vs_network_pressure_node_count(c->network),
         vs_network_link_count(c->network),
         vs_network_flow_source_count(c->network), n, n == 1 ? "" : "s");
  size_t n_arms = vs_sweep_arm_count(s);
  if (vs_sweep_input_count(s) || n_arms > 1) {
    const char *sep = " (";
    const struct {
      const char *name;
      size_t runs;
    } blocks[] = {{"grid", grid}, {"zip", zip}, {"random", random}};
    for (size_t k = 0; k < 3; ++k)
      if (blocks[k].runs) {
        printf("%s%s %zu", sep, blocks[k].name, blocks[k].runs);
        sep = " x ";
      }
    if (n_arms > 1) printf("%sarms %zu", sep, n_arms);
    printf(")");
  }
  printf("\n");
  for (size_t j = 0; j < vs_sweep_input_count(s); ++j) {
    const vs_sweep_input *in = vs_sweep_input_info(s, j);
    printf("  %-6s %s [%s]: %zu value%s, sets %zu key%s\n", in->block,
           in->path, in->unit, in->n_values, in->n_values == 1 ? "" : "s",
           in->n_targets, in->n_targets == 1 ? "" : "s");
  }
  for (size_t k = 0; n_arms > 1 && k < n_arms; ++k)
    printf("  arm    %s\n", vs_sweep_arm_name(s, k));
  vs_sweep_free(&s);
  return EXIT_ALL_OK;
}
