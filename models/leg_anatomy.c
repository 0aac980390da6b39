/* The default leg's anatomy and parameters (leg.h).
 *
 * Sizes, lengths and heights: PHYSICS.md section 2 (ADAN network for radii
 * and lengths; Raju's IVUS sizing and ultrasound series for iliac and
 * femoral areas; standing heights for an adult of about 175 cm).
 *
 * Wall stiffness K (tube law, wall.h): for the axial veins it follows the
 * linearised ADAN compliances through K = A0 / (11.5 C/l) (femoral 0.053
 * mL/mmHg over 29 cm gives K ~ 48 mmHg; popliteal 0.010 over 14.5 cm, 57;
 * common iliac 0.015 over 6 cm, 70). The calf's small veins and muscle
 * sinuses hold most of the leg's venous volume; their K is calibrated so
 * that the calf's venous compliance is about 1.4 mL/mmHg at 20 mmHg
 * (venous occlusion plethysmography, C(P) = 0.078 - 0.001 P mL/dL/mmHg,
 * for a 2.5 L calf) and its venous volume (standing minus supine) some
 * 50 to 150 mL (air plethysmography). No venous K is public: every value is
 * an input, scaled together by wall_stiffness_scale. Small calf veins and
 * sinuses buckle easily: their collapse stiffness Kc is lower than Kd.
 *
 * Foot pump. Weight bearing squeezes the plantar plexus (Uhl and Gillot:
 * the plantar veins, not a venous sole, are the foot's reservoir); no
 * pressure on those veins is published. plantar_pressure_mmhg is
 * calibrated to the healthy ambulatory pressure on the fitted mesh (leg.h):
 * 160 mmHg walks to 27.7 mmHg; from 140 to 200 mmHg the answer moves less
 * than 1 mmHg, below 130 mmHg it climbs towards 35 mmHg.
 *
 * Microvascular beds share the resting inflow of one leg, 350 +/- 141
 * mL/min (5.8 mL/s; Ultrasound Med Biol 1986), between foot, calf, skin and
 * thigh; the calf takes about 1.4 mL/s (PHYSICS.md section 2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/error.h"
#include "venosim/leg.h"

#define ADAN "ADAN network (Blanco et al.), PHYSICS.md section 2"
#define CALF_FIT "calibrated to calf compliance and volume (see file header)"

/* name, system, d (mm), vessels, length (cm), z distal, z proximal (cm),
 * Kd, Kc (mmHg), pump share, plantar share, abdominal, in calf, drains to, at,
 * valve, source */
