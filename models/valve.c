/* Smooth Mynard valve (valve.h). */
#include "venosim/valve.h"

#include <math.h>
#include <stdio.h>

#include "venosim/error.h"
#include "venosim/units.h"

vs_valve vs_valve_default(void) {
  vs_valve v;
  v.kvo = 20.0;
  v.kvc = 20.0;
  v.dp_open_mmhg = 0.0;
  v.dp_close_mmhg = 0.0;
  v.m_st = 1.0;
  v.m_rg = 0.0;
  v.leak_floor = 1e-4;
  v.l_eff_cm = 1.0;
  v.smoothing_mmhg = 0.1;
  v.station_length_cm = 0.0;
  return v;
}

int vs_valve_validate(const vs_valve *v, char *msg, unsigned long msglen) {
  if (!(v->kvo > 0) || !(v->kvc > 0) || !isfinite(v->kvo) ||
      !isfinite(v->kvc)) {
    snprintf(msg, msglen, "valve rates Kvo and Kvc must be positive");
    return VS_EINVAL;
  }
  if (!isfinite(v->dp_open_mmhg) || !isfinite(v->dp_close_mmhg)) {
    snprintf(msg, msglen, "valve thresholds must be finite");
    return VS_EINVAL;
  }
  if (!(v->m_st > 0 && v->m_st <= 1)) {
    snprintf(msg, msglen, "valve Mst must be in (0, 1]");
    return VS_EINVAL;
  }
  if (!(v->m_rg >= 0 && v->m_rg < v->m_st)) {
    snprintf(msg, msglen, "valve Mrg must be in [0, Mst)");
    return VS_EINVAL;
  }
  if (!(v->leak_floor > 0 && v->leak_floor < v->m_st) ||
      !(v->l_eff_cm >= 0) || !(v->smoothing_mmhg > 0) ||
      !isfinite(v->l_eff_cm) || !isfinite(v->smoothing_mmhg)) {
    snprintf(msg, msglen,
             "valve leak floor and smoothing must be positive (leak floor "
             "below Mst), its effective length >= 0");
    return VS_EINVAL;
  }
  if (!(v->station_length_cm >= 0) || !isfinite(v->station_length_cm)) {
    snprintf(msg, msglen, "valve station length must be >= 0 (0: its link)");
    return VS_EINVAL;
  }
  return VS_OK;
}

double vs_softplus(double x, double w, double *ds_dx) {
  double u = x / w;
  /* s = w (max(u, 0) + ln(1 + exp(-|u|))) never overflows; s' = logistic. */
  double e = exp(-fabs(u));
  if (ds_dx) *ds_dx = u >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  return w * (fmax(u, 0.0) + log1p(e));
}

double vs_valve_rate(const vs_valve *v, double dp, double zeta, double *d_dp,
                     double *d_zeta) {
  double so, sc, dso, dsc;
  so = vs_softplus(dp - v->dp_open_mmhg, v->smoothing_mmhg, &dso);
  sc = vs_softplus(v->dp_close_mmhg - dp, v->smoothing_mmhg, &dsc);
  if (d_dp) *d_dp = v->kvo * (1.0 - zeta) * dso + v->kvc * zeta * dsc;
  if (d_zeta) *d_zeta = -v->kvo * so - v->kvc * sc;
  return v->kvo * (1.0 - zeta) * so - v->kvc * zeta * sc;
}

double vs_valve_area(const vs_valve *v, double a_ann_cm2, double zeta,
                     double *da_dzeta) {
  double a_min = fmax(v->m_rg, v->leak_floor) * a_ann_cm2;
  double a_max = v->m_st * a_ann_cm2;
  /* The solver may step a hair outside [0, 1]; the area holds its limit. */
  double z = fmin(fmax(zeta, 0.0), 1.0);
  if (da_dzeta) *da_dzeta = (zeta >= 0.0 && zeta <= 1.0) ? a_max - a_min : 0.0;
  return (a_max - a_min) * z + a_min;
}

void vs_valve_coefficients(const vs_valve *v, double rho_g_cm3, double a_cm2,
                           double *b, double *l, double *db_da,
                           double *dl_da) {
  double bc = rho_g_cm3 / (2.0 * a_cm2 * a_cm2) / VS_DYN_CM2_PER_MMHG;
  double lc = rho_g_cm3 * v->l_eff_cm / a_cm2 / VS_DYN_CM2_PER_MMHG;
  if (b) *b = bc;
  if (l) *l = lc;
  if (db_da) *db_da = -2.0 * bc / a_cm2;
  if (dl_da) *dl_da = -lc / a_cm2;
}
