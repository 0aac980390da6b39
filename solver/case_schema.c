/* The case file schema: every key, its type, unit, default, range and
 * meaning, in one table (case_schema.h), and its Markdown reference. */
#include "case_schema.h"

#include <locale.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/case.h"
#include "venosim/error.h"
#include "venosim/leg.h"
#include "venosim/stenosis.h"
#include "venosim/valve.h"
#include "venosim/units.h"
#include "venosim/wall.h"

/* ---- the table ------------------------------------------------------------
 * Read bottom-up: vs_case_schema (the top level) is at the end. Numbers are
 * checked against [min, max] with the ends given by .range; defaults marked
 * VS_DEFAULT_MODEL come from the model or solver code itself (see
 * vs_schema_default_number) so that they are never written down twice. */

static const char *const wall_types[] = {"linear", "tube_law", NULL};
static const char *const boundary_types[] = {"pressure", "flow", "resistance",
                                             NULL};
/* In vs_linsol_kind order: the choice index is stored as the option. */
static const char *const linear_solvers[] = {"auto", "dense", "klu", NULL};
_Static_assert(VS_LINSOL_AUTO == 0 && VS_LINSOL_DENSE == 1 &&
                   VS_LINSOL_KLU == 2,
               "linear_solvers[] must follow vs_linsol_kind");
static const char *const waveform_types[] = {"table", "sine", NULL};

const vs_schema_key vs_waveform_schema[] = {
    {.key = "type", .type = VS_ST_ENUM, .required = 1, .choices = waveform_types,
     .discriminator = 1,
     .desc = "table: piecewise linear through knots; sine: mean + amplitude "
             "sin(2 pi (t - phase_s) / period_s)"},
    {.key = "times_s", .type = VS_ST_NUMBER_LIST, .unit = "s", .required = 1,
     .only = "table", .range = VS_RANGE_CC, .min = 0, .max = 1e6,
     .min_items = 1, .desc = "knot times, strictly increasing"},
    {.key = "values", .type = VS_ST_NUMBER_LIST, .required = 1,
     .only = "table", .inherit_range = 1, .min_items = 1,
     .desc = "value at each knot (as many as times_s), in the key's unit and "
             "range"},
    {.key = "periodic", .type = VS_ST_BOOL, .dflt = VS_DEFAULT_VALUE,
     .def_number = 0, .only = "table",
     .desc = "repeat with period times_s[last] - times_s[0] (needs >= 2 "
             "knots); otherwise held at the end values"},
    {.key = "mean", .type = VS_ST_NUMBER, .required = 1, .only = "sine",
     .inherit_range = 1,
     .desc = "mean value, in the key's unit; mean +- abs(amplitude) must lie "
             "in the key's range"},
    {.key = "amplitude", .type = VS_ST_NUMBER, .required = 1, .only = "sine",
     .range = VS_RANGE_ANY, .desc = "amplitude, in the key's unit"},
    {.key = "period_s", .type = VS_ST_NUMBER, .unit = "s", .required = 1,
     .only = "sine", .range = VS_RANGE_OC, .min = 0, .max = 1e6,
     .desc = "period"},
    {.key = "phase_s", .type = VS_ST_NUMBER, .unit = "s",
     .dflt = VS_DEFAULT_VALUE, .def_number = 0, .only = "sine",
     .range = VS_RANGE_CC, .min = -1e6, .max = 1e6,
     .desc = "time shift: the sine starts rising at t = phase_s"},
    {0}};

static const vs_schema_key blood_keys[] = {
    {.key = "density_g_cm3", .type = VS_ST_NUMBER, .unit = "g/cm^3",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_BLOOD_DENSITY_G_CM3,
     .range = VS_RANGE_CC, .min = 0.5, .max = 2, .desc = "blood density"},
    {.key = "viscosity_mpa_s", .type = VS_ST_NUMBER, .unit = "mPa s",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_BLOOD_VISCOSITY_MPA_S,
     .range = VS_RANGE_CC, .min = 0.5, .max = 20,
     .desc = "blood dynamic viscosity"},
    {0}};

static const vs_schema_key posture_keys[] = {
    {.key = "tilt_deg", .type = VS_ST_WAVEFORM, .unit = "deg",
     .dflt = VS_DEFAULT_VALUE, .def_number = 90, .range = VS_RANGE_CC,
     .min = -90, .max = 90,
     .desc = "body angle from horizontal: 90 upright, 0 supine, negative "
             "head down"},
    {0}};

static const vs_schema_key solver_keys[] = {
    {.key = "t_end_s", .type = VS_ST_NUMBER, .unit = "s",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_T_END,
     .range = VS_RANGE_OC, .min = 0, .max = 1e6,
     .desc = "end of the simulation (it starts at t = 0)"},
    {.key = "output_dt_s", .type = VS_ST_NUMBER, .unit = "s",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_OUTPUT_DT,
     .range = VS_RANGE_OC, .min = 0, .max = 1e4, .at_most = "t_end_s",
     .desc = "spacing of the output samples"},
    {.key = "rtol", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_RTOL,
     .range = VS_RANGE_CC, .min = 1e-12, .max = 1e-2,
     .desc = "CVODE relative tolerance"},
    {.key = "atol_volume_ml", .type = VS_ST_NUMBER, .unit = "mL",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_ATOL_VOLUME,
     .range = VS_RANGE_CC, .min = 1e-14, .max = 1,
     .desc = "CVODE absolute tolerance on volumes"},
    {.key = "atol_flow_ml_s", .type = VS_ST_NUMBER, .unit = "mL/s",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_ATOL_FLOW,
     .range = VS_RANGE_CC, .min = 1e-14, .max = 1,
     .desc = "CVODE absolute tolerance on flows"},
    {.key = "atol_valve", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_ATOL_VALVE,
     .range = VS_RANGE_CC, .min = 1e-14, .max = 0.1,
     .desc = "CVODE absolute tolerance on valve openings"},
    {.key = "max_step_s", .type = VS_ST_NUMBER, .unit = "s",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_MAX_STEP,
     .range = VS_RANGE_CC, .min = 0, .max = 1e4,
     .desc = "largest step (0: no limit); keep it below the shortest pulse "
             "of the forcing"},
    {.key = "initial_step_s", .type = VS_ST_NUMBER, .unit = "s",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_INITIAL_STEP,
     .range = VS_RANGE_CC, .min = 0, .max = 1e3,
     .desc = "first step (0: CVODE estimates it)"},
    {.key = "max_order", .type = VS_ST_INTEGER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_MAX_ORDER,
     .range = VS_RANGE_CC, .min = 1, .max = 5,
     .desc = "highest BDF order"},
    {.key = "stability_limit_detection", .type = VS_ST_BOOL,
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_STAB_LIM_DET,
     .desc = "CVODE lowers the BDF order where orders 3 to 5 turn unstable "
             "(on by default for the leg)"},
    {.key = "max_steps", .type = VS_ST_INTEGER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_MAX_STEPS,
     .range = VS_RANGE_CC, .min = 10, .max = 1e9,
     .desc = "steps allowed between two output samples"},
    {.key = "linear_solver", .type = VS_ST_ENUM, .dflt = VS_DEFAULT_MODEL,
     .bind = VS_BIND_SOLVER_LINEAR_SOLVER, .choices = linear_solvers,
     .desc = "Newton linear solver: dense LU, sparse KLU, or auto (dense up "
             "to dense_max_states states)"},
    {.key = "dense_max_states", .type = VS_ST_INTEGER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_DENSE_MAX_STATES,
     .range = VS_RANGE_CC, .min = 1, .max = 1e7,
     .desc = "auto uses the dense solver up to this many states"},
    {.key = "jac_eval_steps", .type = VS_ST_INTEGER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_JAC_EVAL_STEPS,
     .range = VS_RANGE_CC, .min = 0, .max = 1e6,
     .desc = "most steps between two Jacobian evaluations (0: automatic, "
             "10 with valves, CVODE's 51 without)"},
    {.key = "nonlin_conv_coef", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_SOLVER_NONLIN_CONV_COEF,
     .range = VS_RANGE_CC, .min = 0, .max = 1,
     .desc = "safety factor of the Newton iteration's convergence test (0: "
             "CVODE's 0.1; leg runs 0.01)"},
    {0}};

