/* The built-in demonstration: the default leg through the whole clinical
 * protocol (lying, exercise, leg raised, standing, one tiptoe, a 10-step
 * walk, recovery, calf cuff release, Valsalva), healthy and with reflux.
 * It is built through the public C API, as a user's own program would. */
#include "demo.h"

#include <stdlib.h>
#include <string.h>

#include "venosim/venosim.h"

/* Post-thrombotic valves are destroyed: their shut area is 60 % of the
 * annulus (Mrg, valve.h). */
#define DEMO_REFLUX_MRG 0.6

static const char *const k_superficial[] = {"sfj_valve", "gsv_knee_valve",
                                            NULL};
static const char *const k_deep[] = {
    "tibial_valve",  "soleal_valve",  "gastrocnemius_valve", "popliteal_valve",
    "femoral_valve", "calf_perforator_valve", NULL};

/* One arm: the default leg with the named valves leaking. */
static int build_arm(const char *const *leaky, vs_network **net, char *msg,
                     size_t msglen) {
  vs_leg leg;
  int rc = vs_leg_default(&leg);
  if (rc) return rc;
  for (size_t i = 0; leaky && leaky[i]; ++i) {
    vs_leg_valve *v = vs_leg_find_valve(&leg, leaky[i]);
    if (v) v->valve.m_rg = DEMO_REFLUX_MRG;
  }
  vs_leg_protocol p = vs_leg_protocol_default();
  rc = vs_leg_build(&leg, &p, net, msg, msglen);
  vs_leg_clear(&leg);
  return rc;
}

int vs_demo_create(vs_demo *demo, char *msg, size_t msglen) {
  static const struct {
    const char *name;
    const char *const *leaky;
  } arms[] = {{"healthy", NULL},
              {"superficial_reflux", k_superficial},
              {"deep_reflux", k_deep}};
  size_t n = sizeof arms / sizeof arms[0];
  memset(demo, 0, sizeof *demo);
  demo->description =
      "The default leg through the clinical protocol: healthy; with great "
      "saphenous reflux; with deep (post-thrombotic) reflux. Walking drops "
      "the ankle pressure of the healthy leg by about 60 mmHg; reflux takes "
      "most of that drop away, and the ulcer risk of the ambulatory "
      "pressure rises with it.";
  demo->runs = calloc(n, sizeof *demo->runs);
  demo->networks = calloc(n, sizeof *demo->networks);
  if (!demo->runs || !demo->networks) {
    vs_demo_clear(demo);
    return VS_ENOMEM;
  }
  demo->n_runs = n;
  vs_leg_protocol p = vs_leg_protocol_default();
  vs_solver_options opt = vs_solver_options_default();
  opt.t_end_s = vs_leg_protocol_duration(&p);
  opt.output_dt_s = p.output_dt_s;
  opt.max_step_s = VS_LEG_MAX_STEP_S;
  for (size_t i = 0; i < n; ++i) {
    int rc = build_arm(arms[i].leaky, &demo->networks[i], msg, msglen);
    if (rc) {
      vs_demo_clear(demo);
      return rc;
    }
    demo->runs[i].name = arms[i].name;
    demo->runs[i].network = demo->networks[i];
    demo->runs[i].solver = opt;
  }
  return VS_OK;
}

void vs_demo_clear(vs_demo *demo) {
  for (size_t i = 0; demo->networks && i < demo->n_runs; ++i)
    vs_network_free(&demo->networks[i]);
  free(demo->networks);
  free(demo->runs);
  memset(demo, 0, sizeof *demo);
}
