/* CVODE driver: BDF + Newton with the analytic Jacobian, dense or KLU,
 * stop times at forcing breakpoints, output on a fixed grid (solver.h). */
#include <cvode/cvode.h>
#include <math.h>
#include <nvector/nvector_serial.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunmatrix/sunmatrix_sparse.h>
#include <time.h>

#include "network_internal.h"
#include "sundials_kernels.h"
#include "system_internal.h"
#include "venosim/error.h"

vs_solver_options vs_solver_options_default(void) {
  vs_solver_options o;
  memset(&o, 0, sizeof o);
  o.t_end_s = 10.0;
  o.output_dt_s = 0.01;
  o.rtol = 1e-6;
  o.atol_volume_ml = 1e-6;
  o.atol_flow_ml_s = 1e-6;
  o.atol_valve = 1e-6;
  o.max_step_s = 0.05;
  o.initial_step_s = 0.0;
  o.max_order = 5;
  o.max_steps = 100000;
  o.linear_solver = VS_LINSOL_AUTO;
  o.dense_max_states = 100;
  return o;
}

int vs_solver_options_validate(const vs_solver_options *o, char *msg,
                               size_t msglen) {
#define VS_REQUIRE(cond, what)                  \
  do {                                          \
    if (!(cond)) {                              \
      snprintf(msg, msglen, "solver: %s", what); \
      return VS_EINVAL;                         \
    }                                           \
  } while (0)
  VS_REQUIRE(isfinite(o->t_end_s) && o->t_end_s > 0, "t_end_s must be > 0");
  VS_REQUIRE(isfinite(o->output_dt_s) && o->output_dt_s > 0 &&
                 o->output_dt_s <= o->t_end_s,
             "output_dt_s must be in (0, t_end_s]");
  VS_REQUIRE(o->t_end_s / o->output_dt_s < 1e8,
             "t_end_s / output_dt_s gives more than 1e8 samples");
  VS_REQUIRE(o->rtol >= 1e-14 && o->rtol <= 0.1, "rtol must be in [1e-14, 0.1]");
  VS_REQUIRE(o->atol_volume_ml > 0 && o->atol_flow_ml_s > 0 &&
                 o->atol_valve > 0 && isfinite(o->atol_volume_ml) &&
                 isfinite(o->atol_flow_ml_s) && isfinite(o->atol_valve),
             "absolute tolerances must be > 0");
  VS_REQUIRE(isfinite(o->max_step_s) && o->max_step_s >= 0,
             "max_step_s must be >= 0");
  VS_REQUIRE(isfinite(o->initial_step_s) && o->initial_step_s >= 0,
             "initial_step_s must be >= 0");
  VS_REQUIRE(o->max_order >= 1 && o->max_order <= 5,
             "max_order must be 1 to 5");
  VS_REQUIRE(o->max_steps > 0, "max_steps must be > 0");
  VS_REQUIRE(o->linear_solver >= VS_LINSOL_AUTO &&
                 o->linear_solver <= VS_LINSOL_KLU,
             "unknown linear solver");
  VS_REQUIRE(o->dense_max_states > 0, "dense_max_states must be > 0");
  VS_REQUIRE(o->jac_eval_steps >= 0, "jac_eval_steps must be >= 0");
  VS_REQUIRE(o->nonlin_conv_coef >= 0 && o->nonlin_conv_coef <= 1,
             "nonlin_conv_coef must be in [0, 1]");
#undef VS_REQUIRE
  return VS_OK;
}

/* What CVODE's callbacks see. */
typedef struct {
  const vs_system *sys;
  vs_run_result *res;
  SUNLinearSolver klu;  /* the KLU solver, to refactor with fresh pivots */
  char last_error[400]; /* CVODE's own words about the last failure */
  int nonfinite;        /* the RHS met a non-physical state */
  char bad_state[160];  /* the last one it met: which state, what value */
} vs_cv_data;

