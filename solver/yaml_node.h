/* Helpers over libfyaml nodes shared by the readers of case files and of
 * svZeroDSolver models (not part of the library's API). */
#ifndef VENOSIM_SOLVER_YAML_NODE_H
#define VENOSIM_SOLVER_YAML_NODE_H

#include <libfyaml.h>
#include <stdarg.h>
#include <stddef.h>

/* A place in the file, 1-based; 0 when there is none. */
typedef struct {
  int line, col;
} pos_t;

/* Start of a node. libfyaml 0.7 marks scalar tokens only, so a mapping or
 * list is placed at its first key or item; an empty value or collection
 * gets `fallback` (its key). */
pos_t vs_yaml_node_pos(struct fy_node *n, pos_t fallback);

/* A libfyaml diagnostic sink that prints nothing: errors are collected and
 * reported in venosim's own FILE:LINE:COL form. */
void vs_yaml_diag_quiet(struct fy_diag *diag, void *user, const char *buf,
                        size_t len);

/* Write "FILE:LINE:COL: message" (or "FILE: message" without a line) into
 * msg, the one form every reader reports problems in. */
void vs_yaml_vlocate(char *msg, size_t msglen, const char *file, pos_t p,
                     const char *fmt, va_list ap);

#endif /* VENOSIM_SOLVER_YAML_NODE_H */
