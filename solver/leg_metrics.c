/* Clinical measurements of a leg run (leg.h), each taken the way a
 * clinician takes it, from the run's series and its protocol phases.
 *
 * Sites: a segment's pressure is the mean of its compartments' pressures
 * (the pressure at its middle, whatever the 1D resolution); the calf volume
 * is the sum of the volumes of the segments in the calf (what a calf cuff
 * of an air plethysmograph sees). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/leg.h"
#include "venosim/units.h"

/* The run as the measurements read it: its output times, and one column
 * at a time of its series (result.h reads them back from memory or from a
 * spill file), never a whole series. */
typedef struct {
  const vs_run_result *r;
  double *time; /* n_samples output times */
  size_t n;     /* n_samples */
} run_view;

/* Which columns of a series make up a site, and their sum at every sample
 * (site_load). */
typedef struct {
  size_t n;
  size_t *cols;
  double *w;   /* NULL, or each column's share of the segment's length */
  double *sum; /* n_samples: the columns added in order, row by row (each
                  times its share, when weighed) */
} site;

/* 1 if column name is "<segment>_<digits>". */
static int in_segment(const char *col, const char *segment) {
  size_t len = strlen(segment);
  if (strncmp(col, segment, len) != 0 || col[len] != '_') return 0;
  const char *d = col + len + 1;
  if (!*d) return 0;
  for (; *d; ++d)
    if (*d < '0' || *d > '9') return 0;
  return 1;
}

static int site_add_segment(site *s, const vs_series *ser, const char *seg) {
  for (size_t j = 0; j < ser->n_columns; ++j) {
    if (!in_segment(ser->column_names[j], seg)) continue;
    size_t *g = realloc(s->cols, (s->n + 1) * sizeof *g);
    if (!g) return -1;
    s->cols = g;
    s->cols[s->n++] = j;
  }
  return 0;
}

/* Weighs a pressure site's columns by the lengths of vein their
 * compartments stand for (the run's network table), so that its mean is
 * the segment's mean pressure on any mesh (leg.h). Without every length
 * (a results file from before the table had them) the columns count
 * alike. 0, or -1 out of memory. */
static int site_weigh(site *s, const vs_series *ser,
                      const vs_result_network *t) {
  if (!s->n || !t->node_length_cm) return 0;
  double *w = malloc(s->n * sizeof *w), total = 0.0;
  if (!w) return -1;
  for (size_t i = 0; i < s->n; ++i) {
    w[i] = 0.0;
    for (size_t j = 0; j < t->n_nodes; ++j)
      if (strcmp(t->node_names[j], ser->column_names[s->cols[i]]) == 0)
        w[i] = t->node_length_cm[j];
    if (!(w[i] > 0)) {
      free(w);
      return 0;
    }
    total += w[i];
  }
  for (size_t i = 0; i < s->n; ++i) w[i] /= total;
  s->w = w;
  return 0;
}

/* Column i's weight in a site's mean. */
static double site_weight(const site *s, size_t i) {
  return s->w ? s->w[i] : 1.0 / (double)s->n;
}

/* A whole column of a series into a new array (NULL: out of memory, or it
 * could not be read back). */
static double *column_values(const run_view *v, const vs_series *ser,
                             size_t col) {
  double *out = malloc((v->n + 1) * sizeof *out);
  if (out && vs_result_read_column(v->r, ser, col, out) != 0) {
    free(out);
    out = NULL;
  }
  return out;
}

/* Sum of a column over samples k0..k1, in order (NaN: not read back). */
static double column_sum(const run_view *v, const vs_series *ser, size_t col,
                         size_t k0, size_t k1) {
  double *x = column_values(v, ser, col);
  if (!x) return NAN;
  double sum = 0;
  for (size_t k = k0; k <= k1; ++k) sum += x[k];
  free(x);
  return sum;
}

/* The site's sum at every sample: its columns read one at a time and added
 * in the site's order, so each row's sum is the same sum, bit for bit, as
 * adding across the row. 0, or -1 (memory, read back). */
