/* venosim: the command line (DESIGN.md, contracts).
 *
 *   venosim                      built-in demonstration -> venosim-demo.h5
 *   venosim run CASE.yaml [-o OUT.h5] [--threads N] [--progress MODE]
 *               [--resume] [--summary-only] [--decimate N]
 *                                the case's runs (its sweep), also under
 *                                mpirun (batch.c)
 *   venosim check CASE.yaml      validate without running
 *   venosim import-svzerod MODEL.json [-o CASE.yaml] [--units cgs|mmhg]
 *                                translate an svZeroDSolver model (svzerod.h);
 *                                run and check also take MODEL.json directly
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

#include "batch.h"
#include "demo.h"
#include "venosim/venosim.h"

static void print_usage(FILE *f) {
  fprintf(f,
          "usage: venosim [COMMAND] [OPTIONS]\n"
          "\n"
          "Lumped-parameter simulator of venous pressure and flow in the leg.\n"
          "\n"
          "commands:\n"
          "  (none)              run the built-in demonstration and write "
          "venosim-demo.h5\n"
          "  run CASE.yaml       run a case file (every run of its sweep)\n"
          "  check CASE.yaml     validate a case file and every run of its "
          "sweep, count them\n"
          "  import-svzerod MODEL.json [-o CASE.yaml] [--units cgs|mmhg]\n"
          "                      translate an svZeroDSolver model into a case "
          "file\n"
          "                      (run and check also take MODEL.json "
          "directly)\n"
          "  schema              print every case-file key with its unit, "
          "default and range\n"
          "\n"
          "options of run (and of the demonstration):\n"
          "  -o, --output OUT.h5 results file (default: CASE's stem + .h5)\n"
          "  --threads N         runs in parallel (default: all cores)\n"
          "  --progress MODE     auto|bar|jsonl|none (default auto: a status "
          "line on a terminal)\n"
          "  --resume            take up an interrupted run of the same case "
          "and output:\n"
          "                      compute only the runs missing from OUT.h5\n"
          "  --summary-only      keep /summary only, no time series (big "
          "sweeps)\n"
          "  --decimate N        keep every Nth output sample of the time "
          "series\n"
          "  (under mpirun -np K, the runs are spread over the K processes)\n"
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
#ifdef VENOSIM_HAVE_MPI
  printf("MPI: yes (mpirun -np K venosim run CASE spreads the runs)\n");
#endif
}

typedef struct {
  const char *case_path;
  const char *output;
  int threads;
  vs_progress_kind progress;
  vs_svzerod_units units; /* of svZeroDSolver models (--units) */
  int resume;             /* --resume */
  int summary_only;       /* --summary-only */
  size_t decimate;        /* --decimate N */
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
    } else if (strcmp(a, "--units") == 0 && i + 1 < argc) {
      const char *u = argv[++i];
      if (strcmp(u, "cgs") == 0) {
        o->units = VS_SVZEROD_UNITS_CGS;
      } else if (strcmp(u, "mmhg") == 0) {
        o->units = VS_SVZEROD_UNITS_MMHG;
      } else {
        fprintf(stderr, "venosim: --units must be cgs or mmhg, got '%s'\n", u);
        return -1;
      }
    } else if (strcmp(a, "--resume") == 0) {
      o->resume = 1;
    } else if (strcmp(a, "--summary-only") == 0) {
      o->summary_only = 1;
    } else if (strcmp(a, "--decimate") == 0 && i + 1 < argc) {
      char *end = NULL;
      errno = 0;
      long n = strtol(argv[++i], &end, 10);
      if (errno || !end || *end || n < 1 || n > 1000000000L) {
        fprintf(stderr, "venosim: --decimate needs a whole number from 1 to 1e9, got '%s'\n",
                argv[i]);
        return -1;
      }
      o->decimate = (size_t)n;
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

static vs_cli_run_options run_options(const cli_options *o) {
  vs_cli_run_options r = {.threads = o->threads,
                          .progress = o->progress,
                          .resume = o->resume,
                          .summary_only = o->summary_only,
                          .decimate = o->decimate};
  return r;
}

static void spec_namer(const void *user, size_t i, char *buf, size_t len) {
  snprintf(buf, len, "%s", ((const vs_run_spec *)user)[i].name);
}

/* Run a batch of given runs and write it (the demonstration, svZeroDSolver
 * models): batch.c does the work. */
static int run_batch(const vs_run_spec *runs, size_t n, const cli_options *o,
                     const char *output, const char *case_path,
                     const char *case_text, const char *case_resolved,
                     const char *command_line, const char *const *arms,
                     const size_t *baseline) {
  vs_run_source src;
  vs_runner_spec_source(runs, n, &src);
  vs_cli_batch b = {.src = &src,
                    .name = spec_namer,
                    .name_user = runs,
                    .output = output,
                    .case_path = case_path,
                    .case_text = case_text,
                    .case_resolved = case_resolved,
                    .command_line = command_line,
                    .arms = arms,
                    .baseline = baseline};
  vs_cli_run_options ro = run_options(o);
  return vs_cli_run_batch(&b, &ro);
}

/* An svZeroDSolver model as a case: the network and options, the JSON as
 * the case text and the equivalent case file as the resolved case. */
static int load_svzerod(const cli_options *o, vs_case **out) {
  vs_svzerod_options so = vs_svzerod_options_default();
  so.units = o->units;
  vs_svzerod_model *m = NULL;
  char msg[1024], *yaml = NULL;
  *out = NULL;
  if (vs_svzerod_load_file(o->case_path, &so, &m, msg, sizeof msg) ||
      vs_svzerod_emit_yaml(m, &yaml, msg, sizeof msg)) {
    fprintf(stderr, "%s\n", msg);
    vs_svzerod_free(&m);
    return -1;
  }
  vs_case *c = calloc(1, sizeof *c);
  if (!c) {
    fprintf(stderr, "venosim: out of memory\n");
    free(yaml);
    vs_svzerod_free(&m);
    return -1;
  }
  /* The case takes over the model's strings and network. */
  c->path = m->path;
  c->name = m->name;
  c->description = m->description;
  c->text = m->text;
  c->resolved = yaml;
  c->network = m->network;
  c->solver = m->solver;
  if (m->notes[0]) fprintf(stderr, "venosim: %s: %s", o->case_path, m->notes);
  m->path = m->name = m->description = m->text = NULL;
  m->network = NULL;
  vs_svzerod_free(&m);
  *out = c;
  return 0;
}

/* A case file, or an svZeroDSolver model (.json). */
static int load_any(const cli_options *o, vs_case **c) {
  char msg[1024];
  if (vs_svzerod_is_json_path(o->case_path)) return load_svzerod(o, c);
  if (vs_case_load_file(o->case_path, c, msg, sizeof msg)) {
    fprintf(stderr, "%s\n", msg);
    return -1;
  }
  return 0;
}

static int cmd_import(const cli_options *o) {
  vs_svzerod_options so = vs_svzerod_options_default();
  so.units = o->units;
  vs_svzerod_model *m = NULL;
  char msg[1024], output[PATH_MAX];
  if (o->output) {
    snprintf(output, sizeof output, "%s", o->output);
  } else {
    /* CASE.yaml beside nothing: the model's stem, in the current folder. */
    default_output(o->case_path, output, sizeof output);
    size_t n = strlen(output);
    if (n >= 3) snprintf(output + n - 3, sizeof output - (n - 3), ".yaml");
  }
  if (vs_svzerod_load_file(o->case_path, &so, &m, msg, sizeof msg) ||
      vs_svzerod_write_yaml(m, output, msg, sizeof msg)) {
    fprintf(stderr, "%s\n", msg);
    vs_svzerod_free(&m);
    return EXIT_BAD_INPUT;
  }
  if (m->notes[0]) fprintf(stderr, "venosim: %s: %s", o->case_path, m->notes);
  printf("wrote %s: %zu compartments (%zu junction nodes), %zu pressure "
         "nodes, %zu links, %zu flow sources; %ld cycles of %g s\n",
         output, vs_network_compartment_count(m->network), m->n_junction_nodes,
         vs_network_pressure_node_count(m->network),
         vs_network_link_count(m->network),
         vs_network_flow_source_count(m->network), m->n_cycles, m->period_s);
  vs_svzerod_free(&m);
  return EXIT_ALL_OK;
}

static int cmd_check(const cli_options *o) {
  vs_case *c = NULL;
  /* A case file with its sweep: every run checked, the runs counted. */
  if (!vs_svzerod_is_json_path(o->case_path))
    return vs_cli_check_case(o->case_path, o->threads);
  if (load_any(o, &c)) return EXIT_BAD_INPUT;
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
  char output[PATH_MAX];
  if (o->output)
    snprintf(output, sizeof output, "%s", o->output);
  else
    default_output(o->case_path, output, sizeof output);
  /* A case file: its sweep's runs, built one at a time (batch.c). */
  if (!vs_svzerod_is_json_path(o->case_path)) {
    vs_cli_run_options ro = run_options(o);
    return vs_cli_run_case(o->case_path, output, &ro, command_line);
  }
  if (load_any(o, &c)) return EXIT_BAD_INPUT;
  vs_run_spec run = {.name = c->name, .network = c->network, .solver = c->solver};
  int code = run_batch(&run, 1, o, output, c->path, c->text, c->resolved,
                       command_line, NULL, NULL);
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
                       NULL, command_line, demo.arms, demo.baseline);
  vs_demo_clear(&demo);
  return code;
}

int main(int argc, char **argv) {
  char command_line[4096];
  join_command_line(argc, argv, command_line, sizeof command_line);
  vs_cli_mpi_init(&argc, &argv); /* under mpirun only; finalised at exit */
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
  if (strcmp(argv[1], "import-svzerod") == 0) {
    if (parse_options(argc, argv, 2, 1, &o)) return EXIT_BAD_INPUT;
    return cmd_import(&o);
  }
  if (strcmp(argv[1], "schema") == 0 && argc == 2) {
    vs_case_print_schema(stdout);
    return EXIT_ALL_OK;
  }
  fprintf(stderr, "venosim: unknown command '%s' (see venosim --help)\n", argv[1]);
  return EXIT_BAD_INPUT;
}
