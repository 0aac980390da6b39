/* svZeroDSolver JSON -> venosim network and solver options, and the
 * equivalent case file (svzerod.h).
 *
 * Four passes, each stopping at the first problem:
 *   1. JSON text (libfyaml: JSON is YAML), diagnostics collected;
 *   2. the blocks: vessels, junctions, boundary conditions, simulation
 *      parameters, each checked ("FILE:LINE:COL: message" naming the block);
 *   3. an element graph: nodes (massless, capacitor, prescribed pressure),
 *      series branches (R, L, S) and flow sources, with zero-impedance
 *      elements collapsed; then every massless node is eliminated exactly
 *      where it can be (dead ends, sources carried through, two branches in
 *      series summed) and a small compliance is given to the rest
 *      (bifurcations: svzerod.h explains the approximation);
 *   4. the steady state of the mean boundary values (optional initial
 *      state), then the venosim network. */
#include "text.h"
#include "yaml_node.h"
#include "venosim/svzerod.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <sunmatrix/sunmatrix_sparse.h>

#include "venosim/error.h"
#include "venosim/units.h"

enum {
  MAX_JSON_BYTES = 256 << 20, /* a model larger than this is a mistake */
  NEWTON_MAX_ITER = 60,
  LINE_SEARCH_MAX = 40
};

/* Largest stenosis kt the case schema accepts (case_schema.c: [0, 100]). */
#define KT_MAX 100.0
/* Pressure accuracy the volume tolerance is sized for, mmHg, and the
 * smallest volume tolerance the case schema accepts, mL. */
#define ATOL_PRESSURE_MMHG 1e-6
#define ATOL_VOLUME_MIN_ML 1e-14

/* ---- small helpers -------------------------------------------------------- */


/* Shortest decimal text that reads back as exactly x, spelled so that YAML
 * 1.1 readers also see a float (1e-06 -> 1.0e-06). */
static void fmt_num(double x, char *out, size_t len) {
  char t[40];
  for (int prec = 1; prec <= 17; ++prec) {
    snprintf(t, sizeof t, "%.*g", prec, x);
    if (strtod(t, NULL) == x) break;
  }
  char *e = strchr(t, 'e');
  if (!e) {
    snprintf(out, len, "%s", t);
    return;
  }
  *e = '\0';
  snprintf(out, len, "%s%se%s%s", t, strchr(t, '.') ? "" : ".0",
           e[1] == '-' || e[1] == '+' ? "" : "+", e + 1);
}

/* ---- messages ------------------------------------------------------------- */


static const pos_t no_pos = {0, 0};

typedef struct {
  const char *file;
  char *msg;
  size_t msglen;
} reader;

static int fail(reader *r, int status, pos_t p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* "FILE:LINE:COL: message" (or "FILE: message"), returns status. */
static int fail(reader *r, int status, pos_t p, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vs_yaml_vlocate(r->msg, r->msglen, r->file, p, fmt, ap);
  va_end(ap);
  return status;
}

static int fail_oom(reader *r) {
  return fail(r, VS_ENOMEM, no_pos, "out of memory");
}

/* ---- JSON nodes ------------------------------------------------------------ */


/* Position of the key `key` of mapping n (for "missing"/"unknown" messages). */
static pos_t key_pos(struct fy_node *map, const char *key, pos_t fallback) {
  void *it = NULL;
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(map, &it))) {
    size_t len = 0;
    struct fy_node *k = fy_node_pair_key(pair);
    const char *s = k ? fy_node_get_scalar(k, &len) : NULL;
    if (s && len == strlen(key) && memcmp(s, key, len) == 0)
      return vs_yaml_node_pos(k, fallback);
  }
  return vs_yaml_node_pos(map, fallback);
}

static struct fy_node *get(struct fy_node *map, const char *key) {
  if (!map || fy_node_get_type(map) != FYNT_MAPPING) return NULL;
  return fy_node_mapping_lookup_by_string(map, key, strlen(key));
}

static int is_map(struct fy_node *n) {
  return n && fy_node_get_type(n) == FYNT_MAPPING;
}
static int is_seq(struct fy_node *n) {
  return n && fy_node_get_type(n) == FYNT_SEQUENCE;
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
 * (leading zeros and '+' tolerated: YAML writers produce them). */
static int is_number_text(const char *s, size_t n) {
  size_t i = 0, digits = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  while (i < n && isdigit((unsigned char)s[i])) ++i, ++digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && isdigit((unsigned char)s[i])) ++i, ++digits;
  }
  if (!digits) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t e = 0;
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
    while (i < n && isdigit((unsigned char)s[i])) ++i, ++e;
    if (!e) return 0;
  }
  return i == n;
}

/* A finite number (an unquoted JSON number). `what` names it in messages. */
static int read_number(reader *r, struct fy_node *n, pos_t at,
                       const char *what, double *x) {
  char buf[128];
  size_t len = 0;
  const char *s = NULL;
  if (n && fy_node_get_type(n) == FYNT_SCALAR &&
      fy_node_get_style(n) == FYNS_PLAIN)
    s = fy_node_get_scalar(n, &len);
  if (!s || !is_number_text(s, len) || len >= sizeof buf)
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(n, at), "%s: expected a number", what);
  memcpy(buf, s, len);
  buf[len] = '\0';
  /* strtod follows LC_NUMERIC: write the point the locale expects. */
  const char *dp = localeconv()->decimal_point;
  if (dp && dp[0] != '.' && dp[0] != '\0' && dp[1] == '\0') {
    char *p = strchr(buf, '.');
    if (p) *p = dp[0];
  }
  *x = strtod(buf, NULL);
  if (!isfinite(*x))
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(n, at), "%s = %s is not finite", what,
                buf);
  return VS_OK;
}

/* A number that must be >= 0 (resistances, capacitances, inductances). */
static int read_nonneg(reader *r, struct fy_node *n, pos_t at, const char *what,
                       double *x) {
  int rc = read_number(r, n, at, what, x);
  if (!rc && *x < 0)
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(n, at), "%s must be >= 0", what);
  return rc;
}

static int read_bool(reader *r, struct fy_node *n, pos_t at, const char *what,
                     int *x) {
  size_t len = 0;
  const char *s = n && fy_node_get_type(n) == FYNT_SCALAR &&
                          fy_node_get_style(n) == FYNS_PLAIN
                      ? fy_node_get_scalar(n, &len)
                      : NULL;
  if (s && len == 4 && memcmp(s, "true", 4) == 0) *x = 1;
  else if (s && len == 5 && memcmp(s, "false", 5) == 0) *x = 0;
  else return fail(r, VS_ESCHEMA, vs_yaml_node_pos(n, at), "%s: expected true or false", what);
  return VS_OK;
}

/* A non-empty string (malloc'd into *out). */
static int read_string(reader *r, struct fy_node *n, pos_t at, const char *what,
                       char **out) {
  size_t len = 0;
  const char *s = n && fy_node_get_type(n) == FYNT_SCALAR
                      ? fy_node_get_scalar(n, &len)
                      : NULL;
  if (!s || len == 0 || memchr(s, '\0', len))
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(n, at), "%s: expected a non-empty string",
                what);
  *out = vs_text_dup_n(s, len);
  return *out ? VS_OK : fail_oom(r);
}

/* A whole number (vessel ids, counts), written as an integer. */
static int read_long(reader *r, struct fy_node *n, pos_t at, const char *what,
                     long *x) {
  double d;
  int rc = read_number(r, n, at, what, &d);
  if (rc) return rc;
  if (d != floor(d) || fabs(d) > 1e15)
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(n, at), "%s: expected a whole number",
                what);
  *x = (long)d;
  return VS_OK;
}

/* A number or a list of numbers (*n_out >= 1, malloc'd into *out). */
static int read_numbers(reader *r, struct fy_node *n, pos_t at,
                        const char *what, double **out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  if (!is_seq(n)) {
    double x;
    int rc = read_number(r, n, at, what, &x);
    if (rc) return rc;
    *out = malloc(sizeof **out);
    if (!*out) return fail_oom(r);
    **out = x;
    *n_out = 1;
    return VS_OK;
  }
  int count = fy_node_sequence_item_count(n);
  if (count <= 0)
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(n, at), "%s: empty list", what);
  *out = calloc((size_t)count, sizeof **out);
  if (!*out) return fail_oom(r);
  void *it = NULL;
  struct fy_node *item;
  char item_what[192];
  while ((item = fy_node_sequence_iterate(n, &it))) {
    snprintf(item_what, sizeof item_what, "%s[%zu]", what, *n_out);
    int rc = read_number(r, item, vs_yaml_node_pos(n, at), item_what, &(*out)[*n_out]);
    if (rc) {
      free(*out);
      *out = NULL;
      *n_out = 0;
      return rc;
    }
    (*n_out)++;
  }
  return VS_OK;
}

/* Every key of mapping n must be one of `allowed` (NULL-terminated); keys
 * starting with '_' are comments, as in svZeroDSolver. */
static int check_keys(reader *r, struct fy_node *n, const char *const *allowed,
                      const char *block) {
  void *it = NULL;
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(n, &it))) {
    size_t len = 0;
    struct fy_node *k = fy_node_pair_key(pair);
    const char *s = k ? fy_node_get_scalar(k, &len) : NULL;
    if (!s) continue;
    if (len > 0 && s[0] == '_') continue;
    int ok = 0;
    for (size_t i = 0; allowed[i] && !ok; ++i)
      ok = strlen(allowed[i]) == len && memcmp(allowed[i], s, len) == 0;
    if (!ok) {
      char expected[256] = "";
      size_t used = 0;
      for (size_t i = 0; allowed[i] && used < sizeof expected; ++i) {
        int w = snprintf(expected + used, sizeof expected - used, "%s%s",
                         i ? ", " : "", allowed[i]);
        if (w < 0) break;
        used += (size_t)w;
      }
      return fail(r, VS_ESCHEMA, vs_yaml_node_pos(k, no_pos),
                  "unknown parameter '%.*s' in %s (expected: %s)",
                  len < 64 ? (int)len : 64, s, block, expected);
    }
  }
  return VS_OK;
}

/* ---- the blocks ------------------------------------------------------------ */

typedef enum { BC_FLOW = 0, BC_PRESSURE, BC_RESISTANCE, BC_RCR } bc_kind;

typedef struct {
  char *name;
  pos_t pos;
  bc_kind kind;
  vs_waveform wave; /* FLOW: Q(t); PRESSURE: P(t); RESISTANCE, RCR: Pd(t) */
  double mean;      /* svZeroDSolver's steady value: mean of the samples */
  double r, rp, c, rd;
  int uses;         /* vessel ends it is attached to */
} sz_bc;

typedef struct {
  char *name;
  long id;
  pos_t pos;
  double r, c, l, s;
  int bc_in, bc_out;         /* index into bcs, or -1 */
  int joined_in, joined_out; /* attached to a junction */
  int node_in, node_out;     /* graph nodes of its ends */
} sz_vessel;

/* ---- the element graph ----------------------------------------------------- */

typedef enum { NK_MASSLESS = 0, NK_COMP, NK_PRESSURE } node_kind;

/* How strongly a node's name represents it when nodes are merged. */
enum { RANK_END = 1, RANK_JUNCTION = 2, RANK_CAP = 3, RANK_PRESSURE = 4 };

typedef struct {
  int parent;                  /* union-find (build phase) */
  node_kind kind;
  double c;                    /* compliance of a capacitor node */
  const vs_waveform *pressure; /* prescribed pressure (a BC's) */
  double p_mean;
  const char *name;
  int rank;
  int junction;                /* became a compartment by approximation */
  int *inc;                    /* incident branches (reduction phase) */
  size_t n_inc, cap_inc;
  int dead;
  double p0;                   /* initial pressure */
} gnode;

typedef struct {
  int a, b;       /* node indices; Q > 0 from a to b */
  double r, l, s; /* R, L, S in the series (units of the model) */
  int dead;
} gbranch;

typedef struct {
  const vs_waveform *q; /* the BC's Q(t) */
  double sign;          /* +1 into the network, -1 out of it */
  double mean;
  const char *name;
  int node;
} gsource;

