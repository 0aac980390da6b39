/* Sweeps (sweep.h): a case file's `sweep:` section expanded into runs.
 *
 * Loading reads the case through the ordinary reader (which checks the
 * sweep section's shape against the schema table), then parses the text
 * once more with libfyaml to resolve each input's path against the document
 * and the schema: which keys it sets, their type, unit and range, with the
 * file positions of the sweep entries for messages. A run is built by
 * reading the case again with the run's values written into the parsed
 * document (the reader's edit hook, case_schema.h), so every run passes the
 * same checks as a hand-written case. Nothing per run is kept: the plan is
 * the inputs, their value lists and the Latin hypercube sample. */
#include "text.h"
#include "venosim/sweep.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>
#include <omp.h>

#include "case_schema.h"
#include "venosim/error.h"
#include "venosim/metrics.h"

enum { BLOCK_GRID = 0, BLOCK_ZIP, BLOCK_RANDOM, N_BLOCKS };
static const char *const block_names[N_BLOCKS] = {"grid", "zip", "random"};

/* Latin hypercube samples are kept in memory (samples x inputs doubles):
 * beyond this the sweep is refused rather than swapping. */
#define MAX_SAMPLE_BYTES ((size_t)1 << 30)

/* One step from a mapping or list to a child: a key (created as a mapping
 * on the way down when absent and `create`), or an item index. */
typedef struct {
  char *key;    /* NULL: an index step */
  size_t index; /* list item, or number-list element at the leaf */
  int create;   /* key: an absent mapping with all-default keys */
} step;

/* One key an input sets, as steps from the document's root. */
typedef struct {
  step *steps;
  size_t n_steps;
} target;

typedef struct {
  vs_sweep_input info;          /* public view (strings below) */
  char *path, *column, *unit;
  int block;
  int integer;                  /* the key takes whole numbers */
  double *values;               /* grid, zip: the list */
  size_t n_values;
  double lo, hi;                /* random: range */
  int log_scale;
  target *targets;
  size_t n_targets;
  int line, col;                /* the input's `input:` value */
} input;

struct vs_sweep {
  vs_case *base;
  char *run_text;               /* the case with its sweep section blanked */
  size_t run_len;
  input *inputs;
  size_t n_inputs;
  size_t block_runs[N_BLOCKS];  /* 1 for an absent block */
  int has_block[N_BLOCKS];
  size_t n_runs;                /* n_points x n_arms */
  size_t n_points;              /* parameter sets (patients) */
  size_t n_arms;                /* treatment arms, the untreated one first */
  size_t n_random_inputs;
  double *sample;               /* n_random x n_random_inputs, row-major */
  int has_sweep;
  int width;                    /* digits of a run's index in its name */
};

/* ---- messages ------------------------------------------------------------ */

typedef struct {
  const char *file;
  char *msg;
  size_t msglen;
} ctx;

