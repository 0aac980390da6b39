/* HDF5 results writer (writer.h): each finished run goes at once to its own
 * part file in OUT.parts/; finish assembles OUT from the parts under a
 * temporary name and renames it into place, so neither a crash nor a kill
 * loses a finished run or leaves a half-written OUT. */
/* POSIX.1-2008 (fsync, mkdir, opendir, getpid) comes from the build. */

#include "venosim/writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "venosim/error.h"

/* Datasets with more elements than this are chunked and compressed; smaller
 * ones stay contiguous, where compression would cost more than it saves. */
#define VS_COMPRESS_MIN_ELEMENTS 4096
#define VS_CHUNK_ELEMENTS 16384 /* 128 KiB of doubles per chunk */
#define VS_DEFLATE_LEVEL 4

/* w->state[i] before run i has been added in this session. */
#define VS_NOT_ADDED (-1)

typedef struct {
  char *name, *unit, *description;
} column;

struct vs_writer {
  char *path;      /* OUT, as given */
  char *parts_dir; /* OUT.parts */
  char *creator, *version, *git_commit, *author, *command_line, *case_path,
      *case_text, *case_resolved, *sundials_version;
  int threads;
  size_t n_runs, n_cols;
  column *cols;
  double *summary;      /* n_runs x n_cols, row-major; NaN until added */
  int *state;           /* per run: VS_NOT_ADDED or its vs_run_status */
  char **names;         /* per run: its group name under /runs, once known */
  char fingerprint[17]; /* tells this output's parts from anyone else's */
  int deflate;          /* gzip and shuffle filters available */
  hid_t fapl, fcpl, gcpl;
};

/* ---- messages ------------------------------------------------------------ */

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_msg(char *msg, size_t msglen, const char *fmt, ...) {
  if (!msg || msglen == 0) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, msglen, fmt, ap);
  va_end(ap);
}

/* "what: <msg>", so every message names the file it is about. */
static void prefix_msg(char *msg, size_t msglen, const char *what) {
  if (!msg || msglen == 0) return;
  char old[1024];
  snprintf(old, sizeof old, "%s", msg);
  snprintf(msg, msglen, "%s: %s", what, old);
}

/* The innermost entry of HDF5's error stack says what really went wrong
 * ("errno = 28, error message = 'No space left on device'"). */
static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *reason) {
  (void)n;
  if (e->desc && e->desc[0]) snprintf(reason, 256, "%s", e->desc);
  return 0;
}

static int h5_failed(char *msg, size_t msglen, const char *call,
                     const char *file, int line) {
  char reason[256] = "";
  /* Reading and clearing the stack are diagnostics, not checked calls. */
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, keep_innermost, reason);
  H5Eclear2(H5E_DEFAULT);
  const char *base = strrchr(file, '/');
  set_msg(msg, msglen, "HDF5 call %s failed (%s:%d)%s%s", call,
          base ? base + 1 : file, line, reason[0] ? ": " : "", reason);
  return VS_EHDF5;
}

/* Every HDF5 call goes through VS_H5: a negative result (failed call or
 * invalid id) records the call, file and line with HDF5's reason in
 * msg/msglen, sets rc and jumps to the function's single exit label `done`. */
