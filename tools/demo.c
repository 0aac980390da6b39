/* The built-in demonstration: the default leg through the whole clinical
 * protocol (lying, exercise, leg raised, standing, one tiptoe, a 10-step
 * walk, recovery, calf cuff release, Valsalva): a healthy leg, a
 * post-thrombotic one, and that leg after each treatment.
 * It is built through the public C API, as a user's own program would. */
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/venosim.h"

/* Post-thrombotic valves are destroyed: their shut area is 60 % of the
 * annulus (Mrg, valve.h). */
#define DEMO_REFLUX_MRG 0.6
/* The residual iliac stenosis: 20 % of the lumen left over 4 cm of the
 * common iliac vein (80 % area loss, well past the 50 % that is
 * haemodynamically significant, PHYSICS.md V8). */
#define DEMO_STENOSIS_SEGMENT "common_iliac"
#define DEMO_STENOSIS_AREA_RATIO 0.2
#define DEMO_STENOSIS_LENGTH_CM 4.0
/* Devices: a 14 mm balloon, laser-cut nitinol stents as long as the common
 * iliac vein, class II stockings. */
#define DEMO_BALLOON_MM 14.0
/* A chronic post-thrombotic scar recoils strongly: the upper end of the
 * range PHYSICS.md 1.6 gives (0.2 to 0.5; cases/balloon_vs_stent.yaml sweeps
 * it). */
#define DEMO_BALLOON_RECOIL 0.5
#define DEMO_STENT_LENGTH_CM 6.0

static const char *const k_deep[] = {
    "plantar_valve", "tibial_valve",  "soleal_valve", "gastrocnemius_valve",
    "popliteal_valve", "femoral_valve", "calf_perforator_valve", NULL};

typedef enum {
  ARM_HEALTHY,
  ARM_PTS,
  ARM_BALLOON,
  ARM_STENT_12,
  ARM_STENT_14,
  ARM_STENT_16,
  ARM_STOCKINGS,
  N_ARMS
} demo_arm;

static const char *const k_arm_names[N_ARMS] = {
    "healthy", "post_thrombotic", "balloon_14", "stent_12",
    "stent_14", "stent_16", "stockings"};

/* The leg of one arm: healthy, or post-thrombotic (deep reflux and the
 * iliac stenosis) with the arm's treatment. */
static int build_arm(demo_arm arm, vs_network **net, char *msg,
                     size_t msglen) {
  vs_leg leg;
  int rc = vs_leg_default(&leg);
  if (rc) return rc;
  if (arm != ARM_HEALTHY) {
    for (size_t i = 0; k_deep[i]; ++i) {
      vs_leg_valve *v = vs_leg_find_valve(&leg, k_deep[i]);
      if (v) v->valve.m_rg = DEMO_REFLUX_MRG;
    }
    vs_leg_lesion les =
        vs_leg_lesion_default(VS_LESION_STENOSIS, DEMO_STENOSIS_SEGMENT);
    les.area_ratio = DEMO_STENOSIS_AREA_RATIO;
    les.length_cm = DEMO_STENOSIS_LENGTH_CM;
    rc = vs_leg_add_lesion(&leg, &les, msg, msglen);
  }
  vs_leg_treatment t;
  int treated = 1;
  switch (arm) {
  case ARM_BALLOON:
    t = vs_leg_treatment_default(VS_TREAT_BALLOON);
    t.diameter_mm = DEMO_BALLOON_MM;
    t.recoil = DEMO_BALLOON_RECOIL;
    break;
  case ARM_STENT_12:
  case ARM_STENT_14:
  case ARM_STENT_16: {
    double d = arm == ARM_STENT_12 ? 12.0 : arm == ARM_STENT_14 ? 14.0 : 16.0;
    t = vs_leg_treatment_default(VS_TREAT_STENT);
    t.stent = vs_stent_default(VS_STENT_NITINOL, d, DEMO_STENT_LENGTH_CM);
    t.diameter_mm = d;
    t.length_cm = DEMO_STENT_LENGTH_CM;
    break;
  }
  case ARM_STOCKINGS:
    t = vs_leg_treatment_default(VS_TREAT_STOCKINGS);
    t.stocking = vs_stocking_class(2);
    break;
  default:
    treated = 0;
  }
  if (!rc && treated) {
    snprintf(t.segment, sizeof t.segment, "%s", DEMO_STENOSIS_SEGMENT);
    rc = vs_leg_add_treatment(&leg, &t, msg, msglen);
  }
  vs_leg_protocol p = vs_leg_protocol_default();
  if (!rc) rc = vs_leg_build(&leg, &p, net, msg, msglen);
  vs_leg_clear(&leg);
  return rc;
}

int vs_demo_create(vs_demo *demo, char *msg, size_t msglen) {
  size_t n = N_ARMS;
  memset(demo, 0, sizeof *demo);
  demo->description =
      "The default leg through the clinical protocol, healthy and after an "
      "iliofemoral thrombosis (deep reflux and an 80 % common iliac "
      "stenosis), untreated and treated: a 14 mm balloon, 12, 14 and 16 mm "
      "nitinol stents, class II stockings. Walking drops the healthy ankle "
      "pressure by about 60 mmHg; reflux and obstruction take most of that "
      "away. Stents remove the obstruction (the iliac gradient and the "
      "femoral pressure rise while walking), not the reflux; stockings lower "
      "what distends the veins (avp_transmural).";
  demo->runs = calloc(n, sizeof *demo->runs);
  demo->networks = calloc(n, sizeof *demo->networks);
  demo->baseline = calloc(n, sizeof *demo->baseline);
  if (!demo->runs || !demo->networks || !demo->baseline) {
    vs_demo_clear(demo);
    return VS_ENOMEM;
  }
  demo->n_runs = n;
  demo->arms = k_arm_names;
  /* Every arm is the default leg (one compartment per segment) with its
   * lesions and treatments: the same solver options. */
  vs_leg_protocol p = vs_leg_protocol_default();
  vs_leg leg;
  if (vs_leg_default(&leg)) {
    vs_demo_clear(demo);
    return VS_ENOMEM;
  }
  vs_solver_options opt = vs_leg_solver_options(&leg, &p);
  vs_leg_clear(&leg);
  for (size_t i = 0; i < n; ++i) {
    int rc = build_arm((demo_arm)i, &demo->networks[i], msg, msglen);
    if (rc) {
      vs_demo_clear(demo);
      return rc;
    }
    demo->runs[i].name = k_arm_names[i];
    demo->runs[i].network = demo->networks[i];
    demo->runs[i].solver = opt;
    /* Treatments are compared with the untreated post-thrombotic leg. */
    demo->baseline[i] = i <= ARM_PTS ? i : ARM_PTS;
  }
  return VS_OK;
}

void vs_demo_clear(vs_demo *demo) {
  for (size_t i = 0; demo->networks && i < demo->n_runs; ++i)
    vs_network_free(&demo->networks[i]);
  free(demo->networks);
  free(demo->runs);
  free(demo->baseline);
  memset(demo, 0, sizeof *demo);
}