static const vs_schema_key wall_keys[] = {
    {.key = "type", .type = VS_ST_ENUM, .required = 1, .choices = wall_types,
     .discriminator = 1,
     .desc = "wall law: linear compliance, or Shapiro's collapsible tube law"},
    {.key = "compliance_ml_mmhg", .type = VS_ST_NUMBER, .unit = "mL/mmHg",
     .required = 1, .only = "linear", .range = VS_RANGE_OC, .min = 0,
     .max = 1e5, .desc = "compliance C: p_tm = (V - V0) / C"},
    {.key = "v0_ml", .type = VS_ST_NUMBER, .unit = "mL",
     .dflt = VS_DEFAULT_VALUE, .def_number = 0, .only = "linear",
     .range = VS_RANGE_CC, .min = 0, .max = 1e6,
     .desc = "unstressed volume V0"},
    {.key = "k_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg", .required = 1,
     .only = "tube_law", .range = VS_RANGE_OC, .min = 0, .max = 1e5,
     .desc = "tube-law stiffness K: p_tm = K (alpha^m - alpha^n)"},
    {.key = "diameter_mm", .type = VS_ST_NUMBER, .unit = "mm", .required = 1,
     .only = "tube_law", .range = VS_RANGE_OC, .min = 0, .max = 200,
     .desc = "reference diameter (A0 = pi D^2 / 4 at p_tm = 0)"},
    {.key = "length_cm", .type = VS_ST_NUMBER, .unit = "cm", .required = 1,
     .only = "tube_law", .range = VS_RANGE_OC, .min = 0, .max = 1000,
     .desc = "segment length (reference volume A0 l)"},
    {.key = "m", .type = VS_ST_NUMBER, .unit = "1", .dflt = VS_DEFAULT_MODEL,
     .bind = VS_BIND_WALL_M, .only = "tube_law", .range = VS_RANGE_CC,
     .min = 1, .max = 50, .desc = "tube-law distension exponent"},
    {.key = "n", .type = VS_ST_NUMBER, .unit = "1", .dflt = VS_DEFAULT_MODEL,
     .bind = VS_BIND_WALL_N, .only = "tube_law", .range = VS_RANGE_CC,
     .min = -20, .max = -0.01, .desc = "tube-law collapse exponent"},
    {0}};

static const vs_schema_key compartment_keys[] = {
    {.key = "name", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "unique among compartments and boundaries"},
    {.key = "height_cm", .type = VS_ST_NUMBER, .unit = "cm",
     .dflt = VS_DEFAULT_VALUE, .def_number = 0, .range = VS_RANGE_CC,
     .min = -500, .max = 500,
     .desc = "height above the floor when upright (hydrostatics)"},
    {.key = "p_init_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg",
     .dflt = VS_DEFAULT_VALUE, .def_number = 0, .range = VS_RANGE_CC,
     .min = -100, .max = 1000,
     .desc = "initial pressure (absolute: external + transmural)"},
    {.key = "p_ext_mmhg", .type = VS_ST_WAVEFORM, .unit = "mmHg",
     .dflt = VS_DEFAULT_VALUE, .def_number = 0, .range = VS_RANGE_CC,
     .min = -100, .max = 1000,
     .desc = "external pressure: tissue, muscle pump, stocking"},
    {.key = "wall", .type = VS_ST_MAPPING, .required = 1, .sub = wall_keys,
     .desc = "pressure-volume law of the wall"},
    {0}};

static const vs_schema_key boundary_keys[] = {
    {.key = "name", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "unique among compartments, boundaries and links"},
    {.key = "type", .type = VS_ST_ENUM, .required = 1,
     .choices = boundary_types, .discriminator = 1,
     .desc = "pressure: a node at a prescribed pressure; flow: a prescribed "
             "inflow into a compartment; resistance: a compartment drained "
             "through a resistance to a prescribed pressure"},
    {.key = "compartment", .type = VS_ST_STRING, .required = 1,
     .only = "flow resistance", .min_items = 1,
     .desc = "the compartment the boundary acts on"},
    {.key = "pressure_mmhg", .type = VS_ST_WAVEFORM, .unit = "mmHg",
     .dflt = VS_DEFAULT_VALUE, .def_number = 0, .only = "pressure resistance",
     .range = VS_RANGE_CC, .min = -100, .max = 1000,
     .desc = "prescribed pressure"},
    {.key = "height_cm", .type = VS_ST_NUMBER, .unit = "cm",
     .dflt = VS_DEFAULT_VALUE, .def_number = 0, .only = "pressure resistance",
     .range = VS_RANGE_CC, .min = -500, .max = 500,
     .desc = "height of the pressure node"},
    {.key = "flow_ml_s", .type = VS_ST_WAVEFORM, .unit = "mL/s",
     .required = 1, .only = "flow", .range = VS_RANGE_CC, .min = -1e5,
     .max = 1e5, .desc = "flow into the compartment (negative: out of it)"},
    {.key = "resistance_mmhg_s_ml", .type = VS_ST_NUMBER,
     .unit = "mmHg s/mL", .required = 1, .only = "resistance",
     .range = VS_RANGE_OC, .min = 0, .max = 1e7,
     .desc = "outflow resistance from the compartment to the pressure"},
    {0}};

static const vs_schema_key stenosis_keys[] = {
    {.key = "area_ratio", .type = VS_ST_NUMBER, .unit = "1", .required = 1,
     .range = VS_RANGE_OC, .min = 0, .max = 1,
     .desc = "lumen left, As/A0 (0.2 = 80 % area loss)"},
    {.key = "length_cm", .type = VS_ST_NUMBER, .unit = "cm", .required = 1,
     .range = VS_RANGE_OC, .min = 0, .max = 1000,
     .desc = "stenosis length Ls"},
    {.key = "kt", .type = VS_ST_NUMBER, .unit = "1", .dflt = VS_DEFAULT_MODEL,
     .bind = VS_BIND_STENOSIS_KT, .range = VS_RANGE_CC, .min = 0, .max = 100,
     .desc = "Young-Tsai expansion-loss coefficient"},
    {.key = "ku", .type = VS_ST_NUMBER, .unit = "1", .dflt = VS_DEFAULT_MODEL,
     .bind = VS_BIND_STENOSIS_KU, .range = VS_RANGE_CC, .min = 0, .max = 100,
     .desc = "Young-Tsai inertance coefficient"},
    {.key = "la_ls", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_STENOSIS_LA_LS,
     .range = VS_RANGE_CC, .min = 0, .max = 100,
     .desc = "La = la_ls Ls + la_ds Ds: weight of the stenosis length"},
    {.key = "la_ds", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_STENOSIS_LA_DS,
     .range = VS_RANGE_CC, .min = 0, .max = 100,
     .desc = "La = la_ls Ls + la_ds Ds: weight of the stenosis diameter"},
    {0}};

