/* Validation of lesions and treatments in the default leg (PHYSICS.md 1.3,
 * 1.6): the gradient across an iliac stenosis against Young & Tsai's law
 * worked by hand, stents of growing size, balloon recoil at its bounds, a
 * total occlusion draining through the collaterals, and the stent's lumen
 * against its force balance.
 *
 * Each leg is run once through the default protocol and cached (a run
 * costs about half a second); the group teardown frees them. Every check
 * prints the numbers it compares. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "venosim/venosim.h"
/* The tilt and blood density of a built network have no public getter:
 * the hydrostatic term of a link's driving pressure needs both. */
#include "network_internal.h"

#define ILIAC "common_iliac"
#define ILIAC_LINK "common_iliac_to_ivc" /* drains the common iliac (no valve) */
#define LESION_LENGTH_CM 4.0
#define STENT_LENGTH_CM 6.0 /* the whole common iliac; covers the lesion */

/* ---- the runs, each made once --------------------------------------------- */

typedef enum {
  RUN_YT50 = 0, /* common iliac, 50 % area lost */
  RUN_YT70,     /* 70 % */
  RUN_YT90,     /* 90 % */
  RUN_S80,      /* 80 % lost, untreated */
  RUN_ST12,     /* the same with a 12, 14 or 16 mm nitinol stent */
  RUN_ST14,
  RUN_ST16,
  RUN_ST14_90,  /* the 90 % lesion with a 14 mm stent */
  RUN_OCCLUDED, /* external iliac occluded by clot */
  RUN_COUNT
} run_id;

typedef struct {
  int done;
  vs_network *net;
  vs_run_result *r; /* series, phases and metrics of the run */
} leg_run;

static leg_run g_runs[RUN_COUNT];
static double g_run_seconds;

static double metric(const vs_run_result *r, const char *name) {
  int i = vs_metrics_find(name);
  if (i < 0) fail_msg("no metric '%s'", name);
  return r->metrics[i];
}

/* Build the leg of `id` (lesions and treatments on the default leg). */
static void make_leg(run_id id, vs_leg *leg) {
  char why[256];
  assert_int_equal(vs_leg_default(leg), 0);
  vs_leg_lesion les;
  if (id == RUN_OCCLUDED) {
    les = vs_leg_lesion_default(VS_LESION_CLOT, "external_iliac");
    les.occupied_fraction = 1.0;
    les.length_cm = LESION_LENGTH_CM;
  } else {
    static const double ratio[] = {[RUN_YT50] = 0.5, [RUN_YT70] = 0.3,
                                   [RUN_YT90] = 0.1, [RUN_S80] = 0.2,
                                   [RUN_ST12] = 0.2, [RUN_ST14] = 0.2,
                                   [RUN_ST16] = 0.2, [RUN_ST14_90] = 0.1};
    les = vs_leg_lesion_default(VS_LESION_STENOSIS, ILIAC);
    les.area_ratio = ratio[id];
    les.length_cm = LESION_LENGTH_CM;
  }
  if (vs_leg_add_lesion(leg, &les, why, sizeof why)) fail_msg("%s", why);
  if (id == RUN_ST12 || id == RUN_ST14 || id == RUN_ST16 ||
      id == RUN_ST14_90) {
    double d = id == RUN_ST12 ? 12.0 : id == RUN_ST16 ? 16.0 : 14.0;
    vs_leg_treatment t = vs_leg_treatment_default(VS_TREAT_STENT);
    snprintf(t.segment, sizeof t.segment, "%s", ILIAC);
    t.stent = vs_stent_default(VS_STENT_NITINOL, d, STENT_LENGTH_CM);
    t.diameter_mm = d;
    t.length_cm = STENT_LENGTH_CM;
    if (vs_leg_add_treatment(leg, &t, why, sizeof why)) fail_msg("%s", why);
  }
}

/* The run of `id`, as the runner makes it (solver/runner.c execute_one):
 * site and viscosity on the result, the network lent while the metrics
 * are taken. */