typedef struct {
  gnode *n;
  size_t nn, capn;
  gbranch *b;
  size_t nb, capb;
  gsource *s;
  size_t ns, caps;
  char **pool; /* names the graph made (owned) */
  size_t npool, cappool;
} graph;

static int grow(void **items, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return VS_OK;
  size_t c = *cap ? 2 * *cap : 16;
  void *g = realloc(*items, c * size);
  if (!g) return VS_ENOMEM;
  *items = g;
  *cap = c;
  return VS_OK;
}

static void graph_clear(graph *g) {
  for (size_t i = 0; i < g->nn; ++i) free(g->n[i].inc);
  for (size_t i = 0; i < g->npool; ++i) free(g->pool[i]);
  free(g->n);
  free(g->b);
  free(g->s);
  free(g->pool);
  memset(g, 0, sizeof *g);
}

/* A name owned by the graph: "prefix" + "suffix". */
static const char *pool_name(graph *g, const char *prefix, const char *suffix) {
  if (grow((void **)&g->pool, &g->cappool, g->npool, sizeof *g->pool))
    return NULL;
  size_t len = strlen(prefix) + strlen(suffix) + 1;
  char *s = malloc(len);
  if (!s) return NULL;
  snprintf(s, len, "%s%s", prefix, suffix);
  g->pool[g->npool++] = s;
  return s;
}

static int new_node(graph *g, node_kind kind, const char *name, int rank) {
  if (!name || grow((void **)&g->n, &g->capn, g->nn, sizeof *g->n)) return -1;
  gnode *n = &g->n[g->nn];
  memset(n, 0, sizeof *n);
  n->parent = (int)g->nn;
  n->kind = kind;
  n->name = name;
  n->rank = rank;
  return (int)g->nn++;
}

static int find(graph *g, int i) {
  while (g->n[i].parent != i) {
    g->n[i].parent = g->n[g->n[i].parent].parent; /* path halving */
    i = g->n[i].parent;
  }
  return i;
}

/* Join two nodes (a short circuit): capacitors add, a prescribed pressure
 * wins, two prescribed pressures cannot be joined. */
static int unite(reader *r, graph *g, int a, int b) {
  int ra = find(g, a), rb = find(g, b);
  if (ra == rb) return VS_OK;
  gnode *x = &g->n[ra], *y = &g->n[rb];
  if (x->kind == NK_PRESSURE && y->kind == NK_PRESSURE)
    return fail(r, VS_ENETWORK, no_pos,
                "'%s' and '%s' both prescribe the pressure of one node "
                "(they are joined without resistance or inductance)",
                x->name, y->name);
  if (y->kind == NK_PRESSURE) {
    x->kind = NK_PRESSURE;
    x->pressure = y->pressure;
    x->p_mean = y->p_mean;
  } else if (x->kind != NK_PRESSURE && y->kind == NK_COMP) {
    x->kind = NK_COMP;
    x->c += y->c;
  }
  if (y->rank > x->rank) {
    x->name = y->name;
    x->rank = y->rank;
  }
  y->parent = ra;
  return VS_OK;
}

/* R, L and S in series between nodes a and b; nothing at all is a short. */
static int add_series(reader *r, graph *g, int a, int b, double res,
                      double ind, double sten) {
  if (res == 0 && ind == 0 && sten == 0) return unite(r, g, a, b);
  if (grow((void **)&g->b, &g->capb, g->nb, sizeof *g->b)) return fail_oom(r);
  g->b[g->nb++] = (gbranch){a, b, res, ind, sten, 0};
  return VS_OK;
}

static int add_source(reader *r, graph *g, const sz_bc *bc, int node,
                      double sign) {
  if (grow((void **)&g->s, &g->caps, g->ns, sizeof *g->s)) return fail_oom(r);
  g->s[g->ns++] = (gsource){&bc->wave, sign, sign * bc->mean, bc->name, node};
  return VS_OK;
}

static int add_inc(gnode *n, int b) {
  if (grow((void **)&n->inc, &n->cap_inc, n->n_inc, sizeof *n->inc))
    return VS_ENOMEM;
  n->inc[n->n_inc++] = b;
  return VS_OK;
}

/* Drop dead branches and self-loops from a node's incidence list. A loop
 * through massless nodes only carries a circulating flow that starts at
 * zero and has no source: it stays zero. */
static void prune_inc(graph *g, int i) {
  gnode *n = &g->n[i];
  size_t k = 0;
  for (size_t j = 0; j < n->n_inc; ++j) {
    gbranch *b = &g->b[n->inc[j]];
    if (!b->dead && b->a == b->b) b->dead = 1;
    if (!b->dead) n->inc[k++] = n->inc[j];
  }
  n->n_inc = k;
}

static int node_sources(const graph *g, int i) {
  int count = 0;
  for (size_t k = 0; k < g->ns; ++k) count += g->s[k].node == i;
  return count;
}

/* ---- the importer's state --------------------------------------------------- */

typedef struct {
  reader r;
  vs_svzerod_options opt;
  double p_scale; /* model pressure unit -> mmHg (x) */
  double c_scale; /* model compliance unit -> mL/mmHg (x) */
  sz_vessel *v;
  size_t nv;
  sz_bc *bc;
  size_t nbc;
  graph g;
  double period;
  long cycles, pts;
  int steady_initial;
  double flow_scale; /* typical flow, model units */
  vs_text_buf notes;
} importer;

static void importer_clear(importer *im) {
  for (size_t i = 0; i < im->nv; ++i) free(im->v[i].name);
  for (size_t i = 0; i < im->nbc; ++i) {
    free(im->bc[i].name);
    vs_waveform_clear(&im->bc[i].wave);
  }
  free(im->v);
  free(im->bc);
  graph_clear(&im->g);
  free(im->notes.s);
}

/* ---- pass 2: blocks -------------------------------------------------------- */

/* A value of bc_values given as a number, or as a list with the BC's time
 * table "t": a periodic waveform (scaled by `scale`) and its steady value,
 * svZeroDSolver's mean of the samples. */
static int read_wave(importer *im, struct fy_node *values, const char *key,
                     const char *bc_name, pos_t at, double scale,
                     vs_waveform *w, double *mean, double *period) {
  reader *r = &im->r;
  char what[192];
  double *v = NULL, *t = NULL;
  size_t nv = 0, nt = 0;
  snprintf(what, sizeof what, "boundary condition '%s': %s", bc_name, key);
  struct fy_node *vn = get(values, key);
  if (!vn)
    return fail(r, VS_ESCHEMA, at, "boundary condition '%s': missing '%s'",
                bc_name, key);
  int rc = read_numbers(r, vn, at, what, &v, &nv);
  if (rc) return rc;
  struct fy_node *tn = get(values, "t");
  if (nv > 1 || (tn && is_seq(tn) && fy_node_sequence_item_count(tn) > 1)) {
    snprintf(what, sizeof what, "boundary condition '%s': t", bc_name);
    if (!tn) {
      rc = fail(r, VS_ESCHEMA, vs_yaml_node_pos(vn, at),
                "boundary condition '%s': '%s' is a list but 't' is missing",
                bc_name, key);
      goto done;
    }
    if ((rc = read_numbers(r, tn, at, what, &t, &nt))) goto done;
    if (nt != nv) {
      rc = fail(r, VS_ESCHEMA, vs_yaml_node_pos(vn, at),
                "boundary condition '%s': '%s' has %zu values but 't' has %zu",
                bc_name, key, nv, nt);
      goto done;
    }
  }
  double sum = 0;
  for (size_t i = 0; i < nv; ++i) sum += v[i];
  *mean = sum / (double)nv * scale;
  if (t) {
    /* A table sets the cardiac period, constant or not (svZeroDSolver). */
    pos_t tp = vs_yaml_node_pos(tn, at);
    if (t[0] != 0.0) {
      rc = fail(r, VS_ESCHEMA, tp,
                "boundary condition '%s': t must start at 0 (svZeroDSolver "
                "repeats tables from t = 0)", bc_name);
      goto done;
    }
    for (size_t i = 1; i < nt; ++i)
      if (!(t[i] > t[i - 1])) {
        rc = fail(r, VS_ESCHEMA, tp,
                  "boundary condition '%s': t[%zu] is not after t[%zu]",
                  bc_name, i, i - 1);
        goto done;
      }
    double p = t[nt - 1];
    if (*period > 0 && fabs(p - *period) > 1e-12 * *period) {
      rc = fail(r, VS_ESCHEMA, tp,
                "boundary condition '%s': period %g s differs from another "
                "table's %g s", bc_name, p, *period);
      goto done;
    }
    *period = p;
  }
  int varies = 0;
  for (size_t i = 1; i < nv; ++i) varies |= v[i] != v[0];
  *w = vs_waveform_constant(v[0] * scale);
  if (varies) {
    for (size_t i = 0; i < nv; ++i) v[i] *= scale;
    if (vs_waveform_set_table(w, nv, t, v, 1)) rc = fail_oom(r);
  }
done:
  free(v);
  free(t);
  return rc;
}

static const char *const bc_types_supported =
    "FLOW, PRESSURE, RESISTANCE, RCR";

static int read_bc(importer *im, struct fy_node *n, size_t index, sz_bc *bc) {
  reader *r = &im->r;
  char what[64];
  pos_t at = vs_yaml_node_pos(n, no_pos);
  snprintf(what, sizeof what, "boundary_conditions[%zu]", index);
  if (!is_map(n))
    return fail(r, VS_ESCHEMA, at, "%s: expected a mapping", what);
  bc->pos = at;
  int rc = read_string(r, get(n, "bc_name"), at, "bc_name", &bc->name);
  if (rc) return rc;
  char *type = NULL;
  struct fy_node *tn = get(n, "bc_type");
  if ((rc = read_string(r, tn, at, "bc_type", &type))) return rc;
  struct fy_node *values = get(n, "bc_values");
  pos_t tp = vs_yaml_node_pos(tn, at);
  if (strcmp(type, "FLOW") == 0) bc->kind = BC_FLOW;
  else if (strcmp(type, "PRESSURE") == 0) bc->kind = BC_PRESSURE;
  else if (strcmp(type, "RESISTANCE") == 0) bc->kind = BC_RESISTANCE;
  else if (strcmp(type, "RCR") == 0) bc->kind = BC_RCR;
  else {
    rc = fail(r, VS_ESCHEMA, tp,
              "boundary condition '%s': bc_type '%s' is not supported "
              "(supported: %s)", bc->name, type, bc_types_supported);
    free(type);
    return rc;
  }
  free(type);
  if (!is_map(values))
    return fail(r, VS_ESCHEMA, key_pos(n, "bc_values", at),
                "boundary condition '%s': bc_values must be a mapping",
                bc->name);
  pos_t vp = vs_yaml_node_pos(values, at);
  char block[160];
  snprintf(block, sizeof block, "boundary condition '%s'", bc->name);
  if (get(values, "fn"))
    return fail(r, VS_ESCHEMA, key_pos(values, "fn", vp),
                "boundary condition '%s': expressions (\"fn\") are not "
                "supported; give the values as a table (t and %s)",
                bc->name, bc->kind == BC_FLOW ? "Q" : "P");
  double ps = im->p_scale, cs = im->c_scale;
  switch (bc->kind) {
  case BC_FLOW: {
    static const char *const keys[] = {"Q", "t", NULL};
    if ((rc = check_keys(r, values, keys, block))) return rc;
    return read_wave(im, values, "Q", bc->name, vp, 1.0, &bc->wave, &bc->mean,
                     &im->period);
  }
  case BC_PRESSURE: {
    static const char *const keys[] = {"P", "t", NULL};
    if ((rc = check_keys(r, values, keys, block))) return rc;
    return read_wave(im, values, "P", bc->name, vp, ps, &bc->wave, &bc->mean,
                     &im->period);
  }
  case BC_RESISTANCE: {
    static const char *const keys[] = {"R", "Pd", "t", NULL};
    if ((rc = check_keys(r, values, keys, block))) return rc;
    if (!get(values, "R"))
      return fail(r, VS_ESCHEMA, vp, "%s: missing 'R'", block);
    if ((rc = read_nonneg(r, get(values, "R"), vp, block, &bc->r))) return rc;
    bc->r *= ps;
    return read_wave(im, values, "Pd", bc->name, vp, ps, &bc->wave, &bc->mean,
                     &im->period);
  }
  case BC_RCR: {
    static const char *const keys[] = {"Rp", "C", "Rd", "Pd", "t", NULL};
    if ((rc = check_keys(r, values, keys, block))) return rc;
    const char *names[] = {"Rp", "C", "Rd"};
    double *dst[] = {&bc->rp, &bc->c, &bc->rd};
    for (int i = 0; i < 3; ++i) {
      char w[192];
      snprintf(w, sizeof w, "%s: %s", block, names[i]);
      struct fy_node *x = get(values, names[i]);
      if (!x)
        return fail(r, VS_ESCHEMA, vp, "%s: missing '%s'", block, names[i]);
      if ((rc = read_nonneg(r, x, vp, w, dst[i]))) return rc;
    }
    bc->rp *= ps;
    bc->rd *= ps;
    bc->c *= cs;
    if (bc->rd == 0 && bc->c > 0)
      return fail(r, VS_ESCHEMA, key_pos(values, "Rd", vp),
                  "%s: Rd must be > 0 when C > 0", block);
    return read_wave(im, values, "Pd", bc->name, vp, ps, &bc->wave, &bc->mean,
                     &im->period);
  }
  }
  return VS_OK;
}