static const vs_schema_key valve_keys[] = {
    {.key = "kvo_per_mmhg_s", .type = VS_ST_NUMBER, .unit = "1/(mmHg s)",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_KVO,
     .range = VS_RANGE_OC, .min = 0, .max = 1e4,
     .desc = "opening rate Kvo (no venous value is public: calibrated)"},
    {.key = "kvc_per_mmhg_s", .type = VS_ST_NUMBER, .unit = "1/(mmHg s)",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_KVC,
     .range = VS_RANGE_OC, .min = 0, .max = 1e4,
     .desc = "closing rate Kvc (sets how fast a competent valve shuts)"},
    {.key = "dp_open_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_DP_OPEN,
     .range = VS_RANGE_CC, .min = -50, .max = 50,
     .desc = "forward pressure difference above which the valve opens"},
    {.key = "dp_close_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_DP_CLOSE,
     .range = VS_RANGE_CC, .min = -50, .max = 50,
     .desc = "forward pressure difference below which the valve closes"},
    {.key = "m_st", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_M_ST,
     .range = VS_RANGE_OC, .min = 0, .max = 1,
     .desc = "Mst: open area / annulus area (< 1: stenotic valve)"},
    {.key = "m_rg", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_M_RG,
     .range = VS_RANGE_CO, .min = 0, .max = 1,
     .desc = "Mrg: shut area / annulus area (0 competent, > 0 reflux)"},
    {.key = "leak_floor", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_LEAK_FLOOR,
     .range = VS_RANGE_OO, .min = 0, .max = 0.01,
     .desc = "smallest shut area / annulus area (keeps a competent valve's "
             "loss finite)"},
    {.key = "l_eff_cm", .type = VS_ST_NUMBER, .unit = "cm",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_L_EFF,
     .range = VS_RANGE_CC, .min = 0, .max = 100,
     .desc = "effective length of the valve's inertance rho l_eff / A_eff"},
    {.key = "smoothing_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_SMOOTHING,
     .range = VS_RANGE_OC, .min = 0, .max = 10,
     .desc = "width of the softplus that smooths Mynard's opening ramps"},
    {.key = "station_length_cm", .type = VS_ST_NUMBER, .unit = "cm",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_VALVE_STATION,
     .range = VS_RANGE_CC, .min = 0, .max = 1000,
     .desc = "length of vein the valve stands for; its closing drive counts "
             "that length's viscous drop (0: the link's own length)"},
    {0}};

static const vs_schema_key link_keys[] = {
    {.key = "name", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "unique among links and boundaries"},
    {.key = "from", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "upstream node (compartment or pressure boundary); Q > 0 flows "
             "from -> to"},
    {.key = "to", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "downstream node"},
    {.key = "resistance_mmhg_s_ml", .type = VS_ST_WAVEFORM,
     .unit = "mmHg s/mL", .dflt = VS_DEFAULT_VALUE, .def_number = 0,
     .range = VS_RANGE_CC, .min = 0, .max = 1e7,
     .desc = "given resistance, added to the geometric ones; may vary in "
             "time (a microvascular bed dilating in exercise)"},
    {.key = "inertance_mmhg_s2_ml", .type = VS_ST_NUMBER,
     .unit = "mmHg s^2/mL", .dflt = VS_DEFAULT_VALUE, .def_number = 0,
     .range = VS_RANGE_CC, .min = 0, .max = 1e7,
     .desc = "given inertance (> 0 makes the flow a state)"},
    {.key = "diameter_mm", .type = VS_ST_NUMBER, .unit = "mm",
     .range = VS_RANGE_OC, .min = 0, .max = 200,
     .desc = "free lumen diameter D0 (geometry, with length_cm)"},
    {.key = "length_cm", .type = VS_ST_NUMBER, .unit = "cm",
     .range = VS_RANGE_OC, .min = 0, .max = 1000,
     .desc = "segment length (geometry, with diameter_mm)"},
    {.key = "poiseuille", .type = VS_ST_BOOL, .dflt = VS_DEFAULT_NEEDS_MET,
     .needs = "diameter_mm length_cm",
     .desc = "add the Poiseuille resistance 8 pi mu l / A^2 of the geometry"},
    {.key = "geometric_inertance", .type = VS_ST_BOOL,
     .dflt = VS_DEFAULT_NEEDS_MET, .needs = "diameter_mm length_cm",
     .desc = "add the inertance rho l / A0 of the geometry"},
    {.key = "collapsible", .type = VS_ST_BOOL, .dflt = VS_DEFAULT_VALUE,
     .def_number = 0, .needs = "poiseuille",
     .desc = "Poiseuille resistance follows the area of tube-law ends"},
    {.key = "stenosis", .type = VS_ST_MAPPING, .needs = "diameter_mm",
     .sub = stenosis_keys,
     .desc = "a Young-Tsai stenosis or clot in the link"},
    {.key = "valve", .type = VS_ST_MAPPING, .needs = "diameter_mm",
     .sub = valve_keys,
     .desc = "a venous valve (smooth Mynard law) whose annulus is the link's "
             "diameter; forward is from -> to"},
    {0}};

/* A sweep names the inputs it varies by their path in these tables; sweep.c
 * checks each value against that input's own key (type, unit, range). */
static const char *const sweep_scales[] = {"linear", "log", NULL};

static const vs_schema_key sweep_list_keys[] = {
    {.key = "input", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "path of a numeric key, e.g. `links[l05].stenosis.area_ratio`: "
             "list items by name or index, `[*]` for every item it applies to"},
    {.key = "values", .type = VS_ST_NUMBER_LIST, .required = 1,
     .range = VS_RANGE_ANY, .min_items = 1,
     .desc = "the values it takes, in the input's unit and range"},
    {.key = "unit", .type = VS_ST_STRING, .min_items = 1,
     .desc = "the input's unit; if given, it must be the key's"},
    {.key = "column", .type = VS_ST_STRING, .min_items = 1,
     .desc = "its /summary column (default: the path)"},
    {0}};

static const vs_schema_key sweep_random_input_keys[] = {
    {.key = "input", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "path of a real-valued key, as in grid"},
    {.key = "min", .type = VS_ST_NUMBER, .required = 1, .range = VS_RANGE_ANY,
     .desc = "low end of the range sampled, in the input's unit and range"},
    {.key = "max", .type = VS_ST_NUMBER, .required = 1, .range = VS_RANGE_ANY,
     .desc = "high end of the range sampled (above min)"},
    {.key = "scale", .type = VS_ST_ENUM, .dflt = VS_DEFAULT_VALUE,
     .def_text = "linear", .choices = sweep_scales,
     .desc = "linear: uniform in [min, max); log: uniform in log (min > 0)"},
    {.key = "unit", .type = VS_ST_STRING, .min_items = 1,
     .desc = "the input's unit; if given, it must be the key's"},
    {.key = "column", .type = VS_ST_STRING, .min_items = 1,
     .desc = "its /summary column (default: the path)"},
    {0}};

static const vs_schema_key sweep_random_keys[] = {
    {.key = "samples", .type = VS_ST_INTEGER, .unit = "1", .required = 1,
     .range = VS_RANGE_CC, .min = 1, .max = 1e9,
     .desc = "number of samples (runs)"},
    {.key = "seed", .type = VS_ST_INTEGER, .unit = "1",
     .dflt = VS_DEFAULT_VALUE, .def_number = 1, .range = VS_RANGE_CC,
     .min = 0, .max = 9e15,
     .desc = "seed of the generator: one seed, one set of samples"},
    {.key = "inputs", .type = VS_ST_LIST, .required = 1, .min_items = 1,
     .sub = sweep_random_input_keys,
     .desc = "inputs sampled together by Latin hypercube: each range cut "
             "into `samples` strata, one sample in each"},
    {0}};

static const vs_schema_key sweep_keys[] = {
    {.key = "grid", .type = VS_ST_LIST, .min_items = 1, .sub = sweep_list_keys,
     .desc = "every combination of the lists (the first varies slowest)"},
    {.key = "zip", .type = VS_ST_LIST, .min_items = 1, .sub = sweep_list_keys,
     .desc = "lists of one length side by side: run k takes the k-th value "
             "of each"},
    {.key = "random", .type = VS_ST_MAPPING, .sub = sweep_random_keys,
     .desc = "a Latin hypercube sample over ranges"},
    {.key = "max_runs", .type = VS_ST_INTEGER, .unit = "1",
     .dflt = VS_DEFAULT_VALUE, .def_number = 10000, .range = VS_RANGE_CC,
     .min = 1, .max = 1e9,
     .desc = "a sweep expanding to more runs than this is an error"},
    {0}};

/* ---- the leg (leg.h) ------------------------------------------------------
 * Scalars bind to fields of vs_leg and vs_leg_protocol, whose defaults are
 * the model's own (models/leg_anatomy.c, solver/leg.c). Segments, valves,
 * connections and beds are changed by name; a key left out keeps the
 * default anatomy's value. */
