/* The HDF5 writer (writer.h): layout, exact round trip, run order, crash
 * safety (parts, temporary names, OUT readable while under way), resume,
 * summary-only and thinned series, byte-identical reruns, clean failures. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, opendir */

#include <dirent.h>
#include <math.h>
#include <setjmp.h> /* setjmp, stdarg, stddef: cmocka needs them first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <hdf5.h>

#include "venosim/error.h"
#include "venosim/result.h"
#include "venosim/writer.h"

enum { N_RUNS = 3, N_COLS = 2, LONG_RUN_SAMPLES = 3000 };

static const char *const run_names[N_RUNS] = {"healthy", "pts-untreated",
                                              "stent-14mm"};
static const vs_column_info columns[N_COLS] = {
    {"avp_ankle", "mmHg", "Ambulatory venous pressure at the ankle"},
    {"refill_time_90", "s", "Time to 90 % refill after exercise"},
};

static vs_output_meta test_meta(void) {
  vs_output_meta m = {
      .creator = "venosim",
      .version = "0.1.0",
      .git_commit = "abc123def456",
      .author = "tester",
      .command_line = "venosim run case.yaml -o out.h5",
      .threads = 2,
      .case_path = "case.yaml",
      .case_text = "description: test\npatient: {}\n",
      .case_resolved = "description: test\npatient: {height_cm: 175}\n",
      .n_runs = N_RUNS,
      .n_summary_columns = N_COLS,
      .summary_columns = columns,
      .sundials_version = "6.4.1",
  };
  return m;
}

static void summary_row(size_t i, double row[N_COLS]) {
  row[0] = 40.0 + (double)i + 0.125;
  row[1] = i == 1 ? NAN : 10.0 + (double)i;
}

/* Run 0: ok, 5 samples; run 1: failed after 3 samples; run 2: ok and long
 * enough to be chunked and compressed. Values are not round numbers so a
 * round trip through anything but exact doubles would show. */
static vs_run_result *make_run(size_t i) {
  static const char *const pressure_cols[] = {"calf", "popliteal", "femoral"};
  static const char *const flow_cols[] = {"calf-popliteal", "popliteal-cfv"};
  const size_t n = i == 0 ? 5 : i == 1 ? 3 : LONG_RUN_SAMPLES;
  vs_run_result *r = NULL;
  assert_int_equal(vs_result_create(&r, run_names[i]), VS_OK);
  assert_int_equal(vs_result_set_samples(r, n), VS_OK);
  for (size_t k = 0; k < n; ++k) r->time[k] = 0.1 * (double)k;
  /* Each add may move the series array: fill a series before the next. */
  vs_series *p = vs_result_add_series(
      r, "pressure", "mmHg", "Pressure in each compartment", 3, pressure_cols);
  assert_non_null(p);
  for (size_t k = 0; k < n * 3; ++k)
    p->data[k] = 90.0 / 7.0 * (double)(i + 1) + sin((double)k);
  vs_series *q = vs_result_add_series(r, "flow", "mL/s",
                                      "Flow through each link", 2, flow_cols);
  assert_non_null(q);
  for (size_t k = 0; k < n * 2; ++k) q->data[k] = 1.0 / 3.0 * (double)k;
  vs_result_event(r, 0.0, "start", "protocol %s", "standing");
  if (i == 1) {
    q->data[1] = NAN; /* NaN must survive too */
    vs_result_fail(r, "CVODE failed at t = %g s: too much work", 0.25);
    vs_result_event(r, 0.25, "fail", "%s", r->message);
  } else {
    r->status = VS_RUN_OK;
    vs_result_event(r, 0.4, "end", "done");
  }
  r->stats.steps = 100 + (long)i;
  r->stats.rhs_evals = 250;
  r->stats.last_order = 3;
  r->stats.last_step_s = 1e-3;
  r->stats.wall_time_s = 0.5; /* fixed, so reruns can be compared */
  r->stats.n_states = 12;
  snprintf(r->stats.linear_solver, sizeof r->stats.linear_solver, "dense");
  return r;
}

/* ---- files --------------------------------------------------------------- */

static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  assert_non_null(p);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static size_t count_entries(const char *dir) {
  DIR *d = opendir(dir);
  size_t n = 0;
  if (!d) return 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) ++n;
  closedir(d);
  return n;
}

static void remove_tree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR *d = opendir(path);
    if (d) {
      for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *child = join(path, e->d_name);
        remove_tree(child);
        free(child);
      }
      closedir(d);
    }
    rmdir(path);
  } else {
    unlink(path);
  }
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long len = ftell(f);
  assert_true(len > 0);
  rewind(f);
  unsigned char *buf = malloc((size_t)len);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
  fclose(f);
  *n = (size_t)len;
  return buf;
}

