/* Helpers over libfyaml nodes (yaml_node.h). */
#include "yaml_node.h"

#include <stdio.h>

pos_t vs_yaml_node_pos(struct fy_node *n, pos_t fallback) {
  void *it = NULL;
  if (!n) return fallback;
  switch (fy_node_get_type(n)) {
  case FYNT_SCALAR: {
    struct fy_token *t = fy_node_get_scalar_token(n);
    const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
    if (!m) return fallback;
    pos_t p = {m->line + 1, m->column + 1};
    return p;
  }
  case FYNT_MAPPING: {
    struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
    return pair ? vs_yaml_node_pos(fy_node_pair_key(pair), fallback)
                : fallback;
  }
  case FYNT_SEQUENCE:
    return vs_yaml_node_pos(fy_node_sequence_iterate(n, &it), fallback);
  }
  return fallback;
}

void vs_yaml_diag_quiet(struct fy_diag *diag, void *user, const char *buf,
                        size_t len) {
  (void)diag, (void)user, (void)buf, (void)len;
}

void vs_yaml_vlocate(char *msg, size_t msglen, const char *file, pos_t p,
                     const char *fmt, va_list ap) {
  if (!msg || msglen == 0) return;
  int n = p.line > 0 ? snprintf(msg, msglen, "%s:%d:%d: ", file, p.line,
                                p.col > 0 ? p.col : 1)
                     : snprintf(msg, msglen, "%s: ", file);
  if (n >= 0 && (size_t)n < msglen)
    vsnprintf(msg + n, msglen - (size_t)n, fmt, ap);
}
