/* Time-varying inputs (waveform.h). */
#include "venosim/waveform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/error.h"
#include "venosim/units.h"

vs_waveform vs_waveform_constant(double value) {
  vs_waveform w;
  memset(&w, 0, sizeof w);
  w.kind = VS_WAVE_CONSTANT;
  w.value = value;
  return w;
}

int vs_waveform_set_table(vs_waveform *w, size_t n, const double *t,
                          const double *v, int periodic) {
  if (!w || n == 0 || !t || !v || (periodic && n < 2)) return VS_EINVAL;
  for (size_t k = 0; k < n; ++k) {
    if (!isfinite(t[k]) || !isfinite(v[k])) return VS_EINVAL;
    if (k > 0 && !(t[k] > t[k - 1])) return VS_EINVAL;
  }
  double *tc = malloc(n * sizeof *tc);
  double *vc = malloc(n * sizeof *vc);
  if (!tc || !vc) {
    free(tc);
    free(vc);
    return VS_ENOMEM;
  }
  memcpy(tc, t, n * sizeof *tc);
  memcpy(vc, v, n * sizeof *vc);
  vs_waveform_clear(w);
  w->kind = VS_WAVE_TABLE;
  w->n = n;
  w->t = tc;
  w->v = vc;
  w->periodic = periodic ? 1 : 0;
  return VS_OK;
}

int vs_waveform_copy(vs_waveform *dst, const vs_waveform *src) {
  if (!dst || !src) return VS_EINVAL;
  *dst = *src;
  if (src->kind != VS_WAVE_TABLE) {
    dst->t = dst->v = NULL;
    dst->n = 0;
    return VS_OK;
  }
  dst->t = dst->v = NULL;
  dst->kind = VS_WAVE_CONSTANT;
  return vs_waveform_set_table(dst, src->n, src->t, src->v, src->periodic);
}

void vs_waveform_clear(vs_waveform *w) {
  if (!w) return;
  free(w->t);
  free(w->v);
  *w = vs_waveform_constant(0.0);
}

/* Map t into [t0, t_end) for a periodic table; returns the shift applied. */
static double periodic_shift(const vs_waveform *w, double t) {
  double period = w->t[w->n - 1] - w->t[0];
  return floor((t - w->t[0]) / period) * period;
}

/* Whether t0 <= t < t_{n-1} lies in the table's interval [t_lo, t_lo+1). */
static int in_interval(const vs_waveform *w, size_t lo, double t) {
  return lo + 1 < w->n && w->t[lo] <= t && t < w->t[lo + 1];
}

/* The interval [t_lo, t_hi) holding t0 < t < t_{n-1}, by binary search. */
static size_t find_interval(const vs_waveform *w, double t) {
  size_t lo = 0, hi = w->n - 1;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (w->t[mid] <= t)
      lo = mid;
    else
      hi = mid;
  }
  return lo;
}

vs_wave_place vs_waveform_locate(const vs_waveform *w, double t,
                                 size_t *hint) {
  vs_wave_place at = {.side = 0, .lo = 0, .s = 0.0};
  if (w->periodic) t -= periodic_shift(w, t);
  if (t <= w->t[0]) {
    at.side = -1;
    return at;
  }
  if (t >= w->t[w->n - 1]) {
    at.side = 1;
    return at;
  }
  /* Times advance in small steps: the last interval, then the next one,
   * before a search. Either way it is the interval holding t. */
  size_t lo = hint ? *hint : 0;
  if (!in_interval(w, lo, t))
    lo = in_interval(w, lo + 1, t) ? lo + 1 : find_interval(w, t);
  if (hint) *hint = lo;
  at.lo = lo;
  at.s = (t - w->t[lo]) / (w->t[lo + 1] - w->t[lo]);
  return at;
}

double vs_waveform_eval_at(const vs_waveform *w, const vs_wave_place *at) {
  if (at->side < 0) return w->v[0];
  if (at->side > 0) return w->v[w->n - 1];
  return w->v[at->lo] + at->s * (w->v[at->lo + 1] - w->v[at->lo]);
}

int vs_waveform_same_knots(const vs_waveform *a, const vs_waveform *b) {
  return a->kind == VS_WAVE_TABLE && b->kind == VS_WAVE_TABLE &&
         a->n == b->n && a->periodic == b->periodic &&
         (a->t == b->t || memcmp(a->t, b->t, a->n * sizeof *a->t) == 0);
}

/* Constants and sines; 0 for a table. */
static int eval_formula(const vs_waveform *w, double t, double *v) {
  switch (w->kind) {
  case VS_WAVE_CONSTANT:
    *v = w->value;
    return 1;
  case VS_WAVE_SINE:
    *v = w->value +
         w->amplitude * sin(2.0 * VS_PI * (t - w->phase_s) / w->period_s);
    return 1;
  case VS_WAVE_TABLE:
    break;
  }
  return 0;
}

double vs_waveform_eval(const vs_waveform *w, double t) {
  return vs_waveform_eval_hint(w, t, NULL);
}

double vs_waveform_eval_hint(const vs_waveform *w, double t, size_t *hint) {
  double v;
  if (eval_formula(w, t, &v)) return v;
  vs_wave_place at = vs_waveform_locate(w, t, hint);
  return vs_waveform_eval_at(w, &at);
}

int vs_waveform_next_breakpoint(const vs_waveform *w, double t,
                                double *t_next) {
  if (w->kind != VS_WAVE_TABLE || w->n < 2) return 0;
  double shift = w->periodic ? periodic_shift(w, t) : 0.0;
  /* Two passes cover the wrap into the next period of a periodic table. */
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t k = 0; k < w->n; ++k) {
      double tk = w->t[k] + shift;
      /* A relative guard keeps a stop exactly on a knot from finding it again. */
      if (tk > t + VS_WAVE_KNOT_GUARD * (1.0 + fabs(t))) {
        *t_next = tk;
        return 1;
      }
    }
    if (!w->periodic) return 0;
    shift += w->t[w->n - 1] - w->t[0];
  }
  return 0;
}

int vs_waveform_is_constant(const vs_waveform *w) {
  switch (w->kind) {
  case VS_WAVE_CONSTANT:
    return 1;
  case VS_WAVE_SINE:
    return w->amplitude == 0.0;
  case VS_WAVE_TABLE:
    for (size_t k = 1; k < w->n; ++k)
      if (w->v[k] != w->v[0]) return 0;
    return 1;
  }
  return 1;
}

double vs_waveform_min(const vs_waveform *w) {
  switch (w->kind) {
  case VS_WAVE_CONSTANT:
    return w->value;
  case VS_WAVE_SINE:
    return w->value - fabs(w->amplitude);
  case VS_WAVE_TABLE:
    break;
  }
  double m = w->v[0];
  for (size_t k = 1; k < w->n; ++k) m = fmin(m, w->v[k]);
  return m;
}

double vs_waveform_max(const vs_waveform *w) {
  switch (w->kind) {
  case VS_WAVE_CONSTANT:
    return w->value;
  case VS_WAVE_SINE:
    return w->value + fabs(w->amplitude);
  case VS_WAVE_TABLE:
    break;
  }
  double m = w->v[0];
  for (size_t k = 1; k < w->n; ++k) m = fmax(m, w->v[k]);
  return m;
}