static int setup_dir(void **state) {
  char tmpl[] = "/tmp/vs_writer_XXXXXX";
  char *dir = mkdtemp(tmpl);
  if (!dir) return -1;
  *state = strdup(dir);
  return *state ? 0 : -1;
}

static int teardown_dir(void **state) {
  remove_tree(*state);
  free(*state);
  return 0;
}

/* Writes runs `order[0..n_order-1]` to path and finishes. */
static void write_file(const char *path, const vs_output_meta *meta,
                       const size_t *order, size_t n_order) {
  vs_writer *w = NULL;
  char msg[512];
  assert_int_equal(vs_writer_open(&w, path, meta, msg, sizeof msg), VS_OK);
  assert_non_null(w);
  for (size_t k = 0; k < n_order; ++k) {
    vs_run_result *r = make_run(order[k]);
    double row[N_COLS];
    summary_row(order[k], row);
    int rc = vs_writer_add_run(w, order[k], r, row, msg, sizeof msg);
    if (rc) print_error("add_run: %s\n", msg);
    assert_int_equal(rc, VS_OK);
    vs_result_free(&r);
  }
  int rc = vs_writer_finish(&w, msg, sizeof msg);
  if (rc) print_error("finish: %s\n", msg);
  assert_int_equal(rc, VS_OK);
  assert_null(w);
  assert_string_equal(msg, "");
}

/* ---- reading back -------------------------------------------------------- */

static char *attr_string(hid_t loc, const char *obj, const char *name) {
  hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(a >= 0);
  hid_t t = H5Tcopy(H5T_C_S1);
  assert_true(H5Tset_size(t, H5T_VARIABLE) >= 0);
  assert_true(H5Tset_cset(t, H5T_CSET_UTF8) >= 0); /* no ASCII<->UTF-8 */
  char *v = NULL;
  assert_true(H5Aread(a, t, &v) >= 0);
  char *copy = strdup(v);
  H5free_memory(v);
  H5Tclose(t);
  H5Aclose(a);
  return copy;
}

static void assert_attr_string(hid_t loc, const char *obj, const char *name,
                               const char *expected) {
  char *v = attr_string(loc, obj, name);
  assert_string_equal(v, expected);
  free(v);
}

static double attr_double(hid_t loc, const char *obj, const char *name) {
  double v = 0;
  hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  assert_true(a >= 0);
  assert_true(H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0);
  H5Aclose(a);
  return v;
}

/* A fixed-length string dataset as n malloc'ed strings (scalar: n = 1). */
static char **read_strings(hid_t loc, const char *path, size_t *n) {
  hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
  assert_true(d >= 0);
  hid_t ft = H5Dget_type(d), s = H5Dget_space(d);
  assert_int_equal(H5Tget_class(ft), H5T_STRING);
  size_t width = H5Tget_size(ft);
  hssize_t count = H5Sget_simple_extent_npoints(s);
  assert_true(count >= 0);
  *n = (size_t)count;
  hid_t mt = H5Tcopy(H5T_C_S1);
  assert_true(H5Tset_size(mt, width + 1) >= 0); /* room for the '\0' */
  assert_true(H5Tset_cset(mt, H5T_CSET_UTF8) >= 0);
  char *buf = calloc(*n ? *n : 1, width + 1);
  char **out = calloc(*n ? *n : 1, sizeof *out);
  assert_true(buf && out);
  if (*n) assert_true(H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
  for (size_t i = 0; i < *n; ++i) out[i] = strdup(buf + i * (width + 1));
  free(buf);
  H5Tclose(mt);
  H5Sclose(s);
  H5Tclose(ft);
  H5Dclose(d);
  return out;
}

static void free_strings(char **s, size_t n) {
  for (size_t i = 0; i < n; ++i) free(s[i]);
  free(s);
}

/* Reads a double dataset, checking its shape. */
static double *read_doubles(hid_t loc, const char *path, size_t rows,
                            size_t cols) {
  hid_t d = H5Dopen2(loc, path, H5P_DEFAULT);
  assert_true(d >= 0);
  hid_t s = H5Dget_space(d);
  hsize_t dims[2] = {0, 0};
  int rank = H5Sget_simple_extent_dims(s, dims, NULL);
  assert_int_equal(rank, cols ? 2 : 1);
  assert_int_equal(dims[0], rows);
  if (cols) assert_int_equal(dims[1], cols);
  double *v = malloc((rows ? rows : 1) * (cols ? cols : 1) * sizeof *v);
  assert_non_null(v);
  assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >=
              0);
  H5Sclose(s);
  H5Dclose(d);
  return v;
}

