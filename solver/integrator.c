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
#undef VS_REQUIRE
  return VS_OK;
}

/* ---- vector kernels -----------------------------------------------------
 * Debian's SUNDIALS 6.4.1 packages are compiled without optimisation (-O0:
 * every operand goes through the stack), so its serial vector operations
 * cost some 20 instructions per element, and CVODE calls them dozens of
 * times per step: for the 34 states of the leg they took more time than
 * the model. The operations below, compiled with venosim, replace them in
 * the vectors' operation tables (CVODE's work vectors are clones of y and
 * inherit its table). Each performs the same floating-point operations in
 * the same order as the library's, special cases included, so the results
 * are bit-identical: only the instruction count changes. (That holds as
 * long as the compiler does not fuse a*b + c into one rounding: GCC does
 * not under -std=c11, nor does any compiler for the baseline x86-64
 * target; a fused multiply-add would only change the last bits.) */

static void vk_linear_sum(sunrealtype a, N_Vector x, sunrealtype b, N_Vector y,
                          N_Vector z) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x), *yd = NV_DATA_S(y);
  sunrealtype *zd = NV_DATA_S(z);
  /* With a or b = +-1 the library uses forms (x + b y, b y - x, ...) that
   * round exactly like a x + b y. Its a = b and a = -b forms factor the
   * coefficient out, which rounds differently: kept as they are. */
  int unit = a == 1.0 || a == -1.0 || b == 1.0 || b == -1.0;
  if (!unit && a == b) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = a * (xd[i] + yd[i]);
  } else if (!unit && a == -b) {
    for (sunindextype i = 0; i < n; ++i) zd[i] = a * (xd[i] - yd[i]);
  } else {
    for (sunindextype i = 0; i < n; ++i) zd[i] = a * xd[i] + b * yd[i];
  }
}

static void vk_const(sunrealtype c, N_Vector z) {
  sunindextype n = NV_LENGTH_S(z);
  sunrealtype *zd = NV_DATA_S(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = c;
}

static void vk_prod(N_Vector x, N_Vector y, N_Vector z) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x), *yd = NV_DATA_S(y);
  sunrealtype *zd = NV_DATA_S(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = xd[i] * yd[i];
}

static void vk_div(N_Vector x, N_Vector y, N_Vector z) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x), *yd = NV_DATA_S(y);
  sunrealtype *zd = NV_DATA_S(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = xd[i] / yd[i];
}

/* Also the library's copy (c = 1) and negation (c = -1): both exact. */
static void vk_scale(sunrealtype c, N_Vector x, N_Vector z) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x);
  sunrealtype *zd = NV_DATA_S(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = c * xd[i];
}

static void vk_abs(N_Vector x, N_Vector z) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x);
  sunrealtype *zd = NV_DATA_S(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = fabs(xd[i]);
}

static void vk_inv(N_Vector x, N_Vector z) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x);
  sunrealtype *zd = NV_DATA_S(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = 1.0 / xd[i];
}

static void vk_add_const(N_Vector x, sunrealtype b, N_Vector z) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x);
  sunrealtype *zd = NV_DATA_S(z);
  for (sunindextype i = 0; i < n; ++i) zd[i] = xd[i] + b;
}

static sunrealtype vk_max_norm(N_Vector x) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x);
  sunrealtype m = 0.0;
  for (sunindextype i = 0; i < n; ++i)
    if (fabs(xd[i]) > m) m = fabs(xd[i]);
  return m;
}

static sunrealtype vk_min(N_Vector x) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x);
  sunrealtype m = xd[0];
  for (sunindextype i = 1; i < n; ++i)
    if (xd[i] < m) m = xd[i];
  return m;
}

/* Sum of (x_i w_i)^2, accumulated in index order. */
static sunrealtype vk_wsqr_sum(N_Vector x, N_Vector w) {
  sunindextype n = NV_LENGTH_S(x);
  const sunrealtype *xd = NV_DATA_S(x), *wd = NV_DATA_S(w);
  sunrealtype sum = 0.0;
  for (sunindextype i = 0; i < n; ++i) {
    sunrealtype p = xd[i] * wd[i];
    sum += p * p;
  }
  return sum;
}

static sunrealtype vk_wrms_norm(N_Vector x, N_Vector w) {
  sunrealtype ms = vk_wsqr_sum(x, w) / (sunrealtype)NV_LENGTH_S(x);
  return ms <= 0.0 ? 0.0 : sqrt(ms);
}

