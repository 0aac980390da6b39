/**
 * @file case_schema.h
 * @brief The case file schema: one table of keys (private to libvenosim).
 *
 * Every key a case file may hold is one vs_schema_key row in
 * solver/case_schema.c: its type, unit, default, range, whether it is
 * required, a one-line description and, for mappings and lists, the table of
 * its own keys. The reader (case_reader.c) checks a document against the
 * table, fills defaults from it and re-emits the resolved case from it;
 * vs_case_print_schema() prints it. Types, units, defaults and ranges live
 * here only; the reader just maps the checked values onto the network by
 * key name.
 */
#ifndef VENOSIM_CASE_SCHEMA_H
#define VENOSIM_CASE_SCHEMA_H

#include <stddef.h>

#include "venosim/case.h"
#include "venosim/solver.h"

typedef enum {
  VS_ST_NUMBER,      /**< finite real number */
  VS_ST_INTEGER,     /**< whole number (written as 5, or 1e6) */
  VS_ST_STRING,      /**< text (quote it if YAML would read a number) */
  VS_ST_BOOL,        /**< true or false */
  VS_ST_ENUM,        /**< one of .choices */
  VS_ST_WAVEFORM,    /**< a number, or a mapping per vs_waveform_schema */
  VS_ST_NUMBER_LIST, /**< list of finite numbers, each within the range */
  VS_ST_MAPPING,     /**< mapping with the keys of .sub */
  VS_ST_LIST         /**< list of mappings, each with the keys of .sub */
} vs_schema_type;

/** Which ends of [min, max] belong to the range (C = closed, O = open).
 *  VS_RANGE_ANY: any finite number. */
typedef enum {
  VS_RANGE_CC = 0, /**< [min, max] */
  VS_RANGE_OC,     /**< (min, max] */
  VS_RANGE_CO,     /**< [min, max) */
  VS_RANGE_OO,     /**< (min, max) */
  VS_RANGE_ANY     /**< any finite number */
} vs_schema_range;

/** Where the value of an absent optional key comes from. */
typedef enum {
  VS_DEFAULT_NONE = 0, /**< no default: the key stays absent */
  VS_DEFAULT_VALUE,    /**< .def_number (number, integer, bool, waveform)
                            or .def_text (string, enum) */
  VS_DEFAULT_MODEL,    /**< the model code's own default, see .bind */
  VS_DEFAULT_STEM,     /**< the case file's name without folder and
                            extension */
  VS_DEFAULT_NEEDS_MET,/**< bool: true when every key of .needs is given */
  VS_DEFAULT_EMPTY     /**< mapping: every key defaulted; list: empty */
} vs_schema_default;

/** Keys whose default is owned by model or solver code (VS_DEFAULT_MODEL):
 *  the schema asks that code instead of repeating its numbers. Solver keys
 *  are also stored into vs_solver_options through the same binding. */
typedef enum {
  VS_BIND_NONE = 0,
  VS_BIND_SOLVER_T_END,
  VS_BIND_SOLVER_OUTPUT_DT,
  VS_BIND_SOLVER_RTOL,
  VS_BIND_SOLVER_ATOL_VOLUME,
  VS_BIND_SOLVER_ATOL_FLOW,
  VS_BIND_SOLVER_MAX_STEP,
  VS_BIND_SOLVER_INITIAL_STEP,
  VS_BIND_SOLVER_MAX_ORDER,
  VS_BIND_SOLVER_MAX_STEPS,
  VS_BIND_SOLVER_LINEAR_SOLVER,
  VS_BIND_SOLVER_DENSE_MAX_STATES,
  VS_BIND_SOLVER_STAB_LIM_DET,
  VS_BIND_SOLVER_JAC_EVAL_STEPS,
  VS_BIND_SOLVER_NONLIN_CONV_COEF,
  VS_BIND_WALL_M,
  VS_BIND_WALL_N,
  VS_BIND_STENOSIS_KT,
  VS_BIND_STENOSIS_KU,
  VS_BIND_STENOSIS_LA_LS,
  VS_BIND_STENOSIS_LA_DS,
  VS_BIND_SOLVER_ATOL_VALVE,
  VS_BIND_VALVE_KVO,
  VS_BIND_VALVE_KVC,
  VS_BIND_VALVE_DP_OPEN,
  VS_BIND_VALVE_DP_CLOSE,
  VS_BIND_VALVE_M_ST,
  VS_BIND_VALVE_M_RG,
  VS_BIND_VALVE_LEAK_FLOOR,
  VS_BIND_VALVE_L_EFF,
  VS_BIND_VALVE_SMOOTHING,
  VS_BIND_VALVE_STATION,
  VS_BIND_LEG,              /**< the double at .field of vs_leg */
  VS_BIND_LEG_UNSIGNED,     /**< the unsigned at .field of vs_leg */
  VS_BIND_PROTOCOL,         /**< the double at .field of vs_leg_protocol */
  VS_BIND_PROTOCOL_UNSIGNED /**< the unsigned at .field of vs_leg_protocol */
} vs_schema_bind;

