/* Case files: YAML text -> checked against the schema table -> network and
 * solver options (case.h).
 *
 * Three passes, each stopping at the first problem with "FILE:LINE:COL:":
 *   1. text and YAML syntax (libfyaml, its diagnostics collected, not
 *      printed);
 *   2. the document against the schema table (case_schema.c) into a value
 *      tree with every default filled in;
 *   3. names (duplicates, unknown nodes) with their positions, then the
 *      network is built and vs_network_validate() has the last word.
 * The resolved case is printed from the value tree, so it holds exactly
 * what was used. */
#include "venosim/case.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "case_schema.h"
#include "text.h"
#include "yaml_node.h"
#include "venosim/error.h"
#include "venosim/leg.h"
#include "venosim/units.h"

enum {
  PATH_LEN = 256,               /* longest key path kept in messages */
  MAX_CASE_BYTES = 64 << 20,    /* a case file larger than this is a mistake */
  SHOW_LEN = 48                 /* longest piece of the file quoted back */
};

/* ---- the value tree --------------------------------------------------------
 * One cval per schema key of each mapping, aligned with the schema table
 * (kids[i] belongs to sub[i]); a list's kids are its items. */
typedef struct cval cval;
struct cval {
  const vs_schema_key *key;  /* schema row; NULL for a list item */
  int given;                 /* set, from the file or from a default */
  int from_file;             /* written in the file */
  int line, col;             /* position of the value (1-based; 0: none) */
  int key_line, key_col;     /* position of its key */
  double num;                /* number, integer, bool, enum index, constant
                                waveform */
  char *str;                 /* string */
  double *nums;              /* number list */
  size_t n_nums;
  const vs_schema_key *sub;  /* mapping (or waveform mapping): its keys */
  cval *kids;
  size_t n_kids;
  const char *variant;       /* mapping: value of its discriminator */
  int is_map;                /* waveform given as a mapping */
};

static void cval_clear(cval *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n_kids; ++i) cval_clear(&v->kids[i]);
  free(v->kids);
  free(v->str);
  free(v->nums);
  memset(v, 0, sizeof *v);
}

/* The child of a mapping by key. A key missing from the schema is a bug in
 * this file; it reads as absent rather than crashing a release build. */
static const cval *kid(const cval *map, const char *key) {
  static const cval absent;
  int i = vs_schema_find(map->sub, key);
  assert(i >= 0 && "key not in the schema table");
  return i >= 0 && (size_t)i < map->n_kids ? &map->kids[i] : &absent;
}

static double num_of(const cval *map, const char *key) {
  return kid(map, key)->num;
}

static const char *str_of(const cval *map, const char *key) {
  const char *s = kid(map, key)->str;
  return s ? s : "";
}

/* ---- reader context and messages ---------------------------------------- */

typedef struct {
  const char *file; /* display name for messages */
  const char *stem; /* default case name */
  char *msg;
  size_t msglen;
} reader;

/* Writes "FILE:LINE:COL: message" (or "FILE: message" without a position)
 * and returns status. */
static int fail(reader *r, int status, int line, int col, const char *fmt,
                ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

static int fail(reader *r, int status, int line, int col, const char *fmt,
                ...) {
  pos_t p = {line, col};
  va_list ap;
  va_start(ap, fmt);
  vs_yaml_vlocate(r->msg, r->msglen, r->file, p, fmt, ap);
  va_end(ap);
  return status;
}

static int fail_oom(reader *r) {
  return fail(r, VS_ENOMEM, 0, 0, "out of memory");
}

/* "links[0]" or "the top level", for "in ..." phrases. */
static const char *where(const char *path) {
  return path[0] ? path : "the top level";
}

static void join_path(char *out, const char *path, const char *key) {
  snprintf(out, PATH_LEN, "%s%s%s", path, path[0] ? "." : "", key);
}

/* ---- YAML nodes ----------------------------------------------------------- */



static const char *scalar_text(struct fy_node *n, size_t *len) {
  const char *s = fy_node_get_scalar(n, len);
  if (!s) {
    *len = 0;
    return "";
  }
  return s;
}

/* A plain (unquoted) scalar is typed by its text; a quoted one, or one
 * tagged !!str, is a string whatever it reads. */
static int is_plain(struct fy_node *n) {
  static const char str_tag[] = "tag:yaml.org,2002:str";
  size_t len = 0;
  const char *tag = fy_node_get_tag(n, &len);
  if (tag && len == sizeof str_tag - 1 && memcmp(tag, str_tag, len) == 0)
    return 0;
  return fy_node_get_style(n) == FYNS_PLAIN;
}

static int text_is(const char *s, size_t n, const char *word) {
  return strlen(word) == n && memcmp(s, word, n) == 0;
}

static int text_in(const char *s, size_t n, const char *const *words) {
  for (; *words; ++words)
    if (text_is(s, n, *words)) return 1;
  return 0;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL",
                                         NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

/* An empty value (`key:`) or an explicit YAML null. */
static int is_null(struct fy_node *n) {
  if (!n) return 1;
  if (fy_node_get_type(n) != FYNT_SCALAR || !is_plain(n)) return 0;
  size_t len;
  const char *s = scalar_text(n, &len);
  return text_in(s, len, null_words);
}

/* YAML 1.2 core schema, decimal only:
 * [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static int is_decimal(const char *s, size_t n) {
  size_t i = 0, digits = 0;
  if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
  while (i < n && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  if (i < n && s[i] == '.') {
    ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return 0;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    size_t e = 0;
    ++i;
    if (i < n && (s[i] == '-' || s[i] == '+')) ++i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i, ++e;
    if (e == 0) return 0;
  }
  return i == n;
}

/* YAML's spellings of infinity and not-a-number (.inf, -.inf, .nan); with
 * `c_too`, also C's (inf, nan, infinity), which YAML reads as strings but
 * someone writing a number meant as numbers. */
static int is_nonfinite_word(const char *s, size_t n, int c_too) {
  static const char *const yaml_words[] = {".inf", ".Inf", ".INF", ".nan",
                                           ".NaN", ".NAN", NULL};
  static const char *const c_words[] = {"inf", "Inf", "INF", "nan", "NaN",
                                        "NAN", "infinity", "Infinity", NULL};
  if (n > 0 && (s[0] == '-' || s[0] == '+')) ++s, --n;
  return text_in(s, n, yaml_words) || (c_too && text_in(s, n, c_words));
}

/* Other plain scalars YAML reads as numbers: 0x1F, 0o17. */
static int is_other_int(const char *s, size_t n) {
  if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'o')) return 0;
  for (size_t i = 2; i < n; ++i)
    if (!strchr(s[1] == 'x' ? "0123456789abcdefABCDEF" : "01234567", s[i]))
      return 0;
  return 1;
}

enum { NUM_OK = 0, NUM_SYNTAX, NUM_NONFINITE };

/* Text to double, independent of LC_NUMERIC. */
static int parse_number(const char *s, size_t n, double *x) {
  if (is_nonfinite_word(s, n, 1)) return NUM_NONFINITE;
  if (!is_decimal(s, n)) return NUM_SYNTAX;
  char buf[512];
  if (n >= sizeof buf) return NUM_SYNTAX;
  memcpy(buf, s, n);
  buf[n] = '\0';
  const char *dp = localeconv()->decimal_point;
  if (dp && dp[0] != '.' && dp[0] != '\0' && dp[1] == '\0') {
    char *p = strchr(buf, '.');
    if (p) *p = dp[0];
  }
  *x = strtod(buf, NULL);
  return isfinite(*x) ? NUM_OK : NUM_NONFINITE; /* 1e999 overflows */
}


/* 1 if YAML would read this plain scalar as something other than a string
 * (null, bool, number): such a value for a string key must be quoted. */
static int reads_as_non_string(const char *s, size_t n) {
  return text_in(s, n, null_words) || text_in(s, n, true_words) ||
         text_in(s, n, false_words) || is_decimal(s, n) ||
         is_nonfinite_word(s, n, 0) || is_other_int(s, n);
}

/* The node as quoted back in a message: 'five', the string "5", a list. */
static const char *show(struct fy_node *n, char *buf, size_t size) {
  if (is_null(n)) return "an empty value";
  if (fy_node_get_type(n) == FYNT_MAPPING) return "a mapping";
  if (fy_node_get_type(n) == FYNT_SEQUENCE) return "a list";
  size_t len, k = 0;
  const char *s = scalar_text(n, &len);
  char text[SHOW_LEN + 1];
  for (; k < len && k < SHOW_LEN; ++k)
    text[k] = (unsigned char)s[k] < 0x20 ? ' ' : s[k];
  text[k] = '\0';
  snprintf(buf, size, is_plain(n) ? "'%s%s'" : "the string \"%s%s\"", text,
           len > SHOW_LEN ? "..." : "");
  return buf;
}

/* The pair of mapping n whose key is `key`, or NULL. */
static struct fy_node_pair *find_pair(struct fy_node *n, const char *key) {
  void *it = NULL;
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(n, &it))) {
    struct fy_node *k = fy_node_pair_key(pair);
    if (!k || fy_node_get_type(k) != FYNT_SCALAR) continue;
    size_t len;
    const char *text = scalar_text(k, &len);
    if (text_is(text, len, key)) return pair;
  }
  return NULL;
}

/* ---- pass 1: text and YAML syntax ----------------------------------------- */

/* Length of the UTF-8 sequence at s (1 to 4), or 0 if it is not valid
 * (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned c = s[0], cp;
  size_t len;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
  else return 0;
  if (len > n) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3fu);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

/* Binary data and broken encodings get a clear message (libfyaml would
 * accept some invalid UTF-8 and stop at a NUL byte without saying so). */
