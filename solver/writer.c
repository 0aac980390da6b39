/* HDF5 results writer (writer.h).
 *
 * Runs go, as they finish, into the open part file of this process
 * (OUT.parts/part-rRRR-SSSSSS.h5.tmp). A background thread commits it when
 * runs are waiting: it finishes the part (its index, names, status and
 * summary rows), closes, syncs and renames it, then republishes OUT (under
 * a temporary name, synced, renamed) with /summary for every committed run
 * and /runs/<run> as external links into the parts. So at any moment OUT is
 * whole and readable and OUT.parts/ holds every committed run; a kill loses
 * at most the runs of the open part, which --resume computes again.
 * vs_writer_finish assembles the self-contained OUT from the parts in run
 * order and removes them. Every HDF5 call of the writer runs under its
 * mutex (Debian's HDF5 is thread-safe, but serialised anyway). */
/* POSIX.1-2008 (fsync, mkdir, opendir, getpid, kill, pthreads) comes from
 * the build. */

#include "venosim/writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

#include "venosim/error.h"

/* Datasets with more elements than this are chunked and compressed; smaller
 * ones stay contiguous, where compression would cost more than it saves. */
#define VS_COMPRESS_MIN_ELEMENTS 4096
#define VS_CHUNK_ELEMENTS 16384 /* 128 KiB of doubles per chunk */
#define VS_DEFLATE_LEVEL 4

/* Republishing OUT costs time that grows with the number of runs: the next
 * commit waits COST_FACTOR times the processor time the last one took, so
 * commits take at most about 1/COST_FACTOR of a core. (Waiting for the disk
 * costs no processor time and does not count.) */
#define COST_FACTOR 10.0
/* How often rank 0 looks for other ranks' new parts when it has none. */
#define SCAN_INTERVAL_S 1.0
/* Part files open at once while OUT is assembled. */
#define OPEN_PARTS 4
/* Metadata cache of each file (see make_plists). */
#define MDC_BYTES ((size_t)64 << 10)

/* A run's place in this writer. */
enum { ST_NONE = 0, ST_BATCH, ST_STORED };
/* Part of a run taken over from a complete OUT (no part file). */
#define PART_NONE UINT32_MAX

typedef struct {
  char *name, *unit, *description;
} column;

/* Part file names seen (open addressing, FNV-1a): adopting other ranks'
 * parts must not read one twice, with thousands of them. */
typedef struct {
  char **slot;
  size_t cap, n;
} name_set;

struct vs_writer {
  char *path;       /* OUT, as given */
  char *parts_dir;  /* OUT.parts */
  char *parts_link; /* OUT.parts relative to OUT's folder (external links) */
  char *creator, *version, *git_commit, *author, *command_line, *case_path,
      *case_text, *case_resolved, *sundials_version;
  int threads, rank, n_ranks, publisher, summary_only;
  size_t stride;
  double min_interval_s;
  size_t n_runs, n_cols;
  column *cols;
  /* treatment arms (NULL without): each run's arm, its baseline run, and
   * the first column that gets an offload_ difference */
  char **arms;
  size_t *baseline;
  size_t offload_first;

  /* per run */
  double *summary;      /* n_runs x n_cols, row-major */
  signed char *state;   /* ST_* */
  signed char *status;  /* vs_run_status once added or adopted */
  uint32_t *part;       /* index into parts[] of a stored run */
  char **names;         /* its group name in its part (unique there) */
  char **messages;      /* failure message, or NULL */
  size_t n_stored, n_failed;

  /* committed part files (own and adopted), and every file name looked at */
  char **parts;
  size_t n_parts, cap_parts;
  name_set seen;
  unsigned next_seq;    /* this rank's next part number */

  /* the open part */
  hid_t batch;
  char *batch_file;     /* its final name (in parts_dir) */
  size_t *batch_runs;
  size_t n_batch, cap_batch;

  /* commits */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  int thread_running, stop;
  double last_commit_end, last_cost, last_scan;
  int err;
  char err_msg[1024];
  int complete_already; /* resume found OUT complete: leave it alone */
  vs_writer_listener listener;
  void *listener_user;

  char fingerprint[17]; /* tells this output's parts from anyone else's */
  int deflate;          /* gzip and shuffle filters available */
  int quick;            /* no compression: parts and OUT while under way */
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

/* HDF5 closes what is still open at exit. After a write failed (a full
 * disk) a file can be left half closed, and closing it again at exit
 * crashed the process: the writer closes its own files, so HDF5's exit
 * handler is turned off, once, before the library's first use. */
static pthread_once_t g_h5_once = PTHREAD_ONCE_INIT;
static void h5_no_atexit(void) { (void)H5dont_atexit(); }

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

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Processor time of the calling thread, s. */
static double cpu_s(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return now_s();
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
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
  /* What a stored run holds matters too: a summary-only or thinned run
   * cannot stand in for a full one. */
  uint64_t counts[4] = {w->n_runs, w->n_cols, (uint64_t)w->summary_only,
                        w->stride};
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

/* Rows of one chunk of a dataset of n_cols columns: VS_CHUNK_ELEMENTS
 * values, whole rows, at least one. */
static hsize_t chunk_rows(hsize_t n_cols) {
  hsize_t rows = VS_CHUNK_ELEMENTS / (n_cols ? n_cols : 1);
  return rows ? rows : 1;
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
  if (w->deflate && !w->quick && n > VS_COMPRESS_MIN_ELEMENTS) {
    hsize_t chunk[2] = {dims[0], rank > 1 ? dims[1] : 1};
    hsize_t rows = chunk_rows(chunk[1]);
    if (chunk[0] > rows) chunk[0] = rows;
    VS_H5(H5Pset_chunk(*dcpl, rank, chunk));
    VS_H5(H5Pset_shuffle(*dcpl)); /* groups the bytes of doubles: ~2x */
    VS_H5(H5Pset_deflate(*dcpl, VS_DEFLATE_LEVEL));
  }
done:
  return rc;
}

/* Creates dataset `name` of `rank` dims (rank 0: scalar) with the
 * writer's creation properties. */
static int dataset_create(const vs_writer *w, hid_t loc, const char *name,
                          hid_t file_type, int rank, const hsize_t *dims,
                          hid_t *dset, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID;
  if (rank == 0)
    VS_H5(space = H5Screate(H5S_SCALAR));
  else
    VS_H5(space = H5Screate_simple(rank, dims, NULL));
  if ((rc = make_dcpl(w, rank, dims, &dcpl, msg, msglen)) != VS_OK) goto done;
  VS_H5(*dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl,
                           H5P_DEFAULT));
done:
  (void)h5_close(&dcpl);
  (void)h5_close(&space);
  return rc;
}

/* Its unit and description attributes, when given; then closes it. */
static int dataset_finish(hid_t *dset, const char *unit,
                          const char *description, char *msg, size_t msglen) {
  int rc = VS_OK;
  if (unit && (rc = attr_string(*dset, "unit", unit, msg, msglen)) != VS_OK)
    goto done;
  if (description && (rc = attr_string(*dset, "description", description, msg,
                                       msglen)) != VS_OK)
    goto done;
  VS_H5(h5_close(dset));
done:
  (void)h5_close(dset);
  return rc;
}

/* A dataset of `rank` dims (rank 0: scalar) from buf, with unit and
 * description attributes when given. */
static int write_dataset(const vs_writer *w, hid_t loc, const char *name,
                         hid_t file_type, hid_t mem_type, int rank,
                         const hsize_t *dims, const void *buf, const char *unit,
                         const char *description, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t dset = H5I_INVALID_HID;
  hsize_t n = 1;
  for (int k = 0; k < rank; ++k) n *= dims[k];
  if ((rc = dataset_create(w, loc, name, file_type, rank, dims, &dset, msg,
                           msglen)))
    goto done;
  if (n > 0) /* an empty selection needs no write (and may have no buffer) */
    VS_H5(H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
  rc = dataset_finish(&dset, unit, description, msg, msglen);
done:
  (void)h5_close(&dset);
  return rc;
}

/* Where write_samples takes a run's samples from, a block of rows at a
 * time: the run result (its arrays or its sample stores, result.h), or,
 * while OUT is assembled, the same dataset in the run's part. */
typedef struct {
  const vs_run_result *r;
  const vs_series *s; /* NULL: the time column */
  hid_t from;         /* >= 0: this dataset of a part, read instead */
} sample_source;

/* Rows first, first + step, ... (count of them, n_cols values each) of
 * the source into buf. */
static int source_read(const sample_source *src, hsize_t first, hsize_t count,
                       hsize_t step, hsize_t n_cols, double *buf, char *msg,
                       size_t msglen) {
  int rc = VS_OK;
  hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
  if (src->from >= 0) {
    int rank = src->s ? 2 : 1;
    hsize_t start[2] = {first, 0}, stride[2] = {step, 1},
            cnt[2] = {count, n_cols};
    VS_H5(fspace = H5Dget_space(src->from));
    VS_H5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, stride, cnt,
                              NULL));
    VS_H5(mspace = H5Screate_simple(rank, cnt, NULL));
    VS_H5(H5Dread(src->from, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT,
                  buf));
    goto done;
  }
  rc = src->s ? vs_result_read_rows(src->r, src->s, (size_t)first,
                                    (size_t)count, (size_t)step, buf)
              : vs_result_read_times(src->r, (size_t)first, (size_t)count,
                                     (size_t)step, buf);
  if (rc != VS_OK)
    set_msg(msg, msglen, "cannot read the samples of '%s' back%s%s",
            src->s ? src->s->name : "time",
            rc == VS_EIO ? " from their temporary file: " : ": ",
            rc == VS_EIO ? strerror(errno) : vs_strerror(rc));
done:
  (void)h5_close(&mspace);
  (void)h5_close(&fspace);
  return rc;
}

/* A series (rank 2: kept rows x n_cols) or the time column (rank 1: kept)
 * written from src a block of rows at a time: rows 0, stride, 2 stride,
 * ... of the source. A block is one chunk of the dataset (make_dcpl), so
 * every compressed chunk is written whole and once, as one H5Dwrite of the
 * whole series would write it: the same file, and only a block in
 * memory. */