static const vs_leg_segment k_segments[] = {
    {"plantar", VS_LEG_DEEP, 2.5, 6, 10.0, 1.0, 3.0, 10.0, 2.0, 0.0, 1.0, 0, 0,
     "tibial", 0.0, "plantar_valve",
     "plantar venous plexus; " CALF_FIT},
    {"tibial", VS_LEG_DEEP, 3.0, 6, 35.0, 8.0, 43.0, 8.0, 2.0, 0.6, 0.0, 0, 1,
     "popliteal", 0.0, "tibial_valve",
     "paired anterior, posterior tibial and peroneal veins, radius 0.12 to "
     "0.17 cm, 31 to 38 cm, " ADAN "; K " CALF_FIT},
    {"soleal_sinus", VS_LEG_SINUS, 10.0, 6, 12.0, 20.0, 32.0, 4.0, 1.0, 1.0, 0.0, 0,
     1, "tibial", 0.6, "soleal_valve",
     "soleal sinuses draining into the tibial and peroneal veins; size and K "
     CALF_FIT},
    {"gastrocnemius_sinus", VS_LEG_SINUS, 10.0, 4, 10.0, 30.0, 42.0, 4.0, 1.0, 1.0,
     0.0, 0, 1, "popliteal", 0.3, "gastrocnemius_valve",
     "gastrocnemius sinuses draining into the popliteal vein; size and K "
     CALF_FIT},
    {"popliteal", VS_LEG_DEEP, 7.6, 1, 18.0, 43.0, 55.0, 57.0, 57.0, 0.2, 0.0, 0, 0,
     "femoral", 0.0, "popliteal_valve",
     "radius 0.38 cm, 18 cm, about 50 cm high, " ADAN},
    {"femoral", VS_LEG_DEEP, 11.4, 1, 35.0, 55.0, 86.0, 48.0, 48.0, 0.0, 0.0, 0, 0,
     "common_femoral", 0.0, "femoral_valve",
     "radius 0.57 cm, 35 cm, 50 to 88 cm high, " ADAN},
    {"common_femoral", VS_LEG_DEEP, 12.6, 1, 5.0, 86.0, 91.0, 50.0, 50.0, 0.0, 0.0,
     0, 0, "external_iliac", 0.0, "",
     "125 mm^2 (12.6 mm; Raju), 5 cm, about 88 cm high; no valve above the "
     "saphenofemoral junction by default (many people have none), so a "
     "Valsalva manoeuvre reaches the junction and the femoral valve"},
    {"external_iliac", VS_LEG_PELVIC, 13.8, 1, 10.6, 91.0, 100.0, 60.0, 60.0, 0.0,
     0.0, 1, 0, "common_iliac", 0.0, "",
     "150 mm^2 (13.8 mm; Raju, IVUS 137 to 141 mm^2), 10.6 cm, 92 to 100 cm"},
    {"common_iliac", VS_LEG_PELVIC, 16.0, 1, 6.0, 100.0, 105.0, 70.0, 70.0, 0.0, 0.0,
     1, 0, "ivc", 0.0, "",
     "200 mm^2 (16 mm; Raju, IVUS 167 to 194 mm^2), 6 cm, 100 to 105 cm; K "
     "from the ADAN compliance 0.015 mL/mmHg over 6 cm"},
    {"ivc", VS_LEG_PELVIC, 18.4, 1, 11.0, 105.0, 111.0, 50.0, 50.0, 0.0, 0.0, 1, 0,
     "", 0.0, "",
     "infrarenal cava, 265 mm^2 (18.4 mm), about 11 cm, rising to the "
     "hydrostatic indifference point"},
    {"gsv_ankle", VS_LEG_SUPERFICIAL, 3.6, 4, 6.0, 3.0, 9.0, 15.0, 15.0, 0.0, 0.0, 0,
     0, "gsv_calf", 0.0, "",
     "dorsal venous arch and network with the great saphenous vein at the "
     "ankle (four vessels of the saphenous size), where ambulatory venous "
     "pressure is measured; radius 0.18 cm, " ADAN},
    {"gsv_calf", VS_LEG_SUPERFICIAL, 3.6, 1, 38.0, 9.0, 47.0, 15.0, 15.0, 0.0, 0.0,
     0, 1, "gsv_thigh", 0.0, "gsv_knee_valve",
     "great saphenous vein below the knee; radius 0.18 cm, wall h/R 0.24, "
     ADAN},
    {"gsv_thigh", VS_LEG_SUPERFICIAL, 4.0, 1, 47.0, 47.0, 86.0, 15.0, 15.0, 0.0,
     0.0, 0, 0, "common_femoral", 0.5, "sfj_valve",
     "great saphenous vein above the knee to the saphenofemoral junction "
     "(93 cm in all, " ADAN ")"},
};

