/* venosim: the command line (DESIGN.md, contracts).
 *
 *   venosim                      built-in demonstration -> venosim-demo.h5
 *   venosim run CASE.yaml [-o OUT.h5] [--threads N] [--progress MODE]
 *   venosim check CASE.yaml      validate without running
 *   venosim schema               the case-file reference (Markdown)
 *   venosim --help | --version
 *
 * Exit codes: 0 every run succeeded; 1 bad usage or bad input (nothing
 * written); 2 some runs failed (the others are written). */
#include <errno.h>
#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "venosim/venosim.h"

enum { EXIT_ALL_OK = 0, EXIT_BAD_INPUT = 1, EXIT_RUNS_FAILED = 2 };

static void print_usage(FILE *f) {
  fprintf(f,
          "usage: venosim [COMMAND] [OPTIONS]\n"
          "\n"
          "Lumped-parameter simulator of venous pressure and flow in the leg.\n"
          "\n"
          "commands:\n"
          "  (none)              run the built-in demonstration and write "
          "venosim-demo.h5\n"
          "  run CASE.yaml       run a case file\n"
          "  check CASE.yaml     validate a case file without running it\n"
          "  schema              print every case-file key with its unit, "
          "default and range\n"
          "\n"
          "options of run (and of the demonstration):\n"
          "  -o, --output OUT.h5 results file (default: CASE's stem + .h5)\n"
          "  --threads N         runs in parallel (default: all cores)\n"
          "  --progress MODE     auto|bar|jsonl|none (default auto: a status "
          "line on a terminal)\n"
          "\n"
          "  -h, --help          this text\n"
          "  --version           version, commit and library versions\n"
          "\n"
          "exit status: 0 all runs succeeded, 1 bad usage or input (nothing "
          "written),\n"
          "             2 some runs failed (the others are written)\n");
}

static void print_version(void) {
  printf("venosim %s (commit %s)\nSUNDIALS %s, HDF5 %s, OpenMP %d\n",
         VS_VERSION_STRING, VS_GIT_COMMIT, vs_sundials_version(),
         vs_hdf5_version(), _OPENMP);
}

typedef struct {
  const char *case_path;
  const char *output;
  int threads;
  vs_progress_kind progress;
} cli_options;

static int parse_progress(const char *s, vs_progress_kind *out) {
  if (strcmp(s, "auto") == 0)
    *out = isatty(STDERR_FILENO) ? VS_PROGRESS_BAR : VS_PROGRESS_NONE;
  else if (strcmp(s, "bar") == 0)
    *out = VS_PROGRESS_BAR;
  else if (strcmp(s, "jsonl") == 0)
    *out = VS_PROGRESS_JSONL;
  else if (strcmp(s, "none") == 0)
    *out = VS_PROGRESS_NONE;
  else
    return -1;
  return 0;
}

/* Options after the command word. Returns 0, or -1 after printing why. */
static int parse_options(int argc, char **argv, int first, int want_case,
                         cli_options *o) {
  memset(o, 0, sizeof *o);
  parse_progress("auto", &o->progress);
  for (int i = first; i < argc; ++i) {
    const char *a = argv[i];
    if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
      o->output = argv[++i];
    } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
      char *end = NULL;
      errno = 0;
      long n = strtol(argv[++i], &end, 10);
      if (errno || !end || *end || n < 1 || n > 4096) {
        fprintf(stderr, "venosim: --threads needs a whole number from 1 to 4096, got '%s'\n",
                argv[i]);
        return -1;
      }
      o->threads = (int)n;
    } else if (strcmp(a, "--progress") == 0 && i + 1 < argc) {
      if (parse_progress(argv[++i], &o->progress)) {
        fprintf(stderr, "venosim: --progress must be auto, bar, jsonl or none, got '%s'\n",
                argv[i]);
        return -1;
      }
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "venosim: unknown or incomplete option '%s' (see venosim --help)\n", a);
      return -1;
    } else if (want_case && !o->case_path) {
      o->case_path = a;
    } else {
      fprintf(stderr, "venosim: unexpected argument '%s' (see venosim --help)\n", a);
      return -1;
    }
  }
  if (want_case && !o->case_path) {
    fprintf(stderr, "venosim: missing the case file (see venosim --help)\n");
    return -1;
  }
  return 0;
}