static int is_group(hid_t fid, const char *path) {
  if (H5Lexists(fid, path, H5P_DEFAULT) <= 0) return 0;
  H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
  assert_true(
      H5Oget_info_by_name3(fid, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0);
#else
  assert_true(
      H5Oget_info_by_name2(fid, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) >= 0);
#endif
  return info.type == H5O_TYPE_GROUP;
}

/* Stored object times: all zero when H5Pset_obj_track_times(.., 0) held. */
static void assert_no_times(hid_t fid, const char *path) {
  H5O_info_t info;
#if H5_VERSION_GE(1, 12, 0)
  assert_true(
      H5Oget_info_by_name3(fid, path, &info, H5O_INFO_TIME, H5P_DEFAULT) >= 0);
#else
  assert_true(
      H5Oget_info_by_name2(fid, path, &info, H5O_INFO_TIME, H5P_DEFAULT) >= 0);
#endif
  if (info.mtime || info.ctime || info.atime || info.btime)
    fail_msg("%s stores a time", path);
}

/* Every dataset of a run but the string ones carries a unit. */
static herr_t check_unit(hid_t g, const char *name, const H5L_info_t *info,
                         void *count) {
  (void)info;
  if (is_group(g, name)) return 0; /* solver_stats */
  hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
  assert_true(d >= 0);
  hid_t t = H5Dget_type(d);
  H5T_class_t c = H5Tget_class(t);
  if (c == H5T_FLOAT) {
    if (H5Aexists(d, "unit") <= 0) fail_msg("dataset %s has no unit", name);
    ++*(int *)count;
  }
  H5Tclose(t);
  H5Dclose(d);
  return 0;
}

/* The run as written by make_run(i), read back from /runs/<name>. */
static void check_run(hid_t fid, size_t i) {
  vs_run_result *r = make_run(i);
  char group[64];
  snprintf(group, sizeof group, "/runs/%s", run_names[i]);
  assert_true(is_group(fid, group));
  assert_no_times(fid, group);

  assert_attr_string(fid, group, "status", i == 1 ? "failed" : "ok");
  assert_attr_string(fid, group, "message", r->message);
  assert_attr_string(fid, group, "name", run_names[i]);
  assert_true(attr_double(fid, group, "index") == (double)i);

  hid_t g = H5Gopen2(fid, group, H5P_DEFAULT);
  assert_true(g >= 0);
  double *t = read_doubles(g, "time", r->n_samples, 0);
  assert_memory_equal(t, r->time, r->n_samples * sizeof *t);
  free(t);
  assert_attr_string(g, "time", "unit", "s");
  for (size_t s = 0; s < r->n_series; ++s) {
    const vs_series *ser = &r->series[s];
    double *v = read_doubles(g, ser->name, r->n_samples, ser->n_columns);
    /* bytes, not values: NaNs and the last bit must survive */
    assert_memory_equal(v, ser->data,
                        r->n_samples * ser->n_columns * sizeof *v);
    free(v);
    assert_attr_string(g, ser->name, "unit", ser->unit);
    assert_attr_string(g, ser->name, "description", ser->description);
    assert_no_times(g, ser->name);
    char cols_name[64];
    snprintf(cols_name, sizeof cols_name, "%s_columns", ser->name);
    size_t n = 0;
    char **cols = read_strings(g, cols_name, &n);
    assert_int_equal(n, ser->n_columns);
    for (size_t j = 0; j < n; ++j)
      assert_string_equal(cols[j], ser->column_names[j]);
    free_strings(cols, n);
  }
  int with_unit = 0;
  assert_true(H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, check_unit,
                         &with_unit) >= 0);
  assert_int_equal(with_unit, 1 + (int)r->n_series);

  /* events: compound {time_s, kind, message} */
  hid_t d = H5Dopen2(g, "events", H5P_DEFAULT);
  assert_true(d >= 0);
  hid_t s = H5Dget_space(d);
  assert_int_equal(H5Sget_simple_extent_npoints(s), r->n_events);
  hid_t kind = H5Tcopy(H5T_C_S1), text = H5Tcopy(H5T_C_S1);
  H5Tset_size(kind, sizeof r->events[0].kind);
  H5Tset_size(text, sizeof r->events[0].message);
  H5Tset_cset(kind, H5T_CSET_UTF8);
  H5Tset_cset(text, H5T_CSET_UTF8);
  hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(vs_event));
  H5Tinsert(mem, "time_s", offsetof(vs_event, time_s), H5T_NATIVE_DOUBLE);
  H5Tinsert(mem, "kind", offsetof(vs_event, kind), kind);
  H5Tinsert(mem, "message", offsetof(vs_event, message), text);
  vs_event *ev = calloc(r->n_events, sizeof *ev);
  assert_non_null(ev);
  assert_true(H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, ev) >= 0);
  for (size_t k = 0; k < r->n_events; ++k) {
    assert_true(ev[k].time_s == r->events[k].time_s);
    assert_string_equal(ev[k].kind, r->events[k].kind);
    assert_string_equal(ev[k].message, r->events[k].message);
  }
  free(ev);
  H5Tclose(mem);
  H5Tclose(text);
  H5Tclose(kind);
  H5Sclose(s);
  H5Dclose(d);

  assert_true(is_group(g, "solver_stats"));
  assert_true(attr_double(g, "solver_stats", "steps") == 100.0 + (double)i);
  assert_true(attr_double(g, "solver_stats", "last_step_s") == 1e-3);
  assert_attr_string(g, "solver_stats", "linear_solver", "dense");
  H5Gclose(g);
  vs_result_free(&r);
}