#define LEG_NUM(k, u, lo_kind, lo, hi, f, d)                                  \
  {.key = k, .type = VS_ST_NUMBER, .unit = u, .dflt = VS_DEFAULT_MODEL,      \
   .bind = VS_BIND_LEG, .field = offsetof(vs_leg, f), .range = lo_kind,      \
   .min = lo, .max = hi, .desc = d}
#define PROTO_NUM(k, u, lo_kind, lo, hi, f, d)                                \
  {.key = k, .type = VS_ST_NUMBER, .unit = u, .dflt = VS_DEFAULT_MODEL,      \
   .bind = VS_BIND_PROTOCOL, .field = offsetof(vs_leg_protocol, f),          \
   .range = lo_kind, .min = lo, .max = hi, .desc = d}

static const vs_schema_key leg_segment_keys[] = {
    {.key = "name", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "a segment of the default leg (leg.h), e.g. femoral"},
    {.key = "diameter_mm", .type = VS_ST_NUMBER, .unit = "mm",
     .range = VS_RANGE_OC, .min = 0, .max = 60,
     .desc = "each vessel's reference diameter"},
    {.key = "length_cm", .type = VS_ST_NUMBER, .unit = "cm",
     .range = VS_RANGE_OC, .min = 0, .max = 200, .desc = "segment length"},
    {.key = "k_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg",
     .range = VS_RANGE_OC, .min = 0, .max = 1e4,
     .desc = "tube-law distension stiffness Kd"},
    {.key = "k_collapse_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg",
     .range = VS_RANGE_OC, .min = 0, .max = 1e4,
     .desc = "tube-law collapse stiffness Kc"},
    {.key = "pump_fraction", .type = VS_ST_NUMBER, .unit = "1",
     .range = VS_RANGE_CC, .min = 0, .max = 1,
     .desc = "share of the calf contraction pressure the segment feels"},
    {0}};

static const vs_schema_key leg_valve_keys[] = {
    {.key = "name", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "a valve of the default leg, e.g. femoral_valve"},
    {.key = "kvo_per_mmhg_s", .type = VS_ST_NUMBER, .unit = "1/(mmHg s)",
     .range = VS_RANGE_OC, .min = 0, .max = 1e4, .desc = "opening rate Kvo"},
    {.key = "kvc_per_mmhg_s", .type = VS_ST_NUMBER, .unit = "1/(mmHg s)",
     .range = VS_RANGE_OC, .min = 0, .max = 1e4, .desc = "closing rate Kvc"},
    {.key = "m_st", .type = VS_ST_NUMBER, .unit = "1", .range = VS_RANGE_OC,
     .min = 0, .max = 1, .desc = "Mst: open area / annulus area"},
    {.key = "m_rg", .type = VS_ST_NUMBER, .unit = "1", .range = VS_RANGE_CO,
     .min = 0, .max = 1,
     .desc = "Mrg: shut area / annulus area (0 competent; 0.2 or more "
             "refluxes)"},
    {0}};

static const vs_schema_key leg_connection_keys[] = {
    {.key = "name", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "a perforator, communication or collateral of the default leg"},
    {.key = "diameter_mm", .type = VS_ST_NUMBER, .unit = "mm",
     .range = VS_RANGE_OC, .min = 0, .max = 60,
     .desc = "each vessel's diameter (perforators)"},
    {.key = "resistance_mmhg_s_ml", .type = VS_ST_NUMBER,
     .unit = "mmHg s/mL", .range = VS_RANGE_OC, .min = 0, .max = 1e7,
     .desc = "resistance of a connection without geometry (the pelvic "
             "collateral)"},
    {0}};

static const vs_schema_key leg_bed_keys[] = {
    {.key = "name", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "a microvascular bed of the default leg, e.g. soleus"},
    {.key = "rest_flow_ml_s", .type = VS_ST_NUMBER, .unit = "mL/s",
     .range = VS_RANGE_OC, .min = 0, .max = 100,
     .desc = "resting flow lying"},
    {0}};

/* Order as vs_lesion_kind and vs_treatment_kind (leg.h), vs_stent_type
 * (treatment.h): the reader takes the enum index as the C value. */
static const char *const lesion_kinds[] = {"stenosis", "clot", "compression",
                                           "filter", NULL};
static const char *const treatment_kinds[] = {"clot_removal", "balloon",
                                              "stent", "stockings", "palma",
                                              NULL};
static const char *const stent_types[] = {"nitinol", "braided", NULL};

static const vs_schema_key leg_lesion_keys[] = {
    {.key = "segment", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "the segment narrowed where it drains, e.g. common_iliac"},
    {.key = "kind", .type = VS_ST_ENUM, .dflt = VS_DEFAULT_VALUE,
     .def_text = "stenosis", .choices = lesion_kinds, .discriminator = 1,
     .desc = "stenosis (residual post-thrombotic), clot (acute), "
             "compression (May-Thurner), filter (IVC filter)"},
    {.key = "area_ratio", .type = VS_ST_NUMBER, .unit = "1", .required = 1,
     .only = "stenosis compression", .range = VS_RANGE_OC, .min = 0, .max = 1,
     .desc = "lumen left, As/A0 (0.3 = 70 % area loss)"},
    {.key = "occupied_fraction", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_VALUE, .def_number = 0, .only = "clot filter",
     .range = VS_RANGE_CC, .min = 0, .max = 1,
     .desc = "share of the lumen filled by thrombus (1: total occlusion, "
             "only collaterals carry flow)"},
    {.key = "length_cm", .type = VS_ST_NUMBER, .unit = "cm", .required = 1,
     .range = VS_RANGE_OC, .min = 0, .max = 100,
     .desc = "lesion length (at most the segment's)"},
    {.key = "wall_stiffening", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_LEG_SCAR_WALL_STIFFENING_DEFAULT,
     .only = "stenosis", .range = VS_RANGE_CC, .min = 1, .max = 1000,
     .desc = "multiplies the segment's tube-law stiffness (a scarred wall "
             "collapses less)"},
    {.key = "external_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg",
     .dflt = VS_DEFAULT_VALUE, .def_number = 0, .only = "compression",
     .range = VS_RANGE_CC, .min = 0, .max = 300,
     .desc = "extrinsic pressure on the segment (the artery over the vein)"},
    {.key = "scar_stiffness_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_LESION_STIFFNESS_DEFAULT_MMHG,
     .range = VS_RANGE_CC, .min = VS_LESION_STIFFNESS_MIN_MMHG,
     .max = VS_LESION_STIFFNESS_MAX_MMHG,
     .desc = "recoil stiffness against a stent, per unit strain (no "
             "public value)"},
    {0}};

