/* Scalar measurements of a finished run (metrics.h): the engine's own
 * checks (mass balance) and the leg's clinical measurements (leg.h), one
 * /summary column each. */
#include "venosim/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/leg.h"

typedef enum {
  M_VOLUME_CHANGE,
  M_BOUNDARY_INFLOW,
  M_MASS_BALANCE,
  M_PRESSURE_PEAK,
  M_P_ANKLE_SUPINE,
  M_P_ANKLE_STANDING,
  M_AVP_ANKLE,
  M_AVP_DROP,
  M_AVP_TRANSMURAL,
  M_REFILL_TIME_90,
  M_P_CFV_STANDING,
  M_P_CFV_WALK_RISE,
  M_GRADIENT_REST,
  M_GRADIENT_EXERCISE,
  M_REFLUX_DEEP,
  M_REFLUX_SUPERFICIAL,
  M_REFLUX_PERFORATOR,
  M_VENOUS_VOLUME,
  M_VENOUS_FILLING_INDEX,
  M_EJECTION_FRACTION,
  M_RESIDUAL_VOLUME_FRACTION,
  M_COLLATERAL_FLOW_FRACTION,
  M_ULCER_RISK_BAND,
  M_LUMEN_TREATED,
  M_WSS_TREATED,
  /* Reflux time at each valve of the default leg (leg.h; validate_leg
   * checks that this list is the leg's). */
  M_REFLUX_PLANTAR_VALVE,
  M_REFLUX_TIBIAL_VALVE,
  M_REFLUX_SOLEAL_VALVE,
  M_REFLUX_GASTROCNEMIUS_VALVE,
  M_REFLUX_POPLITEAL_VALVE,
  M_REFLUX_FEMORAL_VALVE,
  M_REFLUX_GSV_KNEE_VALVE,
  M_REFLUX_SFJ_VALVE,
  M_REFLUX_CALF_PERFORATOR_VALVE,
  M_REFLUX_THIGH_PERFORATOR_VALVE,
  M_COUNT
} metric_id;

