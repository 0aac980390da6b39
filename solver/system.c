/* The ODE system of a network: state layout, right-hand side and analytic
 * Jacobian (solver.h). One system per run; its scratch arrays make it
 * single-threaded, which is what the runner gives it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "network_internal.h"
#include "system_internal.h"
#include "venosim/error.h"
#include "venosim/segment.h"
#include "venosim/valve.h"
#include "venosim/units.h"

/* ---- Jacobian accumulation through a fixed pattern ----------------------
 * The Jacobian routine calls jac_add(row, col, value) in the same order on
 * every call, whatever the values. A first pass in PATTERN mode records the
 * (row, col) of each call; the pairs are sorted into compressed-sparse-
 * column order and each call is given its slot. Later passes add values
 * into vals[slot[call]]. Dense and KLU matrices are filled from the same
 * vals, so both linear solvers see identical numbers. */

static void jac_add(vs_jac_acc *J, size_t row, size_t col, double v) {
  size_t c = J->count++;
  if (J->mode == VS_JAC_PATTERN) {
    J->rows[c] = row;
    J->cols[c] = col;
  } else {
    J->vals[J->slot[c]] += v;
  }
}

typedef struct {
  size_t row, col, call;
} jac_entry;

static int cmp_entry(const void *pa, const void *pb) {
  const jac_entry *a = pa, *b = pb;
  if (a->col != b->col) return a->col < b->col ? -1 : 1;
  if (a->row != b->row) return a->row < b->row ? -1 : 1;
  return (a->call > b->call) - (a->call < b->call);
}

/* ---- state layout -------------------------------------------------------- */

size_t vs_system_state_count(const vs_system *sys) { return sys->n_state; }
size_t vs_system_jacobian_nonzeros(const vs_system *sys) { return sys->nnz; }
const char *vs_system_state_name(const vs_system *sys, size_t i) {
  return i < sys->n_state ? sys->state_names[i] : NULL;
}

/* Hydrostatic gradient, mmHg per cm of height, at a tilt in degrees. */
static double hydrostatic_gradient(const vs_system *sys, double tilt_deg) {
  const vs_network *net = sys->net;
  return net->density_g_cm3 * VS_GRAVITY_CM_S2 * sin(tilt_deg * VS_PI / 180.0) /
         VS_DYN_CM2_PER_MMHG;
}

/* Every time-dependent input at time t, evaluated once per distinct t. */
static const vs_forcing *forcing_at(const vs_system *sys, double t) {
  vs_forcing *f = sys->forcing;
  if (t == f->t) return f;
  for (size_t g = 0; g < f->n_groups; ++g) {
    vs_knot_group *kg = &f->group[g];
    kg->at = vs_waveform_locate(kg->knots, t, &kg->hint);
  }
  for (size_t i = 0; i < f->n_slots; ++i) {
    vs_forcing_slot *sl = &f->slot[i];
    *sl->out = sl->group >= 0
                   ? vs_waveform_eval_at(sl->w, &f->group[sl->group].at)
                   : vs_waveform_eval_hint(sl->w, t, &sl->hint);
  }
  f->gh = hydrostatic_gradient(sys, f->tilt_deg);
  f->t = t;
  return f;
}

/* Pressures of all nodes (sys->p) and dp/dV of compartments (sys->dpdv)
 * at (t, y). Returns VS_ENONFINITE for a tube-law volume <= 0 or a
 * non-finite pressure. An output sample asks for the pressures and then
 * the flows of one state, and CVODE for the right-hand side and then the
 * Jacobian: the same time and volumes as the last call reuse its values. */
static int node_pressures(const vs_system *sys, double t, const double *y) {
  const vs_network *net = sys->net;
  size_t nc = net->n_comp;
  vs_pressure_memo *memo = sys->pressures_of;
  if (memo->valid && t == memo->t && memcmp(y, memo->v, nc * sizeof *y) == 0)
    return VS_OK;
  memo->valid = 0;
  double *p = sys->p, *dpdv = sys->dpdv;
  const vs_forcing *f = forcing_at(sys, t);
  for (size_t c = 0; c < nc; ++c) {
    const vs_compartment_spec *cs = &net->comp[c];
    if (!isfinite(y[c]) || (cs->wall.kind == VS_WALL_TUBE_LAW && y[c] <= 0))
      return VS_ENONFINITE;
    p[c] = f->p_ext[c] + vs_wall_pressure(&cs->wall, y[c], &dpdv[c]);
    if (!isfinite(p[c])) return VS_ENONFINITE;
  }
  for (size_t i = 0; i < net->n_pnode; ++i) p[nc + i] = f->p_node[i];
  memcpy(memo->v, y, nc * sizeof *y);
  memo->t = t;
  memo->valid = 1;
  return VS_OK;
}

/* Resistance of link lk at state y, given the part prescribed in time
 * (r_given), and dR/dV of its two ends (0 for an end that is not a
 * tube-law compartment); its Poiseuille part in *r_pois if non-NULL (only
 * that part depends on the ends' volumes). */