static const vs_schema_key treatment_keys[] = {
    {.key = "kind", .type = VS_ST_ENUM, .required = 1,
     .choices = treatment_kinds, .discriminator = 1,
     .desc = "clot_removal, balloon, stent, stockings or palma"},
    {.key = "segment", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .only = "clot_removal balloon stent",
     .desc = "the lesion's segment, e.g. common_iliac"},
    {.key = "residual_fraction", .type = VS_ST_NUMBER, .unit = "1",
     .required = 1, .only = "clot_removal", .range = VS_RANGE_CC, .min = 0,
     .max = 1, .desc = "share of the clot left by lysis or thrombectomy"},
    {.key = "diameter_mm", .type = VS_ST_NUMBER, .unit = "mm", .required = 1,
     .only = "balloon stent", .range = VS_RANGE_OC, .min = 0, .max = 40,
     .desc = "balloon diameter; stent nominal diameter (products 10 to "
             "24 mm)"},
    {.key = "graft_diameter_mm", .type = VS_ST_NUMBER, .unit = "mm",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_LEG_PALMA_DIAMETER_DEFAULT_MM,
     .only = "palma", .range = VS_RANGE_OC, .min = 0, .max = 15,
     .desc = "crossover graft diameter (a saphenous vein)"},
    {.key = "length_cm", .type = VS_ST_NUMBER, .unit = "cm", .required = 1,
     .only = "stent", .range = VS_RANGE_OC, .min = 0, .max = 100,
     .desc = "stent length (covers the lesion, at most the segment)"},
    {.key = "graft_length_cm", .type = VS_ST_NUMBER, .unit = "cm",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_LEG_PALMA_LENGTH_DEFAULT_CM,
     .only = "palma", .range = VS_RANGE_OC, .min = 0, .max = 100,
     .desc = "crossover graft length, groin to groin"},
    {.key = "recoil", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_BALLOON_RECOIL_DEFAULT,
     .only = "balloon", .range = VS_RANGE_CC, .min = 0, .max = 1,
     .desc = "elastic recoil: area after = balloon area x (1 - recoil); "
             "no public iliac value, sweep 0.2 to 0.5"},
    {.key = "type", .type = VS_ST_ENUM, .dflt = VS_DEFAULT_VALUE,
     .def_text = "nitinol", .choices = stent_types, .only = "stent",
     .desc = "laser-cut nitinol (flat force) or braided (Wallstent-type, "
             "presses harder compressed)"},
    {.key = "radial_force_n_per_cm", .type = VS_ST_NUMBER, .unit = "N/cm",
     .only = "stent", .range = VS_RANGE_CC,
     .min = VS_STENT_RADIAL_FORCE_MIN_N_PER_CM,
     .max = VS_STENT_RADIAL_FORCE_MAX_N_PER_CM,
     .desc = "radial force per cm of length at 75 % of nominal (default "
             "per type: treatment.h)"},
    {.key = "adjacent_narrowing", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_STENT_ADJACENT_NARROWING_DEFAULT,
     .only = "stent", .range = VS_RANGE_CC,
     .min = VS_STENT_ADJACENT_NARROWING_MIN,
     .max = VS_STENT_ADJACENT_NARROWING_MAX,
     .desc = "diameter narrowing of the vein draining into the stented one "
             "(Al-Hakim 2018: 0.217 +/- 0.158)"},
    {.key = "adjacent_length_cm", .type = VS_ST_NUMBER, .unit = "cm",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_LEG_ADJACENT_LENGTH_DEFAULT_CM,
     .only = "stent", .range = VS_RANGE_OC, .min = 0, .max = 20,
     .desc = "length of that narrowing"},
    {.key = "wall_stiffening", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_STENT_WALL_STIFFENING_DEFAULT,
     .only = "stent", .range = VS_RANGE_CC, .min = VS_STENT_WALL_STIFFENING_MIN,
     .max = VS_STENT_WALL_STIFFENING_MAX,
     .desc = "multiplies the stented compartments' stiffness (practically "
             "non-collapsible)"},
    {.key = "class", .type = VS_ST_INTEGER, .unit = "1",
     .dflt = VS_DEFAULT_VALUE, .def_number = 2, .only = "stockings",
     .range = VS_RANGE_CC, .min = 1, .max = 3,
     .desc = "compression class: ankle 18, 28 or 40 mmHg (treatment.h)"},
    {.key = "ankle_mmhg", .type = VS_ST_NUMBER, .unit = "mmHg",
     .only = "stockings", .range = VS_RANGE_CC, .min = 0, .max = 80,
     .desc = "ankle pressure (overrides the class's)"},
    {.key = "top_height_cm", .type = VS_ST_NUMBER, .unit = "cm",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_STOCKING_TOP_THIGH_CM,
     .only = "stockings", .range = VS_RANGE_OC, .min = 10, .max = 120,
     .desc = "top of the stocking, standing height (thigh 75, knee 45)"},
    {.key = "top_fraction", .type = VS_ST_NUMBER, .unit = "1",
     .dflt = VS_DEFAULT_VALUE, .def_number = VS_STOCKING_TOP_FRACTION_DEFAULT,
     .only = "stockings", .range = VS_RANGE_CC, .min = 0, .max = 1,
     .desc = "pressure at the top over the ankle's (graduated)"},
    {0}};

static const vs_schema_key arm_keys[] = {
    {.key = "name", .type = VS_ST_STRING, .required = 1, .min_items = 1,
     .desc = "arm name (letters, digits, _ . -), used in run names"},
    {.key = "description", .type = VS_ST_STRING,
     .desc = "what the arm does"},
    {.key = "treatments", .type = VS_ST_LIST, .required = 1, .min_items = 1,
     .sub = treatment_keys, .desc = "applied in order to the patient's leg"},
    {0}};

static const vs_schema_key leg_keys[] = {
    {.key = "compartments_per_segment", .type = VS_ST_INTEGER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_LEG_UNSIGNED,
     .field = offsetof(vs_leg, compartments_per_segment),
     .range = VS_RANGE_CC, .min = 1, .max = 64,
     .desc = "1D resolution: cells per stretch of a segment between its "
             "ends and junctions (the fitted mesh)"},
    LEG_NUM("wall_stiffness_scale", "1", VS_RANGE_OC, 0, 100,
            wall_stiffness_scale, "multiplies every segment's K"),
    LEG_NUM("arterial_pressure_mmhg", "mmHg", VS_RANGE_CC, 40, 200,
            arterial_pressure_mmhg, "mean arterial pressure at the heart"),
    LEG_NUM("heart_height_cm", "cm", VS_RANGE_CC, 50, 250, heart_height_cm,
            "standing height of the heart"),
    LEG_NUM("outlet_pressure_mmhg", "mmHg", VS_RANGE_CC, -10, 40,
            outlet_pressure_mmhg,
            "caval pressure at the hydrostatic indifference point"),
    LEG_NUM("outlet_height_cm", "cm", VS_RANGE_CC, 50, 250, outlet_height_cm,
            "standing height of that point"),
    LEG_NUM("abdominal_supine_mmhg", "mmHg", VS_RANGE_CC, 0, 60,
            abdominal_supine_mmhg, "intra-abdominal pressure lying"),
    LEG_NUM("abdominal_standing_mmhg", "mmHg", VS_RANGE_CC, 0, 80,
            abdominal_standing_mmhg,
            "intra-abdominal pressure standing, at abdominal_ref_height_cm"),
    LEG_NUM("abdominal_ref_height_cm", "cm", VS_RANGE_CC, 0, 250,
            abdominal_ref_height_cm, "where the standing value is taken"),
    LEG_NUM("contralateral_flow_ml_s", "mL/s", VS_RANGE_CC, 0, 100,
            contralateral_flow_ml_s, "the other leg and pelvis into the cava"),
    LEG_NUM("venous_pressure_rest_mmhg", "mmHg", VS_RANGE_CC, 0, 50,
            venous_pressure_rest_mmhg,
            "venular pressure the beds are sized for (lying)"),
    LEG_NUM("calf_tissue_supine_mmhg", "mmHg", VS_RANGE_CC, 0, 60,
            calf_tissue_supine_mmhg,
            "resting pressure inside the deep fascia, lying"),
    LEG_NUM("calf_tissue_standing_mmhg", "mmHg", VS_RANGE_CC, 0, 80,
            calf_tissue_standing_mmhg, "the same standing"),
    LEG_NUM("pump_pressure_mmhg", "mmHg", VS_RANGE_CC, 0, 400,
            pump_pressure_mmhg, "calf contraction pressure"),
    LEG_NUM("plantar_pressure_mmhg", "mmHg", VS_RANGE_CC, 0, 400,
            plantar_pressure_mmhg, "foot pump pressure"),
    LEG_NUM("pump_duty", "1", VS_RANGE_OO, 0, 1, pump_duty,
            "share of a cycle contracted"),
    LEG_NUM("pump_rise_s", "s", VS_RANGE_OC, 0, 1, pump_rise_s,
            "rise and fall time of a contraction"),
    LEG_NUM("exercise_flow_factor", "1", VS_RANGE_OC, 0, 20,
            exercise_flow_factor, "muscle-bed flow in exercise over rest"),
    LEG_NUM("standing_flow_ratio", "1", VS_RANGE_OC, 0, 2,
            standing_flow_ratio,
            "bed flow standing over lying (veno-arteriolar reflex)"),
    LEG_NUM("respiration_mmhg", "mmHg", VS_RANGE_CC, 0, 30, respiration_mmhg,
            "abdominal pressure swing with breathing (0: off)"),
    LEG_NUM("respiration_period_s", "s", VS_RANGE_OC, 0, 30,
            respiration_period_s, "breathing period"),
    {.key = "segments", .type = VS_ST_LIST, .dflt = VS_DEFAULT_EMPTY,
     .sub = leg_segment_keys, .desc = "changes to segments, by name"},
    {.key = "valves", .type = VS_ST_LIST, .dflt = VS_DEFAULT_EMPTY,
     .sub = leg_valve_keys, .desc = "changes to valves, by name"},
    {.key = "connections", .type = VS_ST_LIST, .dflt = VS_DEFAULT_EMPTY,
     .sub = leg_connection_keys,
     .desc = "changes to perforators and collaterals, by name"},
    {.key = "beds", .type = VS_ST_LIST, .dflt = VS_DEFAULT_EMPTY,
     .sub = leg_bed_keys, .desc = "changes to microvascular beds, by name"},
    {.key = "lesions", .type = VS_ST_LIST, .dflt = VS_DEFAULT_EMPTY,
     .sub = leg_lesion_keys,
     .desc = "lesions, one per segment (residual stenosis, clot, "
             "compression, IVC filter): a Young-Tsai stenosis where the "
             "segment drains"},
    {.key = "treatments", .type = VS_ST_LIST, .dflt = VS_DEFAULT_EMPTY,
     .sub = treatment_keys,
     .desc = "treatments applied to this leg, in order (arms add theirs "
             "after these)"},
    {0}};