static int fail(const ctx *x, int status, int line, int col, const char *fmt,
                ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int fail(const ctx *x, int status, int line, int col, const char *fmt,
                ...) {
  if (!x->msg || x->msglen == 0) return status;
  int n = line > 0 ? snprintf(x->msg, x->msglen, "%s:%d:%d: ", x->file, line,
                              col > 0 ? col : 1)
                   : snprintf(x->msg, x->msglen, "%s: ", x->file);
  if (n >= 0 && (size_t)n < x->msglen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg + n, x->msglen - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return status;
}


/* ---- YAML helpers ---------------------------------------------------------- */

/* Position (1-based) of a scalar node, or of the first scalar inside a
 * collection; 0 when unknown. */
static void node_pos(struct fy_node *n, int *line, int *col) {
  *line = *col = 0;
  void *it = NULL;
  while (n) {
    switch (fy_node_get_type(n)) {
    case FYNT_SCALAR: {
      struct fy_token *t = fy_node_get_scalar_token(n);
      const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
      if (m) {
        *line = m->line + 1;
        *col = m->column + 1;
      }
      return;
    }
    case FYNT_MAPPING: {
      struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
      n = p ? fy_node_pair_key(p) : NULL;
      break;
    }
    case FYNT_SEQUENCE:
      n = fy_node_sequence_iterate(n, &it);
      break;
    }
    it = NULL;
  }
}

/* The pair of mapping n whose key reads `key` (scalar text compared). */
static struct fy_node_pair *find_pair(struct fy_node *n, const char *key) {
  void *it = NULL;
  struct fy_node_pair *p;
  size_t want = strlen(key);
  if (!n || fy_node_get_type(n) != FYNT_MAPPING) return NULL;
  while ((p = fy_node_mapping_iterate(n, &it))) {
    struct fy_node *k = fy_node_pair_key(p);
    size_t len = 0;
    const char *s = k && fy_node_get_type(k) == FYNT_SCALAR
                        ? fy_node_get_scalar(k, &len)
                        : NULL;
    if (s && len == want && memcmp(s, key, len) == 0) return p;
  }
  return NULL;
}

static struct fy_node *lookup(struct fy_node *n, const char *key) {
  struct fy_node_pair *p = find_pair(n, key);
  return p ? fy_node_pair_value(p) : NULL;
}

/* Scalar text of mapping n's `key` into buf ("" when absent). */
static const char *scalar_of(struct fy_node *n, const char *key, char *buf,
                             size_t size) {
  struct fy_node *v = lookup(n, key);
  size_t len = 0;
  const char *s = v && fy_node_get_type(v) == FYNT_SCALAR
                      ? fy_node_get_scalar(v, &len)
                      : NULL;
  snprintf(buf, size, "%.*s", s ? (int)len : 0, s ? s : "");
  return buf;
}

/* A number of a validated case (the reader has checked its syntax), read
 * whatever LC_NUMERIC says: YAML's decimal point is always '.'. */
static double number_of(struct fy_node *n) {
  char buf[128];
  size_t len = 0;
  const char *s = n ? fy_node_get_scalar(n, &len) : NULL;
  if (!s || len >= sizeof buf) return NAN;
  memcpy(buf, s, len);
  buf[len] = '\0';
  const char *dp = localeconv()->decimal_point;
  char *dot = strchr(buf, '.');
  if (dot && dp && dp[0] && dp[0] != '.' && !dp[1]) *dot = dp[0];
  return strtod(buf, NULL);
}

/* ---- paths ----------------------------------------------------------------
 * path   := key ( '.' key | '[' selector ']' )*
 * key    := [A-Za-z0-9_]+
 * selector := '*' | digits (an index) | any other text up to ']' (a name) */

typedef enum { TOK_KEY, TOK_STAR, TOK_INDEX, TOK_NAME } tok_kind;

typedef struct {
  tok_kind kind;
  char *text;
  size_t index;
} token;

typedef struct {
  token *t;
  size_t n;
} tokens;

static void tokens_clear(tokens *ts) {
  for (size_t i = 0; i < ts->n; ++i) free(ts->t[i].text);
  free(ts->t);
  ts->t = NULL;
  ts->n = 0;
}

static int is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

/* Splits a path into tokens; on a syntax error returns VS_ESCHEMA with the
 * reason in why. */
static int parse_path(const char *path, tokens *ts, char *why, size_t len) {
  const char *p = path;
  size_t cap = strlen(path) + 1;
  ts->t = calloc(cap, sizeof *ts->t);
  ts->n = 0;
  if (!ts->t) return VS_ENOMEM;
  int expect_key = 1;
  while (*p) {
    if (expect_key) {
      size_t n = 0;
      while (is_key_char(p[n])) ++n;
      if (n == 0) {
        snprintf(why, len, "expected a key name at '%s'", p);
        return VS_ESCHEMA;
      }
      token *t = &ts->t[ts->n++];
      t->kind = TOK_KEY;
      if (!(t->text = vs_text_dup_n(p, n))) return VS_ENOMEM;
      p += n;
      expect_key = 0;
    } else if (*p == '.') {
      ++p;
      expect_key = 1;
    } else if (*p == '[') {
      const char *close = strchr(p, ']');
      if (!close || close == p + 1) {
        snprintf(why, len, "%s", close ? "empty [] (give a name, an index or *)"
                                       : "'[' without ']'");
        return VS_ESCHEMA;
      }
      size_t n = (size_t)(close - p - 1);
      token *t = &ts->t[ts->n++];
      if (!(t->text = vs_text_dup_n(p + 1, n))) return VS_ENOMEM;
      size_t digits = strspn(t->text, "0123456789");
      if (n == 1 && t->text[0] == '*') {
        t->kind = TOK_STAR;
      } else if (digits == n && n < 10) {
        t->kind = TOK_INDEX;
        t->index = (size_t)strtoul(t->text, NULL, 10);
      } else {
        t->kind = TOK_NAME;
      }
      p = close + 1;
    } else {
      snprintf(why, len, "unexpected '%c' (keys are joined by '.', list "
               "items selected by [name], [index] or [*])", *p);
      return VS_ESCHEMA;
    }
  }
  if (expect_key) {
    snprintf(why, len, "%s", ts->n ? "ends with '.'" : "is empty");
    return VS_ESCHEMA;
  }
  return VS_OK;
}

/* ---- resolving an input's path -------------------------------------------- */

typedef struct {
  const ctx *x;
  int line, col;               /* the input's position, for messages */
  const char *path;            /* as written */
  const tokens *ts;
  /* found so far */
  target *targets;
  size_t n_targets, cap_targets;
  const vs_schema_key *leaf;   /* the key set */
  const vs_schema_key *range;  /* where its range and unit come from */
  step *stack;                 /* steps of the target being built */
  size_t depth;
} resolver;

enum { SKIP = 1 }; /* [*]: this item has no such key (its type differs) */

static int add_target(resolver *rs) {
  if (rs->n_targets == rs->cap_targets) {
    size_t cap = rs->cap_targets ? 2 * rs->cap_targets : 4;
    target *g = realloc(rs->targets, cap * sizeof *g);
    if (!g) return VS_ENOMEM;
    rs->targets = g;
    rs->cap_targets = cap;
  }
  target *t = &rs->targets[rs->n_targets];
  t->n_steps = 0;
  t->steps = calloc(rs->depth ? rs->depth : 1, sizeof *t->steps);
  if (!t->steps) return VS_ENOMEM;
  rs->n_targets++;
  for (size_t i = 0; i < rs->depth; ++i) {
    t->steps[i] = rs->stack[i];
    if (rs->stack[i].key && !(t->steps[i].key = vs_text_dup(rs->stack[i].key)))
      return VS_ENOMEM;
    t->n_steps = i + 1;
  }
  return VS_OK;
}

/* "a, b, c": the keys of a table that apply to a variant. */
static void keys_text(const vs_schema_key *table, const char *variant,
                      char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; table[i].key && used < size; ++i) {
    if (variant && !vs_schema_applies(&table[i], variant)) continue;
    int w = snprintf(buf + used, size - used, "%s%s", used ? ", " : "",
                     table[i].key);
    if (w < 0) break;
    used += (size_t)w;
  }
}

/* The path up to token t, for messages. */
static void prefix_text(const tokens *ts, size_t t, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < t && i < ts->n && used < size; ++i) {
    const token *k = &ts->t[i];
    int w = k->kind == TOK_KEY
                ? snprintf(buf + used, size - used, "%s%s", i ? "." : "",
                           k->text)
                : snprintf(buf + used, size - used, "[%s]", k->text);
    if (w < 0) break;
    used += (size_t)w;
  }
}

static int is_numeric_leaf(const vs_schema_key *k) {
  return k->type == VS_ST_NUMBER || k->type == VS_ST_INTEGER ||
         k->type == VS_ST_WAVEFORM;
}

static int resolve(resolver *rs, struct fy_node *map,
                   const vs_schema_key *table, const vs_schema_key *range_key,
                   size_t t, int via_star);