static int write_samples(const vs_writer *w, hid_t loc, const char *name,
                         int rank, hsize_t kept, hsize_t n_cols,
                         hsize_t stride, const sample_source *src,
                         const char *unit, const char *description, char *msg,
                         size_t msglen) {
  int rc = VS_OK;
  hid_t dset = H5I_INVALID_HID, fspace = H5I_INVALID_HID,
        mspace = H5I_INVALID_HID;
  hsize_t dims[2] = {kept, rank > 1 ? n_cols : 1};
  hsize_t rows = chunk_rows(dims[1]);
  double *buf = NULL;
  if (rows > kept) rows = kept;
  if ((rc = dataset_create(w, loc, name, H5T_IEEE_F64LE, rank, dims, &dset,
                           msg, msglen)))
    goto done;
  if (kept * dims[1] > 0) {
    if (!(buf = malloc(rows * dims[1] * sizeof *buf))) {
      set_msg(msg, msglen, "out of memory");
      rc = VS_ENOMEM;
      goto done;
    }
    VS_H5(fspace = H5Dget_space(dset));
    for (hsize_t k0 = 0; k0 < kept; k0 += rows) {
      hsize_t m = kept - k0 < rows ? kept - k0 : rows;
      hsize_t start[2] = {k0, 0}, count[2] = {m, dims[1]};
      if ((rc = source_read(src, k0 * stride, m, stride, dims[1], buf, msg,
                            msglen)))
        goto done;
      VS_H5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count,
                                NULL));
      VS_H5(mspace = H5Screate_simple(rank, count, NULL));
      VS_H5(H5Dwrite(dset, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT,
                     buf));
      VS_H5(h5_close(&mspace));
    }
  }
  rc = dataset_finish(&dset, unit, description, msg, msglen);
done:
  free(buf);
  (void)h5_close(&mspace);
  (void)h5_close(&fspace);
  (void)h5_close(&dset);
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


/* Attribute `name` of `loc` as a list of n >= 1 strings (vlen): the order
 * of the /summary columns. */
static int attr_strings(hid_t loc, const char *name, const char *const *s,
                        size_t n, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t type = H5I_INVALID_HID;
  VS_H5(type = vlen_string_type());
  rc = attr_write(loc, name, type, type, n, s, msg, msglen);
done:
  (void)h5_close(&type);
  return rc;
}

/* ---- reading back (adopting parts) ---------------------------------------- */

/* Elements of 1D dataset `name` (or -1). */
static hssize_t dataset_length(hid_t loc, const char *name) {
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  if (d < 0) return -1;
  hid_t s = H5Dget_space(d);
  hssize_t n = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
  (void)h5_close(&s);
  (void)h5_close(&d);
  return n;
}

static int read_numbers(hid_t loc, const char *name, hid_t mem_type,
                        void *buf, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t d = H5I_INVALID_HID;
  VS_H5(d = H5Dopen2(loc, name, H5P_DEFAULT));
  VS_H5(H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
done:
  (void)h5_close(&d);
  return rc;
}

/* n fixed-length strings of dataset `name` (written by write_strings) into
 * out[n], each malloc'ed. */
static int read_strings(hid_t loc, const char *name, size_t n, char **out,
                        char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t d = H5I_INVALID_HID, ftype = H5I_INVALID_HID, mtype = H5I_INVALID_HID;
  char *buf = NULL;
  VS_H5(d = H5Dopen2(loc, name, H5P_DEFAULT));
  VS_H5(ftype = H5Dget_type(d));
  size_t width = H5Tget_size(ftype);
  if (width == 0 || H5Tis_variable_str(ftype) != 0) {
    set_msg(msg, msglen, "%s: not a fixed-length string dataset", name);
    rc = VS_EIO;
    goto done;
  }
  VS_H5(mtype = fixed_string_type(width + 1)); /* room for a final '\0' */
  buf = calloc(n ? n : 1, width + 1);
  if (!buf) {
    rc = VS_ENOMEM;
    goto done;
  }
  if (n) VS_H5(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf));
  for (size_t i = 0; i < n; ++i)
    if (!(out[i] = dup_or_null(buf + i * (width + 1)))) {
      rc = VS_ENOMEM;
      goto done;
    }
done:
  if (rc == VS_ENOMEM) set_msg(msg, msglen, "out of memory");
  free(buf);
  (void)h5_close(&mtype);
  (void)h5_close(&ftype);
  (void)h5_close(&d);
  return rc;
}
/* ---- one run: its group in a part file ------------------------------------ */

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
  if (r->n_samples > 0 && !r->time && !r->time_store) {
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
        (r->n_samples * s->n_columns > 0 && !s->data && !s->store) ||
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

/* /runs/<run>/network: what the network joins (result.h). */
static int write_topology(const vs_writer *w, hid_t run,
                          const vs_result_network *t, char *msg,
                          size_t msglen) {
  int rc = VS_OK;
  hid_t g = H5I_INVALID_HID;
  hsize_t nn[1] = {t->n_nodes}, nl[1] = {t->n_links};
  if ((rc = group_create(run, "network", w->gcpl, &g, msg, msglen)) ||
      (rc = write_strings(w, g, "node_name", (const char *const *)t->node_names,
                          t->n_nodes, 0, msg, msglen)) ||
      (rc = write_dataset(w, g, "node_height_cm", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 1, nn, t->node_height_cm, "cm",
                          "standing height of each node (compartments, then "
                          "pressure nodes)",
                          msg, msglen)) ||
      (rc = write_dataset(w, g, "node_length_cm", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 1, nn, t->node_length_cm, "cm",
                          "length of vein each compartment stands for (0: "
                          "a linear wall or a pressure node)",
                          msg, msglen)) ||
      (rc = write_strings(w, g, "link_name", (const char *const *)t->link_names,
                          t->n_links, 0, msg, msglen)) ||
      (rc = write_strings(w, g, "link_from", (const char *const *)t->link_from,
                          t->n_links, 0, msg, msglen)) ||
      (rc = write_strings(w, g, "link_to", (const char *const *)t->link_to,
                          t->n_links, 0, msg, msglen)) ||
      (rc = write_dataset(w, g, "link_diameter_cm", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 1, nl, t->link_diameter_cm, "cm",
                          "each vessel's lumen (0: a link without geometry)",
                          msg, msglen)) ||
      (rc = write_dataset(w, g, "link_n_parallel", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 1, nl, t->link_n_parallel, "1",
                          "vessels side by side", msg, msglen)) ||
      (rc = write_dataset(w, g, "link_valve", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 1, nl, t->link_valve, "1",
                          "1 where a valve sits on the link", msg, msglen)))
    goto done;
  VS_H5(h5_close(&g));
done:
  (void)h5_close(&g);
  return rc;
}

/* Reads /runs/<run>/network back, if the run has one. */
static int read_topology(hid_t run, vs_result_network *t, char *msg,
                         size_t msglen) {
  int rc = VS_OK;
  hid_t g = H5I_INVALID_HID;
  htri_t has = H5Lexists(run, "network", H5P_DEFAULT);
  if (has <= 0) return VS_OK;
  VS_H5(g = H5Gopen2(run, "network", H5P_DEFAULT));
  hssize_t nn = dataset_length(g, "node_height_cm");
  hssize_t nl = dataset_length(g, "link_valve");
  VS_H5(nn);
  VS_H5(nl);
  if (vs_result_network_alloc(t, (size_t)nn, (size_t)nl)) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
    goto done;
  }
  if ((rc = read_strings(g, "node_name", t->n_nodes, t->node_names, msg,
                         msglen)) ||
      (rc = read_strings(g, "link_name", t->n_links, t->link_names, msg,
                         msglen)) ||
      (rc = read_strings(g, "link_from", t->n_links, t->link_from, msg,
                         msglen)) ||
      (rc = read_strings(g, "link_to", t->n_links, t->link_to, msg, msglen)))
    goto done;
  if (nn > 0 && (rc = read_numbers(g, "node_height_cm", H5T_NATIVE_DOUBLE,
                                   t->node_height_cm, msg, msglen)))
    goto done;
  /* Files written before this dataset existed have no lengths: all 0. */
  if (nn > 0 && H5Lexists(g, "node_length_cm", H5P_DEFAULT) > 0 &&
      (rc = read_numbers(g, "node_length_cm", H5T_NATIVE_DOUBLE,
                         t->node_length_cm, msg, msglen)))
    goto done;
  if (nl > 0 &&
      ((rc = read_numbers(g, "link_diameter_cm", H5T_NATIVE_DOUBLE,
                          t->link_diameter_cm, msg, msglen)) ||
       (rc = read_numbers(g, "link_n_parallel", H5T_NATIVE_DOUBLE,
                          t->link_n_parallel, msg, msglen)) ||
       (rc = read_numbers(g, "link_valve", H5T_NATIVE_DOUBLE, t->link_valve,
                          msg, msglen))))
    goto done;
done:
  if (rc) vs_result_network_clear(t);
  (void)h5_close(&g);
  return rc;
}

/* Fills group `run` with the layout of /runs/<run>/ (writer.h). The
 * samples come from r itself, or, with `from` a run group of a part (OUT's
 * assembly), from that group's datasets of the same names; either way a
 * block of rows at a time (write_samples). */
