/* A run's samples (result.h): the sample stores that spill to a temporary
 * file give back exactly what was stored, by rows and by columns, in
 * memory or spilled; a spill that cannot be written fails the run cleanly
 * and the other runs go on; the spill file has no name; the integrator,
 * the metrics and the writer give the same numbers and the same file
 * whether a run spills or not. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv, readlink, setrlimit */

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h> /* setjmp, stdarg, stddef: cmocka needs them first */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"

/* A small store: 5 columns, blocks of 3 rows, 2 full blocks in memory;
 * 103 rows, so the last block is partly filled and most blocks spill. */
enum { N_COLS = 5, N_ROWS = 103, BLOCK_ROWS = 3, MEM_BLOCKS = 2 };

static vs_spill_options tiny_spill(const char *dir) {
  vs_spill_options o = {
      .memory_bytes = MEM_BLOCKS * BLOCK_ROWS * N_COLS * sizeof(double),
      .block_bytes = BLOCK_ROWS * N_COLS * sizeof(double),
      .dir = dir};
  return o;
}

/* Values that are not round, and the awkward ones: NaN, -0, infinity, the
 * smallest subnormal. Compared bit for bit. */
static double value(size_t k, size_t j) {
  if (k == 7 && j == 2) return NAN;
  if (k == 11 && j == 0) return -0.0;
  if (k == 13 && j == 4) return INFINITY;
  if (k == 17 && j == 1) return 4.9406564584124654e-324;
  return (double)(k + 1) / 3.0 + (double)j * 1e-7 - 50.0;
}

static char *make_dir(void) {
  char *dir = strdup("/tmp/venosim-result-XXXXXX");
  if (!dir || !mkdtemp(dir)) fail_msg("mkdtemp: %s", strerror(errno));
  return dir;
}

/* Entries of a folder besides . and .. */
static int dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) fail_msg("opendir %s: %s", dir, strerror(errno));
  for (struct dirent *e; (e = readdir(d));)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

/* Files this process has open in `dir` (their names may be gone). */
static int open_files_in(const char *dir) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  size_t len = strlen(dir);
  if (!d) return -1;
  for (struct dirent *e; (e = readdir(d));) {
    char link[320], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
    ssize_t m = readlink(link, target, sizeof target - 1);
    if (m <= 0) continue;
    target[m] = '\0';
    n += strncmp(target, dir, len) == 0 && target[len] == '/';
  }
  closedir(d);
  return n;
}

/* A result of n_rows samples with one series "pressure" of N_COLS columns
 * (spilling with `o` unless NULL); rows 0..n_put-1 stored. */
static vs_run_result *filled(const vs_spill_options *o, size_t n_rows,
                             size_t n_put) {
  static const char *const cols[N_COLS] = {"a", "b", "c", "d", "e"};
  vs_run_result *r = NULL;
  assert_int_equal(vs_result_create(&r, "store"), VS_OK);
  if (o) assert_int_equal(vs_result_set_spill(r, o), VS_OK);
  assert_int_equal(vs_result_set_samples(r, n_rows), VS_OK);
  vs_series *s = vs_result_add_series(r, "pressure", "mmHg", "test", N_COLS,
                                      cols);
  assert_non_null(s);
  assert_true(o ? s->data == NULL && r->time == NULL : s->data != NULL);
  for (size_t k = 0; k < n_put; ++k) {
    double row[N_COLS];
    for (size_t j = 0; j < N_COLS; ++j) row[j] = value(k, j);
    assert_int_equal(vs_result_put_time(r, k, 0.01 * (double)k), VS_OK);
    assert_int_equal(vs_result_put_row(r, s, k, row), VS_OK);
  }
  return r;
}

/* Every way of reading r back gives value(k, j) for k < n_put, NaN
 * beyond, bit for bit. */