#define VS_H5(call)                                                            \
  do {                                                                         \
    if ((call) < 0) {                                                          \
      rc = h5_failed(msg, msglen, #call, __FILE__, __LINE__);                  \
      goto done;                                                               \
    }                                                                          \
  } while (0)

/* Closes an id of any kind (file, group, dataset, type, space, property
 * list) and marks it closed; on error paths the result is ignored. */
static herr_t h5_close(hid_t *id) {
  if (*id < 0) return 0;
  int left = H5Idec_ref(*id);
  *id = H5I_INVALID_HID;
  return left < 0 ? -1 : 0;
}

/* The automatic error printer is switched off while the writer works (its
 * reasons go into msg instead) and restored for the caller afterwards. */
typedef struct {
  H5E_auto2_t func;
  void *data;
} h5_printer;

static void h5_quiet(h5_printer *saved) {
  saved->func = NULL;
  saved->data = NULL;
  H5Eget_auto2(H5E_DEFAULT, &saved->func, &saved->data);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void h5_restore(const h5_printer *saved) {
  H5Eset_auto2(H5E_DEFAULT, saved->func, saved->data);
}

/* ---- small helpers ------------------------------------------------------- */

static char *dup_or_null(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static char *format_alloc(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static char *format_alloc(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

static const char *or_text(const char *s, const char *fallback) {
  return s ? s : fallback;
}

static const char *status_text(int status) {
  switch (status) {
  case VS_RUN_OK:
    return "ok";
  case VS_RUN_FAILED:
    return "failed";
  case VS_RUN_PENDING:
    return "pending";
  default:
    return "missing";
  }
}

/* Name of run `index` under /runs: its own name with '/' (HDF5's path
 * separator) replaced by '_', or run-NNNNNN when it has none. */
static char *run_group_name(const char *name, size_t index) {
  if (!name || !name[0] || strcmp(name, ".") == 0)
    return format_alloc("run-%06zu", index);
  char *g = dup_or_null(name);
  for (char *c = g; c && *c; ++c)
    if (*c == '/') *c = '_';
  return g;
}

static char *part_path(const vs_writer *w, size_t index, const char *suffix) {
  return format_alloc("%s/run-%06zu.h5%s", w->parts_dir, index, suffix);
}

/* Folder holding `path`: "." for a bare file name. */
static char *folder_of(const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash) return dup_or_null(".");
  if (slash == path) return dup_or_null("/");
  char *d = malloc((size_t)(slash - path) + 1);
  if (!d) return NULL;
  memcpy(d, path, (size_t)(slash - path));
  d[slash - path] = '\0';
  return d;
}

/* Flushes a closed file to disk: HDF5's close only hands data to the OS. */
static int sync_file(const char *path) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  int saved = errno;
  if (close(fd) != 0 && rc == 0) return -1;
  errno = saved;
  return rc;
}

/* Makes a rename durable. Best effort: some file systems cannot sync a
 * folder, and the data itself is already on disk. */
static void sync_folder(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  (void)fsync(fd);
  (void)close(fd);
}

/* FNV-1a over everything that determines what run i is, so a later session
 * adopts a part left on disk only if it belongs to the same output. The
 * command line and thread count are left out: --resume and --threads change
 * them without changing any run. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= UINT64_C(1099511628211);
  }
  return h;
}

static uint64_t fnv1a_str(uint64_t h, const char *s) {
  static const unsigned char absent = 0xff;
  return s ? fnv1a(h, s, strlen(s) + 1) : fnv1a(h, &absent, 1);
}

static void compute_fingerprint(vs_writer *w) {
  uint64_t h = UINT64_C(14695981039346656037);
  h = fnv1a_str(h, w->creator);
  h = fnv1a_str(h, w->version);
  h = fnv1a_str(h, w->git_commit);
  h = fnv1a_str(h, w->case_resolved ? w->case_resolved : w->case_text);
  uint64_t counts[2] = {w->n_runs, w->n_cols};
  h = fnv1a(h, counts, sizeof counts);
  for (size_t j = 0; j < w->n_cols; ++j) {
    h = fnv1a_str(h, w->cols[j].name);
    h = fnv1a_str(h, w->cols[j].unit);
  }
  snprintf(w->fingerprint, sizeof w->fingerprint, "%016llx",
           (unsigned long long)h);
}

/* ---- HDF5 building blocks ------------------------------------------------ */

/* Writes attribute `name` on loc: scalar when n == 0, else n elements. */
static int attr_write(hid_t loc, const char *name, hid_t file_type,
                      hid_t mem_type, hsize_t n, const void *buf, char *msg,
                      size_t msglen) {
  int rc = VS_OK;
  hid_t space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
  if (n == 0)
    VS_H5(space = H5Screate(H5S_SCALAR));
  else
    VS_H5(space = H5Screate_simple(1, &n, NULL));
  VS_H5(attr =
            H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT));
  VS_H5(H5Awrite(attr, mem_type, buf));
  VS_H5(h5_close(&attr));
done:
  (void)h5_close(&attr);
  (void)h5_close(&space);
  return rc;
}

/* Variable-length UTF-8 string type: attributes read back as str in h5py. */
static hid_t vlen_string_type(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return t;
  if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
    (void)h5_close(&t);
    return H5I_INVALID_HID;
  }
  return t;
}

static int attr_string(hid_t loc, const char *name, const char *value,
                       char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t type = H5I_INVALID_HID;
  const char *v = value ? value : "";
  VS_H5(type = vlen_string_type());
  rc = attr_write(loc, name, type, type, 0, &v, msg, msglen);
done:
  (void)h5_close(&type);
  return rc;
}

static int attr_double(hid_t loc, const char *name, double v, char *msg,
                       size_t msglen) {
  return attr_write(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, &v, msg,
                    msglen);
}

static int attr_long(hid_t loc, const char *name, long v, char *msg,
                     size_t msglen) {
  return attr_write(loc, name, H5T_STD_I64LE, H5T_NATIVE_LONG, 0, &v, msg,
                    msglen);
}

static int attr_int(hid_t loc, const char *name, int v, char *msg,
                    size_t msglen) {
  return attr_write(loc, name, H5T_STD_I32LE, H5T_NATIVE_INT, 0, &v, msg,
                    msglen);
}

static int attr_index(hid_t loc, const char *name, size_t v, char *msg,
                      size_t msglen) {
  unsigned long long u = v;
  return attr_write(loc, name, H5T_STD_U64LE, H5T_NATIVE_ULLONG, 0, &u, msg,
                    msglen);
}

/* Reads a string attribute written by attr_string; *out is malloc'ed. */
static int attr_read_string(hid_t loc, const char *obj, const char *name,
                            char **out, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t type = H5I_INVALID_HID, attr = H5I_INVALID_HID;
  char *value = NULL;
  *out = NULL;
  VS_H5(type = vlen_string_type());
  VS_H5(attr = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT));
  VS_H5(H5Aread(attr, type, &value));
  *out = dup_or_null(value ? value : "");
  if (!*out) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
  }
done:
  if (value) H5free_memory(value);
  (void)h5_close(&attr);
  (void)h5_close(&type);
  return rc;
}

static int group_create(hid_t loc, const char *name, hid_t gcpl, hid_t *g,
                        char *msg, size_t msglen) {
  int rc = VS_OK;
  VS_H5(*g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT));
done:
  return rc;
}

/* Dataset creation properties: no timestamps (byte-identical reruns);
 * large datasets chunked by whole rows and compressed. */
static int make_dcpl(const vs_writer *w, int rank, const hsize_t *dims,
                     hid_t *dcpl, char *msg, size_t msglen) {
  int rc = VS_OK;
  hsize_t n = 1;
  for (int k = 0; k < rank; ++k) n *= dims[k];
  VS_H5(*dcpl = H5Pcreate(H5P_DATASET_CREATE));
  VS_H5(H5Pset_obj_track_times(*dcpl, 0));
  if (w->deflate && n > VS_COMPRESS_MIN_ELEMENTS) {
    hsize_t chunk[2] = {dims[0], rank > 1 ? dims[1] : 1};
    hsize_t rows = VS_CHUNK_ELEMENTS / chunk[1];
    if (rows < 1) rows = 1;
    if (chunk[0] > rows) chunk[0] = rows;
    VS_H5(H5Pset_chunk(*dcpl, rank, chunk));
    VS_H5(H5Pset_shuffle(*dcpl)); /* groups the bytes of doubles: ~2x */
    VS_H5(H5Pset_deflate(*dcpl, VS_DEFLATE_LEVEL));
  }
done:
  return rc;
}

