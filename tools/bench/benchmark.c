/* venosim-bench: how fast venosim is and how its cost grows (issue 8).
 *
 *   build/tools/venosim-bench [--quick] [--repeats N] [--max-n N]
 *                             [--only-chain N] [--only-import N]
 *                             [--only-default] [--arm NAME]
 *                             [--only-memory] [--order K] [--refine]
 *   build/tools/venosim-bench --chain-json N CYCLES
 *
 * Prints medians of several repeats (each run in a fresh system):
 *  (a) the default case: the built-in demonstration (tools/demo.c: the
 *      default leg through the whole protocol, walk included), each run;
 *  (b) a chain of N R-C-L vessels with one stenosis under pulsatile inflow,
 *      10 cycles of 1 s, written as an svZeroDSolver model and imported
 *      (svzerod.h), sparse KLU, BDF order <= 2 and <= 5, N = 10 ... 10000: wall
 *      time, CVODE's counters, cost per simulated second and the exponent
 *      of a least-squares fit cost ~ N^p (--refine: one vessel cut into N);
 *  (c) the share of time spent writing HDF5 (vs_writer) for one run;
 *  (d) peak memory (ru_maxrss of a child process running one case): with
 *      the samples in memory and streamed (the runner spilling them), for
 *      short runs and runs 4x as long (chain N=1000 10 s and 40 s, the
 *      default leg through its protocol and through one 4x as long).
 * --chain-json N CYCLES prints the chain as svZeroDSolver JSON (for
 * venosim run, /usr/bin/time -v).
 * --only-chain N runs one chain of N vessels once, --only-import N only
 * imports it (for perf, callgrind); --only-memory prints (d) alone;
 * --only-default prints (a) alone, and --arm NAME (healthy: the default
 * walking case, cases/healthy_leg.yaml) only that run of it.
 * Not a test: it asserts nothing; the numbers go in the notes. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"
#include "venosim/venosim.h"

enum { MAX_REPEATS = 50 };

/* The chain (mmHg, mL, s). By default every vessel is the same segment
 * (R, C, L below), so a longer chain is a bigger network of the same local
 * physics and the cost per state measures the solver. With --refine the
 * totals are fixed instead (N x these values at N = 10) and N only refines
 * one vessel: finer chains resolve faster waves, so they also need more
 * steps. */
#define CHAIN_R_VESSEL 0.05   /* mmHg s/mL */
#define CHAIN_C_VESSEL 0.2    /* mL/mmHg */
#define CHAIN_L_VESSEL 0.005  /* mmHg s^2/mL */
#define CHAIN_REFINE_N0 10    /* --refine: totals are those of 10 vessels */
#define CHAIN_STENOSIS 0.005 /* mmHg s^2/mL^2, in the middle vessel */
#define CHAIN_CYCLES 10
#define CHAIN_POINTS 101    /* per cycle: output every 10 ms */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *x, size_t n) {
  qsort(x, n, sizeof *x, cmp_double);
  return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* Least-squares slope of y against x. */
static double fit_slope(const double *x, const double *y, int n) {
  double mx = 0, my = 0, sxx = 0, sxy = 0;
  for (int i = 0; i < n; ++i) mx += x[i] / n, my += y[i] / n;
  for (int i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  return sxy / sxx;
}

/* ---- the chain as an svZeroDSolver model ----------------------------------- */

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    if ((size_t)n < *cap - *len) {
      *len += (size_t)n;
      return;
    }
    *cap = 2 * *cap + (size_t)n;
    *buf = realloc(*buf, *cap);
    if (!*buf) abort();
  }
}

static int g_refine; /* --refine */