static double link_resistance(const vs_link_model *lk, double r_given,
                              const double *y, double dr_dv[2],
                              double *r_pois) {
  dr_dv[0] = dr_dv[1] = 0.0;
  if (r_pois) *r_pois = lk->r_pois0;
  if (!lk->collapsible) return lk->r_const + r_given + lk->r_pois0;
  /* alpha: mean area ratio of the tube-law ends. */
  double alpha = 0.0;
  for (int e = 0; e < 2; ++e)
    if (lk->tube_end[e]) alpha += y[lk->comp[e]] / lk->vref[e];
  alpha /= lk->n_tube_ends;
  double df;
  double f = vs_segment_collapse_factor(alpha, &df);
  for (int e = 0; e < 2; ++e)
    if (lk->tube_end[e])
      dr_dv[e] = lk->r_pois0 * df / (lk->n_tube_ends * lk->vref[e]);
  if (r_pois) *r_pois = lk->r_pois0 * f;
  return lk->r_const + r_given + lk->r_pois0 * f;
}

/* A valve's closing drive (valve.h): the link's pressure difference plus
 * the viscous drop over the rest of the valve's station,
 * dp_v = dp + x R_p Q with x = station / link length - 1. */
static double valve_drive(const vs_link_model *lk, double dp, double r_pois,
                          double q) {
  return dp + lk->station_extra * r_pois * q;
}

/* Loss coefficient and inertance of link k at opening zeta (its valve's on
 * top of the fixed ones), with their derivatives in zeta. */
typedef struct {
  double b, l, db_dz, dl_dz;
} vs_link_coeffs;

static vs_link_coeffs link_coefficients(const vs_system *sys,
                                        const vs_link_model *lk,
                                        const double *y) {
  vs_link_coeffs c = {lk->b, lk->l, 0.0, 0.0};
  if (!lk->valve || !y) return c;
  double da, bv, lv, db_da, dl_da;
  double a = vs_valve_area(lk->valve, lk->a_ann, y[lk->zeta], &da);
  vs_valve_coefficients(lk->valve, sys->net->density_g_cm3, a, &bv, &lv,
                        &db_da, &dl_da);
  c.b += bv;
  c.l += lv;
  c.db_dz = db_da * da;
  c.dl_dz = dl_da * da;
  return c;
}

/* Effective pressure difference driving link k: ends plus hydrostatics. */
static double link_dp(const vs_system *sys, const vs_link_model *lk,
                      double gh) {
  return sys->p[lk->node[0]] - sys->p[lk->node[1]] +
         gh * (lk->height[0] - lk->height[1]);
}

/* Flow of an algebraic link: the root of dp = R Q + B |Q| Q, written so it
 * stays accurate for small dp; *g = dQ/d(dp) = 1 / (R + 2 B |Q|). */
static double algebraic_flow(double dp, double r, double b, double *g) {
  double q = 2.0 * dp / (r + sqrt(r * r + 4.0 * b * fabs(dp)));
  *g = 1.0 / (r + 2.0 * b * fabs(q));
  return q;
}

int vs_system_pressures(const vs_system *sys, double t, const double *y,
                        double *p) {
  int rc = node_pressures(sys, t, y);
  if (rc) return rc;
  memcpy(p, sys->p, (sys->net->n_comp + sys->net->n_pnode) * sizeof *p);
  return VS_OK;
}

/* Evaluate every link's pressure difference (sys->dp), flow and, for
 * inertial links, dQ/dt. The single place where link physics meets the
 * state. */
static int eval_links(const vs_system *sys, double t, const double *y,
                      double *q, double *dqdt) {
  const vs_network *net = sys->net;
  int rc = node_pressures(sys, t, y);
  if (rc) return rc;
  const vs_forcing *f = forcing_at(sys, t);
  double gh = f->gh;
  for (size_t k = 0; k < net->n_link; ++k) {
    const vs_link_model *lk = &sys->links[k];
    double dr[2], r_pois;
    double r = link_resistance(lk, f->r_given[k], y, dr, &r_pois);
    double dp = link_dp(sys, lk, gh);
    if (lk->state >= 0) {
      vs_link_coeffs c = link_coefficients(sys, lk, y);
      double qk = y[lk->state];
      q[k] = qk;
      if (dqdt) dqdt[k] = (dp - r * qk - c.b * fabs(qk) * qk) / c.l;
    } else {
      double g;
      vs_link_coeffs c = link_coefficients(sys, lk, y);
      q[k] = algebraic_flow(dp, r, c.b, &g);
    }
    if (!isfinite(q[k])) return VS_ENONFINITE;
    sys->dp[k] = valve_drive(lk, dp, r_pois, q[k]);
  }
  return VS_OK;
}

int vs_system_flows(const vs_system *sys, double t, const double *y,
                    double *q) {
  const vs_network *net = sys->net;
  int rc = eval_links(sys, t, y, q, NULL);
  if (rc) return rc;
  const vs_forcing *f = forcing_at(sys, t);
  for (size_t s = 0; s < net->n_src; ++s) q[net->n_link + s] = f->q_src[s];
  return VS_OK;
}

