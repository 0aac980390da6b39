/* A run's result: allocation, series and their samples (in memory or in
 * sample stores that spill to a temporary file), event log, failure
 * message. */
/* O_TMPFILE (an unnamed file in a folder) is Linux's; without it, a named
 * file is unlinked right after it is created. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "text.h"
#include "venosim/result.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "venosim/error.h"
#include "venosim/network.h"

/* ---- sample stores ----------------------------------------------------------
 * Rows are appended to blocks of block_rows rows. Blocks 0 .. n_disk-1 are
 * in the spill file, in order (block b at offset b * block size), the
 * rest in memory (mem[0] is block n_disk): the oldest full block goes to
 * the file when the memory holds cap_mem blocks and a new one is needed,
 * and its buffer takes the new rows. Inside a block the values are stored
 * column by column (value (i, j) at [j * block_rows + i]): a column of a
 * block on disk is then one read, and the writer's row blocks are
 * transposed from whole blocks in memory. */
struct vs_sample_store {
  size_t n_columns;
  size_t n_rows;     /* rows planned (the run's n_samples) */
  size_t n_put;      /* rows 0 .. n_put-1 are stored */
  size_t block_rows; /* rows per block */
  size_t n_disk;     /* blocks in the file */
  size_t n_mem, cap_mem;
  double **mem;      /* blocks n_disk, n_disk + 1, ... in memory */
  int fd;            /* the spill file, -1 until the first spill */
  int broken;        /* a spill failed: the store takes no more rows */
};

static size_t store_block_values(const vs_sample_store *st) {
  return st->block_rows * st->n_columns;
}

static vs_sample_store *store_create(size_t n_columns, size_t n_rows,
                                     size_t memory_bytes, size_t block_bytes) {
  vs_sample_store *st = calloc(1, sizeof *st);
  if (!st) return NULL;
  st->n_columns = n_columns;
  st->n_rows = n_rows;
  st->fd = -1;
  size_t row_bytes = (n_columns ? n_columns : 1) * sizeof(double);
  if (block_bytes == 0) block_bytes = VS_SAMPLE_BLOCK_BYTES;
  st->block_rows = block_bytes / row_bytes ? block_bytes / row_bytes : 1;
  if (st->block_rows > n_rows && n_rows > 0) st->block_rows = n_rows;
  size_t n_blocks = n_rows / st->block_rows + (n_rows % st->block_rows != 0);
  size_t budget = memory_bytes / (st->block_rows * row_bytes);
  /* The full blocks of the budget, and the one being filled. */
  st->cap_mem = budget < n_blocks ? budget + 1 : n_blocks;
  if (st->cap_mem == 0) st->cap_mem = 1;
  st->mem = calloc(st->cap_mem, sizeof *st->mem);
  if (!st->mem) {
    free(st);
    return NULL;
  }
  return st;
}

static void store_free(vs_sample_store **stp) {
  vs_sample_store *st = *stp;
  if (!st) return;
  for (size_t b = 0; b < st->n_mem; ++b) free(st->mem[b]);
  free(st->mem);
  if (st->fd >= 0) close(st->fd);
  free(st);
  *stp = NULL;
}

/* Where spill files go: the folder given (vs_spill_options.dir), else
 * $TMPDIR, else /tmp. */
static const char *spill_folder(const char *dir) {
  if (dir && dir[0]) return dir;
  const char *env = getenv("TMPDIR");
  return env && env[0] ? env : "/tmp";
}

/* A file for the spilled blocks that no one else can see or open, and that
 * the system removes when the process ends however it ends. */