static int check_text(reader *r, const char *text, size_t n) {
  const unsigned char *s = (const unsigned char *)text;
  int line = 1, col = 1;
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    if (c == '\n') {
      ++line, col = 1, ++i;
      continue;
    }
    if (c == 0)
      return fail(r, VS_EPARSE, line, col,
                  "not a YAML text file: NUL byte (binary data?)");
    if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
      return fail(r, VS_EPARSE, line, col,
                  "not a YAML text file: control character 0x%02x", c);
    size_t len = utf8_len(s + i, n - i);
    if (len == 0)
      return fail(r, VS_EPARSE, line, col,
                  "not a YAML text file: invalid UTF-8 byte 0x%02x", c);
    i += len, ++col;
  }
  return VS_OK;
}

/* libfyaml reports through a diag object: errors are collected (and turned
 * into our messages), nothing is printed. */

static int yaml_error(reader *r, struct fy_diag *diag) {
  void *it = NULL;
  struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
  if (!e) return VS_OK;
  return fail(r, VS_EPARSE, e->line, e->column, "YAML syntax error: %s",
              e->msg ? e->msg : "malformed input");
}

/* ---- pass 2: the document against the schema ------------------------------ */

static int check_mapping(reader *r, struct fy_node *n,
                         const vs_schema_key *sub, const vs_schema_key *range_key,
                         const char *path, pos_t at, cval *out);
static int finish_mapping(reader *r, cval *m, const char *path, pos_t at);

/* A number or integer: plain scalar, decimal, finite, within rk's range. */
static int check_number(reader *r, struct fy_node *n, const char *what,
                        int integer, const vs_schema_key *rk, const char *path,
                        pos_t p, double *x) {
  char got[SHOW_LEN + 32], range[64];
  size_t len = 0;
  const char *s = "";
  int rc = NUM_SYNTAX;
  if (n && fy_node_get_type(n) == FYNT_SCALAR && is_plain(n) && !is_null(n)) {
    s = scalar_text(n, &len);
    rc = parse_number(s, len, x);
  }
  int shown = len < SHOW_LEN ? (int)len : SHOW_LEN;
  if (rc == NUM_NONFINITE)
    return fail(r, VS_ESCHEMA, p.line, p.col, "%s = %.*s is not a finite number",
                path, shown, s);
  if (rc != NUM_OK || (integer && (*x != floor(*x) || fabs(*x) > 9.0e15)))
    return fail(r, VS_ESCHEMA, p.line, p.col, "%s: expected %s, got %s", path,
                what, show(n, got, sizeof got));
  if (!vs_schema_in_range(rk, *x)) {
    vs_schema_format_range(rk, range, sizeof range);
    return fail(r, VS_ESCHEMA, p.line, p.col, "%s = %.*s is out of range %s",
                path, shown, s, range);
  }
  return VS_OK;
}

static int check_string(reader *r, struct fy_node *n, const vs_schema_key *k,
                        const char *path, pos_t p, cval *out) {
  char got[SHOW_LEN + 32];
  size_t len;
  if (!n || fy_node_get_type(n) != FYNT_SCALAR || is_null(n))
    return fail(r, VS_ESCHEMA, p.line, p.col, "%s: expected a string, got %s",
                path, show(n, got, sizeof got));
  const char *s = scalar_text(n, &len);
  if (is_plain(n) && reads_as_non_string(s, len))
    return fail(r, VS_ESCHEMA, p.line, p.col,
                "%s: expected a string, got %s (quote it to use it as text)",
                path, show(n, got, sizeof got));
  if (memchr(s, '\0', len))
    return fail(r, VS_ESCHEMA, p.line, p.col, "%s: contains a NUL character",
                path);
  size_t visible = 0;
  for (size_t i = 0; i < len; ++i)
    visible += !strchr(" \t\r\n", s[i]);
  if (visible < k->min_items)
    return fail(r, VS_ESCHEMA, p.line, p.col, "%s: must not be empty", path);
  out->str = vs_text_dup_n(s, len);
  return out->str ? VS_OK : fail_oom(r);
}

/* "a, b, c" from a NULL-terminated list (enum choices). */
static void join_choices(const char *const *words, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; words[i] && used < size; ++i) {
    int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", words[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
}

static int check_enum(reader *r, struct fy_node *n, const vs_schema_key *k,
                      const char *path, pos_t p, double *x) {
  char got[SHOW_LEN + 32], choices[256];
  join_choices(k->choices, choices, sizeof choices);
  if (n && fy_node_get_type(n) == FYNT_SCALAR && !is_null(n)) {
    size_t len;
    const char *s = scalar_text(n, &len);
    for (size_t i = 0; k->choices[i]; ++i)
      if (text_is(s, len, k->choices[i])) {
        *x = (double)i;
        return VS_OK;
      }
    return fail(r, VS_ESCHEMA, p.line, p.col,
                "%s: unknown value %s (expected one of: %s)", path,
                show(n, got, sizeof got), choices);
  }
  return fail(r, VS_ESCHEMA, p.line, p.col, "%s: expected one of: %s; got %s",
              path, choices, show(n, got, sizeof got));
}

static int check_bool(reader *r, struct fy_node *n, const char *path, pos_t p,
                      double *x) {
  char got[SHOW_LEN + 32];
  if (n && fy_node_get_type(n) == FYNT_SCALAR && is_plain(n)) {
    size_t len;
    const char *s = scalar_text(n, &len);
    if (text_in(s, len, true_words) || text_in(s, len, false_words)) {
      *x = text_in(s, len, true_words);
      return VS_OK;
    }
  }
  return fail(r, VS_ESCHEMA, p.line, p.col,
              "%s: expected true or false, got %s", path,
              show(n, got, sizeof got));
}

static int check_number_list(reader *r, struct fy_node *n,
                             const vs_schema_key *k, const vs_schema_key *rk,
                             const char *path, pos_t p, cval *out) {
  char got[SHOW_LEN + 32], item_path[PATH_LEN];
  if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
    return fail(r, VS_ESCHEMA, p.line, p.col,
                "%s: expected a list of numbers, got %s", path,
                show(n, got, sizeof got));
  int count = fy_node_sequence_item_count(n);
  if (count < 0 || (size_t)count < k->min_items)
    return fail(r, VS_ESCHEMA, p.line, p.col,
                "%s: expected at least %zu number%s, got %d", path,
                k->min_items, k->min_items == 1 ? "" : "s", count);
  out->nums = calloc((size_t)count + 1, sizeof *out->nums);
  if (!out->nums) return fail_oom(r);
  void *it = NULL;
  struct fy_node *item;
  for (size_t i = 0; (item = fy_node_sequence_iterate(n, &it)); ++i) {
    snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
    int rc = check_number(r, item, "a number", 0, rk, item_path,
                          vs_yaml_node_pos(item, p), &out->nums[i]);
    if (rc) return rc;
    out->n_nums = i + 1;
  }
  return VS_OK;
}

/* Checks that belong to waveforms as such: knots in order, as many values
 * as times, and every value a sine can take within the key's range. */
static int check_waveform(reader *r, struct fy_node *n, const vs_schema_key *k,
                          const char *path, pos_t p, const cval *w) {
  char a[32], b[32], range[64];
  if (strcmp(w->variant, "table") == 0) {
    const cval *t = kid(w, "times_s"), *v = kid(w, "values");
    struct fy_node *times = fy_node_mapping_lookup_by_string(n, "times_s", 7);
    for (size_t i = 1; i < t->n_nums; ++i)
      if (!(t->nums[i] > t->nums[i - 1])) {
        pos_t q = vs_yaml_node_pos(fy_node_sequence_get_by_index(times, (int)i), p);
        vs_schema_format_number(t->nums[i], a, sizeof a);
        vs_schema_format_number(t->nums[i - 1], b, sizeof b);
        return fail(r, VS_ESCHEMA, q.line, q.col,
                    "%s.times_s[%zu] = %s is not after times_s[%zu] = %s "
                    "(times must increase strictly)",
                    path, i, a, i - 1, b);
      }
    if (t->n_nums != v->n_nums)
      return fail(r, VS_ESCHEMA, v->line, v->col,
                  "%s: values has %zu entries but times_s has %zu", path,
                  v->n_nums, t->n_nums);
    if (num_of(w, "periodic") != 0 && t->n_nums < 2)
      return fail(r, VS_ESCHEMA, p.line, p.col,
                  "%s: a periodic table needs at least 2 knots", path);
    return VS_OK;
  }
  /* sine: mean +- |amplitude| must stay in range */
  double mean = num_of(w, "mean"), amp = fabs(num_of(w, "amplitude"));
  if (!vs_schema_in_range(k, mean - amp) || !vs_schema_in_range(k, mean + amp)) {
    const cval *m = kid(w, "mean");
    vs_schema_format_number(mean, a, sizeof a);
    vs_schema_format_number(amp, b, sizeof b);
    vs_schema_format_range(k, range, sizeof range);
    return fail(r, VS_ESCHEMA, m->line, m->col,
                "%s: mean %s +- amplitude %s leaves the range %s", path, a, b,
                range);
  }
  return VS_OK;
}