int vs_system_rhs(const vs_system *sys, double t, const double *y,
                  double *ydot) {
  const vs_network *net = sys->net;
  double *q = sys->q, *dqdt = sys->dqdt;
  /* Every state, also those the right-hand side does not read (W): a NaN
   * anywhere is refused here, before it spreads (numerical guard). */
  for (size_t i = 0; i < sys->n_state; ++i)
    if (!isfinite(y[i])) return VS_ENONFINITE;
  int rc = eval_links(sys, t, y, q, dqdt);
  if (rc) return rc;
  memset(ydot, 0, sys->n_state * sizeof *ydot);
  for (size_t k = 0; k < net->n_link; ++k) {
    const vs_link_model *lk = &sys->links[k];
    if (lk->comp[0] >= 0) ydot[lk->comp[0]] -= q[k];
    if (lk->comp[1] >= 0) ydot[lk->comp[1]] += q[k];
    if (lk->state >= 0) ydot[lk->state] = dqdt[k];
    if (lk->boundary >= 0) ydot[lk->boundary] = lk->inflow_sign * q[k];
    if (lk->zeta >= 0)
      ydot[lk->zeta] = vs_valve_rate(lk->valve, sys->dp[k], y[lk->zeta],
                                     NULL, NULL);
  }
  const vs_forcing *f = forcing_at(sys, t);
  for (size_t s = 0; s < net->n_src; ++s) {
    double qs = f->q_src[s];
    ydot[net->src_node[s]] += qs;
    ydot[sys->src_boundary[s]] = qs;
  }
  for (size_t i = 0; i < sys->n_state; ++i)
    if (!isfinite(ydot[i])) return VS_ENONFINITE;
  return VS_OK;
}

/* The valve-opening row: dzeta/dt = rate(dp_v, zeta), with the drive's
 * partial derivatives in the ends' volumes, the opening and the link's
 * flow state (if it has one). */
typedef struct {
  double dp_v;
  double d_dv[2]; /* d(dp_v)/dV of each end */
  double d_dz;    /* d(dp_v)/dzeta */
  double d_dq;    /* d(dp_v)/dQ, inertial links */
} vs_valve_drive;

static void valve_rate_terms(const vs_link_model *lk, int values,
                             const vs_valve_drive *d, const double *y,
                             vs_jac_acc *J) {
  size_t z = (size_t)lk->zeta;
  double d_dp = 0.0, d_z = 0.0;
  if (values) vs_valve_rate(lk->valve, d->dp_v, y[z], &d_dp, &d_z);
  jac_add(J, z, z, d_z + d_dp * d->d_dz);
  for (int e = 0; e < 2; ++e)
    if (lk->comp[e] >= 0)
      jac_add(J, z, (size_t)lk->comp[e], d_dp * d->d_dv[e]);
  if (lk->state >= 0) jac_add(J, z, (size_t)lk->state, d_dp * d->d_dq);
}