/* JSON text of the chain (mmHg units). */
static char *chain_json(int n, int cycles) {
  double split = g_refine ? (double)CHAIN_REFINE_N0 / n : 1.0;
  size_t len = 0, cap = 4096;
  char *b = malloc(cap);
  if (!b) abort();
  static const double t[] = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5,
                             0.6, 0.7, 0.8, 0.9, 1.0};
  static const double q[] = {0.0, 20.0, 55.0, 60.0, 40.0, 20.0,
                             10.0, 5.0, 2.0, 1.0, 0.0};
  put(&b, &len, &cap,
      "{\"description\": \"benchmark chain of %d R-C-L vessels\",\n"
      " \"simulation_parameters\": {\"number_of_cardiac_cycles\": %d,"
      " \"number_of_time_pts_per_cardiac_cycle\": %d},\n"
      " \"boundary_conditions\": [\n"
      "  {\"bc_name\": \"INFLOW\", \"bc_type\": \"FLOW\", \"bc_values\": {\"Q\": [",
      n, cycles, CHAIN_POINTS);
  for (int i = 0; i < 11; ++i) put(&b, &len, &cap, "%s%g", i ? ", " : "", q[i]);
  put(&b, &len, &cap, "], \"t\": [");
  for (int i = 0; i < 11; ++i) put(&b, &len, &cap, "%s%g", i ? ", " : "", t[i]);
  put(&b, &len, &cap,
      "]}},\n  {\"bc_name\": \"OUT\", \"bc_type\": \"RCR\", \"bc_values\":"
      " {\"Rp\": 0.1, \"C\": 1.0, \"Rd\": 1.0, \"Pd\": 5.0}}],\n"
      " \"junctions\": [\n");
  for (int i = 0; i + 1 < n; ++i)
    put(&b, &len, &cap,
        "  {\"junction_name\": \"J%d\", \"junction_type\": \"NORMAL_JUNCTION\","
        " \"inlet_vessels\": [%d], \"outlet_vessels\": [%d]}%s\n",
        i, i, i + 1, i + 2 < n ? "," : "");
  put(&b, &len, &cap, " ],\n \"vessels\": [\n");
  for (int i = 0; i < n; ++i) {
    put(&b, &len, &cap,
        "  {\"vessel_id\": %d, \"vessel_name\": \"v%d\", "
        "\"zero_d_element_type\": \"BloodVessel\", \"zero_d_element_values\": "
        "{\"R_poiseuille\": %.17g, \"C\": %.17g, \"L\": %.17g",
        i, i, CHAIN_R_VESSEL * split, CHAIN_C_VESSEL * split,
        CHAIN_L_VESSEL * split);
    if (i == n / 2)
      put(&b, &len, &cap, ", \"stenosis_coefficient\": %g", CHAIN_STENOSIS);
    put(&b, &len, &cap, "}");
    if (i == 0 || i == n - 1)
      put(&b, &len, &cap, ", \"boundary_conditions\": {%s%s%s}",
          i == 0 ? "\"inlet\": \"INFLOW\"" : "", i == 0 && n == 1 ? ", " : "",
          i == n - 1 ? "\"outlet\": \"OUT\"" : "");
    put(&b, &len, &cap, "}%s\n", i + 1 < n ? "," : "");
  }
  put(&b, &len, &cap, " ]\n}\n");
  return b;
}

static vs_svzerod_model *chain_model(int n, int cycles, double *import_s) {
  char *json = chain_json(n, cycles), msg[1024];
  vs_svzerod_options o = vs_svzerod_options_default();
  o.units = VS_SVZEROD_UNITS_MMHG;
  vs_svzerod_model *m = NULL;
  double t0 = now_s();
  int rc = vs_svzerod_load_string(json, strlen(json), "chain.json", &o, &m,
                                  msg, sizeof msg);
  if (import_s) *import_s = now_s() - t0;
  free(json);
  if (rc) {
    fprintf(stderr, "venosim-bench: chain of %d: %s\n", n, msg);
    exit(1);
  }
  return m;
}

/* ---- one run ---------------------------------------------------------------- */

typedef struct {
  double wall_s;             /* median of the repeats */
  double wall_min_s, wall_max_s; /* their scatter */
  vs_solver_stats st;
  int ok;
} run_cost;

/* Build the system and integrate; the result is kept if `keep`. */
static run_cost run_once(const vs_network *net, const vs_solver_options *o,
                         vs_run_result **keep) {
  run_cost c = {0};
  vs_system *sys = NULL;
  vs_run_result *res = NULL;
  char msg[512];
  double t0 = now_s();
  if (vs_system_create(net, &sys, msg, sizeof msg) ||
      vs_result_create(&res, "bench")) {
    fprintf(stderr, "venosim-bench: %s\n", msg);
    exit(1);
  }
  int rc = vs_integrate(sys, o, res);
  c.wall_s = c.wall_min_s = c.wall_max_s = now_s() - t0;
  c.st = res->stats;
  c.ok = rc == 0 && res->status == VS_RUN_OK;
  if (!c.ok) fprintf(stderr, "venosim-bench: run failed: %s\n", res->message);
  vs_system_free(&sys);
  if (keep) *keep = res;
  else vs_result_free(&res);
  return c;
}