static const vs_schema_key protocol_keys[] = {
    PROTO_NUM("supine_s", "s", VS_RANGE_OC, 0, 3600, supine_s, "lying at rest"),
    PROTO_NUM("exercise_s", "s", VS_RANGE_OC, 0, 3600, exercise_s,
              "lying, exercise inflow (gradient_exercise)"),
    PROTO_NUM("elevation_s", "s", VS_RANGE_OC, 0, 3600, elevation_s,
              "leg raised: the plethysmograph's empty baseline"),
    PROTO_NUM("elevation_deg", "deg", VS_RANGE_CC, -45, 0, elevation_deg,
              "body tilt that raises the leg"),
    PROTO_NUM("stand_up_s", "s", VS_RANGE_OC, 0, 60, stand_up_s,
              "time to stand up"),
    PROTO_NUM("standing_s", "s", VS_RANGE_OC, 0, 3600, standing_s,
              "standing still (filling; standing pressures)"),
    PROTO_NUM("tiptoe_refill_s", "s", VS_RANGE_OC, 0, 3600, tiptoe_refill_s,
              "standing after one tiptoe (ejection fraction)"),
    {.key = "walk_steps", .type = VS_ST_INTEGER, .unit = "1",
     .dflt = VS_DEFAULT_MODEL, .bind = VS_BIND_PROTOCOL_UNSIGNED,
     .field = offsetof(vs_leg_protocol, walk_steps), .range = VS_RANGE_CC,
     .min = 6, .max = 1000,
     .desc = "steps of the walk (AVP: mean over the last 5 cycles)"},
    PROTO_NUM("cadence_hz", "1/s", VS_RANGE_OC, 0.2, 3, cadence_hz,
              "calf contractions per second"),
    PROTO_NUM("recovery_s", "s", VS_RANGE_OC, 0, 3600, recovery_s,
              "standing after the walk (refill time)"),
    PROTO_NUM("cuff_mmhg", "mmHg", VS_RANGE_CC, 0, 300, cuff_mmhg,
              "calf cuff pressure before its release"),
    PROTO_NUM("cuff_hold_s", "s", VS_RANGE_OC, 0.6, 600, cuff_hold_s,
              "cuff inflated"),
    PROTO_NUM("cuff_release_s", "s", VS_RANGE_OC, 0, 10, cuff_release_s,
              "time to deflate the cuff"),
    PROTO_NUM("cuff_observe_s", "s", VS_RANGE_OC, 0, 600, cuff_observe_s,
              "watching for reflux after the release"),
    PROTO_NUM("valsalva_mmhg", "mmHg", VS_RANGE_CC, 0, 100, valsalva_mmhg,
              "strain added to abdomen and chest"),
    PROTO_NUM("valsalva_s", "s", VS_RANGE_OC, 0.6, 60, valsalva_s,
              "strain held"),
    PROTO_NUM("valsalva_observe_s", "s", VS_RANGE_OC, 0, 600,
              valsalva_observe_s, "after the strain"),
    PROTO_NUM("output_dt_s", "s", VS_RANGE_OC, 0, 0.1, output_dt_s,
              "output grid (fine enough to time reflux)"),
    {0}};

#undef LEG_NUM
#undef PROTO_NUM

const vs_schema_key vs_case_schema[] = {
    {.key = "name", .type = VS_ST_STRING, .dflt = VS_DEFAULT_STEM,
     .min_items = 1, .desc = "case name, used to name runs and results"},
    {.key = "description", .type = VS_ST_STRING, .required = 1,
     .min_items = 1, .desc = "what the case shows and what to expect"},
    {.key = "blood", .type = VS_ST_MAPPING, .dflt = VS_DEFAULT_EMPTY,
     .sub = blood_keys, .desc = "blood properties"},
    {.key = "posture", .type = VS_ST_MAPPING, .dflt = VS_DEFAULT_EMPTY,
     .sub = posture_keys, .desc = "body position"},
    {.key = "solver", .type = VS_ST_MAPPING, .dflt = VS_DEFAULT_EMPTY,
     .sub = solver_keys, .desc = "integration settings (CVODE, BDF)"},
    {.key = "compartments", .type = VS_ST_LIST, .min_items = 1,
     .sub = compartment_keys,
     .desc = "volumes of blood behind a wall (a network case: required "
             "unless the case is a leg)"},
    {.key = "boundaries", .type = VS_ST_LIST, .dflt = VS_DEFAULT_EMPTY,
     .sub = boundary_keys,
     .desc = "prescribed pressures and flows at the network's edges"},
    {.key = "links", .type = VS_ST_LIST, .dflt = VS_DEFAULT_EMPTY,
     .sub = link_keys, .desc = "vessels and resistances joining two nodes"},
    {.key = "leg", .type = VS_ST_MAPPING, .sub = leg_keys,
     .desc = "the default leg (leg.h) through the clinical protocol, "
             "instead of compartments, boundaries and links"},
    {.key = "protocol", .type = VS_ST_MAPPING, .dflt = VS_DEFAULT_EMPTY,
     .sub = protocol_keys,
     .desc = "the leg's clinical protocol (used with leg)"},
    {.key = "arms", .type = VS_ST_LIST, .sub = arm_keys,
     .desc = "treatment arms of this patient (with leg): each is a run "
             "besides the untreated one, and /summary gets offload_<metric> "
             "= treated minus untreated"},
    {.key = "sweep", .type = VS_ST_MAPPING, .sub = sweep_keys,
     .desc = "many runs of this case: grid x zip x random (the last varies "
             "fastest); without it, one run"},
    {0}};

/* ---- queries -------------------------------------------------------------- */

size_t vs_schema_count(const vs_schema_key *table) {
  size_t n = 0;
  while (table && table[n].key) ++n;
  return n;
}

int vs_schema_find(const vs_schema_key *table, const char *key) {
  for (size_t i = 0; table && table[i].key; ++i)
    if (strcmp(table[i].key, key) == 0) return (int)i;
  return -1;
}

int vs_schema_discriminator(const vs_schema_key *table) {
  for (size_t i = 0; table && table[i].key; ++i)
    if (table[i].discriminator) return (int)i;
  return -1;
}

/* 1 if `word` is one of the space-separated words of `list`. */
static int word_in(const char *list, const char *word) {
  size_t n = strlen(word);
  for (const char *p = list; *p;) {
    while (*p == ' ') ++p;
    size_t m = strcspn(p, " ");
    if (m == n && m > 0 && strncmp(p, word, n) == 0) return 1;
    p += m;
  }
  return 0;
}

int vs_schema_applies(const vs_schema_key *k, const char *variant) {
  if (!k->only) return 1;
  return variant && word_in(k->only, variant);
}