/* All Jacobian contributions, in a fixed order (see jac_add). */
static int jacobian_pass(const vs_system *sys, double t, const double *y,
                         vs_jac_acc *J) {
  const vs_network *net = sys->net;
  int rc = VS_OK;
  const vs_forcing *f = NULL;
  if (J->mode == VS_JAC_VALUES) {
    rc = node_pressures(sys, t, y);
    if (rc) return rc;
    f = forcing_at(sys, t);
  }
  double gh = f ? f->gh : 0.0;
  J->count = 0;
  /* Structural diagonal, so I - gamma J always has its pivots in place. */
  for (size_t i = 0; i < sys->n_state; ++i) jac_add(J, i, i, 0.0);
  for (size_t k = 0; k < net->n_link; ++k) {
    const vs_link_model *lk = &sys->links[k];
    int values = J->mode == VS_JAC_VALUES;
    double dr[2] = {0.0, 0.0}, r = 0.0, dp = 0.0, r_pois = 0.0;
    double dpdv[2] = {0.0, 0.0};
    if (values) {
      r = link_resistance(lk, f->r_given[k], y, dr, &r_pois);
      dp = link_dp(sys, lk, gh);
      for (int e = 0; e < 2; ++e)
        if (lk->comp[e] >= 0) dpdv[e] = sys->dpdv[lk->comp[e]];
    }
    /* d(dp)/dV of each end: +dp/dV at `from`, -dp/dV at `to`. */
    const double sign[2] = {1.0, -1.0};
    if (lk->state >= 0) {
      /* L(zeta) dQ/dt = dp - R Q - B(zeta) |Q| Q */
      size_t s = (size_t)lk->state;
      double qk = values ? y[s] : 0.0;
      vs_link_coeffs c = link_coefficients(sys, lk, values ? y : NULL);
      jac_add(J, s, s, -(r + 2.0 * c.b * fabs(qk)) / c.l);
      for (int e = 0; e < 2; ++e) {
        if (lk->comp[e] < 0) continue;
        jac_add(J, s, (size_t)lk->comp[e],
                (sign[e] * dpdv[e] - qk * dr[e]) / c.l);
      }
      if (lk->zeta >= 0) {
        size_t z = (size_t)lk->zeta;
        double num = dp - r * qk - c.b * fabs(qk) * qk;
        jac_add(J, s, z,
                -c.db_dz * fabs(qk) * qk / c.l - num * c.dl_dz / (c.l * c.l));
        /* dp_v = dp + x R_p(V) Q, Q a state. */
        double x = lk->station_extra;
        vs_valve_drive d = {.dp_v = valve_drive(lk, dp, r_pois, qk),
                            .d_dz = 0.0,
                            .d_dq = x * r_pois};
        for (int e = 0; e < 2; ++e)
          d.d_dv[e] = sign[e] * dpdv[e] + x * dr[e] * qk;
        valve_rate_terms(lk, values, &d, y, J);
      }
      /* dV/dt and dW/dt are linear in Q. */
      if (lk->comp[0] >= 0) jac_add(J, (size_t)lk->comp[0], s, -1.0);
      if (lk->comp[1] >= 0) jac_add(J, (size_t)lk->comp[1], s, 1.0);
      if (lk->boundary >= 0)
        jac_add(J, (size_t)lk->boundary, s, lk->inflow_sign);
    } else {
      /* Q = Q(dp, R, B): dQ/dV_e = G (+-dp_e/dV_e) - Q G dR/dV_e,
       * dQ/dzeta = -G |Q| Q dB/dzeta, with G = 1 / (R + 2 B |Q|). */
      double g = 0.0, qk = 0.0;
      vs_link_coeffs c = link_coefficients(sys, lk, values ? y : NULL);
      if (values) qk = algebraic_flow(dp, r, c.b, &g);
      for (int e = 0; e < 2; ++e) {
        if (lk->comp[e] < 0) continue;
        double dq = g * (sign[e] * dpdv[e] - qk * dr[e]);
        size_t col = (size_t)lk->comp[e];
        if (lk->comp[0] >= 0) jac_add(J, (size_t)lk->comp[0], col, -dq);
        if (lk->comp[1] >= 0) jac_add(J, (size_t)lk->comp[1], col, dq);
        if (lk->boundary >= 0)
          jac_add(J, (size_t)lk->boundary, col, lk->inflow_sign * dq);
      }
      if (lk->zeta >= 0) {
        size_t z = (size_t)lk->zeta;
        double dq = -g * fabs(qk) * qk * c.db_dz;
        if (lk->comp[0] >= 0) jac_add(J, (size_t)lk->comp[0], z, -dq);
        if (lk->comp[1] >= 0) jac_add(J, (size_t)lk->comp[1], z, dq);
        if (lk->boundary >= 0)
          jac_add(J, (size_t)lk->boundary, z, lk->inflow_sign * dq);
        /* dp_v = dp + x R_p(V) Q(dp, R, B(zeta)). */
        double x = lk->station_extra;
        vs_valve_drive d = {.dp_v = valve_drive(lk, dp, r_pois, qk),
                            .d_dz = x * r_pois * dq,
                            .d_dq = 0.0};
        for (int e = 0; e < 2; ++e)
          d.d_dv[e] = sign[e] * dpdv[e] +
                      x * (dr[e] * qk + r_pois * g * (sign[e] * dpdv[e] -
                                                      qk * dr[e]));
        valve_rate_terms(lk, values, &d, y, J);
      }
    }
  }
  return VS_OK;
}

int vs_system_jacobian_values(const vs_system *sys, double t, const double *y,
                              double *vals) {
  vs_jac_acc J = {.mode = VS_JAC_VALUES, .slot = sys->jac_slot, .vals = vals};
  memset(vals, 0, sys->nnz * sizeof *vals);
  return jacobian_pass(sys, t, y, &J);
}

int vs_system_jacobian_dense(const vs_system *sys, double t, const double *y,
                             double *jac) {
  size_t n = sys->n_state;
  int rc = vs_system_jacobian_values(sys, t, y, sys->jac_vals);
  if (rc) return rc;
  memset(jac, 0, n * n * sizeof *jac);
  for (size_t j = 0; j < n; ++j)
    for (size_t k = sys->jac_colptr[j]; k < sys->jac_colptr[j + 1]; ++k)
      jac[sys->jac_rowidx[k] + j * n] = sys->jac_vals[k];
  return VS_OK;
}

