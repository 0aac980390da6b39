/* Disease and treatment of the leg (leg.h): lesions on segments, treatments
 * applied to them in order, and the state each segment is left in. The
 * mechanics of each treatment (clot removal, balloon recoil, stent force
 * balance, stockings) are treatment.h's; this file only decides which
 * segment they act on and how their results combine (PHYSICS.md 1.3, 1.6).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/error.h"
#include "venosim/leg.h"

/* A stent cannot open a total occlusion by itself: the wire and the
 * pre-dilation that cross it leave a channel about this wide, which the
 * force balance then opens (an input of no public value; it only matters
 * for a stent placed across an occlusion). */
#define CROSSING_CHANNEL_MM 2.0

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_msg(char *msg, size_t msglen, const char *fmt, ...) {
  if (!msg || !msglen) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, msglen, fmt, ap);
  va_end(ap);
}

static const char *lesion_kind_name(vs_lesion_kind k) {
  switch (k) {
  case VS_LESION_CLOT: return "clot";
  case VS_LESION_COMPRESSION: return "compression";
  case VS_LESION_FILTER: return "filter";
  default: return "stenosis";
  }
}

vs_leg_lesion vs_leg_lesion_default(vs_lesion_kind kind, const char *segment) {
  vs_leg_lesion l;
  memset(&l, 0, sizeof l);
  l.kind = kind;
  snprintf(l.segment, sizeof l.segment, "%s", segment ? segment : "");
  l.area_ratio = 1.0;
  l.length_cm = 1.0;
  /* A scarred post-thrombotic wall is stiffer and collapses less; clot,
   * compression and filter leave the wall as it was. */
  l.wall_stiffening = kind == VS_LESION_STENOSIS
                          ? VS_LEG_SCAR_WALL_STIFFENING_DEFAULT
                          : 1.0;
  l.scar_stiffness_mmhg = VS_LESION_STIFFNESS_DEFAULT_MMHG;
  return l;
}

/* Lumen left by a lesion as written (before any treatment). */
static double lesion_area(const vs_leg_lesion *l) {
  return l->kind == VS_LESION_CLOT || l->kind == VS_LESION_FILTER
             ? vs_clot_area_ratio(l->occupied_fraction)
             : l->area_ratio;
}

static long segment_index(const vs_leg *leg, const char *name) {
  for (size_t i = 0; i < leg->n_segments; ++i)
    if (strcmp(leg->segments[i].name, name) == 0) return (long)i;
  return -1;
}

static long lesion_index(const vs_leg *leg, const char *segment) {
  for (size_t i = 0; i < leg->n_lesions; ++i)
    if (strcmp(leg->lesions[i].segment, segment) == 0) return (long)i;
  return -1;
}

int vs_leg_add_lesion(vs_leg *leg, const vs_leg_lesion *l, char *msg,
                      size_t msglen) {
  if (!leg || !l) return VS_EINVAL;
  long s = segment_index(leg, l->segment);
  if (s < 0) {
    set_msg(msg, msglen, "no segment named '%s' in the default leg",
            l->segment);
    return VS_EINVAL;
  }
  if (lesion_index(leg, l->segment) >= 0) {
    set_msg(msg, msglen,
            "segment '%s' has a lesion already (one per segment: describe "
            "the worst narrowing)",
            l->segment);
    return VS_EINVAL;
  }
  const vs_leg_segment *seg = &leg->segments[s];
  int clot = l->kind == VS_LESION_CLOT || l->kind == VS_LESION_FILTER;
  if (clot && !(l->occupied_fraction >= 0 && l->occupied_fraction <= 1)) {
    set_msg(msg, msglen, "%s on '%s': occupied_fraction must lie in [0, 1]",
            lesion_kind_name(l->kind), l->segment);
    return VS_EINVAL;
  }
  if (!clot && !(l->area_ratio > 0 && l->area_ratio <= 1)) {
    set_msg(msg, msglen,
            "%s on '%s': area_ratio must lie in (0, 1] (a total occlusion "
            "is a clot with occupied_fraction 1)",
            lesion_kind_name(l->kind), l->segment);
    return VS_EINVAL;
  }
  if (!(l->length_cm > 0) || !(l->length_cm <= seg->length_cm)) {
    set_msg(msg, msglen,
            "%s on '%s': length_cm %g must be positive and at most the "
            "segment's %g cm",
            lesion_kind_name(l->kind), l->segment, l->length_cm,
            seg->length_cm);
    return VS_EINVAL;
  }
  if (!(l->wall_stiffening >= 1 && l->wall_stiffening <= 1000) ||
      !(l->external_mmhg >= 0 && l->external_mmhg <= 300) ||
      !(l->scar_stiffness_mmhg >= VS_LESION_STIFFNESS_MIN_MMHG &&
        l->scar_stiffness_mmhg <= VS_LESION_STIFFNESS_MAX_MMHG)) {
    set_msg(msg, msglen,
            "%s on '%s': wall_stiffening in [1, 1000], external_mmhg in "
            "[0, 300] and scar_stiffness_mmhg in [%g, %g]",
            lesion_kind_name(l->kind), l->segment,
            VS_LESION_STIFFNESS_MIN_MMHG, VS_LESION_STIFFNESS_MAX_MMHG);
    return VS_EINVAL;
  }
  vs_leg_lesion *g =
      realloc(leg->lesions, (leg->n_lesions + 1) * sizeof *leg->lesions);
  if (!g) return VS_ENOMEM;
  leg->lesions = g;
  leg->lesions[leg->n_lesions++] = *l;
  return VS_OK;
}