/* z = sum c_i X_i, as the library computes it without a fused operation:
 * z = c_0 X_0, then z += c_i X_i one vector after the other (that order
 * also holds if z is one of the X_i). */
static int vk_linear_combination(int nvec, sunrealtype *c, N_Vector *X,
                                 N_Vector z) {
  vk_scale(c[0], X[0], z);
  sunindextype n = NV_LENGTH_S(z);
  sunrealtype *zd = NV_DATA_S(z);
  for (int k = 1; k < nvec; ++k) {
    const sunrealtype *xd = NV_DATA_S(X[k]);
    for (sunindextype i = 0; i < n; ++i) zd[i] = c[k] * xd[i] + zd[i];
  }
  return 0;
}

/* Z_k = a_k x + Y_k, one k after the other, as the library does. */
static int vk_scale_add_multi(int nvec, sunrealtype *a, N_Vector x,
                              N_Vector *Y, N_Vector *Z) {
  for (int k = 0; k < nvec; ++k) vk_linear_sum(a[k], x, 1.0, Y[k], Z[k]);
  return 0;
}

/* Puts the kernels into v's operation table (serial vectors only). */
static void use_fast_vector_ops(N_Vector v) {
  N_Vector_Ops ops = v->ops;
  ops->nvlinearsum = vk_linear_sum;
  ops->nvconst = vk_const;
  ops->nvprod = vk_prod;
  ops->nvdiv = vk_div;
  ops->nvscale = vk_scale;
  ops->nvabs = vk_abs;
  ops->nvinv = vk_inv;
  ops->nvaddconst = vk_add_const;
  ops->nvmaxnorm = vk_max_norm;
  ops->nvmaxnormlocal = vk_max_norm;
  ops->nvmin = vk_min;
  ops->nvminlocal = vk_min;
  ops->nvwrmsnorm = vk_wrms_norm;
  ops->nvwsqrsumlocal = vk_wsqr_sum;
  ops->nvlinearcombination = vk_linear_combination;
  ops->nvscaleaddmulti = vk_scale_add_multi;
}

/* ---- dense LU -------------------------------------------------------------
 * SUNDIALS' dense LU solver and matrix come from the same unoptimised build:
 * for the 34 states of the leg, factoring and solving took 40 % of the run.
 * venosim's own dense LU replaces SUNLinSol_Dense: the library's algorithm
 * (LU with partial pivoting by columns, denseGETRF and denseGETRS) with one
 * addition, it skips the rows where a column of the factors is zero at
 * either end. The Jacobian of a network is sparse (116 non-zeros of
 * 34 x 34 for the leg) and its LU factors stay far from full, so the
 * factorisation and each solve visit much less than the whole matrix,
 * while choosing the same pivots and rounding every non-zero exactly as
 * the library does (a skipped term is x - 0 * y = x). The matrix's zero,
 * copy, scale-add-identity and clone are replaced too. (Bit-identical under
 * the same condition as the vector kernels above.) */

typedef struct {
  sunindextype n;
  sunindextype *pivots; /* row interchanges of the factorisation */
  /* The rows of each column k of the factors that hold its non-zeros, as
   * a range [lo, hi): of L strictly below the diagonal, of U strictly
   * above it (empty: lo = hi). Inside a range the solves run as the
   * library's, over contiguous rows, which is faster than following a
   * list of the non-zeros one by one. */
  sunindextype *l_lo, *l_hi, *u_lo, *u_hi;
  sunindextype last_flag;
} dk_content;

/* The range [*lo, *hi) of rows in [from, to) where col is non-zero. */
static void nonzero_range(const sunrealtype *col, sunindextype from,
                          sunindextype to, sunindextype *lo,
                          sunindextype *hi) {
  while (from < to && col[from] == 0.0) ++from;
  while (to > from && col[to - 1] == 0.0) --to;
  *lo = from;
  *hi = to;
}

/* LU factorisation in place of the n x n column-major matrix a[col][row]
 * (row interchanges in c->pivots), and the non-zero ranges of its
 * factors. Returns 0, or k + 1 if the k-th pivot is zero. */