/* A dataset of `rank` dims from buf, with unit and description attributes
 * when given. */
static int write_dataset(const vs_writer *w, hid_t loc, const char *name,
                         hid_t file_type, hid_t mem_type, int rank,
                         const hsize_t *dims, const void *buf, const char *unit,
                         const char *description, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID, dset = H5I_INVALID_HID;
  hsize_t n = 1;
  for (int k = 0; k < rank; ++k) n *= dims[k];
  if (rank == 0)
    VS_H5(space = H5Screate(H5S_SCALAR));
  else
    VS_H5(space = H5Screate_simple(rank, dims, NULL));
  if ((rc = make_dcpl(w, rank, dims, &dcpl, msg, msglen)) != VS_OK) goto done;
  VS_H5(dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl,
                          H5P_DEFAULT));
  if (n > 0) /* an empty selection needs no write (and may have no buffer) */
    VS_H5(H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
  if (unit && (rc = attr_string(dset, "unit", unit, msg, msglen)) != VS_OK)
    goto done;
  if (description && (rc = attr_string(dset, "description", description, msg,
                                       msglen)) != VS_OK)
    goto done;
  VS_H5(h5_close(&dset));
done:
  (void)h5_close(&dset);
  (void)h5_close(&dcpl);
  (void)h5_close(&space);
  return rc;
}

/* Fixed-length UTF-8 string type of `size` bytes, null-terminated: compact,
 * compressible, read straight into arrays (numpy 'S' in h5py) and shown
 * plainly by h5dump. */
static hid_t fixed_string_type(size_t size) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return t;
  if (H5Tset_size(t, size ? size : 1) < 0 ||
      H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
      H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
    (void)h5_close(&t);
    return H5I_INVALID_HID;
  }
  return t;
}

/* A string dataset: n strings, or one scalar string when scalar != 0. */
static int write_strings(const vs_writer *w, hid_t loc, const char *name,
                         const char *const *s, size_t n, int scalar, char *msg,
                         size_t msglen) {
  int rc = VS_OK;
  hid_t type = H5I_INVALID_HID;
  size_t width = 1; /* longest string + its '\0' */
  for (size_t i = 0; i < n; ++i)
    if (s[i] && strlen(s[i]) + 1 > width) width = strlen(s[i]) + 1;
  char *buf = calloc(n ? n : 1, width);
  if (!buf) {
    set_msg(msg, msglen, "out of memory");
    return VS_ENOMEM;
  }
  for (size_t i = 0; i < n; ++i)
    if (s[i]) memcpy(buf + i * width, s[i], strlen(s[i]));
  VS_H5(type = fixed_string_type(width));
  hsize_t dims[1] = {n};
  rc = write_dataset(w, loc, name, type, type, scalar ? 0 : 1, dims, buf, NULL,
                     NULL, msg, msglen);
done:
  (void)h5_close(&type);
  free(buf);
  return rc;
}

/* ---- one run: the /run group of a part file ------------------------------ */

/* The event log as a compound {time_s, kind, message}, written straight from
 * the vs_event array; strings stored only as wide as the longest. */
static int write_events(const vs_writer *w, hid_t run, const vs_run_result *r,
                        char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t mkind = H5I_INVALID_HID, mmsg = H5I_INVALID_HID,
        fkind = H5I_INVALID_HID, fmsg = H5I_INVALID_HID, mem = H5I_INVALID_HID,
        file = H5I_INVALID_HID;
  size_t wk = 1, wm = 1; /* longest kind and message + their '\0' */
  for (size_t i = 0; i < r->n_events; ++i) {
    size_t k = strnlen(r->events[i].kind, sizeof r->events[i].kind) + 1;
    size_t m = strnlen(r->events[i].message, sizeof r->events[i].message) + 1;
    if (k > wk) wk = k;
    if (m > wm) wm = m;
  }
  VS_H5(mkind = H5Tcopy(H5T_C_S1));
  VS_H5(H5Tset_size(mkind, sizeof r->events[0].kind));
  VS_H5(H5Tset_cset(mkind, H5T_CSET_UTF8));
  VS_H5(mmsg = H5Tcopy(mkind));
  VS_H5(H5Tset_size(mmsg, sizeof r->events[0].message));
  VS_H5(fkind = fixed_string_type(wk));
  VS_H5(fmsg = fixed_string_type(wm));

  VS_H5(mem = H5Tcreate(H5T_COMPOUND, sizeof(vs_event)));
  VS_H5(
      H5Tinsert(mem, "time_s", offsetof(vs_event, time_s), H5T_NATIVE_DOUBLE));
  VS_H5(H5Tinsert(mem, "kind", offsetof(vs_event, kind), mkind));
  VS_H5(H5Tinsert(mem, "message", offsetof(vs_event, message), mmsg));

  VS_H5(file = H5Tcreate(H5T_COMPOUND, 8 + wk + wm));
  VS_H5(H5Tinsert(file, "time_s", 0, H5T_IEEE_F64LE));
  VS_H5(H5Tinsert(file, "kind", 8, fkind));
  VS_H5(H5Tinsert(file, "message", 8 + wk, fmsg));

  hsize_t dims[1] = {r->n_events};
  rc = write_dataset(w, run, "events", file, mem, 1, dims, r->events, NULL,
                     "Event log: time from the start, kind, message", msg,
                     msglen);
done:
  (void)h5_close(&file);
  (void)h5_close(&mem);
  (void)h5_close(&fmsg);
  (void)h5_close(&fkind);
  (void)h5_close(&mmsg);
  (void)h5_close(&mkind);
  return rc;
}