static const leg_run *get_run(run_id id) {
  leg_run *lr = &g_runs[id];
  if (lr->done) return lr;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  vs_leg leg;
  make_leg(id, &leg);
  vs_leg_protocol p = vs_leg_protocol_default();
  char msg[512];
  if (vs_leg_build(&leg, &p, &lr->net, msg, sizeof msg)) fail_msg("%s", msg);
  vs_solver_options o = vs_leg_solver_options(&leg, &p);
  vs_leg_clear(&leg);
  vs_run_result *r = NULL;
  assert_int_equal(vs_result_create(&r, "treatment"), 0);
  const char *site = NULL;
  double lumen_cm = NAN;
  if (vs_network_site(lr->net, &site, &lumen_cm)) {
    snprintf(r->site_link, sizeof r->site_link, "%s", site ? site : "");
    r->site_lumen_mm = 10.0 * lumen_cm;
  }
  r->viscosity_mpa_s = vs_network_viscosity_mpa_s(lr->net);
  vs_system *sys = NULL;
  if (vs_system_create(lr->net, &sys, msg, sizeof msg)) fail_msg("%s", msg);
  if (vs_integrate(sys, &o, r)) fail_msg("integration: %s", r->message);
  vs_system_free(&sys);
  r->n_metrics = vs_metrics_count();
  r->metrics = malloc(r->n_metrics * sizeof *r->metrics);
  assert_non_null(r->metrics);
  r->network = lr->net;
  vs_metrics_compute(r, r->metrics);
  r->network = NULL;
  lr->r = r;
  lr->done = 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  g_run_seconds +=
      (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
  return lr;
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < RUN_COUNT; ++i) {
    vs_result_free(&g_runs[i].r);
    vs_network_free(&g_runs[i].net);
    g_runs[i].done = 0;
  }
  print_message("leg runs: %.2f s of solver time in all\n", g_run_seconds);
  return 0;
}

/* ---- series helpers -------------------------------------------------------- */

static size_t column(const vs_series *s, const char *name) {
  for (size_t j = 0; j < s->n_columns; ++j)
    if (strcmp(s->column_names[j], name) == 0) return j;
  fail_msg("series '%s' has no column '%s'", s->name, name);
  return 0; /* not reached */
}

static double at(const vs_series *s, size_t k, size_t col) {
  return s->data[k * s->n_columns + col];
}

/* Samples [k0, k1] of the `span` seconds of a phase that end `before`
 * seconds before its end. */
static void window_before_end(const vs_run_result *r, const char *phase,
                              double span, double before, size_t *k0,
                              size_t *k1) {
  const vs_phase *ph = vs_result_phase(r, phase);
  if (!ph) fail_msg("no phase '%s'", phase);
  double t1 = ph->t_end_s - before;
  double t0 = fmax(ph->t_start_s, t1 - span);
  size_t a = r->n_samples, b = 0;
  for (size_t k = 0; k < r->n_samples; ++k)
    if (r->time[k] >= t0 - 1e-9 && r->time[k] <= t1 + 1e-9) {
      if (a == r->n_samples) a = k;
      b = k;
    }
  if (a == r->n_samples || b <= a) fail_msg("phase '%s' has no samples", phase);
  *k0 = a;
  *k1 = b;
}

/* The last `span` seconds of a phase, as the metrics read them. */
static void tail(const vs_run_result *r, const char *phase, double span,
                 size_t *k0, size_t *k1) {
  window_before_end(r, phase, span, 0.0, k0, k1);
}

/* ---- 1. gradients against Young & Tsai ------------------------------------ */

/* Poiseuille's collapse factor (segment.h), written out: a circular lumen
 * distended, an ellipse of constant perimeter collapsing. */
static double collapse_factor(double alpha) {
  return alpha >= 1.0 ? 1.0 / (alpha * alpha)
                      : (2.0 - alpha) / (alpha * alpha * alpha);
}