/* ---- numerical guards ---------------------------------------------------
 * A run never writes garbage: a state that is not finite, or a compartment
 * holding less than no blood, ends the run with a message naming the state,
 * and the samples from there on stay NaN (result.c). Three places look:
 * the RHS (CVODE retries a rejected trial state with a smaller step and
 * gives up only if that keeps failing), every state CVODE returns, and the
 * initial state. */

/* Volumes below -VS_NEG_VOLUME_ATOLS absolute tolerances are real, not
 * round-off: the integration error allowed on a volume is about one atol. */
#define VS_NEG_VOLUME_ATOLS 100.0

/* Describes the first state of y that the RHS would reject into buf. */
static void describe_bad_state(const vs_system *sys, const double *y,
                               char *buf, size_t len) {
  const vs_network *net = sys->net;
  for (size_t i = 0; i < sys->n_state; ++i) {
    int tube = i < net->n_comp && sys->state_kind[i] == VS_STATE_VOLUME &&
               net->comp[i].wall.kind == VS_WALL_TUBE_LAW;
    if (!isfinite(y[i]) || (tube && y[i] <= 0)) {
      snprintf(buf, len, "%s = %.6g%s", sys->state_names[i], y[i],
               isfinite(y[i]) ? " mL (a collapsible vein needs a volume > 0)"
                              : "");
      return;
    }
  }
  snprintf(buf, len, "a non-finite pressure, flow or derivative");
}

/* "at t = ... s (it was valid at ... s)" for a failure message. */
static void describe_when(double t, double t_prev, char *when, size_t len) {
  if (isnan(t_prev))
    snprintf(when, len, "at t = %.6g s", t);
  else
    snprintf(when, len, "at t = %.6g s (it was valid at %.6g s)", t, t_prev);
}

/* The state at time t is finite and holds no negative blood; otherwise the
 * run fails with a message naming the state. t_prev: the last time the
 * state was known good (NaN: none). Called on every return of CVODE, so
 * the message is only written when there is a failure to report. */
static int check_state(const vs_system *sys, const vs_solver_options *opt,
                       double t, double t_prev, const double *y,
                       vs_run_result *res) {
  const vs_network *net = sys->net;
  char when[96];
  for (size_t i = 0; i < sys->n_state; ++i)
    if (!isfinite(y[i])) {
      describe_when(t, t_prev, when, sizeof when);
      vs_result_fail(res, "non-finite state %s: %s = %g; the run stops here",
                     when, sys->state_names[i], y[i]);
      return VS_ENONFINITE;
    }
  double tol = VS_NEG_VOLUME_ATOLS * opt->atol_volume_ml;
  for (size_t i = 0; i < sys->n_state && i < net->n_comp; ++i) {
    if (sys->state_kind[i] != VS_STATE_VOLUME || y[i] >= -tol) continue;
    describe_when(t, t_prev, when, sizeof when);
    vs_result_fail(res,
                   "negative volume %s: compartment '%s' would hold %.6g mL "
                   "of blood (%s); the run stops here",
                   when, net->comp[i].name, y[i],
                   isnan(t_prev) ? "its initial pressure is below that of "
                                   "its empty wall"
                                 : "more flows out than it holds");
    return VS_ENONFINITE;
  }
  return VS_OK;
}

static int cv_rhs(sunrealtype t, N_Vector y, N_Vector ydot, void *ud) {
  vs_cv_data *d = ud;
  int rc = vs_system_rhs(d->sys, t, N_VGetArrayPointer(y),
                         N_VGetArrayPointer(ydot));
  if (rc == VS_OK) return 0;
  /* Recoverable: CVODE retries with a smaller step; only if that keeps
   * failing does the run end, with the reason below. */
  d->nonfinite = 1;
  char what[128];
  describe_bad_state(d->sys, N_VGetArrayPointer(y), what, sizeof what);
  snprintf(d->bad_state, sizeof d->bad_state, "%s at t = %.6g s", what,
           (double)t);
  return 1;
}