/* Record the pattern and build the CSC structure and the call -> slot map. */
static int build_pattern(vs_system *sys) {
  vs_jac_acc J = {.mode = VS_JAC_PATTERN};
  /* Upper bound on calls: diagonal + per link at most 11 (inertial with a
   * valve) or 2 ends x 3 rows + 3 valve entries (algebraic). */
  size_t cap = sys->n_state + 11 * sys->net->n_link + 1;
  int rc = VS_ENOMEM;
  jac_entry *e = NULL;
  J.rows = malloc(cap * sizeof *J.rows);
  J.cols = malloc(cap * sizeof *J.cols);
  if (!J.rows || !J.cols) goto done;
  jacobian_pass(sys, 0.0, NULL, &J);
  size_t ncall = J.count;
  e = malloc(ncall * sizeof *e);
  sys->jac_slot = malloc(ncall * sizeof *sys->jac_slot);
  sys->jac_colptr = calloc(sys->n_state + 1, sizeof *sys->jac_colptr);
  sys->jac_rowidx = malloc(ncall * sizeof *sys->jac_rowidx);
  if (!e || !sys->jac_slot || !sys->jac_colptr || !sys->jac_rowidx) goto done;
  for (size_t c = 0; c < ncall; ++c)
    e[c] = (jac_entry){J.rows[c], J.cols[c], c};
  qsort(e, ncall, sizeof *e, cmp_entry);
  size_t nnz = 0;
  for (size_t c = 0; c < ncall; ++c) {
    if (c == 0 || e[c].row != e[c - 1].row || e[c].col != e[c - 1].col) {
      sys->jac_rowidx[nnz] = e[c].row;
      sys->jac_colptr[e[c].col + 1]++;
      nnz++;
    }
    sys->jac_slot[e[c].call] = nnz - 1;
  }
  for (size_t j = 0; j < sys->n_state; ++j)
    sys->jac_colptr[j + 1] += sys->jac_colptr[j];
  sys->nnz = nnz;
  sys->jac_vals = calloc(nnz, sizeof *sys->jac_vals);
  rc = sys->jac_vals ? VS_OK : VS_ENOMEM;
done:
  free(J.rows);
  free(J.cols);
  free(e);
  return rc;
}

/* ---- building ------------------------------------------------------------ */

static int set_state_name(vs_system *sys, size_t i, const char *kind,
                          const char *name) {
  size_t len = strlen(kind) + strlen(name) + 3;
  sys->state_names[i] = malloc(len);
  if (!sys->state_names[i]) return VS_ENOMEM;
  snprintf(sys->state_names[i], len, "%s[%s]", kind, name);
  return VS_OK;
}

/* Turn link k's spec into its model: constant and geometric coefficients,
 * the states it owns (Q, then the valve opening), its ends. */
static int build_link(vs_system *sys, size_t k, size_t *next_state,
                      char *msg, size_t msglen) {
  const vs_network *net = sys->net;
  const vs_link_spec *ls = &net->link[k];
  vs_link_model *lk = &sys->links[k];
  double rho = net->density_g_cm3, mu = net->viscosity_poise;
  int ends[2] = {net->link_from[k], net->link_to[k]};
  memset(lk, 0, sizeof *lk);
  for (int e = 0; e < 2; ++e) {
    size_t i = (size_t)ends[e];
    lk->node[e] = ends[e];
    lk->comp[e] = i < net->n_comp ? ends[e] : -1;
    lk->height[e] = i < net->n_comp ? net->comp[i].height_cm
                                    : net->pnode[i - net->n_comp].height_cm;
  }
  /* n identical vessels side by side: their areas add, so the resistance
   * and inertance of the bundle are those of one vessel divided by n. */
  double n_par = ls->n_parallel > 1 ? (double)ls->n_parallel : 1.0;
  double a0 = VS_PI * ls->diameter_cm * ls->diameter_cm / 4.0;
  if (ls->resistance_varies)
    lk->r_wave = &ls->resistance_wave;
  else
    lk->r_const = ls->resistance_mmhg_s_ml;
  lk->l = ls->inertance_mmhg_s2_ml;
  if (ls->poiseuille)
    lk->r_pois0 = vs_segment_resistance(mu, ls->length_cm, a0) / n_par;
  if (ls->geometric_inertance)
    lk->l += vs_segment_inertance(rho, ls->length_cm, a0) / n_par;
  if (ls->has_stenosis) {
    /* The same lesion in each vessel of the bundle: n in parallel. */
    double rs, bs, lsn;
    vs_stenosis_coefficients(&ls->stenosis, mu, rho, a0, &rs, &bs, &lsn);
    lk->r_const += rs / n_par;
    lk->b = bs / (n_par * n_par);
    lk->l += lsn / n_par;
  }
  if (ls->collapsible) {
    lk->collapsible = 1;
    for (int e = 0; e < 2; ++e) {
      if (lk->comp[e] < 0) continue;
      const vs_wall *w = &net->comp[lk->comp[e]].wall;
      if (w->kind != VS_WALL_TUBE_LAW) continue;
      lk->tube_end[e] = 1;
      lk->vref[e] = vs_wall_reference_volume(w);
      lk->n_tube_ends++;
    }
  }
  lk->zeta = -1;
  if (ls->has_valve) {
    lk->valve = &ls->valve;
    lk->a_ann = a0 * n_par;
    if (ls->valve.station_length_cm > 0 && ls->poiseuille &&
        ls->length_cm > 0)
      lk->station_extra = ls->valve.station_length_cm / ls->length_cm - 1.0;
  }
  /* Without inertance the flow is algebraic and needs a resistance at every
   * moment (the collapse factor is positive at any finite area). */
  double r_floor = lk->r_const + lk->r_pois0 +
                   (lk->r_wave ? vs_waveform_min(lk->r_wave) : 0.0);
  int inertial = lk->l > 0 || (lk->valve && lk->valve->l_eff_cm > 0);
  if (!inertial && !lk->valve && !(r_floor > 0)) {
    snprintf(msg, msglen,
             "link '%s' has neither resistance nor inertance: its flow is "
             "undetermined", ls->name);
    return VS_ENETWORK;
  }
  lk->state = -1;
  if (inertial) {
    lk->state = (int)*next_state;
    sys->state_kind[*next_state] = VS_STATE_FLOW;
    int rc = set_state_name(sys, (*next_state)++, "Q", ls->name);
    if (rc) return rc;
  }
  if (lk->valve) {
    lk->zeta = (int)*next_state;
    sys->state_kind[*next_state] = VS_STATE_VALVE;
    int rc = set_state_name(sys, (*next_state)++, "zeta", ls->name);
    if (rc) return rc;
  }
  lk->boundary = -1;
  /* A link touching a pressure node moves blood across the boundary. */
  if (lk->comp[0] < 0 || lk->comp[1] < 0)
    lk->inflow_sign = lk->comp[0] < 0 ? 1.0 : -1.0;
  return VS_OK;
}