typedef struct {
  double q;        /* mean flow through the lesion's link, mL/s */
  double q_spread; /* (max - min) / |mean| of that flow over the window */
  double dp;       /* mean driving pressure across the link, mmHg */
  double sin_tilt; /* largest |sin(tilt)| in the window */
  double pois;     /* Poiseuille part at the mean collapse state, mmHg */
  double viscous;  /* Young-Tsai viscous part, mmHg */
  double expansion;/* Young-Tsai expansion part, mmHg */
  double law;      /* pois + viscous + expansion */
} yt_check;

static yt_check young_tsai_check(const leg_run *lr, double area_ratio,
                                 const char *phase, double before) {
  const vs_run_result *r = lr->r;
  const vs_network *net = lr->net;
  const vs_series *p = vs_result_series(r, "pressure");
  const vs_series *v = vs_result_series(r, "volume");
  const vs_series *q = vs_result_series(r, "flow");
  assert_non_null(p);
  assert_non_null(v);
  assert_non_null(q);
  int li = vs_network_find_link(net, ILIAC_LINK);
  if (li < 0) fail_msg("no link '%s'", ILIAC_LINK);
  const vs_link_spec *ls = vs_network_link(net, (size_t)li);
  /* The lesion sits on this link with the segment's own geometry. */
  assert_true(ls->has_stenosis && !ls->has_valve);
  assert_true(ls->n_parallel <= 1);
  assert_true(fabs(ls->diameter_cm - 1.6) < 1e-12); /* common iliac, 16 mm */
  int from = vs_network_find_node(net, ls->from);
  int to = vs_network_find_node(net, ls->to);
  size_t nc = vs_network_compartment_count(net);
  assert_true(from >= 0 && (size_t)from < nc && to >= 0 && (size_t)to < nc);
  const vs_compartment_spec *cf = vs_network_compartment(net, (size_t)from);
  const vs_compartment_spec *ct = vs_network_compartment(net, (size_t)to);
  assert_int_equal(cf->wall.kind, VS_WALL_TUBE_LAW);
  assert_int_equal(ct->wall.kind, VS_WALL_TUBE_LAW);
  double vref_f = cf->wall.area0_cm2 * cf->wall.length_cm;
  double vref_t = ct->wall.area0_cm2 * ct->wall.length_cm;
  size_t jq = column(q, ILIAC_LINK), jpf = column(p, ls->from),
         jpt = column(p, ls->to), jvf = column(v, ls->from),
         jvt = column(v, ls->to);

  /* Blood and geometry, CGS. */
  double mu = vs_network_viscosity_mpa_s(net) * VS_POISE_PER_MPA_S; /* P */
  double rho = net->density_g_cm3;
  double d0 = ls->diameter_cm, r0 = d0 / 2.0;
  double a0 = VS_PI * r0 * r0;
  double ls_cm = ls->stenosis.length_cm;
  assert_true(fabs(ls_cm - LESION_LENGTH_CM) < 1e-12);
  assert_true(fabs(ls->stenosis.area_ratio - area_ratio) < 1e-12);

  /* PHYSICS.md 1.3 by hand (leg lesions carry no inertance). */
  double ds = d0 * sqrt(area_ratio);
  double la = 0.83 * ls_cm + 1.64 * ds;
  double kv = 32.0 * (la / d0) / (area_ratio * area_ratio);
  double kt = 1.52;
  double r_visc = mu * kv / (2.0 * VS_PI * r0 * r0 * r0) / VS_DYN_CM2_PER_MMHG;
  double b_exp = kt * rho / (2.0 * a0 * a0) * pow(1.0 / area_ratio - 1.0, 2) /
                 VS_DYN_CM2_PER_MMHG;
  /* Poiseuille over the link's length (segment.h), 8 mu l / (pi r^4). */
  double r_pois0 = 8.0 * mu * ls->length_cm / (VS_PI * pow(r0, 4)) /
                   VS_DYN_CM2_PER_MMHG;

  size_t k0, k1;
  window_before_end(r, phase, 5.0, before, &k0, &k1);
  double n = (double)(k1 - k0 + 1);
  double qs = 0, dps = 0, alphas = 0, qmin = INFINITY, qmax = -INFINITY,
         smax = 0;
  for (size_t k = k0; k <= k1; ++k) {
    double s = sin(vs_waveform_eval(&net->tilt_deg, r->time[k]) * VS_PI / 180.0);
    smax = fmax(smax, fabs(s));
    double gh = rho * VS_GRAVITY_CM_S2 * s / VS_DYN_CM2_PER_MMHG;
    double qk = at(q, k, jq);
    qs += qk;
    qmin = fmin(qmin, qk);
    qmax = fmax(qmax, qk);
    dps += at(p, k, jpf) - at(p, k, jpt) + gh * (cf->height_cm - ct->height_cm);
    alphas += 0.5 * (at(v, k, jvf) / vref_f + at(v, k, jvt) / vref_t);
  }
  yt_check c;
  c.q = qs / n;
  c.dp = dps / n;
  c.q_spread = (qmax - qmin) / fabs(c.q);
  c.sin_tilt = smax;
  c.pois = r_pois0 * collapse_factor(alphas / n) * c.q;
  c.viscous = r_visc * c.q;
  c.expansion = b_exp * fabs(c.q) * c.q;
  c.law = c.pois + c.viscous + c.expansion;
  return c;
}

