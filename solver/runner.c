/* Runs in parallel, results to the writer as they finish (runner.h).
 *
 * Each OpenMP thread takes the next run, asks the source to build it, runs
 * it, hands the result and its summary row (the source's input values, then
 * the metrics) to the writer, and frees everything before taking another:
 * memory holds one run per thread, whatever the number of runs. Runs spill
 * their samples (result.h: a memory budget per series, the rest in an
 * unnamed temporary file), so a run's memory does not grow with its
 * length either: the metrics read one column at a time and the writer a
 * block of rows at a time. Progress
 * goes to stderr under one lock; with a writer, the JSONL line of a run is
 * written when the writer reports it committed (safe in the file). */
#include "venosim/runner.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"
#include "venosim/error.h"
#include "venosim/metrics.h"

/* The status line is redrawn at most this often. */
#define BAR_INTERVAL_S 0.2

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Shared by the threads (and the writer's listener) under `lock`. */
typedef struct {
  const vs_runner_options *opt;
  vs_batch_summary *summary;
  pthread_mutex_t lock;
  size_t total;      /* this process's runs */
  size_t computed;   /* computed in this session */
  size_t committed;  /* computed and committed in this session */
  size_t failed;     /* failed among this process's runs */
  size_t todo;       /* runs to compute in this session */
  double t0, last_bar;
  double *wall;      /* per run: its wall time, for the JSONL line */
} progress;

/* One run from spec to result; never fails silently: every problem ends up
 * in the result's status and message. */
static vs_run_result *execute_one(const vs_run_job *job) {
  vs_run_result *res = NULL;
  if (vs_result_create(&res, job->name)) return NULL;
  double lumen_cm = NAN;
  const char *site = NULL;
  if (vs_network_site(job->network, &site, &lumen_cm)) {
    snprintf(res->site_link, sizeof res->site_link, "%s", site ? site : "");
    res->site_lumen_mm = 10.0 * lumen_cm;
  }
  res->viscosity_mpa_s = vs_network_viscosity_mpa_s(job->network);
  /* What the network joins, for the results file (diagrams) and the leg's
   * sites; a run goes on without it. */
  (void)vs_result_describe_network(res, job->network);
  vs_system *sys = NULL;
  char msg[512];
  int rc = vs_system_create(job->network, &sys, msg, sizeof msg);
  if (rc) {
    vs_result_fail(res, "cannot build the ODE system: %s", msg);
  } else if (vs_result_set_spill(res, NULL) != VS_OK) {
    vs_result_fail(res, "out of memory for the run's output");
    vs_system_free(&sys);
  } else {
    vs_integrate(sys, &job->solver, res);
    vs_system_free(&sys);
  }
  res->n_metrics = vs_metrics_count();
  res->metrics = malloc((res->n_metrics + 1) * sizeof *res->metrics);
  res->network = job->network;
  if (res->metrics)
    vs_metrics_compute(res, res->metrics);
  else
    res->n_metrics = 0;
  res->network = NULL;
  return res;
}

/* A run the source could not build: failed, with the source's reason. */
static vs_run_result *failed_run(const vs_run_job *job, size_t index,
                                 const char *why) {
  char name[32];
  vs_run_result *res = NULL;
  snprintf(name, sizeof name, "run-%06zu", index);
  if (vs_result_create(&res, job->name ? job->name : name)) return NULL;
  vs_result_fail(res, "%s", why[0] ? why : "the run could not be built");
  res->n_metrics = vs_metrics_count();
  res->metrics = malloc((res->n_metrics + 1) * sizeof *res->metrics);
  if (res->metrics)
    vs_metrics_compute(res, res->metrics); /* NaN: the run failed */
  else
    res->n_metrics = 0;
  return res;
}

/* Progress lines are built whole and written with one call: stderr is
 * unbuffered, and under mpirun several processes share it. */
typedef struct {
  char s[1024];
  size_t n;
} line_buf;

static void put(line_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(line_buf *b, const char *fmt, ...) {
  if (b->n >= sizeof b->s) return;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
  va_end(ap);
  if (w > 0) b->n += (size_t)w;
  if (b->n >= sizeof b->s) b->n = sizeof b->s - 1;
}

/* Status line, at most every BAR_INTERVAL_S (and always at the end). */
static void draw_bar(progress *p, int final) {
  double now = now_s();
  if (!final && now - p->last_bar < BAR_INTERVAL_S) return;
  p->last_bar = now;
  double elapsed = now - p->t0;
  size_t resumed = p->summary->n_resumed;
  double left = p->computed ? elapsed * (double)(p->todo - p->computed) /
                                  (double)p->computed
                            : 0.0;
  line_buf b = {.n = 0};
  put(&b, "\r[%zu/%zu] failed %zu", resumed + p->computed, p->total,
      p->failed);
  if (resumed) put(&b, ", resumed %zu", resumed);
  if (p->opt->n_ranks > 1) put(&b, " (rank %d)", p->opt->rank);
  put(&b, ", elapsed %.1f s, remaining %.1f s %s", elapsed, left,
      final ? "\n" : "");
  fputs(b.s, stderr);
  fflush(stderr);
}

static void json_line(progress *p, size_t index, const char *name,
                      int status) {
  const vs_runner_options *o = p->opt;
  line_buf b = {.n = 0};
  char esc[512];
  size_t k = 0;
  /* Run names are user text: escape quotes and backslashes, drop controls. */
  for (const char *c = name ? name : ""; *c && k + 2 < sizeof esc; ++c) {
    if (*c == '"' || *c == '\\') esc[k++] = '\\';
    if ((unsigned char)*c >= 0x20) esc[k++] = *c;
  }
  esc[k] = '\0';
  double wall = isfinite(p->wall[index]) ? p->wall[index] : 0.0;
  put(&b,
      "{\"index\":%zu,\"run\":\"%s\",\"status\":\"%s\",\"done\":%zu,"
      "\"total\":%zu,\"failed\":%zu,\"wall_time_s\":%.6f,\"elapsed_s\":%.3f",
      index, esc, status == VS_RUN_OK ? "ok" : "failed",
      p->summary->n_resumed + p->committed, p->total, p->failed, wall,
      now_s() - p->t0);
  if (o->n_ranks > 1) put(&b, ",\"rank\":%d", o->rank);
  put(&b, "}\n");
  fputs(b.s, stderr);
  fflush(stderr);
}

/* The writer's listener: run `index` is safe in the file. */
static void on_commit(void *user, size_t index, const char *name,
                      int status) {
  progress *p = user;
  pthread_mutex_lock(&p->lock);
  p->committed++;
  if (p->opt->progress == VS_PROGRESS_JSONL)
    json_line(p, index, name, status);
  pthread_mutex_unlock(&p->lock);
}

static int alloc_summary(vs_batch_summary *s, size_t n, int metrics) {
  size_t nm = vs_metrics_count();
  memset(s, 0, sizeof *s);
  s->n_runs = n;
  if (n && nm > SIZE_MAX / sizeof(double) / n) return VS_ENOMEM;
  s->status = calloc(n + 1, sizeof *s->status);
  s->metrics = metrics ? malloc((n * nm + 1) * sizeof *s->metrics) : NULL;
  s->messages = calloc(n + 1, sizeof *s->messages);
  if (!s->status || (metrics && !s->metrics) || !s->messages) {
    vs_batch_summary_clear(s);
    return VS_ENOMEM;
  }
  for (size_t i = 0; metrics && i < n * nm; ++i) s->metrics[i] = NAN;
  return VS_OK;
}

int vs_runner_run(const vs_run_source *src, const vs_runner_options *opt,
                  vs_writer *w, vs_batch_summary *summary, char *msg,
                  size_t msglen) {
  if (!src || !opt || !summary || !src->acquire) return VS_EINVAL;
  const size_t n = src->n_runs, nm = vs_metrics_count();
  const size_t ni = src->n_inputs, row_len = ni + nm;
  const int n_ranks = opt->n_ranks > 1 ? opt->n_ranks : 1;
  const int rank = n_ranks > 1 ? opt->rank : 0;
  if (rank < 0 || rank >= n_ranks) return VS_EINVAL;
  if (alloc_summary(summary, n, !opt->no_metrics)) {
    snprintf(msg, msglen, "out of memory for %zu runs", n);
    return VS_ENOMEM;
  }
  progress p = {.opt = opt, .summary = summary, .t0 = now_s()};
  size_t *todo = malloc((n + 1) * sizeof *todo);
  double *row = malloc((row_len + 1) * sizeof *row);
  p.wall = malloc((n + 1) * sizeof *p.wall);
  if (!todo || !row || !p.wall) {
    free(todo);
    free(row);
    free(p.wall);
    vs_batch_summary_clear(summary);
    snprintf(msg, msglen, "out of memory for %zu runs", n);
    return VS_ENOMEM;
  }
  pthread_mutex_init(&p.lock, NULL);

  /* This process's runs; those the writer holds are done already. */
  for (size_t i = (size_t)rank; i < n; i += (size_t)n_ranks) {
    p.total++;
    p.wall[i] = NAN;
    int st = w ? vs_writer_run_status(w, i, row) : VS_RUN_PENDING;
    if (st == VS_RUN_PENDING) {
      todo[p.todo++] = i;
      continue;
    }
    summary->status[i] = (vs_run_status)st;
    summary->n_resumed++;
    if (st != VS_RUN_OK) p.failed++;
    for (size_t m = 0; summary->metrics && m < nm; ++m)
      summary->metrics[i * nm + m] = row[ni + m];
  }
  free(row);
  if (w) vs_writer_set_listener(w, on_commit, &p);

  int threads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
  int write_rc = VS_OK;

#pragma omp parallel num_threads(threads)
  {
    double *vals = malloc((row_len + 1) * sizeof *vals);
    char why[1024], wmsg[1024];
#pragma omp for schedule(dynamic, 1)
    for (size_t k = 0; k < p.todo; ++k) {
      int stop;
#pragma omp atomic read
      stop = write_rc;
      if (stop || !vals) continue; /* the output is broken: stop computing */
      size_t i = todo[k];
      vs_run_job job;
      memset(&job, 0, sizeof job);
      why[0] = '\0';
      double t = now_s();
      int rc = src->acquire(src->user, i, &job, why, sizeof why);
      vs_run_result *res = rc ? failed_run(&job, i, why) : execute_one(&job);
      for (size_t j = 0; j < ni; ++j)
        vals[j] = job.inputs ? job.inputs[j] : NAN;
      for (size_t m = 0; m < nm; ++m)
        vals[ni + m] = res && m < res->n_metrics ? res->metrics[m] : NAN;
      if (src->release) src->release(src->user, &job);
      t = now_s() - t;
      /* Before the writer has it: its listener reads this. */
      p.wall[i] = res && res->stats.wall_time_s > 0 ? res->stats.wall_time_s : t;
      if (res && w) {
        rc = vs_writer_add_run(w, i, res, vals, wmsg, sizeof wmsg);
        if (rc) {
          pthread_mutex_lock(&p.lock);
          if (write_rc == VS_OK) snprintf(msg, msglen, "%s", wmsg);
          pthread_mutex_unlock(&p.lock);
#pragma omp atomic write
          write_rc = rc;
        }
      }
      pthread_mutex_lock(&p.lock);
      summary->status[i] = res ? res->status : VS_RUN_FAILED;
      if (summary->status[i] != VS_RUN_OK) {
        p.failed++;
        const char *m = res ? res->message : "out of memory";
        summary->messages[i] = malloc(strlen(m) + 1);
        if (summary->messages[i]) strcpy(summary->messages[i], m);
      }
      for (size_t m = 0; summary->metrics && m < nm; ++m)
        summary->metrics[i * nm + m] = vals[ni + m];
      p.computed++;
      if (opt->progress == VS_PROGRESS_BAR)
        draw_bar(&p, p.computed == p.todo);
      else if (opt->progress == VS_PROGRESS_JSONL && !w)
        json_line(&p, i, res ? res->name : "", summary->status[i]);
      pthread_mutex_unlock(&p.lock);
      vs_result_free(&res);
    }
    free(vals);
  }
  /* The last line (nothing to do, or stopped by a write error). */
  if (opt->progress == VS_PROGRESS_BAR && (p.todo == 0 || p.computed < p.todo))
    draw_bar(&p, 1);
  summary->n_computed = p.computed;
  summary->n_failed = p.failed;

  /* The listener must not outlive `p`: commit what is left now. */
  if (w) {
    char fmsg[1024];
    int rc = vs_writer_flush(w, fmsg, sizeof fmsg);
    if (rc && write_rc == VS_OK) {
      snprintf(msg, msglen, "%s", fmsg);
      write_rc = rc;
    }
    vs_writer_set_listener(w, NULL, NULL);
  }
  pthread_mutex_destroy(&p.lock);
  free(p.wall);
  free(todo);
  return write_rc;
}

/* ---- a source over an array of specs ---------------------------------------- */

static int array_acquire(void *user, size_t index, vs_run_job *job,
                         char *msg, size_t msglen) {
  (void)msg, (void)msglen;
  const vs_run_spec *spec = &((const vs_run_spec *)user)[index];
  job->name = spec->name;
  job->network = spec->network;
  job->solver = spec->solver;
  job->inputs = NULL;
  return VS_OK;
}

void vs_runner_spec_source(const vs_run_spec *runs, size_t n,
                           vs_run_source *src) {
  if (!src) return;
  *src = (vs_run_source){.n_runs = runs ? n : 0,
                         .n_inputs = 0,
                         .acquire = array_acquire,
                         .release = NULL,
                         .user = (void *)runs};
}

int vs_runner_execute(const vs_run_spec *runs, size_t n,
                      const vs_runner_options *opt, vs_writer *w,
                      vs_batch_summary *summary, char *msg, size_t msglen) {
  if (!runs && n) return VS_EINVAL;
  vs_run_source src;
  vs_runner_spec_source(runs, n, &src);
  return vs_runner_run(&src, opt, w, summary, msg, msglen);
}

void vs_batch_summary_clear(vs_batch_summary *s) {
  if (!s) return;
  for (size_t i = 0; s->messages && i < s->n_runs; ++i) free(s->messages[i]);
  free(s->messages);
  free(s->status);
  free(s->metrics);
  memset(s, 0, sizeof *s);
}
