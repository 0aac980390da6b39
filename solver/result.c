/* A run's result: allocation, series, event log, failure message. */
#include "text.h"
#include "venosim/result.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/error.h"


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
}

void vs_result_free(vs_run_result **r) {
  if (!r || !*r) return;
  for (size_t i = 0; i < (*r)->n_series; ++i) series_clear(&(*r)->series[i]);
  free((*r)->series);
  free((*r)->time);
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
  t->link_names = calloc(n_links + 1, sizeof *t->link_names);
  t->link_from = calloc(n_links + 1, sizeof *t->link_from);
  t->link_to = calloc(n_links + 1, sizeof *t->link_to);
  t->link_diameter_cm = calloc(n_links + 1, sizeof *t->link_diameter_cm);
  t->link_n_parallel = calloc(n_links + 1, sizeof *t->link_n_parallel);
  t->link_valve = calloc(n_links + 1, sizeof *t->link_valve);
  t->n_nodes = n_nodes;
  t->n_links = n_links;
  if (!t->node_names || !t->node_height_cm || !t->link_names ||
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
  free(t->link_names);
  free(t->link_from);
  free(t->link_to);
  free(t->link_diameter_cm);
  free(t->link_n_parallel);
  free(t->link_valve);
  memset(t, 0, sizeof *t);
}

int vs_result_set_samples(vs_run_result *r, size_t n_samples) {
  if (!r || r->time || n_samples == 0) return VS_EINVAL;
  r->time = calloc(n_samples, sizeof *r->time);
  if (!r->time) return VS_ENOMEM;
  r->n_samples = n_samples;
  return VS_OK;
}

vs_series *vs_result_add_series(vs_run_result *r, const char *name,
                                const char *unit, const char *description,
                                size_t n_columns, const char *const *columns) {
  if (!r || !r->time) return NULL;
  vs_series *grown = realloc(r->series, (r->n_series + 1) * sizeof *grown);
  if (!grown) return NULL;
  r->series = grown;
  vs_series *s = &r->series[r->n_series];
  memset(s, 0, sizeof *s);
  s->name = vs_text_dup(name ? name : "");
  s->unit = vs_text_dup(unit ? unit : "");
  s->description = vs_text_dup(description ? description : "");
  s->column_names = calloc(n_columns ? n_columns : 1, sizeof *s->column_names);
  s->data = calloc(r->n_samples * (n_columns ? n_columns : 1), sizeof *s->data);
  int ok = s->name && s->unit && s->description && s->column_names && s->data;
  s->n_columns = n_columns;
  for (size_t j = 0; ok && j < n_columns; ++j) {
    s->column_names[j] = vs_text_dup(columns[j] ? columns[j] : "");
    ok = s->column_names[j] != NULL;
  }
  if (!ok) {
    series_clear(s);
    return NULL;
  }
  /* Unsampled rows read as NaN, never as a plausible zero. */
  for (size_t k = 0; k < r->n_samples * n_columns; ++k) s->data[k] = NAN;
  r->n_series++;
  return s;
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