/* Tolerance on |dp - law| / dp. The link is algebraic (no valve, no
 * inertance), so at each output sample its flow solves dp = R(alpha) Q +
 * B |Q| Q from the same state to round-off; comparing means instead of
 * samples adds an error of the order of the square of the flow's relative
 * spread over the window, which the steady-state check holds under
 * STEADY_SPREAD (so under 1e-8 here), and the same for the collapse factor
 * taken at the mean area. 1e-5 is well above both and far below any change
 * of the law (the table below): leaving out the Poiseuille part moves the
 * result by 0.4 % (90 %, exercise) to 19 % (50 %, rest), Kt off by 1 %
 * moves it by up to 0.7 %, La off by 1 % by 0.3 to 0.6 %. (Poiseuille is
 * NOT negligible beside a moderate lesion: 6 cm of 16 mm vein carry about
 * 1e-3 mmHg s/mL, a fifth of the 50 % lesion's loss at rest, so the claim
 * that it is tiny in iliac veins does not hold: it is evaluated here, at
 * the mean collapse state of the link's two ends, not dropped.) */
#define YT_REL_TOL 1e-5
/* Steady state: the flow varies by less than this over the window. */
#define STEADY_SPREAD 1e-4
/* The rest check compares the last 5 s of "supine" with the 5 s before. */
#define REST_EARLIER_S 5.0

static void stenosis_gradient_matches_young_tsai(void **state) {
  (void)state;
  const run_id ids[] = {RUN_YT50, RUN_YT70, RUN_YT90};
  const double ratios[] = {0.5, 0.3, 0.1};
  const char *phases[] = {"supine", "supine_exercise"};
  print_message("| area lost | phase           | Q mL/s | dp model | "
                "Poiseuille | YT viscous | YT expansion | law      | rel err  "
                "| Q spread |\n");
  for (int i = 0; i < 3; ++i) {
    const leg_run *lr = get_run(ids[i]);
    for (int ph = 0; ph < 2; ++ph) {
      yt_check c = young_tsai_check(lr, ratios[i], phases[ph], 0.0);
      double err = fabs(c.dp - c.law) / fabs(c.dp);
      print_message("| %7.0f %% | %-15s | %6.3f | %8.5f | %10.6f | %10.5f | "
                    "%12.5f | %8.5f | %8.1e | %8.1e |\n",
                    100 * (1 - ratios[i]), phases[ph], c.q, c.dp, c.pois,
                    c.viscous, c.expansion, c.law, err, c.q_spread);
      /* Lying flat: no hydrostatic term in the link's driving pressure. */
      assert_true(c.sin_tilt < 1e-12);
      assert_true(c.q > 0);
      assert_true(c.q_spread < STEADY_SPREAD);
      assert_true(err < YT_REL_TOL);
    }
  }
}

/* The resting measurements (gradient_rest, wall_shear_stress_treated,
 * p_ankle_supine) read the last 5 s of "supine": that window must be at
 * rest, i.e. steady and at the same flow as before it (the exercise
 * hyperaemia must not ramp up inside it). */