static int find_bc(const importer *im, const char *name) {
  for (size_t i = 0; i < im->nbc; ++i)
    if (strcmp(im->bc[i].name, name) == 0) return (int)i;
  return -1;
}

/* Vessel ids -> index, sorted for bisection (models can be large). */
typedef struct {
  long id;
  size_t index;
} id_entry;

static int cmp_id(const void *a, const void *b) {
  long x = ((const id_entry *)a)->id, y = ((const id_entry *)b)->id;
  return (x > y) - (x < y);
}

static int find_vessel(const id_entry *ids, size_t n, long id) {
  id_entry key = {id, 0};
  const id_entry *e = bsearch(&key, ids, n, sizeof *ids, cmp_id);
  return e ? (int)e->index : -1;
}

static int read_vessel(importer *im, struct fy_node *n, size_t index,
                       sz_vessel *v) {
  reader *r = &im->r;
  char what[160];
  pos_t at = vs_yaml_node_pos(n, no_pos);
  snprintf(what, sizeof what, "vessels[%zu]", index);
  if (!is_map(n)) return fail(r, VS_ESCHEMA, at, "%s: expected a mapping", what);
  v->pos = at;
  v->bc_in = v->bc_out = -1;
  int rc = read_string(r, get(n, "vessel_name"), at, "vessel_name", &v->name);
  if (!rc) rc = read_long(r, get(n, "vessel_id"), at, "vessel_id", &v->id);
  if (rc) return rc;
  char *type = NULL;
  struct fy_node *tn = get(n, "zero_d_element_type");
  if ((rc = read_string(r, tn, at, "zero_d_element_type", &type))) return rc;
  if (strcmp(type, "BloodVessel") != 0) {
    rc = fail(r, VS_ESCHEMA, vs_yaml_node_pos(tn, at),
              "vessel '%s': zero_d_element_type '%s' is not supported "
              "(supported: BloodVessel)", v->name, type);
    free(type);
    return rc;
  }
  free(type);
  struct fy_node *values = get(n, "zero_d_element_values");
  if (!is_map(values))
    return fail(r, VS_ESCHEMA, key_pos(n, "zero_d_element_values", at),
                "vessel '%s': zero_d_element_values must be a mapping",
                v->name);
  snprintf(what, sizeof what, "BloodVessel '%s'", v->name);
  static const char *const keys[] = {"R_poiseuille", "C", "L",
                                     "stenosis_coefficient", NULL};
  if ((rc = check_keys(r, values, keys, what))) return rc;
  double *dst[] = {&v->r, &v->c, &v->l, &v->s};
  for (int i = 0; i < 4; ++i) {
    char w[192];
    struct fy_node *x = get(values, keys[i]);
    snprintf(w, sizeof w, "%s: %s", what, keys[i]);
    *dst[i] = 0.0; /* svZeroDSolver: every BloodVessel value defaults to 0 */
    if (x && (rc = read_nonneg(r, x, at, w, dst[i]))) return rc;
  }
  v->r *= im->p_scale;
  v->l *= im->p_scale;
  v->s *= im->p_scale;
  v->c *= im->c_scale;
  struct fy_node *bcs = get(n, "boundary_conditions");
  if (bcs) {
    if (!is_map(bcs))
      return fail(r, VS_ESCHEMA, vs_yaml_node_pos(bcs, at),
                  "vessel '%s': boundary_conditions must be a mapping", v->name);
    static const char *const ends[] = {"inlet", "outlet", NULL};
    snprintf(what, sizeof what, "the boundary_conditions of vessel '%s'",
             v->name);
    if ((rc = check_keys(r, bcs, ends, what))) return rc;
    for (int e = 0; e < 2; ++e) {
      struct fy_node *x = get(bcs, ends[e]);
      if (!x) continue;
      char *name = NULL;
      if ((rc = read_string(r, x, at, ends[e], &name))) return rc;
      int b = find_bc(im, name);
      if (b < 0)
        rc = fail(r, VS_ENETWORK, vs_yaml_node_pos(x, at),
                  "vessel '%s': unknown boundary condition '%s' at its %s",
                  v->name, name, ends[e]);
      free(name);
      if (rc) return rc;
      if (im->bc[b].uses++)
        return fail(r, VS_ENETWORK, vs_yaml_node_pos(x, at),
                    "boundary condition '%s' is attached to more than one "
                    "vessel end", im->bc[b].name);
      *(e == 0 ? &v->bc_in : &v->bc_out) = b;
    }
  }
  return VS_OK;
}

/* ---- pass 3: the graph ------------------------------------------------------ */

static int build_vessel(importer *im, sz_vessel *v) {
  reader *r = &im->r;
  graph *g = &im->g;
  v->node_in = new_node(g, NK_MASSLESS, pool_name(g, v->name, ":inlet"), RANK_END);
  v->node_out =
      new_node(g, NK_MASSLESS, pool_name(g, v->name, ":outlet"), RANK_END);
  if (v->node_in < 0 || v->node_out < 0) return fail_oom(r);
  if (v->c > 0) {
    /* The capacitor sits between the resistor (and stenosis) and the
     * inductor (BloodVessel.h). */
    int cap = new_node(g, NK_COMP, v->name, RANK_CAP);
    if (cap < 0) return fail_oom(r);
    g->n[cap].c = v->c;
    int rc = add_series(r, g, v->node_in, cap, v->r, 0.0, v->s);
    if (!rc) rc = add_series(r, g, cap, v->node_out, 0.0, v->l, 0.0);
    return rc;
  }
  return add_series(r, g, v->node_in, v->node_out, v->r, v->l, v->s);
}

/* The list `key` of a junction: vessel ids (junction_values lists use
 * read_numbers). */
static int read_ids(importer *im, struct fy_node *j, const char *jname,
                    const char *key, const id_entry *ids, int **out,
                    size_t *n_out) {
  reader *r = &im->r;
  pos_t at = vs_yaml_node_pos(j, no_pos);
  struct fy_node *list = get(j, key);
  *out = NULL;
  *n_out = 0;
  if (!is_seq(list) || fy_node_sequence_item_count(list) <= 0)
    return fail(r, VS_ESCHEMA, list ? vs_yaml_node_pos(list, at) : at,
                "junction '%s': '%s' must be a non-empty list of vessel ids",
                jname, key);
  int count = fy_node_sequence_item_count(list);
  *out = calloc((size_t)count, sizeof **out);
  if (!*out) return fail_oom(r);
  void *it = NULL;
  struct fy_node *item;
  while ((item = fy_node_sequence_iterate(list, &it))) {
    long id;
    char what[160];
    snprintf(what, sizeof what, "junction '%s': %s[%zu]", jname, key, *n_out);
    int rc = read_long(r, item, at, what, &id);
    int vi = rc ? -1 : find_vessel(ids, im->nv, id);
    if (!rc && vi < 0)
      rc = fail(r, VS_ENETWORK, vs_yaml_node_pos(item, at),
                "junction '%s': no vessel with vessel_id %ld", jname, id);
    if (rc) {
      free(*out);
      *out = NULL;
      return rc;
    }
    (*out)[(*n_out)++] = vi;
  }
  return VS_OK;
}

/* Mark a vessel end as joined; each end has one junction or one BC. */
static int join_end(importer *im, struct fy_node *j, const char *jname,
                    sz_vessel *v, int outlet) {
  int *joined = outlet ? &v->joined_out : &v->joined_in;
  int bc = outlet ? v->bc_out : v->bc_in;
  if (*joined || bc >= 0)
    return fail(&im->r, VS_ENETWORK, vs_yaml_node_pos(j, no_pos),
                "junction '%s': the %s of vessel '%s' is already connected "
                "(to %s)", jname, outlet ? "outlet" : "inlet", v->name,
                bc >= 0 ? im->bc[bc].name : "another junction");
  *joined = 1;
  return VS_OK;
}

/* A junction_values list of one value per element. */
static int junction_list(importer *im, struct fy_node *values, pos_t at,
                         const char *jname, const char *key, size_t count,
                         int required, double scale, double **out) {
  reader *r = &im->r;
  char what[192];
  size_t n = 0;
  *out = NULL;
  struct fy_node *x = get(values, key);
  if (!x) {
    if (required)
      return fail(r, VS_ESCHEMA, at, "junction '%s': missing '%s'", jname, key);
    *out = calloc(count ? count : 1, sizeof **out);
    return *out ? VS_OK : fail_oom(r);
  }
  snprintf(what, sizeof what, "junction '%s': %s", jname, key);
  int rc = read_numbers(r, x, at, what, out, &n);
  if (rc) return rc;
  if (n != count) {
    free(*out);
    *out = NULL;
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(x, at),
                "junction '%s': '%s' has %zu values, expected %zu", jname, key,
                n, count);
  }
  for (size_t i = 0; i < n; ++i) {
    if ((*out)[i] < 0) {
      free(*out);
      *out = NULL;
      return fail(r, VS_ESCHEMA, vs_yaml_node_pos(x, at),
                  "junction '%s': %s[%zu] must be >= 0", jname, key, i);
    }
    (*out)[i] *= scale;
  }
  return VS_OK;
}