/* Token t (a selector) picks items of list node `list` of key k. */
static int resolve_items(resolver *rs, struct fy_node *list,
                         const vs_schema_key *k, size_t t) {
  const token *sel = &rs->ts->t[t];
  char where[256];
  prefix_text(rs->ts, t, where, sizeof where);
  int count = list && fy_node_get_type(list) == FYNT_SEQUENCE
                  ? fy_node_sequence_item_count(list)
                  : 0;
  size_t first = 0, last = (size_t)count; /* items [first, last) */
  if (sel->kind == TOK_INDEX) {
    if (sel->index >= (size_t)count)
      return fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                  "%s: %s has no item [%zu] (it has %d)", rs->path, where,
                  sel->index, count);
    first = sel->index;
    last = first + 1;
  } else if (sel->kind == TOK_NAME) {
    char name[256];
    for (first = 0; first < (size_t)count; ++first) {
      struct fy_node *item = fy_node_sequence_get_by_index(list, (int)first);
      if (strcmp(scalar_of(item, "name", name, sizeof name), sel->text) == 0)
        break;
    }
    if (first == (size_t)count)
      return fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                  "%s: no item of %s is named '%s'", rs->path, where,
                  sel->text);
    last = first + 1;
  }
  int found = 0;
  for (size_t i = first; i < last; ++i) {
    rs->stack[rs->depth++] = (step){.key = NULL, .index = i};
    int rc = resolve(rs, fy_node_sequence_get_by_index(list, (int)i), k->sub,
                     NULL, t + 1, sel->kind == TOK_STAR);
    rs->depth--;
    if (rc < 0) return rc;
    found += rc == VS_OK;
  }
  if (!found)
    return fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: the key applies to no item of %s", rs->path, where);
  return VS_OK;
}

/* Resolves tokens[t..] (t names a key) below mapping `map` (NULL: a mapping
 * absent from the case, all of whose keys have defaults). Returns VS_OK,
 * SKIP (via [*], the key does not exist for this item's type) or an error. */
static int resolve(resolver *rs, struct fy_node *map,
                   const vs_schema_key *table, const vs_schema_key *range_key,
                   size_t t, int via_star) {
  char where[256], keys[512], variant_buf[64];
  const char *variant = NULL;
  /* A list item must be followed by a key: `lesions[0]` alone names no
   * number. */
  if (t >= rs->ts->n || rs->ts->t[t].kind != TOK_KEY) {
    prefix_text(rs->ts, t, where, sizeof where);
    return fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: expected a key after '%s' (its items are mappings: "
                "name one of their keys)",
                rs->path, where);
  }
  prefix_text(rs->ts, t + 1, where, sizeof where);
  const token *tk = &rs->ts->t[t];
  int d = vs_schema_discriminator(table);
  if (d >= 0 && map)
    variant = scalar_of(map, table[d].key, variant_buf, sizeof variant_buf);
  /* An absent discriminator takes its default (a lesion is a stenosis). */
  if (d >= 0 && (!variant || !variant[0]) && table[d].def_text)
    variant = table[d].def_text;
  int idx = vs_schema_find(table, tk->text);
  if (idx < 0) {
    keys_text(table, variant, keys, sizeof keys);
    return fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: unknown key '%s' (expected one of: %s)", rs->path,
                tk->text, keys);
  }
  const vs_schema_key *k = &table[idx];
  if (d >= 0 && !vs_schema_applies(k, variant)) {
    if (via_star) return SKIP;
    return fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: %s exists only where %s is %s, and here it is '%s'",
                rs->path, where, table[d].key, k->only,
                variant ? variant : "");
  }
  struct fy_node *child = lookup(map, k->key);
  int last = t + 1 == rs->ts->n;
  const token *next = last ? NULL : &rs->ts->t[t + 1];
  rs->stack[rs->depth++] = (step){.key = (char *)k->key};
  int rc = VS_OK;

  if (last) {
    if (!is_numeric_leaf(k)) {
      rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: %s is not a number (a sweep varies numbers only)",
                rs->path, where);
    } else if (k->type == VS_ST_WAVEFORM && child &&
               fy_node_get_type(child) == FYNT_MAPPING) {
      rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: %s is a waveform mapping in the case; sweep one of its "
                "keys, e.g. %s.mean or %s.values[0]",
                rs->path, where, rs->path, rs->path);
    } else if (!child && k->dflt != VS_DEFAULT_VALUE &&
               k->dflt != VS_DEFAULT_MODEL) {
      rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: %s is not in the case and has no default: write it in "
                "the case to sweep it",
                rs->path, where);
    } else {
      const vs_schema_key *rk = k->inherit_range && range_key ? range_key : k;
      if (rs->leaf && rs->leaf != k)
        rc = VS_EINVAL; /* one path, one key: cannot happen */
      rs->leaf = k;
      rs->range = rk;
      if (!rc) rc = add_target(rs);
    }
  } else if (next->kind == TOK_KEY) {
    if (k->type == VS_ST_MAPPING) {
      if (!child && k->dflt != VS_DEFAULT_EMPTY)
        rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                  "%s: %s is not in the case: write it there to sweep its "
                  "keys",
                  rs->path, where);
      else {
        rs->stack[rs->depth - 1].create = !child;
        rc = resolve(rs, child, k->sub, range_key, t + 1, via_star);
      }
    } else if (k->type == VS_ST_WAVEFORM) {
      if (!child || fy_node_get_type(child) != FYNT_MAPPING)
        rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                  "%s: %s is a constant in the case, not a waveform mapping: "
                  "sweep %s itself",
                  rs->path, where, where);
      else
        rc = resolve(rs, child, vs_waveform_schema, k, t + 1, via_star);
    } else if (k->type == VS_ST_LIST) {
      rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: %s is a list: select its items by name, index or *, "
                "e.g. %s[*].%s",
                rs->path, where, where, next->text);
    } else {
      rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: %s has no keys", rs->path, where);
    }
  } else if (k->type == VS_ST_LIST) {
    rc = resolve_items(rs, child, k, t + 1);
  } else if (k->type == VS_ST_NUMBER_LIST) {
    int count = child && fy_node_get_type(child) == FYNT_SEQUENCE
                    ? fy_node_sequence_item_count(child)
                    : 0;
    if (next->kind != TOK_INDEX || t + 2 != rs->ts->n)
      rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: select one number of %s by its index, e.g. %s[0]",
                rs->path, where, where);
    else if (next->index >= (size_t)count)
      rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
                "%s: %s has no item [%zu] (it has %d)", rs->path, where,
                next->index, count);
    else {
      rs->stack[rs->depth++] = (step){.key = NULL, .index = next->index};
      rs->leaf = k;
      rs->range = k->inherit_range && range_key ? range_key : k;
      rc = add_target(rs);
      rs->depth--;
    }
  } else {
    rc = fail(rs->x, VS_ESCHEMA, rs->line, rs->col,
              "%s: %s is not a list", rs->path, where);
  }
  rs->depth--;
  return rc;
}

/* ---- loading ------------------------------------------------------------- */

static void target_clear(target *t) {
  for (size_t i = 0; i < t->n_steps; ++i) free(t->steps[i].key);
  free(t->steps);
}