static int write_stats(const vs_writer *w, hid_t run, const vs_solver_stats *s,
                       char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t g = H5I_INVALID_HID;
  if ((rc = group_create(run, "solver_stats", w->gcpl, &g, msg, msglen)))
    goto done;
  const struct {
    const char *name;
    long value;
  } counters[] = {
      {"steps", s->steps},
      {"rhs_evals", s->rhs_evals},
      {"jac_evals", s->jac_evals},
      {"lin_setups", s->lin_setups},
      {"error_test_fails", s->error_test_fails},
      {"nonlin_iters", s->nonlin_iters},
      {"nonlin_conv_fails", s->nonlin_conv_fails},
      {"n_states", s->n_states},
      {"jac_nonzeros", s->jac_nonzeros},
  };
  for (size_t i = 0; i < sizeof counters / sizeof counters[0]; ++i)
    if ((rc = attr_long(g, counters[i].name, counters[i].value, msg, msglen)))
      goto done;
  char solver[sizeof s->linear_solver + 1];
  snprintf(solver, sizeof solver, "%.*s", (int)sizeof s->linear_solver,
           s->linear_solver);
  if ((rc = attr_int(g, "last_order", s->last_order, msg, msglen)) ||
      (rc = attr_double(g, "last_step_s", s->last_step_s, msg, msglen)) ||
      (rc = attr_double(g, "wall_time_s", s->wall_time_s, msg, msglen)) ||
      (rc = attr_string(g, "linear_solver", solver, msg, msglen)))
    goto done;
  VS_H5(h5_close(&g));
done:
  (void)h5_close(&g);
  return rc;
}

static int check_run(const vs_run_result *r, char *msg, size_t msglen) {
  if (r->n_samples > 0 && !r->time) {
    set_msg(msg, msglen, "run has %zu samples but no time column",
            r->n_samples);
    return VS_EINVAL;
  }
  if (r->n_series > 0 && !r->series) {
    set_msg(msg, msglen, "run has %zu series but no series array", r->n_series);
    return VS_EINVAL;
  }
  for (size_t i = 0; i < r->n_series; ++i) {
    const vs_series *s = &r->series[i];
    if (!s->name || !s->name[0] || strchr(s->name, '/') ||
        (r->n_samples * s->n_columns > 0 && !s->data) ||
        (s->n_columns > 0 && !s->column_names)) {
      set_msg(msg, msglen, "series %zu ('%s') has no valid name or no data", i,
              s->name ? s->name : "");
      return VS_EINVAL;
    }
  }
  if (r->n_events > 0 && !r->events) {
    set_msg(msg, msglen, "run has %zu events but no event array", r->n_events);
    return VS_EINVAL;
  }
  return VS_OK;
}

/* Fills group `run` with the layout of /runs/<run>/ (writer.h). */
static int write_run(const vs_writer *w, hid_t run, size_t index,
                     const vs_run_result *r, char *msg, size_t msglen) {
  int rc = VS_OK;
  char *cols_name = NULL;
  if ((rc = attr_string(run, "status", status_text(r->status), msg, msglen)) ||
      (rc = attr_string(run, "message", r->message, msg, msglen)) ||
      (rc = attr_index(run, "index", index, msg, msglen)) ||
      (rc = attr_string(run, "name", r->name, msg, msglen)))
    goto done;

  hsize_t dims[2] = {r->n_samples, 0};
  if ((rc = write_dataset(w, run, "time", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1,
                          dims, r->time, "s", "Output times", msg, msglen)))
    goto done;
  for (size_t i = 0; i < r->n_series; ++i) {
    const vs_series *s = &r->series[i];
    dims[1] = s->n_columns;
    if ((rc = write_dataset(w, run, s->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                            2, dims, s->data, or_text(s->unit, ""),
                            or_text(s->description, ""), msg, msglen)))
      goto done;
    free(cols_name);
    cols_name = format_alloc("%s_columns", s->name);
    if (!cols_name) {
      set_msg(msg, msglen, "out of memory");
      rc = VS_ENOMEM;
      goto done;
    }
    if ((rc = write_strings(w, run, cols_name,
                            (const char *const *)s->column_names, s->n_columns,
                            0, msg, msglen)))
      goto done;
  }
  if ((rc = write_events(w, run, r, msg, msglen)) ||
      (rc = write_stats(w, run, &r->stats, msg, msglen)))
    goto done;
done:
  free(cols_name);
  return rc;
}

/* Writes run `index` to OUT.parts/run-NNNNNN.h5: under .tmp first, synced,
 * then renamed, so the part is either complete or absent. The part's root
 * also carries the fingerprint and the summary row, for a later --resume. */
static int write_part(const vs_writer *w, size_t index, const vs_run_result *r,
                      const double *row, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t fid = H5I_INVALID_HID, run = H5I_INVALID_HID;
  char *final = part_path(w, index, "");
  char *tmp = part_path(w, index, ".tmp");
  if (!final || !tmp) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
    goto done;
  }
  VS_H5(fid = H5Fcreate(tmp, H5F_ACC_TRUNC, w->fcpl, w->fapl));
  if ((rc = attr_string(fid, "fingerprint", w->fingerprint, msg, msglen)))
    goto done;
  if (w->n_cols > 0 &&
      (rc = attr_write(fid, "summary", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                       w->n_cols, row, msg, msglen)))
    goto done;
  if ((rc = group_create(fid, "run", w->gcpl, &run, msg, msglen)) ||
      (rc = write_run(w, run, index, r, msg, msglen)))
    goto done;
  VS_H5(h5_close(&run));
  VS_H5(h5_close(&fid));
  if (sync_file(tmp) != 0 || rename(tmp, final) != 0) {
    set_msg(msg, msglen, "cannot save the part: %s", strerror(errno));
    rc = VS_EIO;
    goto done;
  }
  sync_folder(w->parts_dir);
done:
  (void)h5_close(&run);
  (void)h5_close(&fid);
  if (rc != VS_OK && tmp) {
    (void)remove(tmp);
    prefix_msg(msg, msglen, final ? final : w->parts_dir);
  }
  free(tmp);
  free(final);
  return rc;
}

/* ---- assembling OUT ------------------------------------------------------ */

/* Takes over a part left on disk by an earlier session of this same output
 * (same fingerprint and index): its name, status and summary row. Returns
 * nonzero, changing nothing, when there is no such part. */