/* Medians over `repeats` runs (the counters do not vary between repeats). */
static run_cost run_median(const vs_network *net, const vs_solver_options *o,
                           int repeats) {
  double w[MAX_REPEATS];
  run_cost c = {0};
  for (int i = 0; i < repeats; ++i) {
    c = run_once(net, o, NULL);
    w[i] = c.wall_s;
  }
  c.wall_s = median(w, (size_t)repeats); /* sorts w */
  c.wall_min_s = w[0];
  c.wall_max_s = w[repeats - 1];
  return c;
}

static void print_cost_header(const char *first) {
  printf("| %-22s | states | nnz | wall ms: median (min to max) | steps | "
         "RHS | Jac | lin setups | Newton iters | err fails | order |\n",
         first);
  printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
}

static void print_cost(const char *label, const run_cost *c) {
  printf("| %-22s | %ld | %ld | %.2f (%.2f to %.2f) | %ld | %ld | %ld | %ld | "
         "%ld | %ld | %d |%s\n",
         label, c->st.n_states, c->st.jac_nonzeros, 1e3 * c->wall_s,
         1e3 * c->wall_min_s, 1e3 * c->wall_max_s,
         c->st.steps, c->st.rhs_evals, c->st.jac_evals, c->st.lin_setups,
         c->st.nonlin_iters, c->st.error_test_fails, c->st.last_order,
         c->ok ? "" : " FAILED");
}

/* ---- (a) the default case ------------------------------------------------------- */

/* Each run of the demonstration (only the one named `arm`, if not NULL),
 * `repeats` times; returns 0 or 1 if `arm` names no run. */
static int default_section(const vs_demo *demo, int repeats, const char *arm) {
  int found = 0;
  for (size_t i = 0; i < demo->n_runs; ++i)
    found += !arm || strcmp(arm, demo->runs[i].name) == 0;
  if (!found) {
    fprintf(stderr, "venosim-bench: the demonstration has no run '%s'\n", arm);
    return 1;
  }
  printf("## (a) Default case: the built-in demonstration (the default leg "
         "through the protocol, walk included)\n\n%s\n%zu runs of %g s "
         "simulated each; median of %d repeats. The run 'healthy' is the "
         "default walking case (cases/healthy_leg.yaml).\n\n",
         demo->description, demo->n_runs, demo->runs[0].solver.t_end_s,
         repeats);
  print_cost_header("run");
  double total = 0;
  for (size_t i = 0; i < demo->n_runs; ++i) {
    if (arm && strcmp(arm, demo->runs[i].name) != 0) continue;
    run_cost c = run_median(demo->runs[i].network, &demo->runs[i].solver,
                            repeats);
    print_cost(demo->runs[i].name, &c);
    total += c.wall_s;
  }
  printf("\nSum of the medians of the %d run%s shown: %.1f ms (one "
         "thread).\n\n", found, found > 1 ? "s" : "", 1e3 * total);
  return 0;
}

/* ---- (c) HDF5 share ------------------------------------------------------------ */

/* Writer metadata for n_runs, as the command's; with one /summary column
 * per metric (cols: room for vs_metrics_count()) unless cols is NULL. */
static vs_output_meta bench_meta(size_t n_runs, vs_column_info *cols) {
  vs_output_meta meta = {.creator = "venosim-bench",
                         .version = VS_VERSION_STRING,
                         .git_commit = VS_GIT_COMMIT,
                         .author = "bench",
                         .command_line = "venosim-bench",
                         .threads = 1,
                         .n_runs = n_runs,
                         .sundials_version = vs_sundials_version()};
  if (!cols) return meta;
  const vs_metric_info *m = vs_metrics_table();
  for (size_t i = 0; i < vs_metrics_count(); ++i)
    cols[i] = (vs_column_info){m[i].name, m[i].unit, m[i].description};
  meta.n_summary_columns = vs_metrics_count();
  meta.summary_columns = cols;
  return meta;
}