static int write_run(const vs_writer *w, hid_t run, size_t index,
                     const vs_run_result *r, hsize_t stride, hid_t from,
                     char *msg, size_t msglen) {
  int rc = VS_OK;
  char *cols_name = NULL;
  sample_source src = {.r = r, .s = NULL, .from = H5I_INVALID_HID};
  if ((rc = attr_string(run, "status", status_text(r->status), msg, msglen)) ||
      (rc = attr_string(run, "message", r->message, msg, msglen)) ||
      (rc = attr_index(run, "index", index, msg, msglen)) ||
      (rc = attr_string(run, "name", r->name, msg, msglen)))
    goto done;

  /* Thinned series keep samples 0, stride, 2 stride, ... */
  if (stride < 1) stride = 1;
  hsize_t kept = r->n_samples ? (r->n_samples - 1) / stride + 1 : 0;
  if (from >= 0) VS_H5(src.from = H5Dopen2(from, "time", H5P_DEFAULT));
  if ((rc = write_samples(w, run, "time", 1, kept, 1, stride, &src, "s",
                          "Output times", msg, msglen)))
    goto done;
  VS_H5(h5_close(&src.from));
  for (size_t i = 0; i < r->n_series; ++i) {
    const vs_series *s = &r->series[i];
    src.s = s;
    if (from >= 0) VS_H5(src.from = H5Dopen2(from, s->name, H5P_DEFAULT));
    if ((rc = write_samples(w, run, s->name, 2, kept, s->n_columns, stride,
                            &src, or_text(s->unit, ""),
                            or_text(s->description, ""), msg, msglen)))
      goto done;
    VS_H5(h5_close(&src.from));
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
  if (r->topology.n_nodes &&
      (rc = write_topology(w, run, &r->topology, msg, msglen)))
    goto done;
done:
  (void)h5_close(&src.from);
  free(cols_name);
  return rc;
}

static int status_of_text(const char *s) {
  return strcmp(s, "ok") == 0       ? VS_RUN_OK
         : strcmp(s, "failed") == 0 ? VS_RUN_FAILED
                                    : VS_RUN_PENDING;
}

/* ---- one run read back from its part ----------------------------------------
 * OUT is assembled by writing each run again from what its part holds, not
 * by copying HDF5 objects: a copied object keeps the shape of its source's
 * object headers, which depends on what else shared the part, so the final
 * file would depend on how runs were grouped into parts (and so on the
 * number of threads and on timing). Written afresh in run order it does
 * not. */

static herr_t attr_read_long(hid_t loc, const char *obj, const char *name,
                             long *v) {
  hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return -1;
  herr_t st = H5Aread(a, H5T_NATIVE_LONG, v);
  (void)h5_close(&a);
  return st;
}

static herr_t attr_read_double(hid_t loc, const char *obj, const char *name,
                               double *v) {
  hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
  if (a < 0) return -1;
  herr_t st = H5Aread(a, H5T_NATIVE_DOUBLE, v);
  (void)h5_close(&a);
  return st;
}

/* Names of the series of a run group: its 2-D datasets, by name. */
typedef struct {
  char **names;
  size_t n, cap;
  int oom;
} name_list;

static herr_t collect_series(hid_t g, const char *name, const H5L_info_t *info,
                             void *data) {
  name_list *l = data;
  if (info->type != H5L_TYPE_HARD) return 0;
  hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
  if (d < 0) { /* a group (solver_stats) */
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  hid_t space = H5Dget_space(d), type = H5Dget_type(d);
  int is_series = space >= 0 && type >= 0 &&
                  H5Sget_simple_extent_ndims(space) == 2 &&
                  H5Tget_class(type) == H5T_FLOAT;
  (void)h5_close(&type);
  (void)h5_close(&space);
  (void)h5_close(&d);
  if (!is_series) return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 8;
    char **g2 = realloc(l->names, cap * sizeof *g2);
    if (!g2) {
      l->oom = 1;
      return -1;
    }
    l->names = g2;
    l->cap = cap;
  }
  if (!(l->names[l->n] = dup_or_null(name))) {
    l->oom = 1;
    return -1;
  }
  l->n++;
  return 0;
}

/* A series as a part describes it, without its samples: name, unit,
 * description and columns (write_run copies the samples from the part). */
static vs_series *add_series_shape(vs_run_result *r, const char *name,
                                   const char *unit, const char *description,
                                   size_t n_columns,
                                   const char *const *columns) {
  vs_series *grown = realloc(r->series, (r->n_series + 1) * sizeof *grown);
  if (!grown) return NULL;
  r->series = grown;
  vs_series *sr = &r->series[r->n_series++];
  memset(sr, 0, sizeof *sr);
  sr->name = dup_or_null(name);
  sr->unit = dup_or_null(unit);
  sr->description = dup_or_null(description);
  sr->column_names = calloc(n_columns + 1, sizeof *sr->column_names);
  int ok = sr->name && sr->unit && sr->description && sr->column_names;
  sr->n_columns = ok ? n_columns : 0;
  for (size_t j = 0; ok && j < n_columns; ++j)
    ok = (sr->column_names[j] = dup_or_null(columns[j])) != NULL;
  return ok ? sr : NULL; /* vs_result_free frees a half-made one */
}

/* Reads run group g of a part back into a run result: everything but the
 * samples, whose number (n_samples) and series it describes; write_run
 * copies the samples from g block by block, so a run of any length is
 * never whole in memory. The result has neither time nor series data:
 * only write_run(..., g, ...) reads it. */
static int read_run(hid_t g, vs_run_result **out, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t d = H5I_INVALID_HID, space = H5I_INVALID_HID,
        kind = H5I_INVALID_HID, text = H5I_INVALID_HID, mem = H5I_INVALID_HID;
  char *name = NULL, *status = NULL, *message = NULL, *unit = NULL,
       *desc = NULL, *cols_name = NULL, **cols = NULL;
  name_list series = {0};
  size_t n_cols = 0;
  vs_run_result *r = NULL;
  *out = NULL;
  if ((rc = attr_read_string(g, ".", "name", &name, msg, msglen)) ||
      (rc = attr_read_string(g, ".", "status", &status, msg, msglen)) ||
      (rc = attr_read_string(g, ".", "message", &message, msg, msglen)))
    goto done;
  if (vs_result_create(&r, name) != VS_OK) goto oom;
  r->status = (vs_run_status)status_of_text(status);
  snprintf(r->message, sizeof r->message, "%s", message);

  hssize_t n = dataset_length(g, "time");
  VS_H5(n);
  r->n_samples = (size_t)n;

  VS_H5(H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_series,
                   &series));
  for (size_t k = 0; k < series.n; ++k) {
    const char *sname = series.names[k];
    hsize_t dims[2] = {0, 0};
    VS_H5(d = H5Dopen2(g, sname, H5P_DEFAULT));
    VS_H5(space = H5Dget_space(d));
    VS_H5(H5Sget_simple_extent_dims(space, dims, NULL));
    VS_H5(h5_close(&space));
    VS_H5(h5_close(&d));
    if (dims[0] != (hsize_t)n) {
      set_msg(msg, msglen, "series '%s' has %llu rows for %lld times", sname,
              (unsigned long long)dims[0], (long long)n);
      rc = VS_EIO;
      goto done;
    }
    n_cols = (size_t)dims[1];
    free(cols_name);
    if (!(cols_name = format_alloc("%s_columns", sname))) goto oom;
    cols = calloc(n_cols + 1, sizeof *cols);
    if (!cols) goto oom;
    if ((rc = read_strings(g, cols_name, n_cols, cols, msg, msglen)) ||
        (rc = attr_read_string(g, sname, "unit", &unit, msg, msglen)) ||
        (rc = attr_read_string(g, sname, "description", &desc, msg, msglen)))
      goto done;
    if (!add_series_shape(r, sname, unit, desc, n_cols,
                          (const char *const *)cols))
      goto oom;
    for (size_t j = 0; j < n_cols; ++j) free(cols[j]);
    free(cols);
    cols = NULL;
    free(unit);
    free(desc);
    unit = desc = NULL;
  }

  /* events: into vs_event, whatever width the strings were stored at */
  hssize_t ne = dataset_length(g, "events");
  VS_H5(ne);
  if (ne > 0) {
    r->events = calloc((size_t)ne, sizeof *r->events);
    if (!r->events) goto oom;
    r->n_events = r->cap_events = (size_t)ne;
    VS_H5(kind = fixed_string_type(sizeof r->events[0].kind));
    VS_H5(text = fixed_string_type(sizeof r->events[0].message));
    VS_H5(mem = H5Tcreate(H5T_COMPOUND, sizeof(vs_event)));
    VS_H5(H5Tinsert(mem, "time_s", offsetof(vs_event, time_s),
                    H5T_NATIVE_DOUBLE));
    VS_H5(H5Tinsert(mem, "kind", offsetof(vs_event, kind), kind));
    VS_H5(H5Tinsert(mem, "message", offsetof(vs_event, message), text));
    VS_H5(d = H5Dopen2(g, "events", H5P_DEFAULT));
    VS_H5(H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, r->events));
    VS_H5(h5_close(&d));
  }

  vs_solver_stats *st = &r->stats;
  long order = 0;
  char *solver = NULL;
  VS_H5(attr_read_long(g, "solver_stats", "steps", &st->steps));
  VS_H5(attr_read_long(g, "solver_stats", "rhs_evals", &st->rhs_evals));
  VS_H5(attr_read_long(g, "solver_stats", "jac_evals", &st->jac_evals));
  VS_H5(attr_read_long(g, "solver_stats", "lin_setups", &st->lin_setups));
  VS_H5(attr_read_long(g, "solver_stats", "error_test_fails",
                       &st->error_test_fails));
  VS_H5(attr_read_long(g, "solver_stats", "nonlin_iters", &st->nonlin_iters));
  VS_H5(attr_read_long(g, "solver_stats", "nonlin_conv_fails",
                       &st->nonlin_conv_fails));
  VS_H5(attr_read_long(g, "solver_stats", "n_states", &st->n_states));
  VS_H5(attr_read_long(g, "solver_stats", "jac_nonzeros", &st->jac_nonzeros));
  VS_H5(attr_read_long(g, "solver_stats", "last_order", &order));
  st->last_order = (int)order;
  VS_H5(attr_read_double(g, "solver_stats", "last_step_s", &st->last_step_s));
  VS_H5(attr_read_double(g, "solver_stats", "wall_time_s", &st->wall_time_s));
  if ((rc = attr_read_string(g, "solver_stats", "linear_solver", &solver, msg,
                             msglen)))
    goto done;
  snprintf(st->linear_solver, sizeof st->linear_solver, "%s", solver);
  free(solver);
  if ((rc = read_topology(g, &r->topology, msg, msglen))) goto done;
  *out = r;
  r = NULL;
  goto done;
oom:
  set_msg(msg, msglen, "out of memory");
  rc = VS_ENOMEM;
done:
  if (series.oom && rc == VS_EHDF5) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
  }
  for (size_t k = 0; k < series.n; ++k) free(series.names[k]);
  free(series.names);
  for (size_t j = 0; cols && j < n_cols; ++j) free(cols[j]);
  free(cols);
  (void)h5_close(&mem);
  (void)h5_close(&text);
  (void)h5_close(&kind);
  (void)h5_close(&space);
  (void)h5_close(&d);
  vs_result_free(&r);
  free(cols_name);
  free(desc);
  free(unit);
  free(message);
  free(status);
  free(name);
  return rc;
}

/* ---- OUT's metadata --------------------------------------------------------- */

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