static void input_clear(input *in) {
  for (size_t i = 0; i < in->n_targets; ++i) target_clear(&in->targets[i]);
  free(in->targets);
  free(in->values);
  free(in->path);
  free(in->column);
  free(in->unit);
}

void vs_sweep_free(vs_sweep **sp) {
  if (!sp || !*sp) return;
  vs_sweep *s = *sp;
  for (size_t j = 0; j < s->n_inputs; ++j) input_clear(&s->inputs[j]);
  free(s->inputs);
  free(s->sample);
  free(s->run_text);
  vs_case_free(&s->base);
  free(s);
  *sp = NULL;
}

static int same_target(const target *a, const target *b) {
  if (a->n_steps != b->n_steps) return 0;
  for (size_t i = 0; i < a->n_steps; ++i) {
    const step *x = &a->steps[i], *y = &b->steps[i];
    if (!x->key != !y->key) return 0;
    if (x->key ? strcmp(x->key, y->key) != 0 : x->index != y->index) return 0;
  }
  return 1;
}

/* A value for input `in`: finite, whole if the key wants it, in range. */
static int check_value(const ctx *x, const input *in, const resolver *rs,
                       double v, struct fy_node *at, const char *what) {
  int line, col;
  char num[32], range[64];
  node_pos(at, &line, &col);
  if (!line) line = in->line, col = in->col;
  vs_schema_format_number(v, num, sizeof num);
  if (in->integer && v != floor(v))
    return fail(x, VS_ESCHEMA, line, col, "%s: %s %s is not a whole number",
                in->path, what, num);
  if (!vs_schema_in_range(rs->range, v)) {
    vs_schema_format_range(rs->range, range, sizeof range);
    return fail(x, VS_ESCHEMA, line, col,
                "%s: %s %s is out of the key's range %s%s%s", in->path, what,
                num, range, in->unit[0] ? " " : "", in->unit);
  }
  return VS_OK;
}

static const char *const reserved_columns[] = {"run_name", "status", "message",
                                               NULL};

/* One entry of grid, zip or random.inputs. */
static int load_input(vs_sweep *s, const ctx *x, struct fy_node *entry,
                      int block, input *in) {
  char why[256], text[512];
  tokens ts = {0};
  resolver rs;
  memset(&rs, 0, sizeof rs);
  int rc = VS_OK;
  struct fy_node *inode = lookup(entry, "input");
  in->block = block;
  in->path = vs_text_dup(scalar_of(entry, "input", text, sizeof text));
  node_pos(inode, &in->line, &in->col);
  if (!in->path) return VS_ENOMEM;

  if ((rc = parse_path(in->path, &ts, why, sizeof why))) {
    if (rc == VS_ESCHEMA)
      rc = fail(x, rc, in->line, in->col, "input '%s': %s", in->path, why);
    goto done;
  }
  rs.x = x;
  rs.line = in->line;
  rs.col = in->col;
  rs.path = in->path;
  rs.ts = &ts;
  rs.stack = calloc(2 * ts.n + 2, sizeof *rs.stack);
  if (!rs.stack) {
    rc = VS_ENOMEM;
    goto done;
  }
  struct fy_node *top = fy_document_root(fy_node_document(entry));
  if (strcmp(ts.t[0].text, "sweep") == 0) {
    rc = fail(x, VS_ESCHEMA, in->line, in->col,
              "%s: a sweep cannot vary itself", in->path);
    goto done;
  }
  rc = resolve(&rs, top, vs_case_schema, NULL, 0, 0);
  if (rc == SKIP) rc = VS_EINVAL; /* only [*] skips, and it reports */
  if (rc) goto done;
  in->targets = rs.targets;
  in->n_targets = rs.n_targets;
  rs.targets = NULL;
  rs.n_targets = 0;
  in->integer = rs.leaf->type == VS_ST_INTEGER;
  const char *unit = rs.leaf->unit && rs.leaf->unit[0] ? rs.leaf->unit
                     : rs.range && rs.range->unit      ? rs.range->unit
                                                       : "";
  if (!(in->unit = vs_text_dup(unit[0] ? unit : "1"))) {
    rc = VS_ENOMEM;
    goto done;
  }

  /* One key, one input: two would fight over it. */
  for (size_t j = 0; j < s->n_inputs; ++j)
    for (size_t a = 0; a < in->n_targets; ++a)
      for (size_t b = 0; b < s->inputs[j].n_targets; ++b)
        if (same_target(&in->targets[a], &s->inputs[j].targets[b])) {
          rc = fail(x, VS_ESCHEMA, in->line, in->col,
                    "%s sets a key that input '%s' (line %d) sets too",
                    in->path, s->inputs[j].path, s->inputs[j].line);
          goto done;
        }

  /* The unit, if stated, must be the key's. */
  struct fy_node *unode = lookup(entry, "unit");
  if (unode) {
    int line, col;
    scalar_of(entry, "unit", text, sizeof text);
    node_pos(unode, &line, &col);
    if (strcmp(text, in->unit) != 0) {
      rc = fail(x, VS_ESCHEMA, line, col,
                "%s: unit '%s' does not match the key's unit '%s'", in->path,
                text, in->unit);
      goto done;
    }
  }

  /* Column name: given, or the path with '/' (HDF5's separator) as '_'. */
  struct fy_node *cnode = lookup(entry, "column");
  int cline = in->line, ccol = in->col;
  if (cnode) {
    node_pos(cnode, &cline, &ccol);
    in->column = vs_text_dup(scalar_of(entry, "column", text, sizeof text));
    if (in->column && (strchr(in->column, '/') || !strcmp(in->column, "."))) {
      rc = fail(x, VS_ESCHEMA, cline, ccol,
                "column '%s': a column name cannot contain '/' or be '.'",
                in->column);
      goto done;
    }
  } else {
    in->column = vs_text_dup(in->path);
    for (char *c = in->column; c && *c; ++c)
      if (*c == '/') *c = '_';
  }
  if (!in->column) {
    rc = VS_ENOMEM;
    goto done;
  }
  int taken = 0;
  for (size_t m = 0; m < vs_metrics_count(); ++m)
    taken |= !strcmp(in->column, vs_metrics_table()[m].name);
  for (size_t r = 0; reserved_columns[r]; ++r)
    taken |= !strcmp(in->column, reserved_columns[r]);
  for (size_t j = 0; j < s->n_inputs; ++j)
    taken |= !strcmp(in->column, s->inputs[j].column);
  if (taken) {
    rc = fail(x, VS_ESCHEMA, cline, ccol,
              "%s: the /summary column '%s' is taken (by a metric, another "
              "input or run_name, status, message): give this input another "
              "'column'",
              in->path, in->column);
    goto done;
  }

  if (block == BLOCK_RANDOM) {
    struct fy_node *lo = lookup(entry, "min"), *hi = lookup(entry, "max");
    in->lo = number_of(lo);
    in->hi = number_of(hi);
    in->log_scale =
        strcmp(scalar_of(entry, "scale", text, sizeof text), "log") == 0;
    if (in->integer) {
      rc = fail(x, VS_ESCHEMA, in->line, in->col,
                "%s: random sampling needs a real-valued key, and this one "
                "takes whole numbers (use grid)",
                in->path);
      goto done;
    }
    if ((rc = check_value(x, in, &rs, in->lo, lo, "min")) ||
        (rc = check_value(x, in, &rs, in->hi, hi, "max")))
      goto done;
    int line, col;
    node_pos(hi, &line, &col);
    if (!(in->hi > in->lo)) {
      rc = fail(x, VS_ESCHEMA, line, col, "%s: max must be above min",
                in->path);
      goto done;
    }
    if (in->log_scale && !(in->lo > 0)) {
      node_pos(lo, &line, &col);
      rc = fail(x, VS_ESCHEMA, line, col,
                "%s: scale log needs min > 0", in->path);
      goto done;
    }
  } else {
    struct fy_node *list = lookup(entry, "values");
    int count = fy_node_sequence_item_count(list);
    in->n_values = count > 0 ? (size_t)count : 0;
    in->values = calloc(in->n_values + 1, sizeof *in->values);
    if (!in->values) {
      rc = VS_ENOMEM;
      goto done;
    }
    for (size_t i = 0; i < in->n_values; ++i) {
      struct fy_node *item = fy_node_sequence_get_by_index(list, (int)i);
      in->values[i] = number_of(item);
      snprintf(why, sizeof why, "value [%zu]", i);
      if ((rc = check_value(x, in, &rs, in->values[i], item, why))) goto done;
    }
  }
done:
  if (rc == VS_ENOMEM) rc = fail(x, VS_ENOMEM, 0, 0, "out of memory");
  for (size_t i = 0; i < rs.n_targets; ++i) target_clear(&rs.targets[i]);
  free(rs.targets);
  free(rs.stack);
  tokens_clear(&ts);
  return rc;
}