/* One value of key k at node n (NULL: written as `key:` with nothing). */
static int check_value(reader *r, struct fy_node *n, const vs_schema_key *k,
                       const vs_schema_key *range_key, const char *path,
                       pos_t at, cval *out) {
  char got[SHOW_LEN + 32];
  pos_t p = vs_yaml_node_pos(n, at);
  const vs_schema_key *rk = k->inherit_range && range_key ? range_key : k;
  int rc;
  out->key = k;
  out->line = p.line;
  out->col = p.col;
  switch (k->type) {
  case VS_ST_NUMBER:
    rc = check_number(r, n, "a number", 0, rk, path, p, &out->num);
    break;
  case VS_ST_INTEGER:
    rc = check_number(r, n, "an integer", 1, rk, path, p, &out->num);
    break;
  case VS_ST_STRING:
    rc = check_string(r, n, k, path, p, out);
    break;
  case VS_ST_BOOL:
    rc = check_bool(r, n, path, p, &out->num);
    break;
  case VS_ST_ENUM:
    rc = check_enum(r, n, k, path, p, &out->num);
    break;
  case VS_ST_NUMBER_LIST:
    rc = check_number_list(r, n, k, rk, path, p, out);
    break;
  case VS_ST_WAVEFORM:
    if (n && fy_node_get_type(n) == FYNT_MAPPING) {
      out->is_map = 1;
      rc = check_mapping(r, n, vs_waveform_schema, k, path, at, out);
      if (!rc) rc = check_waveform(r, n, k, path, p, out);
    } else {
      rc = check_number(r, n, "a number or a waveform mapping", 0, k, path, p,
                        &out->num);
    }
    break;
  case VS_ST_MAPPING:
    rc = check_mapping(r, n, k->sub, range_key, path, at, out);
    break;
  case VS_ST_LIST: {
    if (!n || fy_node_get_type(n) != FYNT_SEQUENCE)
      return fail(r, VS_ESCHEMA, p.line, p.col,
                  "%s: expected a list of mappings, got %s", path,
                  show(n, got, sizeof got));
    int count = fy_node_sequence_item_count(n);
    if (count < 0 || (size_t)count < k->min_items)
      return fail(r, VS_ESCHEMA, p.line, p.col,
                  "%s: expected at least %zu item%s, got %d", path,
                  k->min_items, k->min_items == 1 ? "" : "s", count);
    out->kids = calloc((size_t)count + 1, sizeof *out->kids);
    if (!out->kids) return fail_oom(r);
    void *it = NULL;
    struct fy_node *item;
    rc = VS_OK;
    for (size_t i = 0; !rc && (item = fy_node_sequence_iterate(n, &it)); ++i) {
      char item_path[PATH_LEN];
      snprintf(item_path, sizeof item_path, "%s[%zu]", path, i);
      out->n_kids = i + 1;
      rc = check_mapping(r, item, k->sub, NULL, item_path, vs_yaml_node_pos(item, p),
                         &out->kids[i]);
    }
    break;
  }
  default:
    rc = fail(r, VS_ESCHEMA, p.line, p.col, "%s: unsupported schema type",
              path);
  }
  if (!rc) out->given = 1;
  return rc;
}

/* One `key: value` pair of a mapping, for schema row k. */
static int check_pair(reader *r, struct fy_node_pair *pair,
                      const vs_schema_key *k, const vs_schema_key *range_key,
                      const char *path, pos_t key_pos, cval *out) {
  char sub[PATH_LEN];
  join_path(sub, path, k->key);
  out->key_line = key_pos.line;
  out->key_col = key_pos.col;
  out->from_file = 1;
  return check_value(r, fy_node_pair_value(pair), k, range_key, sub, key_pos,
                     out);
}

