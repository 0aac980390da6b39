/* Runs in parallel, results to the writer one at a time (runner.h). */
#include "venosim/runner.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "venosim/error.h"
#include "venosim/metrics.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One run from spec to result; never fails silently: every problem ends up
 * in the result's status and message. */
static vs_run_result *execute_one(const vs_run_spec *spec) {
  vs_run_result *res = NULL;
  if (vs_result_create(&res, spec->name)) return NULL;
  vs_system *sys = NULL;
  char msg[512];
  int rc = vs_system_create(spec->network, &sys, msg, sizeof msg);
  if (rc) {
    vs_result_fail(res, "cannot build the ODE system: %s", msg);
    return res;
  }
  vs_integrate(sys, &spec->solver, res);
  vs_system_free(&sys);
  res->n_metrics = vs_metrics_count();
  res->metrics = malloc(res->n_metrics * sizeof *res->metrics);
  if (res->metrics)
    vs_metrics_compute(res, res->metrics);
  else
    res->n_metrics = 0;
  return res;
}

static void report_progress(const vs_runner_options *opt, size_t done,
                            size_t total, size_t failed, double t0,
                            const vs_run_result *r, size_t index) {
  double elapsed = now_s() - t0;
  if (opt->progress == VS_PROGRESS_BAR) {
    double left = done ? elapsed * (double)(total - done) / (double)done : 0;
    fprintf(stderr, "\r[%zu/%zu] failed %zu, elapsed %.1f s, remaining %.1f s ",
            done, total, failed, elapsed, left);
    if (done == total) fputc('\n', stderr);
    fflush(stderr);
  } else if (opt->progress == VS_PROGRESS_JSONL) {
    /* Run names are user text: escape quotes and backslashes. */
    fprintf(stderr, "{\"index\":%zu,\"run\":\"", index);
    for (const char *c = r->name; *c; ++c) {
      if (*c == '"' || *c == '\\') fputc('\\', stderr);
      if ((unsigned char)*c >= 0x20) fputc(*c, stderr);
    }
    fprintf(stderr,
            "\",\"status\":\"%s\",\"done\":%zu,\"total\":%zu,\"failed\":%zu,"
            "\"wall_time_s\":%.6f,\"elapsed_s\":%.3f}\n",
            r->status == VS_RUN_OK ? "ok" : "failed", done, total, failed,
            r->stats.wall_time_s, elapsed);
    fflush(stderr);
  }
}

int vs_runner_execute(const vs_run_spec *runs, size_t n,
                      const vs_runner_options *opt, vs_writer *w,
                      vs_batch_summary *summary, char *msg, size_t msglen) {
  if (!runs || !opt || !summary) return VS_EINVAL;
  memset(summary, 0, sizeof *summary);
  size_t nm = vs_metrics_count();
  summary->n_runs = n;
  summary->status = calloc(n + 1, sizeof *summary->status);
  summary->metrics = malloc((n * nm + 1) * sizeof *summary->metrics);
  summary->messages = calloc(n + 1, sizeof *summary->messages);
  if (!summary->status || !summary->metrics || !summary->messages) {
    vs_batch_summary_clear(summary);
    snprintf(msg, msglen, "out of memory for %zu runs", n);
    return VS_ENOMEM;
  }
  for (size_t i = 0; i < n * nm; ++i) summary->metrics[i] = NAN;

  int threads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
  int write_rc = VS_OK;
  size_t done = 0;
  double t0 = now_s();

#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (size_t i = 0; i < n; ++i) {
    int stop;
#pragma omp atomic read
    stop = write_rc;
    if (stop) continue; /* the output is broken: stop computing */
    vs_run_result *res = execute_one(&runs[i]);
#pragma omp critical(vs_writer)
    {
      if (!res) {
        summary->status[i] = VS_RUN_FAILED;
        summary->n_failed++;
      } else {
        summary->status[i] = res->status;
        if (res->status != VS_RUN_OK) {
          summary->n_failed++;
          size_t len = strlen(res->message) + 1;
          summary->messages[i] = malloc(len);
          if (summary->messages[i]) memcpy(summary->messages[i], res->message, len);
        }
        for (size_t m = 0; m < res->n_metrics && m < nm; ++m)
          summary->metrics[i * nm + m] = res->metrics[m];
        if (w && write_rc == VS_OK) {
          int rc = vs_writer_add_run(w, i, res, &summary->metrics[i * nm], msg,
                                     msglen);
          if (rc) {
#pragma omp atomic write
            write_rc = rc;
          }
        }
        done++;
        report_progress(opt, done, n, summary->n_failed, t0, res, i);
      }
    }
    vs_result_free(&res);
  }
  return write_rc;
}

void vs_batch_summary_clear(vs_batch_summary *s) {
  if (!s) return;
  for (size_t i = 0; s->messages && i < s->n_runs; ++i) free(s->messages[i]);
  free(s->messages);
  free(s->status);
  free(s->metrics);
  memset(s, 0, sizeof *s);
}