static int adopt_part(vs_writer *w, size_t index) {
  char msg[256]; /* reasons not to adopt are not errors: discarded */
  const size_t msglen = sizeof msg;
  int rc = VS_OK;
  hid_t fid = H5I_INVALID_HID, attr = H5I_INVALID_HID, space = H5I_INVALID_HID;
  char *fp = NULL, *name = NULL, *status = NULL;
  unsigned long long stored_index = 0;
  double *row = w->summary + index * w->n_cols;
  char *path = part_path(w, index, "");
  if (!path || access(path, F_OK) != 0) {
    rc = VS_ENOTFOUND;
    goto done;
  }
  VS_H5(fid = H5Fopen(path, H5F_ACC_RDONLY, w->fapl));
  if ((rc = attr_read_string(fid, ".", "fingerprint", &fp, msg, msglen)))
    goto done;
  VS_H5(attr = H5Aopen_by_name(fid, "run", "index", H5P_DEFAULT, H5P_DEFAULT));
  VS_H5(H5Aread(attr, H5T_NATIVE_ULLONG, &stored_index));
  VS_H5(h5_close(&attr));
  if (strcmp(fp, w->fingerprint) != 0 || stored_index != index) {
    rc = VS_ENOTFOUND;
    goto done;
  }
  if ((rc = attr_read_string(fid, "run", "name", &name, msg, msglen)) ||
      (rc = attr_read_string(fid, "run", "status", &status, msg, msglen)))
    goto done;
  if (w->n_cols > 0) {
    VS_H5(attr = H5Aopen(fid, "summary", H5P_DEFAULT));
    VS_H5(space = H5Aget_space(attr));
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n != (hssize_t)w->n_cols) {
      rc = VS_ENOTFOUND;
      goto done;
    }
    VS_H5(H5Aread(attr, H5T_NATIVE_DOUBLE, row));
  }
  w->state[index] = strcmp(status, "ok") == 0       ? VS_RUN_OK
                    : strcmp(status, "failed") == 0 ? VS_RUN_FAILED
                                                    : VS_RUN_PENDING;
  free(w->names[index]);
  w->names[index] = run_group_name(name, index);
done:
  (void)h5_close(&space);
  (void)h5_close(&attr);
  (void)h5_close(&fid);
  if (rc != VS_OK && w->n_cols > 0)
    for (size_t j = 0; j < w->n_cols; ++j) row[j] = NAN;
  free(status);
  free(name);
  free(fp);
  free(path);
  return rc;
}

/* Puts run `index` under /runs: a copy of its part's /run, or a group with
 * status "missing" when no part exists. Sets *gname to the group's name. */
static int assemble_run(vs_writer *w, hid_t runs, size_t index, char **gname,
                        char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t part = H5I_INVALID_HID, g = H5I_INVALID_HID;
  char *path = NULL;
  *gname = NULL;
  if (w->state[index] == VS_NOT_ADDED) (void)adopt_part(w, index);
  if (!(path = part_path(w, index, ""))) {
    rc = VS_ENOMEM;
    goto done;
  }
  if (w->state[index] != VS_NOT_ADDED && access(path, F_OK) != 0)
    w->state[index] = VS_NOT_ADDED; /* its part was removed behind our back */

  /* Names are unique by contract; a duplicate falls back to the index
   * rather than failing the whole file at the last step. */
  if (w->names[index]) {
    htri_t taken;
    VS_H5(taken = H5Lexists(runs, w->names[index], H5P_DEFAULT));
    *gname =
        taken ? format_alloc("run-%06zu", index) : dup_or_null(w->names[index]);
  } else {
    *gname = format_alloc("run-%06zu", index);
  }
  if (!*gname) {
    rc = VS_ENOMEM;
    goto done;
  }

  if (w->state[index] != VS_NOT_ADDED) {
    VS_H5(part = H5Fopen(path, H5F_ACC_RDONLY, w->fapl));
    VS_H5(H5Ocopy(part, "run", runs, *gname, H5P_DEFAULT, H5P_DEFAULT));
    VS_H5(h5_close(&part));
  } else {
    if ((rc = group_create(runs, *gname, w->gcpl, &g, msg, msglen)) ||
        (rc = attr_string(g, "status", "missing", msg, msglen)) ||
        (rc = attr_string(g, "message",
                          "the run did not finish before the results were "
                          "assembled",
                          msg, msglen)) ||
        (rc = attr_index(g, "index", index, msg, msglen)) ||
        (rc = attr_string(g, "name", *gname, msg, msglen)))
      goto done;
    VS_H5(h5_close(&g));
  }
done:
  if (rc == VS_ENOMEM) set_msg(msg, msglen, "out of memory");
  if (rc != VS_OK && path) prefix_msg(msg, msglen, path);
  (void)h5_close(&g);
  (void)h5_close(&part);
  free(path);
  return rc;
}

static int write_h5md(const vs_writer *w, hid_t fid, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t h5md = H5I_INVALID_HID, g = H5I_INVALID_HID;
  const int version[2] = {1, 1};
  if ((rc = group_create(fid, "h5md", w->gcpl, &h5md, msg, msglen)) ||
      (rc = attr_write(h5md, "version", H5T_STD_I32LE, H5T_NATIVE_INT, 2,
                       version, msg, msglen)) ||
      (rc = group_create(h5md, "author", w->gcpl, &g, msg, msglen)) ||
      (rc = attr_string(g, "name", or_text(w->author, "unknown"), msg, msglen)))
    goto done;
  VS_H5(h5_close(&g));
  if ((rc = group_create(h5md, "creator", w->gcpl, &g, msg, msglen)) ||
      (rc = attr_string(g, "name", or_text(w->creator, "venosim"), msg,
                        msglen)) ||
      (rc = attr_string(g, "version", or_text(w->version, "unknown"), msg,
                        msglen)))
    goto done;
  VS_H5(h5_close(&g));
  VS_H5(h5_close(&h5md));
done:
  (void)h5_close(&g);
  (void)h5_close(&h5md);
  return rc;
}