static int unknown_key(reader *r, pos_t p, const char *path, const char *key,
                       size_t key_len, const cval *m) {
  char expected[512], of_type[96] = "";
  size_t used = 0;
  expected[0] = '\0';
  for (size_t i = 0; m->sub[i].key && used < sizeof expected; ++i) {
    if (!vs_schema_applies(&m->sub[i], m->variant)) continue;
    int w = snprintf(expected + used, sizeof expected - used, "%s%s",
                     used ? ", " : "", m->sub[i].key);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (m->variant) snprintf(of_type, sizeof of_type, " of type '%s'", m->variant);
  return fail(r, VS_ESCHEMA, p.line, p.col,
              "unknown key '%.*s' %s%s%s (expected one of: %s)",
              key_len < SHOW_LEN ? (int)key_len : SHOW_LEN, key,
              path[0] ? "in " : "at ", where(path), of_type, expected);
}

static int check_mapping(reader *r, struct fy_node *n,
                         const vs_schema_key *sub, const vs_schema_key *range_key,
                         const char *path, pos_t at, cval *out) {
  char got[SHOW_LEN + 32];
  if (!n || fy_node_get_type(n) != FYNT_MAPPING)
    return fail(r, VS_ESCHEMA, at.line, at.col, "%s: expected a mapping, got %s",
                where(path), show(n, got, sizeof got));
  pos_t mp = vs_yaml_node_pos(n, at);
  size_t nk = vs_schema_count(sub);
  out->sub = sub;
  out->line = mp.line;
  out->col = mp.col;
  out->kids = calloc(nk + 1, sizeof *out->kids);
  if (!out->kids) return fail_oom(r);
  out->n_kids = nk;
  for (size_t i = 0; i < nk; ++i) out->kids[i].key = &sub[i];

  /* The discriminator first: its value decides which other keys exist. */
  int d = vs_schema_discriminator(sub);
  if (d >= 0) {
    struct fy_node_pair *pair = find_pair(n, sub[d].key);
    if (!pair && sub[d].dflt == VS_DEFAULT_VALUE && sub[d].def_text) {
      /* A defaulted discriminator: its default picks the variant, and
       * finish_mapping fills it in like any absent key. */
      out->variant = sub[d].def_text;
    } else if (!pair) {
      char choices[256];
      join_choices(sub[d].choices, choices, sizeof choices);
      return fail(r, VS_ESCHEMA, mp.line, mp.col,
                  "%s: missing required key '%s' (one of: %s)", where(path),
                  sub[d].key, choices);
    }
    if (pair) {
      int rc = check_pair(r, pair, &sub[d], range_key, path,
                          vs_yaml_node_pos(fy_node_pair_key(pair), mp),
                          &out->kids[d]);
      if (rc) return rc;
      out->variant = sub[d].choices[(int)out->kids[d].num];
    }
  }

  void *it = NULL;
  struct fy_node_pair *pair;
  while ((pair = fy_node_mapping_iterate(n, &it))) {
    struct fy_node *kn = fy_node_pair_key(pair);
    pos_t kp = vs_yaml_node_pos(kn, mp);
    if (!kn || fy_node_get_type(kn) != FYNT_SCALAR || is_null(kn))
      return fail(r, VS_ESCHEMA, kp.line, kp.col,
                  "%s: expected a key name, got %s", where(path),
                  show(kn, got, sizeof got));
    size_t len;
    const char *key = scalar_text(kn, &len);
    int idx = -1;
    for (size_t i = 0; i < nk && idx < 0; ++i)
      if (text_is(key, len, sub[i].key)) idx = (int)i;
    if (idx == d && d >= 0) continue;
    if (idx < 0 || !vs_schema_applies(&sub[idx], out->variant))
      return unknown_key(r, kp, path, key, len, out);
    int rc = check_pair(r, pair, &sub[idx], range_key, path, kp,
                        &out->kids[idx]);
    if (rc) return rc;
  }
  return finish_mapping(r, out, path, mp);
}

/* Fills the default of an absent key (VS_DEFAULT_NEEDS_MET: later). */
static int apply_default(reader *r, cval *c, const char *path) {
  const vs_schema_key *k = c->key;
  switch (k->dflt) {
  case VS_DEFAULT_NONE:
  case VS_DEFAULT_NEEDS_MET:
    return VS_OK;
  case VS_DEFAULT_STEM:
    c->str = vs_text_dup(r->stem);
    if (!c->str) return fail_oom(r);
    break;
  case VS_DEFAULT_EMPTY:
    if (k->type == VS_ST_MAPPING) {
      char sub[PATH_LEN];
      size_t nk = vs_schema_count(k->sub);
      join_path(sub, path, k->key);
      c->sub = k->sub;
      c->kids = calloc(nk + 1, sizeof *c->kids);
      if (!c->kids) return fail_oom(r);
      c->n_kids = nk;
      for (size_t i = 0; i < nk; ++i) c->kids[i].key = &k->sub[i];
      pos_t none = {0, 0};
      int rc = finish_mapping(r, c, sub, none);
      if (rc) return rc;
    }
    break; /* a list: no items */
  case VS_DEFAULT_VALUE:
  case VS_DEFAULT_MODEL:
    if (k->type == VS_ST_STRING) {
      c->str = vs_text_dup(k->def_text ? k->def_text : "");
      if (!c->str) return fail_oom(r);
    } else if (k->type == VS_ST_ENUM && k->def_text) {
      c->num = vs_schema_choice(k, k->def_text);
    } else {
      c->num = vs_schema_default_number(k);
    }
    break;
  }
  c->given = 1;
  return VS_OK;
}

/* 1 if sibling `key` of mapping m is given (a bool: given and true). */
static int need_met(const cval *m, const char *key, size_t len) {
  for (size_t i = 0; i < m->n_kids; ++i) {
    const cval *s = &m->kids[i];
    if (strlen(s->key->key) == len && strncmp(s->key->key, key, len) == 0)
      return s->given && (s->key->type != VS_ST_BOOL || s->num != 0);
  }
  return 0;
}

static int needs_met(const cval *m, const char *needs) {
  for (const char *p = needs; *p;) {
    while (*p == ' ') ++p;
    size_t len = strcspn(p, " ");
    if (len && !need_met(m, p, len)) return 0;
    p += len;
  }
  return 1;
}

/* "links[0].diameter_mm and links[0].length_cm" (bools: "...: true"). */
static void needs_text(const cval *m, const char *path, const char *needs,
                       char *buf, size_t size) {
  size_t used = 0, count = 0, total = 0;
  for (const char *p = needs; *p;) {
    while (*p == ' ') ++p;
    size_t len = strcspn(p, " ");
    total += len > 0;
    p += len;
  }
  buf[0] = '\0';
  for (const char *p = needs; *p && used < size;) {
    while (*p == ' ') ++p;
    size_t len = strcspn(p, " ");
    if (!len) break;
    char key[PATH_LEN];
    snprintf(key, sizeof key, "%.*s", (int)len, p);
    int idx = vs_schema_find(m->sub, key);
    int is_bool = idx >= 0 && m->sub[idx].type == VS_ST_BOOL;
    int w = snprintf(buf + used, size - used, "%s%s%s%s%s",
                     count == 0 ? "" : count + 1 == total ? " and " : ", ",
                     path, path[0] ? "." : "", key, is_bool ? ": true" : "");
    if (w < 0) break;
    used += (size_t)w;
    ++count;
    p += len;
  }
}

/* After a mapping's own keys: required keys, defaults, and the rules that
 * join keys (needs, at_most). `at` places messages about absent keys. */
static int finish_mapping(reader *r, cval *m, const char *path, pos_t at) {
  char of_type[96] = "", a[32], b[32], text[PATH_LEN * 3];
  for (size_t i = 0; i < m->n_kids; ++i) {
    cval *c = &m->kids[i];
    if (c->given || !vs_schema_applies(c->key, m->variant)) continue;
    if (c->key->required) {
      if (c->key->only)
        snprintf(of_type, sizeof of_type, " (for type '%s')", m->variant);
      if (!path[0])
        return fail(r, VS_ESCHEMA, at.line, at.col,
                    "missing required key '%s'%s", c->key->key, of_type);
      return fail(r, VS_ESCHEMA, at.line, at.col,
                  "%s: missing required key '%s'%s", path, c->key->key,
                  of_type);
    }
    int rc = apply_default(r, c, path);
    if (rc) return rc;
  }
  for (size_t i = 0; i < m->n_kids; ++i) {
    cval *c = &m->kids[i];
    if (!c->given && c->key->dflt == VS_DEFAULT_NEEDS_MET &&
        vs_schema_applies(c->key, m->variant)) {
      c->num = needs_met(m, c->key->needs);
      c->given = 1;
    }
  }
  for (size_t i = 0; i < m->n_kids; ++i) {
    const cval *c = &m->kids[i];
    const vs_schema_key *k = c->key;
    if (!c->given) continue;
    int on = k->type != VS_ST_BOOL || c->num != 0;
    if (k->needs && on && !needs_met(m, k->needs)) {
      needs_text(m, path, k->needs, text, sizeof text);
      return fail(r, VS_ESCHEMA, c->key_line ? c->key_line : at.line,
                  c->key_line ? c->key_col : at.col, "%s%s%s%s needs %s", path,
                  path[0] ? "." : "", k->key,
                  k->type == VS_ST_BOOL ? ": true" : "", text);
    }
    if (k->at_most) {
      const cval *lim = kid(m, k->at_most);
      if (lim->given && c->num > lim->num) {
        const cval *at_c = c->from_file ? c : lim;
        vs_schema_format_number(c->num, a, sizeof a);
        vs_schema_format_number(lim->num, b, sizeof b);
        return fail(r, VS_ESCHEMA, at_c->line ? at_c->line : at.line,
                    at_c->line ? at_c->col : at.col,
                    "%s.%s = %s%s must not exceed %s.%s = %s", path, k->key, a,
                    c->from_file ? "" : " (default)", path, k->at_most, b);
      }
    }
  }
  return VS_OK;
}

/* ---- pass 3: names, then the network -------------------------------------- */

enum { NS_NODE = 1, NS_BRANCH = 2, NS_BOUNDARY = 4 };

typedef struct {
  const char *name;
  unsigned ns;      /* namespaces it occupies (network.h: nodes, branches) */
  const char *kind; /* "compartment", "pressure boundary", ... */
  int line;
} name_entry;

typedef struct {
  name_entry *e;
  size_t n;
} name_table;

static const name_entry *find_name(const name_table *t, const char *name) {
  for (size_t i = 0; i < t->n; ++i)
    if (strcmp(t->e[i].name, name) == 0) return &t->e[i];
  return NULL;
}

static int add_name(reader *r, name_table *t, const cval *item, unsigned ns,
                    const char *kind) {
  const cval *nm = kid(item, "name");
  for (size_t i = 0; i < t->n; ++i) {
    unsigned common = t->e[i].ns & ns;
    if (!common || strcmp(t->e[i].name, nm->str) != 0) continue;
    return fail(r, VS_ENETWORK, nm->line, nm->col,
                "duplicate %s name '%s' (first defined at line %d)",
                common & NS_NODE ? "node" : common & NS_BRANCH ? "link"
                                                               : "boundary",
                nm->str, t->e[i].line);
  }
  name_entry e = {nm->str, ns, kind, nm->line};
  t->e[t->n++] = e;
  return VS_OK;
}

/* A link end must name a node: a compartment or a pressure node. */
static int check_end(reader *r, const name_table *t, const cval *link,
                     const char *end, const name_entry **out) {
  const cval *v = kid(link, end);
  const char *name = str_of(link, "name");
  const name_entry *e = find_name(t, v->str);
  if (!e)
    return fail(r, VS_ENETWORK, v->line, v->col,
                "link '%s': unknown node '%s' in '%s'", name, v->str, end);
  if (!(e->ns & NS_NODE))
    return fail(r, VS_ENETWORK, v->line, v->col,
                "link '%s': '%s' in '%s' is a %s, not a node", name, v->str,
                end, e->kind);
  *out = e;
  return VS_OK;
}

/* Every name unique in its namespace, every reference resolved, with the
 * file position (vs_network_validate would find these without one). */
static int check_names(reader *r, const cval *root) {
  const cval *comps = kid(root, "compartments");
  const cval *bounds = kid(root, "boundaries");
  const cval *links = kid(root, "links");
  name_table t = {calloc(comps->n_kids + bounds->n_kids + links->n_kids + 1,
                         sizeof *t.e),
                  0};
  if (!t.e) return fail_oom(r);
  int rc = VS_OK;
  for (size_t i = 0; !rc && i < comps->n_kids; ++i)
    rc = add_name(r, &t, &comps->kids[i], NS_NODE, "compartment");
  for (size_t i = 0; !rc && i < bounds->n_kids; ++i) {
    const cval *b = &bounds->kids[i];
    /* A resistance boundary becomes a pressure node and a link. */
    if (strcmp(b->variant, "pressure") == 0)
      rc = add_name(r, &t, b, NS_NODE | NS_BOUNDARY, "pressure boundary");
    else if (strcmp(b->variant, "flow") == 0)
      rc = add_name(r, &t, b, NS_BRANCH | NS_BOUNDARY, "flow boundary");
    else
      rc = add_name(r, &t, b, NS_NODE | NS_BRANCH | NS_BOUNDARY,
                    "resistance boundary");
  }
  for (size_t i = 0; !rc && i < links->n_kids; ++i)
    rc = add_name(r, &t, &links->kids[i], NS_BRANCH, "link");

  for (size_t i = 0; !rc && i < bounds->n_kids; ++i) {
    const cval *b = &bounds->kids[i], *v = kid(b, "compartment");
    if (!v->given) continue;
    const name_entry *e = find_name(&t, v->str);
    if (!e)
      rc = fail(r, VS_ENETWORK, v->line, v->col,
                "boundary '%s': unknown compartment '%s' in 'compartment'",
                str_of(b, "name"), v->str);
    else if (strcmp(e->kind, "compartment") != 0)
      rc = fail(r, VS_ENETWORK, v->line, v->col,
                "boundary '%s': '%s' in 'compartment' is a %s, not a "
                "compartment",
                str_of(b, "name"), v->str, e->kind);
  }
  for (size_t i = 0; !rc && i < links->n_kids; ++i) {
    const cval *l = &links->kids[i], *to = kid(l, "to");
    const name_entry *a = NULL, *b = NULL;
    rc = check_end(r, &t, l, "from", &a);
    if (!rc) rc = check_end(r, &t, l, "to", &b);
    if (rc) break;
    if (a == b)
      rc = fail(r, VS_ENETWORK, to->line, to->col,
                "link '%s': 'from' and 'to' are the same node '%s'",
                str_of(l, "name"), a->name);
    else if (strcmp(a->kind, "compartment") != 0 &&
             strcmp(b->kind, "compartment") != 0)
      rc = fail(r, VS_ENETWORK, to->line, to->col,
                "link '%s' joins two pressure boundaries '%s' and '%s' (one "
                "end must be a compartment)",
                str_of(l, "name"), a->name, b->name);
  }
  free(t.e);
  return rc;
}

/* A waveform from its value: a constant, a table or a sine. */
static int make_waveform(const cval *v, vs_waveform *w) {
  *w = vs_waveform_constant(v->num);
  if (!v->is_map) return VS_OK;
  if (strcmp(v->variant, "table") == 0) {
    const cval *t = kid(v, "times_s"), *x = kid(v, "values");
    return vs_waveform_set_table(w, t->n_nums, t->nums, x->nums,
                                 num_of(v, "periodic") != 0);
  }
  w->kind = VS_WAVE_SINE;
  w->value = num_of(v, "mean");
  w->amplitude = num_of(v, "amplitude");
  w->period_s = num_of(v, "period_s");
  w->phase_s = num_of(v, "phase_s");
  return VS_OK;
}

static int add_failed(reader *r, int rc, const cval *item, const char *what) {
  return fail(r, rc == VS_ENOMEM ? VS_ENOMEM : VS_ENETWORK, item->line,
              item->col, "%s '%s': the network refused it (%s)", what,
              str_of(item, "name"), vs_strerror(rc));
}

static int add_compartment(reader *r, vs_network *net, const cval *c) {
  const cval *w = kid(c, "wall");
  vs_compartment_spec s;
  memset(&s, 0, sizeof s);
  s.name = str_of(c, "name");
  s.height_cm = num_of(c, "height_cm");
  s.p_init_mmhg = num_of(c, "p_init_mmhg");
  if (strcmp(w->variant, "linear") == 0) {
    s.wall = vs_wall_linear(num_of(w, "compliance_ml_mmhg"), num_of(w, "v0_ml"));
  } else {
    double d_cm = num_of(w, "diameter_mm") / 10.0;
    s.wall = vs_wall_tube_law(num_of(w, "k_mmhg"), VS_PI * d_cm * d_cm / 4.0,
                              num_of(w, "length_cm"));
    s.wall.m = num_of(w, "m");
    s.wall.n = num_of(w, "n");
  }
  int rc = make_waveform(kid(c, "p_ext_mmhg"), &s.p_ext);
  if (!rc) rc = vs_network_add_compartment(net, &s);
  vs_waveform_clear(&s.p_ext); /* the network keeps its own copy */
  return rc < 0 ? add_failed(r, rc, c, "compartment") : VS_OK;
}

static int add_boundary(reader *r, vs_network *net, const cval *b) {
  int rc;
  if (strcmp(b->variant, "flow") == 0) {
    vs_flow_source_spec s;
    memset(&s, 0, sizeof s);
    s.name = str_of(b, "name");
    s.compartment = str_of(b, "compartment");
    rc = make_waveform(kid(b, "flow_ml_s"), &s.flow);
    if (!rc) rc = vs_network_add_flow_source(net, &s);
    vs_waveform_clear(&s.flow);
    return rc < 0 ? add_failed(r, rc, b, "boundary") : VS_OK;
  }
  vs_pressure_node_spec p;
  memset(&p, 0, sizeof p);
  p.name = str_of(b, "name");
  p.height_cm = num_of(b, "height_cm");
  rc = make_waveform(kid(b, "pressure_mmhg"), &p.pressure);
  if (!rc) rc = vs_network_add_pressure_node(net, &p);
  vs_waveform_clear(&p.pressure);
  if (rc >= 0 && strcmp(b->variant, "resistance") == 0) {
    /* The compartment drains through the resistance into the node. */
    vs_link_spec l = vs_link_spec_default();
    l.name = p.name;
    l.from = str_of(b, "compartment");
    l.to = p.name;
    l.resistance_mmhg_s_ml = num_of(b, "resistance_mmhg_s_ml");
    rc = vs_network_add_link(net, &l);
  }
  return rc < 0 ? add_failed(r, rc, b, "boundary") : VS_OK;
}

static int add_link(reader *r, vs_network *net, const cval *l) {
  const cval *d = kid(l, "diameter_mm"), *len = kid(l, "length_cm");
  const cval *st = kid(l, "stenosis"), *v = kid(l, "valve");
  if (v->given && num_of(l, "poiseuille") == 0) {
    /* The station counts the Poiseuille drop of its length (valve.h). */
    const cval *station = kid(v, "station_length_cm");
    if (station->from_file && station->num > 0)
      return fail(r, VS_ESCHEMA, station->key_line, station->key_col,
                  "link '%s': valve.station_length_cm needs poiseuille: true "
                  "(the station counts the vein's Poiseuille drop)",
                  str_of(l, "name"));
  }
  vs_link_spec s = vs_link_spec_default();
  s.name = str_of(l, "name");
  s.from = str_of(l, "from");
  s.to = str_of(l, "to");
  int rc = make_waveform(kid(l, "resistance_mmhg_s_ml"), &s.resistance_wave);
  if (rc) return add_failed(r, rc, l, "link");
  if (vs_waveform_is_constant(&s.resistance_wave)) {
    s.resistance_mmhg_s_ml = vs_waveform_eval(&s.resistance_wave, 0.0);
    vs_waveform_clear(&s.resistance_wave);
  } else {
    s.resistance_varies = 1;
  }
  s.inertance_mmhg_s2_ml = num_of(l, "inertance_mmhg_s2_ml");
  s.diameter_cm = d->given ? d->num / 10.0 : 0.0;
  s.length_cm = len->given ? len->num : 0.0;
  s.poiseuille = num_of(l, "poiseuille") != 0;
  s.geometric_inertance = num_of(l, "geometric_inertance") != 0;
  s.collapsible = num_of(l, "collapsible") != 0;
  if (st->given) {
    s.has_stenosis = 1;
    s.stenosis = vs_stenosis_young_tsai(num_of(st, "area_ratio"),
                                        num_of(st, "length_cm"));
    s.stenosis.kt = num_of(st, "kt");
    s.stenosis.ku = num_of(st, "ku");
    s.stenosis.la_ls = num_of(st, "la_ls");
    s.stenosis.la_ds = num_of(st, "la_ds");
  }
  if (v->given) {
    s.has_valve = 1;
    s.valve.kvo = num_of(v, "kvo_per_mmhg_s");
    s.valve.kvc = num_of(v, "kvc_per_mmhg_s");
    s.valve.dp_open_mmhg = num_of(v, "dp_open_mmhg");
    s.valve.dp_close_mmhg = num_of(v, "dp_close_mmhg");
    s.valve.m_st = num_of(v, "m_st");
    s.valve.m_rg = num_of(v, "m_rg");
    s.valve.leak_floor = num_of(v, "leak_floor");
    s.valve.l_eff_cm = num_of(v, "l_eff_cm");
    s.valve.smoothing_mmhg = num_of(v, "smoothing_mmhg");
    s.valve.station_length_cm = num_of(v, "station_length_cm");
  }
  rc = vs_network_add_link(net, &s);
  vs_waveform_clear(&s.resistance_wave);
  return rc < 0 ? add_failed(r, rc, l, "link") : VS_OK;
}

static int build_network(reader *r, const cval *root, vs_network **out) {
  const cval *blood = kid(root, "blood"), *posture = kid(root, "posture");
  const cval *comps = kid(root, "compartments");
  const cval *bounds = kid(root, "boundaries"), *links = kid(root, "links");
  vs_network *net = NULL;
  vs_waveform tilt = vs_waveform_constant(0.0);
  char why[512];
  int rc = vs_network_create(&net);
  if (rc) {
    rc = fail_oom(r);
    goto done;
  }
  rc = vs_network_set_blood(net, num_of(blood, "density_g_cm3"),
                            num_of(blood, "viscosity_mpa_s"));
  if (!rc) rc = make_waveform(kid(posture, "tilt_deg"), &tilt);
  if (!rc) rc = vs_network_set_tilt(net, &tilt);
  if (rc) {
    rc = fail(r, rc == VS_ENOMEM ? VS_ENOMEM : VS_ENETWORK, 0, 0,
              "blood or posture refused by the network (%s)", vs_strerror(rc));
    goto done;
  }
  for (size_t i = 0; !rc && i < comps->n_kids; ++i)
    rc = add_compartment(r, net, &comps->kids[i]);
  for (size_t i = 0; !rc && i < bounds->n_kids; ++i)
    rc = add_boundary(r, net, &bounds->kids[i]);
  for (size_t i = 0; !rc && i < links->n_kids; ++i)
    rc = add_link(r, net, &links->kids[i]);
  if (rc) goto done;
  why[0] = '\0';
  if (vs_network_validate(net, why, sizeof why))
    rc = fail(r, VS_ENETWORK, 0, 0, "%s", why[0] ? why : "invalid network");
done:
  vs_waveform_clear(&tilt);
  if (rc) vs_network_free(&net);
  *out = net;
  return rc;
}

/* ---- the leg --------------------------------------------------------------- */

/* Forget a key's default (it stays absent: not built, not resolved). */
static void drop_default(cval *map, const char *key) {
  cval *c = &map->kids[vs_schema_find(map->sub, key)];
  if (c->from_file) return;
  const vs_schema_key *k = c->key;
  cval_clear(c);
  c->key = k;
}

/* A network case (compartments, boundaries, links) or a leg case (leg,
 * protocol): exactly one, with the keys of the other refused where they
 * stand. The protocol sets the posture and the run's length. */
static int check_case_kind(reader *r, const cval *root) {
  const cval *leg = kid(root, "leg");
  if (!leg->given) {
    const cval *proto = kid(root, "protocol");
    if (proto->from_file)
      return fail(r, VS_ESCHEMA, proto->key_line, proto->key_col,
                  "'protocol' needs 'leg' (it is the leg's clinical "
                  "protocol)");
    if (!kid(root, "compartments")->given) {
      /* Placed like any missing key: at the mapping's first key. */
      int line = 0, col = 0;
      for (size_t i = 0; i < root->n_kids; ++i) {
        const cval *k = &root->kids[i];
        if (k->from_file && (!line || k->key_line < line)) {
          line = k->key_line;
          col = k->key_col;
        }
      }
      return fail(r, VS_ESCHEMA, line, col,
                  "missing required key 'compartments' (or 'leg' for the "
                  "default leg)");
    }
    return VS_OK;
  }
  static const char *const network_keys[] = {"compartments", "boundaries",
                                             "links", NULL};
  for (size_t i = 0; network_keys[i]; ++i) {
    const cval *c = kid(root, network_keys[i]);
    if (c->from_file)
      return fail(r, VS_ESCHEMA, c->key_line, c->key_col,
                  "'%s' cannot be used with 'leg' (the leg builds its own "
                  "network)",
                  network_keys[i]);
  }
  const cval *tilt = kid(kid(root, "posture"), "tilt_deg");
  if (tilt->from_file)
    return fail(r, VS_ESCHEMA, tilt->key_line, tilt->key_col,
                "posture.tilt_deg cannot be used with 'leg': the protocol "
                "sets the posture");
  const cval *solver = kid(root, "solver");
  static const char *const timed[] = {"t_end_s", "output_dt_s", NULL};
  for (size_t i = 0; timed[i]; ++i) {
    const cval *c = kid(solver, timed[i]);
    if (c->from_file)
      return fail(r, VS_ESCHEMA, c->key_line, c->key_col,
                  "solver.%s cannot be used with 'leg': the protocol sets it "
                  "(protocol.output_dt_s, the phases' durations)",
                  timed[i]);
  }
  return VS_OK;
}

/* Number `key` of an override item into *x if the file gives it. */
static int take(const cval *item, const char *key, double *x) {
  const cval *v = kid(item, key);
  if (v->given) *x = v->num;
  return v->given;
}

static int unknown_in_leg(reader *r, const cval *item, const char *what) {
  const cval *nm = kid(item, "name");
  return fail(r, VS_ESCHEMA, nm->line, nm->col,
              "leg: no %s named '%s' in the default leg (leg.h lists them)",
              what, nm->str);
}

/* Stent products are 10 to 24 mm (PHYSICS.md 1.6: Wallstent, Venovo, Abre,
 * Vici, Zilver Vena). */
#define STENT_PRODUCT_MIN_MM 10.0
#define STENT_PRODUCT_MAX_MM 24.0

/* The treatments of a list (leg.treatments or an arm's), in order. */
static int add_treatments(reader *r, const cval *list, vs_leg *leg,
                          const char *where) {
  for (size_t i = 0; i < list->n_kids; ++i) {
    const cval *it = &list->kids[i], *kind = kid(it, "kind");
    vs_leg_treatment t =
        vs_leg_treatment_default((vs_treatment_kind)kind->num);
    const cval *seg = kid(it, "segment");
    if (seg->given) snprintf(t.segment, sizeof t.segment, "%s", seg->str);
    take(it, "residual_fraction", &t.residual_fraction);
    take(it, "recoil", &t.recoil);
    switch (t.kind) {
    case VS_TREAT_BALLOON:
      t.diameter_mm = num_of(it, "diameter_mm");
      break;
    case VS_TREAT_STENT: {
      const cval *d = kid(it, "diameter_mm");
      if (d->num < STENT_PRODUCT_MIN_MM || d->num > STENT_PRODUCT_MAX_MM)
        return fail(r, VS_ESCHEMA, d->line, d->col,
                    "%s: stent diameter_mm %g is outside the sizes made "
                    "(%g to %g mm)",
                    where, d->num, STENT_PRODUCT_MIN_MM, STENT_PRODUCT_MAX_MM);
      t.stent = vs_stent_default((vs_stent_type)num_of(it, "type"), d->num,
                                 num_of(it, "length_cm"));
      take(it, "radial_force_n_per_cm", &t.stent.radial_force_n_per_cm);
      t.diameter_mm = d->num;
      t.length_cm = t.stent.length_cm;
      take(it, "adjacent_narrowing", &t.adjacent_narrowing);
      take(it, "adjacent_length_cm", &t.adjacent_length_cm);
      take(it, "wall_stiffening", &t.stent_wall_stiffening);
      break;
    }
    case VS_TREAT_STOCKINGS:
      t.stocking = vs_stocking_class((int)num_of(it, "class"));
      take(it, "ankle_mmhg", &t.stocking.ankle_mmhg);
      take(it, "top_height_cm", &t.stocking.top_height_cm);
      take(it, "top_fraction", &t.stocking.top_fraction);
      break;
    case VS_TREAT_PALMA:
      t.diameter_mm = num_of(it, "graft_diameter_mm");
      t.length_cm = num_of(it, "graft_length_cm");
      break;
    default:
      break;
    }
    char why[256] = "";
    int rc = vs_leg_add_treatment(leg, &t, why, sizeof why);
    if (rc == VS_ENOMEM) return fail_oom(r);
    if (rc) {
      const cval *at = seg->given ? seg : kind;
      return fail(r, VS_ESCHEMA, at->line, at->col, "%s: %s", where, why);
    }
  }
  return VS_OK;
}

/* The default leg with the file's changes, and arm `arm`'s treatments (0:
 * the untreated leg). */
static int leg_from_case(reader *r, const cval *root, size_t arm,
                         vs_leg *leg, vs_leg_protocol *p) {
  const cval *lg = kid(root, "leg"), *proto = kid(root, "protocol");
  if (vs_leg_default(leg)) return fail_oom(r);
  *p = vs_leg_protocol_default();
  for (size_t i = 0; i < lg->n_kids; ++i)
    if (lg->kids[i].given)
      vs_schema_leg_set(leg, p, lg->kids[i].key, lg->kids[i].num);
  for (size_t i = 0; i < proto->n_kids; ++i)
    if (proto->kids[i].given)
      vs_schema_leg_set(leg, p, proto->kids[i].key, proto->kids[i].num);
  const cval *segs = kid(lg, "segments"), *valves = kid(lg, "valves");
  const cval *conns = kid(lg, "connections"), *beds = kid(lg, "beds");
  for (size_t i = 0; i < segs->n_kids; ++i) {
    const cval *it = &segs->kids[i];
    vs_leg_segment *s = vs_leg_find_segment(leg, str_of(it, "name"));
    if (!s) return unknown_in_leg(r, it, "segment");
    take(it, "diameter_mm", &s->diameter_mm);
    take(it, "length_cm", &s->length_cm);
    take(it, "k_mmhg", &s->k_mmhg);
    take(it, "k_collapse_mmhg", &s->k_collapse_mmhg);
    take(it, "pump_fraction", &s->pump_fraction);
  }
  for (size_t i = 0; i < valves->n_kids; ++i) {
    const cval *it = &valves->kids[i];
    vs_leg_valve *v = vs_leg_find_valve(leg, str_of(it, "name"));
    if (!v) return unknown_in_leg(r, it, "valve");
    take(it, "kvo_per_mmhg_s", &v->valve.kvo);
    take(it, "kvc_per_mmhg_s", &v->valve.kvc);
    take(it, "m_st", &v->valve.m_st);
    take(it, "m_rg", &v->valve.m_rg);
  }
  for (size_t i = 0; i < conns->n_kids; ++i) {
    const cval *it = &conns->kids[i];
    vs_leg_connection *c = vs_leg_find_connection(leg, str_of(it, "name"));
    if (!c) return unknown_in_leg(r, it, "connection");
    take(it, "diameter_mm", &c->diameter_mm);
    take(it, "resistance_mmhg_s_ml", &c->resistance_mmhg_s_ml);
  }
  for (size_t i = 0; i < beds->n_kids; ++i) {
    const cval *it = &beds->kids[i];
    vs_leg_bed *b = NULL;
    for (size_t j = 0; j < leg->n_beds && !b; ++j)
      if (strcmp(leg->beds[j].name, str_of(it, "name")) == 0)
        b = &leg->beds[j];
    if (!b) return unknown_in_leg(r, it, "bed");
    take(it, "rest_flow_ml_s", &b->rest_flow_ml_s);
  }
  const cval *lesions = kid(lg, "lesions");
  for (size_t i = 0; i < lesions->n_kids; ++i) {
    const cval *it = &lesions->kids[i], *seg = kid(it, "segment");
    vs_leg_lesion les =
        vs_leg_lesion_default((vs_lesion_kind)num_of(it, "kind"), seg->str);
    take(it, "area_ratio", &les.area_ratio);
    take(it, "occupied_fraction", &les.occupied_fraction);
    take(it, "length_cm", &les.length_cm);
    take(it, "wall_stiffening", &les.wall_stiffening);
    take(it, "external_mmhg", &les.external_mmhg);
    take(it, "scar_stiffness_mmhg", &les.scar_stiffness_mmhg);
    char why[256] = "";
    int rc = vs_leg_add_lesion(leg, &les, why, sizeof why);
    if (rc == VS_ENOMEM) return fail_oom(r);
    if (rc)
      return fail(r, VS_ESCHEMA, seg->line, seg->col, "leg.lesions: %s", why);
  }
  int rc = add_treatments(r, kid(lg, "treatments"), leg, "leg.treatments");
  if (rc) return rc;
  /* A treatment arm adds its treatments after the patient's own. The
   * untreated run checks every arm on a copy of the leg, so that a mistake
   * in any arm is reported where it stands when the case is read. */
  const cval *arms = kid(root, "arms");
  for (size_t k = 1; k <= arms->n_kids && !rc; ++k) {
    if (arm > 0 && k != arm) continue;
    const cval *a = &arms->kids[k - 1];
    char where[96];
    snprintf(where, sizeof where, "arm '%s'", str_of(a, "name"));
    if (arm > 0) {
      rc = add_treatments(r, kid(a, "treatments"), leg, where);
      continue;
    }
    vs_leg trial;
    if (vs_leg_copy(&trial, leg)) return fail_oom(r);
    rc = add_treatments(r, kid(a, "treatments"), &trial, where);
    vs_leg_clear(&trial);
  }
  return rc;
}

/* Treatment arms: only with a leg, named uniquely (the untreated run is
 * "untreated"), with characters that can stand in a run name. */
static int check_arms(reader *r, const cval *root, size_t arm, vs_case *cs) {
  const cval *arms = kid(root, "arms");
  if (!arms->given) {
    if (arm > 0) return fail(r, VS_EINVAL, 0, 0, "the case has no arms");
    return VS_OK;
  }
  if (!kid(root, "leg")->given)
    return fail(r, VS_ESCHEMA, arms->key_line, arms->key_col,
                "'arms' needs 'leg' (arms treat the leg's lesions)");
  if (arm > arms->n_kids)
    return fail(r, VS_EINVAL, 0, 0, "arm %zu of %zu", arm, arms->n_kids);
  cs->arm_names = calloc(arms->n_kids + 1, sizeof *cs->arm_names);
  if (!cs->arm_names) return fail_oom(r);
  cs->n_arms = arms->n_kids;
  cs->arm = arm;
  for (size_t i = 0; i < arms->n_kids; ++i) {
    const cval *nm = kid(&arms->kids[i], "name");
    const char *bad = nm->str;
    while (*bad && (isalnum((unsigned char)*bad) || strchr("_.-", *bad))) ++bad;
    if (*bad)
      return fail(r, VS_ESCHEMA, nm->line, nm->col,
                  "arms: name '%s' may hold only letters, digits, '_', '.' "
                  "and '-' (it names runs)",
                  nm->str);
    if (strcmp(nm->str, VS_CASE_UNTREATED_ARM) == 0)
      return fail(r, VS_ESCHEMA, nm->line, nm->col,
                  "arms: '%s' is the name of the run without treatment",
                  VS_CASE_UNTREATED_ARM);
    for (size_t j = 0; j < i; ++j)
      if (strcmp(cs->arm_names[j], nm->str) == 0)
        return fail(r, VS_ESCHEMA, nm->line, nm->col,
                    "arms: duplicate arm name '%s'", nm->str);
    if (!(cs->arm_names[i] = vs_text_dup(nm->str))) return fail_oom(r);
  }
  return VS_OK;
}

static int build_leg(reader *r, const cval *root, size_t arm,
                     vs_network **out, double *duration_s,
                     double *output_dt_s) {
  vs_leg leg;
  vs_leg_protocol p;
  char why[512] = "";
  const cval *blood = kid(root, "blood");
  int rc = leg_from_case(r, root, arm, &leg, &p);
  if (!rc && (rc = vs_leg_build(&leg, &p, out, why, sizeof why)))
    rc = fail(r, rc == VS_ENOMEM ? VS_ENOMEM : VS_ENETWORK, 0, 0, "%s",
              why[0] ? why : "the leg could not be built");
  if (!rc && vs_network_set_blood(*out, num_of(blood, "density_g_cm3"),
                                  num_of(blood, "viscosity_mpa_s"))) {
    vs_network_free(out);
    rc = fail(r, VS_ENETWORK, 0, 0, "blood refused by the network");
  }
  *duration_s = vs_leg_protocol_duration(&p);
  *output_dt_s = p.output_dt_s;
  vs_leg_clear(&leg);
  return rc;
}

static int build_solver(reader *r, const cval *solver, vs_solver_options *o) {
  char why[256];
  *o = vs_solver_options_default();
  for (size_t i = 0; i < solver->n_kids; ++i)
    if (solver->kids[i].given)
      vs_schema_solver_set(o, solver->kids[i].key, solver->kids[i].num);
  why[0] = '\0';
  if (vs_solver_options_validate(o, why, sizeof why))
    return fail(r, VS_ESCHEMA, 0, 0, "%s", why[0] ? why : "invalid solver");
  return VS_OK;
}

/* ---- the resolved case ---------------------------------------------------- */

/* Shortest text that reads back exactly, written so that YAML 1.1 readers
 * (PyYAML) also see a float: 1e-6 becomes 1.0e-6, 1e7 becomes 1.0e+7. */
static void emit_number(vs_text_buf *b, double x, int integer) {
  char t[48], out[64];
  if (integer) {
    snprintf(out, sizeof out, "%.0f", x);
    vs_text_puts(b, out);
    return;
  }
  vs_schema_format_number(x, t, sizeof t);
  char *e = strchr(t, 'e');
  if (!e) {
    vs_text_puts(b, t);
    return;
  }
  *e = '\0';
  snprintf(out, sizeof out, "%s%se%s%s", t, strchr(t, '.') ? "" : ".0",
           e[1] == '-' ? "" : "+", e + 1);
  vs_text_puts(b, out);
}

static void emit_map(vs_text_buf *b, const cval *m, int indent, int inline_first);

static void emit_value(vs_text_buf *b, const cval *c, int indent) {
  const vs_schema_key *k = c->key;
  switch (k->type) {
  case VS_ST_NUMBER:
  case VS_ST_INTEGER:
    vs_text_putn(b, " ", 1);
    emit_number(b, c->num, k->type == VS_ST_INTEGER);
    break;
  case VS_ST_STRING:
    vs_text_putn(b, " ", 1);
    vs_text_put_quoted(b, c->str ? c->str : "");
    break;
  case VS_ST_BOOL:
    vs_text_puts(b, c->num != 0 ? " true" : " false");
    break;
  case VS_ST_ENUM:
    vs_text_putn(b, " ", 1);
    vs_text_puts(b, k->choices[(int)c->num]);
    break;
  case VS_ST_NUMBER_LIST:
    vs_text_puts(b, " [");
    for (size_t i = 0; i < c->n_nums; ++i) {
      if (i) vs_text_puts(b, ", ");
      emit_number(b, c->nums[i], 0);
    }
    vs_text_putn(b, "]", 1);
    break;
  case VS_ST_WAVEFORM:
    if (!c->is_map) {
      vs_text_putn(b, " ", 1);
      emit_number(b, c->num, 0);
      break;
    }
    vs_text_putn(b, "\n", 1);
    emit_map(b, c, indent + 2, 0);
    return;
  case VS_ST_MAPPING:
    vs_text_putn(b, "\n", 1);
    emit_map(b, c, indent + 2, 0);
    return;
  case VS_ST_LIST:
    if (c->n_kids == 0) {
      vs_text_puts(b, " []");
      break;
    }
    vs_text_putn(b, "\n", 1);
    for (size_t i = 0; i < c->n_kids; ++i) {
      vs_text_indent(b, indent + 2);
      vs_text_puts(b, "- ");
      emit_map(b, &c->kids[i], indent + 4, 1);
    }
    return;
  }
  vs_text_putn(b, "\n", 1);
}

/* Keys in schema order; a list item's first key follows its "- ". */
static void emit_map(vs_text_buf *b, const cval *m, int indent, int inline_first) {
  int first = 1;
  for (size_t i = 0; i < m->n_kids; ++i) {
    const cval *c = &m->kids[i];
    if (!c->given || !vs_schema_applies(c->key, m->variant)) continue;
    if (!(first && inline_first)) vs_text_indent(b, indent);
    first = 0;
    vs_text_puts(b, c->key->key);
    vs_text_putn(b, ":", 1);
    emit_value(b, c, indent);
  }
}

static char *resolved_text(const cval *root) {
  vs_text_buf b = {0};
  vs_text_puts(&b, "# venosim case, resolved: every default filled in.\n");
  emit_map(&b, root, 0, 0);
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* ---- the public functions ------------------------------------------------- */

void vs_case_free(vs_case **c) {
  if (!c || !*c) return;
  vs_case *cs = *c;
  free(cs->path);
  free(cs->name);
  free(cs->description);
  free(cs->text);
  free(cs->resolved);
  vs_network_free(&cs->network);
  for (size_t i = 0; cs->arm_names && i < cs->n_arms; ++i)
    free(cs->arm_names[i]);
  free(cs->arm_names);
  free(cs);
  *c = NULL;
}

int vs_case_load_string(const char *text, size_t len, const char *display_name,
                        vs_case **c, char *msg, size_t msglen) {
  return vs_case_load_edited(text, len, display_name, NULL, NULL, 0, c, msg,
                             msglen);
}

/* Resolving copies every alias's target in place: a few hundred bytes of
 * nested aliases ("billion laughs") would become 10^9 nodes, each a few
 * allocations. The nodes that aliases add are counted first and refused
 * above this many (about 10 MB once resolved; a case that shares a wall or
 * a waveform by alias adds a few hundred). */
#define MAX_ALIASED_NODES 100000
/* Nesting deeper than this while expanding is taken for a cycle (an alias
 * inside its own anchor) or an abuse. */
#define MAX_ALIAS_DEPTH 256

/* Expanded sizes of alias targets, by node: each target is expanded once,
 * so counting costs the document's own size, not its expanded size (and
 * libfyaml's alias lookups, not cheap, run once per alias). */
typedef struct {
  size_t cap, n;
  struct fy_node **key;
  size_t *size;
} node_memo;

static size_t *memo_find(const node_memo *m, const struct fy_node *n) {
  if (!m->cap) return NULL;
  size_t i = ((uintptr_t)n >> 4) & (m->cap - 1);
  for (; m->key[i]; i = (i + 1) & (m->cap - 1))
    if (m->key[i] == n) return &m->size[i];
  return NULL;
}

static int memo_put(node_memo *m, struct fy_node *n, size_t size) {
  if (2 * (m->n + 1) > m->cap) {
    node_memo g = {m->cap ? 2 * m->cap : 64, 0, NULL, NULL};
    g.key = calloc(g.cap, sizeof *g.key);
    g.size = calloc(g.cap, sizeof *g.size);
    if (!g.key || !g.size) {
      free(g.key);
      free(g.size);
      return VS_ENOMEM;
    }
    for (size_t k = 0; k < m->cap; ++k)
      if (m->key[k]) (void)memo_put(&g, m->key[k], m->size[k]);
    free(m->key);
    free(m->size);
    *m = g;
  }
  size_t i = ((uintptr_t)n >> 4) & (m->cap - 1);
  while (m->key[i] && m->key[i] != n) i = (i + 1) & (m->cap - 1);
  if (!m->key[i]) m->n++;
  m->key[i] = n;
  m->size[i] = size;
  return VS_OK;
}

/* Nodes `n` stands for once every alias is expanded, saturating at `cap`;
 * *oom on out of memory. */
static size_t expanded_size(struct fy_node *n, node_memo *m, size_t cap,
                            int depth, int *oom) {
  if (!n || *oom) return 0;
  if (depth > MAX_ALIAS_DEPTH) return cap;
  if (fy_node_is_alias(n)) {
    struct fy_node *t = fy_node_resolve_alias(n);
    if (!t) return 0; /* undefined: the parser reports it */
    size_t *known = memo_find(m, t);
    if (known) return *known;
    /* In progress counts as too big: a cycle never ends. */
    if (memo_put(m, t, cap)) return *oom = 1, 0;
    size_t size = expanded_size(t, m, cap, depth + 1, oom);
    if (memo_put(m, t, size)) return *oom = 1, 0;
    return size;
  }
  size_t total = 1;
  void *it = NULL;
  if (fy_node_get_type(n) == FYNT_SEQUENCE) {
    struct fy_node *k;
    while (total < cap && (k = fy_node_sequence_iterate(n, &it)))
      total += expanded_size(k, m, cap, depth + 1, oom);
  } else if (fy_node_get_type(n) == FYNT_MAPPING) {
    struct fy_node_pair *p;
    while (total < cap && (p = fy_node_mapping_iterate(n, &it))) {
      total += expanded_size(fy_node_pair_key(p), m, cap, depth + 1, oom);
      total += expanded_size(fy_node_pair_value(p), m, cap, depth + 1, oom);
    }
  }
  return total < cap ? total : cap;
}

/* Nodes of the document as written (aliases one node each), and the alias
 * standing for the most nodes (where an error points). */
static size_t plain_size(struct fy_node *n, const node_memo *m,
                         struct fy_node **worst, size_t *worst_size) {
  if (!n) return 0;
  if (fy_node_is_alias(n)) {
    const size_t *s = memo_find(m, fy_node_resolve_alias(n));
    if (s && *s > *worst_size) {
      *worst_size = *s;
      *worst = n;
    }
    return 1;
  }
  size_t total = 1;
  void *it = NULL;
  if (fy_node_get_type(n) == FYNT_SEQUENCE) {
    struct fy_node *k;
    while ((k = fy_node_sequence_iterate(n, &it)))
      total += plain_size(k, m, worst, worst_size);
  } else if (fy_node_get_type(n) == FYNT_MAPPING) {
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(n, &it))) {
      total += plain_size(fy_node_pair_key(p), m, worst, worst_size);
      total += plain_size(fy_node_pair_value(p), m, worst, worst_size);
    }
  }
  return total;
}