/* Seconds to write one result through vs_writer (open, add, finish). */
static double write_seconds(const vs_run_result *res) {
  char dir[] = "/tmp/venosim-bench-XXXXXX", path[600], msg[1024];
  if (!mkdtemp(dir)) {
    perror("venosim-bench: mkdtemp");
    exit(1);
  }
  snprintf(path, sizeof path, "%s/bench.h5", dir);
  vs_output_meta meta = bench_meta(1, NULL);
  vs_writer *w = NULL;
  double t0 = now_s();
  if (vs_writer_open(&w, path, &meta, msg, sizeof msg) ||
      vs_writer_add_run(w, 0, res, NULL, msg, sizeof msg) ||
      vs_writer_finish(&w, msg, sizeof msg)) {
    fprintf(stderr, "venosim-bench: writing %s: %s\n", path, msg);
    exit(1);
  }
  double dt = now_s() - t0;
  remove(path);
  rmdir(dir);
  return dt;
}

static void hdf5_share(const char *label, const vs_network *net,
                       const vs_solver_options *o, int repeats) {
  double wi[MAX_REPEATS], ww[MAX_REPEATS];
  size_t bytes = 0;
  for (int i = 0; i < repeats; ++i) {
    vs_run_result *res = NULL;
    run_cost c = run_once(net, o, &res);
    wi[i] = c.wall_s;
    ww[i] = write_seconds(res);
    bytes = 0;
    for (size_t s = 0; s < res->n_series; ++s)
      bytes += res->n_samples * res->series[s].n_columns * sizeof(double);
    vs_result_free(&res);
  }
  double a = median(wi, (size_t)repeats), b = median(ww, (size_t)repeats);
  printf("| %-22s | %.2f | %.2f | %.1f %% | %.1f |\n", label, 1e3 * a, 1e3 * b,
         100.0 * b / (a + b), (double)bytes / 1048576.0);
}

/* ---- (d) peak memory -------------------------------------------------------------- */

typedef enum { CASE_DEMO, CASE_CHAIN, CASE_LEG } case_kind;

/* How a peak-memory child runs its case:
 *  PATH_INTEGRATE  vs_integrate alone, samples in memory (the library's
 *                  default);
 *  PATH_MEMORY     what the command did before samples were streamed:
 *                  samples in memory, then the metrics and vs_writer (open,
 *                  add, finish) on that result;
 *  PATH_STREAM     what the command does: vs_runner_execute with a writer,
 *                  the run spilling its samples (result.h), metrics reading
 *                  a column at a time, the writer a block of rows. */
typedef enum { PATH_INTEGRATE, PATH_MEMORY, PATH_STREAM } run_path;
static const char *const k_path_names[] = {"integrate", "memory", "stream"};

/* The default protocol with every timed phase `scale` times as long (and
 * scale times the steps): the same case, a longer run. */
static vs_leg_protocol leg_protocol(int scale) {
  vs_leg_protocol p = vs_leg_protocol_default();
  p.supine_s *= scale;
  p.exercise_s *= scale;
  p.elevation_s *= scale;
  p.stand_up_s *= scale;
  p.standing_s *= scale;
  p.tiptoe_refill_s *= scale;
  p.walk_steps *= (unsigned)scale;
  p.recovery_s *= scale;
  p.cuff_hold_s *= scale;
  p.cuff_observe_s *= scale;
  p.valsalva_s *= scale;
  p.valsalva_observe_s *= scale;
  return p;
}

/* The healthy default leg through leg_protocol(scale), as the demo runs
 * it. */
static vs_network *leg_network(int scale, vs_solver_options *o) {
  vs_leg leg;
  vs_network *net = NULL;
  char msg[512] = "";
  vs_leg_protocol p = leg_protocol(scale);
  if (vs_leg_default(&leg) || vs_leg_build(&leg, &p, &net, msg, sizeof msg)) {
    fprintf(stderr, "venosim-bench: leg: %s\n", msg);
    exit(1);
  }
  *o = vs_leg_solver_options(&leg, &p);
  vs_leg_clear(&leg);
  return net;
}

/* The largest run's output, seen by run_path_case: samples and MiB of its
 * series and time column. */
static double g_out_samples = NAN, g_out_mib = NAN;

/* Runs `runs` the way `path` says; results written (PATH_MEMORY,
 * PATH_STREAM) to a file in a fresh temporary folder, removed after. */