vs_leg_treatment vs_leg_treatment_default(vs_treatment_kind kind) {
  vs_leg_treatment t;
  memset(&t, 0, sizeof t);
  t.kind = kind;
  t.recoil = VS_BALLOON_RECOIL_DEFAULT;
  t.stent = vs_stent_default(VS_STENT_NITINOL, 14.0, 6.0);
  t.adjacent_narrowing = VS_STENT_ADJACENT_NARROWING_DEFAULT;
  t.adjacent_length_cm = VS_LEG_ADJACENT_LENGTH_DEFAULT_CM;
  t.stent_wall_stiffening = VS_STENT_WALL_STIFFENING_DEFAULT;
  t.stocking = vs_stocking_class(2);
  switch (kind) {
  case VS_TREAT_BALLOON: t.diameter_mm = 14.0; break;
  case VS_TREAT_STENT:
    t.diameter_mm = t.stent.nominal_diameter_mm;
    t.length_cm = t.stent.length_cm;
    break;
  case VS_TREAT_PALMA:
    t.diameter_mm = VS_LEG_PALMA_DIAMETER_DEFAULT_MM;
    t.length_cm = VS_LEG_PALMA_LENGTH_DEFAULT_CM;
    break;
  default: break;
  }
  return t;
}

static const char *treatment_name(vs_treatment_kind k) {
  switch (k) {
  case VS_TREAT_CLOT_REMOVAL: return "clot_removal";
  case VS_TREAT_BALLOON: return "balloon";
  case VS_TREAT_STENT: return "stent";
  case VS_TREAT_STOCKINGS: return "stockings";
  default: return "palma";
  }
}