static sunindextype dk_lu_factor(dk_content *c, sunrealtype **a) {
  sunindextype n = c->n, *p = c->pivots;
  for (sunindextype k = 0; k < n; ++k) {
    sunrealtype *col_k = a[k];
    /* Pivot: the first row of largest magnitude on or below the diagonal. */
    sunindextype l = k;
    for (sunindextype i = k + 1; i < n; ++i)
      if (fabs(col_k[i]) > fabs(col_k[l])) l = i;
    p[k] = l;
    if (col_k[l] == 0.0) return k + 1;
    if (l != k)
      for (sunindextype j = 0; j < n; ++j) {
        sunrealtype tmp = a[j][l];
        a[j][l] = a[j][k];
        a[j][k] = tmp;
      }
    /* Multipliers below the pivot, then the update of each later column
     * that has a non-zero in row k, over the rows where the multipliers
     * are non-zero. */
    sunindextype lo, hi;
    nonzero_range(col_k, k + 1, n, &lo, &hi);
    if (lo == hi) continue;
    sunrealtype mult = 1.0 / col_k[k];
    for (sunindextype i = lo; i < hi; ++i) col_k[i] *= mult;
    for (sunindextype j = k + 1; j < n; ++j) {
      sunrealtype *col_j = a[j];
      sunrealtype a_kj = col_j[k];
      if (a_kj == 0.0) continue;
      for (sunindextype i = lo; i < hi; ++i) col_j[i] -= a_kj * col_k[i];
    }
  }
  /* The ranges of the factors, for the solves (the row interchanges of
   * later columns moved the multipliers of earlier ones: taken at the end). */
  for (sunindextype k = 0; k < n; ++k) {
    nonzero_range(a[k], 0, k, &c->u_lo[k], &c->u_hi[k]);
    nonzero_range(a[k], k + 1, n, &c->l_lo[k], &c->l_hi[k]);
  }
  return 0;
}

/* Solves A x = b with the factors of dk_lu_factor; b is overwritten by x. */
static void dk_lu_solve(const dk_content *c, sunrealtype **a, sunrealtype *b) {
  sunindextype n = c->n;
  for (sunindextype k = 0; k < n; ++k) {
    sunindextype pk = c->pivots[k];
    if (pk == k) continue;
    sunrealtype tmp = b[k];
    b[k] = b[pk];
    b[pk] = tmp;
  }
  /* L y = b, then U x = y, column by column as the library does. */
  for (sunindextype k = 0; k + 1 < n; ++k) {
    const sunrealtype *col_k = a[k];
    sunrealtype b_k = b[k];
    for (sunindextype i = c->l_lo[k]; i < c->l_hi[k]; ++i)
      b[i] -= col_k[i] * b_k;
  }
  for (sunindextype k = n - 1; k > 0; --k) {
    const sunrealtype *col_k = a[k];
    b[k] /= col_k[k];
    sunrealtype b_k = b[k];
    for (sunindextype i = c->u_lo[k]; i < c->u_hi[k]; ++i)
      b[i] -= col_k[i] * b_k;
  }
  b[0] /= a[0][0];
}

static SUNLinearSolver_Type dk_get_type(SUNLinearSolver S) {
  (void)S;
  return SUNLINEARSOLVER_DIRECT;
}

static SUNLinearSolver_ID dk_get_id(SUNLinearSolver S) {
  (void)S;
  return SUNLINEARSOLVER_CUSTOM;
}

static int dk_initialize(SUNLinearSolver S) {
  ((dk_content *)S->content)->last_flag = SUNLS_SUCCESS;
  return SUNLS_SUCCESS;
}

static int dk_setup(SUNLinearSolver S, SUNMatrix A) {
  dk_content *c = S->content;
  if (SUNMatGetID(A) != SUNMATRIX_DENSE || SUNDenseMatrix_Rows(A) != c->n ||
      SUNDenseMatrix_Columns(A) != c->n)
    return c->last_flag = SUNLS_ILL_INPUT;
  c->last_flag = dk_lu_factor(c, SUNDenseMatrix_Cols(A));
  return c->last_flag > 0 ? SUNLS_LUFACT_FAIL : SUNLS_SUCCESS;
}

static int dk_solve(SUNLinearSolver S, SUNMatrix A, N_Vector x, N_Vector b,
                    sunrealtype tol) {
  (void)tol;
  dk_content *c = S->content;
  N_VScale(1.0, b, x);
  dk_lu_solve(c, SUNDenseMatrix_Cols(A), N_VGetArrayPointer(x));
  c->last_flag = SUNLS_SUCCESS;
  return SUNLS_SUCCESS;
}

