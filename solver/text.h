/* Small string helpers shared inside the library (not part of its API):
 * copies, and a growable buffer for emitting YAML and messages. */
#ifndef VENOSIM_SOLVER_TEXT_H
#define VENOSIM_SOLVER_TEXT_H

#include <stddef.h>

/* A NUL-terminated copy of the first n bytes of s (NULL when out of
 * memory). */
char *vs_text_dup_n(const char *s, size_t n);
/* A copy of s; NULL for NULL or when out of memory. */
char *vs_text_dup(const char *s);

/* A growable string; `oom` sticks once an allocation fails, so callers
 * append freely and check once at the end. */
typedef struct {
  char *s;
  size_t n, cap;
  int oom;
} vs_text_buf;

void vs_text_putn(vs_text_buf *b, const char *s, size_t n);
void vs_text_puts(vs_text_buf *b, const char *s);
void vs_text_indent(vs_text_buf *b, int n);
void vs_text_printf(vs_text_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Append s as a double-quoted YAML/JSON string, escaping what must be. */
void vs_text_put_quoted(vs_text_buf *b, const char *s);

/* A file name's stem: no folder, no extension ("cases/a.yaml" -> "a");
 * `fallback` when nothing is left. NULL when out of memory. */
char *vs_text_file_stem(const char *path, const char *fallback);

/* Read a whole file of at most max_bytes into *text (NUL-terminated, owned
 * by the caller) and its length into *len. Returns 0; VS_EIO with the
 * reason ("cannot open: ...", "cannot read: ...", "too large: ...") in why;
 * or VS_ENOMEM. */
int vs_text_read_file(const char *path, size_t max_bytes, char **text,
                      size_t *len, char *why, size_t whylen);

#endif /* VENOSIM_SOLVER_TEXT_H */
