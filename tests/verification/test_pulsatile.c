/* (g) A chain of R-C-L vessels with one stenosis under pulsatile inflow:
 * the default-tolerance solution agrees with a reference computed at 100x
 * tighter tolerances to 1e-4 relative, at every output sample. Also: the
 * maximum BDF order is honoured. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "support.h"

static void chain_agrees_with_tight_reference(void **state) {
  (void)state;
  vs_network *net = t_rcl_chain(12);
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 5.0;
  o.rtol = 1e-8;
  o.atol_volume_ml = o.atol_flow_ml_s = 1e-9;
  vs_run_result *run = t_run(net, &o);
  o.rtol *= 1e-2;
  o.atol_volume_ml *= 1e-2;
  o.atol_flow_ml_s *= 1e-2;
  vs_run_result *ref = t_run(net, &o);
  const char *series[] = {"pressure", "flow"};
  for (int s = 0; s < 2; ++s) {
    const vs_series *a = vs_result_series(run, series[s]);
    const vs_series *b = vs_result_series(ref, series[s]);
    double scale = 0, worst = 0;
    for (size_t k = 0; k < run->n_samples * a->n_columns; ++k)
      scale = fmax(scale, fabs(b->data[k]));
    for (size_t k = 0; k < run->n_samples * a->n_columns; ++k)
      worst = fmax(worst, fabs(a->data[k] - b->data[k]) / scale);
    print_message("%s: worst difference / max |reference| = %.3g "
                  "(%ld vs %ld steps)\n",
                  series[s], worst, run->stats.steps, ref->stats.steps);
    assert_true(worst <= 1e-4);
  }
  vs_result_free(&run);
  vs_result_free(&ref);
  vs_network_free(&net);
}

static void max_order_is_honoured(void **state) {
  (void)state;
  vs_network *net = t_rcl_chain(12);
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 2.0;
  o.max_order = 2;
  vs_run_result *run = t_run(net, &o);
  assert_true(run->stats.last_order >= 1 && run->stats.last_order <= 2);
  vs_result_free(&run);
  vs_network_free(&net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(chain_agrees_with_tight_reference),
      cmocka_unit_test(max_order_is_honoured),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
