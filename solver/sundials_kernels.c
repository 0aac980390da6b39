/* Compiled copies of the SUNDIALS kernels CVODE spends its time in
 * (sundials_kernels.h).
 *
 * Debian's SUNDIALS 6.4.1 packages are compiled without optimisation (-O0;
 * objdump shows every operand going through the stack), so the library's
 * vector operations and dense LU cost several times what they should: for
 * the default leg on one compartment per segment (34 states) they took
 * more than half of a run. These
 * are the same algorithms, compiled with venosim's flags and installed
 * through SUNDIALS' documented extension points (operation tables, a custom
 * SUNLinearSolver). Each does the same floating-point operations in the
 * same order as the library, so results are bit-identical (checked on
 * healthy_leg: CVODE's counters and every output series). Should the
 * library be built with optimisation, they can go. */
#include "sundials_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sunmatrix/sunmatrix_dense.h>

/* ---- vector kernels -----------------------------------------------------
 * Debian's SUNDIALS 6.4.1 packages are compiled without optimisation (-O0:
 * every operand goes through the stack), so its serial vector operations
 * cost some 20 instructions per element, and CVODE calls them dozens of
 * times per step: for the leg on one compartment per segment (34 states)
 * they took more time than the model. The operations below, compiled with venosim, replace them in
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
void vs_kernels_vector_ops(N_Vector v) {
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
 * for the leg on one compartment per segment (34 states), factoring and
 * solving took 40 % of the run.
 * venosim's own dense LU replaces SUNLinSol_Dense: the library's algorithm
 * (LU with partial pivoting by columns, denseGETRF and denseGETRS) with one
 * addition, it skips the rows where a column of the factors is zero at
 * either end. The Jacobian of a network is sparse (116 non-zeros of
 * 34 x 34 for that leg) and its LU factors stay far from full, so the
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

SUNLinearSolver vs_kernels_dense_solver(sunindextype n, SUNContext ctx) {
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


/* CVODE keeps the last Jacobian in a clone of A: it gets the kernels too. */
static SUNMatrix dk_clone(SUNMatrix A) {
  SUNMatrix B = SUNDenseMatrix(SUNDenseMatrix_Rows(A),
                               SUNDenseMatrix_Columns(A), A->sunctx);
  if (B) vs_kernels_dense_matrix_ops(B);
  return B;
}

void vs_kernels_dense_matrix_ops(SUNMatrix A) {
  A->ops->zero = dk_zero;
  A->ops->copy = dk_copy;
  A->ops->scaleaddi = dk_scale_add_identity;
  A->ops->clone = dk_clone;
}
