/**
 * @file metrics.h
 * @brief Scalar measurements taken from a finished run, one /summary column
 *        each. A metric reads the run's series by name and column name, so
 *        it works on any network that has the compartments it needs and is
 *        NaN otherwise.
 */
#ifndef VENOSIM_METRICS_H
#define VENOSIM_METRICS_H

#include <stddef.h>

#include "venosim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const char *name;        /**< /summary column name */
  const char *unit;        /**< unit attribute */
  const char *description; /**< how it is measured */
} vs_metric_info;

/** Number of metrics and their table (static storage). */
size_t vs_metrics_count(void);
const vs_metric_info *vs_metrics_table(void);
/** Index of a metric by name, or -1. */
int vs_metrics_find(const char *name);

/** Compute every metric of a run into values[vs_metrics_count()]; a metric
 *  that does not apply (or a failed run) gives NaN. */
void vs_metrics_compute(const vs_run_result *r, double *values);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_METRICS_H */