static void assert_reads(const vs_run_result *r, size_t n_put) {
  const vs_series *s = &r->series[0];
  size_t n = r->n_samples;
  double *rows = malloc(n * N_COLS * sizeof *rows);
  double *col = malloc(n * sizeof *col), *t = malloc(n * sizeof *t);
  assert_non_null(rows);
  assert_non_null(col);
  assert_non_null(t);
  /* All rows at once, and each row on its own. */
  assert_int_equal(vs_result_read_rows(r, s, 0, n, 1, rows), VS_OK);
  for (size_t k = 0; k < n; ++k) {
    double one[N_COLS];
    assert_int_equal(vs_result_read_rows(r, s, k, 1, 1, one), VS_OK);
    assert_memory_equal(one, rows + k * N_COLS, sizeof one);
    for (size_t j = 0; j < N_COLS; ++j) {
      double want = k < n_put ? value(k, j) : NAN;
      if (memcmp(&want, &rows[k * N_COLS + j], sizeof want) != 0)
        fail_msg("row %zu column %zu: %g, stored %g", k, j,
                 rows[k * N_COLS + j], want);
    }
  }
  /* Columns equal the rows' values. */
  for (size_t j = 0; j < N_COLS; ++j) {
    assert_int_equal(vs_result_read_column(r, s, j, col), VS_OK);
    for (size_t k = 0; k < n; ++k)
      assert_memory_equal(&col[k], &rows[k * N_COLS + j], sizeof *col);
  }
  /* Every 7th row from row 2, across spilled blocks and the memory. */
  size_t count = (n - 1 - 2) / 7 + 1;
  double *thin = malloc(count * N_COLS * sizeof *thin);
  assert_non_null(thin);
  assert_int_equal(vs_result_read_rows(r, s, 2, count, 7, thin), VS_OK);
  for (size_t q = 0; q < count; ++q)
    assert_memory_equal(thin + q * N_COLS, rows + (2 + 7 * q) * N_COLS,
                        N_COLS * sizeof *thin);
  /* Times. */
  assert_int_equal(vs_result_read_times(r, 0, n, 1, t), VS_OK);
  for (size_t k = 0; k < n; ++k)
    if (k < n_put)
      assert_true(t[k] == 0.01 * (double)k);
    else
      assert_true(isnan(t[k]));
  /* Out of range is refused, not read. */
  assert_int_equal(vs_result_read_rows(r, s, n, 1, 1, rows), VS_EINVAL);
  assert_int_equal(vs_result_read_rows(r, s, 0, n + 1, 1, rows), VS_EINVAL);
  assert_int_equal(vs_result_read_rows(r, s, 0, 2, 0, rows), VS_EINVAL);
  assert_int_equal(vs_result_read_column(r, s, N_COLS, col), VS_EINVAL);
  free(thin);
  free(t);
  free(col);
  free(rows);
}

/* Stored, spilled through a tiny budget, read back by rows, by columns and
 * thinned: exactly what was stored, as in memory. The spill file is open
 * in the folder given, yet the folder is empty: it has no name. */
static void store_round_trip(void **state) {
  (void)state;
  char *dir = make_dir();
  vs_spill_options o = tiny_spill(dir);
  vs_run_result *mem = filled(NULL, N_ROWS, N_ROWS);
  vs_run_result *sp = filled(&o, N_ROWS, N_ROWS);
  assert_reads(mem, N_ROWS);
  assert_reads(sp, N_ROWS);
  assert_true(open_files_in(dir) >= 1); /* it did spill, into dir */
  assert_int_equal(dir_entries(dir), 0);
  vs_result_free(&sp);
  vs_result_free(&mem);
  assert_int_equal(open_files_in(dir), 0);
  assert_int_equal(rmdir(dir), 0);
  free(dir);
}

/* A run that stops early: the rows never stored read NaN, spilled or not;
 * a spilling store takes rows in order only. */
static void store_partly_filled(void **state) {
  (void)state;
  char *dir = make_dir();
  vs_spill_options o = tiny_spill(dir);
  size_t n_put = 40;
  vs_run_result *mem = filled(NULL, N_ROWS, n_put);
  vs_run_result *sp = filled(&o, N_ROWS, n_put);
  assert_reads(mem, n_put);
  assert_reads(sp, n_put);
  double row[N_COLS] = {0};
  assert_int_equal(vs_result_put_row(sp, &sp->series[0], n_put + 1, row),
                   VS_EINVAL);
  assert_int_equal(vs_result_put_row(sp, &sp->series[0], 3, row), VS_EINVAL);
  assert_int_equal(vs_result_put_time(sp, N_ROWS, 1.0), VS_EINVAL);
  assert_int_equal(sp->status, VS_RUN_PENDING);
  vs_result_free(&sp);
  vs_result_free(&mem);
  assert_int_equal(rmdir(dir), 0);
  free(dir);
}

/* Fills rows in order until a put fails; returns how many were stored. */
static size_t fill_until_failure(vs_run_result *r, size_t n) {
  vs_series *s = &r->series[0];
  for (size_t k = 0; k < n; ++k) {
    double row[N_COLS];
    for (size_t j = 0; j < N_COLS; ++j) row[j] = value(k, j);
    int rc = vs_result_put_row(r, s, k, row);
    if (rc != VS_OK) {
      assert_int_equal(rc, VS_EIO);
      return k;
    }
    assert_int_equal(vs_result_put_time(r, k, 0.01 * (double)k), VS_OK);
  }
  return n;
}