static void run_path_case(const vs_run_spec *runs, size_t n, run_path path) {
  char dir[] = "/tmp/venosim-bench-XXXXXX", out[600], msg[1024];
  vs_column_info *cols = calloc(vs_metrics_count(), sizeof *cols);
  double *row = malloc((vs_metrics_count() + 1) * sizeof *row);
  if (!cols || !row || !mkdtemp(dir)) {
    perror("venosim-bench: (d)");
    exit(1);
  }
  snprintf(out, sizeof out, "%s/peak.h5", dir);
  vs_output_meta meta = bench_meta(n, cols);
  vs_writer *w = NULL;
  if (path != PATH_INTEGRATE &&
      vs_writer_open(&w, out, &meta, msg, sizeof msg)) {
    fprintf(stderr, "venosim-bench: %s\n", msg);
    exit(1);
  }
  if (path == PATH_STREAM) {
    vs_runner_options ro = {.threads = 1, .progress = VS_PROGRESS_NONE};
    vs_batch_summary sum;
    if (vs_runner_execute(runs, n, &ro, w, &sum, msg, sizeof msg)) {
      fprintf(stderr, "venosim-bench: %s\n", msg);
      exit(1);
    }
    vs_batch_summary_clear(&sum);
  } else {
    for (size_t i = 0; i < n; ++i) {
      vs_run_result *res = NULL;
      run_once(runs[i].network, &runs[i].solver, &res);
      double values = (double)res->n_samples;
      for (size_t k = 0; k < res->n_series; ++k)
        values += (double)(res->n_samples * res->series[k].n_columns);
      double mib = values * sizeof(double) / 1048576.0;
      if (isnan(g_out_mib) || mib > g_out_mib) {
        g_out_samples = (double)res->n_samples;
        g_out_mib = mib;
      }
      if (path == PATH_MEMORY) {
        res->network = runs[i].network;
        vs_metrics_compute(res, row);
        res->network = NULL;
        if (vs_writer_add_run(w, i, res, row, msg, sizeof msg)) {
          fprintf(stderr, "venosim-bench: %s\n", msg);
          exit(1);
        }
      }
      vs_result_free(&res);
    }
  }
  if (w && vs_writer_finish(&w, msg, sizeof msg)) {
    fprintf(stderr, "venosim-bench: %s\n", msg);
    exit(1);
  }
  remove(out);
  rmdir(dir);
  free(row);
  free(cols);
}

/* Run one case and return this process's peak resident memory, MiB. n:
 * the chain's vessels; scale: cycles of the chain, or the leg protocol's
 * lengthening. */