static void check_summary(hid_t fid, const char *const *names,
                          const char *const *status, const int *present) {
  size_t n = 0;
  char **got = read_strings(fid, "/summary/run_name", &n);
  assert_int_equal(n, N_RUNS);
  for (size_t i = 0; i < n; ++i) assert_string_equal(got[i], names[i]);
  free_strings(got, n);
  got = read_strings(fid, "/summary/status", &n);
  assert_int_equal(n, N_RUNS);
  for (size_t i = 0; i < n; ++i) assert_string_equal(got[i], status[i]);
  free_strings(got, n);
  for (size_t j = 0; j < N_COLS; ++j) {
    char path[64];
    snprintf(path, sizeof path, "/summary/%s", columns[j].name);
    double *v = read_doubles(fid, path, N_RUNS, 0);
    for (size_t i = 0; i < N_RUNS; ++i) {
      double row[N_COLS];
      summary_row(i, row);
      double expected = present[i] ? row[j] : NAN;
      assert_memory_equal(&v[i], &expected, sizeof expected);
    }
    free(v);
    assert_attr_string(fid, path, "unit", columns[j].unit);
    assert_attr_string(fid, path, "description", columns[j].description);
  }
}

/* ---- tests --------------------------------------------------------------- */

static void test_layout_and_round_trip(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  vs_output_meta meta = test_meta();
  const size_t order[] = {2, 0, 1};
  write_file(out, &meta, order, 3);

  assert_true(exists(out));
  assert_int_equal(count_entries(dir), 1); /* no parts, no temporary file */

  hid_t fid = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(fid >= 0);
  const char *groups[] = {"/h5md",       "/h5md/author", "/h5md/creator",
                          "/parameters", "/runs",        "/summary"};
  for (size_t k = 0; k < sizeof groups / sizeof groups[0]; ++k) {
    assert_true(is_group(fid, groups[k]));
    assert_no_times(fid, groups[k]);
  }
  assert_no_times(fid, "/");

  int version[2] = {0, 0};
  hid_t a = H5Aopen_by_name(fid, "/h5md", "version", H5P_DEFAULT, H5P_DEFAULT);
  assert_true(a >= 0);
  assert_true(H5Aread(a, H5T_NATIVE_INT, version) >= 0);
  H5Aclose(a);
  assert_int_equal(version[0], 1);
  assert_int_equal(version[1], 1);
  assert_attr_string(fid, "/h5md/author", "name", "tester");
  assert_attr_string(fid, "/h5md/creator", "name", "venosim");
  assert_attr_string(fid, "/h5md/creator", "version", "0.1.0");

  unsigned maj, min, rel;
  char hdf5_version[48];
  H5get_libversion(&maj, &min, &rel);
  snprintf(hdf5_version, sizeof hdf5_version, "%u.%u.%u", maj, min, rel);
  assert_attr_string(fid, "/parameters", "venosim_version", "0.1.0");
  assert_attr_string(fid, "/parameters", "git_commit", "abc123def456");
  assert_attr_string(fid, "/parameters", "sundials_version", "6.4.1");
  assert_attr_string(fid, "/parameters", "hdf5_version", hdf5_version);
  assert_attr_string(fid, "/parameters", "command_line", meta.command_line);
  assert_attr_string(fid, "/parameters", "case_path", "case.yaml");
  assert_true(attr_double(fid, "/parameters", "threads") == 2.0);
  assert_true(attr_double(fid, "/parameters", "n_runs") == 3.0);
  size_t n = 0;
  char **text = read_strings(fid, "/parameters/case_file", &n);
  assert_int_equal(n, 1);
  assert_string_equal(text[0], meta.case_text);
  free_strings(text, n);
  text = read_strings(fid, "/parameters/case_resolved", &n);
  assert_string_equal(text[0], meta.case_resolved);
  free_strings(text, n);

  for (size_t i = 0; i < N_RUNS; ++i) check_run(fid, i);
  const char *status[N_RUNS] = {"ok", "failed", "ok"};
  const int present[N_RUNS] = {1, 1, 1};
  check_summary(fid, run_names, status, present);

  /* The long run is chunked and compressed, the short ones are not. */
  hid_t d = H5Dopen2(fid, "/runs/stent-14mm/pressure", H5P_DEFAULT);
  hid_t dcpl = H5Dget_create_plist(d);
  assert_int_equal(H5Pget_layout(dcpl), H5D_CHUNKED);
  assert_true(H5Pget_nfilters(dcpl) >= 1);
  H5Pclose(dcpl);
  H5Dclose(d);
  d = H5Dopen2(fid, "/runs/healthy/pressure", H5P_DEFAULT);
  dcpl = H5Dget_create_plist(d);
  assert_int_equal(H5Pget_layout(dcpl), H5D_CONTIGUOUS);
  H5Pclose(dcpl);
  H5Dclose(d);

  assert_true(H5Fclose(fid) >= 0);
  free(out);
}