static int build_junction(importer *im, struct fy_node *j, size_t index,
                          const id_entry *ids) {
  reader *r = &im->r;
  graph *g = &im->g;
  pos_t at = vs_yaml_node_pos(j, no_pos);
  char *jname = NULL, *type = NULL, block[192];
  int *in = NULL, *out = NULL;
  size_t nin = 0, nout = 0;
  double *rs = NULL, *ls = NULL, *ss = NULL, *cs = NULL;
  int rc;
  if (!is_map(j))
    return fail(r, VS_ESCHEMA, at, "junctions[%zu]: expected a mapping", index);
  if ((rc = read_string(r, get(j, "junction_name"), at, "junction_name",
                        &jname)))
    return rc;
  /* The name outlives the parse (node names): the graph owns it. */
  if (grow((void **)&g->pool, &g->cappool, g->npool, sizeof *g->pool)) {
    free(jname);
    return fail_oom(r);
  }
  g->pool[g->npool++] = jname;
  struct fy_node *tn = get(j, "junction_type");
  if ((rc = read_string(r, tn, at, "junction_type", &type))) goto done;
  if (strcmp(type, "NORMAL_JUNCTION") && strcmp(type, "internal_junction") &&
      strcmp(type, "resistive_junction") &&
      strcmp(type, "BloodVesselJunction")) {
    rc = fail(r, VS_ESCHEMA, vs_yaml_node_pos(tn, at),
              "junction '%s': junction_type '%s' is not supported (supported: "
              "NORMAL_JUNCTION, internal_junction, BloodVesselJunction, "
              "resistive_junction)", jname, type);
    goto done;
  }
  if (get(j, "inlet_blocks") || get(j, "outlet_blocks")) {
    rc = fail(r, VS_ESCHEMA, key_pos(j, get(j, "inlet_blocks") ? "inlet_blocks"
                                                               : "outlet_blocks", at),
              "junction '%s': inlet_blocks/outlet_blocks are not supported "
              "(use inlet_vessels and outlet_vessels)", jname);
    goto done;
  }
  if ((rc = read_ids(im, j, jname, "inlet_vessels", ids, &in, &nin))) goto done;
  if ((rc = read_ids(im, j, jname, "outlet_vessels", ids, &out, &nout)))
    goto done;
  for (size_t i = 0; !rc && i < nin; ++i)
    rc = join_end(im, j, jname, &im->v[in[i]], 1);
  for (size_t i = 0; !rc && i < nout; ++i)
    rc = join_end(im, j, jname, &im->v[out[i]], 0);
  if (rc) goto done;
  struct fy_node *values = get(j, "junction_values");
  pos_t vp = values ? vs_yaml_node_pos(values, at) : at;
  snprintf(block, sizeof block, "junction '%s'", jname);
  int centre = new_node(g, NK_MASSLESS, jname, RANK_JUNCTION);
  if (centre < 0) {
    rc = fail_oom(r);
    goto done;
  }
  if (strcmp(type, "NORMAL_JUNCTION") == 0 ||
      strcmp(type, "internal_junction") == 0) {
    /* One node: equal pressures, flows conserved. */
    if (values && is_map(values) && fy_node_mapping_item_count(values) > 0) {
      static const char *const none[] = {NULL};
      if ((rc = check_keys(r, values, none, block))) goto done;
    }
    for (size_t i = 0; !rc && i < nin; ++i)
      rc = unite(r, g, centre, im->v[in[i]].node_out);
    for (size_t i = 0; !rc && i < nout; ++i)
      rc = unite(r, g, centre, im->v[out[i]].node_in);
  } else if (strcmp(type, "resistive_junction") == 0) {
    static const char *const keys[] = {"R", NULL};
    if (!is_map(values)) {
      rc = fail(r, VS_ESCHEMA, at, "%s: junction_values with R is required",
                block);
      goto done;
    }
    if ((rc = check_keys(r, values, keys, block))) goto done;
    if ((rc = junction_list(im, values, vp, jname, "R", nin + nout, 1,
                            im->p_scale, &rs)))
      goto done;
    for (size_t i = 0; !rc && i < nin; ++i)
      rc = add_series(r, g, im->v[in[i]].node_out, centre, rs[i], 0, 0);
    for (size_t i = 0; !rc && i < nout; ++i)
      rc = add_series(r, g, centre, im->v[out[i]].node_in, rs[nin + i], 0, 0);
  } else { /* BloodVesselJunction */
    static const char *const keys[] = {"R_poiseuille", "C", "L",
                                       "stenosis_coefficient", NULL};
    if (nin != 1) {
      rc = fail(r, VS_ESCHEMA, key_pos(j, "inlet_vessels", at),
                "%s: a BloodVesselJunction has one inlet vessel, got %zu",
                block, nin);
      goto done;
    }
    if (!is_map(values)) {
      rc = fail(r, VS_ESCHEMA, at, "%s: junction_values is required", block);
      goto done;
    }
    if ((rc = check_keys(r, values, keys, block))) goto done;
    if ((rc = junction_list(im, values, vp, jname, "R_poiseuille", nout, 1,
                            im->p_scale, &rs)) ||
        (rc = junction_list(im, values, vp, jname, "L", nout, 0, im->p_scale,
                            &ls)) ||
        (rc = junction_list(im, values, vp, jname, "stenosis_coefficient",
                            nout, 0, im->p_scale, &ss)) ||
        (rc = junction_list(im, values, vp, jname, "C", nout, 0, 1.0, &cs)))
      goto done;
    for (size_t i = 0; i < nout; ++i)
      if (cs[i] != 0) {
        /* BloodVesselJunction has no capacitor: refuse rather than drop. */
        rc = fail(r, VS_ESCHEMA, key_pos(values, "C", vp),
                  "%s: C must be 0 (a BloodVesselJunction has no "
                  "capacitance)", block);
        goto done;
      }
    rc = unite(r, g, centre, im->v[in[0]].node_out);
    for (size_t i = 0; !rc && i < nout; ++i)
      rc = add_series(r, g, centre, im->v[out[i]].node_in, rs[i], ls[i], ss[i]);
  }
done:
  free(type);
  free(in);
  free(out);
  free(rs);
  free(ls);
  free(ss);
  free(cs);
  return rc;
}

/* A boundary condition at the end of a vessel. */
static int build_bc(importer *im, sz_bc *bc, int node, int outlet) {
  reader *r = &im->r;
  graph *g = &im->g;
  switch (bc->kind) {
  case BC_FLOW:
    /* svZeroDSolver's node flow: into the inlet, out of the outlet. */
    return add_source(r, g, bc, node, outlet ? -1.0 : 1.0);
  case BC_PRESSURE: {
    int p = new_node(g, NK_PRESSURE, bc->name, RANK_PRESSURE);
    if (p < 0) return fail_oom(r);
    g->n[p].pressure = &bc->wave;
    g->n[p].p_mean = bc->mean;
    return unite(r, g, p, node);
  }
  case BC_RESISTANCE:
  case BC_RCR: {
    int pd = new_node(g, NK_PRESSURE, pool_name(g, bc->name, ":Pd"),
                      RANK_PRESSURE);
    if (pd < 0) return fail_oom(r);
    g->n[pd].pressure = &bc->wave;
    g->n[pd].p_mean = bc->mean;
    if (bc->kind == BC_RESISTANCE) return add_series(r, g, node, pd, bc->r, 0, 0);
    if (bc->c == 0) return add_series(r, g, node, pd, bc->rp + bc->rd, 0, 0);
    int cap = new_node(g, NK_COMP, bc->name, RANK_CAP);
    if (cap < 0) return fail_oom(r);
    g->n[cap].c = bc->c;
    int rc = add_series(r, g, node, cap, bc->rp, 0, 0);
    if (!rc) rc = add_series(r, g, cap, pd, bc->rd, 0, 0);
    return rc;
  }
  }
  return VS_OK;
}

/* Re-index the graph on the union-find roots and build incidence lists. */
static int compact(importer *im) {
  graph *g = &im->g;
  size_t n = g->nn;
  int *map = malloc((n + 1) * sizeof *map);
  int *to = malloc((n + 1) * sizeof *to);
  if (!map || !to) {
    free(map);
    free(to);
    return fail_oom(&im->r);
  }
  size_t k = 0;
  for (size_t i = 0; i < n; ++i)
    map[i] = find(g, (int)i) == (int)i ? (int)k++ : -1;
  /* Every node's new index (its root's), before the nodes move. */
  for (size_t i = 0; i < n; ++i) to[i] = map[find(g, (int)i)];
  for (size_t i = 0; i < n; ++i)
    if (map[i] >= 0) g->n[map[i]] = g->n[i]; /* map[i] <= i: no overlap */
  for (size_t b = 0; b < g->nb; ++b) {
    g->b[b].a = to[g->b[b].a];
    g->b[b].b = to[g->b[b].b];
  }
  for (size_t s = 0; s < g->ns; ++s) g->s[s].node = to[g->s[s].node];
  free(map);
  free(to);
  g->nn = k;
  for (size_t i = 0; i < k; ++i) g->n[i].parent = (int)i;
  for (size_t b = 0; b < g->nb; ++b) {
    gbranch *br = &g->b[b];
    if (br->a == br->b) {
      br->dead = 1;
      continue;
    }
    if (add_inc(&g->n[br->a], (int)b) || add_inc(&g->n[br->b], (int)b))
      return fail_oom(&im->r);
  }
  return VS_OK;
}

/* Eliminate massless nodes exactly (svzerod.h): dead ends, flow sources
 * carried through a single branch, two branches in series summed (R, L and
 * S are odd in the flow, so the orientation of either does not matter). */
static int reduce(importer *im) {
  graph *g = &im->g;
  int *stack = malloc((g->nn + 1) * sizeof *stack);
  if (!stack) return fail_oom(&im->r);
  size_t top = 0;
  for (size_t i = 0; i < g->nn; ++i)
    if (g->n[i].kind == NK_MASSLESS) stack[top++] = (int)i;
  int rc = VS_OK;
  while (top > 0 && !rc) {
    int i = stack[--top];
    gnode *n = &g->n[i];
    if (n->dead || n->kind != NK_MASSLESS) continue;
    prune_inc(g, i);
    int nsrc = node_sources(g, i);
    if (n->n_inc == 0) {
      if (nsrc) {
        for (size_t s = 0; s < g->ns; ++s)
          if (g->s[s].node == i) {
            rc = fail(&im->r, VS_ENETWORK, no_pos,
                      "flow boundary condition '%s' leads nowhere (no "
                      "capacitance or pressure boundary downstream)",
                      g->s[s].name);
            break;
          }
      }
      n->dead = 1;
      continue;
    }
    if (n->n_inc == 1) {
      gbranch *b = &g->b[n->inc[0]];
      int other = b->a == i ? b->b : b->a;
      for (size_t s = 0; s < g->ns; ++s)
        if (g->s[s].node == i) g->s[s].node = other;
      b->dead = 1;
      n->dead = 1;
      if (g->n[other].kind == NK_MASSLESS && !g->n[other].dead)
        stack[top++] = other;
      continue;
    }
    if (n->n_inc == 2 && nsrc == 0) {
      int b1 = n->inc[0], b2 = n->inc[1];
      gbranch *p = &g->b[b1], *q = &g->b[b2];
      int x = p->a == i ? p->b : p->a; /* p's far end */
      int y = q->a == i ? q->b : q->a; /* q's far end */
      /* Keep the direction of flow of the originals where they agree, so
       * that links read upstream -> downstream. */
      if (p->b == i || q->a == i) {
        p->a = x;
        p->b = y;
      } else {
        p->a = y;
        p->b = x;
      }
      p->r += q->r;
      p->l += q->l;
      p->s += q->s;
      q->dead = 1;
      n->dead = 1;
      /* y now meets b1 where it met b2 */
      gnode *ny = &g->n[y];
      for (size_t k = 0; k < ny->n_inc; ++k)
        if (ny->inc[k] == b2) ny->inc[k] = b1;
      if (x == y) {
        p->dead = 1; /* a loop: see prune_inc */
        if (g->n[x].kind == NK_MASSLESS && !g->n[x].dead) stack[top++] = x;
      }
      continue;
    }
    /* Three or more branches (or two and a source): left for
     * give_junction_compliance. */
  }
  free(stack);
  return rc;
}

/* The approximation of svzerod.h: each remaining massless node becomes a
 * compartment of compliance C_J = tau_J G_J, G_J the conductance of its
 * resistive branches, so that it relaxes to the balance of flows with the
 * time constant tau_J. (An inductive branch does not damp the node: with
 * C_J this small the node and an inductor are an overdamped pair whenever
 * tau_J < L G_J / 4; with no resistance at all the LC period is tau_J.) */
static void give_junction_compliance(importer *im) {
  graph *g = &im->g;
  double tau = im->opt.junction_tau_fraction * im->period;
  for (size_t i = 0; i < g->nn; ++i) {
    gnode *n = &g->n[i];
    if (n->dead || n->kind != NK_MASSLESS) continue;
    prune_inc(g, (int)i);
    double g_res = 0, inv_l = 0;
    for (size_t k = 0; k < n->n_inc; ++k) {
      const gbranch *b = &g->b[n->inc[k]];
      if (b->r + b->s > 0) g_res += 1.0 / (b->r + b->s * im->flow_scale);
      if (b->l > 0) inv_l += 1.0 / b->l;
    }
    n->kind = NK_COMP;
    n->c = g_res > 0 ? tau * g_res : tau * tau * inv_l;
    n->junction = 1;
    vs_text_printf(&im->notes,
              "junction node '%s' (%zu branches) is a compartment of "
              "compliance %.6g mL/mmHg (time constant %.3g s): svZeroDSolver's "
              "massless node, approximated\n",
              n->name, n->n_inc, n->c, tau);
  }
}

/* ---- pass 4: steady state of the mean boundary values ---------------------- */

/* Flow of dp = R Q + S |Q| Q, accurate for small dp (as system.c does). */
static double resistive_flow(double dp, double r, double s) {
  return 2.0 * dp / (r + sqrt(r * r + 4.0 * s * fabs(dp)));
}