static double run_case_peak(case_kind kind, int n, int scale, run_path path) {
  if (kind == CASE_DEMO) {
    vs_demo demo;
    char msg[512];
    if (vs_demo_create(&demo, msg, sizeof msg)) exit(1);
    run_path_case(demo.runs, demo.n_runs, path);
    vs_demo_clear(&demo);
  } else if (kind == CASE_LEG) {
    vs_run_spec spec = {.name = "leg"};
    vs_network *net = leg_network(scale, &spec.solver);
    spec.network = net;
    run_path_case(&spec, 1, path);
    vs_network_free(&net);
  } else {
    vs_svzerod_model *m = chain_model(n, scale, NULL);
    vs_run_spec spec = {.name = "chain", .network = m->network,
                        .solver = m->solver};
    spec.solver.linear_solver = VS_LINSOL_KLU;
    run_path_case(&spec, 1, path);
    vs_svzerod_free(&m);
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_maxrss / 1024.0; /* Linux: KiB */
}

/* The same in a fresh process (this program again, --peak ...), so that
 * nothing this process allocated before counts. samples, mib (may be
 * NULL): the output's size, as run_path_case saw it. */
static double child_peak_mib(case_kind kind, int n, int scale, run_path path,
                             double *samples, double *mib) {
  char exe[4096], cmd[4200];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return NAN;
  exe[len] = '\0';
  snprintf(cmd, sizeof cmd, "'%s' --peak %s %d %d %s %s", exe,
           kind == CASE_DEMO ? "demo" : kind == CASE_LEG ? "leg" : "chain", n,
           scale, k_path_names[path], g_refine ? "--refine" : "");
  fflush(stdout);
  FILE *p = popen(cmd, "r");
  double peak = NAN, ns = NAN, out_mib = NAN;
  if (!p) return NAN;
  if (fscanf(p, "%lf %lf %lf", &peak, &ns, &out_mib) != 3) peak = NAN;
  pclose(p);
  if (samples) *samples = ns;
  if (mib) *mib = out_mib;
  return peak;
}

/* One row of (d): the case, its output's size and its peak each way. */
static void peak_row(const char *label, case_kind kind, int n, int scale) {
  double samples = NAN, mib = NAN;
  double a = child_peak_mib(kind, n, scale, PATH_INTEGRATE, &samples, &mib);
  double b = child_peak_mib(kind, n, scale, PATH_MEMORY, NULL, NULL);
  double c = child_peak_mib(kind, n, scale, PATH_STREAM, NULL, NULL);
  printf("| %s | %.0f | %.1f | %.1f | %.1f | %.1f |\n", label, samples, mib,
         a, b, c);
}

static const int sizes[] = {10, 100, 1000, 10000};

/* (b): the chain at N = 10 ... max_n with BDF order <= `order`. */
static void chain_section(int order, int max_n, int repeats) {
  double logn[4], logc[4], logs[4];
  int nfit = 0;
  printf("## (b) Chain of N R-C-L vessels, one stenosis, pulsatile inflow, "
         "%d cycles of 1 s, BDF order <= %d\n\nImported from svZeroDSolver JSON (mmHg units), "
         "KLU, BDF order <= %d, rtol 1e-6; cost per step = wall / steps. %s (R %g mmHg s/mL, C %g mL/mmHg, "
         "L %g mmHg s^2/mL per vessel%s).\n\n",
         CHAIN_CYCLES, order, order,
         g_refine ? "Totals fixed: N refines one vessel"
                  : "Every vessel the same segment: N grows the network",
         CHAIN_R_VESSEL, CHAIN_C_VESSEL, CHAIN_L_VESSEL,
         g_refine ? " at N = 10, divided by N/10 beyond" : "");
  printf("| N | import ms | states | nnz | wall ms (median) | ms per "
         "simulated s | ns per step per state | steps | RHS | Jac | "
         "lin setups | Newton iters | err fails | repeats |\n");
  printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
         "---:|\n");
  for (int k = 0; k < 4 && sizes[k] <= max_n; ++k) {
    int n = sizes[k];
    int rep = repeats ? repeats : n >= 10000 ? 3 : n >= 1000 ? 3 : 5;
    double import_s = 0;
    vs_svzerod_model *m = chain_model(n, CHAIN_CYCLES, &import_s);
    vs_solver_options o = m->solver;
    o.linear_solver = VS_LINSOL_KLU;
    o.max_order = order;
    run_cost c = run_median(m->network, &o, rep);
    double per_s = c.wall_s / o.t_end_s;
    printf("| %d | %.1f | %ld | %ld | %.1f | %.2f | %.3f | %ld | %ld | %ld | "
           "%ld | %ld | %ld | %d |%s\n",
           n, 1e3 * import_s, c.st.n_states, c.st.jac_nonzeros, 1e3 * c.wall_s,
           1e3 * per_s,
           1e9 * c.wall_s / (double)c.st.steps / (double)c.st.n_states,
           c.st.steps,
           c.st.rhs_evals, c.st.jac_evals, c.st.lin_setups, c.st.nonlin_iters,
           c.st.error_test_fails, rep, c.ok ? "" : " FAILED");
    if (c.ok) {
      logn[nfit] = log((double)n);
      logc[nfit] = log(per_s);
      logs[nfit] = log(c.wall_s / (double)c.st.steps);
      nfit++;
    }
    vs_svzerod_free(&m);
  }
  if (nfit >= 2) {
    printf("\nScaling: cost per simulated second ~ N^%.3f (least squares over "
           "%d sizes)", fit_slope(logn, logc, nfit), nfit);
    if (nfit >= 3) {
      double p = (logc[nfit - 1] - logc[nfit - 2]) /
                 (logn[nfit - 1] - logn[nfit - 2]);
      printf("; N^%.3f between the two largest", p);
    }
    printf(". Cost per step ~ N^%.3f (the step count changes with the "
           "dynamics of the longer chain; the work per step is the solver's "
           "own scaling).\n\n", fit_slope(logn, logs, nfit));
  }

}

/* (d): peak memory of each case three ways (run_path), short runs and runs
 * 4x as long. */