static void test_reruns_are_byte_identical(void **state) {
  const char *dir = *state;
  char *a = join(dir, "a.h5"), *b = join(dir, "b.h5");
  vs_output_meta meta = test_meta();
  const size_t order_a[] = {2, 0, 1}, order_b[] = {1, 2, 0};
  write_file(a, &meta, order_a, 3);
  write_file(b, &meta, order_b, 3); /* arrival order must not matter */
  size_t na = 0, nb = 0;
  unsigned char *ba = slurp(a, &na), *bb = slurp(b, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(ba, bb, na);
  free(ba);
  free(bb);
  free(a);
  free(b);
}

static void test_open_fails_cleanly(void **state) {
  const char *dir = *state;
  vs_output_meta meta = test_meta();
  vs_writer *w = (vs_writer *)&meta; /* must come back NULL */
  char msg[512];

  char *missing = join(dir, "no-such-folder");
  char *out = join(missing, "out.h5");
  assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_EIO);
  assert_null(w);
  assert_non_null(strstr(msg, "cannot write to folder"));
  assert_non_null(strstr(msg, "No such file or directory"));
  assert_non_null(strstr(msg, out));
  assert_false(exists(missing));

  /* OUT naming a folder */
  assert_int_equal(vs_writer_open(&w, dir, &meta, msg, sizeof msg), VS_EINVAL);
  assert_null(w);

  /* two summary columns with one name would collide only at the very end */
  const vs_column_info twice[2] = {columns[0], columns[0]};
  meta.summary_columns = twice;
  free(out);
  out = join(dir, "out.h5");
  assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_EINVAL);
  assert_null(w);
  assert_non_null(strstr(msg, "appears twice"));

  assert_int_equal(count_entries(dir), 0); /* nothing created */
  free(out);
  free(missing);
}

/* Abandoning (a write error, a kill) keeps every committed run: in its part
 * on disk and in OUT, which is a whole file at every moment of a batch. */
static void test_abandon_keeps_parts(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  char *parts = join(dir, "out.h5.parts");
  char *part = join(parts, "part-r000-000000.h5");
  vs_output_meta meta = test_meta();
  vs_writer *w = NULL;
  char msg[512];
  assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_OK);
  assert_true(exists(out)); /* published at once: every run pending */
  vs_run_result *r = make_run(1);
  double row[N_COLS];
  summary_row(1, row);
  assert_int_equal(vs_writer_add_run(w, 1, r, row, msg, sizeof msg), VS_OK);
  vs_result_free(&r);
  vs_writer_abandon(&w);
  assert_null(w);
  vs_writer_abandon(&w); /* harmless twice */

  assert_true(exists(part));
  assert_int_equal(count_entries(parts), 1);
  assert_int_equal(count_entries(dir), 2); /* OUT and its parts */

  /* The part alone is a readable HDF5 file with the run's layout. */
  hid_t fid = H5Fopen(part, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(fid >= 0);
  assert_attr_string(fid, "/runs/pts-untreated", "status", "failed");
  assert_attr_string(fid, "/runs/pts-untreated", "name", "pts-untreated");
  H5Fclose(fid);

  /* OUT holds it (through an external link) and says what is pending.
   * (HDF5 1.10 misreads string attributes opened by name across an external
   * link: open the group, then its attributes, as h5py does.) */
  fid = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(fid >= 0);
  hid_t g = H5Gopen2(fid, "/runs/pts-untreated", H5P_DEFAULT);
  assert_true(g >= 0);
  assert_attr_string(g, ".", "status", "failed");
  assert_attr_string(g, ".", "name", "pts-untreated");
  r = make_run(1);
  double *p = read_doubles(g, "pressure", r->n_samples, 3);
  assert_memory_equal(p, r->series[0].data, r->n_samples * 3 * sizeof *p);
  free(p);
  vs_result_free(&r);
  H5Gclose(g);
  assert_int_equal(H5Lexists(fid, "/runs/healthy", H5P_DEFAULT), 0);
  const char *names[N_RUNS] = {"run-000000", "pts-untreated", "run-000002"};
  const char *status[N_RUNS] = {"pending", "failed", "pending"};
  const int present[N_RUNS] = {0, 1, 0};
  check_summary(fid, names, status, present);
  assert_true(attr_double(fid, "/parameters", "complete") == 0.0);
  assert_true(attr_double(fid, "/parameters", "n_finished") == 1.0);
  H5Fclose(fid);
  free(part);
  free(parts);
  free(out);
}