static int cv_jac(sunrealtype t, N_Vector y, N_Vector fy, SUNMatrix J,
                  void *ud, N_Vector t1, N_Vector t2, N_Vector t3) {
  (void)fy;
  (void)t1;
  (void)t2;
  (void)t3;
  vs_cv_data *d = ud;
  const vs_system *sys = d->sys;
  if (vs_system_jacobian_values(sys, t, N_VGetArrayPointer(y), sys->jac_vals))
    return 1;
  if (SUNMatGetID(J) == SUNMATRIX_SPARSE) {
    /* A valve's loss changes by orders of magnitude as it shuts, so the
     * pivot order KLU chose for an earlier Jacobian can make a poor
     * factorisation of this one, which its condition test does not always
     * catch: factor each new Jacobian afresh (the pattern never changes). */
    if (d->klu && SUNLinSol_KLUReInit(d->klu, J, (sunindextype)sys->nnz,
                                      SUNKLU_REINIT_PARTIAL) != SUNLS_SUCCESS)
      return -1;
    /* Same CSC structure every time: copy it and the values. */
    sunindextype *cp = SUNSparseMatrix_IndexPointers(J);
    sunindextype *ri = SUNSparseMatrix_IndexValues(J);
    sunrealtype *v = SUNSparseMatrix_Data(J);
    for (size_t j = 0; j <= sys->n_state; ++j)
      cp[j] = (sunindextype)sys->jac_colptr[j];
    for (size_t k = 0; k < sys->nnz; ++k) {
      ri[k] = (sunindextype)sys->jac_rowidx[k];
      v[k] = sys->jac_vals[k];
    }
    return 0;
  }
  SUNMatZero(J);
  for (size_t j = 0; j < sys->n_state; ++j) {
    sunrealtype *col = SUNDenseMatrix_Column(J, (sunindextype)j);
    for (size_t k = sys->jac_colptr[j]; k < sys->jac_colptr[j + 1]; ++k)
      col[sys->jac_rowidx[k]] = sys->jac_vals[k];
  }
  return 0;
}

/* CVODE reports errors here instead of printing them: keep the words with
 * the run (DESIGN.md: a per-run handler, the message stored with the run). */
static void cv_error_handler(int code, const char *module, const char *function,
                             char *message, void *ud) {
  vs_cv_data *d = ud;
  if (code < 0)
    snprintf(d->last_error, sizeof d->last_error, "%s/%s: %s", module,
             function, message);
  else
    vs_result_event(d->res, NAN, "warning", "%s/%s: %s", module, function,
                    message);
}

/* Checks a SUNDIALS call; records the call, file and line and jumps out. */
#define VS_CV_CALL(call)                                                      \
  do {                                                                        \
    int cv_flag_ = (call);                                                    \
    if (cv_flag_ < 0) {                                                       \
      vs_result_fail(res, "%s failed (%d) at %s:%d%s%s", #call, cv_flag_,     \
                     __FILE__, __LINE__, data.last_error[0] ? ": " : "",      \
                     data.last_error);                                        \
      rc = VS_ESOLVER;                                                        \
      goto done;                                                              \
    }                                                                         \
  } while (0)
#define VS_CV_ALLOC(ptr)                                                      \
  do {                                                                        \
    if (!(ptr)) {                                                             \
      vs_result_fail(res, "%s returned NULL at %s:%d", #ptr, __FILE__,        \
                     __LINE__);                                               \
      rc = VS_ENOMEM;                                                         \
      goto done;                                                              \
    }                                                                         \
  } while (0)

/* Series filled at each output time, and one row of each being made. */
typedef struct {
  vs_series *pressure, *volume, *flow, *boundary, *valve;
  double *p_scratch, *q_scratch, *w_scratch, *z_scratch;
} vs_outputs;