/* ---- Latin hypercube ------------------------------------------------------
 * splitmix64 (Steele, Lea, Flood 2014): tiny, portable and good enough to
 * pair strata; the same seed gives the same sample on every machine. */

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static double uniform01(uint64_t *state) {
  return (double)(splitmix64(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, bound), without modulo bias. */
static size_t uniform_below(uint64_t *state, size_t bound) {
  uint64_t b = bound, limit = UINT64_MAX - UINT64_MAX % b;
  uint64_t r;
  do r = splitmix64(state);
  while (r >= limit);
  return (size_t)(r % b);
}

/* For each random input: a random permutation of the n strata and a
 * uniform point inside each, mapped onto [lo, hi) (or its logarithm). */
static int make_sample(vs_sweep *s, uint64_t seed) {
  size_t n = s->block_runs[BLOCK_RANDOM], d = s->n_random_inputs;
  size_t *perm = malloc(n * sizeof *perm);
  s->sample = malloc(n * d * sizeof *s->sample);
  if (!perm || !s->sample) {
    free(perm);
    return VS_ENOMEM;
  }
  uint64_t state = seed;
  size_t col = 0;
  for (size_t j = 0; j < s->n_inputs; ++j) {
    const input *in = &s->inputs[j];
    if (in->block != BLOCK_RANDOM) continue;
    for (size_t i = 0; i < n; ++i) perm[i] = i;
    for (size_t i = n; i > 1; --i) { /* Fisher-Yates */
      size_t k = uniform_below(&state, i);
      size_t tmp = perm[i - 1];
      perm[i - 1] = perm[k];
      perm[k] = tmp;
    }
    for (size_t i = 0; i < n; ++i) {
      double u = ((double)perm[i] + uniform01(&state)) / (double)n;
      double v = in->log_scale
                     ? exp(log(in->lo) + u * (log(in->hi) - log(in->lo)))
                     : in->lo + u * (in->hi - in->lo);
      s->sample[i * d + col] = fmin(fmax(v, in->lo), in->hi); /* rounding */
    }
    ++col;
  }
  free(perm);
  return VS_OK;
}

/* ---- the run text ---------------------------------------------------------
 * Runs are read from the case text with the sweep section replaced by
 * blanks (newlines kept, so every line and column of the rest is where it
 * was): a run then never re-reads the sweep's lists. Done only when the
 * section is a block at the top level; otherwise the edit hook removes it
 * from each run's document instead. */
static void blank_sweep_section(vs_sweep *s, struct fy_node *top) {
  void *it = NULL;
  struct fy_node_pair *p;
  int sweep_line = -1, next_line = -1, bad = 0;
  while ((p = fy_node_mapping_iterate(top, &it))) {
    int line, col;
    node_pos(fy_node_pair_key(p), &line, &col);
    size_t len = 0;
    const char *k = fy_node_get_scalar(fy_node_pair_key(p), &len);
    int is_sweep = k && len == 5 && memcmp(k, "sweep", 5) == 0;
    if (is_sweep) {
      sweep_line = line;
      bad |= col != 1;
    } else if (sweep_line > 0 && next_line < 0) {
      next_line = line;
      bad |= col != 1 || line <= sweep_line;
    }
  }
  if (sweep_line < 0 || bad) return;
  int line = 1;
  for (size_t i = 0; i < s->run_len; ++i) {
    if (s->run_text[i] == '\n') {
      ++line;
      continue;
    }
    if (line >= sweep_line && (next_line < 0 || line < next_line))
      s->run_text[i] = ' ';
  }
}

static size_t digits_of(size_t n) {
  size_t d = 1;
  while (n >= 10) n /= 10, ++d;
  return d;
}

/* Runs of each block and their product, refusing overflow and max_runs. */
static int count_runs(vs_sweep *s, const ctx *x, struct fy_node *sweep) {
  const input *zip0 = NULL;
  for (int b = 0; b < N_BLOCKS; ++b) s->block_runs[b] = 1;
  for (size_t j = 0; j < s->n_inputs; ++j) {
    const input *in = &s->inputs[j];
    if (in->block == BLOCK_GRID) {
      size_t *r = &s->block_runs[BLOCK_GRID];
      *r = *r > SIZE_MAX / in->n_values ? SIZE_MAX : *r * in->n_values;
    } else if (in->block == BLOCK_ZIP) {
      if (!zip0) {
        zip0 = in;
        s->block_runs[BLOCK_ZIP] = in->n_values;
      } else if (in->n_values != zip0->n_values) {
        return fail(x, VS_ESCHEMA, in->line, in->col,
                    "%s: zip lists must be of one length: this one has %zu "
                    "values, %s has %zu",
                    in->path, in->n_values, zip0->path, zip0->n_values);
      }
    }
  }
  if (s->has_block[BLOCK_RANDOM])
    s->block_runs[BLOCK_RANDOM] =
        (size_t)number_of(lookup(lookup(sweep, "random"), "samples"));
  size_t total = 1;
  for (int b = 0; b < N_BLOCKS; ++b)
    total = total > SIZE_MAX / s->block_runs[b] ? SIZE_MAX
                                                 : total * s->block_runs[b];
  size_t points = total;
  total = total > SIZE_MAX / s->n_arms ? SIZE_MAX : total * s->n_arms;
  struct fy_node *limit = lookup(sweep, "max_runs");
  double max_runs = limit ? number_of(limit) : 1e4;
  if ((double)total > max_runs) {
    int line, col;
    node_pos(limit ? limit : sweep, &line, &col);
    char runs[32];
    if (total == SIZE_MAX)
      snprintf(runs, sizeof runs, "too many");
    else
      snprintf(runs, sizeof runs, "%zu", total);
    char arms[48] = "";
    if (s->n_arms > 1) snprintf(arms, sizeof arms, " x arms %zu", s->n_arms);
    return fail(x, VS_ESCHEMA, line, col,
                "sweep: expands to %s runs (grid %zu x zip %zu x random "
                "%zu%s), more than max_runs = %.0f: raise sweep.max_runs if "
                "you mean it",
                runs, s->block_runs[BLOCK_GRID], s->block_runs[BLOCK_ZIP],
                s->block_runs[BLOCK_RANDOM], arms, max_runs);
  }
  s->n_points = points;
  s->n_runs = total;
  return VS_OK;
}

/* The default seed, from the schema's sweep.random.seed. */
static double random_seed_default(void) {
  int r = vs_schema_find(vs_case_schema, "sweep");
  const vs_schema_key *sweep = r >= 0 ? vs_case_schema[r].sub : NULL;
  int k = sweep ? vs_schema_find(sweep, "random") : -1;
  const vs_schema_key *random = k >= 0 ? sweep[k].sub : NULL;
  int s = random ? vs_schema_find(random, "seed") : -1;
  return s >= 0 ? random[s].def_number : 1.0;
}

static int load_sweep(vs_sweep *s, const ctx *x, struct fy_node *sweep) {
  struct fy_node *blocks[N_BLOCKS] = {
      lookup(sweep, "grid"), lookup(sweep, "zip"),
      lookup(lookup(sweep, "random"), "inputs")};
  size_t n = 0;
  for (int b = 0; b < N_BLOCKS; ++b) {
    int c = blocks[b] ? fy_node_sequence_item_count(blocks[b]) : 0;
    s->has_block[b] = c > 0;
    n += c > 0 ? (size_t)c : 0;
  }
  if (n == 0) {
    int line, col;
    node_pos(sweep, &line, &col);
    return fail(x, VS_ESCHEMA, line, col,
                "sweep: give at least one of grid, zip or random");
  }
  s->inputs = calloc(n, sizeof *s->inputs);
  if (!s->inputs) return fail(x, VS_ENOMEM, 0, 0, "out of memory");
  for (int b = 0; b < N_BLOCKS; ++b) {
    void *it = NULL;
    struct fy_node *entry;
    while (blocks[b] && (entry = fy_node_sequence_iterate(blocks[b], &it))) {
      input *in = &s->inputs[s->n_inputs];
      int rc = load_input(s, x, entry, b, in);
      s->n_inputs++; /* cleared by vs_sweep_free even when half-made */
      if (rc) return rc;
      if (b == BLOCK_RANDOM) s->n_random_inputs++;
    }
  }
  int rc = count_runs(s, x, sweep);
  if (rc) return rc;
  for (size_t j = 0; j < s->n_inputs; ++j) {
    input *in = &s->inputs[j];
    in->info = (vs_sweep_input){.path = in->path,
                                .column = in->column,
                                .unit = in->unit,
                                .block = block_names[in->block],
                                .n_values = in->block == BLOCK_RANDOM
                                                ? s->block_runs[BLOCK_RANDOM]
                                                : in->n_values,
                                .n_targets = in->n_targets};
  }
  if (s->has_block[BLOCK_RANDOM]) {
    size_t samples = s->block_runs[BLOCK_RANDOM];
    if (samples > MAX_SAMPLE_BYTES / sizeof(double) / s->n_random_inputs) {
      int line, col;
      node_pos(lookup(lookup(sweep, "random"), "samples"), &line, &col);
      return fail(x, VS_ESCHEMA, line, col,
                  "sweep.random: %zu samples of %zu inputs would not fit in "
                  "memory",
                  samples, s->n_random_inputs);
    }
    /* An absent seed takes the schema's default (casting the NaN of a
     * missing number to an integer would be undefined). */
    struct fy_node *seed_node = lookup(lookup(sweep, "random"), "seed");
    uint64_t seed = seed_node ? (uint64_t)number_of(seed_node)
                              : (uint64_t)random_seed_default();
    if (make_sample(s, seed)) return fail(x, VS_ENOMEM, 0, 0, "out of memory");
  }
  return VS_OK;
}

int vs_sweep_load_string(const char *text, size_t len,
                         const char *display_name, vs_sweep **sp, char *msg,
                         size_t msglen) {
  struct fy_document *doc = NULL;
  vs_sweep *s = NULL;
  int rc = VS_OK;
  if (sp) *sp = NULL;
  if (msg && msglen) msg[0] = '\0';
  if (!sp) return VS_EINVAL;
  s = calloc(1, sizeof *s);
  if (!s) return VS_ENOMEM;
  /* The case as written: every check of the reader, the sweep's shape too. */
  if ((rc = vs_case_load_string(text, len, display_name, &s->base, msg,
                                msglen)))
    goto done;
  ctx x = {s->base->path, msg, msglen};
  s->n_arms = s->base->n_arms + 1;
  s->n_points = 1;
  s->n_runs = s->n_arms;
  s->width = 4;
  for (int b = 0; b < N_BLOCKS; ++b) s->block_runs[b] = 1;
  s->run_len = strlen(s->base->text);
  s->run_text = vs_text_dup_n(s->base->text, s->run_len);
  struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT};
  if (s->run_text)
    doc = fy_document_build_from_string(&cfg, s->base->text, s->run_len);
  struct fy_node *top = doc ? fy_document_root(doc) : NULL;
  if (!s->run_text || !top) {
    rc = fail(&x, VS_ENOMEM, 0, 0, "out of memory");
    goto done;
  }
  struct fy_node *sweep = lookup(top, "sweep");
  if (!sweep) goto done;
  s->has_sweep = 1;
  if ((rc = load_sweep(s, &x, sweep))) goto done;
  size_t w = digits_of(s->n_points - 1);
  s->width = w > 4 ? (int)w : 4;
  blank_sweep_section(s, top);
done:
  if (doc) fy_document_destroy(doc);
  if (rc) vs_sweep_free(&s);
  *sp = s;
  return rc;
}

int vs_sweep_load_file(const char *path, vs_sweep **sp, char *msg,
                       size_t msglen) {
  /* The reader reads the file (and says why it cannot); the sweep then
   * works from its verbatim copy. */
  vs_case *c = NULL;
  if (sp) *sp = NULL;
  int rc = vs_case_load_file(path, &c, msg, msglen);
  if (rc) return rc;
  rc = vs_sweep_load_string(c->text, strlen(c->text), c->path, sp, msg,
                            msglen);
  vs_case_free(&c);
  return rc;
}

/* ---- queries --------------------------------------------------------------- */

const vs_case *vs_sweep_case(const vs_sweep *s) { return s ? s->base : NULL; }

size_t vs_sweep_run_count(const vs_sweep *s) { return s ? s->n_runs : 0; }

void vs_sweep_block_counts(const vs_sweep *s, size_t *grid, size_t *zip,
                           size_t *random) {
  size_t *out[N_BLOCKS] = {grid, zip, random};
  for (int b = 0; b < N_BLOCKS; ++b)
    if (out[b]) *out[b] = s && s->has_block[b] ? s->block_runs[b] : 0;
}

size_t vs_sweep_input_count(const vs_sweep *s) { return s ? s->n_inputs : 0; }

const vs_sweep_input *vs_sweep_input_info(const vs_sweep *s, size_t j) {
  return s && j < s->n_inputs ? &s->inputs[j].info : NULL;
}

int vs_sweep_run_name(const vs_sweep *s, size_t run, char *buf, size_t len) {
  if (!s || run >= s->n_runs || !buf || !len) return VS_EINVAL;
  size_t point = run / s->n_arms, arm = run % s->n_arms;
  const char *arm_name = vs_sweep_arm_name(s, arm);
  if (!s->has_sweep && s->n_arms == 1)
    snprintf(buf, len, "%s", s->base->name);
  else if (!s->has_sweep)
    snprintf(buf, len, "%s-%s", s->base->name, arm_name);
  else if (s->n_arms == 1)
    snprintf(buf, len, "%s-%0*zu", s->base->name, s->width, point);
  else
    snprintf(buf, len, "%s-%0*zu-%s", s->base->name, s->width, point,
             arm_name);
  return VS_OK;
}

size_t vs_sweep_arm_count(const vs_sweep *s) { return s ? s->n_arms : 0; }

const char *vs_sweep_arm_name(const vs_sweep *s, size_t arm) {
  if (!s || arm >= s->n_arms) return NULL;
  return arm == 0 ? VS_CASE_UNTREATED_ARM : s->base->arm_names[arm - 1];
}

size_t vs_sweep_baseline(const vs_sweep *s, size_t run) {
  return s && s->n_arms ? run - run % s->n_arms : run;
}

/* Run index -> position in each block: random fastest, then zip, then the
 * grid with its first input slowest. */
int vs_sweep_run_values(const vs_sweep *s, size_t run, double *values) {
  if (!s || run >= s->n_runs || (s->n_inputs && !values)) return VS_EINVAL;
  size_t r = run / s->n_arms; /* the arms of a patient share its values */
  size_t k_random = r % s->block_runs[BLOCK_RANDOM];
  r /= s->block_runs[BLOCK_RANDOM];
  size_t k_zip = r % s->block_runs[BLOCK_ZIP];
  r /= s->block_runs[BLOCK_ZIP];
  size_t col = s->n_random_inputs;
  for (size_t j = s->n_inputs; j-- > 0;) {
    const input *in = &s->inputs[j];
    switch (in->block) {
    case BLOCK_RANDOM:
      values[j] = s->sample[k_random * s->n_random_inputs + --col];
      break;
    case BLOCK_ZIP:
      values[j] = in->values[k_zip];
      break;
    default:
      values[j] = in->values[r % in->n_values];
      r /= in->n_values;
    }
  }
  return VS_OK;
}

/* ---- building a run ------------------------------------------------------- */

typedef struct {
  const vs_sweep *s;
  const double *values;
  const char *file;
} edit_ctx;

static struct fy_node *number_node(struct fy_document *doc, double v,
                                   int integer) {
  char text[48];
  if (integer)
    snprintf(text, sizeof text, "%.0f", v);
  else
    vs_schema_format_number(v, text, sizeof text);
  return fy_node_create_scalar_copy(doc, text, strlen(text));
}

/* Writes v at target t of the document (steps resolved at load time). */
static int set_target(struct fy_document *doc, struct fy_node *top,
                      const target *t, double v, int integer) {
  struct fy_node *n = top;
  for (size_t i = 0; i + 1 < t->n_steps; ++i) {
    const step *st = &t->steps[i];
    if (!st->key) {
      n = fy_node_sequence_get_by_index(n, (int)st->index);
    } else {
      struct fy_node *child = lookup(n, st->key);
      if (!child && st->create) {
        child = fy_node_create_mapping(doc);
        struct fy_node *k = fy_node_create_scalar_copy(doc, st->key,
                                                       strlen(st->key));
        if (!child || !k || fy_node_mapping_append(n, k, child)) return -1;
      }
      n = child;
    }
    if (!n) return -1;
  }
  const step *st = &t->steps[t->n_steps - 1];
  struct fy_node *val = number_node(doc, v, integer);
  if (!val) return -1;
  if (!st->key) { /* an element of a list of numbers */
    struct fy_node *old = fy_node_sequence_get_by_index(n, (int)st->index);
    if (!old || fy_node_sequence_insert_after(n, old, val)) return -1;
    if (!fy_node_sequence_remove(n, old)) return -1;
    fy_node_free(old);
    return 0;
  }
  struct fy_node_pair *p = find_pair(n, st->key);
  if (p) return fy_node_pair_set_value(p, val);
  struct fy_node *k = fy_node_create_scalar_copy(doc, st->key, strlen(st->key));
  return k ? fy_node_mapping_append(n, k, val) : -1;
}

static int apply_values(struct fy_document *doc, struct fy_node *top,
                        void *user, char *msg, size_t msglen) {
  const edit_ctx *e = user;
  /* The sweep section itself is no part of a run (when it could not be
   * blanked out of the text). */
  struct fy_node_pair *sweep = find_pair(top, "sweep");
  if (sweep) {
    struct fy_node *v =
        fy_node_mapping_remove_by_key(top, fy_node_pair_key(sweep));
    if (v) fy_node_free(v);
  }
  for (size_t j = 0; j < e->s->n_inputs; ++j) {
    const input *in = &e->s->inputs[j];
    for (size_t t = 0; t < in->n_targets; ++t)
      if (set_target(doc, top, &in->targets[t], e->values[j], in->integer)) {
        snprintf(msg, msglen, "%s: cannot set %s (out of memory?)", e->file,
                 in->path);
        return VS_ENOMEM;
      }
  }
  return VS_OK;
}

/* "k_mmhg = 40, kt = 1.5" for messages about a run. */
static void values_text(const vs_sweep *s, const double *v, char *buf,
                        size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t j = 0; j < s->n_inputs && used < size; ++j) {
    char num[32];
    vs_schema_format_number(v[j], num, sizeof num);
    int w = snprintf(buf + used, size - used, "%s%s = %s", j ? ", " : "",
                     s->inputs[j].column, num);
    if (w < 0) break;
    used += (size_t)w;
  }
}