static int site_load(const run_view *v, site *s, const vs_series *ser) {
  if (!s->n) return 0;
  double *col = malloc((v->n + 1) * sizeof *col);
  s->sum = malloc((v->n + 1) * sizeof *s->sum);
  int rc = col && s->sum ? 0 : -1;
  for (size_t k = 0; rc == 0 && k < v->n; ++k) s->sum[k] = 0.0;
  for (size_t i = 0; rc == 0 && i < s->n; ++i) {
    rc = vs_result_read_column(v->r, ser, s->cols[i], col) ? -1 : 0;
    double wi = s->w ? s->w[i] : 1.0; /* times 1 is exact: a plain sum */
    for (size_t k = 0; rc == 0 && k < v->n; ++k) s->sum[k] += wi * col[k];
  }
  free(col);
  return rc;
}

/* Drops the sums (site_load loads them again). */
static void site_unload(site *s) {
  free(s->sum);
  s->sum = NULL;
}

static void site_clear(site *s) {
  site_unload(s);
  free(s->cols);
  s->cols = NULL;
  free(s->w);
  s->w = NULL;
}

static double site_mean(const site *s, size_t k) {
  if (!s->n) return NAN;
  return s->w ? s->sum[k] : s->sum[k] / (double)s->n;
}

static double site_sum(const site *s, size_t k) {
  return s->n ? s->sum[k] : NAN;
}

static long column(const vs_series *ser, const char *name) {
  for (size_t j = 0; j < ser->n_columns; ++j)
    if (strcmp(ser->column_names[j], name) == 0) return (long)j;
  return -1;
}

/* Sample range [k0, k1] of the times in [t0, t1]. */
static int window(const run_view *v, double t0, double t1, size_t *k0,
                  size_t *k1) {
  size_t a = v->n, b = 0;
  for (size_t k = 0; k < v->n; ++k)
    if (v->time[k] >= t0 - 1e-9 && v->time[k] <= t1 + 1e-9) {
      if (a == v->n) a = k;
      b = k;
    }
  if (a == v->n) return 0;
  *k0 = a;
  *k1 = b;
  return 1;
}

/* Mean of a site over the last `span` seconds of a phase. */
typedef double (*site_fn)(const site *s, size_t k);

static double phase_tail_mean(const run_view *v, const char *phase,
                              double span, const site *s, site_fn f) {
  const vs_phase *ph = vs_result_phase(v->r, phase);
  size_t k0, k1;
  if (!ph || !s->n ||
      !window(v, fmax(ph->t_start_s, ph->t_end_s - span), ph->t_end_s, &k0,
              &k1))
    return NAN;
  double sum = 0.0;
  for (size_t k = k0; k <= k1; ++k) sum += f(s, k);
  return sum / (double)(k1 - k0 + 1);
}

static double whole_phase_mean(const run_view *v, const char *phase,
                               const site *s, site_fn f) {
  const vs_phase *ph = vs_result_phase(v->r, phase);
  return ph ? phase_tail_mean(v, phase, ph->t_end_s - ph->t_start_s, s, f)
            : NAN;
}

/* Longest run of retrograde flow (below -q_thr) that starts inside the
 * phase: the reflux time a duplex scan reports after the manoeuvre. q: the
 * valve's flow at every sample. */
static double reflux_in_phase(const run_view *v, const char *phase,
                              const double *q, double q_thr) {
  const vs_phase *ph = vs_result_phase(v->r, phase);
  size_t k0, k1;
  if (!ph || !q || !window(v, ph->t_start_s, ph->t_end_s, &k0, &k1))
    return NAN;
  double dt = v->n > 1 ? v->time[1] - v->time[0] : 0.0;
  double longest = 0.0;
  size_t k = k0;
  while (k <= k1) {
    if (!(q[k] < -q_thr)) {
      ++k;
      continue;
    }
    /* A retrograde run may outlast the phase: follow it to its end. */
    size_t start = k;
    while (k < v->n && q[k] < -q_thr) ++k;
    longest = fmax(longest, (double)(k - start) * dt);
  }
  return longest;
}

/* Mean transmural pressure (inside minus outside: what distends the vein
 * and drives filtration) of a site over a whole phase; needs the run's
 * network for the external pressures. */