static void memory_section(int max_n) {
  printf("## (d) Peak memory (ru_maxrss of a fresh process running one "
         "case, MiB)\n\n"
         "Each case three ways: vs_integrate alone with its samples in memory "
         "(the library's default); samples in memory, then metrics and the "
         "writer (the command before streaming); the runner with a writer, "
         "spilling samples beyond %zu KiB per series to a temporary file "
         "(the command now). Output: samples and MiB of series of the "
         "largest run.\n\n"
         "| case | samples | output MiB | integrate, in memory | in memory + "
         "metrics + writer | runner, streaming |\n"
         "|---|---:|---:|---:|---:|---:|\n",
         VS_SAMPLE_MEMORY_BYTES >> 10);
  peak_row("all demonstration runs", CASE_DEMO, 0, 0);
  for (int k = 0; k < 4 && sizes[k] <= max_n; ++k) {
    char label[64];
    snprintf(label, sizeof label, "chain N=%d, %d s", sizes[k], CHAIN_CYCLES);
    peak_row(label, CASE_CHAIN, sizes[k], CHAIN_CYCLES);
  }
  {
    int n = max_n >= 1000 ? 1000 : max_n;
    char label[64];
    snprintf(label, sizeof label, "chain N=%d, %d s (4x)", n, 4 * CHAIN_CYCLES);
    peak_row(label, CASE_CHAIN, n, 4 * CHAIN_CYCLES);
  }
  peak_row("default leg, default protocol", CASE_LEG, 0, 1);
  peak_row("default leg, protocol 4x as long", CASE_LEG, 0, 4);
  printf("\n(Compare each case with its 4x longer run: in memory the peak "
         "grows with the run's length, streaming it should not.)\n");
}

/* ---- main ------------------------------------------------------------------------- */

static int parse_int(const char *s, int lo, int hi, const char *what) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || !end || *end || v < lo || v > hi) {
    fprintf(stderr, "venosim-bench: %s must be %d to %d, got '%s'\n", what, lo,
            hi, s);
    exit(1);
  }
  return (int)v;
}

