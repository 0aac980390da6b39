/* The built-in demonstration: an iliofemoral venous outflow tract, supine
 * then standing, at rest then with exercise inflow, without and with an
 * iliac stenosis. It is built through the public C API, as a user's own
 * program would build a network.
 *
 * Sizes, lengths and heights are PHYSICS.md section 2. The wall stiffness K
 * has no public venous value: DEMO_WALL_K_MMHG gives the femoral vein about
 * the ADAN compliance (0.053 mL/mmHg over 29 cm: K = A0 / (11.5 C/l)). */
#include "demo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/venosim.h"

#define DEMO_WALL_K_MMHG 40.0       /* tube-law stiffness, mmHg */
#define DEMO_CALF_C_ML_MMHG 1.4     /* calf venous compliance at 20 mmHg */
#define DEMO_CALF_V0_ML 150.0       /* calf unstressed venous volume */
#define DEMO_ATRIUM_MMHG 3.0        /* right atrial pressure */
#define DEMO_REST_INFLOW_ML_S 5.8   /* common femoral resting flow */
#define DEMO_EXERCISE_INFLOW_ML_S 20.0 /* hyperaemic inflow while exercising */

/* A vein segment of the outflow tract. */
typedef struct {
  const char *name;
  double diameter_mm, length_cm, height_cm;
} demo_segment;

static const demo_segment k_segments[] = {
    {"popliteal", 7.6, 18.0, 50.0},       {"femoral", 11.4, 35.0, 70.0},
    {"common_femoral", 12.6, 5.0, 88.0},  {"external_iliac", 14.0, 10.6, 96.0},
    {"common_iliac", 16.0, 6.0, 102.0},   {"ivc", 18.4, 11.0, 115.0},
};
#define N_SEGMENTS (sizeof k_segments / sizeof k_segments[0])

static double area_cm2(double d_mm) { return VS_PI * d_mm * d_mm / 400.0; }

/* Build one arm of the demo; area_ratio < 1 puts a stenosis on the common
 * iliac vein (the lumen left, As/A0). */