static int check_aliases(reader *r, struct fy_document *doc) {
  node_memo m = {0, 0, NULL, NULL};
  struct fy_node *root = fy_document_root(doc), *worst = NULL;
  size_t worst_size = 0;
  /* The plain walk first only to size the cap; it fills no memo yet. */
  size_t plain = plain_size(root, &m, &worst, &worst_size);
  int oom = 0;
  size_t cap = plain + MAX_ALIASED_NODES + 1;
  size_t expanded = expanded_size(root, &m, cap, 0, &oom);
  int rc = VS_OK;
  if (oom) {
    rc = fail_oom(r);
  } else if (expanded >= cap) {
    (void)plain_size(root, &m, &worst, &worst_size);
    pos_t start = {0, 0}, p = vs_yaml_node_pos(worst ? worst : root, start);
    rc = fail(r, VS_EPARSE, p.line, p.col,
              "YAML aliases expand to more than %d nodes (nested aliases?): "
              "refused",
              MAX_ALIASED_NODES);
  }
  free(m.key);
  free(m.size);
  return rc;
}

int vs_case_load_edited(const char *text, size_t len, const char *display_name,
                        vs_case_edit_fn edit, void *user, size_t arm,
                        vs_case **c, char *msg, size_t msglen) {
  struct fy_diag *diag = NULL;
  struct fy_parser *parser = NULL;
  struct fy_document *doc = NULL, *extra = NULL;
  cval root;
  vs_case *cs = NULL;
  reader r = {display_name ? display_name : "<string>", NULL, msg, msglen};
  int rc = VS_OK;

  memset(&root, 0, sizeof root);
  if (msg && msglen) msg[0] = '\0';
  if (c) *c = NULL;
  if (!c || (!text && len)) return fail(&r, VS_EINVAL, 0, 0, "no case text");

  cs = calloc(1, sizeof *cs);
  if (cs) {
    cs->path = vs_text_dup(r.file);
    cs->text = vs_text_dup_n(text ? text : "", len);
  }
  char *stem = cs && cs->path ? vs_text_file_stem(cs->path, "case") : NULL;
  if (!cs || !cs->path || !cs->text || !stem) {
    rc = fail_oom(&r);
    goto done;
  }
  r.file = cs->path;
  r.stem = stem;

  /* Pass 1: text, then YAML: exactly one document. */
  rc = check_text(&r, cs->text, len);
  if (rc) goto done;
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = NULL;
  dcfg.output_fn = vs_yaml_diag_quiet;
  dcfg.colorize = false;
  diag = fy_diag_create(&dcfg);
  if (!diag) {
    rc = fail_oom(&r);
    goto done;
  }
  fy_diag_set_collect_errors(diag, true);
  /* Aliases and merge keys are resolved so that `<<: *wall` works, once
   * their expanded size is known to be sane (check_aliases). */
  struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET, .diag = diag};
  parser = fy_parser_create(&pcfg);
  if (!parser || fy_parser_set_string(parser, cs->text, len)) {
    rc = fail_oom(&r);
    goto done;
  }
  doc = fy_parse_load_document(parser);
  if ((rc = yaml_error(&r, diag))) goto done;
  if (doc) extra = fy_parse_load_document(parser);
  if ((rc = yaml_error(&r, diag))) goto done;
  if (extra) {
    struct fy_document_state *st = fy_document_get_document_state(extra);
    const struct fy_mark *m = st ? fy_document_state_start_mark(st) : NULL;
    rc = fail(&r, VS_EPARSE, m ? m->line + 1 : 0, m ? m->column + 1 : 0,
              "a case file holds one YAML document; another starts here");
    goto done;
  }
  if (doc && (rc = check_aliases(&r, doc))) goto done;
  if (doc && fy_document_resolve(doc)) {
    if (!(rc = yaml_error(&r, diag)))
      rc = fail(&r, VS_EPARSE, 0, 0, "YAML aliases could not be resolved");
    goto done;
  }
  struct fy_node *top = doc ? fy_document_root(doc) : NULL;
  if (is_null(top)) {
    rc = fail(&r, VS_EPARSE, 0, 0,
              "empty case file (expected a mapping with at least "
              "'description' and 'compartments')");
    goto done;
  }
  pos_t start = {1, 1};
  if (fy_node_get_type(top) != FYNT_MAPPING) {
    char got[SHOW_LEN + 32];
    pos_t p = vs_yaml_node_pos(top, start);
    rc = fail(&r, VS_ESCHEMA, p.line, p.col,
              "expected a mapping of keys (description, compartments, ...) "
              "at the top level, got %s",
              show(top, got, sizeof got));
    goto done;
  }
  /* A sweep run's values go into the document before any check, so that
   * each run is validated exactly like a hand-written case (sweep.c). */
  if (edit && (rc = edit(doc, top, user, msg, msglen))) goto done;

  /* Pass 2: the schema; pass 3: names, network, solver. */
  if ((rc = check_mapping(&r, top, vs_case_schema, NULL, "", start, &root)))
    goto done;
  if ((rc = check_case_kind(&r, &root))) goto done;
  /* Drop the defaults filled in for keys the other kind of case owns, so
   * that the resolved case names only what applies and loads back. */
  if (!kid(&root, "leg")->given) {
    drop_default(&root, "protocol");
  } else {
    cval *solver = &root.kids[vs_schema_find(root.sub, "solver")];
    drop_default(&root, "posture");
    drop_default(&root, "boundaries");
    drop_default(&root, "links");
    drop_default(solver, "t_end_s");
    drop_default(solver, "output_dt_s");
    cval *max_step = &solver->kids[vs_schema_find(solver->sub, "max_step_s")];
    /* A finer default step resolves each contraction. */
    if (!max_step->from_file) max_step->num = VS_LEG_MAX_STEP_S;
    cval *sld = &solver->kids[vs_schema_find(solver->sub,
                                             "stability_limit_detection")];
    if (!sld->from_file) sld->num = VS_LEG_STABILITY_LIMIT_DETECTION;
    cval *order = &solver->kids[vs_schema_find(solver->sub, "max_order")];
    if (!order->from_file) order->num = VS_LEG_MAX_ORDER;
    cval *atol_valve =
        &solver->kids[vs_schema_find(solver->sub, "atol_valve")];
    if (!atol_valve->from_file) atol_valve->num = VS_LEG_ATOL_VALVE;
    cval *nlcc =
        &solver->kids[vs_schema_find(solver->sub, "nonlin_conv_coef")];
    if (!nlcc->from_file) nlcc->num = VS_LEG_NONLIN_CONV_COEF;
  }
  if ((rc = check_arms(&r, &root, arm, cs))) goto done;
  if (kid(&root, "leg")->given) {
    /* The leg: its protocol sets the run's length and output grid. */
    double duration = 0, dt = 0;
    if ((rc = build_leg(&r, &root, arm, &cs->network, &duration, &dt)))
      goto done;
    if ((rc = build_solver(&r, kid(&root, "solver"), &cs->solver))) goto done;
    cs->solver.t_end_s = duration;
    cs->solver.output_dt_s = dt;
  } else {
    if ((rc = check_names(&r, &root))) goto done;
    if ((rc = build_network(&r, &root, &cs->network))) goto done;
    if ((rc = build_solver(&r, kid(&root, "solver"), &cs->solver))) goto done;
  }
  cs->name = vs_text_dup(str_of(&root, "name"));
  cs->description = vs_text_dup(str_of(&root, "description"));
  cs->resolved = resolved_text(&root);
  if (!cs->name || !cs->description || !cs->resolved) rc = fail_oom(&r);

done:
  cval_clear(&root);
  if (extra) fy_parse_document_destroy(parser, extra);
  if (doc) fy_parse_document_destroy(parser, doc);
  if (parser) fy_parser_destroy(parser);
  if (diag) fy_diag_destroy(diag);
  free(stem);
  if (rc) vs_case_free(&cs);
  if (c) *c = cs;
  return rc;
}

int vs_case_load_file(const char *path, vs_case **c, char *msg,
                      size_t msglen) {
  reader r = {path ? path : "<null>", NULL, msg, msglen};
  char *text = NULL, why[256];
  size_t n = 0;

  if (msg && msglen) msg[0] = '\0';
  if (c) *c = NULL;
  if (!path || !c) return fail(&r, VS_EINVAL, 0, 0, "no case file given");
  int rc = vs_text_read_file(path, MAX_CASE_BYTES, &text, &n, why, sizeof why);
  if (rc == VS_ENOMEM) return fail_oom(&r);
  if (rc) return fail(&r, rc, 0, 0, "%s", why);
  rc = vs_case_load_string(text, n, path, c, msg, msglen);
  free(text);
  return rc;
}