static int write_parameters(const vs_writer *w, hid_t fid, char *msg,
                            size_t msglen) {
  int rc = VS_OK;
  hid_t g = H5I_INVALID_HID;
  unsigned maj = 0, min = 0, rel = 0;
  char hdf5_version[48];
  VS_H5(H5get_libversion(&maj, &min, &rel));
  snprintf(hdf5_version, sizeof hdf5_version, "%u.%u.%u", maj, min, rel);
  if ((rc = group_create(fid, "parameters", w->gcpl, &g, msg, msglen)) ||
      (rc = attr_string(g, "venosim_version", or_text(w->version, "unknown"),
                        msg, msglen)) ||
      (rc = attr_string(g, "git_commit", or_text(w->git_commit, "unknown"), msg,
                        msglen)) ||
      (rc =
           attr_string(g, "sundials_version",
                       or_text(w->sundials_version, "unknown"), msg, msglen)) ||
      (rc = attr_string(g, "hdf5_version", hdf5_version, msg, msglen)) ||
      (rc = attr_int(g, "threads", w->threads, msg, msglen)) ||
      (rc = attr_string(g, "command_line", w->command_line, msg, msglen)) ||
      (rc = attr_string(g, "case_path", w->case_path, msg, msglen)) ||
      (rc = attr_index(g, "n_runs", w->n_runs, msg, msglen)))
    goto done;
  const char *text[1] = {w->case_text};
  if (w->case_text &&
      (rc = write_strings(w, g, "case_file", text, 1, 1, msg, msglen)))
    goto done;
  text[0] = w->case_resolved;
  if (w->case_resolved &&
      (rc = write_strings(w, g, "case_resolved", text, 1, 1, msg, msglen)))
    goto done;
  VS_H5(h5_close(&g));
done:
  (void)h5_close(&g);
  return rc;
}

static int write_summary(const vs_writer *w, hid_t fid,
                         const char *const *names, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t g = H5I_INVALID_HID;
  const char **status = calloc(w->n_runs ? w->n_runs : 1, sizeof *status);
  double *values = calloc(w->n_runs ? w->n_runs : 1, sizeof *values);
  if (!status || !values) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < w->n_runs; ++i) status[i] = status_text(w->state[i]);
  hsize_t dims[1] = {w->n_runs};
  if ((rc = group_create(fid, "summary", w->gcpl, &g, msg, msglen)) ||
      (rc =
           write_strings(w, g, "run_name", names, w->n_runs, 0, msg, msglen)) ||
      (rc = write_strings(w, g, "status", status, w->n_runs, 0, msg, msglen)))
    goto done;
  for (size_t j = 0; j < w->n_cols; ++j) {
    for (size_t i = 0; i < w->n_runs; ++i)
      values[i] =
          w->state[i] == VS_NOT_ADDED ? NAN : w->summary[i * w->n_cols + j];
    if ((rc = write_dataset(w, g, w->cols[j].name, H5T_IEEE_F64LE,
                            H5T_NATIVE_DOUBLE, 1, dims, values,
                            or_text(w->cols[j].unit, ""),
                            or_text(w->cols[j].description, ""), msg, msglen)))
      goto done;
  }
  VS_H5(h5_close(&g));
done:
  (void)h5_close(&g);
  free(values);
  free(status);
  return rc;
}

/* Writes the whole results file to `tmp`. */
static int assemble(vs_writer *w, const char *tmp, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t fid = H5I_INVALID_HID, runs = H5I_INVALID_HID;
  char **names = calloc(w->n_runs ? w->n_runs : 1, sizeof *names);
  if (!names) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
    goto done;
  }
  VS_H5(fid = H5Fcreate(tmp, H5F_ACC_TRUNC, w->fcpl, w->fapl));
  if ((rc = write_h5md(w, fid, msg, msglen)) ||
      (rc = write_parameters(w, fid, msg, msglen)) ||
      (rc = group_create(fid, "runs", w->gcpl, &runs, msg, msglen)))
    goto done;
  for (size_t i = 0; i < w->n_runs; ++i)
    if ((rc = assemble_run(w, runs, i, &names[i], msg, msglen))) goto done;
  VS_H5(h5_close(&runs));
  if ((rc = write_summary(w, fid, (const char *const *)names, msg, msglen)))
    goto done;
  VS_H5(h5_close(&fid));
done:
  (void)h5_close(&runs);
  (void)h5_close(&fid);
  for (size_t i = 0; names && i < w->n_runs; ++i) free(names[i]);
  free(names);
  return rc;
}

/* Deletes the part files (ours, and stale ones of other sessions) and then
 * the folder. Best effort: OUT is complete already. */
static void remove_parts(const vs_writer *w) {
  DIR *d = opendir(w->parts_dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      size_t n = strlen(e->d_name);
      int ours = strncmp(e->d_name, "run-", 4) == 0 &&
                 ((n > 3 && strcmp(e->d_name + n - 3, ".h5") == 0) ||
                  (n > 7 && strcmp(e->d_name + n - 7, ".h5.tmp") == 0));
      if (!ours) continue;
      char *p = format_alloc("%s/%s", w->parts_dir, e->d_name);
      if (p) (void)remove(p);
      free(p);
    }
    closedir(d);
  }
  (void)rmdir(w->parts_dir); /* kept if someone put other files there */
}

/* ---- create / free ------------------------------------------------------- */