static double transmural_mean(const run_view *v, const char *phase,
                              const site *s, const vs_series *p) {
  const vs_run_result *r = v->r;
  const vs_phase *ph = vs_result_phase(r, phase);
  size_t k0, k1;
  if (!r->network || !ph || !s->n ||
      !window(v, ph->t_start_s, ph->t_end_s, &k0, &k1))
    return NAN;
  double sum = 0.0;
  for (size_t i = 0; i < s->n; ++i) {
    int node = vs_network_find_node(r->network, p->column_names[s->cols[i]]);
    if (node < 0 || (size_t)node >= vs_network_compartment_count(r->network))
      return NAN;
    const vs_compartment_spec *c =
        vs_network_compartment(r->network, (size_t)node);
    double *col = column_values(v, p, s->cols[i]);
    if (!col) return NAN;
    double part = 0.0;
    for (size_t k = k0; k <= k1; ++k)
      part += col[k] - vs_waveform_eval(&c->p_ext, v->time[k]);
    sum += site_weight(s, i) * part;
    free(col);
  }
  return sum / (double)(k1 - k0 + 1);
}

double vs_leg_ulcer_incidence(double avp) {
  /* Nicolaides et al., J Vasc Surg 1993;17:414 (PHYSICS.md section 3). */
  if (!isfinite(avp)) return NAN;
  if (avp <= 30) return 0.0;
  if (avp <= 40) return 12.0;
  if (avp <= 50) return 22.0;
  if (avp <= 60) return 38.0;
  if (avp <= 70) return 57.0;
  if (avp <= 80) return 68.0;
  return 73.0;
}

/* The annulus (cm^2) of a valve in the default anatomy, for the reflux
 * velocity threshold. */
static double valve_annulus(const vs_leg *leg, const char *valve,
                            vs_leg_system *system, int *perforator) {
  for (size_t i = 0; i < leg->n_segments; ++i) {
    const vs_leg_segment *s = &leg->segments[i];
    if (strcmp(s->valve, valve) == 0) {
      *system = s->system;
      *perforator = 0;
      return s->n_parallel * VS_PI * s->diameter_mm * s->diameter_mm / 400.0;
    }
  }
  for (size_t i = 0; i < leg->n_connections; ++i) {
    const vs_leg_connection *c = &leg->connections[i];
    if (strcmp(c->valve, valve) == 0) {
      *system = VS_LEG_SUPERFICIAL;
      *perforator = 1;
      return c->n_parallel * VS_PI * c->diameter_mm * c->diameter_mm / 400.0;
    }
  }
  return NAN;
}