/* OUT.h5 from CASE.yaml: the stem, in the current folder. */
static void default_output(const char *case_path, char *out, size_t len) {
  const char *base = strrchr(case_path, '/');
  base = base ? base + 1 : case_path;
  const char *dot = strrchr(base, '.');
  size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  snprintf(out, len, "%.*s.h5", (int)stem, base);
}

static void join_command_line(int argc, char **argv, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < argc && used + 1 < len; ++i) {
    int n = snprintf(buf + used, len - used, "%s%s", i ? " " : "", argv[i]);
    if (n < 0) break;
    used += (size_t)n;
  }
}

/* The table printed after a batch: one row per run, the metrics. */
static void print_table(const vs_run_spec *runs, const vs_batch_summary *s) {
  size_t nm = vs_metrics_count();
  const vs_metric_info *m = vs_metrics_table();
  printf("%-22s %-7s", "run", "status");
  for (size_t j = 0; j < nm; ++j) printf(" %20s", m[j].name);
  printf("\n%-22s %-7s", "", "");
  for (size_t j = 0; j < nm; ++j) {
    char unit[32];
    snprintf(unit, sizeof unit, "[%s]", m[j].unit);
    printf(" %20s", unit);
  }
  printf("\n");
  for (size_t i = 0; i < s->n_runs; ++i) {
    printf("%-22s %-7s", runs[i].name,
           s->status[i] == VS_RUN_OK ? "ok" : "FAILED");
    for (size_t j = 0; j < nm; ++j) printf(" %20.6g", s->metrics[i * nm + j]);
    printf("\n");
  }
  for (size_t i = 0; i < s->n_runs; ++i)
    if (s->messages[i])
      fprintf(stderr, "venosim: run '%s' failed: %s\n", runs[i].name,
              s->messages[i]);
}

/* Run a batch and write it: the part shared by `run` and the demo. */
static int run_batch(const vs_run_spec *runs, size_t n, const cli_options *o,
                     const char *output, const char *case_path,
                     const char *case_text, const char *case_resolved,
                     const char *command_line) {
  size_t nm = vs_metrics_count();
  const vs_metric_info *metrics = vs_metrics_table();
  vs_column_info *cols = calloc(nm ? nm : 1, sizeof *cols);
  if (!cols) return EXIT_BAD_INPUT;
  for (size_t j = 0; j < nm; ++j)
    cols[j] = (vs_column_info){metrics[j].name, metrics[j].unit,
                               metrics[j].description};
  const char *user = getenv("USER");
  vs_output_meta meta = {.creator = "venosim",
                         .version = VS_VERSION_STRING,
                         .git_commit = VS_GIT_COMMIT,
                         .author = user && *user ? user : "unknown",
                         .command_line = command_line,
                         .threads = o->threads > 0 ? o->threads
                                                   : omp_get_max_threads(),
                         .case_path = case_path,
                         .case_text = case_text,
                         .case_resolved = case_resolved,
                         .n_runs = n,
                         .n_summary_columns = nm,
                         .summary_columns = cols,
                         .sundials_version = vs_sundials_version()};
  char msg[1024];
  vs_writer *w = NULL;
  if (vs_writer_open(&w, output, &meta, msg, sizeof msg)) {
    fprintf(stderr, "venosim: %s\n", msg);
    free(cols);
    return EXIT_BAD_INPUT;
  }
  vs_runner_options ro = {.threads = o->threads, .progress = o->progress};
  vs_batch_summary summary;
  int rc = vs_runner_execute(runs, n, &ro, w, &summary, msg, sizeof msg);
  if (rc) {
    fprintf(stderr, "venosim: writing results failed: %s\n", msg);
    vs_writer_abandon(&w);
    fprintf(stderr, "venosim: the runs that finished are kept in %s.parts/\n",
            output);
    vs_batch_summary_clear(&summary);
    free(cols);
    return EXIT_RUNS_FAILED;
  }
  if (vs_writer_finish(&w, msg, sizeof msg)) {
    fprintf(stderr, "venosim: assembling %s failed: %s\n", output, msg);
    fprintf(stderr, "venosim: the finished runs are kept in %s.parts/\n", output);
    vs_batch_summary_clear(&summary);
    free(cols);
    return EXIT_RUNS_FAILED;
  }
  print_table(runs, &summary);
  printf("wrote %s (%zu runs, %zu failed)\n", output, n, summary.n_failed);
  int code = summary.n_failed ? EXIT_RUNS_FAILED : EXIT_ALL_OK;
  vs_batch_summary_clear(&summary);
  free(cols);
  return code;
}