int vs_leg_add_treatment(vs_leg *leg, const vs_leg_treatment *t, char *msg,
                         size_t msglen) {
  if (!leg || !t) return VS_EINVAL;
  const char *kind = treatment_name(t->kind);
  if (t->kind == VS_TREAT_CLOT_REMOVAL || t->kind == VS_TREAT_BALLOON ||
      t->kind == VS_TREAT_STENT) {
    long s = segment_index(leg, t->segment);
    long l = s >= 0 ? lesion_index(leg, t->segment) : -1;
    if (s < 0) {
      set_msg(msg, msglen, "%s: no segment named '%s' in the default leg", kind,
              t->segment);
      return VS_EINVAL;
    }
    if (l < 0) {
      set_msg(msg, msglen, "%s: segment '%s' has no lesion to treat", kind,
              t->segment);
      return VS_EINVAL;
    }
    const vs_leg_lesion *les = &leg->lesions[l];
    if (t->kind == VS_TREAT_CLOT_REMOVAL &&
        (les->kind != VS_LESION_CLOT && les->kind != VS_LESION_FILTER)) {
      set_msg(msg, msglen,
              "clot_removal: the lesion on '%s' is a %s, not a clot",
              t->segment, lesion_kind_name(les->kind));
      return VS_EINVAL;
    }
    if (t->kind == VS_TREAT_CLOT_REMOVAL &&
        !(t->residual_fraction >= 0 && t->residual_fraction <= 1)) {
      set_msg(msg, msglen, "clot_removal: residual_fraction in [0, 1]");
      return VS_EINVAL;
    }
    if (t->kind == VS_TREAT_BALLOON &&
        (!(t->diameter_mm > 0 && t->diameter_mm <= 40) ||
         !(t->recoil >= VS_BALLOON_RECOIL_MIN &&
           t->recoil <= VS_BALLOON_RECOIL_MAX))) {
      set_msg(msg, msglen,
              "balloon: diameter_mm in (0, 40] and recoil in [0, 1]");
      return VS_EINVAL;
    }
    if (t->kind == VS_TREAT_STENT) {
      char why[256] = "";
      const vs_leg_segment *seg = &leg->segments[s];
      if (vs_stent_validate(&t->stent, why, sizeof why)) {
        set_msg(msg, msglen, "stent on '%s': %s", t->segment, why);
        return VS_EINVAL;
      }
      if (t->stent.length_cm > seg->length_cm) {
        set_msg(msg, msglen,
                "stent on '%s': length_cm %g is longer than the segment "
                "(%g cm)",
                t->segment, t->stent.length_cm, seg->length_cm);
        return VS_EINVAL;
      }
      if (t->stent.length_cm < les->length_cm) {
        set_msg(msg, msglen,
                "stent on '%s': length_cm %g does not cover the %g cm "
                "lesion",
                t->segment, t->stent.length_cm, les->length_cm);
        return VS_EINVAL;
      }
      if (!(t->adjacent_narrowing >= VS_STENT_ADJACENT_NARROWING_MIN &&
            t->adjacent_narrowing <= VS_STENT_ADJACENT_NARROWING_MAX) ||
          !(t->adjacent_length_cm > 0) ||
          !(t->stent_wall_stiffening >= VS_STENT_WALL_STIFFENING_MIN &&
            t->stent_wall_stiffening <= VS_STENT_WALL_STIFFENING_MAX)) {
        set_msg(msg, msglen,
                "stent on '%s': adjacent_narrowing, adjacent_length_cm or "
                "wall_stiffening out of range",
                t->segment);
        return VS_EINVAL;
      }
    }
  } else if (t->kind == VS_TREAT_STOCKINGS) {
    char why[256] = "";
    if (vs_stocking_validate(&t->stocking, why, sizeof why)) {
      set_msg(msg, msglen, "stockings: %s", why);
      return VS_EINVAL;
    }
  } else if (!(t->diameter_mm > 0 && t->diameter_mm <= 15) ||
             !(t->length_cm > 0 && t->length_cm <= 100)) {
    set_msg(msg, msglen,
            "palma: graft diameter_mm in (0, 15] and length_cm in (0, 100]");
    return VS_EINVAL;
  }
  vs_leg_treatment *g = realloc(leg->treatments,
                                (leg->n_treatments + 1) * sizeof *g);
  if (!g) return VS_ENOMEM;
  leg->treatments = g;
  leg->treatments[leg->n_treatments++] = *t;
  return VS_OK;
}