static int add_outputs(const vs_system *sys, vs_run_result *res,
                       vs_outputs *out) {
  const vs_network *net = sys->net;
  size_t nn = net->n_comp + net->n_pnode, nb = net->n_link + net->n_src;
  size_t nw = 0;
  for (size_t i = 0; i < sys->n_state; ++i)
    nw += sys->state_kind[i] == VS_STATE_BOUNDARY_VOLUME;
  const char **names = malloc((nn + nb + 1) * sizeof *names);
  if (!names) return VS_ENOMEM;
  for (size_t i = 0; i < nn; ++i) names[i] = vs_network_node_name(net, i);
  int ok = vs_result_add_series(
      res, "pressure", "mmHg",
      "absolute pressure of every node: compartments, then pressure nodes", nn,
      names) != NULL;
  ok = ok && vs_result_add_series(res, "volume", "mL",
                                     "blood volume of every compartment",
                                     net->n_comp, names) != NULL;
  for (size_t i = 0; i < nb; ++i) names[i] = vs_network_branch_name(net, i);
  ok = ok && vs_result_add_series(
      res, "flow", "mL/s",
      "flow of every link (positive from 'from' to 'to'), then of every flow "
      "source (positive into its compartment)",
      nb, names) != NULL;
  /* Columns carry the state names, W[branch]. */
  size_t j = 0;
  for (size_t i = 0; i < sys->n_state; ++i)
    if (sys->state_kind[i] == VS_STATE_BOUNDARY_VOLUME)
      names[j++] = sys->state_names[i];
  ok = ok && vs_result_add_series(
      res, "boundary_volume", "mL",
      "cumulative volume that entered the network through each boundary "
      "branch (W[name]) since t = 0",
      nw, names) != NULL;
  for (size_t v = 0; v < sys->n_valves; ++v)
    names[v] = vs_network_branch_name(net, sys->valve_link[v]);
  if (sys->n_valves)
    ok = ok && vs_result_add_series(
                   res, "valve_opening", "1",
                   "opening state zeta of every valve: 0 shut, 1 fully open",
                   sys->n_valves, names) != NULL;
  free(names);
  if (!ok) return VS_ENOMEM;
  /* Pointers only now: adding a series may move the array. */
  size_t first = res->n_series - 4 - (sys->n_valves ? 1 : 0);
  out->pressure = &res->series[first];
  out->volume = &res->series[first + 1];
  out->flow = &res->series[first + 2];
  out->boundary = &res->series[first + 3];
  out->valve = sys->n_valves ? &res->series[first + 4] : NULL;
  out->p_scratch = malloc((nn + 1) * sizeof *out->p_scratch);
  out->q_scratch = malloc((nb + 1) * sizeof *out->q_scratch);
  out->w_scratch = malloc((nw + 1) * sizeof *out->w_scratch);
  out->z_scratch = malloc((sys->n_valves + 1) * sizeof *out->z_scratch);
  if (!out->p_scratch || !out->q_scratch || !out->w_scratch ||
      !out->z_scratch)
    return VS_ENOMEM;
  return VS_OK;
}

/* Sample k at time t: the time and one row of every series, handed to the
 * result (result.h), which keeps them in memory or spills them. Returns
 * what the pressures or flows say of a state they reject (the caller
 * words it); when the sample cannot be stored the run is failed here,
 * with the reason (a spill that failed has said it already). */
