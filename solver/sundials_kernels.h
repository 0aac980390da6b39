/* Compiled copies of the SUNDIALS kernels CVODE spends its time in
 * (sundials_kernels.c): vector operations, dense matrix operations and a
 * dense LU solver, put into SUNDIALS' own operation tables. */
#ifndef VENOSIM_SUNDIALS_KERNELS_H
#define VENOSIM_SUNDIALS_KERNELS_H

#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_linearsolver.h>
#include <sundials/sundials_matrix.h>

/* Puts the vector kernels into serial vector v's operation table (CVODE's
 * work vectors are clones of y and inherit it). */
void vs_kernels_vector_ops(N_Vector v);

/* Puts the dense matrix kernels (zero, copy, scale-add-identity, clone)
 * into dense matrix A's operation table. */
void vs_kernels_dense_matrix_ops(SUNMatrix A);

/* A direct linear solver for n x n dense matrices (LU with partial
 * pivoting, skipping the factors' zeros), or NULL out of memory. */
SUNLinearSolver vs_kernels_dense_solver(sunindextype n, SUNContext ctx);

#endif /* VENOSIM_SUNDIALS_KERNELS_H */