int vs_leg_disease_state(const vs_leg *leg, vs_leg_segment_state *st,
                         vs_leg_site *site, char *msg, size_t msglen) {
  if (!leg || !st || !site) return VS_EINVAL;
  memset(site, 0, sizeof *site);
  for (size_t i = 0; i < leg->n_segments; ++i)
    st[i] = (vs_leg_segment_state){.area_ratio = 1.0,
                                   .stiffening = 1.0,
                                   .stent_stiffening = 1.0};
  size_t nl = leg->n_lesions;
  double *area = malloc((nl + 1) * sizeof *area);
  double *occupied = malloc((nl + 1) * sizeof *occupied);
  double *adjacent = malloc((leg->n_segments + 1) * sizeof *adjacent);
  double *adj_len = calloc(leg->n_segments + 1, sizeof *adj_len);
  int rc = VS_OK;
  if (!area || !occupied || !adjacent || !adj_len) {
    rc = VS_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < leg->n_segments; ++i) adjacent[i] = 1.0;
  for (size_t l = 0; l < nl; ++l) {
    const vs_leg_lesion *les = &leg->lesions[l];
    long s = segment_index(leg, les->segment);
    if (s < 0) {
      set_msg(msg, msglen, "lesion on unknown segment '%s'", les->segment);
      rc = VS_EINVAL;
      goto done;
    }
    area[l] = lesion_area(les);
    occupied[l] = les->occupied_fraction;
    st[s].length_cm = les->length_cm;
    st[s].stiffening = les->wall_stiffening;
    st[s].external_mmhg = les->external_mmhg;
  }
  for (size_t k = 0; k < leg->n_treatments; ++k) {
    const vs_leg_treatment *t = &leg->treatments[k];
    if (t->kind == VS_TREAT_STOCKINGS || t->kind == VS_TREAT_PALMA) continue;
    long s = segment_index(leg, t->segment);
    long l = s >= 0 ? lesion_index(leg, t->segment) : -1;
    if (l < 0) {
      set_msg(msg, msglen, "%s: segment '%s' has no lesion to treat",
              treatment_name(t->kind), t->segment);
      rc = VS_EINVAL;
      goto done;
    }
    const vs_leg_segment *seg = &leg->segments[s];
    double d0 = seg->diameter_mm;
    switch (t->kind) {
    case VS_TREAT_CLOT_REMOVAL:
      occupied[l] = vs_clot_after_removal(occupied[l], t->residual_fraction);
      area[l] = vs_clot_area_ratio(occupied[l]);
      break;
    case VS_TREAT_BALLOON: {
      double d = vs_balloon_lumen_mm(d0 * sqrt(area[l]), t->diameter_mm,
                                     t->recoil);
      area[l] = (d / d0) * (d / d0);
      break;
    }
    default: { /* stent */
      const vs_leg_lesion *les = &leg->lesions[l];
      vs_lesion_load load = {
          .lumen_mm = fmax(d0 * sqrt(area[l]), CROSSING_CHANNEL_MM),
          .stiffness_mmhg = les->scar_stiffness_mmhg,
          .external_mmhg = les->external_mmhg};
      double d = NAN;
      if (vs_stent_deploy(&t->stent, &load, &d)) {
        set_msg(msg, msglen, "stent on '%s' cannot be deployed",
                t->segment);
        rc = VS_EINVAL;
        goto done;
      }
      /* A stent no wider than the lesion's lumen does not touch it: blood
       * flows through and around its struts, and the lumen stays. */
      d = fmax(d, load.lumen_mm);
      area[l] = (d / d0) * (d / d0);
      st[s].stented_length_cm = t->stent.length_cm;
      st[s].stent_lumen_mm = d;
      st[s].stent_stiffening = t->stent_wall_stiffening;
      /* The segment draining into the stented one is narrowed at the
       * stent's end (Al-Hakim 2018): deep and pelvic neighbours only. */
      for (size_t j = 0; j < leg->n_segments; ++j) {
        const vs_leg_segment *up = &leg->segments[j];
        if (strcmp(up->drains_to, seg->name) != 0 ||
            up->system == VS_LEG_SUPERFICIAL)
          continue;
        adjacent[j] *= vs_stent_adjacent_area_ratio(t->adjacent_narrowing);
        adj_len[j] = fmax(adj_len[j], t->adjacent_length_cm);
      }
    }
    }
  }
  for (size_t l = 0; l < nl; ++l) {
    long s = segment_index(leg, leg->lesions[l].segment);
    st[s].area_ratio = area[l];
  }
  for (size_t j = 0; j < leg->n_segments; ++j)
    if (adjacent[j] < 1.0) {
      st[j].area_ratio = fmin(st[j].area_ratio, 1.0) * adjacent[j];
      st[j].length_cm = fmax(st[j].length_cm, adj_len[j]);
    }
  /* The site: the most severe lesion as the patient has it (least lumen
   * left before treatment; the first of equals), so that every arm of a
   * patient reports the same segment. */
  long site_l = -1;
  for (size_t l = 0; l < nl; ++l)
    if (site_l < 0 ||
        lesion_area(&leg->lesions[l]) < lesion_area(&leg->lesions[site_l]))
      site_l = (long)l;
  if (site_l >= 0) {
    const vs_leg_lesion *les = &leg->lesions[site_l];
    long s = segment_index(leg, les->segment);
    snprintf(site->segment, sizeof site->segment, "%s", les->segment);
    site->area_ratio = area[site_l];
    site->lumen_mm = leg->segments[s].diameter_mm * sqrt(fmax(0, area[site_l]));
    site->stented = st[s].stent_lumen_mm > 0;
  }
done:
  free(area);
  free(occupied);
  free(adjacent);
  free(adj_len);
  if (rc == VS_ENOMEM) set_msg(msg, msglen, "out of memory");
  return rc;
}