/* Adds input w, whose value goes to *out: a constant is evaluated now,
 * a table joins the group of its knots (or starts one). */
static void add_forcing_slot(vs_forcing *f, const vs_waveform *w, double *out) {
  if (vs_waveform_is_constant(w)) {
    *out = vs_waveform_eval(w, 0.0);
    return;
  }
  vs_forcing_slot *sl = &f->slot[f->n_slots++];
  *sl = (vs_forcing_slot){.w = w, .out = out, .group = -1};
  if (w->kind != VS_WAVE_TABLE) return;
  size_t g = 0;
  while (g < f->n_groups && !vs_waveform_same_knots(f->group[g].knots, w)) ++g;
  if (g == f->n_groups) f->group[f->n_groups++] = (vs_knot_group){.knots = w};
  sl->group = (int)g;
}

/* The forcing cache, empty (NaN never equals a time). */
static int build_forcing(vs_system *sys) {
  const vs_network *net = sys->net;
  vs_forcing *f = calloc(1, sizeof *f);
  if (!f) return VS_ENOMEM;
  sys->forcing = f;
  f->t = NAN;
  /* +1: a network may have none of a kind. */
  size_t n_inputs = net->n_comp + net->n_pnode + net->n_link + net->n_src + 1;
  f->p_ext = calloc(net->n_comp + 1, sizeof *f->p_ext);
  f->p_node = calloc(net->n_pnode + 1, sizeof *f->p_node);
  f->r_given = calloc(net->n_link + 1, sizeof *f->r_given);
  f->q_src = calloc(net->n_src + 1, sizeof *f->q_src);
  f->slot = calloc(n_inputs, sizeof *f->slot);
  f->group = calloc(n_inputs, sizeof *f->group);
  if (!f->p_ext || !f->p_node || !f->r_given || !f->q_src || !f->slot ||
      !f->group)
    return VS_ENOMEM;
  for (size_t c = 0; c < net->n_comp; ++c)
    add_forcing_slot(f, &net->comp[c].p_ext, &f->p_ext[c]);
  for (size_t i = 0; i < net->n_pnode; ++i)
    add_forcing_slot(f, &net->pnode[i].pressure, &f->p_node[i]);
  for (size_t k = 0; k < net->n_link; ++k)
    if (sys->links[k].r_wave)
      add_forcing_slot(f, sys->links[k].r_wave, &f->r_given[k]);
  for (size_t s = 0; s < net->n_src; ++s)
    add_forcing_slot(f, &net->src[s].flow, &f->q_src[s]);
  add_forcing_slot(f, &net->tilt_deg, &f->tilt_deg);
  f->gh = hydrostatic_gradient(sys, f->tilt_deg);
  return VS_OK;
}

static void free_forcing(vs_forcing **f) {
  if (!*f) return;
  free((*f)->p_ext);
  free((*f)->p_node);
  free((*f)->r_given);
  free((*f)->q_src);
  free((*f)->slot);
  free((*f)->group);
  free(*f);
  *f = NULL;
}

/* Calls visit(w, ctx) on every waveform of the network the system reads. */
typedef void (*waveform_visitor)(const vs_waveform *w, void *ctx);

static void visit_waveforms(const vs_system *sys, waveform_visitor visit,
                            void *ctx) {
  const vs_network *net = sys->net;
  visit(&net->tilt_deg, ctx);
  for (size_t c = 0; c < net->n_comp; ++c) visit(&net->comp[c].p_ext, ctx);
  for (size_t i = 0; i < net->n_pnode; ++i) visit(&net->pnode[i].pressure, ctx);
  for (size_t s = 0; s < net->n_src; ++s) visit(&net->src[s].flow, ctx);
  for (size_t k = 0; k < net->n_link; ++k)
    if (sys->links[k].r_wave) visit(sys->links[k].r_wave, ctx);
}