static int build_network(double area_ratio, vs_network **out, char *msg,
                         size_t msglen) {
  vs_network *net = NULL;
  int rc = vs_network_create(&net);
  if (rc) return rc;
  /* Supine for 5 s, stand up over 1 s, stand. */
  vs_waveform tilt = vs_waveform_constant(0.0);
  const double tilt_t[] = {0.0, 5.0, 6.0}, tilt_v[] = {0.0, 0.0, 90.0};
  rc = vs_waveform_set_table(&tilt, 3, tilt_t, tilt_v, 0);
  if (!rc) rc = vs_network_set_tilt(net, &tilt);
  vs_waveform_clear(&tilt);

  vs_compartment_spec calf = {.name = "calf",
                              .height_cm = 20.0,
                              .wall = vs_wall_linear(DEMO_CALF_C_ML_MMHG,
                                                     DEMO_CALF_V0_ML),
                              .p_ext = vs_waveform_constant(0.0),
                              .p_init_mmhg = 10.0};
  if (!rc && vs_network_add_compartment(net, &calf) < 0) rc = VS_EINVAL;
  for (size_t i = 0; !rc && i < N_SEGMENTS; ++i) {
    const demo_segment *s = &k_segments[i];
    vs_compartment_spec c = {
        .name = s->name,
        .height_cm = s->height_cm,
        .wall = vs_wall_tube_law(DEMO_WALL_K_MMHG, area_cm2(s->diameter_mm),
                                 s->length_cm),
        .p_ext = vs_waveform_constant(0.0),
        .p_init_mmhg = 8.0};
    if (vs_network_add_compartment(net, &c) < 0) rc = VS_EINVAL;
  }
  vs_pressure_node_spec atrium = {.name = "right_atrium",
                                  .height_cm = 127.0,
                                  .pressure =
                                      vs_waveform_constant(DEMO_ATRIUM_MMHG)};
  if (!rc && vs_network_add_pressure_node(net, &atrium) < 0) rc = VS_EINVAL;

  /* Resting inflow, then exercise hyperaemia from 25 s to 35 s. */
  vs_flow_source_spec inflow = {.name = "arterial_inflow",
                                .compartment = "calf"};
  const double q_t[] = {0.0, 25.0, 26.0, 35.0, 36.0};
  const double q_v[] = {DEMO_REST_INFLOW_ML_S, DEMO_REST_INFLOW_ML_S,
                        DEMO_EXERCISE_INFLOW_ML_S, DEMO_EXERCISE_INFLOW_ML_S,
                        DEMO_REST_INFLOW_ML_S};
  inflow.flow = vs_waveform_constant(0.0);
  if (!rc) rc = vs_waveform_set_table(&inflow.flow, 5, q_t, q_v, 0);
  if (!rc && vs_network_add_flow_source(net, &inflow) < 0) rc = VS_EINVAL;
  vs_waveform_clear(&inflow.flow);

  /* Links: each segment drains into the next through its own geometry. */
  const char *upstream = "calf";
  for (size_t i = 0; !rc && i <= N_SEGMENTS; ++i) {
    const demo_segment *s = &k_segments[i < N_SEGMENTS ? i : N_SEGMENTS - 1];
    vs_link_spec l = vs_link_spec_default();
    char name[64];
    snprintf(name, sizeof name, "to_%s", i < N_SEGMENTS ? s->name : "atrium");
    l.name = name;
    l.from = upstream;
    l.to = i < N_SEGMENTS ? s->name : "right_atrium";
    l.diameter_cm = s->diameter_mm / 10.0;
    l.length_cm = s->length_cm;
    l.poiseuille = 1;
    /* No geometric inertance: without wall viscoelasticity (not modelled
     * yet) an inertial chain of open veins rings with a quality factor of
     * about 25 after every change of posture, which real veins do not. */
    l.geometric_inertance = 0;
    l.collapsible = 1;
    if (i < N_SEGMENTS && strcmp(s->name, "common_iliac") == 0 &&
        area_ratio < 1.0) {
      l.has_stenosis = 1;
      l.stenosis = vs_stenosis_young_tsai(area_ratio, 3.0);
    }
    if (vs_network_add_link(net, &l) < 0) rc = VS_EINVAL;
    upstream = s->name;
  }
  if (!rc) rc = vs_network_validate(net, msg, msglen);
  if (rc) {
    vs_network_free(&net);
    return rc;
  }
  *out = net;
  return VS_OK;
}

int vs_demo_create(vs_demo *demo, char *msg, size_t msglen) {
  static const struct {
    const char *name;
    double area_ratio;
  } arms[] = {{"open_vein", 1.0},
              {"iliac_stenosis_50", 0.5},
              {"iliac_stenosis_80", 0.2},
              {"iliac_stenosis_90", 0.1}};
  size_t n = sizeof arms / sizeof arms[0];
  memset(demo, 0, sizeof *demo);
  demo->description =
      "Iliofemoral outflow tract (calf to right atrium), supine for 5 s, "
      "standing from 6 s, exercise inflow (20 mL/s) from 25 to 35 s; the "
      "open vein and common iliac stenoses leaving 50, 20 and 10 % of the "
      "lumen. Standing raises every pressure by the hydrostatic column; the "
      "stenosis costs little at rest and more in exercise.";
  demo->runs = calloc(n, sizeof *demo->runs);
  demo->networks = calloc(n, sizeof *demo->networks);
  if (!demo->runs || !demo->networks) {
    vs_demo_clear(demo);
    return VS_ENOMEM;
  }
  demo->n_runs = n;
  vs_solver_options opt = vs_solver_options_default();
  opt.t_end_s = 45.0;
  opt.output_dt_s = 0.05;
  for (size_t i = 0; i < n; ++i) {
    int rc = build_network(arms[i].area_ratio, &demo->networks[i], msg, msglen);
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