int vs_sweep_build_run(const vs_sweep *s, size_t run, vs_case **c, char *msg,
                       size_t msglen) {
  if (c) *c = NULL;
  if (!s || !c || run >= s->n_runs) return VS_EINVAL;
  double stack_values[16];
  double *values = s->n_inputs <= 16
                       ? stack_values
                       : malloc(s->n_inputs * sizeof *values);
  if (!values) return VS_ENOMEM;
  vs_sweep_run_values(s, run, values);
  edit_ctx e = {s, values, s->base->path};
  char why[1024];
  int rc = vs_case_load_edited(s->run_text, s->run_len, s->base->path,
                               s->has_sweep ? apply_values : NULL, &e,
                               run % s->n_arms, c, why, sizeof why);
  if (rc && msg && msglen) {
    char name[256], vals[512];
    vs_sweep_run_name(s, run, name, sizeof name);
    values_text(s, values, vals, sizeof vals);
    if (s->n_inputs)
      snprintf(msg, msglen, "run %s (%s): %s", name, vals, why);
    else
      snprintf(msg, msglen, "run %s: %s", name, why);
  }
  if (values != stack_values) free(values);
  return rc;
}

int vs_sweep_validate(const vs_sweep *s, int threads, char *msg,
                      size_t msglen) {
  if (!s) return VS_EINVAL;
  if (!s->has_sweep && s->n_arms == 1) return VS_OK;
  size_t bad = SIZE_MAX;
  int bad_rc = VS_OK;
  int nt = threads > 0 ? threads : omp_get_max_threads();
  /* Each thread checks runs in turn; the lowest failing run is reported,
   * whatever the number of threads. */
#pragma omp parallel for schedule(dynamic, 16) num_threads(nt)
  for (size_t i = 0; i < s->n_runs; ++i) {
    size_t known;
#pragma omp atomic read
    known = bad;
    if (i > known) continue;
    vs_case *c = NULL;
    char why[2048];
    int rc = vs_sweep_build_run(s, i, &c, why, sizeof why);
    vs_case_free(&c);
    if (rc) {
#pragma omp critical(vs_sweep_validate)
      if (i < bad) {
#pragma omp atomic write
        bad = i;
        bad_rc = rc;
        if (msg && msglen) snprintf(msg, msglen, "%s", why);
      }
    }
  }
  return bad_rc;
}