typedef struct {
  size_t m;        /* unknowns */
  int *unknown;    /* node -> unknown index, or -1 (fixed) */
  int *group;      /* node -> short-circuit group root */
  double *p;       /* node pressures (fixed ones set) */
  size_t *colptr, *rowidx, *slot; /* CSC pattern; slot per (branch, entry) */
  size_t nnz;
} steady_problem;

static int group_find(int *grp, int i) {
  while (grp[i] != i) i = grp[i] = grp[grp[i]];
  return i;
}

typedef struct {
  size_t row, col, id;
} coo;

static int cmp_coo(const void *pa, const void *pb) {
  const coo *a = pa, *b = pb;
  if (a->col != b->col) return a->col < b->col ? -1 : 1;
  if (a->row != b->row) return a->row < b->row ? -1 : 1;
  return (a->id > b->id) - (a->id < b->id);
}

/* Residual F (net mean inflow of each unknown) and, if vals, the Jacobian
 * dF/dp in the pattern's slots. */
static void steady_eval(const importer *im, const steady_problem *sp,
                        const double *x, double *f, double *vals) {
  const graph *g = &im->g;
  double qfloor = 1e-9 * im->flow_scale;
  memset(f, 0, sp->m * sizeof *f);
  if (vals) memset(vals, 0, sp->nnz * sizeof *vals);
  for (size_t s = 0; s < g->ns; ++s) {
    int u = sp->unknown[g->s[s].node];
    if (u >= 0) f[u] += g->s[s].mean;
  }
  size_t e = 0;
  for (size_t k = 0; k < g->nb; ++k) {
    const gbranch *b = &g->b[k];
    if (b->dead) continue;
    int ua = sp->unknown[b->a], ub = sp->unknown[b->b];
    double pa = ua >= 0 ? x[ua] : sp->p[b->a];
    double pb = ub >= 0 ? x[ub] : sp->p[b->b];
    if (b->r == 0 && b->s == 0) continue; /* a short: one group */
    double q = resistive_flow(pa - pb, b->r, b->s);
    double gq = 1.0 / (b->r + 2.0 * b->s * fmax(fabs(q), qfloor));
    if (ua >= 0) f[ua] -= q;
    if (ub >= 0) f[ub] += q;
    if (vals) {
      /* the four entries in the order the pattern recorded them */
      if (ua >= 0) vals[sp->slot[e++]] -= gq;
      if (ua >= 0 && ub >= 0) vals[sp->slot[e++]] += gq;
      if (ub >= 0 && ua >= 0) vals[sp->slot[e++]] += gq;
      if (ub >= 0) vals[sp->slot[e++]] -= gq;
    }
  }
}

static void steady_clear(steady_problem *sp) {
  free(sp->unknown);
  free(sp->group);
  free(sp->p);
  free(sp->colptr);
  free(sp->rowidx);
  free(sp->slot);
  memset(sp, 0, sizeof *sp);
}

/* Set up unknowns (one per short-circuit group of compartments), check that
 * every group reaches a prescribed pressure, build the Jacobian pattern.
 * Returns 1 if there is a well-posed steady problem, 0 if not (with a note),
 * negative on out of memory. */
static int steady_setup(importer *im, steady_problem *sp) {
  graph *g = &im->g;
  size_t n = g->nn;
  memset(sp, 0, sizeof *sp);
  sp->unknown = malloc((n + 1) * sizeof *sp->unknown);
  sp->group = malloc((n + 1) * sizeof *sp->group);
  sp->p = calloc(n + 1, sizeof *sp->p);
  if (!sp->unknown || !sp->group || !sp->p) return VS_ENOMEM;
  for (size_t i = 0; i < n; ++i) sp->group[i] = (int)i;
  /* Inductors without resistance are shorts in a steady state. */
  for (size_t k = 0; k < g->nb; ++k) {
    const gbranch *b = &g->b[k];
    if (b->dead || b->r != 0 || b->s != 0) continue;
    int ra = group_find(sp->group, b->a), rb = group_find(sp->group, b->b);
    if (ra == rb) continue;
    if (g->n[rb].kind == NK_PRESSURE) sp->group[ra] = rb;
    else sp->group[rb] = ra;
    if (g->n[ra].kind == NK_PRESSURE && g->n[rb].kind == NK_PRESSURE &&
        g->n[ra].p_mean != g->n[rb].p_mean) {
      vs_text_printf(&im->notes, "steady initial state skipped: pressure "
                "boundaries '%s' and '%s' are joined by an inductor only\n",
                g->n[ra].name, g->n[rb].name);
      return 0;
    }
  }
  for (size_t i = 0; i < n; ++i) sp->unknown[i] = -1;
  for (size_t i = 0; i < n; ++i) {
    if (g->n[i].dead) continue;
    int root = group_find(sp->group, (int)i);
    if (g->n[root].kind == NK_PRESSURE) {
      sp->p[i] = g->n[root].p_mean;
    } else {
      if (sp->unknown[root] < 0) sp->unknown[root] = (int)sp->m++;
      sp->unknown[i] = sp->unknown[root];
    }
  }
  /* Every compartment must reach a prescribed pressure (breadth first
   * through any branch: inductors conduct in a steady state). */
  {
    char *seen = calloc(n + 1, 1);
    int *queue = malloc((n + 1) * sizeof *queue);
    size_t head = 0, tail = 0;
    if (!seen || !queue) {
      free(seen);
      free(queue);
      return VS_ENOMEM;
    }
    for (size_t i = 0; i < n; ++i)
      if (!g->n[i].dead && g->n[i].kind == NK_PRESSURE)
        seen[i] = 1, queue[tail++] = (int)i;
    while (head < tail) {
      const gnode *x = &g->n[queue[head++]];
      for (size_t k = 0; k < x->n_inc; ++k) {
        const gbranch *b = &g->b[x->inc[k]];
        if (b->dead) continue;
        int y = seen[b->a] ? b->b : b->a;
        if (!seen[y]) seen[y] = 1, queue[tail++] = y;
      }
    }
    int ok = 1;
    for (size_t i = 0; i < n; ++i)
      ok &= g->n[i].dead || g->n[i].kind != NK_COMP || seen[i];
    free(seen);
    free(queue);
    if (!ok) {
      vs_text_puts(&im->notes, "steady initial state skipped: part of the network "
              "has no pressure reference (flow boundaries only); it starts "
              "from zero pressure\n");
      return 0;
    }
  }
  /* Pattern: diagonal first, then four entries per resistive branch. */
  size_t cap = sp->m + 4 * g->nb + 1, ncall = 0;
  coo *e = malloc(cap * sizeof *e);
  size_t *branch_slot = malloc(cap * sizeof *branch_slot);
  if (!e || !branch_slot) {
    free(e);
    free(branch_slot);
    return VS_ENOMEM;
  }
  for (size_t u = 0; u < sp->m; ++u) e[ncall] = (coo){u, u, ncall}, ++ncall;
  size_t first_branch_call = ncall;
  for (size_t k = 0; k < g->nb; ++k) {
    const gbranch *b = &g->b[k];
    if (b->dead || (b->r == 0 && b->s == 0)) continue;
    int ua = sp->unknown[b->a], ub = sp->unknown[b->b];
    if (ua >= 0) e[ncall] = (coo){(size_t)ua, (size_t)ua, ncall}, ++ncall;
    if (ua >= 0 && ub >= 0) e[ncall] = (coo){(size_t)ua, (size_t)ub, ncall}, ++ncall;
    if (ub >= 0 && ua >= 0) e[ncall] = (coo){(size_t)ub, (size_t)ua, ncall}, ++ncall;
    if (ub >= 0) e[ncall] = (coo){(size_t)ub, (size_t)ub, ncall}, ++ncall;
  }
  qsort(e, ncall, sizeof *e, cmp_coo);
  sp->colptr = calloc(sp->m + 1, sizeof *sp->colptr);
  sp->rowidx = malloc((ncall + 1) * sizeof *sp->rowidx);
  sp->slot = malloc((ncall + 1) * sizeof *sp->slot);
  if (!sp->colptr || !sp->rowidx || !sp->slot) {
    free(e);
    free(branch_slot);
    return VS_ENOMEM;
  }
  size_t nnz = 0;
  for (size_t c = 0; c < ncall; ++c) {
    if (c == 0 || e[c].row != e[c - 1].row || e[c].col != e[c - 1].col) {
      sp->rowidx[nnz] = e[c].row;
      sp->colptr[e[c].col + 1]++;
      nnz++;
    }
    branch_slot[e[c].id] = nnz - 1;
  }
  for (size_t u = 0; u < sp->m; ++u) sp->colptr[u + 1] += sp->colptr[u];
  sp->nnz = nnz;
  /* steady_eval walks the branch entries only: their slots in call order */
  for (size_t c = first_branch_call; c < ncall; ++c)
    sp->slot[c - first_branch_call] = branch_slot[c];
  free(e);
  free(branch_slot);
  return 1;
}

static double norm_inf(const double *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; ++i) m = fmax(m, fabs(x[i]));
  return m;
}

/* Newton with a backtracking line search on |F|; the linear systems are the
 * network's conductance matrix, factored by KLU. Sets node p0 (mmHg) and
 * returns 1 if it converged, 0 if not (with a note), negative on error. */
static int steady_state(importer *im) {
  graph *g = &im->g;
  steady_problem sp;
  int ok = steady_setup(im, &sp);
  if (ok <= 0) {
    steady_clear(&sp);
    return ok;
  }
  size_t m = sp.m;
  int rc = 0;
  SUNContext ctx = NULL;
  SUNMatrix A = NULL;
  SUNLinearSolver LS = NULL;
  N_Vector xv = NULL, bv = NULL;
  double *x = calloc(m + 1, sizeof *x), *f = calloc(m + 1, sizeof *f);
  double *xt = calloc(m + 1, sizeof *xt), *ft = calloc(m + 1, sizeof *ft);
  double *vals = calloc(sp.nnz + 1, sizeof *vals);
  if (!x || !f || !xt || !ft || !vals) {
    rc = VS_ENOMEM;
    goto done;
  }
  if (m == 0) {
    rc = 1;
    goto apply;
  }
  if (SUNContext_Create(NULL, &ctx) ||
      !(A = SUNSparseMatrix((sunindextype)m, (sunindextype)m,
                            (sunindextype)sp.nnz, CSC_MAT, ctx)) ||
      !(xv = N_VNew_Serial((sunindextype)m, ctx)) ||
      !(bv = N_VNew_Serial((sunindextype)m, ctx)) ||
      !(LS = SUNLinSol_KLU(xv, A, ctx)) || SUNLinSolInitialize(LS)) {
    rc = VS_ENOMEM;
    goto done;
  }
  {
    sunindextype *cp = SUNSparseMatrix_IndexPointers(A);
    sunindextype *ri = SUNSparseMatrix_IndexValues(A);
    for (size_t j = 0; j <= m; ++j) cp[j] = (sunindextype)sp.colptr[j];
    for (size_t k = 0; k < sp.nnz; ++k) ri[k] = (sunindextype)sp.rowidx[k];
  }
  /* Start from the mean of the prescribed pressures. */
  double p_start = 0;
  size_t n_fixed = 0;
  for (size_t i = 0; i < g->nn; ++i)
    if (!g->n[i].dead && g->n[i].kind == NK_PRESSURE)
      p_start += g->n[i].p_mean, n_fixed++;
  if (n_fixed) p_start /= (double)n_fixed;
  for (size_t u = 0; u < m; ++u) x[u] = p_start;
  double p_scale = fabs(p_start) + 1.0;
  for (size_t i = 0; i < g->nn; ++i)
    if (!g->n[i].dead && g->n[i].kind == NK_PRESSURE)
      p_scale = fmax(p_scale, fabs(g->n[i].p_mean));
  rc = 0;
  for (int it = 0; it < NEWTON_MAX_ITER && rc == 0; ++it) {
    steady_eval(im, &sp, x, f, vals);
    double fn = norm_inf(f, m);
    if (fn <= 1e-13 * im->flow_scale) {
      rc = 1;
      break;
    }
    memcpy(SUNSparseMatrix_Data(A), vals, sp.nnz * sizeof *vals);
    double *b = N_VGetArrayPointer(bv);
    for (size_t u = 0; u < m; ++u) b[u] = -f[u];
    if (SUNLinSolSetup(LS, A) || SUNLinSolSolve(LS, A, xv, bv, 0.0)) break;
    const double *dx = N_VGetArrayPointer(xv);
    double step = 1.0;
    for (int ls = 0; ls < LINE_SEARCH_MAX; ++ls, step *= 0.5) {
      for (size_t u = 0; u < m; ++u) xt[u] = x[u] + step * dx[u];
      steady_eval(im, &sp, xt, ft, NULL);
      if (norm_inf(ft, m) < fn) break;
    }
    double dn = step * norm_inf(dx, m);
    memcpy(x, xt, m * sizeof *x);
    if (dn <= 1e-15 * p_scale) {
      steady_eval(im, &sp, x, f, NULL);
      rc = norm_inf(f, m) <= 1e-9 * im->flow_scale ? 1 : 0;
      break;
    }
  }
  if (rc != 1) {
    vs_text_puts(&im->notes, "steady initial state skipped: Newton did not "
            "converge; the run starts from zero pressure\n");
    rc = 0;
    goto done;
  }
apply:
  for (size_t i = 0; i < g->nn; ++i) {
    if (g->n[i].dead) continue;
    int u = sp.unknown[i];
    g->n[i].p0 = u >= 0 ? x[u] : sp.p[i];
  }
done:
  if (LS) SUNLinSolFree(LS);
  if (A) SUNMatDestroy(A);
  if (xv) N_VDestroy(xv);
  if (bv) N_VDestroy(bv);
  if (ctx) SUNContext_Free(&ctx);
  free(x);
  free(f);
  free(xt);
  free(ft);
  free(vals);
  steady_clear(&sp);
  return rc;
}

