/* The leg and its clinical protocol turned into a network (leg.h).
 *
 * Every time-dependent input (tilt, calf and foot pump, cuff, Valsalva,
 * intra-abdominal pressure, exercise hyperaemia) is written as a
 * piecewise-linear table over one set of knots: the corners of every pulse
 * and ramp, so the tables are exact, plus samples inside the stand-up ramp
 * where the abdominal pressure follows sin(tilt). The integrator stops on
 * every knot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/error.h"
#include "venosim/leg.h"
#include "venosim/units.h"

/* Ramps of the protocol's own manoeuvres (cuff inflation, Valsalva,
 * hyperaemia onset): short against the phases, long against a step. */
#define CUFF_INFLATE_S 0.3
#define VALSALVA_RAMP_S 0.3
#define HYPERAEMIA_RAMP_S 1.0
#define STAND_UP_SAMPLES 8

vs_leg_protocol vs_leg_protocol_default(void) {
  vs_leg_protocol p;
  p.supine_s = 30.0;
  p.exercise_s = 20.0;
  p.elevation_s = 30.0;
  p.elevation_deg = -30.0;
  p.stand_up_s = 3.0;
  p.standing_s = 150.0;
  p.tiptoe_refill_s = 90.0;
  p.walk_steps = 10;
  p.cadence_hz = 1.0;
  p.recovery_s = 90.0;
  p.cuff_mmhg = 80.0;
  p.cuff_hold_s = 4.0;
  p.cuff_release_s = 0.3;
  p.cuff_observe_s = 6.0;
  p.valsalva_mmhg = 40.0;
  p.valsalva_s = 6.0;
  p.valsalva_observe_s = 6.0;
  p.output_dt_s = 0.02;
  return p;
}

int vs_leg_protocol_validate(const vs_leg_protocol *p, char *msg,
                             size_t msglen) {
  const double durations[] = {p->supine_s,       p->exercise_s,
                              p->elevation_s,     p->standing_s,
                              p->tiptoe_refill_s, p->recovery_s,
                              p->cuff_observe_s,  p->valsalva_observe_s};
  for (size_t i = 0; i < sizeof durations / sizeof *durations; ++i)
    if (!(durations[i] > 0) || !isfinite(durations[i])) {
      snprintf(msg, msglen, "protocol: every phase needs a positive duration");
      return VS_EINVAL;
    }
  if (!(p->elevation_deg >= -45 && p->elevation_deg <= 0)) {
    snprintf(msg, msglen, "protocol: elevation_deg must be in [-45, 0]");
    return VS_EINVAL;
  }
  if (!(p->stand_up_s > 0) || !(p->cuff_hold_s > 2 * CUFF_INFLATE_S) ||
      !(p->cuff_release_s > 0) || !(p->valsalva_s > 2 * VALSALVA_RAMP_S)) {
    snprintf(msg, msglen,
             "protocol: stand-up and cuff release need positive times, the "
             "cuff hold and the Valsalva more than %.1f s",
             2 * CUFF_INFLATE_S);
    return VS_EINVAL;
  }
  if (p->walk_steps < 6 || !(p->cadence_hz > 0.2 && p->cadence_hz <= 3)) {
    snprintf(msg, msglen,
             "protocol: the walk needs at least 6 steps (the ambulatory "
             "pressure averages the last 5) at 0.2 to 3 per second");
    return VS_EINVAL;
  }
  if (!(p->output_dt_s > 0 && p->output_dt_s <= 0.1)) {
    snprintf(msg, msglen,
             "protocol: output_dt_s must be in (0, 0.1] s to resolve reflux");
    return VS_EINVAL;
  }
  return VS_OK;
}

static void add_phase(vs_leg_phase *ph, size_t *n, const char *name,
                      double *t, double duration) {
  snprintf(ph[*n].name, sizeof ph[*n].name, "%s", name);
  ph[*n].t_start_s = *t;
  ph[*n].t_end_s = *t + duration;
  *t += duration;
  (*n)++;
}

size_t vs_leg_phases(const vs_leg_protocol *p, vs_leg_phase *ph) {
  size_t n = 0;
  double t = 0.0, cycle = 1.0 / p->cadence_hz;
  add_phase(ph, &n, "supine", &t, p->supine_s);
  add_phase(ph, &n, "supine_exercise", &t, p->exercise_s);
  add_phase(ph, &n, "leg_elevated", &t, p->elevation_s);
  add_phase(ph, &n, "stand_up", &t, p->stand_up_s);
  add_phase(ph, &n, "standing", &t, p->standing_s);
  add_phase(ph, &n, "tiptoe", &t, cycle);
  add_phase(ph, &n, "tiptoe_refill", &t, p->tiptoe_refill_s);
  add_phase(ph, &n, "walking", &t, cycle * p->walk_steps);
  /* The window of the ambulatory venous pressure: the walk's last 5 cycles
   * (it overlaps "walking"; the clock is set back to the walk's end). */
  t -= 5.0 * cycle;
  add_phase(ph, &n, "walking_last5", &t, 5.0 * cycle);
  add_phase(ph, &n, "recovery", &t, p->recovery_s);
  add_phase(ph, &n, "cuff", &t, p->cuff_hold_s);
  add_phase(ph, &n, "cuff_release", &t, p->cuff_release_s + p->cuff_observe_s);
  add_phase(ph, &n, "valsalva", &t, p->valsalva_s);
  add_phase(ph, &n, "valsalva_release", &t, p->valsalva_observe_s);
  return n;
}