static int record_sample(const vs_system *sys, vs_run_result *res,
                         vs_outputs *out, size_t k, double t, const double *y) {
  int rc = vs_system_pressures(sys, t, y, out->p_scratch);
  if (!rc) rc = vs_system_flows(sys, t, y, out->q_scratch);
  if (rc) return rc;
  size_t j = 0;
  for (size_t i = 0; i < sys->n_state; ++i)
    if (sys->state_kind[i] == VS_STATE_BOUNDARY_VOLUME)
      out->w_scratch[j++] = y[i];
  for (size_t v = 0; v < sys->n_valves; ++v)
    out->z_scratch[v] = y[sys->links[sys->valve_link[v]].zeta];
  if ((rc = vs_result_put_time(res, k, t)) ||
      (rc = vs_result_put_row(res, out->pressure, k, out->p_scratch)) ||
      (rc = vs_result_put_row(res, out->volume, k, y)) ||
      (rc = vs_result_put_row(res, out->flow, k, out->q_scratch)) ||
      (rc = vs_result_put_row(res, out->boundary, k, out->w_scratch)) ||
      (out->valve &&
       (rc = vs_result_put_row(res, out->valve, k, out->z_scratch))))
    vs_result_fail(res, "cannot store the output sample at t = %.6g s: %s",
                   t, vs_strerror(rc));
  return rc;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void collect_stats(void *mem, vs_solver_stats *st) {
  long v = 0;
  if (!mem) return;
  if (CVodeGetNumSteps(mem, &v) == CV_SUCCESS) st->steps = v;
  if (CVodeGetNumRhsEvals(mem, &v) == CV_SUCCESS) st->rhs_evals = v;
  if (CVodeGetNumJacEvals(mem, &v) == CV_SUCCESS) st->jac_evals = v;
  if (CVodeGetNumLinSolvSetups(mem, &v) == CV_SUCCESS) st->lin_setups = v;
  if (CVodeGetNumErrTestFails(mem, &v) == CV_SUCCESS) st->error_test_fails = v;
  if (CVodeGetNumNonlinSolvIters(mem, &v) == CV_SUCCESS) st->nonlin_iters = v;
  if (CVodeGetNumNonlinSolvConvFails(mem, &v) == CV_SUCCESS)
    st->nonlin_conv_fails = v;
  int q = 0;
  if (CVodeGetLastOrder(mem, &q) == CV_SUCCESS) st->last_order = q;
  sunrealtype h = 0;
  if (CVodeGetLastStep(mem, &h) == CV_SUCCESS) st->last_step_s = h;
}

int vs_integrate(const vs_system *sys, const vs_solver_options *opt,
                 vs_run_result *res) {
  int rc = VS_OK;
  double t0_wall = now_s();
  SUNContext ctx = NULL;
  N_Vector y = NULL, abstol = NULL;
  SUNMatrix A = NULL;
  SUNLinearSolver LS = NULL;
  void *mem = NULL;
  vs_outputs out = {0};
  vs_cv_data data = {.sys = sys, .res = res};
  char why[256];

  if (vs_solver_options_validate(opt, why, sizeof why)) {
    vs_result_fail(res, "%s", why);
    return VS_EINVAL;
  }
  size_t n = sys->n_state;
  /* The leg's sites weigh compartments by their lengths (leg_metrics.c). */
  if (!res->topology.n_nodes) (void)vs_result_describe_network(res, sys->net);
  /* Fixed output grid t_k = k dt; the last sample is t_end itself. */
  size_t n_samples = (size_t)floor(opt->t_end_s / opt->output_dt_s + 1e-9) + 1;
  int extra_end = (double)(n_samples - 1) * opt->output_dt_s <
                  opt->t_end_s * (1.0 - 1e-12);
  n_samples += (size_t)extra_end;
  if (vs_result_set_samples(res, n_samples) || add_outputs(sys, res, &out)) {
    vs_result_fail(res, "out of memory for %zu output samples", n_samples);
    rc = VS_ENOMEM;
    goto done;
  }
  /* Rows a failed run never reaches read NaN, their times too: never a
   * plausible 0 s (result.h). */

  VS_CV_CALL(SUNContext_Create(NULL, &ctx));
  VS_CV_ALLOC(y = N_VNew_Serial((sunindextype)n, ctx));
  VS_CV_ALLOC(abstol = N_VNew_Serial((sunindextype)n, ctx));
  vs_kernels_vector_ops(y);
  vs_kernels_vector_ops(abstol);
  double *yv = N_VGetArrayPointer(y), *av = N_VGetArrayPointer(abstol);
  if ((rc = vs_system_initial_state(sys, 0.0, yv))) {
    vs_result_fail(res, "no valid initial state: %s", vs_strerror(rc));
    goto done;
  }
  if ((rc = check_state(sys, opt, 0.0, NAN, yv, res))) goto done;
  for (size_t i = 0; i < n; ++i) {
    switch (sys->state_kind[i]) {
    case VS_STATE_FLOW:
      av[i] = opt->atol_flow_ml_s;
      break;
    case VS_STATE_VALVE:
      av[i] = opt->atol_valve;
      break;
    case VS_STATE_VOLUME:
    case VS_STATE_BOUNDARY_VOLUME:
      av[i] = opt->atol_volume_ml;
      break;
    }
  }

  int dense = opt->linear_solver == VS_LINSOL_DENSE ||
              (opt->linear_solver == VS_LINSOL_AUTO &&
               (long)n <= opt->dense_max_states);
  snprintf(res->stats.linear_solver, sizeof res->stats.linear_solver, "%s",
           dense ? "dense" : "klu");
  res->stats.n_states = (long)n;
  res->stats.jac_nonzeros = (long)sys->nnz;

  VS_CV_ALLOC(mem = CVodeCreate(CV_BDF, ctx));
  VS_CV_CALL(CVodeSetErrHandlerFn(mem, cv_error_handler, &data));
  VS_CV_CALL(CVodeInit(mem, cv_rhs, 0.0, y));
  VS_CV_CALL(CVodeSVtolerances(mem, opt->rtol, abstol));
  VS_CV_CALL(CVodeSetUserData(mem, &data));
  if (dense) {
    VS_CV_ALLOC(A = SUNDenseMatrix((sunindextype)n, (sunindextype)n, ctx));
    vs_kernels_dense_matrix_ops(A);
    VS_CV_ALLOC(LS = vs_kernels_dense_solver((sunindextype)n, ctx));
  } else {
    VS_CV_ALLOC(A = SUNSparseMatrix((sunindextype)n, (sunindextype)n,
                                    (sunindextype)sys->nnz, CSC_MAT, ctx));
    VS_CV_ALLOC(LS = SUNLinSol_KLU(y, A, ctx));
    data.klu = LS;
    /* Plain partial pivoting: KLU's default prefers the diagonal down to
     * 1e-3 of the column's largest entry, too lax for Jacobians whose
     * entries span ten orders of magnitude (a shut valve next to an open
     * vein). */
    SUNLinSol_KLUGetCommon(LS)->tol = 1.0;
  }
  VS_CV_CALL(CVodeSetLinearSolver(mem, LS, A));
  VS_CV_CALL(CVodeSetJacFn(mem, cv_jac));
  VS_CV_CALL(CVodeSetMaxOrd(mem, opt->max_order));
  if (opt->stability_limit_detection)
    VS_CV_CALL(CVodeSetStabLimDet(mem, SUNTRUE));
  VS_CV_CALL(CVodeSetMaxNumSteps(mem, opt->max_steps));
  if (opt->nonlin_conv_coef > 0)
    VS_CV_CALL(CVodeSetNonlinConvCoef(mem, opt->nonlin_conv_coef));
  if (opt->max_step_s > 0) VS_CV_CALL(CVodeSetMaxStep(mem, opt->max_step_s));
  if (opt->initial_step_s > 0)
    VS_CV_CALL(CVodeSetInitStep(mem, opt->initial_step_s));
  long jac_steps = opt->jac_eval_steps;
  if (jac_steps == 0 && sys->n_valves > 0) jac_steps = VS_JAC_EVAL_STEPS_VALVES;
  if (jac_steps > 0) VS_CV_CALL(CVodeSetJacEvalFrequency(mem, jac_steps));

  vs_result_event(res, 0.0, "start", "%zu states, %zu Jacobian non-zeros, %s",
                  n, sys->nnz, dense ? "dense LU" : "KLU");
  /* The forcing's timeline travels with the results it labels. */
  for (size_t i = 0; i < vs_network_phase_count(sys->net); ++i) {
    double t0, t1;
    const char *phase = vs_network_phase(sys->net, i, &t0, &t1);
    if (vs_result_add_phase(res, phase, t0, t1)) {
      vs_result_fail(res, "out of memory for the protocol's phases");
      rc = VS_ENOMEM;
      goto done;
    }
    vs_result_event(res, t0, "phase", "%s from %.6g s to %.6g s", phase, t0,
                    t1);
  }
  if ((rc = record_sample(sys, res, &out, 0, 0.0, yv))) {
    /* (A sample that could not be stored has failed the run already.) */
    vs_result_fail(res, "initial state is not physical: %s", vs_strerror(rc));
    goto done;
  }

  double t = 0.0, t_good = 0.0;
  long n_breakpoints = 0;
  for (size_t k = 1; k < n_samples; ++k) {
    double t_out = k + 1 == n_samples ? opt->t_end_s : (double)k * opt->output_dt_s;
    while (t < t_out) {
      /* Never step across a kink of the forcing: stop on it. Between
       * breakpoints CVODE steps freely and interpolates the outputs. */
      double t_stop = opt->t_end_s, tb;
      if (vs_system_next_breakpoint(sys, t, &tb) && tb < t_stop) t_stop = tb;
      VS_CV_CALL(CVodeSetStopTime(mem, t_stop));
      sunrealtype t_reached = t;
      int flag = CVode(mem, fmin(t_out, t_stop), y, &t_reached, CV_NORMAL);
      if (flag < 0) {
        vs_result_fail(res, "CVODE failed at t = %.6g s (flag %d%s%s): %s",
                       (double)t_reached, flag,
                       data.nonfinite ? ", non-physical state met: " : "",
                       data.nonfinite ? data.bad_state : "",
                       data.last_error[0] ? data.last_error : CVodeGetReturnFlagName(flag));
        rc = data.nonfinite ? VS_ENONFINITE : VS_ESOLVER;
        goto done;
      }
      /* Asked to stop on a breakpoint before the next output, and there:
       * CVODE says CV_SUCCESS rather than CV_TSTOP_RETURN when the stop time
       * is also the requested time. */
      if (t_stop <= t_out && t_stop < opt->t_end_s && t_reached >= t_stop)
        n_breakpoints++;
      t = t_reached;
      if ((rc = check_state(sys, opt, t, t_good, yv, res))) goto done;
      t_good = t;
    }
    if ((rc = record_sample(sys, res, &out, k, t_out, yv))) {
      vs_result_fail(res, "non-physical state at t = %.6g s: %s", t_out,
                     vs_strerror(rc));
      goto done;
    }
  }
  vs_result_event(res, t, "end", "reached t_end after %ld forcing breakpoints",
                  n_breakpoints);
  res->status = VS_RUN_OK;

done:
  collect_stats(mem, &res->stats);
  if (res->status == VS_RUN_FAILED)
    vs_result_event(res, NAN, "fail", "%s", res->message);
  res->stats.wall_time_s = now_s() - t0_wall;
  free(out.p_scratch);
  free(out.q_scratch);
  free(out.w_scratch);
  free(out.z_scratch);
  CVodeFree(&mem);
  if (LS) SUNLinSolFree(LS);
  if (A) SUNMatDestroy(A);
  if (y) N_VDestroy(y);
  if (abstol) N_VDestroy(abstol);
  if (ctx) SUNContext_Free(&ctx);
  if (rc == VS_OK && res->status != VS_RUN_OK) rc = VS_ESOLVER;
  return rc;
}