/* ---- the venosim network ---------------------------------------------------- */

/* A link's expansion loss b (mmHg s^2/mL^2) as a Young-Tsai stenosis with
 * only that term: area ratio 1/2 makes (A0/As - 1)^2 = 1, so
 * b = kt rho / (2 A0^2); ku = la_ls = la_ds = 0 switch off the inertial and
 * viscous terms. The diameter is a power of ten in mm (written exactly in a
 * case file) chosen so that kt stays within the schema's range. */
static void stenosis_for_loss(double b, double rho, vs_link_spec *ls) {
  double d_mm = 100.0, kt = 0.0;
  for (int k = 0; k < 12; ++k, d_mm /= 10.0) {
    double d_cm = d_mm / 10.0;
    double a0 = VS_PI * d_cm * d_cm / 4.0;
    kt = 2.0 * b * a0 * a0 * VS_DYN_CM2_PER_MMHG / rho;
    if (kt <= KT_MAX) break;
  }
  ls->has_stenosis = 1;
  ls->diameter_cm = d_mm / 10.0;
  ls->stenosis = vs_stenosis_young_tsai(0.5, 1.0);
  ls->stenosis.kt = kt;
  ls->stenosis.ku = 0.0;
  ls->stenosis.la_ls = 0.0;
  ls->stenosis.la_ds = 0.0;
}

static int build_network(importer *im, vs_network **out, double rho,
                         size_t *n_junction) {
  reader *r = &im->r;
  graph *g = &im->g;
  vs_network *net = NULL;
  char why[512], name[512];
  int rc = vs_network_create(&net);
  if (rc) return fail_oom(r);
  vs_waveform flat = vs_waveform_constant(0.0); /* svZeroDSolver: no gravity */
  if ((rc = vs_network_set_tilt(net, &flat))) goto oom;
  *n_junction = 0;
  size_t n_comp = 0;
  for (size_t i = 0; i < g->nn; ++i) {
    const gnode *n = &g->n[i];
    if (n->dead || n->kind != NK_COMP) continue;
    vs_compartment_spec c = {.name = n->name,
                             .height_cm = 0.0,
                             .wall = vs_wall_linear(n->c, 0.0),
                             .p_ext = vs_waveform_constant(0.0),
                             .p_init_mmhg = n->p0};
    rc = vs_network_add_compartment(net, &c);
    if (rc == VS_ENOMEM) goto oom;
    if (rc < 0) {
      rc = fail(r, VS_ENETWORK, no_pos, "two nodes are named '%s' (vessel, "
                "junction and boundary names must differ)", n->name);
      goto fail;
    }
    n_comp++;
    *n_junction += (size_t)n->junction;
  }
  if (n_comp == 0) {
    rc = fail(r, VS_ENETWORK, no_pos,
              "the model has no capacitance left after merging series "
              "elements: venosim needs at least one compliant compartment");
    goto fail;
  }
  /* Pressure nodes that some branch reaches. */
  for (size_t i = 0; i < g->nn; ++i) {
    const gnode *n = &g->n[i];
    if (n->dead || n->kind != NK_PRESSURE) continue;
    int used = 0;
    for (size_t k = 0; k < n->n_inc && !used; ++k) {
      const gbranch *b = &g->b[n->inc[k]];
      int other = b->a == (int)i ? b->b : b->a;
      used = !b->dead && g->n[other].kind != NK_PRESSURE;
    }
    if (!used) continue;
    vs_pressure_node_spec p = {.name = n->name, .height_cm = 0.0,
                               .pressure = *n->pressure};
    rc = vs_network_add_pressure_node(net, &p);
    if (rc == VS_ENOMEM) goto oom;
    if (rc < 0) {
      rc = fail(r, VS_ENETWORK, no_pos, "two nodes are named '%s' (vessel, "
                "junction and boundary names must differ)", n->name);
      goto fail;
    }
  }
  for (size_t k = 0; k < g->nb; ++k) {
    const gbranch *b = &g->b[k];
    if (b->dead) continue;
    const gnode *na = &g->n[b->a], *nb = &g->n[b->b];
    if (na->kind == NK_PRESSURE && nb->kind == NK_PRESSURE) {
      vs_text_printf(&im->notes, "the elements between pressure boundaries '%s' "
                "and '%s' do not affect any compartment and are left out\n",
                na->name, nb->name);
      continue;
    }
    if (b->r == 0 && b->l == 0) {
      rc = fail(r, VS_ENETWORK, no_pos,
                "between '%s' and '%s' there is a stenosis coefficient but "
                "neither resistance nor inductance: venosim cannot solve for "
                "that flow", na->name, nb->name);
      goto fail;
    }
    vs_link_spec ls = vs_link_spec_default();
    snprintf(name, sizeof name, "%s->%s", na->name, nb->name);
    ls.name = name;
    ls.from = na->name;
    ls.to = nb->name;
    ls.resistance_mmhg_s_ml = b->r;
    ls.inertance_mmhg_s2_ml = b->l;
    if (b->s > 0) stenosis_for_loss(b->s, rho, &ls);
    rc = vs_network_add_link(net, &ls);
    /* Parallel branches between the same two nodes: number them. */
    for (int dup = 2; rc == VS_EINVAL && vs_network_find_link(net, name) >= 0 &&
                      dup < 1000000; ++dup) {
      snprintf(name, sizeof name, "%s->%s#%d", na->name, nb->name, dup);
      rc = vs_network_add_link(net, &ls);
    }
    if (rc == VS_ENOMEM) goto oom;
    if (rc < 0) {
      rc = fail(r, VS_ENETWORK, no_pos, "cannot add the link '%s'", name);
      goto fail;
    }
  }
  for (size_t s = 0; s < g->ns; ++s) {
    const gsource *src = &g->s[s];
    const gnode *n = &g->n[src->node];
    if (n->kind == NK_PRESSURE) {
      vs_text_printf(&im->notes, "flow boundary '%s' feeds pressure boundary '%s' "
                "directly and is left out\n", src->name, n->name);
      continue;
    }
    vs_flow_source_spec f = {.name = src->name, .compartment = n->name};
    if (vs_waveform_copy(&f.flow, src->q)) goto oom;
    if (src->sign < 0) {
      f.flow.value = -f.flow.value;
      for (size_t k = 0; f.flow.kind == VS_WAVE_TABLE && k < f.flow.n; ++k)
        f.flow.v[k] = -f.flow.v[k];
    }
    rc = vs_network_add_flow_source(net, &f);
    vs_waveform_clear(&f.flow);
    if (rc == VS_ENOMEM) goto oom;
    if (rc < 0) {
      rc = fail(r, VS_ENETWORK, no_pos, "cannot add the flow boundary '%s'",
                src->name);
      goto fail;
    }
  }
  why[0] = '\0';
  if (vs_network_validate(net, why, sizeof why)) {
    rc = fail(r, VS_ENETWORK, no_pos, "%s", why[0] ? why : "invalid network");
    goto fail;
  }
  *out = net;
  return VS_OK;
oom:
  rc = fail_oom(r);
fail:
  vs_network_free(&net);
  return rc;
}

/* ---- the whole import ------------------------------------------------------- */

vs_svzerod_options vs_svzerod_options_default(void) {
  vs_svzerod_options o = {.units = VS_SVZEROD_UNITS_CGS,
                          .junction_tau_fraction = 1e-7,
                          .steady_initial = -1};
  return o;
}

void vs_svzerod_free(vs_svzerod_model **m) {
  if (!m || !*m) return;
  vs_svzerod_model *x = *m;
  free(x->path);
  free(x->name);
  free(x->description);
  free(x->text);
  free(x->notes);
  vs_network_free(&x->network);
  free(x);
  *m = NULL;
}

int vs_svzerod_is_json_path(const char *path) {
  size_t n = path ? strlen(path) : 0;
  if (n < 5) return 0;
  const char *e = path + n - 5;
  return e[0] == '.' && tolower((unsigned char)e[1]) == 'j' &&
         tolower((unsigned char)e[2]) == 's' &&
         tolower((unsigned char)e[3]) == 'o' &&
         tolower((unsigned char)e[4]) == 'n';
}


/* The file's "description": a string, or a mapping of strings and lists of
 * strings (svZeroDSolver's test cases), flattened to one paragraph. */
static void describe(vs_text_buf *b, struct fy_node *n, int depth) {
  size_t len = 0;
  if (!n || depth > 4) return;
  if (fy_node_get_type(n) == FYNT_SCALAR) {
    const char *s = fy_node_get_scalar(n, &len);
    if (!s || !len) return;
    if (b->n && b->s[b->n - 1] != ' ') vs_text_puts(b, " ");
    vs_text_putn(b, s, len);
    return;
  }
  void *it = NULL;
  if (fy_node_get_type(n) == FYNT_SEQUENCE) {
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it))) describe(b, item, depth + 1);
    return;
  }
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(n, &it))) {
    describe(b, fy_node_pair_key(pair), depth + 1);
    vs_text_puts(b, ":");
    describe(b, fy_node_pair_value(pair), depth + 1);
  }
}

/* Top-level sections this importer refuses by name. */
static const char *const unsupported_sections[] = {
    "closed_loop_blocks", "chambers", "valves",
    "external_solver_coupling_blocks", "initial_condition",
    "initial_condition_d", NULL};