static void test_missing_run(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  vs_output_meta meta = test_meta();
  const size_t order[] = {2, 0};
  write_file(out, &meta, order, 2);

  hid_t fid = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(fid >= 0);
  check_run(fid, 0);
  check_run(fid, 2);
  assert_true(is_group(fid, "/runs/run-000001"));
  assert_attr_string(fid, "/runs/run-000001", "status", "missing");
  const char *names[N_RUNS] = {"healthy", "run-000001", "stent-14mm"};
  const char *status[N_RUNS] = {"ok", "missing", "ok"};
  const int present[N_RUNS] = {1, 0, 1};
  check_summary(fid, names, status, present);
  H5Fclose(fid);
  assert_int_equal(count_entries(dir), 1);
  free(out);
}

/* Parts left by an interrupted session of the same output: refused without
 * resume (nothing touched), taken over with it (runs and summary rows);
 * those of another case are ignored and removed at the end. */
static void test_parts_of_earlier_session(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  char *parts = join(dir, "out.h5.parts");
  vs_output_meta meta = test_meta(), other = test_meta();
  other.case_resolved = "description: another case\n";
  char msg[512];
  double row[N_COLS];
  const size_t rest[] = {1, 2};
  const char *status[N_RUNS] = {"ok", "failed", "ok"};

  for (int same = 1; same >= 0; --same) {
    vs_writer *w = NULL;
    assert_int_equal(
        vs_writer_open(&w, out, same ? &meta : &other, msg, sizeof msg), VS_OK);
    vs_run_result *r = make_run(0);
    summary_row(0, row);
    assert_int_equal(vs_writer_add_run(w, 0, r, row, msg, sizeof msg), VS_OK);
    vs_result_free(&r);
    vs_writer_abandon(&w); /* "killed" after run 0 */
    assert_int_equal(count_entries(parts), 1);

    if (same) { /* without resume: refused, nothing touched */
      assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg),
                       VS_EINVAL);
      assert_null(w);
      assert_non_null(strstr(msg, "--resume"));
      assert_int_equal(count_entries(parts), 1);
    }
    meta.resume = 1;
    assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_OK);
    meta.resume = 0;
    assert_int_equal(vs_writer_has_run(w, 0), same);
    assert_int_equal(vs_writer_done_count(w), (size_t)same);
    double got[N_COLS];
    assert_int_equal(vs_writer_run_status(w, 0, got),
                     same ? VS_RUN_OK : VS_RUN_PENDING);
    if (same) assert_memory_equal(got, row, sizeof row);
    for (size_t k = 0; k < 2; ++k) {
      vs_run_result *rr = make_run(rest[k]);
      summary_row(rest[k], row);
      assert_int_equal(vs_writer_add_run(w, rest[k], rr, row, msg, sizeof msg),
                       VS_OK);
      vs_result_free(&rr);
    }
    assert_int_equal(vs_writer_finish(&w, msg, sizeof msg), VS_OK);
    hid_t fid = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(fid >= 0);
    if (same) {
      check_run(fid, 0);
      const int present[N_RUNS] = {1, 1, 1};
      check_summary(fid, run_names, status, present);
    } else {
      const char *names[N_RUNS] = {"run-000000", "pts-untreated", "stent-14mm"};
      const char *status_stale[N_RUNS] = {"missing", "failed", "ok"};
      const int present[N_RUNS] = {0, 1, 1};
      check_summary(fid, names, status_stale, present);
    }
    assert_true(attr_double(fid, "/parameters", "complete") == 1.0);
    H5Fclose(fid);
    assert_int_equal(count_entries(dir), 1); /* stale parts removed too */
  }
  free(parts);
  free(out);
}

/* Resuming an output that is complete already changes nothing. */
static void test_resume_complete_output(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  vs_output_meta meta = test_meta();
  const size_t order[] = {0, 1, 2};
  write_file(out, &meta, order, 3);
  size_t n0 = 0, n1 = 0;
  unsigned char *before = slurp(out, &n0);
  meta.resume = 1;
  vs_writer *w = NULL;
  char msg[512];
  assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_OK);
  assert_int_equal(vs_writer_done_count(w), N_RUNS);
  assert_int_equal(vs_writer_failed_count(w), 1);
  for (size_t i = 0; i < N_RUNS; ++i) assert_true(vs_writer_has_run(w, i));
  double row[N_COLS], expected[N_COLS];
  assert_int_equal(vs_writer_run_status(w, 2, row), VS_RUN_OK);
  summary_row(2, expected);
  assert_memory_equal(row, expected, sizeof row);
  assert_int_equal(vs_writer_finish(&w, msg, sizeof msg), VS_OK);
  unsigned char *after = slurp(out, &n1);
  assert_int_equal(n0, n1);
  assert_memory_equal(before, after, n0);
  assert_int_equal(count_entries(dir), 1);
  free(before);
  free(after);
  free(out);
}

