/**
 * @file waveform.h
 * @brief Time-varying inputs: constants, piecewise-linear tables, sinusoids.
 *
 * A waveform drives every time-dependent input of a network: an external
 * pressure on a compartment (calf pump, stocking, abdominal pressure), a
 * prescribed boundary pressure or flow, the tilt of the body.
 *
 *   constant:  w(t) = value
 *   table:     piecewise-linear through (t_k, v_k), k = 0..n-1; held constant
 *              outside [t_0, t_{n-1}], or repeated with period t_{n-1} - t_0
 *              when periodic (then v_{n-1} should equal v_0)
 *   sine:      w(t) = value + amplitude * sin(2 pi (t - phase_s) / period_s)
 *
 * Table knots are breakpoints: the integrator stops on them so that BDF never
 * steps across a kink in the forcing (DESIGN.md, pitfalls).
 */
#ifndef VENOSIM_WAVEFORM_H
#define VENOSIM_WAVEFORM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  VS_WAVE_CONSTANT = 0,
  VS_WAVE_TABLE,
  VS_WAVE_SINE
} vs_wave_kind;

typedef struct {
  vs_wave_kind kind;
  double value;     /**< constant value; mean of a sine */
  double amplitude; /**< sine amplitude */
  double period_s;  /**< sine period, s (> 0) */
  double phase_s;   /**< sine time shift, s */
  size_t n;         /**< table: number of knots (>= 1) */
  double *t;        /**< table: strictly increasing times, s (owned) */
  double *v;        /**< table: values (owned) */
  int periodic;     /**< table: repeat with period t[n-1] - t[0] */
} vs_waveform;

/** A constant waveform (owns nothing; vs_waveform_clear is still safe). */
vs_waveform vs_waveform_constant(double value);

/** Make `w` a table; copies t and v. Times must be strictly increasing and
 *  finite, n >= 1, and a periodic table needs n >= 2. Returns 0 or
 *  VS_EINVAL / VS_ENOMEM; `w` is left unchanged on error. */
int vs_waveform_set_table(vs_waveform *w, size_t n, const double *t,
                          const double *v, int periodic);

/** Deep copy `src` into `dst` (dst must be cleared or uninitialised). */
int vs_waveform_copy(vs_waveform *dst, const vs_waveform *src);

/** Free owned arrays and reset to the constant 0. */
void vs_waveform_clear(vs_waveform *w);

/** Value at time t. */
double vs_waveform_eval(const vs_waveform *w, double t);

/** The same value as vs_waveform_eval, found faster for times that
 *  advance little between calls: the search for a table's interval starts
 *  at *hint, the interval of the last call, which the caller keeps (start
 *  it at 0; one hint per waveform; NULL: no hint). */
double vs_waveform_eval_hint(const vs_waveform *w, double t, size_t *hint);

/** Where a time falls among a table's knots (after mapping a periodic
 *  table into its first period): before the first knot (side -1), after
 *  the last (side +1), or in the interval [t_lo, t_lo+1) at the fraction
 *  s = (t - t_lo) / (t_lo+1 - t_lo) (side 0). */
typedef struct {
  int side;
  size_t lo;
  double s;
} vs_wave_place;

/** The place of t in table w (w must be a table); the search starts at
 *  *hint as in vs_waveform_eval_hint (NULL: no hint). */
vs_wave_place vs_waveform_locate(const vs_waveform *w, double t, size_t *hint);

/** The value of table w at a place found by vs_waveform_locate on w or on
 *  any table with the same knots: exactly vs_waveform_eval's value. Tables
 *  over one set of knots (all inputs of a leg run) are located once. */
double vs_waveform_eval_at(const vs_waveform *w, const vs_wave_place *at);

/** 1 if a and b are tables with the same knots (and periodicity). */
int vs_waveform_same_knots(const vs_waveform *a, const vs_waveform *b);

/** Relative guard of vs_waveform_next_breakpoint: a knot counts as after t
 *  only beyond t + VS_WAVE_KNOT_GUARD (1 + |t|), so that an integrator
 *  stopped exactly on a knot does not find that knot again. */
#define VS_WAVE_KNOT_GUARD 1e-12

/** The first breakpoint strictly after t (a table knot, repeated for a
 *  periodic table; see VS_WAVE_KNOT_GUARD). Returns 1 and sets *t_next if
 *  there is one, else 0. */
int vs_waveform_next_breakpoint(const vs_waveform *w, double t, double *t_next);

/** Smallest and largest values the waveform takes over all time. */
double vs_waveform_min(const vs_waveform *w);
double vs_waveform_max(const vs_waveform *w);

/** 1 if the waveform never changes with time. */
int vs_waveform_is_constant(const vs_waveform *w);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_WAVEFORM_H */