static int spill_file_open(const char *dir) {
  const char *d = spill_folder(dir);
#ifdef O_TMPFILE
  int fd = open(d, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  /* Not every file system has unnamed files: a named one, unlinked at
   * once. A folder that does not exist fails both ways. */
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return -1;
#endif
  size_t len = strlen(d) + sizeof "/venosim-spill-XXXXXX";
  char *path = malloc(len);
  if (!path) {
    errno = ENOMEM;
    return -1;
  }
  snprintf(path, len, "%s/venosim-spill-XXXXXX", d);
  int fd2 = mkstemp(path);
  if (fd2 >= 0 && unlink(path) != 0) {
    /* Never spill into a file that would outlive the process. */
    int saved = errno;
    close(fd2);
    fd2 = -1;
    errno = saved;
  }
  free(path);
  return fd2;
}

/* Whole-buffer pwrite/pread: a short transfer is retried, never taken for
 * all of it. A read past the end of the file is an I/O error. */
static int transfer_all(int fd, char *p, size_t n, off_t off, int writing) {
  while (n > 0) {
    ssize_t k = writing ? pwrite(fd, p, n, off) : pread(fd, p, n, off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (k == 0) errno = EIO;
      return -1;
    }
    p += k, n -= (size_t)k, off += k;
  }
  return 0;
}

static int write_all(int fd, const void *buf, size_t n, off_t off) {
  /* pwrite only reads the buffer: the cast drops no promise. */
  return transfer_all(fd, (char *)(uintptr_t)buf, n, off, 1);
}

static int read_all(int fd, void *buf, size_t n, off_t off) {
  return transfer_all(fd, buf, n, off, 0);
}

static off_t block_offset(const vs_sample_store *st, size_t b) {
  return (off_t)(b * store_block_values(st) * sizeof(double));
}

/* Writes the oldest block in memory to the file; its buffer becomes free
 * (returned). NULL with errno on failure: nothing changes. */
static double *store_spill_oldest(vs_sample_store *st, const char *dir) {
  if (st->fd < 0 && (st->fd = spill_file_open(dir)) < 0) return NULL;
  double *blk = st->mem[0];
  if (write_all(st->fd, blk, store_block_values(st) * sizeof *blk,
                block_offset(st, st->n_disk)) != 0)
    return NULL;
  memmove(st->mem, st->mem + 1, (st->n_mem - 1) * sizeof *st->mem);
  st->n_mem--;
  st->n_disk++;
  return blk;
}

/* Appends row n_put. VS_EIO (errno set) when a block had to be spilled
 * and could not be. */
static int store_append(vs_sample_store *st, const double *row,
                        const char *dir) {
  if (st->broken) return VS_EIO;
  if (st->n_put >= st->n_rows) return VS_EINVAL;
  if (st->n_columns == 0) {
    st->n_put++;
    return VS_OK;
  }
  size_t i = st->n_put % st->block_rows;
  if (i == 0) { /* a new block */
    double *blk = NULL;
    if (st->n_mem == st->cap_mem) {
      if (!(blk = store_spill_oldest(st, dir))) {
        st->broken = 1;
        return VS_EIO;
      }
    } else if (!(blk = malloc(store_block_values(st) * sizeof *blk))) {
      return VS_ENOMEM;
    }
    st->mem[st->n_mem++] = blk;
  }
  double *blk = st->mem[st->n_mem - 1];
  for (size_t j = 0; j < st->n_columns; ++j)
    blk[j * st->block_rows + i] = row[j];
  st->n_put++;
  return VS_OK;
}

/* Block b, whole: in memory, or read from the file into scratch. */
static const double *store_block(const vs_sample_store *st, size_t b,
                                 double *scratch) {
  if (b >= st->n_disk) return st->mem[b - st->n_disk];
  if (read_all(st->fd, scratch, store_block_values(st) * sizeof *scratch,
               block_offset(st, b)) != 0)
    return NULL;
  return scratch;
}

static int store_read_rows(const vs_sample_store *st, size_t first,
                           size_t count, size_t step, double *out) {
  size_t nc = st->n_columns, loaded = SIZE_MAX;
  const double *blk = NULL;
  double *scratch = NULL;
  int rc = VS_OK;
  if (st->n_disk > 0 &&
      !(scratch = malloc(store_block_values(st) * sizeof *scratch)))
    return VS_ENOMEM;
  for (size_t q = 0; q < count && nc > 0; ++q) {
    size_t k = first + q * step;
    double *row = out + q * nc;
    if (k >= st->n_put) {
      for (size_t j = 0; j < nc; ++j) row[j] = NAN;
      continue;
    }
    size_t b = k / st->block_rows, i = k % st->block_rows;
    if (b != loaded) {
      if (!(blk = store_block(st, b, scratch))) {
        rc = VS_EIO;
        break;
      }
      loaded = b;
    }
    for (size_t j = 0; j < nc; ++j) row[j] = blk[j * st->block_rows + i];
  }
  free(scratch);
  return rc;
}

static int store_read_column(const vs_sample_store *st, size_t j,
                             double *out) {
  size_t br = st->block_rows;
  for (size_t b = 0; b * br < st->n_put; ++b) {
    size_t rows = st->n_put - b * br < br ? st->n_put - b * br : br;
    double *dst = out + b * br;
    if (b >= st->n_disk) {
      memcpy(dst, st->mem[b - st->n_disk] + j * br, rows * sizeof *dst);
    } else if (read_all(st->fd, dst, rows * sizeof *dst,
                        block_offset(st, b) +
                            (off_t)(j * br * sizeof *dst)) != 0) {
      return VS_EIO;
    }
  }
  for (size_t k = st->n_put; k < st->n_rows; ++k) out[k] = NAN;
  return VS_OK;
}


int vs_result_create(vs_run_result **r, const char *name) {
  if (!r) return VS_EINVAL;
  *r = calloc(1, sizeof **r);
  if (!*r) return VS_ENOMEM;
  (*r)->name = vs_text_dup(name ? name : "");
  if (!(*r)->name) {
    free(*r);
    *r = NULL;
    return VS_ENOMEM;
  }
  (*r)->status = VS_RUN_PENDING;
  (*r)->site_lumen_mm = NAN;
  (*r)->viscosity_mpa_s = NAN;
  return VS_OK;
}

static void series_clear(vs_series *s) {
  for (size_t j = 0; j < s->n_columns && s->column_names; ++j)
    free(s->column_names[j]);
  free(s->column_names);
  free(s->name);
  free(s->unit);
  free(s->description);
  free(s->data);
  store_free(&s->store);
}

void vs_result_free(vs_run_result **r) {
  if (!r || !*r) return;
  for (size_t i = 0; i < (*r)->n_series; ++i) series_clear(&(*r)->series[i]);
  free((*r)->series);
  free((*r)->time);
  store_free(&(*r)->time_store);
  free((*r)->spill_dir);
  free((*r)->events);
  free((*r)->phases);
  vs_result_network_clear(&(*r)->topology);
  free((*r)->metrics);
  free((*r)->name);
  free(*r);
  *r = NULL;
}

int vs_result_network_alloc(vs_result_network *t, size_t n_nodes,
                            size_t n_links) {
  memset(t, 0, sizeof *t);
  t->node_names = calloc(n_nodes + 1, sizeof *t->node_names);
  t->node_height_cm = calloc(n_nodes + 1, sizeof *t->node_height_cm);
  t->node_length_cm = calloc(n_nodes + 1, sizeof *t->node_length_cm);
  t->link_names = calloc(n_links + 1, sizeof *t->link_names);
  t->link_from = calloc(n_links + 1, sizeof *t->link_from);
  t->link_to = calloc(n_links + 1, sizeof *t->link_to);
  t->link_diameter_cm = calloc(n_links + 1, sizeof *t->link_diameter_cm);
  t->link_n_parallel = calloc(n_links + 1, sizeof *t->link_n_parallel);
  t->link_valve = calloc(n_links + 1, sizeof *t->link_valve);
  t->n_nodes = n_nodes;
  t->n_links = n_links;
  if (!t->node_names || !t->node_height_cm || !t->node_length_cm ||
      !t->link_names ||
      !t->link_from || !t->link_to || !t->link_diameter_cm ||
      !t->link_n_parallel || !t->link_valve) {
    vs_result_network_clear(t);
    return VS_ENOMEM;
  }
  return VS_OK;
}

void vs_result_network_clear(vs_result_network *t) {
  if (!t) return;
  for (size_t i = 0; t->node_names && i < t->n_nodes; ++i)
    free(t->node_names[i]);
  for (size_t k = 0; k < t->n_links; ++k) {
    if (t->link_names) free(t->link_names[k]);
    if (t->link_from) free(t->link_from[k]);
    if (t->link_to) free(t->link_to[k]);
  }
  free(t->node_names);
  free(t->node_height_cm);
  free(t->node_length_cm);
  free(t->link_names);
  free(t->link_from);
  free(t->link_to);
  free(t->link_diameter_cm);
  free(t->link_n_parallel);
  free(t->link_valve);
  memset(t, 0, sizeof *t);
}

int vs_result_describe_network(vs_run_result *r, const vs_network *net) {
  size_t nc = vs_network_compartment_count(net);
  size_t nn = nc + vs_network_pressure_node_count(net);
  size_t nl = vs_network_link_count(net);
  vs_result_network *t = &r->topology;
  vs_result_network_clear(t);
  if (vs_result_network_alloc(t, nn, nl)) return VS_ENOMEM;
  int ok = 1;
  for (size_t i = 0; i < nn && ok; ++i) {
    ok = (t->node_names[i] = vs_text_dup(vs_network_node_name(net, i))) != 0;
    if (i < nc) {
      const vs_compartment_spec *c = vs_network_compartment(net, i);
      t->node_height_cm[i] = c->height_cm;
      t->node_length_cm[i] =
          c->wall.kind == VS_WALL_TUBE_LAW ? c->wall.length_cm : 0.0;
    } else {
      t->node_height_cm[i] = vs_network_pressure_node(net, i - nc)->height_cm;
    }
  }
  for (size_t k = 0; k < nl && ok; ++k) {
    const vs_link_spec *l = vs_network_link(net, k);
    ok = (t->link_names[k] = vs_text_dup(l->name)) &&
         (t->link_from[k] = vs_text_dup(l->from)) &&
         (t->link_to[k] = vs_text_dup(l->to));
    t->link_diameter_cm[k] = l->diameter_cm;
    t->link_n_parallel[k] = l->n_parallel > 1 ? l->n_parallel : 1;
    t->link_valve[k] = l->has_valve ? 1.0 : 0.0;
  }
  if (ok) return VS_OK;
  vs_result_network_clear(t);
  return VS_ENOMEM;
}

vs_spill_options vs_spill_options_default(void) {
  vs_spill_options o = {.memory_bytes = VS_SAMPLE_MEMORY_BYTES,
                        .block_bytes = VS_SAMPLE_BLOCK_BYTES,
                        .dir = NULL};
  return o;
}

int vs_result_set_spill(vs_run_result *r, const vs_spill_options *o) {
  if (!r || r->time || r->time_store) return VS_EINVAL;
  vs_spill_options d = o ? *o : vs_spill_options_default();
  char *dir = NULL;
  if (d.dir && !(dir = vs_text_dup(d.dir))) return VS_ENOMEM;
  free(r->spill_dir);
  r->spill_dir = dir;
  r->spill_memory_bytes = d.memory_bytes;
  r->spill_block_bytes = d.block_bytes;
  r->spill = 1;
  return VS_OK;
}

int vs_result_set_samples(vs_run_result *r, size_t n_samples) {
  if (!r || r->time || r->time_store || n_samples == 0) return VS_EINVAL;
  if (r->spill) {
    r->time_store = store_create(1, n_samples, r->spill_memory_bytes,
                                 r->spill_block_bytes);
    if (!r->time_store) return VS_ENOMEM;
  } else {
    r->time = malloc(n_samples * sizeof *r->time);
    if (!r->time) return VS_ENOMEM;
    /* Unsampled times read as NaN, never as a plausible 0 s. */
    for (size_t k = 0; k < n_samples; ++k) r->time[k] = NAN;
  }
  r->n_samples = n_samples;
  return VS_OK;
}

vs_series *vs_result_add_series(vs_run_result *r, const char *name,
                                const char *unit, const char *description,
                                size_t n_columns, const char *const *columns) {
  if (!r || (!r->time && !r->time_store)) return NULL;
  vs_series *grown = realloc(r->series, (r->n_series + 1) * sizeof *grown);
  if (!grown) return NULL;
  r->series = grown;
  vs_series *s = &r->series[r->n_series];
  memset(s, 0, sizeof *s);
  s->name = vs_text_dup(name ? name : "");
  s->unit = vs_text_dup(unit ? unit : "");
  s->description = vs_text_dup(description ? description : "");
  s->column_names = calloc(n_columns ? n_columns : 1, sizeof *s->column_names);
  if (r->spill)
    s->store = store_create(n_columns, r->n_samples, r->spill_memory_bytes,
                            r->spill_block_bytes);
  else
    s->data = malloc(r->n_samples * (n_columns ? n_columns : 1) *
                     sizeof *s->data);
  int ok = s->name && s->unit && s->description && s->column_names &&
           (s->data || s->store);
  s->n_columns = n_columns;
  for (size_t j = 0; ok && j < n_columns; ++j) {
    s->column_names[j] = vs_text_dup(columns[j] ? columns[j] : "");
    ok = s->column_names[j] != NULL;
  }
  if (!ok) {
    series_clear(s);
    return NULL;
  }
  /* Unsampled rows read as NaN, never as a plausible zero (a store reads
   * NaN beyond its last row). */
  for (size_t k = 0; s->data && k < r->n_samples * n_columns; ++k)
    s->data[k] = NAN;
  r->n_series++;
  return s;
}

/* A store that cannot spill fails the run: the reason names the series,
 * the folder and the system's words (err: errno), so a full disk is told
 * from a missing folder. */
static int spill_failed(vs_run_result *r, const char *what, int err) {
  vs_result_fail(r,
                 "cannot spill the output samples of %s to a temporary file "
                 "in '%s': %s; the run stops here",
                 what, spill_folder(r->spill_dir), strerror(err));
  return VS_EIO;
}

int vs_result_put_time(vs_run_result *r, size_t k, double t) {
  if (!r || k >= r->n_samples) return VS_EINVAL;
  if (r->time) {
    r->time[k] = t;
    return VS_OK;
  }
  if (!r->time_store || k != r->time_store->n_put) return VS_EINVAL;
  int rc = store_append(r->time_store, &t, r->spill_dir);
  return rc == VS_EIO ? spill_failed(r, "the time column", errno) : rc;
}

int vs_result_put_row(vs_run_result *r, vs_series *s, size_t k,
                      const double *row) {
  if (!r || !s || k >= r->n_samples || (!row && s->n_columns)) return VS_EINVAL;
  if (s->data) {
    if (s->n_columns)
      memcpy(s->data + k * s->n_columns, row, s->n_columns * sizeof *row);
    return VS_OK;
  }
  if (!s->store || k != s->store->n_put) return VS_EINVAL;
  int rc = store_append(s->store, row, r->spill_dir);
  if (rc != VS_EIO) return rc;
  int err = errno;
  char what[96];
  snprintf(what, sizeof what, "series '%s'", s->name);
  return spill_failed(r, what, err);
}

int vs_result_read_times(const vs_run_result *r, size_t first, size_t count,
                         size_t step, double *out) {
  if (!r || !out || step == 0) return VS_EINVAL;
  if (count == 0) return VS_OK;
  if (first >= r->n_samples || (count - 1) > (r->n_samples - 1 - first) / step)
    return VS_EINVAL;
  if (r->time) {
    for (size_t q = 0; q < count; ++q) out[q] = r->time[first + q * step];
    return VS_OK;
  }
  if (!r->time_store) return VS_EINVAL;
  return store_read_rows(r->time_store, first, count, step, out);
}

int vs_result_read_rows(const vs_run_result *r, const vs_series *s,
                        size_t first, size_t count, size_t step,
                        double *out) {
  if (!r || !s || (!out && s->n_columns) || step == 0) return VS_EINVAL;
  if (count == 0) return VS_OK;
  if (first >= r->n_samples || (count - 1) > (r->n_samples - 1 - first) / step)
    return VS_EINVAL;
  size_t nc = s->n_columns;
  if (s->data) {
    for (size_t q = 0; q < count && nc > 0; ++q)
      memcpy(out + q * nc, s->data + (first + q * step) * nc,
             nc * sizeof *out);
    return VS_OK;
  }
  if (!s->store) return nc ? VS_EINVAL : VS_OK;
  return store_read_rows(s->store, first, count, step, out);
}

int vs_result_read_column(const vs_run_result *r, const vs_series *s,
                          size_t j, double *out) {
  if (!r || !s || !out || j >= s->n_columns) return VS_EINVAL;
  if (s->data) {
    for (size_t k = 0; k < r->n_samples; ++k)
      out[k] = s->data[k * s->n_columns + j];
    return VS_OK;
  }
  if (!s->store) return VS_EINVAL;
  return store_read_column(s->store, j, out);
}

int vs_result_add_phase(vs_run_result *r, const char *name, double t_start_s,
                        double t_end_s) {
  if (!r || !name) return VS_EINVAL;
  vs_phase *grown = realloc(r->phases, (r->n_phases + 1) * sizeof *grown);
  if (!grown) return VS_ENOMEM;
  r->phases = grown;
  vs_phase *p = &r->phases[r->n_phases++];
  snprintf(p->name, sizeof p->name, "%s", name);
  p->t_start_s = t_start_s;
  p->t_end_s = t_end_s;
  return VS_OK;
}

const vs_phase *vs_result_phase(const vs_run_result *r, const char *name) {
  if (!r || !name) return NULL;
  for (size_t i = 0; i < r->n_phases; ++i)
    if (strcmp(r->phases[i].name, name) == 0) return &r->phases[i];
  return NULL;
}

const vs_series *vs_result_series(const vs_run_result *r, const char *name) {
  if (!r || !name) return NULL;
  for (size_t i = 0; i < r->n_series; ++i)
    if (strcmp(r->series[i].name, name) == 0) return &r->series[i];
  return NULL;
}

void vs_result_event(vs_run_result *r, double t_s, const char *kind,
                     const char *fmt, ...) {
  if (!r) return;
  if (r->n_events == r->cap_events) {
    size_t cap = r->cap_events ? 2 * r->cap_events : 16;
    vs_event *grown = realloc(r->events, cap * sizeof *grown);
    if (!grown) return;
    r->events = grown;
    r->cap_events = cap;
  }
  vs_event *e = &r->events[r->n_events++];
  memset(e, 0, sizeof *e);
  e->time_s = t_s;
  snprintf(e->kind, sizeof e->kind, "%s", kind ? kind : "");
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
}

void vs_result_fail(vs_run_result *r, const char *fmt, ...) {
  if (!r) return;
  if (r->status != VS_RUN_FAILED) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
  }
  r->status = VS_RUN_FAILED;
}