/* The spill folder does not exist: the run fails when the first block must
 * spill, with a message naming the series, the folder and the reason; no
 * more rows are taken; every row stored stays readable. */
static void spill_folder_missing(void **state) {
  (void)state;
  const char *dir = "/nonexistent-venosim-spill-folder";
  vs_spill_options o = tiny_spill(dir);
  vs_run_result *r = filled(&o, N_ROWS, 0);
  size_t stored = fill_until_failure(r, N_ROWS);
  /* Blocks that fit the memory, and the one being filled. */
  assert_int_equal(stored, (MEM_BLOCKS + 1) * BLOCK_ROWS);
  assert_int_equal(r->status, VS_RUN_FAILED);
  print_message("spill failed: %s\n", r->message);
  assert_non_null(strstr(r->message, "series 'pressure'"));
  assert_non_null(strstr(r->message, dir));
  assert_non_null(strstr(r->message, strerror(ENOENT)));
  double row[N_COLS] = {0};
  assert_int_equal(vs_result_put_row(r, &r->series[0], stored, row), VS_EIO);
  assert_reads(r, stored);
  vs_result_free(&r);
}

/* Writing the spill file fails (as on a full disk: here the file size
 * limit, EFBIG): the run fails with the system's reason, and what was
 * stored, spilled or still in memory, reads back exactly. */
static void spill_write_fails(void **state) {
  (void)state;
  char *dir = make_dir();
  vs_spill_options o = tiny_spill(dir);
  o.memory_bytes = 0; /* every full block goes to the file */
  size_t block = BLOCK_ROWS * N_COLS * sizeof(double);
  struct rlimit saved, lim;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
  lim = saved;
  lim.rlim_cur = 4 * block; /* room for four spilled blocks */
  void (*old)(int) = signal(SIGXFSZ, SIG_IGN); /* EFBIG, not death */
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
  vs_run_result *r = filled(&o, N_ROWS, 0);
  size_t stored = fill_until_failure(r, N_ROWS);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
  signal(SIGXFSZ, old);
  /* Four blocks in the file, the fifth full in memory, its spill failed. */
  assert_int_equal(stored, 5 * BLOCK_ROWS);
  assert_int_equal(r->status, VS_RUN_FAILED);
  print_message("spill failed: %s\n", r->message);
  assert_non_null(strstr(r->message, strerror(EFBIG)));
  assert_non_null(strstr(r->message, dir));
  assert_reads(r, stored);
  vs_result_free(&r);
  assert_int_equal(dir_entries(dir), 0);
  assert_int_equal(rmdir(dir), 0);
  free(dir);
}

/* Every series and the time of two runs, bit for bit. */
static void assert_same_samples(const vs_run_result *a,
                                const vs_run_result *b) {
  assert_int_equal(a->n_samples, b->n_samples);
  assert_int_equal(a->n_series, b->n_series);
  size_t n = a->n_samples;
  double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
  assert_non_null(x);
  assert_non_null(y);
  assert_int_equal(vs_result_read_times(a, 0, n, 1, x), VS_OK);
  assert_int_equal(vs_result_read_times(b, 0, n, 1, y), VS_OK);
  assert_memory_equal(x, y, n * sizeof *x);
  for (size_t i = 0; i < a->n_series; ++i) {
    assert_string_equal(a->series[i].name, b->series[i].name);
    assert_int_equal(a->series[i].n_columns, b->series[i].n_columns);
    for (size_t j = 0; j < a->series[i].n_columns; ++j) {
      assert_int_equal(vs_result_read_column(a, &a->series[i], j, x), VS_OK);
      assert_int_equal(vs_result_read_column(b, &b->series[i], j, y), VS_OK);
      assert_memory_equal(x, y, n * sizeof *x);
    }
  }
  free(y);
  free(x);
}

/* Integrate and measure a network in memory and spilling through a tiny
 * budget: the same samples and the same metrics, bit for bit. */