static void rest_window_is_at_rest(void **state) {
  (void)state;
  const leg_run *lr = get_run(RUN_S80);
  yt_check last5 = young_tsai_check(lr, 0.2, "supine", 0.0);
  yt_check rest = young_tsai_check(lr, 0.2, "supine", REST_EARLIER_S);
  print_message("80 %% lesion, flow through it: last 5 s of supine %.4f mL/s "
                "(spread %.2g), the 5 s before %.4f mL/s "
                "(spread %.2g); gradient across it %.5f vs %.5f mmHg\n",
                last5.q, last5.q_spread, rest.q, rest.q_spread, last5.dp,
                rest.dp);
  assert_true(rest.q_spread < STEADY_SPREAD);
  assert_true(last5.q_spread < STEADY_SPREAD);
  assert_true(fabs(last5.q - rest.q) < STEADY_SPREAD * rest.q);
}

/* ---- 2, 5, 6. stents ----------------------------------------------------- */

static void wider_stent_lowers_gradient_and_shear(void **state) {
  (void)state;
  const run_id ids[] = {RUN_ST12, RUN_ST14, RUN_ST16};
  const double sizes[] = {12, 14, 16};
  double g[3], wss[3], lumen[3];
  const leg_run *u = get_run(RUN_S80);
  print_message("| 80 %% lesion     | lumen mm | gradient_exercise | "
                "wall_shear_stress_treated |\n");
  print_message("| untreated       | %8.4f | %17.4f | %25.5f |\n",
                metric(u->r, "lumen_diameter_treated"),
                metric(u->r, "gradient_exercise"),
                metric(u->r, "wall_shear_stress_treated"));
  for (int i = 0; i < 3; ++i) {
    const leg_run *lr = get_run(ids[i]);
    g[i] = metric(lr->r, "gradient_exercise");
    wss[i] = metric(lr->r, "wall_shear_stress_treated");
    lumen[i] = metric(lr->r, "lumen_diameter_treated");
    print_message("| stent %2.0f mm     | %8.4f | %17.4f | %25.5f |\n",
                  sizes[i], lumen[i], g[i], wss[i]);
  }
  for (int i = 0; i < 3; ++i)
    assert_true(isfinite(g[i]) && isfinite(wss[i]) && isfinite(lumen[i]));
  for (int i = 1; i < 3; ++i) {
    assert_true(g[i] <= g[i - 1]);
    assert_true(wss[i] < wss[i - 1]);
    assert_true(lumen[i] > lumen[i - 1]);
  }
}

/* Walking pumps the calf's blood against the obstruction: the common
 * femoral pressure rises. A stent takes most of that rise away. On the
 * 80 % lesion of a leg with competent valves the rise is only about
 * 1 mmHg (a healthy leg's is 0.06), so the 90 % lesion is the one with a
 * rise worth taking away: the stent must remove at least three quarters. */
static void stent_lowers_walking_femoral_pressure(void **state) {
  (void)state;
  const run_id untreated_ids[] = {RUN_S80, RUN_YT90};
  const run_id stented_ids[] = {RUN_ST14, RUN_ST14_90};
  const char *const names[] = {"80", "90"};
  for (int i = 0; i < 2; ++i) {
    double untreated = metric(get_run(untreated_ids[i])->r, "p_cfv_walk_rise");
    double stented = metric(get_run(stented_ids[i])->r, "p_cfv_walk_rise");
    print_message("p_cfv_walk_rise, %s %% common iliac stenosis: untreated "
                  "%.3f mmHg, 14 mm stent %.3f mmHg (lower by %.3f)\n",
                  names[i], untreated, stented, untreated - stented);
    assert_true(isfinite(untreated) && isfinite(stented));
    assert_true(stented < untreated);
    if (i == 1) {
      assert_true(untreated > 3.0);
      assert_true(stented <= 0.25 * untreated);
    }
  }
}