static sunindextype dk_last_flag(SUNLinearSolver S) {
  return ((dk_content *)S->content)->last_flag;
}

static int dk_free(SUNLinearSolver S) {
  if (!S) return SUNLS_SUCCESS;
  dk_content *c = S->content;
  if (c) {
    free(c->pivots);
    free(c->l_lo);
    free(c->l_hi);
    free(c->u_lo);
    free(c->u_hi);
    free(c);
  }
  S->content = NULL;
  SUNLinSolFreeEmpty(S);
  return SUNLS_SUCCESS;
}

/* venosim's dense LU solver for n x n dense matrices, or NULL. */
static SUNLinearSolver dk_solver_create(sunindextype n, SUNContext ctx) {
  SUNLinearSolver S = SUNLinSolNewEmpty(ctx);
  if (!S) return NULL;
  S->ops->gettype = dk_get_type;
  S->ops->getid = dk_get_id;
  S->ops->initialize = dk_initialize;
  S->ops->setup = dk_setup;
  S->ops->solve = dk_solve;
  S->ops->lastflag = dk_last_flag;
  S->ops->free = dk_free;
  dk_content *c = calloc(1, sizeof *c);
  S->content = c;
  if (!c) {
    dk_free(S);
    return NULL;
  }
  c->n = n;
  c->pivots = calloc((size_t)n + 1, sizeof *c->pivots);
  c->l_lo = calloc((size_t)n + 1, sizeof *c->l_lo);
  c->l_hi = calloc((size_t)n + 1, sizeof *c->l_hi);
  c->u_lo = calloc((size_t)n + 1, sizeof *c->u_lo);
  c->u_hi = calloc((size_t)n + 1, sizeof *c->u_hi);
  if (!c->pivots || !c->l_lo || !c->l_hi || !c->u_lo || !c->u_hi) {
    dk_free(S);
    return NULL;
  }
  return S;
}

static int dk_zero(SUNMatrix A) {
  memset(SUNDenseMatrix_Data(A), 0,
         (size_t)SUNDenseMatrix_LData(A) * sizeof(sunrealtype));
  return SUNMAT_SUCCESS;
}

static int dk_copy(SUNMatrix A, SUNMatrix B) {
  if (SUNDenseMatrix_Rows(A) != SUNDenseMatrix_Rows(B) ||
      SUNDenseMatrix_Columns(A) != SUNDenseMatrix_Columns(B))
    return SUNMAT_ILL_INPUT;
  memcpy(SUNDenseMatrix_Data(B), SUNDenseMatrix_Data(A),
         (size_t)SUNDenseMatrix_LData(A) * sizeof(sunrealtype));
  return SUNMAT_SUCCESS;
}

/* A = c A + I */
static int dk_scale_add_identity(sunrealtype c, SUNMatrix A) {
  sunindextype m = SUNDenseMatrix_Rows(A), n = SUNDenseMatrix_Columns(A);
  sunrealtype *d = SUNDenseMatrix_Data(A);
  for (sunindextype k = 0; k < m * n; ++k) d[k] *= c;
  for (sunindextype j = 0; j < n && j < m; ++j) d[j + j * m] += 1.0;
  return SUNMAT_SUCCESS;
}

static void use_fast_dense_matrix_ops(SUNMatrix A);

/* CVODE keeps the last Jacobian in a clone of A: it gets the kernels too. */
static SUNMatrix dk_clone(SUNMatrix A) {
  SUNMatrix B = SUNDenseMatrix(SUNDenseMatrix_Rows(A),
                               SUNDenseMatrix_Columns(A), A->sunctx);
  if (B) use_fast_dense_matrix_ops(B);
  return B;
}

static void use_fast_dense_matrix_ops(SUNMatrix A) {
  A->ops->zero = dk_zero;
  A->ops->copy = dk_copy;
  A->ops->scaleaddi = dk_scale_add_identity;
  A->ops->clone = dk_clone;
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
  use_fast_vector_ops(y);
  use_fast_vector_ops(abstol);
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
    use_fast_dense_matrix_ops(A);
    VS_CV_ALLOC(LS = dk_solver_create((sunindextype)n, ctx));
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