static int write_parameters(const vs_writer *w, hid_t fid, int complete,
                            char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t g = H5I_INVALID_HID;
  unsigned maj = 0, min = 0, rel = 0;
  char hdf5_version[48], series[64];
  VS_H5(H5get_libversion(&maj, &min, &rel));
  snprintf(hdf5_version, sizeof hdf5_version, "%u.%u.%u", maj, min, rel);
  if (w->summary_only)
    snprintf(series, sizeof series, "none");
  else if (w->stride > 1)
    snprintf(series, sizeof series, "every %zuth sample", w->stride);
  else
    snprintf(series, sizeof series, "all");
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
      (rc = attr_int(g, "mpi_ranks", w->n_ranks, msg, msglen)) ||
      (rc = attr_string(g, "command_line", w->command_line, msg, msglen)) ||
      (rc = attr_string(g, "case_path", w->case_path, msg, msglen)) ||
      (rc = attr_index(g, "n_runs", w->n_runs, msg, msglen)) ||
      (rc = attr_index(g, "n_finished", w->n_stored, msg, msglen)) ||
      (rc = attr_int(g, "complete", complete, msg, msglen)) ||
      (rc = attr_string(g, "series", series, msg, msglen)) ||
      (rc = attr_string(g, "fingerprint", w->fingerprint, msg, msglen)))
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

/* /summary: run_name, status, message and one column each, in run order.
 * A run not stored reads "pending" while the batch runs (complete == 0)
 * and "missing" in the final file, with NaN values. */
static int write_summary(const vs_writer *w, hid_t fid,
                         const char *const *names, int complete, char *msg,
                         size_t msglen) {
  int rc = VS_OK;
  hid_t g = H5I_INVALID_HID;
  size_t n = w->n_runs ? w->n_runs : 1;
  const char **status = calloc(n, sizeof *status);
  const char **message = calloc(n, sizeof *message);
  size_t n_off = w->arms && w->offload_first < w->n_cols
                     ? w->n_cols - w->offload_first
                     : 0;
  size_t n_order = w->n_cols + 3 + (w->arms ? 2 : 0) + n_off;
  const char **order = calloc(n_order, sizeof *order);
  const char **base = calloc(n, sizeof *base);
  char **off_names = calloc(n_off + 1, sizeof *off_names);
  double *values = calloc(n, sizeof *values);
  if (!status || !message || !order || !base || !off_names || !values) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < w->n_runs; ++i) {
    int stored = w->state[i] == ST_STORED;
    status[i] = stored ? status_text(w->status[i])
                       : complete ? "missing" : "pending";
    message[i] = stored && w->messages[i] ? w->messages[i] : "";
  }
  size_t o = 0;
  order[o++] = "run_name";
  order[o++] = "status";
  order[o++] = "message";
  if (w->arms) {
    order[o++] = "arm";
    order[o++] = "baseline";
    for (size_t i = 0; i < w->n_runs; ++i) base[i] = names[w->baseline[i]];
  }
  for (size_t j = 0; j < w->n_cols; ++j) order[o++] = w->cols[j].name;
  for (size_t k = 0; k < n_off; ++k) {
    off_names[k] = format_alloc("offload_%s", w->cols[w->offload_first + k].name);
    if (!off_names[k]) {
      set_msg(msg, msglen, "out of memory");
      rc = VS_ENOMEM;
      goto done;
    }
    order[o++] = off_names[k];
  }
  hsize_t dims[1] = {w->n_runs};
  if ((rc = group_create(fid, "summary", w->gcpl, &g, msg, msglen)) ||
      (rc = attr_strings(g, "columns", order, n_order, msg, msglen)) ||
      (rc =
           write_strings(w, g, "run_name", names, w->n_runs, 0, msg, msglen)) ||
      (rc = write_strings(w, g, "status", status, w->n_runs, 0, msg, msglen)) ||
      (rc = write_strings(w, g, "message", message, w->n_runs, 0, msg, msglen)))
    goto done;
  if (w->arms &&
      ((rc = write_strings(w, g, "arm", (const char *const *)w->arms,
                           w->n_runs, 0, msg, msglen)) ||
       (rc = write_strings(w, g, "baseline", base, w->n_runs, 0, msg,
                           msglen))))
    goto done;
  /* Offloading: each run minus its baseline (the same patient untreated),
   * NaN unless both are stored. */
  for (size_t k = 0; k < n_off; ++k) {
    size_t j = w->offload_first + k;
    for (size_t i = 0; i < w->n_runs; ++i) {
      size_t b = w->baseline[i];
      values[i] = w->state[i] == ST_STORED && w->state[b] == ST_STORED
                      ? w->summary[i * w->n_cols + j] -
                            w->summary[b * w->n_cols + j]
                      : NAN;
    }
    char *desc = format_alloc("%s: this run minus its baseline run (the "
                              "same patient untreated)",
                              w->cols[j].name);
    if (!desc) {
      set_msg(msg, msglen, "out of memory");
      rc = VS_ENOMEM;
      goto done;
    }
    rc = write_dataset(w, g, off_names[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                       1, dims, values, or_text(w->cols[j].unit, ""), desc,
                       msg, msglen);
    free(desc);
    if (rc) goto done;
  }
  for (size_t j = 0; j < w->n_cols; ++j) {
    for (size_t i = 0; i < w->n_runs; ++i)
      values[i] = w->state[i] == ST_STORED ? w->summary[i * w->n_cols + j]
                                           : NAN;
    if ((rc = write_dataset(w, g, w->cols[j].name, H5T_IEEE_F64LE,
                            H5T_NATIVE_DOUBLE, 1, dims, values,
                            or_text(w->cols[j].unit, ""),
                            or_text(w->cols[j].description, ""), msg, msglen)))
      goto done;
  }
  VS_H5(h5_close(&g));
done:
  (void)h5_close(&g);
  for (size_t k = 0; off_names && k < n_off; ++k) free(off_names[k]);
  free(off_names);
  free(base);
  free(values);
  free(order);
  free(message);
  free(status);
  return rc;
}

/* ---- the set of part names ------------------------------------------------- */

static size_t name_hash(const char *s) {
  return (size_t)fnv1a(UINT64_C(14695981039346656037), s, strlen(s));
}

static int name_set_has(const name_set *set, const char *s) {
  if (!set->cap) return 0;
  for (size_t i = name_hash(s) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
    if (!set->slot[i]) return 0;
    if (strcmp(set->slot[i], s) == 0) return 1;
  }
}

static int name_set_add(name_set *set, const char *s) {
  if (name_set_has(set, s)) return VS_OK;
  if (2 * (set->n + 1) > set->cap) { /* grow to keep it half empty */
    size_t cap = set->cap ? 2 * set->cap : 64;
    char **slot = calloc(cap, sizeof *slot);
    if (!slot) return VS_ENOMEM;
    for (size_t k = 0; k < set->cap; ++k) {
      if (!set->slot[k]) continue;
      size_t i = name_hash(set->slot[k]) & (cap - 1);
      while (slot[i]) i = (i + 1) & (cap - 1);
      slot[i] = set->slot[k];
    }
    free(set->slot);
    set->slot = slot;
    set->cap = cap;
  }
  char *copy = dup_or_null(s);
  if (!copy) return VS_ENOMEM;
  size_t i = name_hash(s) & (set->cap - 1);
  while (set->slot[i]) i = (i + 1) & (set->cap - 1);
  set->slot[i] = copy;
  set->n++;
  return VS_OK;
}

static void name_set_clear(name_set *set) {
  for (size_t k = 0; k < set->cap; ++k) free(set->slot[k]);
  free(set->slot);
  memset(set, 0, sizeof *set);
}

/* ---- part files -------------------------------------------------------------
 * part-rRRR-SSSSSS.h5: rank RRR's part number SSSSSS. Root attributes
 * fingerprint and rank; datasets index (u64), run_name, status, message
 * (strings) and summary (k x n_cols) for its k runs; group runs/ holding
 * each run's group unless summary-only. Written as .h5.tmp, renamed when
 * complete. */

static int is_part_name(const char *name, int *rank, unsigned *seq,
                        int *is_tmp) {
  int r = -1, used = 0;
  unsigned s = 0;
  if (sscanf(name, "part-r%d-%u.h5%n", &r, &s, &used) != 2 || used <= 0)
    return 0;
  if (strcmp(name + used, "") != 0 && strcmp(name + used, ".tmp") != 0)
    return 0;
  if (rank) *rank = r;
  if (seq) *seq = s;
  if (is_tmp) *is_tmp = name[used] != '\0';
  return 1;
}

static int register_part(vs_writer *w, const char *file, uint32_t *id) {
  if (w->n_parts == w->cap_parts) {
    size_t cap = w->cap_parts ? 2 * w->cap_parts : 16;
    char **g = realloc(w->parts, cap * sizeof *g);
    if (!g) return VS_ENOMEM;
    w->parts = g;
    w->cap_parts = cap;
  }
  if (!(w->parts[w->n_parts] = dup_or_null(file))) return VS_ENOMEM;
  if (name_set_add(&w->seen, file)) return VS_ENOMEM;
  *id = (uint32_t)w->n_parts++;
  return VS_OK;
}

/* Records run i as stored (taken over or committed). */
static void mark_stored(vs_writer *w, size_t i, int status, uint32_t part) {
  if (w->state[i] != ST_STORED) {
    w->n_stored++;
    if (status == VS_RUN_FAILED) w->n_failed++;
  }
  w->state[i] = ST_STORED;
  w->status[i] = (signed char)status;
  w->part[i] = part;
}

/* Reads part `file` (in parts_dir): 1 if it belongs to this output (same
 * fingerprint), 0 if not, negative on error. With `take`, its runs not yet
 * stored here are taken over. */