static int read_simulation(importer *im, struct fy_node *root) {
  reader *r = &im->r;
  struct fy_node *sim = get(root, "simulation_parameters");
  pos_t at = {1, 1};
  if (!is_map(sim))
    return fail(r, VS_ESCHEMA, sim ? vs_yaml_node_pos(sim, at) : at,
                "simulation_parameters: missing or not a mapping");
  pos_t sp = vs_yaml_node_pos(sim, at);
  int flag = 0, rc = 0;
  struct fy_node *x;
  if ((x = get(sim, "coupled_simulation")) &&
      !(rc = read_bool(r, x, sp, "coupled_simulation", &flag)) && flag)
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(x, sp),
                "simulation_parameters: coupled_simulation is not supported");
  if (x && rc) return rc;
  if ((x = get(sim, "use_cycle_to_cycle_error")) &&
      !(rc = read_bool(r, x, sp, "use_cycle_to_cycle_error", &flag)) && flag)
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(x, sp),
                "simulation_parameters: use_cycle_to_cycle_error is not "
                "supported (give number_of_cardiac_cycles)");
  if (x && rc) return rc;
  x = get(sim, "number_of_cardiac_cycles");
  if (!x)
    return fail(r, VS_ESCHEMA, sp, "simulation_parameters: missing "
                "number_of_cardiac_cycles");
  if ((rc = read_long(r, x, sp, "number_of_cardiac_cycles", &im->cycles)))
    return rc;
  if (im->cycles < 1 || im->cycles > 1000000)
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(x, sp),
                "number_of_cardiac_cycles must be 1 to 1000000");
  x = get(sim, "number_of_time_pts_per_cardiac_cycle");
  if (!x)
    return fail(r, VS_ESCHEMA, sp, "simulation_parameters: missing "
                "number_of_time_pts_per_cardiac_cycle");
  if ((rc = read_long(r, x, sp, "number_of_time_pts_per_cardiac_cycle",
                      &im->pts)))
    return rc;
  if (im->pts < 2 || im->pts > 10000000)
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(x, sp),
                "number_of_time_pts_per_cardiac_cycle must be 2 to 10000000");
  im->steady_initial = 1;
  if ((x = get(sim, "steady_initial")) &&
      (rc = read_bool(r, x, sp, "steady_initial", &im->steady_initial)))
    return rc;
  if (im->opt.steady_initial >= 0) im->steady_initial = im->opt.steady_initial;
  double period = 0;
  if ((x = get(sim, "cardiac_period"))) {
    if ((rc = read_number(r, x, sp, "cardiac_period", &period))) return rc;
    if (period > 0 && im->period > 0 &&
        fabs(period - im->period) > 1e-12 * period)
      return fail(r, VS_ESCHEMA, vs_yaml_node_pos(x, sp),
                  "cardiac_period %g s differs from the boundary tables' "
                  "period %g s", period, im->period);
  }
  if (!(im->period > 0)) im->period = period > 0 ? period : 1.0;
  static const char *const ignored[] = {
      "absolute_tolerance", "maximum_nonlinear_iterations", "rho_infty",
      "output_variable_based", "output_interval", "output_mean_only",
      "output_derivative", "output_all_cycles", NULL};
  for (size_t i = 0; ignored[i]; ++i)
    if (get(sim, ignored[i]))
      vs_text_printf(&im->notes, "simulation_parameters.%s is svZeroDSolver's own "
                "setting and is not used (CVODE controls the error; every "
                "sample is written)\n", ignored[i]);
  return VS_OK;
}

/* Passes 2 to 4 on a parsed document. */
static int import_document(importer *im, struct fy_node *root,
                           vs_svzerod_model *m) {
  reader *r = &im->r;
  pos_t at = {1, 1};
  int rc;
  if (!is_map(root))
    return fail(r, VS_ESCHEMA, vs_yaml_node_pos(root, at),
                "expected a JSON object with simulation_parameters, vessels, "
                "junctions and boundary_conditions");
  for (size_t i = 0; unsupported_sections[i]; ++i)
    if (get(root, unsupported_sections[i]))
      return fail(r, VS_ESCHEMA, key_pos(root, unsupported_sections[i], at),
                  "'%s' is not supported by the venosim importer (supported: "
                  "BloodVessel vessels, junctions, FLOW/PRESSURE/RESISTANCE/"
                  "RCR boundary conditions)", unsupported_sections[i]);

  /* Boundary conditions first: vessels refer to them by name. */
  struct fy_node *bcs = get(root, "boundary_conditions");
  if (!is_seq(bcs))
    return fail(r, VS_ESCHEMA, bcs ? vs_yaml_node_pos(bcs, at) : at,
                "boundary_conditions: missing or not a list");
  int nbc = fy_node_sequence_item_count(bcs);
  im->bc = calloc((size_t)nbc + 1, sizeof *im->bc);
  if (!im->bc) return fail_oom(r);
  void *it = NULL;
  struct fy_node *item;
  while ((item = fy_node_sequence_iterate(bcs, &it))) {
    sz_bc *bc = &im->bc[im->nbc];
    bc->wave = vs_waveform_constant(0.0);
    im->nbc++;
    if ((rc = read_bc(im, item, im->nbc - 1, bc))) return rc;
    for (size_t k = 0; k + 1 < im->nbc; ++k)
      if (strcmp(im->bc[k].name, bc->name) == 0)
        return fail(r, VS_ESCHEMA, bc->pos, "duplicate bc_name '%s'", bc->name);
  }
  if ((rc = read_simulation(im, root))) return rc;

  struct fy_node *vessels = get(root, "vessels");
  if (!is_seq(vessels) || fy_node_sequence_item_count(vessels) <= 0)
    return fail(r, VS_ESCHEMA, vessels ? vs_yaml_node_pos(vessels, at) : at,
                "vessels: missing or not a non-empty list");
  int nv = fy_node_sequence_item_count(vessels);
  im->v = calloc((size_t)nv + 1, sizeof *im->v);
  id_entry *ids = calloc((size_t)nv + 1, sizeof *ids);
  if (!im->v || !ids) {
    free(ids);
    return fail_oom(r);
  }
  it = NULL;
  rc = VS_OK;
  while (!rc && (item = fy_node_sequence_iterate(vessels, &it))) {
    sz_vessel *v = &im->v[im->nv++];
    rc = read_vessel(im, item, im->nv - 1, v);
    ids[im->nv - 1] = (id_entry){v->id, im->nv - 1};
  }
  if (!rc) {
    qsort(ids, im->nv, sizeof *ids, cmp_id);
    for (size_t i = 1; !rc && i < im->nv; ++i)
      if (ids[i].id == ids[i - 1].id)
        rc = fail(r, VS_ESCHEMA, im->v[ids[i].index].pos,
                  "duplicate vessel_id %ld", ids[i].id);
  }
  /* The flow scale sizes the junction compliance (S Q term). */
  im->flow_scale = 0;
  for (size_t i = 0; i < im->nbc; ++i) {
    const sz_bc *bc = &im->bc[i];
    if (bc->kind != BC_FLOW) continue;
    const vs_waveform *w = &bc->wave;
    im->flow_scale = fmax(im->flow_scale, fabs(w->value));
    for (size_t k = 0; w->kind == VS_WAVE_TABLE && k < w->n; ++k)
      im->flow_scale = fmax(im->flow_scale, fabs(w->v[k]));
  }
  if (!(im->flow_scale > 0)) im->flow_scale = 1.0;

  for (size_t i = 0; !rc && i < im->nv; ++i) rc = build_vessel(im, &im->v[i]);
  struct fy_node *junctions = get(root, "junctions");
  if (!rc && junctions) {
    if (!is_seq(junctions)) {
      rc = fail(r, VS_ESCHEMA, vs_yaml_node_pos(junctions, at),
                "junctions: expected a list");
    } else {
      it = NULL;
      size_t k = 0;
      while (!rc && (item = fy_node_sequence_iterate(junctions, &it)))
        rc = build_junction(im, item, k++, ids);
    }
  }
  free(ids);
  for (size_t i = 0; !rc && i < im->nv; ++i) {
    sz_vessel *v = &im->v[i];
    if (v->bc_in >= 0) rc = build_bc(im, &im->bc[v->bc_in], v->node_in, 0);
    if (!rc && v->bc_out >= 0)
      rc = build_bc(im, &im->bc[v->bc_out], v->node_out, 1);
    if (!rc && v->bc_in < 0 && !v->joined_in)
      rc = fail(r, VS_ENETWORK, v->pos, "vessel '%s': its inlet is connected "
                "to no junction and no boundary condition", v->name);
    if (!rc && v->bc_out < 0 && !v->joined_out)
      rc = fail(r, VS_ENETWORK, v->pos, "vessel '%s': its outlet is connected "
                "to no junction and no boundary condition", v->name);
  }
  for (size_t i = 0; !rc && i < im->nbc; ++i)
    if (!im->bc[i].uses)
      vs_text_printf(&im->notes, "boundary condition '%s' is attached to no vessel "
                "and has no effect\n", im->bc[i].name);
  if (rc) return rc;

  if ((rc = compact(im)) || (rc = reduce(im))) return rc;
  give_junction_compliance(im);
  if (im->steady_initial) {
    rc = steady_state(im);
    if (rc < 0) return fail_oom(r);
    im->steady_initial = rc;
  }
  m->density_g_cm3 = VS_BLOOD_DENSITY_G_CM3;
  m->viscosity_mpa_s = VS_BLOOD_VISCOSITY_MPA_S;
  if ((rc = build_network(im, &m->network, m->density_g_cm3,
                          &m->n_junction_nodes)))
    return rc;

  m->period_s = im->period;
  m->n_cycles = im->cycles;
  m->pts_per_cycle = im->pts;
  m->steady_initial = im->steady_initial;
  m->solver = vs_solver_options_default();
  m->solver.t_end_s = (double)im->cycles * im->period;
  m->solver.output_dt_s = im->period / (double)(im->pts - 1);
  /* Volumes are C p with compliances from 1e-9 to 1 mL/mmHg: an absolute
   * volume tolerance of ATOL_PRESSURE_MMHG times the smallest compliance
   * keeps every pressure to that accuracy near zero. */
  double c_min = INFINITY;
  for (size_t i = 0; i < vs_network_compartment_count(m->network); ++i)
    c_min = fmin(c_min,
                 vs_network_compartment(m->network, i)->wall.compliance_ml_mmhg);
  m->solver.atol_volume_ml = fmax(ATOL_VOLUME_MIN_ML, ATOL_PRESSURE_MMHG * c_min);

  vs_text_buf d = {0};
  vs_text_printf(&d, "Imported from the svZeroDSolver model %s (%s units): %zu "
            "vessels, %zu boundary conditions, %ld cycles of %g s.",
            r->file, im->opt.units == VS_SVZEROD_UNITS_CGS ? "CGS" : "mmHg",
            im->nv, im->nbc, im->cycles, im->period);
  struct fy_node *desc = get(root, "description");
  if (desc) {
    vs_text_puts(&d, " ");
    describe(&d, desc, 0);
  }
  if (d.oom) {
    free(d.s);
    return fail_oom(r);
  }
  m->description = d.s;
  return VS_OK;
}

/* "models/chain.json" -> "chain". */

int vs_svzerod_load_string(const char *text, size_t len,
                           const char *display_name,
                           const vs_svzerod_options *opt,
                           vs_svzerod_model **out, char *msg, size_t msglen) {
  importer im;
  memset(&im, 0, sizeof im);
  im.r = (reader){display_name ? display_name : "<string>", msg, msglen};
  im.opt = opt ? *opt : vs_svzerod_options_default();
  struct fy_diag *diag = NULL;
  struct fy_document *doc = NULL;
  vs_svzerod_model *m = NULL;
  int rc = VS_OK;
  if (msg && msglen) msg[0] = '\0';
  if (out) *out = NULL;
  if (!out || (!text && len)) return fail(&im.r, VS_EINVAL, no_pos, "no model text");
  if (!(im.opt.junction_tau_fraction > 0) ||
      !isfinite(im.opt.junction_tau_fraction) ||
      (im.opt.units != VS_SVZEROD_UNITS_CGS &&
       im.opt.units != VS_SVZEROD_UNITS_MMHG))
    return fail(&im.r, VS_EINVAL, no_pos, "invalid import options");
  im.p_scale = im.opt.units == VS_SVZEROD_UNITS_CGS ? 1.0 / VS_DYN_CM2_PER_MMHG
                                                     : 1.0;
  im.c_scale = 1.0 / im.p_scale;

  m = calloc(1, sizeof *m);
  if (m) {
    m->path = vs_text_dup(im.r.file);
    m->text = vs_text_dup_n(text ? text : "", len);
    m->name = m->path ? vs_text_file_stem(m->path, "svzerod") : NULL;
  }
  if (!m || !m->path || !m->text || !m->name) {
    rc = fail_oom(&im.r);
    goto done;
  }
  im.r.file = m->path;
  if (memchr(m->text, '\0', len)) {
    rc = fail(&im.r, VS_EPARSE, no_pos, "not a JSON text file: NUL byte");
    goto done;
  }
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = NULL;
  dcfg.output_fn = vs_yaml_diag_quiet;
  dcfg.colorize = false;
  diag = fy_diag_create(&dcfg);
  if (!diag) {
    rc = fail_oom(&im.r);
    goto done;
  }
  fy_diag_set_collect_errors(diag, true);
  struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET | FYPCF_JSON_FORCE,
                              .diag = diag};
  doc = fy_document_build_from_string(&pcfg, m->text, len);
  void *eit = NULL;
  struct fy_diag_error *e = fy_diag_errors_iterate(diag, &eit);
  if (e || !doc) {
    pos_t p = {e ? e->line : 0, e ? e->column : 0};
    rc = fail(&im.r, VS_EPARSE, p, "JSON syntax error: %s",
              e && e->msg ? e->msg : "malformed or empty input");
    goto done;
  }
  rc = import_document(&im, fy_document_root(doc), m);
  if (rc) goto done;
  if (im.notes.oom) {
    rc = fail_oom(&im.r);
    goto done;
  }
  m->notes = im.notes.s ? im.notes.s : vs_text_dup("");
  im.notes.s = NULL;
  if (!m->notes) rc = fail_oom(&im.r);
