/* Small string helpers shared inside the library (text.h). */
#include "text.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/error.h"

char *vs_text_dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *vs_text_dup(const char *s) { return s ? vs_text_dup_n(s, strlen(s)) : NULL; }

/* Room for `extra` more bytes and a NUL; 0 once out of memory. */
static int reserve(vs_text_buf *b, size_t extra) {
  if (b->oom) return 0;
  if (b->n + extra + 1 <= b->cap) return 1;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->n + extra + 1) cap *= 2;
  char *g = realloc(b->s, cap);
  if (!g) {
    b->oom = 1;
    return 0;
  }
  b->s = g;
  b->cap = cap;
  return 1;
}

void vs_text_putn(vs_text_buf *b, const char *s, size_t n) {
  if (!reserve(b, n)) return;
  memcpy(b->s + b->n, s, n);
  b->n += n;
  b->s[b->n] = '\0';
}

void vs_text_puts(vs_text_buf *b, const char *s) { vs_text_putn(b, s, strlen(s)); }

void vs_text_indent(vs_text_buf *b, int n) {
  for (int i = 0; i < n; ++i) vs_text_putn(b, " ", 1);
}

void vs_text_printf(vs_text_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  /* Make room, then print in place: no length limit. */
  if (n < 0 || !reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->n += (size_t)n;
}

void vs_text_put_quoted(vs_text_buf *b, const char *s) {
  vs_text_putn(b, "\"", 1);
  for (; *s; ++s) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
    case '"': vs_text_puts(b, "\\\""); break;
    case '\\': vs_text_puts(b, "\\\\"); break;
    case '\n': vs_text_puts(b, "\\n"); break;
    case '\t': vs_text_puts(b, "\\t"); break;
    case '\r': vs_text_puts(b, "\\r"); break;
    default:
      if (c < 0x20 || c == 0x7f)
        vs_text_printf(b, "\\x%02x", c);
      else
        vs_text_putn(b, (const char *)&c, 1);
    }
  }
  vs_text_putn(b, "\"", 1);
}

char *vs_text_file_stem(const char *path, const char *fallback) {
  const char *base = path;
  for (const char *p = path; *p; ++p)
    if (*p == '/' || *p == '\\') base = p + 1;
  const char *dot = strrchr(base, '.');
  size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  return n ? vs_text_dup_n(base, n) : vs_text_dup(fallback);
}

int vs_text_read_file(const char *path, size_t max_bytes, char **text,
                      size_t *len, char *why, size_t whylen) {
  char *buf = NULL;
  size_t n = 0, cap = 0;
  int rc = VS_OK;
  *text = NULL;
  *len = 0;
  errno = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    snprintf(why, whylen, "cannot open: %s", e ? strerror(e) : "unknown error");
    return VS_EIO;
  }
  for (;;) {
    if (n + 1 >= cap) {
      if (cap > max_bytes) {
        snprintf(why, whylen, "too large: over %zu MiB", max_bytes >> 20);
        rc = VS_EIO;
        break;
      }
      cap = cap ? 2 * cap : 65536;
      char *g = realloc(buf, cap);
      if (!g) {
        rc = VS_ENOMEM;
        break;
      }
      buf = g;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  if (!rc && ferror(f)) {
    int e = errno;
    snprintf(why, whylen, "cannot read: %s", e ? strerror(e) : "read error");
    rc = VS_EIO;
  }
  fclose(f);
  if (rc) {
    free(buf);
    return rc;
  }
  if (!buf && !(buf = malloc(1))) return VS_ENOMEM;
  buf[n] = '\0';
  *text = buf;
  *len = n;
  return VS_OK;
}
