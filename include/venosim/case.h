/**
 * @file case.h
 * @brief Case files: YAML in, a validated network and solver options out.
 *
 * A case file describes one network and how to integrate it. It is read with
 * libfyaml and checked against one schema table (key, type, unit, default,
 * range, required) in solver/case_schema.c; `venosim schema` prints that
 * table. Every problem is reported as
 *
 *     FILE:LINE:COL: message naming the key
 *
 * and nothing is built. The layout of a case file is documented in
 * README.md ("Case files") and by the schema table itself.
 */
#ifndef VENOSIM_CASE_H
#define VENOSIM_CASE_H

#include <stddef.h>
#include <stdio.h>

#include "venosim/network.h"
#include "venosim/solver.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The arm name of a patient's run without treatment. */
#define VS_CASE_UNTREATED_ARM "untreated"

typedef struct {
  char *path;              /**< file name as given (or a display name) */
  char *name;              /**< `name:`, or the file's stem */
  char *description;       /**< `description:` (required) */
  char *text;              /**< the file verbatim */
  char *resolved;          /**< the case as YAML, every default filled in */
  vs_network *network;     /**< validated network (owned) */
  size_t n_arms;           /**< treatment arms besides the untreated one */
  char **arm_names;        /**< their names (owned) */
  size_t arm;              /**< the arm this network was built for (0:
                                untreated) */
  vs_solver_options solver;
} vs_case;

/** Read, validate and build a case from a file. On error returns VS_EIO,
 *  VS_EPARSE, VS_ESCHEMA or VS_ENETWORK, writes "FILE:LINE:COL: message"
 *  (or "FILE: message" when no position applies) into msg, and sets *c to
 *  NULL. */
int vs_case_load_file(const char *path, vs_case **c, char *msg, size_t msglen);

/** The same from text in memory; display_name stands in for the file name
 *  in messages. */
int vs_case_load_string(const char *text, size_t len, const char *display_name,
                        vs_case **c, char *msg, size_t msglen);

void vs_case_free(vs_case **c);

/** Print the schema (every key with type, unit, default, range, required
 *  and a one-line description) as a Markdown reference. */
void vs_case_print_schema(FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_CASE_H */