/* Summary only: no /runs groups, the summary whole. Thinned series keep
 * samples 0, N, 2N, ... */
static void test_summary_only_and_thinned(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  vs_output_meta meta = test_meta();
  const size_t order[] = {1, 2, 0};
  const int present[N_RUNS] = {1, 1, 1};
  const char *status[N_RUNS] = {"ok", "failed", "ok"};
  meta.summary_only = 1;
  write_file(out, &meta, order, 3);
  hid_t fid = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(fid >= 0);
  H5G_info_t info;
  assert_true(H5Gget_info_by_name(fid, "/runs", &info, H5P_DEFAULT) >= 0);
  assert_int_equal(info.nlinks, 0);
  check_summary(fid, run_names, status, present);
  assert_attr_string(fid, "/parameters", "series", "none");
  size_t n = 0;
  char **msgs = read_strings(fid, "/summary/message", &n);
  assert_int_equal(n, N_RUNS);
  assert_string_equal(msgs[0], "");
  assert_non_null(strstr(msgs[1], "too much work"));
  free_strings(msgs, n);
  H5Fclose(fid);

  meta.summary_only = 0;
  meta.series_stride = 7;
  write_file(out, &meta, order, 3);
  fid = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(fid >= 0);
  vs_run_result *r = make_run(2);
  size_t kept = (r->n_samples - 1) / 7 + 1;
  double *t = read_doubles(fid, "/runs/stent-14mm/time", kept, 0);
  double *p = read_doubles(fid, "/runs/stent-14mm/pressure", kept, 3);
  for (size_t k = 0; k < kept; ++k) {
    assert_true(t[k] == r->time[7 * k]);
    for (size_t j = 0; j < 3; ++j)
      assert_true(p[k * 3 + j] == r->series[0].data[7 * k * 3 + j]);
  }
  assert_attr_string(fid, "/parameters", "series", "every 7th sample");
  free(t);
  free(p);
  vs_result_free(&r);
  H5Fclose(fid);
  free(out);
}

static void copy_file(const char *from, const char *to) {
  size_t n = 0;
  unsigned char *buf = slurp(from, &n);
  FILE *f = fopen(to, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, n, f), n);
  fclose(f);
  free(buf);
}

/* Parts left by a kill after the final OUT was renamed into place (before
 * they were removed) are leftovers, not an interrupted session: a new run
 * removes them instead of refusing. */
static void test_leftovers_of_a_complete_output(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  char *parts = join(dir, "out.h5.parts");
  char *part = join(parts, "part-r000-000000.h5");
  char *saved = join(dir, "saved.h5");
  vs_output_meta meta = test_meta();
  vs_writer *w = NULL;
  char msg[512];
  assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_OK);
  for (size_t i = 0; i < N_RUNS; ++i) {
    vs_run_result *r = make_run(i);
    assert_int_equal(vs_writer_add_run(w, i, r, NULL, msg, sizeof msg), VS_OK);
    vs_result_free(&r);
  }
  assert_int_equal(vs_writer_flush(w, msg, sizeof msg), VS_OK);
  assert_true(exists(part));
  copy_file(part, saved);
  assert_int_equal(vs_writer_finish(&w, msg, sizeof msg), VS_OK);
  assert_int_equal(mkdir(parts, 0777), 0);
  copy_file(saved, part); /* as if killed while removing the parts */
  remove(saved);
  const size_t order[] = {0, 1, 2};
  write_file(out, &meta, order, 3);
  assert_int_equal(count_entries(dir), 1);
  free(saved);
  free(part);
  free(parts);
  free(out);
}

typedef struct {
  int calls[N_RUNS];
  char names[N_RUNS][32];
  int status[N_RUNS];
} heard;

static void listen(void *user, size_t index, const char *name, int status) {
  heard *h = user;
  h->calls[index]++;
  snprintf(h->names[index], sizeof h->names[index], "%s", name);
  h->status[index] = status;
}