int main(int argc, char **argv) {
  int quick = 0, repeats = 0, max_n = 10000, only_chain = 0, order = 5;
  int only_import = 0, order_given = 0, only_memory = 0, only_default = 0;
  const char *arm = NULL;
  if (argc >= 6 && strcmp(argv[1], "--peak") == 0) {
    /* Internal: one case in this fresh process (demo|chain|leg, N, cycles
     * or lengthening, integrate|memory|stream): its peak memory out, and
     * the output's samples and MiB. */
    g_refine = argc >= 7 && strcmp(argv[6], "--refine") == 0;
    case_kind kind = strcmp(argv[2], "demo") == 0  ? CASE_DEMO
                     : strcmp(argv[2], "leg") == 0 ? CASE_LEG
                                                   : CASE_CHAIN;
    run_path path = PATH_INTEGRATE;
    for (int k = 0; k < 3; ++k)
      if (strcmp(argv[5], k_path_names[k]) == 0) path = (run_path)k;
    double peak = run_case_peak(kind, parse_int(argv[3], 0, 1000000, "N"),
                                parse_int(argv[4], 0, 1000000, "scale"), path);
    printf("%.3f %.0f %.3f\n", peak, g_out_samples, g_out_mib);
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "--chain-json") == 0) {
    /* The chain as svZeroDSolver JSON, for the command (venosim run). */
    char *json = chain_json(parse_int(argv[2], 1, 1000000, "N"),
                            parse_int(argv[3], 1, 1000000, "cycles"));
    fputs(json, stdout);
    free(json);
    return 0;
  }
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) quick = 1;
    else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
      repeats = parse_int(argv[++i], 1, MAX_REPEATS, "--repeats");
    else if (strcmp(argv[i], "--max-n") == 0 && i + 1 < argc)
      max_n = parse_int(argv[++i], 10, 1000000, "--max-n");
    else if (strcmp(argv[i], "--only-chain") == 0 && i + 1 < argc)
      only_chain = parse_int(argv[++i], 1, 1000000, "--only-chain");
    else if (strcmp(argv[i], "--order") == 0 && i + 1 < argc)
      order = parse_int(argv[++i], 1, 5, "--order"), order_given = 1;
    else if (strcmp(argv[i], "--refine") == 0)
      g_refine = 1;
    else if (strcmp(argv[i], "--only-memory") == 0)
      only_memory = 1;
    else if (strcmp(argv[i], "--only-default") == 0)
      only_default = 1;
    else if (strcmp(argv[i], "--arm") == 0 && i + 1 < argc)
      arm = argv[++i], only_default = 1;
    else if (strcmp(argv[i], "--only-import") == 0 && i + 1 < argc)
      only_import = parse_int(argv[++i], 1, 1000000, "--only-import");
    else {
      fprintf(stderr,
              "usage: venosim-bench [--quick] [--repeats N] [--max-n N] "
              "[--only-chain N] [--only-import N] [--only-memory] "
              "[--only-default] [--arm NAME] [--order K] [--refine]\n"
              "       venosim-bench --chain-json N CYCLES\n");
      return 1;
    }
  }
  if (only_memory) {
    /* (d) alone. */
    memory_section(max_n);
    return 0;
  }
  if (only_import) {
    /* The svZeroDSolver import alone, for profilers. */
    double import_s = 0;
    vs_svzerod_model *m = chain_model(only_import, CHAIN_CYCLES, &import_s);
    printf("import of %d vessels: %.1f ms\n", only_import, 1e3 * import_s);
    vs_svzerod_free(&m);
    return 0;
  }
  if (only_chain) {
    /* One run, for profilers. */
    vs_svzerod_model *m = chain_model(only_chain, CHAIN_CYCLES, NULL);
    vs_solver_options o = m->solver;
    o.linear_solver = VS_LINSOL_KLU;
    o.max_order = order;
    run_cost c = run_once(m->network, &o, NULL);
    print_cost_header("chain");
    print_cost("chain", &c);
    vs_svzerod_free(&m);
    return c.ok ? 0 : 2;
  }
  if (only_default) {
    /* Section (a) alone, or one run of it, for timing and profilers. */
    vs_demo demo;
    char msg[512];
    if (vs_demo_create(&demo, msg, sizeof msg)) {
      fprintf(stderr, "venosim-bench: demo: %s\n", msg);
      return 1;
    }
    int rc = default_section(&demo, repeats ? repeats : 7, arm);
    vs_demo_clear(&demo);
    return rc;
  }
  if (quick) max_n = max_n < 1000 ? max_n : 1000;
  double t_total = now_s();
  printf("# venosim-bench (venosim %s, commit %s; SUNDIALS %s, HDF5 %s)\n\n",
         VS_VERSION_STRING, VS_GIT_COMMIT, vs_sundials_version(),
         vs_hdf5_version());

  /* (a) */
  vs_demo demo;
  char msg[512];
  if (vs_demo_create(&demo, msg, sizeof msg)) {
    fprintf(stderr, "venosim-bench: demo: %s\n", msg);
    return 1;
  }
  default_section(&demo, repeats ? repeats : quick ? 3 : 7, NULL);

  /* (b): order 2 (A-stable, for stiff oscillatory chains) and 5 (CVODE's
   * default), or the order asked for. */
  if (order_given) {
    chain_section(order, max_n, repeats);
  } else {
    chain_section(2, max_n, repeats);
    chain_section(5, max_n, repeats);
  }

  /* (c) */
  int rep_c = repeats ? repeats : 3;
  printf("## (c) Share of time writing HDF5 (vs_writer: open, add the run, "
         "assemble; one run, median of %d)\n\n", rep_c);
  printf("| case | integrate ms | write ms | write share | series MiB |\n"
         "|---|---:|---:|---:|---:|\n");
  hdf5_share(demo.runs[0].name, demo.runs[0].network, &demo.runs[0].solver,
             rep_c);
  {
    int n = max_n >= 1000 ? 1000 : max_n;
    vs_svzerod_model *m = chain_model(n, CHAIN_CYCLES, NULL);
    vs_solver_options o = m->solver;
    o.linear_solver = VS_LINSOL_KLU;
    o.max_order = order;
    char label[64];
    snprintf(label, sizeof label, "chain N=%d", n);
    hdf5_share(label, m->network, &o, rep_c);
    vs_svzerod_free(&m);
  }
  vs_demo_clear(&demo);

  /* (d) */
  printf("\n");
  memory_section(max_n);
  printf("\nBenchmark total: %.1f s\n", now_s() - t_total);
  return 0;
}