void vs_leg_measure(const vs_run_result *r, vs_leg_measurements *m) {
  double nan = NAN;
  /* Every field NaN until measured. */
  m->p_ankle_supine = m->p_ankle_standing = m->avp_ankle = m->avp_drop = nan;
  m->refill_time_90 = m->p_cfv_standing = m->p_cfv_walk_rise = nan;
  m->gradient_rest = m->gradient_exercise = nan;
  m->reflux_time_max_deep = m->reflux_time_max_superficial = nan;
  m->reflux_time_max_perforator = nan;
  m->venous_volume = m->venous_filling_index = m->ejection_fraction = nan;
  m->residual_volume_fraction = m->collateral_flow_fraction = nan;
  m->ulcer_risk_band = m->avp_transmural = nan;
  m->lumen_diameter_treated = m->wall_shear_stress_treated = nan;
  m->n_valves = 0;
  if (!r || r->status != VS_RUN_OK) return;
  const vs_series *p = vs_result_series(r, "pressure");
  const vs_series *v = vs_result_series(r, "volume");
  const vs_series *q = vs_result_series(r, "flow");
  if (!p || !v || !q || !vs_result_phase(r, "walking")) return;

  vs_leg leg;
  if (vs_leg_default(&leg)) return;
  run_view view = {.r = r, .n = r->n_samples};
  const run_view *rv = &view;
  site ankle = {0}, cfv = {0}, cava = {0}, calf = {0};
  double *qcol = NULL;
  int bad = site_add_segment(&ankle, p, VS_LEG_ANKLE_SEGMENT) ||
            site_add_segment(&cfv, p, VS_LEG_CFV_SEGMENT) ||
            site_add_segment(&cava, p, VS_LEG_CAVA_SEGMENT) ||
            site_weigh(&ankle, p, &r->topology) ||
            site_weigh(&cfv, p, &r->topology) ||
            site_weigh(&cava, p, &r->topology);
  for (size_t i = 0; i < leg.n_segments && !bad; ++i)
    if (leg.segments[i].in_calf)
      bad = site_add_segment(&calf, v, leg.segments[i].name);
  if (bad || !ankle.n || !cfv.n) goto done;
  /* One site's sums in memory at a time (with the times and a column):
   * each is loaded, measured and dropped in turn. */
  view.time = malloc((view.n + 1) * sizeof *view.time);
  if (!view.time || vs_result_read_times(r, 0, view.n, 1, view.time) ||
      site_load(rv, &ankle, p))
    goto done;

  /* Ankle pressures lying, standing, walking. */
  m->p_ankle_supine = phase_tail_mean(rv, "supine", 5.0, &ankle, site_mean);
  m->p_ankle_standing =
      phase_tail_mean(rv, "standing", 5.0, &ankle, site_mean);
  m->avp_ankle = whole_phase_mean(rv, "walking_last5", &ankle, site_mean);
  m->avp_drop = m->p_ankle_standing - m->avp_ankle;
  m->avp_transmural = transmural_mean(rv, "walking_last5", &ankle, p);
  m->ulcer_risk_band = vs_leg_ulcer_incidence(m->avp_ankle);

  /* Refill: from the end of the walk until the ankle pressure is back to
   * within 10 % of the drop of its standing value. */
  const vs_phase *rec = vs_result_phase(r, "recovery");
  size_t k0, k1;
  if (rec && isfinite(m->avp_drop) &&
      window(rv, rec->t_start_s, rec->t_end_s, &k0, &k1)) {
    double target = m->p_ankle_standing - 0.1 * m->avp_drop;
    for (size_t k = k0; k <= k1; ++k)
      if (site_mean(&ankle, k) >= target) {
        m->refill_time_90 = view.time[k] - rec->t_start_s;
        break;
      }
  }
  site_unload(&ankle);

  /* Common femoral pressure standing and walking; lying, for the
   * femoral-to-caval gradient at rest and in exercise. */
  if (site_load(rv, &cfv, p)) goto done;
  m->p_cfv_standing = phase_tail_mean(rv, "standing", 5.0, &cfv, site_mean);
  m->p_cfv_walk_rise = whole_phase_mean(rv, "walking_last5", &cfv, site_mean) -
                       m->p_cfv_standing;
  double cfv_rest = phase_tail_mean(rv, "supine", 5.0, &cfv, site_mean);
  double cfv_exercise =
      phase_tail_mean(rv, "supine_exercise", 5.0, &cfv, site_mean);
  site_unload(&cfv);
  if (cava.n) {
    if (site_load(rv, &cava, p)) goto done;
    m->gradient_rest =
        cfv_rest - phase_tail_mean(rv, "supine", 5.0, &cava, site_mean);
    m->gradient_exercise =
        cfv_exercise -
        phase_tail_mean(rv, "supine_exercise", 5.0, &cava, site_mean);
    site_unload(&cava);
  }

  /* The treated (or diseased) site: its lumen, and the wall shear stress
   * of the resting flow through it, lying. */
  long c_site = r->site_link[0] ? column(q, r->site_link) : -1;
  m->lumen_diameter_treated = r->site_lumen_mm;
  if (c_site >= 0) {
    const vs_phase *sup = vs_result_phase(r, "supine");
    if (sup && r->site_lumen_mm > 0 &&
        window(rv, fmax(sup->t_start_s, sup->t_end_s - 5.0), sup->t_end_s,
               &k0, &k1) &&
        (qcol = column_values(rv, q, (size_t)c_site))) {
      double qm = 0.0;
      for (size_t k = k0; k <= k1; ++k) qm += fabs(qcol[k]);
      qm /= (double)(k1 - k0 + 1);
      m->wall_shear_stress_treated = vs_wall_shear_stress_pa(
          qm, r->site_lumen_mm, r->viscosity_mpa_s);
      free(qcol);
      qcol = NULL;
    }
  }

  /* Air plethysmography from the calf volume. */
  const vs_phase *up = vs_result_phase(r, "stand_up");
  const vs_phase *tip = vs_result_phase(r, "tiptoe");
  const vs_phase *walk = vs_result_phase(r, "walking");
  if (calf.n && up && tip) {
    if (site_load(rv, &calf, v)) goto done;
    double v_supine = phase_tail_mean(rv, "leg_elevated", 2.0, &calf, site_sum);
    double v_standing = phase_tail_mean(rv, "standing", 2.0, &calf, site_sum);
    double vv = v_standing - v_supine;
    m->venous_volume = vv;
    const vs_phase *st = vs_result_phase(r, "standing");
    if (st && vv > 0 && window(rv, up->t_start_s, st->t_end_s, &k0, &k1)) {
      for (size_t k = k0; k <= k1; ++k)
        if (site_sum(&calf, k) >= v_supine + 0.9 * vv) {
          double t90 = view.time[k] - up->t_start_s;
          m->venous_filling_index = t90 > 0 ? 0.9 * vv / t90 : NAN;
          break;
        }
    }
    if (vv > 0 && window(rv, tip->t_start_s, tip->t_end_s, &k0, &k1)) {
      double before = site_sum(&calf, k0), least = before;
      for (size_t k = k0; k <= k1; ++k) least = fmin(least, site_sum(&calf, k));
      m->ejection_fraction = 100.0 * (before - least) / vv;
    }
    if (vv > 0 && walk && window(rv, walk->t_end_s, walk->t_end_s, &k0, &k1))
      m->residual_volume_fraction =
          100.0 * (site_sum(&calf, k0) - v_supine) / vv;
    site_unload(&calf);
  }

  /* Collateral share of the iliac outflow, standing. */
  long c_coll = column(q, VS_LEG_COLLATERAL);
  long c_iliac = column(q, "external_iliac_to_common_iliac");
  const vs_phase *st = vs_result_phase(r, "standing");
  /* An occluded external iliac vein has no axial link left: all of its
   * outflow takes the collateral. */
  if (c_coll >= 0 && c_iliac < 0 && st)
    m->collateral_flow_fraction = 1.0;
  if (c_coll >= 0 && c_iliac >= 0 && st &&
      window(rv, st->t_end_s - 5.0, st->t_end_s, &k0, &k1)) {
    double qc = column_sum(rv, q, (size_t)c_coll, k0, k1);
    double qi = column_sum(rv, q, (size_t)c_iliac, k0, k1);
    m->collateral_flow_fraction = qc + qi != 0 ? qc / (qc + qi) : NAN;
  }

  /* Reflux at every valve after the cuff release and at the Valsalva. */
  double deep = 0, superficial = 0, perforator = 0;
  int any[3] = {0, 0, 0};
  for (size_t i = 0; i < leg.n_valves && m->n_valves < 32; ++i) {
    const char *name = leg.valves[i].name;
    long col = column(q, name);
    vs_leg_system sys;
    int perf;
    double area = valve_annulus(&leg, name, &sys, &perf);
    if (col < 0 || !isfinite(area)) continue;
    double thr = VS_LEG_REFLUX_VELOCITY_CM_S * area;
    qcol = column_values(rv, q, (size_t)col);
    double t = fmax(reflux_in_phase(rv, "cuff_release", qcol, thr),
                    reflux_in_phase(rv, "valsalva", qcol, thr));
    free(qcol);
    qcol = NULL;
    size_t j = m->n_valves++;
    snprintf(m->valve_names[j], sizeof m->valve_names[j], "%s", name);
    m->reflux_time[j] = t;
    if (perf) {
      perforator = fmax(perforator, t);
      any[2] = 1;
    } else if (sys == VS_LEG_SUPERFICIAL) {
      superficial = fmax(superficial, t);
      any[1] = 1;
    } else {
      deep = fmax(deep, t);
      any[0] = 1;
    }
  }
  m->reflux_time_max_deep = any[0] ? deep : NAN;
  m->reflux_time_max_superficial = any[1] ? superficial : NAN;
  m->reflux_time_max_perforator = any[2] ? perforator : NAN;
done:
  site_clear(&ankle);
  site_clear(&cfv);
  site_clear(&cava);
  site_clear(&calf);
  free(qcol);
  free(view.time);
  vs_leg_clear(&leg);
}