static void writer_free(vs_writer **wp) {
  if (!wp || !*wp) return;
  vs_writer *w = *wp;
  (void)h5_close(&w->gcpl);
  (void)h5_close(&w->fcpl);
  (void)h5_close(&w->fapl);
  for (size_t j = 0; w->cols && j < w->n_cols; ++j) {
    free(w->cols[j].name);
    free(w->cols[j].unit);
    free(w->cols[j].description);
  }
  for (size_t i = 0; w->names && i < w->n_runs; ++i) free(w->names[i]);
  free(w->names);
  free(w->state);
  free(w->summary);
  free(w->cols);
  char **owned[] = {&w->path,          &w->parts_dir,       &w->creator,
                    &w->version,       &w->git_commit,      &w->author,
                    &w->command_line,  &w->case_path,       &w->case_text,
                    &w->case_resolved, &w->sundials_version};
  for (size_t k = 0; k < sizeof owned / sizeof owned[0]; ++k) free(*owned[k]);
  free(w);
  *wp = NULL;
}

/* Summary column names become dataset names next to run_name and status. */
static int check_columns(const vs_output_meta *meta, char *msg, size_t msglen) {
  for (size_t j = 0; j < meta->n_summary_columns; ++j) {
    const char *name = meta->summary_columns[j].name;
    if (!name || !name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "run_name") == 0 || strcmp(name, "status") == 0) {
      set_msg(msg, msglen, "summary column %zu has an invalid name '%s'", j,
              name ? name : "(null)");
      return VS_EINVAL;
    }
    for (size_t k = 0; k < j; ++k)
      if (strcmp(name, meta->summary_columns[k].name) == 0) {
        set_msg(msg, msglen, "summary column '%s' appears twice", name);
        return VS_EINVAL;
      }
  }
  return VS_OK;
}

/* OUT's folder must exist and be writable, and OUT must not be a folder. */
static int check_folder(const char *path, char *msg, size_t msglen) {
  char *dir = folder_of(path);
  struct stat st;
  int rc = VS_OK;
  if (!dir) {
    set_msg(msg, msglen, "out of memory");
    return VS_ENOMEM;
  }
  int err = 0;
  if (stat(dir, &st) != 0)
    err = errno;
  else if (!S_ISDIR(st.st_mode))
    err = ENOTDIR;
  else if (access(dir, W_OK | X_OK) != 0)
    err = errno;
  if (err) {
    set_msg(msg, msglen, "cannot write to folder '%s': %s", dir, strerror(err));
    rc = VS_EIO;
  } else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    set_msg(msg, msglen, "is a folder, not a file name");
    rc = VS_EINVAL;
  }
  free(dir);
  return rc;
}

static int make_plists(vs_writer *w, char *msg, size_t msglen) {
  int rc = VS_OK;
  htri_t gzip, shuffle;
  /* The file format stays at the library's default (earliest) bounds: with
   * H5F_LIBVER_V18 or later, an object with more than 8 attributes
   * (solver_stats) stores them densely, and H5Ocopy of dense variable-length
   * string attributes segfaults before HDF5 1.14.4 (HDFGroup/hdf5#2414). */
  VS_H5(w->fapl = H5Pcreate(H5P_FILE_ACCESS));
#if (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7) ||     \
    H5_VERSION_GE(1, 12, 1)
  /* Lock when the file system can, carry on where it cannot (Lustre, some
   * NFS) instead of failing with "unable to lock the file". */
  VS_H5(H5Pset_file_locking(w->fapl, 1, 1));
#endif
  /* The file creation list also creates the root group: no timestamps. */
  VS_H5(w->fcpl = H5Pcreate(H5P_FILE_CREATE));
  VS_H5(H5Pset_obj_track_times(w->fcpl, 0));
  VS_H5(w->gcpl = H5Pcreate(H5P_GROUP_CREATE));
  VS_H5(H5Pset_obj_track_times(w->gcpl, 0));
  VS_H5(gzip = H5Zfilter_avail(H5Z_FILTER_DEFLATE));
  VS_H5(shuffle = H5Zfilter_avail(H5Z_FILTER_SHUFFLE));
  w->deflate = gzip > 0 && shuffle > 0;
done:
  return rc;
}

/* Deep copy of the meta: the caller's strings need not outlive open. */
static int copy_meta(vs_writer *w, const vs_output_meta *m) {
  const struct {
    char **dst;
    const char *src;
  } strings[] = {{&w->creator, m->creator},
                 {&w->version, m->version},
                 {&w->git_commit, m->git_commit},
                 {&w->author, m->author},
                 {&w->command_line, m->command_line},
                 {&w->case_path, m->case_path},
                 {&w->case_text, m->case_text},
                 {&w->case_resolved, m->case_resolved},
                 {&w->sundials_version, m->sundials_version}};
  for (size_t k = 0; k < sizeof strings / sizeof strings[0]; ++k) {
    *strings[k].dst = dup_or_null(strings[k].src);
    if (strings[k].src && !*strings[k].dst) return VS_ENOMEM;
  }
  w->threads = m->threads;
  w->n_runs = m->n_runs;
  w->n_cols = m->n_summary_columns;
  w->cols = calloc(w->n_cols ? w->n_cols : 1, sizeof *w->cols);
  if (!w->cols) return VS_ENOMEM;
  for (size_t j = 0; j < w->n_cols; ++j) {
    const vs_column_info *c = &m->summary_columns[j];
    w->cols[j].name = dup_or_null(c->name);
    w->cols[j].unit = dup_or_null(or_text(c->unit, ""));
    w->cols[j].description = dup_or_null(or_text(c->description, ""));
    if (!w->cols[j].name || !w->cols[j].unit || !w->cols[j].description)
      return VS_ENOMEM;
  }
  return VS_OK;
}

/* ---- public API ---------------------------------------------------------- */

