/* The built-in demonstration run by `venosim` with no arguments. */
#ifndef VENOSIM_TOOLS_DEMO_H
#define VENOSIM_TOOLS_DEMO_H

#include <stddef.h>

#include "venosim/runner.h"

/* The demonstration's runs: networks owned by the demo, specs filled in. */
typedef struct {
  size_t n_runs;
  vs_run_spec *runs;
  vs_network **networks;
  const char *description;
  const char *const *arms; /* each run's arm (static storage) */
  size_t *baseline;        /* each run's untreated run (itself if none) */
} vs_demo;

int vs_demo_create(vs_demo *demo, char *msg, size_t msglen);
void vs_demo_clear(vs_demo *demo);

#endif