static int read_part(vs_writer *w, const char *file, int take, char *msg,
                     size_t msglen) {
  int rc = VS_OK, ours = 0;
  hid_t fid = H5I_INVALID_HID;
  char *fp = NULL, *path = format_alloc("%s/%s", w->parts_dir, file);
  unsigned long long *index = NULL;
  char **names = NULL, **status = NULL, **message = NULL;
  double *rows = NULL;
  size_t k = 0;
  if (!path) {
    rc = VS_ENOMEM;
    goto done;
  }
  VS_H5(fid = H5Fopen(path, H5F_ACC_RDONLY, w->fapl));
  if ((rc = attr_read_string(fid, ".", "fingerprint", &fp, msg, msglen)))
    goto done;
  if (strcmp(fp, w->fingerprint) != 0) goto done; /* someone else's */
  ours = 1;
  if (!take) goto done;
  hssize_t len = dataset_length(fid, "index");
  if (len < 0) {
    set_msg(msg, msglen, "no run index");
    rc = VS_EIO;
    goto done;
  }
  k = (size_t)len;
  index = calloc(k + 1, sizeof *index);
  names = calloc(k + 1, sizeof *names);
  status = calloc(k + 1, sizeof *status);
  message = calloc(k + 1, sizeof *message);
  rows = calloc(k * w->n_cols + 1, sizeof *rows);
  if (!index || !names || !status || !message || !rows) {
    rc = VS_ENOMEM;
    goto done;
  }
  if ((rc = read_numbers(fid, "index", H5T_NATIVE_ULLONG, index, msg,
                         msglen)) ||
      (rc = read_strings(fid, "run_name", k, names, msg, msglen)) ||
      (rc = read_strings(fid, "status", k, status, msg, msglen)) ||
      (rc = read_strings(fid, "message", k, message, msg, msglen)) ||
      (w->n_cols && k &&
       (rc = read_numbers(fid, "summary", H5T_NATIVE_DOUBLE, rows, msg,
                          msglen))))
    goto done;
  uint32_t id;
  if ((rc = register_part(w, file, &id))) goto done;
  for (size_t q = 0; q < k; ++q) {
    size_t i = (size_t)index[q];
    if (i >= w->n_runs || w->state[i] != ST_NONE) continue;
    memcpy(w->summary + i * w->n_cols, rows + q * w->n_cols,
           w->n_cols * sizeof *rows);
    free(w->names[i]);
    w->names[i] = names[q];
    names[q] = NULL;
    free(w->messages[i]);
    w->messages[i] = message[q][0] ? message[q] : NULL;
    if (message[q][0]) message[q] = NULL;
    mark_stored(w, i, status_of_text(status[q]), id);
  }
done:
  if (rc == VS_ENOMEM) set_msg(msg, msglen, "out of memory");
  if (rc != VS_OK) prefix_msg(msg, msglen, path ? path : file);
  (void)h5_close(&fid);
  for (size_t q = 0; q < k; ++q) {
    if (names) free(names[q]);
    if (status) free(status[q]);
    if (message) free(message[q]);
  }
  free(names);
  free(status);
  free(message);
  free(index);
  free(rows);
  free(fp);
  free(path);
  return rc != VS_OK ? rc : ours;
}

/* Looks at every part file in parts_dir not seen yet. With `take`, the
 * runs of this output's parts are taken over; *found counts this output's
 * parts seen. A part that cannot be read is skipped with a warning (a
 * damaged file must not stop the batch): its runs are computed again. */
static int scan_parts(vs_writer *w, int take, size_t *found, char *msg,
                      size_t msglen) {
  DIR *d = opendir(w->parts_dir);
  if (found) *found = 0;
  if (!d) return VS_OK;
  int rc = VS_OK;
  struct dirent *e;
  while (rc == VS_OK && (e = readdir(d)) != NULL) {
    int tmp;
    if (!is_part_name(e->d_name, NULL, NULL, &tmp) || tmp ||
        name_set_has(&w->seen, e->d_name))
      continue;
    char why[512] = "";
    int ours = read_part(w, e->d_name, take, why, sizeof why);
    if (ours == VS_ENOMEM) {
      set_msg(msg, msglen, "out of memory");
      rc = VS_ENOMEM;
    } else if (ours < 0) {
      fprintf(stderr, "venosim: warning: skipping an unreadable part: %s\n",
              why);
      rc = name_set_add(&w->seen, e->d_name);
    } else {
      if (ours && found) ++*found;
      /* taken over parts are registered; others are only remembered */
      if (!ours || !take) rc = name_set_add(&w->seen, e->d_name);
    }
  }
  closedir(d);
  return rc;
}

/* Opens this process's next part under its temporary name. */
static int open_batch(vs_writer *w, char *msg, size_t msglen) {
  int rc = VS_OK;
  hid_t g = H5I_INVALID_HID;
  char *tmp = NULL;
  w->batch_file = format_alloc("part-r%03d-%06u.h5", w->rank, w->next_seq++);
  if (!w->batch_file ||
      !(tmp = format_alloc("%s/%s.tmp", w->parts_dir, w->batch_file))) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
    goto done;
  }
  VS_H5(w->batch = H5Fcreate(tmp, H5F_ACC_TRUNC, w->fcpl, w->fapl));
  if ((rc = attr_string(w->batch, "fingerprint", w->fingerprint, msg,
                        msglen)) ||
      (rc = attr_int(w->batch, "rank", w->rank, msg, msglen)) ||
      (rc = group_create(w->batch, "runs", w->gcpl, &g, msg, msglen)))
    goto done;
  VS_H5(h5_close(&g));
done:
  (void)h5_close(&g);
  if (rc != VS_OK) prefix_msg(msg, msglen, tmp ? tmp : w->parts_dir);
  free(tmp);
  return rc;
}

/* Writes the open part's tables and closes it. */
static int seal_batch(vs_writer *w, char *msg, size_t msglen) {
  int rc = VS_OK;
  size_t k = w->n_batch;
  unsigned long long *index = calloc(k + 1, sizeof *index);
  const char **names = calloc(k + 1, sizeof *names);
  const char **status = calloc(k + 1, sizeof *status);
  const char **message = calloc(k + 1, sizeof *message);
  double *rows = calloc(k * w->n_cols + 1, sizeof *rows);
  if (!index || !names || !status || !message || !rows) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
    goto done;
  }
  for (size_t q = 0; q < k; ++q) {
    size_t i = w->batch_runs[q];
    index[q] = i;
    names[q] = w->names[i];
    status[q] = status_text(w->status[i]);
    message[q] = w->messages[i] ? w->messages[i] : "";
    memcpy(rows + q * w->n_cols, w->summary + i * w->n_cols,
           w->n_cols * sizeof *rows);
  }
  hsize_t dims[2] = {k, w->n_cols};
  if ((rc = write_dataset(w, w->batch, "index", H5T_STD_U64LE,
                          H5T_NATIVE_ULLONG, 1, dims, index, NULL, NULL, msg,
                          msglen)) ||
      (rc = write_strings(w, w->batch, "run_name", names, k, 0, msg, msglen)) ||
      (rc = write_strings(w, w->batch, "status", status, k, 0, msg, msglen)) ||
      (rc = write_strings(w, w->batch, "message", message, k, 0, msg,
                          msglen)) ||
      (rc = write_dataset(w, w->batch, "summary", H5T_IEEE_F64LE,
                          H5T_NATIVE_DOUBLE, 2, dims, rows, NULL, NULL, msg,
                          msglen)))
    goto done;
  VS_H5(h5_close(&w->batch));
done:
  free(rows);
  free(message);
  free(status);
  free(names);
  free(index);
  return rc;
}

/* ---- OUT -------------------------------------------------------------------- */

/* Name of run i under /runs in OUT: its part's group name, or run-NNNNNN if
 * another run took it (names are unique by contract; a duplicate must not
 * lose a run at the last step). */
static char *out_name(const vs_writer *w, hid_t runs, size_t i, char *msg,
                      size_t msglen) {
  const char *want = w->names[i];
  if (want) {
    htri_t taken = H5Lexists(runs, want, H5P_DEFAULT);
    if (taken < 0) {
      h5_failed(msg, msglen, "H5Lexists", __FILE__, __LINE__);
      return NULL;
    }
    if (!taken) return dup_or_null(want);
  }
  return format_alloc("run-%06zu", i);
}

/* The part file of a stored run, opened through a small cache. */
typedef struct {
  uint32_t part[OPEN_PARTS];
  hid_t fid[OPEN_PARTS];
  size_t next;
} part_cache;

static hid_t cached_part(vs_writer *w, part_cache *c, uint32_t part) {
  for (size_t k = 0; k < OPEN_PARTS; ++k)
    if (c->fid[k] >= 0 && c->part[k] == part) return c->fid[k];
  size_t k = c->next++ % OPEN_PARTS;
  (void)h5_close(&c->fid[k]);
  char *path = format_alloc("%s/%s", w->parts_dir, w->parts[part]);
  c->fid[k] = path ? H5Fopen(path, H5F_ACC_RDONLY, w->fapl) : H5I_INVALID_HID;
  c->part[k] = part;
  free(path);
  return c->fid[k];
}

/* Writes OUT (to `tmp`): metadata, /runs (complete: copies of the runs in
 * run order, runs never added as "missing" groups; else: external links to
 * the committed runs in their parts) and /summary. */