static void integrate_and_measure(const vs_network *net,
                                  const vs_solver_options *opt) {
  char *dir = make_dir();
  vs_spill_options o = {.memory_bytes = 4096, .block_bytes = 1024,
                        .dir = dir};
  vs_run_result *r[2] = {NULL, NULL};
  size_t nm = vs_metrics_count();
  double *m[2] = {malloc(nm * sizeof(double)), malloc(nm * sizeof(double))};
  assert_non_null(m[0]);
  assert_non_null(m[1]);
  for (int i = 0; i < 2; ++i) {
    vs_system *sys = NULL;
    char msg[256];
    assert_int_equal(vs_system_create(net, &sys, msg, sizeof msg), VS_OK);
    assert_int_equal(vs_result_create(&r[i], "run"), VS_OK);
    if (i == 1) assert_int_equal(vs_result_set_spill(r[i], &o), VS_OK);
    assert_int_equal(vs_integrate(sys, opt, r[i]), VS_OK);
    vs_system_free(&sys);
    r[i]->network = net;
    vs_metrics_compute(r[i], m[i]);
  }
  assert_null(r[1]->time);
  assert_same_samples(r[0], r[1]);
  assert_memory_equal(m[0], m[1], nm * sizeof(double));
  int finite = 0;
  for (size_t k = 0; k < nm; ++k) finite += isfinite(m[0][k]);
  assert_true(finite >= 4); /* not merely NaN = NaN */
  assert_true(open_files_in(dir) >= 1);
  assert_int_equal(dir_entries(dir), 0);
  vs_result_free(&r[0]);
  vs_result_free(&r[1]);
  free(m[0]);
  free(m[1]);
  assert_int_equal(rmdir(dir), 0);
  free(dir);
}

static void integrate_spilled_chain(void **state) {
  (void)state;
  vs_network *net = t_rcl_chain(5);
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 5.0;
  o.output_dt_s = 0.001;
  integrate_and_measure(net, &o);
  vs_network_free(&net);
}

/* The default leg through the protocol: every clinical metric. */
static void integrate_spilled_leg(void **state) {
  (void)state;
  vs_leg leg;
  vs_network *net = NULL;
  char msg[512];
  vs_leg_protocol p = vs_leg_protocol_default();
  assert_int_equal(vs_leg_default(&leg), VS_OK);
  if (vs_leg_build(&leg, &p, &net, msg, sizeof msg)) fail_msg("leg: %s", msg);
  vs_solver_options o = vs_leg_solver_options(&leg, &p);
  vs_leg_clear(&leg);
  integrate_and_measure(net, &o);
  vs_network_free(&net);
}

/* The runner spills with the default budget into $TMPDIR: pointed at a
 * folder that does not exist, the long run fails with the reason and the
 * short one (under the budget: no spill) is computed and written. */
static void runner_spill_failure_spares_others(void **state) {
  (void)state;
  char *dir = make_dir(), out[512], msg[1024];
  snprintf(out, sizeof out, "%s/out.h5", dir);
  const char *old = getenv("TMPDIR");
  char *saved = old ? strdup(old) : NULL;
  assert_int_equal(setenv("TMPDIR", "/nonexistent-venosim-tmpdir", 1), 0);
  vs_network *net = t_rcl_chain(5);
  vs_solver_options shortrun = vs_solver_options_default();
  shortrun.t_end_s = 1.0;
  vs_solver_options longrun = shortrun;
  /* 6 pressure columns x 48 B a row: 1 MiB is about 22 000 rows. */
  longrun.t_end_s = 40.0;
  longrun.output_dt_s = 0.001;
  vs_run_spec runs[2] = {{"long", net, longrun}, {"short", net, shortrun}};
  vs_output_meta meta = {.creator = "test", .version = "0", .git_commit = "0",
                         .author = "test", .command_line = "test",
                         .threads = 1, .n_runs = 2};
  vs_writer *w = NULL;
  assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_OK);
  vs_runner_options ro = {.threads = 1, .progress = VS_PROGRESS_NONE};
  vs_batch_summary sum;
  int rc = vs_runner_execute(runs, 2, &ro, w, &sum, msg, sizeof msg);
  if (saved)
    setenv("TMPDIR", saved, 1);
  else
    unsetenv("TMPDIR");
  free(saved);
  assert_int_equal(rc, VS_OK);
  assert_int_equal(sum.n_failed, 1);
  assert_int_equal(sum.status[0], VS_RUN_FAILED);
  assert_int_equal(sum.status[1], VS_RUN_OK);
  print_message("long run: %s\n", sum.messages[0]);
  assert_non_null(strstr(sum.messages[0], "cannot spill"));
  assert_non_null(strstr(sum.messages[0], "/nonexistent-venosim-tmpdir"));
  assert_int_equal(vs_writer_run_status(w, 0, NULL), VS_RUN_FAILED);
  assert_int_equal(vs_writer_run_status(w, 1, NULL), VS_RUN_OK);
  assert_int_equal(vs_writer_finish(&w, msg, sizeof msg), VS_OK);
  vs_batch_summary_clear(&sum);
  vs_network_free(&net);
  assert_int_equal(remove(out), 0);
  assert_int_equal(rmdir(dir), 0);
  free(dir);
}