/* ---- run source ------------------------------------------------------------ */

typedef struct {
  vs_case *c;
  char name[256];
  double values[]; /* n_inputs */
} sweep_job;

static int source_acquire(void *user, size_t index, vs_run_job *job,
                          char *msg, size_t msglen) {
  const vs_sweep *s = user;
  sweep_job *j = calloc(1, sizeof *j + (s->n_inputs + 1) * sizeof(double));
  memset(job, 0, sizeof *job);
  if (!j) {
    snprintf(msg, msglen, "out of memory");
    return VS_ENOMEM;
  }
  job->handle = j;
  vs_sweep_run_name(s, index, j->name, sizeof j->name);
  vs_sweep_run_values(s, index, j->values);
  job->name = j->name;
  job->inputs = j->values;
  int rc = vs_sweep_build_run(s, index, &j->c, msg, msglen);
  if (rc) return rc;
  job->network = j->c->network;
  job->solver = j->c->solver;
  return VS_OK;
}

static void source_release(void *user, vs_run_job *job) {
  (void)user;
  sweep_job *j = job->handle;
  if (j) vs_case_free(&j->c);
  free(j);
  memset(job, 0, sizeof *job);
}

void vs_sweep_run_source(const vs_sweep *s, vs_run_source *src) {
  if (!src) return;
  memset(src, 0, sizeof *src);
  if (!s) return;
  src->n_runs = s->n_runs;
  src->n_inputs = s->n_inputs;
  src->acquire = source_acquire;
  src->release = source_release;
  src->user = (void *)s;
}