double vs_leg_protocol_duration(const vs_leg_protocol *p) {
  vs_leg_phase ph[VS_LEG_MAX_PHASES];
  size_t n = vs_leg_phases(p, ph);
  return ph[n - 1].t_end_s;
}

vs_solver_options vs_leg_solver_options(const vs_leg *leg,
                                        const vs_leg_protocol *p) {
  (void)leg; /* every leg takes the same options today */
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = vs_leg_protocol_duration(p);
  o.output_dt_s = p->output_dt_s;
  o.max_step_s = VS_LEG_MAX_STEP_S;
  o.stability_limit_detection = VS_LEG_STABILITY_LIMIT_DETECTION;
  o.atol_valve = VS_LEG_ATOL_VALVE;
  o.nonlin_conv_coef = VS_LEG_NONLIN_CONV_COEF;
  o.max_order = VS_LEG_MAX_ORDER;
  return o;
}

/* ---- the protocol as functions of time ---------------------------------- */

typedef struct {
  const vs_leg *leg;
  const vs_leg_protocol *p;
  vs_leg_phase ph[VS_LEG_MAX_PHASES];
  size_t n_ph;
  double rho_g; /* mmHg per cm */
  const vs_leg_segment_state *state; /* per segment: lesions, treatments */
} timeline;

static const vs_leg_phase *phase(const timeline *tl, const char *name) {
  for (size_t i = 0; i < tl->n_ph; ++i)
    if (strcmp(tl->ph[i].name, name) == 0) return &tl->ph[i];
  return NULL; /* not reached: every name used below is in vs_leg_phases */
}

/* Trapezoid: 0 before a, up to 1 at a + rise, 1 until b - rise, 0 at b. */
static double trapezoid(double t, double a, double b, double rise) {
  if (t <= a || t >= b) return 0.0;
  if (t < a + rise) return (t - a) / rise;
  if (t > b - rise) return (b - t) / rise;
  return 1.0;
}

/* Tilt in degrees: flat, the leg raised (reached over ELEVATE_S), a linear
 * ramp while standing up, upright. */
#define ELEVATE_S 2.0
static double tilt_deg(const timeline *tl, double t) {
  const vs_leg_phase *el = phase(tl, "leg_elevated");
  const vs_leg_phase *up = phase(tl, "stand_up");
  double low = tl->p->elevation_deg;
  if (t <= el->t_start_s) return 0.0;
  if (t < el->t_start_s + ELEVATE_S)
    return low * (t - el->t_start_s) / ELEVATE_S;
  if (t <= up->t_start_s) return low;
  if (t >= up->t_end_s) return 90.0;
  return low + (90.0 - low) * (t - up->t_start_s) / (up->t_end_s - up->t_start_s);
}

/* Contraction level in [0, 1]: one on tiptoe, one per step walking. */
static double contraction(const timeline *tl, double t) {
  double cycle = 1.0 / tl->p->cadence_hz;
  double width = tl->leg->pump_duty * cycle, rise = tl->leg->pump_rise_s;
  const vs_leg_phase *tip = phase(tl, "tiptoe"), *walk = phase(tl, "walking");
  double level = trapezoid(t, tip->t_start_s, tip->t_start_s + width, rise);
  if (t > walk->t_start_s && t < walk->t_end_s) {
    double k = floor((t - walk->t_start_s) / cycle);
    double a = walk->t_start_s + k * cycle;
    level = fmax(level, trapezoid(t, a, a + width, rise));
  }
  return level;
}

/* Cuff on the calf: inflated through the cuff phase, released linearly. */
static double cuff(const timeline *tl, double t) {
  const vs_leg_phase *c = phase(tl, "cuff"), *r = phase(tl, "cuff_release");
  double release = tl->p->cuff_release_s;
  if (t <= c->t_start_s || t >= r->t_start_s + release) return 0.0;
  if (t < c->t_start_s + CUFF_INFLATE_S)
    return tl->p->cuff_mmhg * (t - c->t_start_s) / CUFF_INFLATE_S;
  if (t <= r->t_start_s) return tl->p->cuff_mmhg;
  return tl->p->cuff_mmhg * (1.0 - (t - r->t_start_s) / release);
}

/* Intra-abdominal pressure on a vein at height z (cm, standing). */
static double abdominal(const timeline *tl, double t, double z) {
  const vs_leg *leg = tl->leg;
  double s = sin(tilt_deg(tl, t) * VS_PI / 180.0);
  double standing = leg->abdominal_standing_mmhg +
                    tl->rho_g * (leg->abdominal_ref_height_cm - z);
  double p = (1.0 - s) * leg->abdominal_supine_mmhg + s * standing;
  const vs_leg_phase *v = phase(tl, "valsalva");
  p += tl->p->valsalva_mmhg *
       trapezoid(t, v->t_start_s, v->t_end_s, VALSALVA_RAMP_S);
  if (leg->respiration_mmhg > 0)
    p += leg->respiration_mmhg *
         sin(2.0 * VS_PI * t / leg->respiration_period_s);
  return p;
}