static int cmd_check(const cli_options *o) {
  vs_case *c = NULL;
  char msg[1024];
  if (vs_case_load_file(o->case_path, &c, msg, sizeof msg)) {
    fprintf(stderr, "%s\n", msg);
    return EXIT_BAD_INPUT;
  }
  printf("%s: ok: case '%s', %zu compartments, %zu pressure nodes, %zu links, "
         "%zu flow sources, 1 run\n",
         o->case_path, c->name, vs_network_compartment_count(c->network),
         vs_network_pressure_node_count(c->network),
         vs_network_link_count(c->network),
         vs_network_flow_source_count(c->network));
  vs_case_free(&c);
  return EXIT_ALL_OK;
}

static int cmd_run(const cli_options *o, const char *command_line) {
  vs_case *c = NULL;
  char msg[1024];
  if (vs_case_load_file(o->case_path, &c, msg, sizeof msg)) {
    fprintf(stderr, "%s\n", msg);
    return EXIT_BAD_INPUT;
  }
  char output[PATH_MAX];
  if (o->output)
    snprintf(output, sizeof output, "%s", o->output);
  else
    default_output(o->case_path, output, sizeof output);
  vs_run_spec run = {.name = c->name, .network = c->network, .solver = c->solver};
  int code = run_batch(&run, 1, o, output, c->path, c->text, c->resolved,
                       command_line);
  vs_case_free(&c);
  return code;
}

static int cmd_demo(const cli_options *o, const char *command_line) {
  vs_demo demo;
  char msg[512];
  if (vs_demo_create(&demo, msg, sizeof msg)) {
    fprintf(stderr, "venosim: cannot build the demonstration: %s\n", msg);
    return EXIT_BAD_INPUT;
  }
  printf("venosim demonstration: %s\n\n", demo.description);
  int code = run_batch(demo.runs, demo.n_runs, o,
                       o->output ? o->output : "venosim-demo.h5", NULL, NULL,
                       NULL, command_line);
  vs_demo_clear(&demo);
  return code;
}

int main(int argc, char **argv) {
  char command_line[4096];
  join_command_line(argc, argv, command_line, sizeof command_line);
  cli_options o;
  if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
    print_usage(stdout);
    return EXIT_ALL_OK;
  }
  if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
    print_version();
    return EXIT_ALL_OK;
  }
  if (argc < 2 || argv[1][0] == '-') {
    if (parse_options(argc, argv, 1, 0, &o)) return EXIT_BAD_INPUT;
    return cmd_demo(&o, command_line);
  }
  if (strcmp(argv[1], "run") == 0) {
    if (parse_options(argc, argv, 2, 1, &o)) return EXIT_BAD_INPUT;
    return cmd_run(&o, command_line);
  }
  if (strcmp(argv[1], "check") == 0) {
    if (parse_options(argc, argv, 2, 1, &o)) return EXIT_BAD_INPUT;
    return cmd_check(&o);
  }
  if (strcmp(argv[1], "schema") == 0 && argc == 2) {
    vs_case_print_schema(stdout);
    return EXIT_ALL_OK;
  }
  fprintf(stderr, "venosim: unknown command '%s' (see venosim --help)\n", argv[1]);
  return EXIT_BAD_INPUT;
}