static int has_knots(const vs_waveform *w) {
  return w->kind == VS_WAVE_TABLE && w->n >= 2;
}

/* Pass 1: counts the knots of non-periodic tables and the periodic tables. */
static void count_knots(const vs_waveform *w, void *ctx) {
  vs_system *sys = ctx;
  if (!has_knots(w)) return;
  if (w->periodic)
    sys->periodic_tables++;
  else
    sys->n_breaks += w->n;
}

/* Pass 2: appends the knots of non-periodic tables. */
static void collect_knots(const vs_waveform *w, void *ctx) {
  vs_system *sys = ctx;
  if (!has_knots(w) || w->periodic) return;
  memcpy(sys->breaks + sys->n_breaks, w->t, w->n * sizeof *w->t);
  sys->n_breaks += w->n;
}

static int cmp_double(const void *pa, const void *pb) {
  double a = *(const double *)pa, b = *(const double *)pb;
  return (a > b) - (a < b);
}

/* The merged knots of every non-periodic table (sys->breaks). */
static int build_breakpoints(vs_system *sys) {
  sys->n_breaks = 0;
  sys->periodic_tables = 0;
  visit_waveforms(sys, count_knots, sys);
  sys->breaks = malloc((sys->n_breaks + 1) * sizeof *sys->breaks);
  if (!sys->breaks) return VS_ENOMEM;
  sys->n_breaks = 0;
  visit_waveforms(sys, collect_knots, sys);
  qsort(sys->breaks, sys->n_breaks, sizeof *sys->breaks, cmp_double);
  size_t m = 0;
  for (size_t i = 0; i < sys->n_breaks; ++i)
    if (m == 0 || sys->breaks[i] != sys->breaks[m - 1])
      sys->breaks[m++] = sys->breaks[i];
  sys->n_breaks = m;
  return VS_OK;
}

int vs_system_create(const vs_network *net, vs_system **out, char *msg,
                     size_t msglen) {
  if (!net || !out) return VS_EINVAL;
  *out = NULL;
  if (!net->validated) {
    snprintf(msg, msglen, "the network has not been validated");
    return VS_ENETWORK;
  }
  vs_system *sys = calloc(1, sizeof *sys);
  if (!sys) return VS_ENOMEM;
  sys->net = net;
  int rc = VS_ENOMEM;
  size_t nn = net->n_comp + net->n_pnode;
  size_t nb = net->n_link + net->n_src;
  sys->links = calloc(net->n_link + 1, sizeof *sys->links);
  sys->src_boundary = calloc(net->n_src + 1, sizeof *sys->src_boundary);
  sys->p = calloc(nn, sizeof *sys->p);
  sys->dpdv = calloc(nn, sizeof *sys->dpdv);
  sys->dp = calloc(net->n_link + 1, sizeof *sys->dp);
  sys->valve_link = calloc(net->n_link + 1, sizeof *sys->valve_link);
  sys->q = calloc(nb + 1, sizeof *sys->q);
  sys->dqdt = calloc(nb + 1, sizeof *sys->dqdt);
  sys->pressures_of = calloc(1, sizeof *sys->pressures_of);
  if (sys->pressures_of)
    sys->pressures_of->v = calloc(net->n_comp + 1, sizeof(double));
  /* Upper bound on states: V + (Q, zeta, W) per link + W per source. */
  size_t max_state = net->n_comp + 3 * net->n_link + net->n_src;
  sys->state_names = calloc(max_state, sizeof *sys->state_names);
  sys->state_kind = calloc(max_state, sizeof *sys->state_kind);
  if (!sys->links || !sys->src_boundary || !sys->p || !sys->dpdv || !sys->q ||
      !sys->dqdt || !sys->dp || !sys->valve_link || !sys->state_names ||
      !sys->state_kind || !sys->pressures_of || !sys->pressures_of->v)
    goto fail;

  size_t next = 0;
  for (size_t c = 0; c < net->n_comp; ++c) {
    sys->state_kind[next] = VS_STATE_VOLUME;
    if ((rc = set_state_name(sys, next++, "V", net->comp[c].name))) goto fail;
  }
  for (size_t k = 0; k < net->n_link; ++k) {
    if ((rc = build_link(sys, k, &next, msg, msglen))) goto fail;
    if (sys->links[k].valve) sys->valve_link[sys->n_valves++] = k;
  }
  /* Cumulative boundary volumes last, so volumes and flows stay together. */
  for (size_t k = 0; k < net->n_link; ++k) {
    vs_link_model *lk = &sys->links[k];
    if (lk->comp[0] >= 0 && lk->comp[1] >= 0) continue;
    lk->boundary = (int)next;
    sys->state_kind[next] = VS_STATE_BOUNDARY_VOLUME;
    if ((rc = set_state_name(sys, next++, "W", net->link[k].name))) goto fail;
  }
  for (size_t s = 0; s < net->n_src; ++s) {
    sys->src_boundary[s] = next;
    sys->state_kind[next] = VS_STATE_BOUNDARY_VOLUME;
    if ((rc = set_state_name(sys, next++, "W", net->src[s].name))) goto fail;
  }
  sys->n_state = next;
  if ((rc = build_pattern(sys))) goto fail;
  if ((rc = build_forcing(sys))) goto fail;
  if ((rc = build_breakpoints(sys))) goto fail;
  *out = sys;
  return VS_OK;
fail:
  if (rc == VS_ENOMEM) snprintf(msg, msglen, "out of memory building the system");
  vs_system_free(&sys);
  return rc;
}