static int write_out(vs_writer *w, const char *tmp, int complete, char *msg,
                     size_t msglen) {
  int rc = VS_OK;
  hid_t fid = H5I_INVALID_HID, runs = H5I_INVALID_HID, g = H5I_INVALID_HID,
        from = H5I_INVALID_HID;
  part_cache cache;
  char **names = calloc(w->n_runs ? w->n_runs : 1, sizeof *names);
  char *src = NULL, *file = NULL;
  for (size_t k = 0; k < OPEN_PARTS; ++k) cache.fid[k] = H5I_INVALID_HID;
  cache.next = 0;
  if (!names) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
    goto done;
  }
  VS_H5(fid = H5Fcreate(tmp, H5F_ACC_TRUNC, w->fcpl, w->fapl));
  if ((rc = write_h5md(w, fid, msg, msglen)) ||
      (rc = write_parameters(w, fid, complete, msg, msglen)) ||
      (rc = group_create(fid, "runs", w->gcpl, &runs, msg, msglen)))
    goto done;
  for (size_t i = 0; i < w->n_runs; ++i) {
    int stored = w->state[i] == ST_STORED;
    if (w->summary_only || (!stored && !complete)) {
      names[i] = stored && w->names[i] ? dup_or_null(w->names[i])
                                       : format_alloc("run-%06zu", i);
      if (!names[i]) goto oom;
      continue;
    }
    if (!(names[i] = out_name(w, runs, i, msg, msglen))) {
      if (!msg || !msg[0]) goto oom;
      rc = VS_EHDF5;
      goto done;
    }
    if (!stored) { /* complete, yet never added */
      if ((rc = group_create(runs, names[i], w->gcpl, &g, msg, msglen)) ||
          (rc = attr_string(g, "status", "missing", msg, msglen)) ||
          (rc = attr_string(g, "message",
                            "the run did not finish before the results were "
                            "assembled",
                            msg, msglen)) ||
          (rc = attr_index(g, "index", i, msg, msglen)) ||
          (rc = attr_string(g, "name", names[i], msg, msglen)))
        goto done;
      VS_H5(h5_close(&g));
      continue;
    }
    free(src);
    if (!(src = format_alloc("runs/%s", w->names[i]))) goto oom;
    if (complete) { /* written afresh, in run order (see read_run) */
      hid_t part = cached_part(w, &cache, w->part[i]);
      vs_run_result *r = NULL;
      VS_H5(part);
      VS_H5(from = H5Gopen2(part, src, H5P_DEFAULT));
      if ((rc = read_run(from, &r, msg, msglen)) ||
          (rc = group_create(runs, names[i], w->gcpl, &g, msg, msglen)) ||
          (rc = write_run(w, g, i, r, 1, from, msg, msglen))) {
        vs_result_free(&r);
        goto done;
      }
      vs_result_free(&r);
      VS_H5(h5_close(&g));
      VS_H5(h5_close(&from));
    } else {
      free(file);
      if (!(file = format_alloc("%s/%s", w->parts_link, w->parts[w->part[i]])))
        goto oom;
      VS_H5(H5Lcreate_external(file, src, runs, names[i], H5P_DEFAULT,
                               H5P_DEFAULT));
    }
  }
  VS_H5(h5_close(&runs));
  if ((rc = write_summary(w, fid, (const char *const *)names, complete, msg,
                          msglen)))
    goto done;
  VS_H5(h5_close(&fid));
  goto done;
oom:
  set_msg(msg, msglen, "out of memory");
  rc = VS_ENOMEM;
done:
  (void)h5_close(&from);
  for (size_t k = 0; k < OPEN_PARTS; ++k) (void)h5_close(&cache.fid[k]);
  (void)h5_close(&g);
  (void)h5_close(&runs);
  (void)h5_close(&fid);
  for (size_t i = 0; names && i < w->n_runs; ++i) free(names[i]);
  free(names);
  free(file);
  free(src);
  return rc;
}

/* Writes OUT under a temporary name, syncs it and renames it into place:
 * OUT is always whole. */
static int publish(vs_writer *w, int complete, char *msg, size_t msglen) {
  char *tmp = format_alloc("%s.tmp-%ld", w->path, (long)getpid());
  char *dir = folder_of(w->path);
  int rc = VS_OK;
  if (!tmp || !dir) {
    set_msg(msg, msglen, "out of memory");
    rc = VS_ENOMEM;
    goto done;
  }
  /* Parts and OUT are rewritten while the batch runs, under the writer's
   * lock: compressing them would cost more than it saves and hold up the
   * threads. Only the final file is compressed. */
  w->quick = !complete;
  rc = write_out(w, tmp, complete, msg, msglen);
  w->quick = 1;
  if (rc != VS_OK) goto done;
  if (sync_file(tmp) != 0 || rename(tmp, w->path) != 0) {
    set_msg(msg, msglen, "cannot move '%s' into place: %s", tmp,
            strerror(errno));
    rc = VS_EIO;
    goto done;
  }
  sync_folder(dir);
done:
  if (rc != VS_OK && tmp) (void)remove(tmp);
  if (rc != VS_OK) prefix_msg(msg, msglen, w->path);
  free(dir);
  free(tmp);
  return rc;
}

/* ---- commits ------------------------------------------------------------------ */

static void set_error(vs_writer *w, int rc, const char *msg) {
  if (w->err) return;
  w->err = rc;
  snprintf(w->err_msg, sizeof w->err_msg, "%s", msg && msg[0] ? msg : "");
}

/* Commits the open part, then (rank 0, if publish_out) republishes OUT with
 * every stored run, taking over other ranks' new parts first. Called with w->mu held;
 * releases it while syncing the part to disk, so that runs keep arriving.
 * Committed runs are reported to the listener, without the lock. */
static int commit(vs_writer *w, int publish_out, char *msg, size_t msglen) {
  int rc = VS_OK;
  double t0 = cpu_s();
  size_t k = w->n_batch;
  size_t *done_runs = NULL;
  char *file = NULL, *tmp = NULL, *final = NULL;
  if (k > 0) {
    h5_printer printer;
    h5_quiet(&printer);
    rc = seal_batch(w, msg, msglen);
    h5_restore(&printer);
    if (rc != VS_OK) goto done;
    done_runs = w->batch_runs; /* the next part gets a new list */
    file = w->batch_file;
    w->batch_runs = NULL;
    w->batch_file = NULL;
    w->n_batch = w->cap_batch = 0;
    tmp = format_alloc("%s/%s.tmp", w->parts_dir, file);
    final = format_alloc("%s/%s", w->parts_dir, file);
    if (!tmp || !final) {
      set_msg(msg, msglen, "out of memory");
      rc = VS_ENOMEM;
      goto done;
    }
    pthread_mutex_unlock(&w->mu);
    int ok = sync_file(tmp) == 0 && rename(tmp, final) == 0;
    int err = errno;
    if (ok) sync_folder(w->parts_dir);
    pthread_mutex_lock(&w->mu);
    if (!ok) {
      set_msg(msg, msglen, "%s: cannot save the part: %s", final,
              strerror(err));
      rc = VS_EIO;
      goto done;
    }
    uint32_t id;
    if ((rc = register_part(w, file, &id))) {
      set_msg(msg, msglen, "out of memory");
      goto done;
    }
    for (size_t q = 0; q < k; ++q)
      mark_stored(w, done_runs[q], w->status[done_runs[q]], id);
  }
  if (w->publisher && publish_out) {
    h5_printer printer;
    h5_quiet(&printer);
    size_t before = w->n_stored;
    if (w->n_ranks > 1) {
      rc = scan_parts(w, 1, NULL, msg, msglen);
      w->last_scan = now_s();
    }
    if (rc == VS_OK && (k > 0 || w->n_stored != before))
      rc = publish(w, 0, msg, msglen);
    h5_restore(&printer);
    if (rc != VS_OK) goto done;
  }
  w->last_cost = cpu_s() - t0;
  if (w->listener && k > 0) {
    /* Names and status do not change once stored: read them unlocked. */
    vs_writer_listener fn = w->listener;
    void *user = w->listener_user;
    pthread_mutex_unlock(&w->mu);
    for (size_t q = 0; q < k; ++q)
      fn(user, done_runs[q], w->names[done_runs[q]], w->status[done_runs[q]]);
    pthread_mutex_lock(&w->mu);
  }
done:
  w->last_commit_end = now_s();
  if (rc != VS_OK) set_error(w, rc, msg);
  free(done_runs);
  free(final);
  free(tmp);
  free(file);
  return rc;
}

/* When the next commit may start. */
static double commit_due(const vs_writer *w) {
  return w->last_commit_end + fmax(w->min_interval_s, COST_FACTOR * w->last_cost);
}

static void deadline(struct timespec *ts, double delay_s) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  if (delay_s > 3600) delay_s = 3600;
  if (delay_s < 0) delay_s = 0;
  double s = floor(delay_s);
  ts->tv_sec += (time_t)s;
  ts->tv_nsec += (long)((delay_s - s) * 1e9);
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec += 1;
    ts->tv_nsec -= 1000000000L;
  }
}

/* The commit thread: commits when runs wait and the last commit is far
 * enough behind; rank 0 of several also looks for other ranks' parts. */
static void *commit_thread(void *arg) {
  vs_writer *w = arg;
  char msg[1024];
  pthread_mutex_lock(&w->mu);
  while (!w->stop && !w->err) {
    double now = now_s(), due = commit_due(w);
    int scan = w->publisher && w->n_ranks > 1;
    double next_scan = fmax(due, w->last_scan + SCAN_INTERVAL_S);
    if ((w->n_batch > 0 && now >= due) || (scan && now >= next_scan)) {
      msg[0] = '\0';
      (void)commit(w, 1, msg, sizeof msg);
      continue;
    }
    struct timespec ts;
    double wait = w->n_batch > 0 ? due - now : scan ? next_scan - now : 3600;
    deadline(&ts, wait);
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* Stops the commit thread (the caller commits what is left). */
static void stop_thread(vs_writer *w) {
  if (!w->thread_running) return;
  pthread_mutex_lock(&w->mu);
  w->stop = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  w->thread_running = 0;
}

/* ---- cleaning up ------------------------------------------------------------- */

/* Deletes the part files (this output's and stale ones of other sessions)
 * and then the folder. Best effort: OUT is complete already. */
static void remove_parts(const vs_writer *w) {
  DIR *d = opendir(w->parts_dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (!is_part_name(e->d_name, NULL, NULL, NULL)) continue;
      char *p = format_alloc("%s/%s", w->parts_dir, e->d_name);
      if (p) (void)remove(p);
      free(p);
    }
    closedir(d);
  }
  (void)rmdir(w->parts_dir); /* kept if someone put other files there */
}

/* Temporary files of killed sessions: this rank's part.tmp files, and
 * (rank 0) OUT.tmp-PID files whose process is gone. */
static void remove_stale_tmp(const vs_writer *w) {
  DIR *d = opendir(w->parts_dir);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      int rank, tmp;
      if (!is_part_name(e->d_name, &rank, NULL, &tmp) || !tmp ||
          rank != w->rank)
        continue;
      char *p = format_alloc("%s/%s", w->parts_dir, e->d_name);
      if (p) (void)remove(p);
      free(p);
    }
    closedir(d);
  }
  if (!w->publisher) return;
  char *dir = folder_of(w->path);
  const char *base = base_name(w->path);
  size_t n = strlen(base);
  d = dir ? opendir(dir) : NULL;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (strncmp(e->d_name, base, n) != 0 ||
          strncmp(e->d_name + n, ".tmp-", 5) != 0)
        continue;
      char *end = NULL;
      long pid = strtol(e->d_name + n + 5, &end, 10);
      if (!end || *end || pid <= 0 || pid == (long)getpid()) continue;
      if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
      char *p = format_alloc("%s/%s", dir, e->d_name);
      if (p) (void)remove(p);
      free(p);
    }
    closedir(d);
  }
  free(dir);
}