static const vs_metric_info k_info[M_COUNT] = {
    [M_VOLUME_CHANGE] = {"volume_change", "mL",
                         "total compartment volume at the end minus at the "
                         "start"},
    [M_BOUNDARY_INFLOW] = {"boundary_inflow", "mL",
                           "net volume that entered through all boundaries "
                           "over the run"},
    [M_MASS_BALANCE] = {"mass_balance_error", "mL",
                        "volume_change - boundary_inflow: zero up to "
                        "round-off when mass is conserved"},
    [M_PRESSURE_PEAK] = {"pressure_peak", "mmHg",
                         "highest compartment pressure on the output grid"},
    [M_P_ANKLE_SUPINE] = {"p_ankle_supine", "mmHg",
                          "ankle (superficial) venous pressure, mean of the "
                          "last 5 s lying"},
    [M_P_ANKLE_STANDING] = {"p_ankle_standing", "mmHg",
                            "ankle venous pressure, mean of the last 5 s "
                            "standing still"},
    [M_AVP_ANKLE] = {"avp_ankle", "mmHg",
                     "ambulatory venous pressure: mean ankle pressure over "
                     "the last 5 cycles of the walk"},
    [M_AVP_DROP] = {"avp_drop", "mmHg",
                    "standing ankle pressure minus the ambulatory pressure"},
    [M_AVP_TRANSMURAL] = {"avp_transmural", "mmHg",
                          "the ambulatory pressure less the external "
                          "pressure on the ankle vein: what distends it "
                          "(equal to avp_ankle without stockings)"},
    [M_REFILL_TIME_90] = {"refill_time_90", "s",
                          "RT90: time after the walk for the ankle pressure "
                          "to recover 90 % of its drop"},
    [M_P_CFV_STANDING] = {"p_cfv_standing", "mmHg",
                          "common femoral venous pressure standing still"},
    [M_P_CFV_WALK_RISE] = {"p_cfv_walk_rise", "mmHg",
                           "mean common femoral pressure over the walk's last "
                           "5 cycles minus standing"},
    [M_GRADIENT_REST] = {"gradient_rest", "mmHg",
                         "common femoral minus caval pressure lying at rest "
                         "(across the iliac segments)"},
    [M_GRADIENT_EXERCISE] = {"gradient_exercise", "mmHg",
                             "the same gradient with exercise inflow"},
    [M_REFLUX_DEEP] = {"reflux_time_max_deep", "s",
                       "longest reflux at a deep valve after calf cuff "
                       "release or Valsalva (pathological > 1 s femoral, "
                       "popliteal; > 0.5 s calf)"},
    [M_REFLUX_SUPERFICIAL] = {"reflux_time_max_superficial", "s",
                              "longest reflux at a superficial valve "
                              "(pathological > 0.5 s)"},
    [M_REFLUX_PERFORATOR] = {"reflux_time_max_perforator", "s",
                             "longest outward flow at a perforator valve "
                             "(pathological > 0.35 s)"},
    [M_VENOUS_VOLUME] = {"venous_volume", "mL",
                         "calf venous volume, standing minus lying (air "
                         "plethysmography VV)"},
    [M_VENOUS_FILLING_INDEX] = {"venous_filling_index", "mL/s",
                                "90 % of VV over the time to fill it after "
                                "standing up (normal below 2 mL/s)"},
    [M_EJECTION_FRACTION] = {"ejection_fraction", "%",
                             "calf volume ejected by one tiptoe, over VV"},
    [M_RESIDUAL_VOLUME_FRACTION] = {"residual_volume_fraction", "%",
                                    "calf volume above lying left after the "
                                    "walk, over VV"},
    [M_COLLATERAL_FLOW_FRACTION] = {"collateral_flow_fraction", "1",
                                    "share of the external iliac outflow "
                                    "taking the pelvic collaterals, "
                                    "standing"},
    [M_ULCER_RISK_BAND] = {"ulcer_risk_band", "%",
                           "ulcer incidence of the AVP band (Nicolaides "
                           "1993): 0 below 30 mmHg up to 73 above 80"},
    [M_LUMEN_TREATED] = {"lumen_diameter_treated", "mm",
                         "effective lumen diameter of the treated segment "
                         "(untreated: of the diseased one): the stent's "
                         "force balance, the balloon less its recoil, or "
                         "the lesion's own lumen"},
    [M_WSS_TREATED] = {"wall_shear_stress_treated", "Pa",
                       "wall shear stress 4 mu Q / (pi r^3) in that lumen, "
                       "lying at rest (last 5 s supine)"},
    [M_REFLUX_PLANTAR_VALVE] = {"reflux_time_plantar_valve", "s",
        "longest reflux at the plantar valve after the calf cuff "
        "release or the Valsalva"},
    [M_REFLUX_TIBIAL_VALVE] = {"reflux_time_tibial_valve", "s",
        "longest reflux at the tibial valve after the calf cuff "
        "release or the Valsalva"},
    [M_REFLUX_SOLEAL_VALVE] = {"reflux_time_soleal_valve", "s",
        "longest reflux at the soleal valve after the calf cuff "
        "release or the Valsalva"},
    [M_REFLUX_GASTROCNEMIUS_VALVE] = {"reflux_time_gastrocnemius_valve", "s",
        "longest reflux at the gastrocnemius valve after the calf cuff "
        "release or the Valsalva"},
    [M_REFLUX_POPLITEAL_VALVE] = {"reflux_time_popliteal_valve", "s",
        "longest reflux at the popliteal valve after the calf cuff "
        "release or the Valsalva"},
    [M_REFLUX_FEMORAL_VALVE] = {"reflux_time_femoral_valve", "s",
        "longest reflux at the femoral valve after the calf cuff "
        "release or the Valsalva"},
    [M_REFLUX_GSV_KNEE_VALVE] = {"reflux_time_gsv_knee_valve", "s",
        "longest reflux at the gsv knee valve after the calf cuff "
        "release or the Valsalva"},
    [M_REFLUX_SFJ_VALVE] = {"reflux_time_sfj_valve", "s",
        "longest reflux at the sfj valve after the calf cuff "
        "release or the Valsalva"},
    [M_REFLUX_CALF_PERFORATOR_VALVE] = {
        "reflux_time_calf_perforator_valve", "s",
        "longest reflux at the calf perforator valve after the calf cuff "
        "release or the Valsalva"},
    [M_REFLUX_THIGH_PERFORATOR_VALVE] = {
        "reflux_time_thigh_perforator_valve", "s",
        "longest reflux at the thigh perforator valve after the calf cuff "
        "release or the Valsalva"},
};

size_t vs_metrics_count(void) { return M_COUNT; }
const vs_metric_info *vs_metrics_table(void) { return k_info; }

int vs_metrics_find(const char *name) {
  for (size_t i = 0; i < M_COUNT; ++i)
    if (strcmp(k_info[i].name, name) == 0) return (int)i;
  return -1;
}

/* Rows of pressure read at a time for its peak: samples are read back
 * (result.h) a block of rows at a time, never the whole series. */
#define PEAK_BLOCK_VALUES 8192

