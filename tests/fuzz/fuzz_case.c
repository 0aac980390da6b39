/* Fuzz target of the case reader and its schema (tests/fuzz/README.md).
 *
 * One input is one case file. It goes through the path `venosim check` and
 * `venosim run` take: vs_sweep_load_string (YAML parse, schema check, the
 * network built and validated, the sweep expanded), then the first and the
 * last run of the sweep are built and their ODE systems assembled. Nothing
 * is integrated (too slow to fuzz).
 *
 * Besides memory errors (ASan) and undefined behaviour (UBSan), the target
 * aborts when the reader breaks its contract (case.h): a failure must leave
 * *s NULL and say why in a message that starts with the file's name. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/venosim.h"

#define VS_FUZZ_NAME "fuzz.yaml"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void contract(int ok, const char *what, const char *msg) {
  if (ok) return;
  fprintf(stderr, "fuzz_case: contract broken: %s (message: '%s')\n", what,
          msg ? msg : "(null)");
  abort();
}

static void build_run(const vs_sweep *s, size_t run) {
  vs_case *c = NULL;
  char msg[1024] = "";
  int rc = vs_sweep_build_run(s, run, &c, msg, sizeof msg);
  if (rc) {
    contract(c == NULL, "a failed build leaves the case NULL", msg);
    contract(memchr(msg, 0, sizeof msg) && msg[0], "a failed build says why",
             msg);
    return;
  }
  contract(c && c->network, "a built run has a network", msg);
  vs_system *sys = NULL;
  if (vs_system_create(c->network, &sys, msg, sizeof msg) == 0) {
    size_t n = vs_system_state_count(sys);
    double *y = calloc(n + 1, sizeof *y), *ydot = calloc(n + 1, sizeof *ydot);
    /* The initial state and one right-hand side: the physics of the
     * parameters the reader let through (NaN/inf must be refused there). */
    if (y && ydot && vs_system_initial_state(sys, 0.0, y) == 0)
      (void)vs_system_rhs(sys, 0.0, y, ydot);
    free(y);
    free(ydot);
    vs_system_free(&sys);
  }
  vs_case_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  vs_sweep *s = NULL;
  char msg[1024];
  memset(msg, 0, sizeof msg);
  int rc = vs_sweep_load_string((const char *)data, size, VS_FUZZ_NAME, &s,
                                msg, sizeof msg);
  if (rc) {
    contract(s == NULL, "a failed load leaves the sweep NULL", msg);
    contract(msg[sizeof msg - 1] == 0 && msg[0], "a failed load says why",
             msg);
    contract(strncmp(msg, VS_FUZZ_NAME, strlen(VS_FUZZ_NAME)) == 0,
             "the message starts with the file name", msg);
    return 0;
  }
  contract(s != NULL, "a successful load gives a sweep", msg);
  const vs_case *c = vs_sweep_case(s);
  contract(c && c->network && c->name && c->description,
           "a loaded case has its network, name and description", msg);
  size_t n = vs_sweep_run_count(s);
  contract(n >= 1, "a sweep has at least one run", msg);
  char name[256];
  contract(vs_sweep_run_name(s, n - 1, name, sizeof name) == 0,
           "the last run has a name", msg);
  contract(vs_sweep_run_name(s, n, name, sizeof name) != 0,
           "no run past the last", msg);
  size_t ni = vs_sweep_input_count(s);
  double *values = calloc(ni + 1, sizeof *values);
  if (values) {
    contract(vs_sweep_run_values(s, n - 1, values) == 0,
             "the last run has values", msg);
    free(values);
  }
  build_run(s, 0);
  if (n > 1) build_run(s, n - 1);
  vs_sweep_free(&s);
  contract(s == NULL, "free sets the pointer to NULL", "");
  return 0;
}