int vs_writer_open(vs_writer **wp, const char *path, const vs_output_meta *meta,
                   char *msg, size_t msglen) {
  set_msg(msg, msglen, "%s", "");
  if (!wp) return VS_EINVAL;
  *wp = NULL;
  if (!path || !path[0] || !meta ||
      (meta->n_summary_columns > 0 && !meta->summary_columns)) {
    set_msg(msg, msglen, "vs_writer_open: missing output path or meta");
    return VS_EINVAL;
  }
  int rc = check_folder(path, msg, msglen);
  if (rc == VS_OK) rc = check_columns(meta, msg, msglen);
  if (rc != VS_OK) {
    prefix_msg(msg, msglen, path);
    return rc;
  }

  h5_printer printer;
  h5_quiet(&printer);
  vs_writer *w = calloc(1, sizeof *w);
  if (!w) {
    rc = VS_ENOMEM;
    goto done;
  }
  w->fapl = w->fcpl = w->gcpl = H5I_INVALID_HID;
  size_t n = meta->n_runs ? meta->n_runs : 1;
  size_t ncols = meta->n_summary_columns;
  if (ncols && meta->n_runs > SIZE_MAX / sizeof(double) / ncols) {
    rc = VS_ENOMEM;
    goto done;
  }
  size_t cells = meta->n_runs * ncols;
  w->path = dup_or_null(path);
  w->parts_dir = format_alloc("%s.parts", path);
  w->summary = malloc((cells ? cells : 1) * sizeof *w->summary);
  w->state = malloc(n * sizeof *w->state);
  w->names = calloc(n, sizeof *w->names);
  if (!w->path || !w->parts_dir || !w->summary || !w->state || !w->names ||
      copy_meta(w, meta) != VS_OK) {
    rc = VS_ENOMEM;
    goto done;
  }
  for (size_t k = 0; k < cells; ++k) w->summary[k] = NAN;
  for (size_t i = 0; i < meta->n_runs; ++i) w->state[i] = VS_NOT_ADDED;
  compute_fingerprint(w);
  if ((rc = make_plists(w, msg, msglen)) != VS_OK) goto done;

  /* Last, so that nothing is created on error. An existing folder is left
   * as it is: its parts are an interrupted session's, kept for --resume. */
  if (mkdir(w->parts_dir, 0777) != 0) {
    int err = errno;
    struct stat st;
    if (err != EEXIST || stat(w->parts_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
      set_msg(msg, msglen, "cannot create folder '%s': %s", w->parts_dir,
              err == EEXIST ? "a file of that name exists" : strerror(err));
      rc = VS_EIO;
      goto done;
    }
  }
done:
  h5_restore(&printer);
  if (rc == VS_ENOMEM) set_msg(msg, msglen, "out of memory");
  if (rc != VS_OK) {
    prefix_msg(msg, msglen, path);
    writer_free(&w);
  }
  *wp = w;
  return rc;
}

int vs_writer_add_run(vs_writer *w, size_t index, const vs_run_result *r,
                      const double *summary_values, char *msg, size_t msglen) {
  set_msg(msg, msglen, "%s", "");
  if (!w || !r) {
    set_msg(msg, msglen, "vs_writer_add_run: no writer or no result");
    return VS_EINVAL;
  }
  if (index >= w->n_runs) {
    set_msg(msg, msglen, "%s: run index %zu out of range (%zu runs)", w->path,
            index, w->n_runs);
    return VS_EINVAL;
  }
  int rc = check_run(r, msg, msglen);
  if (rc != VS_OK) {
    char what[256];
    snprintf(what, sizeof what, "%s: run '%s'", w->path,
             r->name ? r->name : "");
    prefix_msg(msg, msglen, what);
    return rc;
  }
  char *name = run_group_name(r->name, index);
  double *row = malloc((w->n_cols ? w->n_cols : 1) * sizeof *row);
  if (!name || !row) {
    free(name);
    free(row);
    set_msg(msg, msglen, "%s: out of memory", w->path);
    return VS_ENOMEM;
  }
  for (size_t j = 0; j < w->n_cols; ++j)
    row[j] = summary_values ? summary_values[j] : NAN;

  h5_printer printer;
  h5_quiet(&printer);
  rc = write_part(w, index, r, row, msg, msglen);
  h5_restore(&printer);
  if (rc == VS_OK) { /* the part is safe: now the run counts as added */
    memcpy(w->summary + index * w->n_cols, row, w->n_cols * sizeof *row);
    free(w->names[index]);
    w->names[index] = name;
    name = NULL;
    w->state[index] = (int)r->status;
  }
  free(row);
  free(name);
  return rc;
}

int vs_writer_finish(vs_writer **wp, char *msg, size_t msglen) {
  set_msg(msg, msglen, "%s", "");
  if (!wp || !*wp) {
    set_msg(msg, msglen, "vs_writer_finish: no writer");
    return VS_EINVAL;
  }
  vs_writer *w = *wp;
  char *tmp = format_alloc("%s.tmp-%ld", w->path, (long)getpid());
  char *dir = folder_of(w->path);
  int rc = VS_OK;
  if (!tmp || !dir) {
    set_msg(msg, msglen, "%s: out of memory", w->path);
    rc = VS_ENOMEM;
    goto done;
  }
  h5_printer printer;
  h5_quiet(&printer);
  rc = assemble(w, tmp, msg, msglen);
  h5_restore(&printer);
  if (rc != VS_OK) {
    prefix_msg(msg, msglen, w->path);
    goto done;
  }
  /* On disk first, then under the final name: OUT is whole or absent. */
  if (sync_file(tmp) != 0 || rename(tmp, w->path) != 0) {
    set_msg(msg, msglen, "%s: cannot move '%s' into place: %s", w->path, tmp,
            strerror(errno));
    rc = VS_EIO;
    goto done;
  }
  sync_folder(dir);
  remove_parts(w);
done:
  if (rc != VS_OK && tmp) (void)remove(tmp); /* the parts stay */
  free(dir);
  free(tmp);
  writer_free(wp);
  return rc;
}

void vs_writer_abandon(vs_writer **wp) {
  if (!wp || !*wp) return;
  char *tmp = format_alloc("%s.tmp-%ld", (*wp)->path, (long)getpid());
  if (tmp) (void)remove(tmp);
  free(tmp);
  (void)rmdir((*wp)->parts_dir); /* only if no run was written */
  writer_free(wp);
}