void vs_system_free(vs_system **sys) {
  if (!sys || !*sys) return;
  vs_system *s = *sys;
  if (s->state_names) {
    size_t max_state = s->net->n_comp + 3 * s->net->n_link + s->net->n_src;
    for (size_t i = 0; i < max_state; ++i) free(s->state_names[i]);
  }
  free(s->state_names);
  free(s->state_kind);
  free(s->links);
  free(s->src_boundary);
  free(s->p);
  free(s->dpdv);
  free(s->q);
  free(s->dqdt);
  free(s->dp);
  free(s->valve_link);
  free(s->jac_slot);
  free(s->jac_colptr);
  free(s->jac_rowidx);
  free(s->jac_vals);
  free_forcing(&s->forcing);
  if (s->pressures_of) free(s->pressures_of->v);
  free(s->pressures_of);
  free(s->breaks);
  free(s);
  *sys = NULL;
}

int vs_system_initial_state(const vs_system *sys, double t, double *y) {
  const vs_network *net = sys->net;
  memset(y, 0, sys->n_state * sizeof *y);
  for (size_t c = 0; c < net->n_comp; ++c) {
    const vs_compartment_spec *cs = &net->comp[c];
    double p_tm = cs->p_init_mmhg - vs_waveform_eval(&cs->p_ext, t);
    int rc = vs_wall_volume(&cs->wall, p_tm, &y[c]);
    if (rc) return rc;
  }
  /* Valves start where their rate vanishes, and inertial links at the flow
   * their initial pressure drop sustains, so a run does not open with an
   * artificial surge. */
  int rc = node_pressures(sys, t, y);
  if (rc) return rc;
  const vs_forcing *f = forcing_at(sys, t);
  double gh = f->gh;
  for (size_t k = 0; k < net->n_link; ++k) {
    const vs_link_model *lk = &sys->links[k];
    if (lk->state < 0 && lk->zeta < 0) continue;
    double dr[2], g, r_pois;
    double dp = link_dp(sys, lk, gh);
    double r = link_resistance(lk, f->r_given[k], y, dr, &r_pois);
    if (lk->zeta >= 0) {
      /* rate = Kvo (1 - z) so - Kvc z sc = 0, at the drive of the flow the
       * open valve would pass */
      if (lk->station_extra != 0.0) {
        y[lk->zeta] = 1.0;
        vs_link_coeffs c = link_coefficients(sys, lk, y);
        dp = valve_drive(lk, dp, r_pois, algebraic_flow(dp, r, c.b, &g));
      }
      double so = vs_softplus(dp - lk->valve->dp_open_mmhg,
                              lk->valve->smoothing_mmhg, NULL);
      double sc = vs_softplus(lk->valve->dp_close_mmhg - dp,
                              lk->valve->smoothing_mmhg, NULL);
      y[lk->zeta] = lk->valve->kvo * so /
                    (lk->valve->kvo * so + lk->valve->kvc * sc);
      dp = link_dp(sys, lk, gh);
    }
    if (lk->state < 0) continue;
    vs_link_coeffs c = link_coefficients(sys, lk, y);
    y[lk->state] = (r > 0 || c.b > 0) ? algebraic_flow(dp, r, c.b, &g) : 0.0;
  }
  return VS_OK;
}

/* The earliest breakpoint after `t` among the periodic tables. */
typedef struct {
  double t, best;
} periodic_search;

static void next_periodic_knot(const vs_waveform *w, void *ctx) {
  periodic_search *ps = ctx;
  double tb;
  if (has_knots(w) && w->periodic && vs_waveform_next_breakpoint(w, ps->t, &tb))
    ps->best = fmin(ps->best, tb);
}

int vs_system_next_breakpoint(const vs_system *sys, double t, double *t_next) {
  /* The same guard as vs_waveform_next_breakpoint: a stop exactly on a
   * knot must not find that knot again. */
  double after = t + VS_WAVE_KNOT_GUARD * (1.0 + fabs(t));
  /* First merged knot > after (binary search). */
  size_t lo = 0, hi = sys->n_breaks;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (sys->breaks[mid] > after)
      hi = mid;
    else
      lo = mid + 1;
  }
  double best = lo < sys->n_breaks ? sys->breaks[lo] : INFINITY;
  if (sys->periodic_tables) {
    periodic_search ps = {t, best};
    visit_waveforms(sys, next_periodic_knot, &ps);
    best = ps.best;
  }
  if (!isfinite(best)) return 0;
  *t_next = best;
  return 1;
}