typedef struct vs_schema_key vs_schema_key;
struct vs_schema_key {
  const char *key;            /**< NULL ends a table */
  vs_schema_type type;
  const char *unit;           /**< "" when dimensionless or not a number */
  int required;               /**< 1: must be given (within .only) */
  vs_schema_default dflt;
  double def_number;          /**< VS_DEFAULT_VALUE for numeric kinds */
  const char *def_text;       /**< VS_DEFAULT_VALUE for string, enum */
  vs_schema_bind bind;        /**< VS_DEFAULT_MODEL, solver options */
  size_t field;               /**< VS_BIND_LEG*, VS_BIND_PROTOCOL*: offset
                                   of the value in its struct */
  vs_schema_range range;      /**< number, integer, waveform, number list */
  double min, max;
  int inherit_range;          /**< waveform parts: use the range of the
                                   waveform's own key */
  size_t min_items;           /**< list, number list: fewest items;
                                   string: fewest non-blank characters */
  const char *const *choices; /**< enum: NULL-terminated values */
  int discriminator;          /**< enum whose value selects the variant of
                                   the mapping (its keys' .only) */
  const char *only;           /**< space-separated variants the key applies
                                   to; NULL: all */
  const char *needs;          /**< space-separated sibling keys that must be
                                   given (bools: true) when this key is given
                                   (bools: true) */
  const char *at_most;        /**< sibling number this one must not exceed */
  const vs_schema_key *sub;   /**< mapping, list: the keys of each mapping */
  const char *desc;           /**< one line */
};

/** The top level of a case file. */
extern const vs_schema_key vs_case_schema[];
/** The keys of a waveform given as a mapping (type: table or sine). */
extern const vs_schema_key vs_waveform_schema[];

/** Number of keys in a table. */
size_t vs_schema_count(const vs_schema_key *table);
/** Index of `key` in `table`, or -1. */
int vs_schema_find(const vs_schema_key *table, const char *key);
/** Index of the discriminator key of a table, or -1 if it has none. */
int vs_schema_discriminator(const vs_schema_key *table);
/** 1 if key k applies to a mapping of the given variant (NULL: none yet). */
int vs_schema_applies(const vs_schema_key *k, const char *variant);
/** Index of `value` among an enum key's choices, or -1. */
int vs_schema_choice(const vs_schema_key *k, const char *value);

/** 1 if x lies in k's range. */
int vs_schema_in_range(const vs_schema_key *k, double x);
/** The range as text, e.g. "(0, 1]", or "" for VS_RANGE_ANY. */
void vs_schema_format_range(const vs_schema_key *k, char *buf, size_t len);
/** Compact number text for messages and docs: 1e-6, 0.01, 100000, 1e7. */
void vs_schema_format_number(double x, char *buf, size_t len);

/** Numeric default of a VS_DEFAULT_VALUE or VS_DEFAULT_MODEL key (for an
 *  enum bound to the solver: the index of the default choice). */
double vs_schema_default_number(const vs_schema_key *k);
/** Store x into the solver option bound to k (a VS_BIND_SOLVER_* key).
 *  Returns 0, or VS_EINVAL if k is not bound to a solver option. */
int vs_schema_solver_set(vs_solver_options *o, const vs_schema_key *k,
                         double x);

/* ---- the expansion hook (sweep.c) -----------------------------------------
 * A sweep run is the case file with some values replaced. The reader calls
 * `edit` on the parsed YAML document (top: its root mapping) before the
 * schema check, so a run is validated and built exactly like a hand-written
 * case. `edit` writes "FILE: message" into msg and returns a negative status
 * to reject the run. */
struct fy_document;
struct fy_node;
typedef int (*vs_case_edit_fn)(struct fy_document *doc, struct fy_node *top,
                               void *user, char *msg, size_t msglen);

/** vs_case_load_string with the document edited first (edit may be NULL),
 *  built for treatment arm `arm` (0: untreated; k: arms[k-1]'s treatments
 *  added to the leg's). */
int vs_case_load_edited(const char *text, size_t len, const char *display_name,
                        vs_case_edit_fn edit, void *user, size_t arm,
                        vs_case **c, char *msg, size_t msglen);

/** Store x into the vs_leg or vs_leg_protocol field a key binds to;
 *  VS_EINVAL if the key binds to neither. */
int vs_schema_leg_set(void *leg, void *protocol, const vs_schema_key *k,
                      double x);

#endif /* VENOSIM_CASE_SCHEMA_H */
