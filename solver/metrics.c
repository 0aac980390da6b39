/* Scalar measurements of a finished run (metrics.h). The engine's metrics
 * check the run itself (mass balance) and summarise it; the leg's clinical
 * measurements join this table with the leg model. */
#include "venosim/metrics.h"

#include <math.h>
#include <string.h>

typedef double (*vs_metric_fn)(const vs_run_result *r);

/* Sum of row k of a series. */
static double row_sum(const vs_series *s, size_t k) {
  double sum = 0.0;
  for (size_t j = 0; j < s->n_columns; ++j) sum += s->data[k * s->n_columns + j];
  return sum;
}

static double volume_change(const vs_run_result *r) {
  const vs_series *v = vs_result_series(r, "volume");
  if (!v || r->n_samples < 1) return NAN;
  return row_sum(v, r->n_samples - 1) - row_sum(v, 0);
}

static double boundary_inflow(const vs_run_result *r) {
  const vs_series *w = vs_result_series(r, "boundary_volume");
  if (!w || r->n_samples < 1) return NAN;
  return row_sum(w, r->n_samples - 1);
}

static double mass_balance_error(const vs_run_result *r) {
  return volume_change(r) - boundary_inflow(r);
}

static double pressure_peak(const vs_run_result *r) {
  const vs_series *p = vs_result_series(r, "pressure");
  const vs_series *v = vs_result_series(r, "volume");
  if (!p || !v) return NAN;
  double peak = -INFINITY;
  /* Compartments are the first v->n_columns pressure columns. */
  for (size_t k = 0; k < r->n_samples; ++k)
    for (size_t j = 0; j < v->n_columns; ++j)
      peak = fmax(peak, p->data[k * p->n_columns + j]);
  return peak;
}

static const vs_metric_info k_info[] = {
    {"volume_change", "mL",
     "total compartment volume at the end minus at the start"},
    {"boundary_inflow", "mL",
     "net volume that entered through all boundaries over the run"},
    {"mass_balance_error", "mL",
     "volume_change - boundary_inflow: zero up to round-off when mass is "
     "conserved"},
    {"pressure_peak", "mmHg",
     "highest compartment pressure on the output grid"},
};
static const vs_metric_fn k_fn[] = {volume_change, boundary_inflow,
                                    mass_balance_error, pressure_peak};

size_t vs_metrics_count(void) { return sizeof k_info / sizeof k_info[0]; }
const vs_metric_info *vs_metrics_table(void) { return k_info; }

int vs_metrics_find(const char *name) {
  for (size_t i = 0; i < vs_metrics_count(); ++i)
    if (strcmp(k_info[i].name, name) == 0) return (int)i;
  return -1;
}

void vs_metrics_compute(const vs_run_result *r, double *values) {
  for (size_t i = 0; i < vs_metrics_count(); ++i)
    values[i] = (r && r->status == VS_RUN_OK) ? k_fn[i](r) : NAN;
}