/* name, from, at, to, at, d (mm), vessels, length (cm), R, valve, source */
static const vs_leg_connection k_connections[] = {
    {"calf_perforator", "gsv_calf", 0.25, "tibial", 0.35, 2.5, 3, 3.0, 0.0,
     "calf_perforator_valve",
     "posterior tibial (Cockett) perforators, valved inwards"},
    {"thigh_perforator", "gsv_thigh", 0.4, "femoral", 0.5, 2.5, 1, 4.0, 0.0,
     "thigh_perforator_valve", "mid-thigh (Dodd) perforator, valved inwards"},
    {"foot_communicating", "plantar", 0.5, "gsv_ankle", 0.3, 1.0, 2, 4.0, 0.0,
     "",
     "valveless foot perforators: the foot pump empties the plantar plexus "
     "into the dorsal arch as well"},
    {"pelvic_collateral", "external_iliac", 0.5, "ivc", 0.5, 0.0, 1, 0.0, 10.0,
     "",
     "lumbar, sacral, epigastric, circumflex, internal iliac and gonadal "
     "routes, lumped; no numeric resistance is public: an input"},
};

/* name, segment, at, resting flow (mL/s), muscle */
static const vs_leg_bed k_beds[] = {
    {"foot_skin", "gsv_ankle", 0.5, 0.3, 0},
    {"foot_muscle", "plantar", 0.5, 0.3, 1},
    {"soleus", "soleal_sinus", 0.5, 0.6, 1},
    {"gastrocnemius", "gastrocnemius_sinus", 0.5, 0.5, 1},
    {"leg_muscle", "tibial", 0.5, 0.2, 1},
    {"calf_skin", "gsv_calf", 0.5, 0.3, 0},
    {"thigh_skin", "gsv_thigh", 0.5, 0.4, 0},
    {"thigh_muscle", "femoral", 0.5, 1.3, 1},
    {"profunda", "common_femoral", 0.5, 1.9, 1},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void *dup_array(const void *src, size_t n, size_t size) {
  void *d = malloc(n ? n * size : 1);
  if (d && n) memcpy(d, src, n * size);
  return d;
}

/* A leg valve: the default law without inertance. The leg's links carry no
 * inertance (see leg.c), and a valve's alone would form, with the small
 * compartments on either side, a lightly damped oscillator that rings at
 * tens of hertz, which veins do not. */
static vs_valve leg_valve(void) {
  vs_valve v = vs_valve_default();
  v.l_eff_cm = 0.0;
  return v;
}

/* One valve entry per valve named in the segment and connection tables. */
static int collect_valves(vs_leg *leg) {
  size_t cap = leg->n_segments + leg->n_connections;
  leg->valves = calloc(cap ? cap : 1, sizeof *leg->valves);
  if (!leg->valves) return VS_ENOMEM;
  for (size_t i = 0; i < leg->n_segments; ++i) {
    const vs_leg_segment *s = &leg->segments[i];
    if (!s->valve[0]) continue;
    vs_leg_valve *v = &leg->valves[leg->n_valves++];
    snprintf(v->name, sizeof v->name, "%s", s->valve);
    v->system = s->system;
    v->valve = leg_valve();
  }
  for (size_t i = 0; i < leg->n_connections; ++i) {
    const vs_leg_connection *c = &leg->connections[i];
    if (!c->valve[0]) continue;
    vs_leg_valve *v = &leg->valves[leg->n_valves++];
    snprintf(v->name, sizeof v->name, "%s", c->valve);
    v->system = VS_LEG_SUPERFICIAL;
    v->perforator = 1;
    v->valve = leg_valve();
  }
  return VS_OK;
}

int vs_leg_default(vs_leg *leg) {
  memset(leg, 0, sizeof *leg);
  leg->n_segments = COUNT(k_segments);
  leg->n_connections = COUNT(k_connections);
  leg->n_beds = COUNT(k_beds);
  leg->segments = dup_array(k_segments, leg->n_segments, sizeof *k_segments);
  leg->connections =
      dup_array(k_connections, leg->n_connections, sizeof *k_connections);
  leg->beds = dup_array(k_beds, leg->n_beds, sizeof *k_beds);
  if (!leg->segments || !leg->connections || !leg->beds ||
      collect_valves(leg)) {
    vs_leg_clear(leg);
    return VS_ENOMEM;
  }
  /* Two cells per stretch of the fitted mesh: the measurements of the
   * validation table then move less than 1 % on refining (leg.h). */
  leg->compartments_per_segment = 2;
  leg->wall_stiffness_scale = 1.0;
  leg->arterial_pressure_mmhg = 93.0;    /* mean arterial pressure */
  leg->heart_height_cm = 125.0;          /* PHYSICS.md 2: 125 to 130 cm */
  leg->outlet_pressure_mmhg = 5.5;       /* central venous, 0 to 5 mmHg, plus the thoracic cava */
  leg->outlet_height_cm = 110.0;         /* just below the diaphragm */
  leg->abdominal_supine_mmhg = 6.0;      /* WSACS: 5 to 7 mmHg */
  leg->abdominal_standing_mmhg = 20.0;   /* Cobb 2005, at the bladder */
  leg->abdominal_ref_height_cm = 95.0;   /* the bladder, standing */
  leg->contralateral_flow_ml_s = 7.0;    /* IVC 12 to 15 mL/s, both legs */
  leg->venous_pressure_rest_mmhg = 10.0; /* venules, supine */
  leg->calf_tissue_supine_mmhg = 5.0;    /* resting intramuscular [check] */
  leg->calf_tissue_standing_mmhg = 8.0;   /* rises standing [check] */
  leg->pump_pressure_mmhg = 150.0;       /* soleus 181 +/- 69 (Ballard) */
  leg->plantar_pressure_mmhg = 160.0;    /* weight bearing; calibrated (above) */
  leg->pump_duty = 0.4;                  /* late stance */
  leg->pump_rise_s = 0.1;
  leg->exercise_flow_factor = 3.0;       /* walking hyperaemia */
  leg->standing_flow_ratio = 0.5;        /* veno-arteriolar reflex [check] */
  leg->respiration_mmhg = 0.0;           /* off unless asked */
  leg->respiration_period_s = 4.0;
  return VS_OK;
}

int vs_leg_copy(vs_leg *dst, const vs_leg *src) {
  *dst = *src;
  dst->segments = dup_array(src->segments, src->n_segments, sizeof *src->segments);
  dst->connections = dup_array(src->connections, src->n_connections,
                               sizeof *src->connections);
  dst->beds = dup_array(src->beds, src->n_beds, sizeof *src->beds);
  dst->valves = dup_array(src->valves, src->n_valves, sizeof *src->valves);
  dst->lesions = dup_array(src->lesions, src->n_lesions, sizeof *src->lesions);
  dst->treatments = dup_array(src->treatments, src->n_treatments,
                              sizeof *src->treatments);
  if (!dst->segments || !dst->connections || !dst->beds || !dst->valves ||
      !dst->lesions || !dst->treatments) {
    vs_leg_clear(dst);
    return VS_ENOMEM;
  }
  return VS_OK;
}

void vs_leg_clear(vs_leg *leg) {
  if (!leg) return;
  free(leg->segments);
  free(leg->connections);
  free(leg->beds);
  free(leg->valves);
  free(leg->lesions);
  free(leg->treatments);
  memset(leg, 0, sizeof *leg);
}

vs_leg_segment *vs_leg_find_segment(vs_leg *leg, const char *name) {
  for (size_t i = 0; i < leg->n_segments; ++i)
    if (strcmp(leg->segments[i].name, name) == 0) return &leg->segments[i];
  return NULL;
}

vs_leg_valve *vs_leg_find_valve(vs_leg *leg, const char *name) {
  for (size_t i = 0; i < leg->n_valves; ++i)
    if (strcmp(leg->valves[i].name, name) == 0) return &leg->valves[i];
  return NULL;
}

vs_leg_connection *vs_leg_find_connection(vs_leg *leg, const char *name) {
  for (size_t i = 0; i < leg->n_connections; ++i)
    if (strcmp(leg->connections[i].name, name) == 0)
      return &leg->connections[i];
  return NULL;
}

void vs_leg_compartment_name(const char *segment, unsigned k, char *out,
                             size_t len) {
  snprintf(out, len, "%s_%u", segment, k);
}