/* OUT complete for this very output? With `take`, its runs are then all
 * stored here (resume: it stays as it is). */
static int adopt_complete_out(vs_writer *w, int take) {
  char msg[256];
  const size_t msglen = sizeof msg;
  int rc = VS_OK, complete = 0;
  hid_t fid = H5I_INVALID_HID, a = H5I_INVALID_HID;
  char *fp = NULL, **status = NULL, **names = NULL, **message = NULL;
  double *col = NULL;
  size_t n = w->n_runs;
  if (access(w->path, F_OK) != 0) return 0;
  VS_H5(fid = H5Fopen(w->path, H5F_ACC_RDONLY, w->fapl));
  if ((rc = attr_read_string(fid, "parameters", "fingerprint", &fp, msg,
                             msglen)) ||
      strcmp(fp, w->fingerprint) != 0)
    goto done;
  VS_H5(a = H5Aopen_by_name(fid, "parameters", "complete", H5P_DEFAULT,
                            H5P_DEFAULT));
  VS_H5(H5Aread(a, H5T_NATIVE_INT, &complete));
  if (!complete || dataset_length(fid, "summary/status") != (hssize_t)n) {
    complete = 0;
    goto done;
  }
  if (!take) goto done;
  status = calloc(n + 1, sizeof *status);
  names = calloc(n + 1, sizeof *names);
  message = calloc(n + 1, sizeof *message);
  col = calloc(n + 1, sizeof *col);
  if (!status || !names || !message || !col ||
      read_strings(fid, "summary/status", n, status, msg, msglen) ||
      read_strings(fid, "summary/run_name", n, names, msg, msglen) ||
      read_strings(fid, "summary/message", n, message, msg, msglen)) {
    complete = 0;
    goto done;
  }
  for (size_t i = 0; i < n; ++i)
    if (status_of_text(status[i]) == VS_RUN_PENDING) complete = 0;
  for (size_t j = 0; complete && j < w->n_cols; ++j) {
    char *path = format_alloc("summary/%s", w->cols[j].name);
    if (!path ||
        read_numbers(fid, path, H5T_NATIVE_DOUBLE, col, msg, msglen) != VS_OK)
      complete = 0;
    for (size_t i = 0; complete && i < n; ++i)
      w->summary[i * w->n_cols + j] = col[i];
    free(path);
  }
  for (size_t i = 0; complete && i < n; ++i) {
    free(w->names[i]);
    w->names[i] = names[i];
    names[i] = NULL;
    w->messages[i] = message[i][0] ? message[i] : NULL;
    if (message[i][0]) message[i] = NULL;
    mark_stored(w, i, status_of_text(status[i]), PART_NONE);
  }
done:
  H5Eclear2(H5E_DEFAULT);
  (void)h5_close(&a);
  (void)h5_close(&fid);
  for (size_t i = 0; i < n; ++i) {
    if (status) free(status[i]);
    if (names) free(names[i]);
    if (message) free(message[i]);
  }
  free(status);
  free(names);
  free(message);
  free(col);
  free(fp);
  (void)rc;
  return complete;
}

/* ---- create / free ------------------------------------------------------- */

static void writer_free(vs_writer **wp) {
  if (!wp || !*wp) return;
  vs_writer *w = *wp;
  (void)h5_close(&w->batch);
  (void)h5_close(&w->gcpl);
  (void)h5_close(&w->fcpl);
  (void)h5_close(&w->fapl);
  for (size_t j = 0; w->cols && j < w->n_cols; ++j) {
    free(w->cols[j].name);
    free(w->cols[j].unit);
    free(w->cols[j].description);
  }
  for (size_t i = 0; i < w->n_runs; ++i) {
    if (w->names) free(w->names[i]);
    if (w->messages) free(w->messages[i]);
  }
  for (size_t i = 0; w->arms && i < w->n_runs; ++i) free(w->arms[i]);
  free(w->arms);
  free(w->baseline);
  for (size_t k = 0; k < w->n_parts; ++k) free(w->parts[k]);
  name_set_clear(&w->seen);
  free(w->parts);
  free(w->batch_runs);
  free(w->batch_file);
  free(w->names);
  free(w->messages);
  free(w->state);
  free(w->status);
  free(w->part);
  free(w->summary);
  free(w->cols);
  char **owned[] = {&w->path,          &w->parts_dir,       &w->parts_link,
                    &w->creator,       &w->version,         &w->git_commit,
                    &w->author,        &w->command_line,    &w->case_path,
                    &w->case_text,     &w->case_resolved,   &w->sundials_version};
  for (size_t k = 0; k < sizeof owned / sizeof owned[0]; ++k) free(*owned[k]);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  free(w);
  *wp = NULL;
}

/* Summary column names become dataset names next to run_name, status and
 * message. */