static void stent_lumen_is_the_force_balance(void **state) {
  (void)state;
  const run_id ids[] = {RUN_ST12, RUN_ST14, RUN_ST16};
  const double sizes[] = {12, 14, 16};
  vs_leg leg;
  assert_int_equal(vs_leg_default(&leg), 0);
  double d0 = vs_leg_find_segment(&leg, ILIAC)->diameter_mm;
  vs_leg_clear(&leg);
  vs_lesion_load load = {.lumen_mm = d0 * sqrt(0.2),
                         .stiffness_mmhg = VS_LESION_STIFFNESS_DEFAULT_MMHG,
                         .external_mmhg = 0.0};
  for (int i = 0; i < 3; ++i) {
    vs_stent s = vs_stent_default(VS_STENT_NITINOL, sizes[i], STENT_LENGTH_CM);
    double d = NAN;
    assert_int_equal(vs_stent_deploy(&s, &load, &d), 0);
    double model = metric(get_run(ids[i])->r, "lumen_diameter_treated");
    double rel = fabs(model - d) / d;
    print_message("stent %2.0f mm in a %.4f mm lesion: force balance %.12f "
                  "mm, run %.12f mm (rel %.1e); stent %.2f mmHg, lesion %.2f "
                  "mmHg there\n",
                  sizes[i], load.lumen_mm, d, model, rel,
                  vs_stent_pressure_mmhg(&s, d),
                  vs_lesion_pressure_mmhg(&load, d));
    assert_true(d > load.lumen_mm && d <= sizes[i]);
    assert_true(rel < 1e-9);
  }
}

/* ---- 3. balloon recoil at its bounds ---------------------------------------- */

static void balloon_recoil_bounds(void **state) {
  (void)state;
  const double balloon = 12.0, ratio = 0.2;
  const double recoils[] = {0.0, 1.0};
  for (int i = 0; i < 2; ++i) {
    vs_leg leg;
    char why[256];
    assert_int_equal(vs_leg_default(&leg), 0);
    vs_leg_lesion les = vs_leg_lesion_default(VS_LESION_STENOSIS, ILIAC);
    les.area_ratio = ratio;
    les.length_cm = LESION_LENGTH_CM;
    if (vs_leg_add_lesion(&leg, &les, why, sizeof why)) fail_msg("%s", why);
    vs_leg_treatment t = vs_leg_treatment_default(VS_TREAT_BALLOON);
    snprintf(t.segment, sizeof t.segment, "%s", ILIAC);
    t.diameter_mm = balloon;
    t.recoil = recoils[i];
    if (vs_leg_add_treatment(&leg, &t, why, sizeof why)) fail_msg("%s", why);
    double d0 = vs_leg_find_segment(&leg, ILIAC)->diameter_mm;
    double lesion_lumen = d0 * sqrt(ratio);
    assert_true(lesion_lumen < balloon);
    vs_leg_segment_state st[64];
    assert_true(leg.n_segments <= 64);
    vs_leg_site site;
    if (vs_leg_disease_state(&leg, st, &site, why, sizeof why))
      fail_msg("%s", why);
    /* What the run reports as lumen_diameter_treated: the built network's
     * site (the runner copies it onto the result). */
    vs_leg_protocol p = vs_leg_protocol_default();
    vs_network *net = NULL;
    if (vs_leg_build(&leg, &p, &net, why, sizeof why)) fail_msg("%s", why);
    const char *link = NULL;
    double lumen_cm = NAN;
    assert_true(vs_network_site(net, &link, &lumen_cm));
    double expect = i == 0 ? balloon : lesion_lumen;
    print_message("balloon %.0f mm, recoil %.0f, on a %.4f mm lesion: site "
                  "%.12f mm, network site %.12f mm, expected %.12f mm\n",
                  balloon, recoils[i], lesion_lumen, site.lumen_mm,
                  10.0 * lumen_cm, expect);
    assert_string_equal(site.segment, ILIAC);
    assert_non_null(link);
    assert_string_equal(link, ILIAC_LINK);
    assert_true(fabs(site.lumen_mm - expect) <= 1e-12 * expect);
    assert_true(fabs(10.0 * lumen_cm - expect) <= 1e-12 * expect);
    vs_network_free(&net);
    vs_leg_clear(&leg);
  }
}