int vs_schema_choice(const vs_schema_key *k, const char *value) {
  for (size_t i = 0; k->choices && k->choices[i]; ++i)
    if (strcmp(k->choices[i], value) == 0) return (int)i;
  return -1;
}

int vs_schema_in_range(const vs_schema_key *k, double x) {
  if (!isfinite(x)) return 0;
  switch (k->range) {
  case VS_RANGE_CC:
    return x >= k->min && x <= k->max;
  case VS_RANGE_OC:
    return x > k->min && x <= k->max;
  case VS_RANGE_CO:
    return x >= k->min && x < k->max;
  case VS_RANGE_OO:
    return x > k->min && x < k->max;
  case VS_RANGE_ANY:
    return 1;
  }
  return 0;
}

/* snprintf follows LC_NUMERIC; case files and docs always use '.'. */
static void fix_decimal_point(char *s) {
  const char *dp = localeconv()->decimal_point;
  if (!dp || (dp[0] == '.' && dp[1] == '\0') || dp[1] != '\0') return;
  for (; *s; ++s)
    if (*s == dp[0]) *s = '.';
}

void vs_schema_format_number(double x, char *buf, size_t len) {
  if (!buf || len == 0) return;
  if (!isfinite(x)) {
    snprintf(buf, len, "%s", isnan(x) ? ".nan" : x > 0 ? ".inf" : "-.inf");
    return;
  }
  /* Whole numbers below 10^4 in full; otherwise the shortest %g that reads
   * back exactly, with a compact exponent (1e-06 -> 1e-6, 1e+05 -> 1e5). */
  if (x == floor(x) && fabs(x) < 1e4) {
    snprintf(buf, len, "%.0f", x);
    if (strcmp(buf, "-0") == 0) snprintf(buf, len, "0");
    return;
  }
  char tmp[64];
  for (int prec = 1; prec <= 17; ++prec) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, x);
    if (strtod(tmp, NULL) == x) break;
  }
  fix_decimal_point(tmp);
  char *e = strchr(tmp, 'e');
  if (e) {
    /* Drop the exponent's '+' and leading zeros. */
    char *src = e + 1, *dst = e + 1;
    if (*src == '+') ++src;
    else if (*src == '-') *dst++ = *src++;
    while (*src == '0' && src[1] != '\0') ++src;
    memmove(dst, src, strlen(src) + 1);
  }
  snprintf(buf, len, "%s", tmp);
}

void vs_schema_format_range(const vs_schema_key *k, char *buf, size_t len) {
  if (!buf || len == 0) return;
  if (k->range == VS_RANGE_ANY) {
    buf[0] = '\0';
    return;
  }
  char lo[32], hi[32];
  vs_schema_format_number(k->min, lo, sizeof lo);
  vs_schema_format_number(k->max, hi, sizeof hi);
  int open_lo = k->range == VS_RANGE_OC || k->range == VS_RANGE_OO;
  int open_hi = k->range == VS_RANGE_CO || k->range == VS_RANGE_OO;
  snprintf(buf, len, "%c%s, %s%c", open_lo ? '(' : '[', lo, hi,
           open_hi ? ')' : ']');
}

/* A leg or protocol field's value in the default leg and protocol. */
static double leg_default(const vs_schema_key *k) {
  vs_leg leg;
  vs_leg_protocol p = vs_leg_protocol_default();
  if (vs_leg_default(&leg)) return NAN;
  const char *base = k->bind == VS_BIND_LEG || k->bind == VS_BIND_LEG_UNSIGNED
                         ? (const char *)&leg
                         : (const char *)&p;
  double x = k->bind == VS_BIND_LEG_UNSIGNED ||
                     k->bind == VS_BIND_PROTOCOL_UNSIGNED
                 ? (double)*(const unsigned *)(const void *)(base + k->field)
                 : *(const double *)(const void *)(base + k->field);
  vs_leg_clear(&leg);
  return x;
}

double vs_schema_default_number(const vs_schema_key *k) {
  if (k->dflt != VS_DEFAULT_MODEL) return k->def_number;
  /* Ask the code that owns each default, with dummy sizes where it needs
   * them: only the coefficients are read. */
  vs_solver_options o = vs_solver_options_default();
  vs_wall w = vs_wall_tube_law(1.0, 1.0, 1.0);
  vs_stenosis s = vs_stenosis_young_tsai(1.0, 1.0);
  vs_valve v = vs_valve_default();
  switch (k->bind) {
  case VS_BIND_SOLVER_T_END: return o.t_end_s;
  case VS_BIND_SOLVER_OUTPUT_DT: return o.output_dt_s;
  case VS_BIND_SOLVER_RTOL: return o.rtol;
  case VS_BIND_SOLVER_ATOL_VOLUME: return o.atol_volume_ml;
  case VS_BIND_SOLVER_ATOL_FLOW: return o.atol_flow_ml_s;
  case VS_BIND_SOLVER_MAX_STEP: return o.max_step_s;
  case VS_BIND_SOLVER_INITIAL_STEP: return o.initial_step_s;
  case VS_BIND_SOLVER_MAX_ORDER: return o.max_order;
  case VS_BIND_SOLVER_MAX_STEPS: return (double)o.max_steps;
  case VS_BIND_SOLVER_LINEAR_SOLVER: return (double)o.linear_solver;
  case VS_BIND_SOLVER_DENSE_MAX_STATES: return (double)o.dense_max_states;
  case VS_BIND_SOLVER_STAB_LIM_DET: return o.stability_limit_detection;
  case VS_BIND_SOLVER_JAC_EVAL_STEPS: return (double)o.jac_eval_steps;
  case VS_BIND_SOLVER_NONLIN_CONV_COEF: return o.nonlin_conv_coef;
  case VS_BIND_WALL_M: return w.m;
  case VS_BIND_WALL_N: return w.n;
  case VS_BIND_STENOSIS_KT: return s.kt;
  case VS_BIND_STENOSIS_KU: return s.ku;
  case VS_BIND_STENOSIS_LA_LS: return s.la_ls;
  case VS_BIND_STENOSIS_LA_DS: return s.la_ds;
  case VS_BIND_SOLVER_ATOL_VALVE: return o.atol_valve;
  case VS_BIND_VALVE_KVO: return v.kvo;
  case VS_BIND_VALVE_KVC: return v.kvc;
  case VS_BIND_VALVE_DP_OPEN: return v.dp_open_mmhg;
  case VS_BIND_VALVE_DP_CLOSE: return v.dp_close_mmhg;
  case VS_BIND_VALVE_M_ST: return v.m_st;
  case VS_BIND_VALVE_M_RG: return v.m_rg;
  case VS_BIND_VALVE_LEAK_FLOOR: return v.leak_floor;
  case VS_BIND_VALVE_L_EFF: return v.l_eff_cm;
  case VS_BIND_VALVE_SMOOTHING: return v.smoothing_mmhg;
  case VS_BIND_VALVE_STATION: return v.station_length_cm;
  case VS_BIND_LEG:
  case VS_BIND_LEG_UNSIGNED:
  case VS_BIND_PROTOCOL:
  case VS_BIND_PROTOCOL_UNSIGNED:
    return leg_default(k);
  case VS_BIND_NONE: break;
  }
  return k->def_number;
}

int vs_schema_leg_set(void *leg, void *protocol, const vs_schema_key *k,
                      double x) {
  char *base = k->bind == VS_BIND_LEG || k->bind == VS_BIND_LEG_UNSIGNED
                   ? leg
                   : k->bind == VS_BIND_PROTOCOL ||
                             k->bind == VS_BIND_PROTOCOL_UNSIGNED
                         ? protocol
                         : NULL;
  if (!base) return VS_EINVAL;
  if (k->bind == VS_BIND_LEG_UNSIGNED || k->bind == VS_BIND_PROTOCOL_UNSIGNED)
    *(unsigned *)(void *)(base + k->field) = (unsigned)x;
  else
    *(double *)(void *)(base + k->field) = x;
  return VS_OK;
}