/* Muscle-bed flow factor: raised in supine exercise and while walking. */
static double hyperaemia(const timeline *tl, double t) {
  const vs_leg_phase *ex = phase(tl, "supine_exercise");
  const vs_leg_phase *walk = phase(tl, "walking");
  /* The supine exercise ramps up inside its own phase, so that the resting
   * values (the end of "supine") are taken at rest. */
  double up = fmax(trapezoid(t, ex->t_start_s, ex->t_end_s + HYPERAEMIA_RAMP_S,
                             HYPERAEMIA_RAMP_S),
                   trapezoid(t, walk->t_start_s - HYPERAEMIA_RAMP_S,
                             walk->t_end_s + HYPERAEMIA_RAMP_S,
                             HYPERAEMIA_RAMP_S));
  return 1.0 + (tl->leg->exercise_flow_factor - 1.0) * up;
}

/* ---- knots --------------------------------------------------------------- */

typedef struct {
  size_t n, cap;
  double *t;
} knots;

static int knot_add(knots *k, double t) {
  if (k->n == k->cap) {
    size_t cap = k->cap ? 2 * k->cap : 256;
    double *g = realloc(k->t, cap * sizeof *g);
    if (!g) return VS_ENOMEM;
    k->t = g;
    k->cap = cap;
  }
  k->t[k->n++] = t;
  return VS_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Every corner of every input, sorted, without duplicates. */
static int build_knots(const timeline *tl, knots *k) {
  const vs_leg_protocol *p = tl->p;
  const vs_leg *leg = tl->leg;
  int rc = VS_OK;
  for (size_t i = 0; i < tl->n_ph && !rc; ++i) {
    rc = knot_add(k, tl->ph[i].t_start_s);
    if (!rc) rc = knot_add(k, tl->ph[i].t_end_s);
  }
  const vs_leg_phase *up = phase(tl, "stand_up");
  const vs_leg_phase *el = phase(tl, "leg_elevated");
  for (int j = 1; j < STAND_UP_SAMPLES && !rc; ++j) {
    rc = knot_add(k, up->t_start_s + (up->t_end_s - up->t_start_s) * j /
                                         STAND_UP_SAMPLES);
    if (!rc) rc = knot_add(k, el->t_start_s + ELEVATE_S * j / STAND_UP_SAMPLES);
  }
  if (!rc) rc = knot_add(k, el->t_start_s + ELEVATE_S);
  double cycle = 1.0 / p->cadence_hz, width = leg->pump_duty * cycle;
  double rise = leg->pump_rise_s;
  const vs_leg_phase *tip = phase(tl, "tiptoe"), *walk = phase(tl, "walking");
  for (unsigned s = 0; s <= p->walk_steps && !rc; ++s) {
    double a = s == 0 ? tip->t_start_s : walk->t_start_s + (s - 1) * cycle;
    const double corners[] = {a, a + rise, a + width - rise, a + width};
    for (int c = 0; c < 4 && !rc; ++c) rc = knot_add(k, corners[c]);
  }
  const vs_leg_phase *c = phase(tl, "cuff"), *r = phase(tl, "cuff_release");
  const vs_leg_phase *v = phase(tl, "valsalva");
  const vs_leg_phase *ex = phase(tl, "supine_exercise");
  const double more[] = {
      c->t_start_s + CUFF_INFLATE_S,     r->t_start_s + p->cuff_release_s,
      v->t_start_s + VALSALVA_RAMP_S,    v->t_end_s - VALSALVA_RAMP_S,
      ex->t_start_s + HYPERAEMIA_RAMP_S, ex->t_end_s + HYPERAEMIA_RAMP_S,
      walk->t_start_s - HYPERAEMIA_RAMP_S, walk->t_end_s + HYPERAEMIA_RAMP_S};
  for (size_t i = 0; i < sizeof more / sizeof *more && !rc; ++i)
    rc = knot_add(k, more[i]);
  if (leg->respiration_mmhg > 0) {
    double step = leg->respiration_period_s / 16.0;
    double end = tl->ph[tl->n_ph - 1].t_end_s;
    for (double t = 0.0; t < end && !rc; t += step) rc = knot_add(k, t);
  }
  if (rc) return rc;
  qsort(k->t, k->n, sizeof *k->t, cmp_double);
  size_t m = 0;
  for (size_t i = 0; i < k->n; ++i)
    if (k->t[i] >= 0 && (m == 0 || k->t[i] - k->t[m - 1] > 1e-9))
      k->t[m++] = k->t[i];
  k->n = m;
  return VS_OK;
}

/* A table of f over the knots; a constant if f never changes. */
typedef double (*leg_input_fn)(const timeline *tl, double t, const void *arg);

static int make_table(const timeline *tl, const knots *k, leg_input_fn f,
                      const void *arg, double *scratch, vs_waveform *w) {
  int varies = 0;
  for (size_t i = 0; i < k->n; ++i) {
    scratch[i] = f(tl, k->t[i], arg);
    varies |= scratch[i] != scratch[0];
  }
  *w = vs_waveform_constant(scratch[0]);
  if (!varies) return VS_OK;
  return vs_waveform_set_table(w, k->n, k->t, scratch, 0);
}

/* External pressure of one compartment: pump, foot pump, cuff, abdomen,
 * an extrinsic compression, stockings. */
typedef struct {
  const vs_leg_segment *seg;
  const vs_leg_segment_state *state;
  double z;
} comp_arg;

static double external_pressure(const timeline *tl, double t, const void *a) {
  const comp_arg *c = a;
  const vs_leg *leg = tl->leg;
  double level = contraction(tl, t);
  double p = c->seg->pump_fraction * leg->pump_pressure_mmhg * level +
             c->seg->plantar_fraction * leg->plantar_pressure_mmhg * level;
  if (c->seg->in_calf) p += cuff(tl, t);
  if (c->seg->pump_fraction > 0) {
    /* Inside the deep fascia: the muscle's resting pressure. */
    double s = fmax(0.0, sin(tilt_deg(tl, t) * VS_PI / 180.0));
    p += (1.0 - s) * leg->calf_tissue_supine_mmhg +
         s * leg->calf_tissue_standing_mmhg;
  }
  if (c->seg->abdominal) p += abdominal(tl, t, c->z);
  p += c->state->external_mmhg;
  /* Stockings press on the limb (superficial and deep veins alike: the
   * tissue passes the pressure on), never on the abdomen. */
  for (size_t i = 0; i < leg->n_treatments && !c->seg->abdominal; ++i)
    if (leg->treatments[i].kind == VS_TREAT_STOCKINGS)
      p += vs_stocking_pressure_mmhg(&leg->treatments[i].stocking, c->z);
  return p;
}

/* The thoracic cava: the Valsalva strain raises the pressure in the chest
 * as much as in the abdomen (glottis shut), so blood cannot escape upwards. */
static double outlet_pressure(const timeline *tl, double t, const void *a) {
  (void)a;
  const vs_leg_phase *v = phase(tl, "valsalva");
  return tl->leg->outlet_pressure_mmhg +
         tl->p->valsalva_mmhg *
             trapezoid(t, v->t_start_s, v->t_end_s, VALSALVA_RAMP_S);
}

static double tilt_input(const timeline *tl, double t, const void *a) {
  (void)a;
  return tilt_deg(tl, t);
}

/* A bed's resistance: resting value, raised standing by the
 * veno-arteriolar reflex, lowered in exercise (muscle beds). */
typedef struct {
  double r0;          /* lying, at rest */
  double standing;    /* multiplier when upright */
  int muscle;
} bed_arg;

static double bed_resistance(const timeline *tl, double t, const void *a) {
  const bed_arg *b = a;
  double s = fmax(0.0, sin(tilt_deg(tl, t) * VS_PI / 180.0));
  double r = b->r0 * (1.0 + (b->standing - 1.0) * s);
  return b->muscle ? r / hyperaemia(tl, t) : r;
}

/* ---- building ------------------------------------------------------------ */

static unsigned n_of(const vs_leg *leg) {
  return leg->compartments_per_segment ? leg->compartments_per_segment : 1;
}

static const vs_leg_segment *segment_named(const vs_leg *leg,
                                           const char *name) {
  for (size_t i = 0; i < leg->n_segments; ++i)
    if (strcmp(leg->segments[i].name, name) == 0) return &leg->segments[i];
  return NULL;
}

/* Where other veins join segment s, as sorted fractions of its length, in
 * a new array of *count (NULL: out of memory; s is one of the leg's
 * segments, so the array is never empty-sized). */
static double *junctions(const vs_leg *leg, const vs_leg_segment *s,
                         size_t *count) {
  size_t n = 0;
  double *at = malloc((2 * leg->n_connections + leg->n_segments + 1) *
                      sizeof *at);
  *count = 0;
  if (!at) return NULL;
  for (size_t i = 0; i < leg->n_connections; ++i) {
    const vs_leg_connection *c = &leg->connections[i];
    if (strcmp(c->from, s->name) == 0) at[n++] = c->from_at;
    if (strcmp(c->to, s->name) == 0) at[n++] = c->to_at;
  }
  for (size_t i = 0; i < leg->n_segments; ++i)
    if (strcmp(leg->segments[i].drains_to, s->name) == 0)
      at[n++] = leg->segments[i].drains_at;
  qsort(at, n, sizeof *at, cmp_double);
  *count = n;
  return at;
}

/* Appends edge x (counting every edge, storing those that fit). */
static void put_edge(double *edges, unsigned cap, unsigned *m, double x) {
  if (*m < cap) edges[*m] = x;
  ++*m;
}

unsigned vs_leg_segment_mesh(const vs_leg *leg, const vs_leg_segment *s,
                             double *edges, unsigned cap) {
  unsigned n = n_of(leg), m = 0;
  /* The short cells: their n = 1 fraction over n, but at least the minimum
   * length of vein unless that exceeds the n = 1 fraction. */
  double floor_frac = VS_LEG_MESH_MIN_CELL_CM / s->length_cm;
  double e = fmax(VS_LEG_MESH_END / n, fmin(VS_LEG_MESH_END, floor_frac));
  double j = fmax(VS_LEG_MESH_JOIN / n, fmin(VS_LEG_MESH_JOIN, floor_frac));
  size_t n_join = 0;
  double *join = junctions(leg, s, &n_join);
  if (!join) return 0;
  double last = e, top = 1.0 - e;
  put_edge(edges, cap, &m, 0.0);
  put_edge(edges, cap, &m, e);
  for (size_t q = 0; q < n_join; ++q) {
    double a = join[q] - 0.5 * j, b = join[q] + 0.5 * j;
    /* A junction inside an end cell, or less than half a junction cell
     * beyond the previous one, shares that cell. */
    if (a < last + 0.5 * j || b > top - 0.5 * j) continue;
    for (unsigned i = 1; i <= n; ++i)
      put_edge(edges, cap, &m, last + (a - last) * i / n);
    put_edge(edges, cap, &m, b);
    last = b;
  }
  free(join);
  for (unsigned i = 1; i <= n; ++i)
    put_edge(edges, cap, &m, last + (top - last) * i / n);
  put_edge(edges, cap, &m, 1.0);
  return m - 1;
}

/* The cells of segment s in a new array of cells + 1 edges (NULL: out of
 * memory). */
static double *segment_edges(const vs_leg *leg, const vs_leg_segment *s,
                             unsigned *cells) {
  *cells = vs_leg_segment_mesh(leg, s, NULL, 0);
  double *edges = *cells ? malloc((*cells + 1) * sizeof *edges) : NULL;
  if (edges && vs_leg_segment_mesh(leg, s, edges, *cells + 1) != *cells) {
    free(edges);
    edges = NULL;
  }
  return edges;
}

/* Compartment of `segment` at fraction `at` along it (0 distal, 1
 * proximal): the cell holding it, the proximal one on an edge. VS_OK, or
 * VS_ENOMEM with the reason in msg. */
static int compartment_at(const vs_leg *leg, const char *segment, double at,
                          char *out, size_t len, char *msg, size_t msglen) {
  const vs_leg_segment *s = segment_named(leg, segment);
  unsigned cells = 1, k = 1;
  double *edges = s ? segment_edges(leg, s, &cells) : NULL;
  if (s && !edges) {
    snprintf(msg, msglen, "leg: out of memory for the mesh of '%s'", segment);
    return VS_ENOMEM;
  }
  while (edges && k < cells && !(at < edges[k])) ++k;
  free(edges);
  vs_leg_compartment_name(segment, k, out, len);
  return VS_OK;
}

static const vs_valve *valve_named(const vs_leg *leg, const char *name) {
  for (size_t i = 0; i < leg->n_valves; ++i)
    if (strcmp(leg->valves[i].name, name) == 0) return &leg->valves[i].valve;
  return NULL;
}

/* A collapsible vein link of the given geometry, with a valve if named
 * (standing for the valves along station_cm of vein: valve.h) and the
 * narrowing of a segment's state if given. */
static int add_vein_link(const vs_leg *leg, vs_network *net, const char *name,
                         const char *from, const char *to, double d_mm,
                         unsigned n_par, double length_cm, const char *valve,
                         double station_cm,
                         const vs_leg_segment_state *narrowing, char *msg,
                         size_t msglen) {
  vs_link_spec l = vs_link_spec_default();
  l.name = name;
  l.from = from;
  l.to = to;
  l.diameter_cm = d_mm / 10.0;
  l.length_cm = length_cm;
  l.n_parallel = n_par;
  l.poiseuille = 1;
  l.collapsible = 1;
  /* No geometric inertance: without wall viscoelasticity an inertial chain
   * of open veins rings after each change of posture, which veins do not;
   * valves keep their own inertance. */
  l.geometric_inertance = 0;
  if (valve && valve[0]) {
    const vs_valve *v = valve_named(leg, valve);
    if (!v) {
      snprintf(msg, msglen, "leg: unknown valve '%s'", valve);
      return VS_ENETWORK;
    }
    l.has_valve = 1;
    l.valve = *v;
    l.valve.station_length_cm = station_cm;
  }
  if (narrowing && narrowing->area_ratio < 1.0) {
    l.has_stenosis = 1;
    l.stenosis =
        vs_stenosis_young_tsai(narrowing->area_ratio, narrowing->length_cm);
    /* Nor inertance across a lesion: between two small compartments it
     * would ring like the open links would (above). */
    l.stenosis.ku = 0.0;
  }
  if (vs_network_add_link(net, &l) < 0) {
    snprintf(msg, msglen, "leg: cannot add link '%s'", name);
    return VS_ENETWORK;
  }
  return VS_OK;
}

/* The name of the link that drains segment s (its valve's, or
 * "<segment>_to_<next>"). */
static void drain_link_name(const vs_leg_segment *s, char *out, size_t len) {
  if (s->valve[0])
    snprintf(out, len, "%s", s->valve);
  else
    snprintf(out, len, "%s_to_%s", s->name,
             s->drains_to[0] ? s->drains_to : "outlet");
}

/* A segment's compartments and links on the mesh of n cells with the given
 * edges. */
static int add_segment_cells(const timeline *tl, const knots *k,
                             double *scratch, vs_network *net, size_t index,
                             const double *edges, unsigned n, char *msg,
                             size_t msglen) {
  const vs_leg *leg = tl->leg;
  const vs_leg_segment *s = &leg->segments[index];
  const vs_leg_segment_state *st = &tl->state[index];
  double a0 = s->n_parallel * VS_PI * s->diameter_mm * s->diameter_mm / 400.0;
  double p_init = leg->outlet_pressure_mmhg + 3.0;
  for (unsigned i = 1; i <= n; ++i) {
    char name[48];
    vs_leg_compartment_name(s->name, i, name, sizeof name);
    double centre = 0.5 * (edges[i - 1] + edges[i]);
    double l = s->length_cm * (edges[i] - edges[i - 1]);
    comp_arg arg = {s, st, s->z_distal_cm + centre * (s->z_proximal_cm -
                                                      s->z_distal_cm)};
    vs_compartment_spec c = {.name = name, .height_cm = arg.z};
    double stiff = leg->wall_stiffness_scale * st->stiffening;
    double area = a0;
    /* A stent holds the proximal stented_length of the segment open at its
     * lumen: a compartment whose middle lies under it is stented. */
    if (st->stent_lumen_mm > 0 &&
        (1.0 - centre) * s->length_cm <= st->stented_length_cm + 1e-9) {
      /* The stent, not the scar it holds open, sets the wall's stiffness. */
      stiff = leg->wall_stiffness_scale * st->stent_stiffening;
      area = s->n_parallel * VS_PI * st->stent_lumen_mm * st->stent_lumen_mm /
             400.0;
    }
    c.wall = vs_wall_tube_law(s->k_mmhg * stiff, area, l);
    c.wall.k_collapse_mmhg = s->k_collapse_mmhg * stiff;
    int rc = make_table(tl, k, external_pressure, &arg, scratch, &c.p_ext);
    if (rc) return rc;
    /* Start just above the external pressure: open, near rest. */
    c.p_init_mmhg = fmax(p_init, vs_waveform_eval(&c.p_ext, 0.0) + 1.0);
    rc = vs_network_add_compartment(net, &c);
    vs_waveform_clear(&c.p_ext);
    if (rc < 0) {
      snprintf(msg, msglen, "leg: cannot add compartment '%s'", name);
      return VS_ENETWORK;
    }
  }
  /* The segment's own links: k -> k+1, centre to centre, then its
   * proximal junction, one end cell long. */
  for (unsigned i = 1; i < n; ++i) {
    char a[48], b[48], name[64];
    vs_leg_compartment_name(s->name, i, a, sizeof a);
    vs_leg_compartment_name(s->name, i + 1, b, sizeof b);
    snprintf(name, sizeof name, "%s_%u_%u", s->name, i, i + 1);
    double l = 0.5 * s->length_cm * (edges[i + 1] - edges[i - 1]);
    int rc = add_vein_link(leg, net, name, a, b, s->diameter_mm, s->n_parallel,
                           l, NULL, 0.0, NULL, msg, msglen);
    if (rc) return rc;
  }
  char last[48], target[48], name[80];
  vs_leg_compartment_name(s->name, n, last, sizeof last);
  if (s->drains_to[0]) {
    if (!segment_named(leg, s->drains_to)) {
      snprintf(msg, msglen, "leg: segment '%s' drains into unknown '%s'",
               s->name, s->drains_to);
      return VS_ENETWORK;
    }
    int rc = compartment_at(leg, s->drains_to, s->drains_at, target,
                            sizeof target, msg, msglen);
    if (rc) return rc;
  } else {
    snprintf(target, sizeof target, "%s", VS_LEG_OUTLET);
  }
  drain_link_name(s, name, sizeof name);
  /* A total occlusion: no link; only the collaterals carry the flow. */
  if (!(st->area_ratio > 0)) return VS_OK;
  /* A lesion narrows the segment where it drains. */
  return add_vein_link(leg, net, name, last, target, s->diameter_mm,
                       s->n_parallel, s->length_cm * (1.0 - edges[n - 1]),
                       s->valve, s->length_cm, st, msg, msglen);
}

/* Segment `index`'s compartments and links on its mesh. */
static int add_segment(const timeline *tl, const knots *k, double *scratch,
                       vs_network *net, size_t index, char *msg,
                       size_t msglen) {
  const vs_leg *leg = tl->leg;
  const vs_leg_segment *s = &leg->segments[index];
  unsigned n = 0;
  double *edges = segment_edges(leg, s, &n);
  if (!edges) {
    snprintf(msg, msglen, "leg: out of memory for the mesh of '%s'", s->name);
    return VS_ENOMEM;
  }
  int rc = add_segment_cells(tl, k, scratch, net, index, edges, n, msg,
                             msglen);
  free(edges);
  return rc;
}

/* Every compartment must still drain to the outlet when a total occlusion
 * removed a link (the arterial beds do not count: blood cannot leave
 * through them). Returns 0 or VS_ENETWORK naming a cut-off compartment. */
static int check_outflow(const vs_network *net, const char *occluded,
                         char *msg, size_t msglen) {
  size_t nc = vs_network_compartment_count(net);
  size_t nl = vs_network_link_count(net);
  int out = vs_network_find_node(net, VS_LEG_OUTLET);
  unsigned char *seen = calloc(nc + 1, 1);
  if (!seen) return VS_ENOMEM;
  int grown = 1;
  /* Relax until nothing changes: a handful of sweeps over ~100 links. */
  while (grown) {
    grown = 0;
    for (size_t k = 0; k < nl; ++k) {
      const vs_link_spec *l = vs_network_link(net, k);
      int a = vs_network_find_node(net, l->from);
      int b = vs_network_find_node(net, l->to);
      int ra = a == out || (a >= 0 && (size_t)a < nc && seen[a]);
      int rb = b == out || (b >= 0 && (size_t)b < nc && seen[b]);
      if (ra && b >= 0 && (size_t)b < nc && !seen[b]) seen[b] = 1, grown = 1;
      if (rb && a >= 0 && (size_t)a < nc && !seen[a]) seen[a] = 1, grown = 1;
    }
  }
  int rc = VS_OK;
  for (size_t i = 0; i < nc; ++i)
    if (!seen[i]) {
      snprintf(msg, msglen,
               "leg: the total occlusion of '%s' leaves '%s' without any "
               "outflow (no collateral bypasses it)",
               occluded, vs_network_node_name(net, i));
      rc = VS_ENETWORK;
      break;
    }
  free(seen);
  return rc;
}

static int add_connection(const vs_leg *leg, vs_network *net,
                          const vs_leg_connection *c, char *msg,
                          size_t msglen) {
  char from[48], to[48];
  if (!segment_named(leg, c->from) || !segment_named(leg, c->to)) {
    snprintf(msg, msglen, "leg: connection '%s' joins an unknown segment",
             c->name);
    return VS_ENETWORK;
  }
  int rc = compartment_at(leg, c->from, c->from_at, from, sizeof from, msg,
                          msglen);
  if (!rc) rc = compartment_at(leg, c->to, c->to_at, to, sizeof to, msg, msglen);
  if (rc) return rc;
  const char *name = c->valve[0] ? c->valve : c->name;
  if (c->diameter_mm > 0)
    return add_vein_link(leg, net, name, from, to, c->diameter_mm,
                         c->n_parallel, c->length_cm, c->valve, 0.0, NULL, msg,
                         msglen);
  vs_link_spec l = vs_link_spec_default();
  l.name = name;
  l.from = from;
  l.to = to;
  l.resistance_mmhg_s_ml = c->resistance_mmhg_s_ml;
  if (vs_network_add_link(net, &l) < 0) {
    snprintf(msg, msglen, "leg: cannot add connection '%s'", c->name);
    return VS_ENETWORK;
  }
  return VS_OK;
}

/* Palma crossover bypass: the graft from the common femoral vein to the
 * other groin, whose healthy iliac veins carry the flow on to the cava (their
 * resistance is small beside the graft's). */
static int add_palma(const vs_leg *leg, vs_network *net,
                     const vs_leg_treatment *t, char *msg, size_t msglen) {
  char from[48], to[48];
  if (!segment_named(leg, VS_LEG_CFV_SEGMENT) ||
      !segment_named(leg, VS_LEG_CAVA_SEGMENT)) {
    snprintf(msg, msglen, "palma: the leg has no %s or %s segment",
             VS_LEG_CFV_SEGMENT, VS_LEG_CAVA_SEGMENT);
    return VS_ENETWORK;
  }
  int rc = compartment_at(leg, VS_LEG_CFV_SEGMENT, 0.5, from, sizeof from,
                          msg, msglen);
  if (!rc)
    rc = compartment_at(leg, VS_LEG_CAVA_SEGMENT, 0.0, to, sizeof to, msg,
                        msglen);
  if (rc) return rc;
  return add_vein_link(leg, net, VS_LEG_PALMA_LINK, from, to, t->diameter_mm,
                       1, t->length_cm, NULL, 0.0, NULL, msg, msglen);
}

/* Arterial blood into a segment through its bed's resistance, sized for
 * its resting flow between the arterial and venular pressures lying. */
static int add_bed(const timeline *tl, const knots *k, double *scratch,
                   vs_network *net, const vs_leg_bed *b, char *msg,
                   size_t msglen) {
  const vs_leg *leg = tl->leg;
  char to[48], name[64];
  if (!segment_named(leg, b->segment) || !(b->rest_flow_ml_s > 0)) {
    snprintf(msg, msglen,
             "leg: bed '%s' needs a known segment and a positive flow",
             b->name);
    return VS_ENETWORK;
  }
  int rc = compartment_at(leg, b->segment, b->at, to, sizeof to, msg, msglen);
  if (rc) return rc;
  snprintf(name, sizeof name, "%s_inflow", b->name);
  /* Lying, the bed sees the arterial minus the venular pressure. Standing,
   * both columns rise, but the arterial one from the heart and the venous
   * one from the outlet: the extra head is rho g (z_heart - z_outlet) plus
   * the pressure difference of the two ends. The reflex then scales the
   * standing flow by standing_flow_ratio. */
  double dp_lying = leg->arterial_pressure_mmhg - leg->venous_pressure_rest_mmhg;
  double dp_standing = leg->arterial_pressure_mmhg - leg->outlet_pressure_mmhg +
                       tl->rho_g * (leg->heart_height_cm - leg->outlet_height_cm);
  bed_arg arg = {.r0 = dp_lying / b->rest_flow_ml_s,
                 .standing = dp_standing / dp_lying / leg->standing_flow_ratio,
                 .muscle = b->muscle};
  vs_link_spec l = vs_link_spec_default();
  l.name = name;
  l.from = VS_LEG_ARTERY;
  l.to = to;
  rc = make_table(tl, k, bed_resistance, &arg, scratch, &l.resistance_wave);
  if (rc) return rc;
  l.resistance_varies = 1;
  rc = vs_network_add_link(net, &l);
  vs_waveform_clear(&l.resistance_wave);
  if (rc < 0) {
    snprintf(msg, msglen, "leg: cannot add bed '%s'", b->name);
    return VS_ENETWORK;
  }
  return VS_OK;
}

int vs_leg_build(const vs_leg *leg, const vs_leg_protocol *protocol,
                 vs_network **out, char *msg, size_t msglen) {
  int rc = vs_leg_protocol_validate(protocol, msg, msglen);
  if (rc) return rc;
  if (!(leg->arterial_pressure_mmhg > leg->venous_pressure_rest_mmhg) ||
      !(leg->pump_duty > 0 && leg->pump_duty < 1) ||
      !(leg->pump_rise_s > 0) ||
      !(2 * leg->pump_rise_s < leg->pump_duty / protocol->cadence_hz) ||
      !(leg->exercise_flow_factor > 0) || !(leg->wall_stiffness_scale > 0) ||
      !(leg->standing_flow_ratio > 0)) {
    snprintf(msg, msglen,
             "leg: arterial pressure must exceed the venular one, the pump "
             "duty lie in (0, 1) with contractions longer than two rise "
             "times, the exercise factor, standing flow ratio and stiffness "
             "scale be positive");
    return VS_EINVAL;
  }
  timeline tl = {.leg = leg, .p = protocol};
  tl.n_ph = vs_leg_phases(protocol, tl.ph);
  knots k = {0};
  vs_network *net = NULL;
  double *scratch = NULL;
  vs_leg_site site;
  vs_leg_segment_state *state = malloc((leg->n_segments + 1) * sizeof *state);
  if (!state) return VS_ENOMEM;
  if ((rc = vs_leg_disease_state(leg, state, &site, msg, msglen))) {
    free(state);
    return rc;
  }
  tl.state = state;
  if ((rc = vs_network_create(&net))) {
    free(state);
    return rc;
  }
  tl.rho_g = VS_BLOOD_DENSITY_G_CM3 * VS_GRAVITY_CM_S2 / VS_DYN_CM2_PER_MMHG;
  if ((rc = build_knots(&tl, &k))) goto done;
  scratch = malloc(k.n * sizeof *scratch);
  if (!scratch) {
    rc = VS_ENOMEM;
    goto done;
  }
  vs_waveform tilt;
  if ((rc = make_table(&tl, &k, tilt_input, NULL, scratch, &tilt))) goto done;
  rc = vs_network_set_tilt(net, &tilt);
  vs_waveform_clear(&tilt);
  if (rc) goto done;

  vs_pressure_node_spec art = {.name = VS_LEG_ARTERY,
                               .height_cm = leg->heart_height_cm,
                               .pressure = vs_waveform_constant(
                                   leg->arterial_pressure_mmhg)};
  vs_pressure_node_spec outlet = {.name = VS_LEG_OUTLET,
                                  .height_cm = leg->outlet_height_cm};
  if ((rc = make_table(&tl, &k, outlet_pressure, NULL, scratch,
                       &outlet.pressure)))
    goto done;
  int added = vs_network_add_pressure_node(net, &art) >= 0 &&
              vs_network_add_pressure_node(net, &outlet) >= 0;
  vs_waveform_clear(&outlet.pressure);
  if (!added) {
    rc = VS_ENETWORK;
    snprintf(msg, msglen, "leg: cannot add the boundary nodes");
    goto done;
  }
  for (size_t i = 0; i < leg->n_segments && !rc; ++i)
    rc = add_segment(&tl, &k, scratch, net, i, msg, msglen);
  for (size_t i = 0; i < leg->n_connections && !rc; ++i)
    rc = add_connection(leg, net, &leg->connections[i], msg, msglen);
  for (size_t i = 0; i < leg->n_beds && !rc; ++i)
    rc = add_bed(&tl, &k, scratch, net, &leg->beds[i], msg, msglen);
  for (size_t i = 0; i < leg->n_treatments && !rc; ++i)
    if (leg->treatments[i].kind == VS_TREAT_PALMA)
      rc = add_palma(leg, net, &leg->treatments[i], msg, msglen);
  if (rc) goto done;
  if (site.segment[0]) {
    char link[80];
    drain_link_name(segment_named(leg, site.segment), link, sizeof link);
    /* An occluded site has no link left: its lumen is 0 and its flow none. */
    if ((rc = vs_network_set_site(net, site.lumen_mm > 0 ? link : NULL,
                                  site.lumen_mm / 10.0)))
      goto done;
  }
  if (leg->contralateral_flow_ml_s > 0) {
    char ivc[48];
    if ((rc = compartment_at(leg, VS_LEG_CAVA_SEGMENT, 0.0, ivc, sizeof ivc,
                             msg, msglen)))
      goto done;
    vs_flow_source_spec src = {
        .name = "contralateral_inflow",
        .compartment = ivc,
        .flow = vs_waveform_constant(leg->contralateral_flow_ml_s)};
    if (vs_network_add_flow_source(net, &src) < 0) {
      rc = VS_ENETWORK;
      snprintf(msg, msglen, "leg: cannot add the contralateral inflow");
      goto done;
    }
  }
  for (size_t i = 0; i < tl.n_ph; ++i)
    if (vs_network_add_phase(net, tl.ph[i].name, tl.ph[i].t_start_s,
                             tl.ph[i].t_end_s) < 0) {
      rc = VS_ENOMEM;
      goto done;
    }
  rc = vs_network_validate(net, msg, msglen);
  for (size_t i = 0; i < leg->n_segments && !rc; ++i)
    if (!(state[i].area_ratio > 0)) {
      rc = check_outflow(net, leg->segments[i].name, msg, msglen);
      break;
    }
done:
  free(k.t);
  free(scratch);
  free(state);
  if (rc) {
    vs_network_free(&net);
    if (rc == VS_ENOMEM) snprintf(msg, msglen, "leg: out of memory");
    return rc;
  }
  *out = net;
  return VS_OK;
}