static int check_columns(const vs_output_meta *meta, char *msg, size_t msglen) {
  for (size_t j = 0; j < meta->n_summary_columns; ++j) {
    const char *name = meta->summary_columns[j].name;
    if (!name || !name[0] || strchr(name, '/') || strcmp(name, ".") == 0 ||
        strcmp(name, "run_name") == 0 || strcmp(name, "status") == 0 ||
        strcmp(name, "message") == 0) {
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
  /* A small metadata cache: the writer streams through thousands of objects
   * once each, and a cached object header keeps its decoded messages, which
   * the cache does not count against its size: with HDF5's default cache,
   * assembling 2,000 runs took 240 MB; with 64 KiB, 30 MB, no slower. */
  H5AC_cache_config_t mdc;
  mdc.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  VS_H5(H5Pget_mdc_config(w->fapl, &mdc));
  mdc.set_initial_size = 1;
  mdc.initial_size = MDC_BYTES;
  mdc.min_size = MDC_BYTES / 4;
  mdc.max_size = MDC_BYTES;
  VS_H5(H5Pset_mdc_config(w->fapl, &mdc));
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
  w->rank = m->n_ranks > 1 ? m->rank : 0;
  w->n_ranks = m->n_ranks > 1 ? m->n_ranks : 1;
  w->publisher = w->rank == 0;
  w->summary_only = m->summary_only != 0;
  w->stride = m->series_stride > 1 ? m->series_stride : 1;
  w->min_interval_s = m->commit_interval_s > 0 ? m->commit_interval_s : 0;
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
  if (m->arms && m->baseline) {
    w->arms = calloc(w->n_runs + 1, sizeof *w->arms);
    w->baseline = malloc((w->n_runs + 1) * sizeof *w->baseline);
    if (!w->arms || !w->baseline) return VS_ENOMEM;
    for (size_t i = 0; i < w->n_runs; ++i) {
      if (!(w->arms[i] = dup_or_null(or_text(m->arms[i], ""))))
        return VS_ENOMEM;
      w->baseline[i] = m->baseline[i] < w->n_runs ? m->baseline[i] : i;
    }
    w->offload_first = m->offload_first_column;
  }
  return VS_OK;
}


/* ---- public API ---------------------------------------------------------- */

/* The per-run tables, all runs not stored. */
static int alloc_runs(vs_writer *w) {
  size_t n = w->n_runs ? w->n_runs : 1;
  if (w->n_cols && w->n_runs > SIZE_MAX / sizeof(double) / w->n_cols)
    return VS_ENOMEM;
  size_t cells = w->n_runs * w->n_cols;
  w->summary = malloc((cells ? cells : 1) * sizeof *w->summary);
  w->state = calloc(n, sizeof *w->state);
  w->status = calloc(n, sizeof *w->status);
  w->part = calloc(n, sizeof *w->part);
  w->names = calloc(n, sizeof *w->names);
  w->messages = calloc(n, sizeof *w->messages);
  if (!w->summary || !w->state || !w->status || !w->part || !w->names ||
      !w->messages)
    return VS_ENOMEM;
  for (size_t k = 0; k < cells; ++k) w->summary[k] = NAN;
  return VS_OK;
}

/* This rank's next part number: above any of its parts on disk. */
static void find_next_seq(vs_writer *w) {
  DIR *d = opendir(w->parts_dir);
  w->next_seq = 0;
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    int rank;
    unsigned seq;
    if (is_part_name(e->d_name, &rank, &seq, NULL) && rank == w->rank &&
        seq >= w->next_seq)
      w->next_seq = seq + 1;
  }
  closedir(d);
}

/* The parts folder and what is in it: an interrupted session's parts are
 * taken over (resume) or refused. */
static int prepare_parts(vs_writer *w, int resume, char *msg, size_t msglen) {
  if (mkdir(w->parts_dir, 0777) != 0) {
    int err = errno;
    struct stat st;
    if (err != EEXIST || stat(w->parts_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
      set_msg(msg, msglen, "cannot create folder '%s': %s", w->parts_dir,
              err == EEXIST ? "a file of that name exists" : strerror(err));
      return VS_EIO;
    }
  }
  if (resume && adopt_complete_out(w, 1)) {
    w->complete_already = 1;
    return VS_OK;
  }
  size_t found = 0;
  int rc = scan_parts(w, resume, &found, msg, msglen);
  if (rc != VS_OK) return rc;
  if (!resume && found > 0 && adopt_complete_out(w, 0)) {
    /* Left by a kill after the final OUT was in place: OUT holds them. */
    remove_parts(w);
    name_set_clear(&w->seen);
    found = 0;
    if (mkdir(w->parts_dir, 0777) != 0 && errno != EEXIST) {
      set_msg(msg, msglen, "cannot create folder '%s': %s", w->parts_dir,
              strerror(errno));
      return VS_EIO;
    }
  }
  if (!resume && found > 0) {
    set_msg(msg, msglen,
            "'%s' holds %zu part%s of an interrupted session of this same "
            "output: resume it (venosim run --resume) to keep its runs, or "
            "remove the folder",
            w->parts_dir, found, found == 1 ? "" : "s");
    return VS_EINVAL;
  }
  remove_stale_tmp(w);
  find_next_seq(w);
  return VS_OK;
}

int vs_writer_open(vs_writer **wp, const char *path, const vs_output_meta *meta,
                   char *msg, size_t msglen) {
  set_msg(msg, msglen, "%s", "");
  if (!wp) return VS_EINVAL;
  *wp = NULL;
  if (!path || !path[0] || !meta ||
      (meta->n_summary_columns > 0 && !meta->summary_columns) ||
      (meta->n_ranks > 1 && (meta->rank < 0 || meta->rank >= meta->n_ranks))) {
    set_msg(msg, msglen, "vs_writer_open: missing output path or meta");
    return VS_EINVAL;
  }
  int rc = check_folder(path, msg, msglen);
  if (rc == VS_OK) rc = check_columns(meta, msg, msglen);
  if (rc != VS_OK) {
    prefix_msg(msg, msglen, path);
    return rc;
  }

  pthread_once(&g_h5_once, h5_no_atexit);
  h5_printer printer;
  h5_quiet(&printer);
  int created_dir = 0;
  vs_writer *w = calloc(1, sizeof *w);
  if (!w) {
    rc = VS_ENOMEM;
    goto done;
  }
  w->fapl = w->fcpl = w->gcpl = w->batch = H5I_INVALID_HID;
  w->quick = 1;
  pthread_mutex_init(&w->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* timed waits */
  pthread_cond_init(&w->cv, &ca);
  pthread_condattr_destroy(&ca);
  w->path = dup_or_null(path);
  w->parts_dir = format_alloc("%s.parts", path);
  w->parts_link = format_alloc("%s.parts", base_name(path));
  if (!w->path || !w->parts_dir || !w->parts_link ||
      copy_meta(w, meta) != VS_OK || alloc_runs(w) != VS_OK) {
    rc = VS_ENOMEM;
    goto done;
  }
  compute_fingerprint(w);
  if ((rc = make_plists(w, msg, msglen)) != VS_OK) goto done;

  /* Last, so that nothing is created on an error above. */
  struct stat st;
  created_dir = stat(w->parts_dir, &st) != 0;
  if ((rc = prepare_parts(w, meta->resume, msg, msglen)) != VS_OK) goto done;
  if (w->complete_already) { /* nothing to do: OUT stays as it is */
    (void)rmdir(w->parts_dir);
    goto done;
  }
  /* From here on OUT is always a readable file of this output. */
  if (w->publisher && (rc = publish(w, 0, msg, msglen)) != VS_OK) goto done;
  w->last_commit_end = now_s();
  if (pthread_create(&w->thread, NULL, commit_thread, w) != 0) {
    set_msg(msg, msglen, "cannot start the writer's thread");
    rc = VS_ENOMEM;
    goto done;
  }
  w->thread_running = 1;
done:
  h5_restore(&printer);
  if (rc == VS_ENOMEM && msg && !msg[0]) set_msg(msg, msglen, "out of memory");
  if (rc != VS_OK) {
    prefix_msg(msg, msglen, path);
    if (w && created_dir) (void)rmdir(w->parts_dir);
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
  char *message = r->status != VS_RUN_OK && r->message[0]
                      ? dup_or_null(r->message)
                      : NULL;
  if (!name || (r->status != VS_RUN_OK && r->message[0] && !message)) {
    free(name);
    free(message);
    set_msg(msg, msglen, "%s: out of memory", w->path);
    return VS_ENOMEM;
  }

  pthread_mutex_lock(&w->mu);
  h5_printer printer;
  h5_quiet(&printer);
  hid_t g = H5I_INVALID_HID;
  if (w->err) {
    rc = w->err;
    set_msg(msg, msglen, "%s", w->err_msg);
    goto done;
  }
  if (w->state[index] != ST_NONE) {
    set_msg(msg, msglen, "%s: run %zu is stored already", w->path, index);
    rc = VS_EINVAL;
    goto done;
  }
  if (w->n_batch == w->cap_batch) {
    size_t cap = w->cap_batch ? 2 * w->cap_batch : 64;
    size_t *grown = realloc(w->batch_runs, cap * sizeof *grown);
    if (!grown) {
      set_msg(msg, msglen, "%s: out of memory", w->path);
      rc = VS_ENOMEM;
      goto done;
    }
    w->batch_runs = grown;
    w->cap_batch = cap;
  }
  if (w->batch < 0 && (rc = open_batch(w, msg, msglen)) != VS_OK) goto done;
  if (!w->summary_only) {
    /* Names are unique by contract; a duplicate takes its index instead of
     * failing the whole part. */
    htri_t taken = 0;
    hid_t runs = H5Gopen2(w->batch, "runs", H5P_DEFAULT);
    if (runs >= 0) taken = H5Lexists(runs, name, H5P_DEFAULT);
    if (taken > 0) {
      free(name);
      if (!(name = format_alloc("run-%06zu", index))) rc = VS_ENOMEM;
    }
    if (rc == VS_OK && runs >= 0 && taken >= 0)
      rc = group_create(runs, name, w->gcpl, &g, msg, msglen);
    else if (rc == VS_OK)
      rc = h5_failed(msg, msglen, "H5Gopen2(runs)", __FILE__, __LINE__);
    if (rc == VS_OK)
      rc = write_run(w, g, index, r, w->stride, H5I_INVALID_HID, msg, msglen);
    (void)h5_close(&g);
    (void)h5_close(&runs);
    if (rc != VS_OK) {
      char what[256];
      snprintf(what, sizeof what, "%s: run '%s'", w->path, name ? name : "");
      prefix_msg(msg, msglen, what);
      set_error(w, rc, msg); /* the open part is broken: stop */
      goto done;
    }
  }
  for (size_t j = 0; j < w->n_cols; ++j)
    w->summary[index * w->n_cols + j] =
        summary_values ? summary_values[j] : NAN;
  free(w->names[index]);
  w->names[index] = name;
  name = NULL;
  free(w->messages[index]);
  w->messages[index] = message;
  message = NULL;
  w->status[index] = (signed char)r->status;
  w->state[index] = ST_BATCH;
  w->batch_runs[w->n_batch++] = index;
  pthread_cond_signal(&w->cv);
done:
  h5_restore(&printer);
  pthread_mutex_unlock(&w->mu);
  free(name);
  free(message);
  return rc;
}

int vs_writer_has_run(const vs_writer *w, size_t index) {
  if (!w || index >= w->n_runs) return 0;
  vs_writer *m = (vs_writer *)w; /* the lock, not the state, changes */
  pthread_mutex_lock(&m->mu);
  int stored = w->state[index] == ST_STORED;
  pthread_mutex_unlock(&m->mu);
  return stored;
}

size_t vs_writer_done_count(const vs_writer *w) {
  if (!w) return 0;
  vs_writer *m = (vs_writer *)w;
  pthread_mutex_lock(&m->mu);
  size_t n = w->n_stored;
  pthread_mutex_unlock(&m->mu);
  return n;
}

size_t vs_writer_failed_count(const vs_writer *w) {
  if (!w) return 0;
  vs_writer *m = (vs_writer *)w;
  pthread_mutex_lock(&m->mu);
  size_t n = w->n_failed;
  pthread_mutex_unlock(&m->mu);
  return n;
}

int vs_writer_run_status(const vs_writer *w, size_t index, double *row) {
  if (!w || index >= w->n_runs) return VS_RUN_PENDING;
  vs_writer *m = (vs_writer *)w;
  pthread_mutex_lock(&m->mu);
  int status = w->state[index] == ST_STORED ? w->status[index] : VS_RUN_PENDING;
  for (size_t j = 0; row && j < w->n_cols; ++j)
    row[j] = status == VS_RUN_PENDING ? NAN : w->summary[index * w->n_cols + j];
  pthread_mutex_unlock(&m->mu);
  return status;
}

void vs_writer_set_listener(vs_writer *w, vs_writer_listener fn, void *user) {
  if (!w) return;
  pthread_mutex_lock(&w->mu);
  w->listener = fn;
  w->listener_user = user;
  pthread_mutex_unlock(&w->mu);
}

/* Stops the commit thread and commits the open part; OUT is republished
 * only if `publish_out` (finish writes its own). */
static int flush(vs_writer *w, int publish_out, char *msg, size_t msglen) {
  stop_thread(w);
  pthread_mutex_lock(&w->mu);
  int rc = w->err;
  if (rc)
    set_msg(msg, msglen, "%s", w->err_msg);
  else if (w->n_batch > 0 && !w->complete_already)
    rc = commit(w, publish_out, msg, msglen);
  pthread_mutex_unlock(&w->mu);
  return rc;
}

int vs_writer_flush(vs_writer *w, char *msg, size_t msglen) {
  set_msg(msg, msglen, "%s", "");
  if (!w) {
    set_msg(msg, msglen, "vs_writer_flush: no writer");
    return VS_EINVAL;
  }
  return flush(w, 1, msg, msglen);
}

int vs_writer_finish(vs_writer **wp, char *msg, size_t msglen) {
  set_msg(msg, msglen, "%s", "");
  if (!wp || !*wp) {
    set_msg(msg, msglen, "vs_writer_finish: no writer");
    return VS_EINVAL;
  }
  vs_writer *w = *wp;
  int rc = flush(w, 0, msg, msglen);
  if (rc == VS_OK && w->publisher && !w->complete_already) {
    h5_printer printer;
    h5_quiet(&printer);
    /* Other ranks' parts (and any this session has not seen). */
    rc = scan_parts(w, 1, NULL, msg, msglen);
    if (rc == VS_OK) rc = publish(w, 1, msg, msglen);
    h5_restore(&printer);
    if (rc == VS_OK) remove_parts(w);
  } else if (rc == VS_OK && w->complete_already) {
    remove_parts(w); /* left by a kill after the final rename */
  }
  writer_free(wp);
  return rc;
}

void vs_writer_abandon(vs_writer **wp) {
  if (!wp || !*wp) return;
  vs_writer *w = *wp;
  char msg[256];
  h5_printer printer;
  h5_quiet(&printer); /* the caller reports why; HDF5's stack adds nothing */
  stop_thread(w);
  pthread_mutex_lock(&w->mu);
  if (!w->err && w->n_batch > 0) /* best effort: keep what can be kept */
    (void)commit(w, 1, msg, sizeof msg);
  if (w->batch >= 0) { /* a broken part: drop it */
    (void)h5_close(&w->batch);
    char *tmp = format_alloc("%s/%s.tmp", w->parts_dir, w->batch_file);
    if (tmp) (void)remove(tmp);
    free(tmp);
  }
  pthread_mutex_unlock(&w->mu);
  (void)rmdir(w->parts_dir); /* only if nothing was committed */
  writer_free(wp);
  h5_restore(&printer);
}