/* ---- 4. total occlusion ----------------------------------------------------- */

static void occlusion_drains_through_collaterals(void **state) {
  (void)state;
  const leg_run *lr = get_run(RUN_OCCLUDED);
  const vs_run_result *r = lr->r;
  const vs_network *net = lr->net;
  /* No axial drain of the external iliac vein is left. */
  assert_true(vs_network_find_link(net, "external_iliac_to_common_iliac") < 0);
  const vs_series *q = vs_result_series(r, "flow");
  const vs_series *v = vs_result_series(r, "volume");
  assert_non_null(q);
  assert_non_null(v);
  /* The vein's compartments (its mesh: leg.h). */
  unsigned n = 0;
  {
    vs_leg leg;
    assert_int_equal(vs_leg_default(&leg), 0);
    n = vs_leg_segment_mesh(&leg, vs_leg_find_segment(&leg, "external_iliac"),
                            NULL, 0);
    vs_leg_clear(&leg);
  }
  assert_true(n >= 1);
  size_t k0, k1;
  tail(r, "standing", 5.0, &k0, &k1);
  double span = r->time[k1] - r->time[k0];
  double nk = (double)(k1 - k0 + 1);
  /* Every branch touching an external iliac compartment, other than the
   * collateral: the flow into the vein from the rest of the leg. The
   * links inside the segment cancel. */
  double inflow = 0.0, collateral = 0.0, dvol = 0.0;
  size_t jc = column(q, VS_LEG_COLLATERAL);
  for (size_t k = k0; k <= k1; ++k) collateral += at(q, k, jc) / nk;
  for (unsigned i = 1; i <= n; ++i) {
    char name[48];
    vs_leg_compartment_name("external_iliac", i, name, sizeof name);
    size_t jv = column(v, name);
    dvol += (at(v, k1, jv) - at(v, k0, jv)) / span;
    for (size_t b = 0; b < vs_network_link_count(net); ++b) {
      const vs_link_spec *ls = vs_network_link(net, b);
      if (strcmp(ls->name, VS_LEG_COLLATERAL) == 0) continue;
      int into = strcmp(ls->to, name) == 0, out = strcmp(ls->from, name) == 0;
      if (!into && !out) continue;
      size_t jq = column(q, ls->name);
      for (size_t k = k0; k <= k1; ++k)
        inflow += (into ? 1.0 : -1.0) * at(q, k, jq) / nk;
    }
    for (size_t s = 0; s < vs_network_flow_source_count(net); ++s) {
      const vs_flow_source_spec *fs = vs_network_flow_source(net, s);
      if (strcmp(fs->compartment, name) != 0) continue;
      size_t jq = column(q, fs->name);
      for (size_t k = k0; k <= k1; ++k) inflow += at(q, k, jq) / nk;
    }
  }
  double fraction = metric(r, "collateral_flow_fraction");
  double balance = metric(r, "mass_balance_error");
  print_message("occluded external iliac, last 5 s standing: inflow %.5f "
                "mL/s, collateral %.5f mL/s (rel %.1e), dV/dt %.2e mL/s; "
                "collateral_flow_fraction %.3f; mass_balance_error %.2e mL\n",
                inflow, collateral, fabs(collateral - inflow) / inflow, dvol,
                fraction, balance);
  assert_true(inflow > 0);
  assert_true(fabs(collateral - inflow) <= 0.01 * inflow);
  assert_true(fabs(fraction - 1.0) < 1e-12);
  assert_true(fabs(balance) < 1e-6);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stenosis_gradient_matches_young_tsai),
      cmocka_unit_test(rest_window_is_at_rest),
      cmocka_unit_test(wider_stent_lowers_gradient_and_shear),
      cmocka_unit_test(balloon_recoil_bounds),
      cmocka_unit_test(occlusion_drains_through_collaterals),
      cmocka_unit_test(stent_lowers_walking_femoral_pressure),
      cmocka_unit_test(stent_lumen_is_the_force_balance),
  };
  return cmocka_run_group_tests(tests, NULL, teardown);
}