/* The whole contents of a file (NULL if unreadable); *n its size. */
static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  size_t cap = 0;
  *n = 0;
  for (;;) {
    if (*n == cap) {
      cap = cap ? 2 * cap : 1 << 16;
      unsigned char *g = realloc(buf, cap);
      if (!g) break;
      buf = g;
    }
    size_t k = fread(buf + *n, 1, cap - *n, f);
    if (k == 0) break;
    *n += k;
  }
  fclose(f);
  return buf;
}

/* One run written through vs_writer to dir/out.h5 with a stride. */
static void write_one(const char *dir, const vs_run_result *r, size_t stride) {
  char out[512], msg[1024];
  snprintf(out, sizeof out, "%s/out.h5", dir);
  vs_output_meta meta = {.creator = "test", .version = "0", .git_commit = "0",
                         .author = "test", .command_line = "test",
                         .threads = 1, .n_runs = 1, .series_stride = stride};
  vs_writer *w = NULL;
  if (vs_writer_open(&w, out, &meta, msg, sizeof msg) ||
      vs_writer_add_run(w, 0, r, NULL, msg, sizeof msg) ||
      vs_writer_finish(&w, msg, sizeof msg))
    fail_msg("writing %s: %s", out, msg);
}

/* A long run written from memory and from a spilling store: the same file,
 * byte for byte, whole or thinned (series wide enough to be chunked and
 * compressed over several chunks). */
static void writer_same_file(void **state) {
  (void)state;
  enum { WIDE = 20, ROWS = 3001 };
  char *spill = make_dir(), *da = make_dir(), *db = make_dir();
  vs_spill_options o = {.memory_bytes = 0, .block_bytes = 1000, .dir = spill};
  vs_run_result *r[2] = {NULL, NULL};
  const char *cols[WIDE];
  char names[WIDE][8];
  for (size_t j = 0; j < WIDE; ++j) {
    snprintf(names[j], sizeof names[j], "c%zu", j);
    cols[j] = names[j];
  }
  for (int i = 0; i < 2; ++i) {
    assert_int_equal(vs_result_create(&r[i], "long"), VS_OK);
    if (i) assert_int_equal(vs_result_set_spill(r[i], &o), VS_OK);
    assert_int_equal(vs_result_set_samples(r[i], ROWS), VS_OK);
    vs_series *s = vs_result_add_series(r[i], "pressure", "mmHg", "wide",
                                        WIDE, cols);
    assert_non_null(s);
    for (size_t k = 0; k < ROWS; ++k) {
      double row[WIDE];
      for (size_t j = 0; j < WIDE; ++j)
        row[j] = sin(0.01 * (double)k + (double)j) * 90.0 / 7.0;
      assert_int_equal(vs_result_put_time(r[i], k, 0.02 * (double)k), VS_OK);
      assert_int_equal(vs_result_put_row(r[i], s, k, row), VS_OK);
    }
    r[i]->status = VS_RUN_OK;
  }
  const size_t strides[] = {1, 3};
  for (size_t q = 0; q < 2; ++q) {
    char pa[512], pb[512];
    write_one(da, r[0], strides[q]);
    write_one(db, r[1], strides[q]);
    snprintf(pa, sizeof pa, "%s/out.h5", da);
    snprintf(pb, sizeof pb, "%s/out.h5", db);
    size_t na = 0, nb = 0;
    unsigned char *a = slurp(pa, &na), *b = slurp(pb, &nb);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    assert_int_equal(remove(pa), 0);
    assert_int_equal(remove(pb), 0);
  }
  vs_result_free(&r[0]);
  vs_result_free(&r[1]);
  assert_int_equal(rmdir(da), 0);
  assert_int_equal(rmdir(db), 0);
  assert_int_equal(rmdir(spill), 0);
  free(da);
  free(db);
  free(spill);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(store_round_trip),
      cmocka_unit_test(store_partly_filled),
      cmocka_unit_test(spill_folder_missing),
      cmocka_unit_test(spill_write_fails),
      cmocka_unit_test(integrate_spilled_chain),
      cmocka_unit_test(integrate_spilled_leg),
      cmocka_unit_test(runner_spill_failure_spares_others),
      cmocka_unit_test(writer_same_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