/* The listener hears of each run once, when it is safe. */
static void test_listener(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  vs_output_meta meta = test_meta();
  heard h;
  memset(&h, 0, sizeof h);
  vs_writer *w = NULL;
  char msg[512];
  assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_OK);
  vs_writer_set_listener(w, listen, &h);
  for (size_t i = 0; i < N_RUNS; ++i) {
    vs_run_result *r = make_run(i);
    assert_int_equal(vs_writer_add_run(w, i, r, NULL, msg, sizeof msg), VS_OK);
    vs_result_free(&r);
  }
  assert_int_equal(vs_writer_flush(w, msg, sizeof msg), VS_OK);
  for (size_t i = 0; i < N_RUNS; ++i) {
    assert_int_equal(h.calls[i], 1);
    assert_string_equal(h.names[i], run_names[i]);
    assert_int_equal(h.status[i], i == 1 ? VS_RUN_FAILED : VS_RUN_OK);
    assert_true(vs_writer_has_run(w, i));
  }
  vs_run_result *r = make_run(0); /* once only */
  assert_int_equal(vs_writer_add_run(w, 0, r, NULL, msg, sizeof msg),
                   VS_EINVAL);
  vs_result_free(&r);
  assert_int_equal(vs_writer_finish(&w, msg, sizeof msg), VS_OK);
  free(out);
}

static void test_bad_arguments(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  vs_output_meta meta = test_meta();
  vs_writer *w = NULL;
  char msg[512];
  assert_int_equal(vs_writer_open(&w, out, NULL, msg, sizeof msg), VS_EINVAL);
  assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_OK);
  vs_run_result *r = make_run(0);
  assert_int_equal(vs_writer_add_run(w, N_RUNS, r, NULL, msg, sizeof msg),
                   VS_EINVAL);
  assert_non_null(strstr(msg, "out of range"));
  assert_int_equal(vs_writer_add_run(w, 0, NULL, NULL, msg, sizeof msg),
                   VS_EINVAL);
  /* NULL summary values: the row reads NaN */
  assert_int_equal(vs_writer_add_run(w, 0, r, NULL, NULL, 0), VS_OK);
  vs_result_free(&r);
  assert_int_equal(vs_writer_finish(&w, msg, sizeof msg), VS_OK);
  assert_int_equal(vs_writer_finish(&w, msg, sizeof msg), VS_EINVAL);
  vs_writer_abandon(NULL);

  hid_t fid = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(fid >= 0);
  double *v = read_doubles(fid, "/summary/avp_ankle", N_RUNS, 0);
  assert_true(isnan(v[0]) && isnan(v[1]) && isnan(v[2]));
  free(v);
  H5Fclose(fid);
  free(out);
}

/* A run that failed before its first sample: no time, series or events. */
static void test_run_without_samples(void **state) {
  const char *dir = *state;
  char *out = join(dir, "out.h5");
  vs_output_meta meta = test_meta();
  meta.n_runs = 1;
  meta.n_summary_columns = 0;
  meta.case_text = meta.case_resolved = NULL;
  vs_writer *w = NULL;
  char msg[512];
  assert_int_equal(vs_writer_open(&w, out, &meta, msg, sizeof msg), VS_OK);
  vs_run_result *r = NULL;
  assert_int_equal(vs_result_create(&r, "a/b"), VS_OK);
  vs_result_fail(r, "bad network: %s", "no outlet");
  assert_int_equal(vs_writer_add_run(w, 0, r, NULL, msg, sizeof msg), VS_OK);
  vs_result_free(&r);
  assert_int_equal(vs_writer_finish(&w, msg, sizeof msg), VS_OK);

  hid_t fid = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
  assert_true(fid >= 0);
  assert_attr_string(fid, "/runs/a_b", "status", "failed"); /* '/' -> '_' */
  assert_attr_string(fid, "/runs/a_b", "name", "a/b");
  assert_attr_string(fid, "/runs/a_b", "message", "bad network: no outlet");
  double *t = read_doubles(fid, "/runs/a_b/time", 0, 0);
  free(t);
  hid_t d = H5Dopen2(fid, "/runs/a_b/events", H5P_DEFAULT);
  hid_t s = H5Dget_space(d);
  assert_int_equal(H5Sget_simple_extent_npoints(s), 0);
  H5Sclose(s);
  H5Dclose(d);
  assert_int_equal(H5Lexists(fid, "/parameters/case_file", H5P_DEFAULT), 0);
  size_t n = 0;
  char **names = read_strings(fid, "/summary/run_name", &n);
  assert_int_equal(n, 1);
  assert_string_equal(names[0], "a_b");
  free_strings(names, n);
  H5Fclose(fid);
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_layout_and_round_trip, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_reruns_are_byte_identical, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_open_fails_cleanly, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_abandon_keeps_parts, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_missing_run, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_parts_of_earlier_session, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_bad_arguments, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_run_without_samples, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_resume_complete_output, setup_dir,
                                      teardown_dir),
      cmocka_unit_test_setup_teardown(test_summary_only_and_thinned,
                                      setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_listener, setup_dir, teardown_dir),
      cmocka_unit_test_setup_teardown(test_leftovers_of_a_complete_output,
                                      setup_dir, teardown_dir),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