int vs_schema_solver_set(vs_solver_options *o, const vs_schema_key *k,
                         double x) {
  switch (k->bind) {
  case VS_BIND_SOLVER_T_END: o->t_end_s = x; break;
  case VS_BIND_SOLVER_OUTPUT_DT: o->output_dt_s = x; break;
  case VS_BIND_SOLVER_RTOL: o->rtol = x; break;
  case VS_BIND_SOLVER_ATOL_VOLUME: o->atol_volume_ml = x; break;
  case VS_BIND_SOLVER_ATOL_FLOW: o->atol_flow_ml_s = x; break;
  case VS_BIND_SOLVER_ATOL_VALVE: o->atol_valve = x; break;
  case VS_BIND_SOLVER_MAX_STEP: o->max_step_s = x; break;
  case VS_BIND_SOLVER_INITIAL_STEP: o->initial_step_s = x; break;
  case VS_BIND_SOLVER_MAX_ORDER: o->max_order = (int)x; break;
  case VS_BIND_SOLVER_MAX_STEPS: o->max_steps = (long)x; break;
  case VS_BIND_SOLVER_LINEAR_SOLVER:
    o->linear_solver = (vs_linsol_kind)(int)x;
    break;
  case VS_BIND_SOLVER_DENSE_MAX_STATES: o->dense_max_states = (long)x; break;
  case VS_BIND_SOLVER_STAB_LIM_DET: o->stability_limit_detection = x != 0; break;
  case VS_BIND_SOLVER_JAC_EVAL_STEPS: o->jac_eval_steps = (long)x; break;
  case VS_BIND_SOLVER_NONLIN_CONV_COEF: o->nonlin_conv_coef = x; break;
  default: return VS_EINVAL;
  }
  return VS_OK;
}

/* ---- the Markdown reference ----------------------------------------------- */

static const char *type_name(const vs_schema_key *k) {
  switch (k->type) {
  case VS_ST_NUMBER: return "number";
  case VS_ST_INTEGER: return "integer";
  case VS_ST_STRING: return "string";
  case VS_ST_BOOL: return "bool";
  case VS_ST_ENUM: return "enum";
  case VS_ST_WAVEFORM: return "waveform";
  case VS_ST_NUMBER_LIST: return "list of numbers";
  case VS_ST_MAPPING: return "mapping";
  case VS_ST_LIST: return "list of mappings";
  }
  return "?";
}

/* Space-separated words as "a, b or c" (each in backticks when `code`). */
static void print_words(FILE *out, const char *words, const char *last_sep,
                        int code) {
  size_t n = 0;
  for (const char *p = words; *p;) {
    while (*p == ' ') ++p;
    if (*p) ++n;
    p += strcspn(p, " ");
  }
  size_t i = 0;
  for (const char *p = words; *p;) {
    while (*p == ' ') ++p;
    size_t m = strcspn(p, " ");
    if (m == 0) break;
    if (i > 0) fputs(i + 1 == n ? last_sep : ", ", out);
    fprintf(out, code ? "`%.*s`" : "%.*s", (int)m, p);
    ++i;
    p += m;
  }
}

/* Table cells must not contain '|'. */
static void print_cell(FILE *out, const char *text) {
  for (; *text; ++text) {
    if (*text == '|') fputc('\\', out);
    fputc(*text, out);
  }
}

static void print_default(FILE *out, const vs_schema_key *k) {
  char num[32];
  switch (k->dflt) {
  case VS_DEFAULT_NONE:
    if (!k->required) fputs("not set", out);
    return;
  case VS_DEFAULT_STEM:
    fputs("file name without folder and extension", out);
    return;
  case VS_DEFAULT_NEEDS_MET:
    fputs("true if ", out);
    print_words(out, k->needs, " and ", 1);
    fputs(" are given, else false", out);
    return;
  case VS_DEFAULT_EMPTY:
    fputs(k->type == VS_ST_LIST ? "`[]`" : "all defaults", out);
    return;
  case VS_DEFAULT_VALUE:
  case VS_DEFAULT_MODEL:
    break;
  }
  if (k->type == VS_ST_STRING || (k->type == VS_ST_ENUM && k->def_text)) {
    fprintf(out, "`%s`", k->def_text ? k->def_text : "");
    return;
  }
  double x = vs_schema_default_number(k);
  if (k->type == VS_ST_ENUM)
    fprintf(out, "`%s`", k->choices[(int)x]);
  else if (k->type == VS_ST_BOOL)
    fputs(x != 0 ? "`true`" : "`false`", out);
  else {
    vs_schema_format_number(x, num, sizeof num);
    fprintf(out, "`%s`", num);
  }
}

static void print_rows(FILE *out, const vs_schema_key *table,
                       const char *prefix, const char *disc) {
  for (const vs_schema_key *k = table; k->key; ++k) {
    char path[256], range[64];
    snprintf(path, sizeof path, "%s%s", prefix, k->key);

    fprintf(out, "| `%s` | %s", path, type_name(k));
    if (k->type == VS_ST_ENUM) {
      fputs(": ", out);
      for (size_t i = 0; k->choices[i]; ++i)
        fprintf(out, "%s`%s`", i ? ", " : "", k->choices[i]);
    }
    if ((k->type == VS_ST_LIST || k->type == VS_ST_NUMBER_LIST) &&
        k->min_items > 0)
      fprintf(out, ", at least %zu", k->min_items);
    fprintf(out, " | %s | ",
            k->inherit_range ? "key's unit" : (k->unit ? k->unit : ""));
    print_default(out, k);
    fputs(" | ", out);
    if (k->inherit_range)
      fputs("key's range", out);
    else if (k->type == VS_ST_NUMBER || k->type == VS_ST_INTEGER ||
             k->type == VS_ST_WAVEFORM || k->type == VS_ST_NUMBER_LIST) {
      vs_schema_format_range(k, range, sizeof range);
      fputs(range[0] ? range : "any", out);
    }
    if (k->at_most) fprintf(out, ", at most `%s`", k->at_most);
    fprintf(out, " | %s", k->required ? "yes" : "no");
    if (k->only) {
      fprintf(out, ", if `%s` is ", disc ? disc : "type");
      print_words(out, k->only, " or ", 1);
    }
    fputs(" | ", out);
    print_cell(out, k->desc);
    if (k->needs) {
      fputs(k->type == VS_ST_BOOL ? "; true needs " : "; needs ", out);
      print_words(out, k->needs, " and ", 1);
    }
    fputs(" |\n", out);

    if (k->sub) {
      char sub[sizeof path + 4];
      int d = vs_schema_discriminator(k->sub);
      snprintf(sub, sizeof sub, "%s%s", path,
               k->type == VS_ST_LIST ? "[]." : ".");
      print_rows(out, k->sub, sub, d >= 0 ? k->sub[d].key : NULL);
    }
  }
}

static void print_header(FILE *out) {
  fputs("| Key | Type | Unit | Default | Range | Required | Description |\n"
        "|---|---|---|---|---|---|---|\n",
        out);
}

void vs_case_print_schema(FILE *out) {
  if (!out) return;
  fputs("# venosim case file reference\n\n"
        "A case file is a YAML mapping with the keys below; any other key is "
        "an error\nthat names the file, line and column. Units are part of "
        "the key names.\n`[` and `]` include a bound, `(` and `)` exclude it. "
        "`[]` in a path stands\nfor each item of a list. A key marked \"if `type` "
        "is x\" exists only in a\nmapping whose `type` is x.\n\n",
        out);
  print_header(out);
  print_rows(out, vs_case_schema, "", NULL);
  fputs("\n## Waveforms\n\n"
        "A key of type waveform takes a number (a constant) or a mapping "
        "with these\nkeys, in the unit of the key it sets; every value it "
        "can take must lie in\nthat key's range.\n\n",
        out);
  print_header(out);
  print_rows(out, vs_waveform_schema, "<waveform>.", "type");
  fputs("\nExample: `p_ext_mmhg: {type: table, times_s: [0, 0.5, 1], "
        "values: [0, 80, 0], periodic: true}`.\n",
        out);
}