done:
  if (doc) fy_document_destroy(doc);
  if (diag) fy_diag_destroy(diag);
  importer_clear(&im);
  if (rc) vs_svzerod_free(&m);
  *out = m;
  return rc;
}

int vs_svzerod_load_file(const char *path, const vs_svzerod_options *opt,
                         vs_svzerod_model **m, char *msg, size_t msglen) {
  reader r = {path ? path : "<null>", msg, msglen};
  char *text = NULL, why[256];
  size_t n = 0;
  if (msg && msglen) msg[0] = '\0';
  if (m) *m = NULL;
  if (!path || !m) return fail(&r, VS_EINVAL, no_pos, "no model file given");
  int rc = vs_text_read_file(path, MAX_JSON_BYTES, &text, &n, why, sizeof why);
  if (rc == VS_ENOMEM) return fail_oom(&r);
  if (rc) return fail(&r, rc, no_pos, "%s", why);
  rc = vs_svzerod_load_string(text, n, path, opt, m, msg, msglen);
  free(text);
  return rc;
}

/* ---- the equivalent case file ------------------------------------------------ */

static void emit_num(vs_text_buf *b, double x) {
  char t[64];
  fmt_num(x, t, sizeof t);
  vs_text_puts(b, t);
}

/* A length in mm whose value / 10 (the case reader's conversion) is
 * exactly d_cm. */
static void emit_mm(vs_text_buf *b, double d_cm) {
  double mm = d_cm * 10.0;
  for (int k = 0; k < 8 && mm / 10.0 != d_cm; ++k)
    mm = nextafter(mm, mm / 10.0 < d_cm ? INFINITY : -INFINITY);
  emit_num(b, mm);
}

static void emit_waveform(vs_text_buf *b, const vs_waveform *w) {
  if (w->kind == VS_WAVE_CONSTANT) {
    emit_num(b, w->value);
    return;
  }
  if (w->kind == VS_WAVE_SINE) {
    vs_text_puts(b, "{type: sine, mean: ");
    emit_num(b, w->value);
    vs_text_puts(b, ", amplitude: ");
    emit_num(b, w->amplitude);
    vs_text_puts(b, ", period_s: ");
    emit_num(b, w->period_s);
    vs_text_puts(b, ", phase_s: ");
    emit_num(b, w->phase_s);
    vs_text_puts(b, "}");
    return;
  }
  vs_text_puts(b, "{type: table, periodic: ");
  vs_text_puts(b, w->periodic ? "true" : "false");
  vs_text_puts(b, ",\n      times_s: [");
  for (size_t k = 0; k < w->n; ++k) {
    if (k) vs_text_puts(b, k % 8 ? ", " : ",\n        ");
    emit_num(b, w->t[k]);
  }
  vs_text_puts(b, "],\n      values: [");
  for (size_t k = 0; k < w->n; ++k) {
    if (k) vs_text_puts(b, k % 8 ? ", " : ",\n        ");
    emit_num(b, w->v[k]);
  }
  vs_text_puts(b, "]}");
}

static const char *linsol_name(vs_linsol_kind k) {
  return k == VS_LINSOL_DENSE ? "dense" : k == VS_LINSOL_KLU ? "klu" : "auto";
}

int vs_svzerod_emit_yaml(const vs_svzerod_model *m, char **yaml, char *msg,
                         size_t msglen) {
  reader r = {m && m->path ? m->path : "<model>", msg, msglen};
  if (msg && msglen) msg[0] = '\0';
  if (!m || !yaml || !m->network)
    return fail(&r, VS_EINVAL, no_pos, "no model to write");
  *yaml = NULL;
  const vs_network *net = m->network;
  const vs_solver_options *o = &m->solver;
  vs_text_buf b = {0};
  vs_text_puts(&b, "# venosim case imported from the svZeroDSolver model ");
  vs_text_puts(&b, m->path);
  vs_text_puts(&b, "\n# (venosim import-svzerod). Units are venosim's: mmHg, mL, "
          "s. Compartments are\n# the vessels' capacitors; links join them "
          "with the summed R, L and stenosis\n# loss of the elements in "
          "series.\n");
  if (m->notes && m->notes[0]) {
    vs_text_puts(&b, "# Notes:\n");
    for (const char *p = m->notes; *p;) {
      size_t n = strcspn(p, "\n");
      vs_text_puts(&b, "#   ");
      vs_text_putn(&b, p, n);
      vs_text_puts(&b, "\n");
      p += n + (p[n] == '\n');
    }
  }
  vs_text_puts(&b, "name: ");
  vs_text_put_quoted(&b, m->name);
  vs_text_puts(&b, "\ndescription: ");
  vs_text_put_quoted(&b, m->description);
  vs_text_puts(&b, "\nblood: {density_g_cm3: ");
  emit_num(&b, m->density_g_cm3);
  vs_text_puts(&b, ", viscosity_mpa_s: ");
  emit_num(&b, m->viscosity_mpa_s);
  vs_text_puts(&b, "}\nposture: {tilt_deg: 0}\nsolver:\n  t_end_s: ");
  emit_num(&b, o->t_end_s);
  vs_text_puts(&b, "\n  output_dt_s: ");
  emit_num(&b, o->output_dt_s);
  vs_text_puts(&b, "\n  rtol: ");
  emit_num(&b, o->rtol);
  vs_text_puts(&b, "\n  atol_volume_ml: ");
  emit_num(&b, o->atol_volume_ml);
  vs_text_puts(&b, "\n  atol_flow_ml_s: ");
  emit_num(&b, o->atol_flow_ml_s);
  vs_text_puts(&b, "\n  max_step_s: ");
  emit_num(&b, o->max_step_s);
  vs_text_puts(&b, "\n  initial_step_s: ");
  emit_num(&b, o->initial_step_s);
  vs_text_printf(&b, "\n  max_order: %d\n  max_steps: %ld\n  linear_solver: %s\n"
            "  dense_max_states: %ld\n", o->max_order, o->max_steps,
            linsol_name(o->linear_solver), o->dense_max_states);

  vs_text_puts(&b, "compartments:\n");
  for (size_t i = 0; i < vs_network_compartment_count(net); ++i) {
    const vs_compartment_spec *c = vs_network_compartment(net, i);
    if (c->wall.kind != VS_WALL_LINEAR || c->p_ext.kind != VS_WAVE_CONSTANT ||
        c->p_ext.value != 0 || c->height_cm != 0) {
      free(b.s);
      return fail(&r, VS_EINVAL, no_pos, "compartment '%s' is not one the "
                  "importer makes", c->name);
    }
    vs_text_puts(&b, "  - name: ");
    vs_text_put_quoted(&b, c->name);
    vs_text_puts(&b, "\n    p_init_mmhg: ");
    emit_num(&b, c->p_init_mmhg);
    vs_text_puts(&b, "\n    wall: {type: linear, compliance_ml_mmhg: ");
    emit_num(&b, c->wall.compliance_ml_mmhg);
    vs_text_puts(&b, ", v0_ml: ");
    emit_num(&b, c->wall.v0_ml);
    vs_text_puts(&b, "}\n");
  }
  size_t np = vs_network_pressure_node_count(net);
  size_t ns = vs_network_flow_source_count(net);
  vs_text_puts(&b, np + ns ? "boundaries:\n" : "boundaries: []\n");
  for (size_t i = 0; i < np; ++i) {
    const vs_pressure_node_spec *p = vs_network_pressure_node(net, i);
    vs_text_puts(&b, "  - name: ");
    vs_text_put_quoted(&b, p->name);
    vs_text_puts(&b, "\n    type: pressure\n    height_cm: ");
    emit_num(&b, p->height_cm);
    vs_text_puts(&b, "\n    pressure_mmhg: ");
    emit_waveform(&b, &p->pressure);
    vs_text_puts(&b, "\n");
  }
  for (size_t i = 0; i < ns; ++i) {
    const vs_flow_source_spec *f = vs_network_flow_source(net, i);
    vs_text_puts(&b, "  - name: ");
    vs_text_put_quoted(&b, f->name);
    vs_text_puts(&b, "\n    type: flow\n    compartment: ");
    vs_text_put_quoted(&b, f->compartment);
    vs_text_puts(&b, "\n    flow_ml_s: ");
    emit_waveform(&b, &f->flow);
    vs_text_puts(&b, "\n");
  }
  size_t nl = vs_network_link_count(net);
  vs_text_puts(&b, nl ? "links:\n" : "links: []\n");
  for (size_t i = 0; i < nl; ++i) {
    const vs_link_spec *l = vs_network_link(net, i);
    if (l->poiseuille || l->geometric_inertance || l->collapsible ||
        l->resistance_varies || l->has_valve) {
      free(b.s);
      return fail(&r, VS_EINVAL, no_pos, "link '%s' is not one the importer "
                  "makes", l->name);
    }
    vs_text_puts(&b, "  - name: ");
    vs_text_put_quoted(&b, l->name);
    vs_text_puts(&b, "\n    from: ");
    vs_text_put_quoted(&b, l->from);
    vs_text_puts(&b, "\n    to: ");
    vs_text_put_quoted(&b, l->to);
    vs_text_puts(&b, "\n    resistance_mmhg_s_ml: ");
    emit_num(&b, l->resistance_mmhg_s_ml);
    vs_text_puts(&b, "\n    inertance_mmhg_s2_ml: ");
    emit_num(&b, l->inertance_mmhg_s2_ml);
    vs_text_puts(&b, "\n");
    if (l->has_stenosis) {
      const vs_stenosis *s = &l->stenosis;
      vs_text_puts(&b, "    diameter_mm: ");
      emit_mm(&b, l->diameter_cm);
      vs_text_puts(&b, "\n    stenosis: {area_ratio: ");
      emit_num(&b, s->area_ratio);
      vs_text_puts(&b, ", length_cm: ");
      emit_num(&b, s->length_cm);
      vs_text_puts(&b, ", kt: ");
      emit_num(&b, s->kt);
      vs_text_puts(&b, ", ku: ");
      emit_num(&b, s->ku);
      vs_text_puts(&b, ", la_ls: ");
      emit_num(&b, s->la_ls);
      vs_text_puts(&b, ", la_ds: ");
      emit_num(&b, s->la_ds);
      vs_text_puts(&b, "}\n");
    }
  }
  if (b.oom) {
    free(b.s);
    return fail_oom(&r);
  }
  *yaml = b.s;
  return VS_OK;
}

int vs_svzerod_write_yaml(const vs_svzerod_model *m, const char *path,
                          char *msg, size_t msglen) {
  reader r = {path ? path : "<null>", msg, msglen};
  char *yaml = NULL, tmp[4096];
  if (!path) return fail(&r, VS_EINVAL, no_pos, "no output file given");
  int rc = vs_svzerod_emit_yaml(m, &yaml, msg, msglen);
  if (rc) return rc;
  /* Written whole under a temporary name, then renamed: never half a file. */
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  errno = 0;
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    int e = errno;
    free(yaml);
    return fail(&r, VS_EIO, no_pos, "cannot write: %s",
                e ? strerror(e) : "unknown error");
  }
  size_t n = strlen(yaml);
  int bad = fwrite(yaml, 1, n, f) != n;
  bad |= fclose(f) != 0;
  free(yaml);
  if (bad || rename(tmp, path) != 0) {
    int e = errno;
    remove(tmp);
    return fail(&r, VS_EIO, no_pos, "cannot write: %s",
                e ? strerror(e) : "write error");
  }
  return VS_OK;
}