/* Sum of row k of a series (NaN when it cannot be read). */
static double row_sum(const vs_run_result *r, const vs_series *s, size_t k) {
  double *row = malloc((s->n_columns + 1) * sizeof *row);
  if (!row || vs_result_read_rows(r, s, k, 1, 1, row) != 0) {
    free(row);
    return NAN;
  }
  double sum = 0.0;
  for (size_t j = 0; j < s->n_columns; ++j) sum += row[j];
  free(row);
  return sum;
}

/* Highest of the first n columns of a series over every sample, taken
 * row by row in sample order. */
static double series_peak(const vs_run_result *r, const vs_series *p,
                          size_t n) {
  size_t nc = p->n_columns ? p->n_columns : 1;
  size_t rows = PEAK_BLOCK_VALUES / nc ? PEAK_BLOCK_VALUES / nc : 1;
  double *buf = malloc(rows * nc * sizeof *buf);
  if (!buf) return NAN;
  double peak = -INFINITY;
  for (size_t k0 = 0; k0 < r->n_samples; k0 += rows) {
    size_t m = r->n_samples - k0 < rows ? r->n_samples - k0 : rows;
    if (vs_result_read_rows(r, p, k0, m, 1, buf) != 0) {
      peak = NAN;
      break;
    }
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) peak = fmax(peak, buf[i * nc + j]);
  }
  free(buf);
  return peak;
}

static void engine_metrics(const vs_run_result *r, double *values) {
  const vs_series *v = vs_result_series(r, "volume");
  const vs_series *w = vs_result_series(r, "boundary_volume");
  const vs_series *p = vs_result_series(r, "pressure");
  size_t last = r->n_samples - 1;
  if (v) values[M_VOLUME_CHANGE] = row_sum(r, v, last) - row_sum(r, v, 0);
  if (w) values[M_BOUNDARY_INFLOW] = row_sum(r, w, last);
  values[M_MASS_BALANCE] = values[M_VOLUME_CHANGE] - values[M_BOUNDARY_INFLOW];
  /* Compartments are the first v->n_columns pressure columns. */
  if (p && v && v->n_columns <= p->n_columns)
    values[M_PRESSURE_PEAK] = series_peak(r, p, v->n_columns);
}

static void leg_metrics(const vs_run_result *r, double *values) {
  vs_leg_measurements m;
  vs_leg_measure(r, &m);
  values[M_P_ANKLE_SUPINE] = m.p_ankle_supine;
  values[M_P_ANKLE_STANDING] = m.p_ankle_standing;
  values[M_AVP_ANKLE] = m.avp_ankle;
  values[M_AVP_DROP] = m.avp_drop;
  values[M_AVP_TRANSMURAL] = m.avp_transmural;
  values[M_REFILL_TIME_90] = m.refill_time_90;
  values[M_P_CFV_STANDING] = m.p_cfv_standing;
  values[M_P_CFV_WALK_RISE] = m.p_cfv_walk_rise;
  values[M_GRADIENT_REST] = m.gradient_rest;
  values[M_GRADIENT_EXERCISE] = m.gradient_exercise;
  values[M_REFLUX_DEEP] = m.reflux_time_max_deep;
  values[M_REFLUX_SUPERFICIAL] = m.reflux_time_max_superficial;
  values[M_REFLUX_PERFORATOR] = m.reflux_time_max_perforator;
  values[M_VENOUS_VOLUME] = m.venous_volume;
  values[M_VENOUS_FILLING_INDEX] = m.venous_filling_index;
  values[M_EJECTION_FRACTION] = m.ejection_fraction;
  values[M_RESIDUAL_VOLUME_FRACTION] = m.residual_volume_fraction;
  values[M_COLLATERAL_FLOW_FRACTION] = m.collateral_flow_fraction;
  values[M_ULCER_RISK_BAND] = m.ulcer_risk_band;
  values[M_LUMEN_TREATED] = m.lumen_diameter_treated;
  values[M_WSS_TREATED] = m.wall_shear_stress_treated;
  /* Per valve: the column named after it, where the run has that valve. */
  for (size_t v = 0; v < m.n_valves; ++v) {
    char name[64];
    snprintf(name, sizeof name, "reflux_time_%s", m.valve_names[v]);
    int j = vs_metrics_find(name);
    if (j >= 0) values[j] = m.reflux_time[v];
  }
}

void vs_metrics_compute(const vs_run_result *r, double *values) {
  for (size_t i = 0; i < M_COUNT; ++i) values[i] = NAN;
  if (!r || r->status != VS_RUN_OK || r->n_samples == 0) return;
  engine_metrics(r, values);
  leg_metrics(r, values);
}
