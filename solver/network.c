/* The lumped network: storage, name resolution, validation (network.h). */
#include "text.h"
#include "venosim/network.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "network_internal.h"
#include "venosim/error.h"
#include "venosim/units.h"

static void index_clear(vs_name_index *x);


/* Grow a typed array by one slot: *cap doubles when full. */
static int grow(void **items, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return VS_OK;
  size_t c = *cap ? 2 * *cap : 8;
  void *g = realloc(*items, c * size);
  if (!g) return VS_ENOMEM;
  *items = g;
  *cap = c;
  return VS_OK;
}

vs_link_spec vs_link_spec_default(void) {
  vs_link_spec s;
  memset(&s, 0, sizeof s);
  s.stenosis = vs_stenosis_young_tsai(1.0, 1.0);
  s.resistance_wave = vs_waveform_constant(0.0);
  s.valve = vs_valve_default();
  return s;
}

int vs_network_create(vs_network **net) {
  if (!net) return VS_EINVAL;
  *net = calloc(1, sizeof **net);
  if (!*net) return VS_ENOMEM;
  (*net)->density_g_cm3 = VS_BLOOD_DENSITY_G_CM3;
  (*net)->viscosity_poise = VS_BLOOD_VISCOSITY_MPA_S * VS_POISE_PER_MPA_S;
  (*net)->tilt_deg = vs_waveform_constant(90.0);
  return VS_OK;
}

void vs_network_free(vs_network **net) {
  if (!net || !*net) return;
  vs_network *n = *net;
  for (size_t i = 0; i < n->n_comp; ++i) {
    free((char *)n->comp[i].name);
    vs_waveform_clear(&n->comp[i].p_ext);
  }
  for (size_t i = 0; i < n->n_pnode; ++i) {
    free((char *)n->pnode[i].name);
    vs_waveform_clear(&n->pnode[i].pressure);
  }
  for (size_t i = 0; i < n->n_link; ++i) {
    free((char *)n->link[i].name);
    free((char *)n->link[i].from);
    free((char *)n->link[i].to);
    vs_waveform_clear(&n->link[i].resistance_wave);
  }
  for (size_t i = 0; i < n->n_src; ++i) {
    free((char *)n->src[i].name);
    free((char *)n->src[i].compartment);
    vs_waveform_clear(&n->src[i].flow);
  }
  for (size_t i = 0; i < n->n_phase; ++i) free(n->phase[i].name);
  free(n->phase);
  free(n->site_link);
  index_clear(&n->node_names);
  index_clear(&n->branch_names);
  free(n->comp);
  free(n->pnode);
  free(n->link);
  free(n->src);
  free(n->link_from);
  free(n->link_to);
  free(n->src_node);
  vs_waveform_clear(&n->tilt_deg);
  free(n);
  *net = NULL;
}

double vs_network_viscosity_mpa_s(const vs_network *net) {
  return net ? net->viscosity_poise / VS_POISE_PER_MPA_S : NAN;
}

int vs_network_set_blood(vs_network *net, double density_g_cm3,
                         double viscosity_mpa_s) {
  if (!net || !(density_g_cm3 > 0) || !(viscosity_mpa_s > 0) ||
      !isfinite(density_g_cm3) || !isfinite(viscosity_mpa_s))
    return VS_EINVAL;
  net->density_g_cm3 = density_g_cm3;
  net->viscosity_poise = viscosity_mpa_s * VS_POISE_PER_MPA_S;
  return VS_OK;
}

int vs_network_set_tilt(vs_network *net, const vs_waveform *tilt_deg) {
  if (!net || !tilt_deg) return VS_EINVAL;
  vs_waveform copy;
  int rc = vs_waveform_copy(&copy, tilt_deg);
  if (rc) return rc;
  vs_waveform_clear(&net->tilt_deg);
  net->tilt_deg = copy;
  return VS_OK;
}

/* ---- names -----------------------------------------------------------------
 * Every name is found through a hash table (open addressing, kept at most
 * half full), so building and validating a network of N elements costs
 * O(N), not O(N^2) string comparisons. A node's value is its compartment
 * index, or -1 - its pressure-node index (pressure nodes are numbered after
 * all compartments, whose count may still grow); a branch's is its link
 * index, or -1 - its flow-source index. Keys are the network's own copies
 * of the names. */

static uint64_t name_hash(const char *s) {
  uint64_t h = UINT64_C(14695981039346656037);
  for (; *s; ++s) h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
  return h;
}

static int *index_slot(const vs_name_index *x, const char *name) {
  if (!x->cap) return NULL;
  for (size_t i = name_hash(name) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
    if (!x->key[i]) return NULL;
    if (strcmp(x->key[i], name) == 0) return &x->val[i];
  }
}

static int index_put(vs_name_index *x, const char *name, int val) {
  if (2 * (x->n + 1) > x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 64;
    const char **key = calloc(cap, sizeof *key);
    int *v = calloc(cap, sizeof *v);
    if (!key || !v) {
      free(key);
      free(v);
      return VS_ENOMEM;
    }
    for (size_t k = 0; k < x->cap; ++k) {
      if (!x->key[k]) continue;
      size_t i = name_hash(x->key[k]) & (cap - 1);
      while (key[i]) i = (i + 1) & (cap - 1);
      key[i] = x->key[k];
      v[i] = x->val[k];
    }
    free(x->key);
    free(x->val);
    x->key = key;
    x->val = v;
    x->cap = cap;
  }
  size_t i = name_hash(name) & (x->cap - 1);
  while (x->key[i]) i = (i + 1) & (x->cap - 1);
  x->key[i] = name;
  x->val[i] = val;
  x->n++;
  return VS_OK;
}

static void index_clear(vs_name_index *x) {
  free(x->key);
  free(x->val);
  memset(x, 0, sizeof *x);
}

static int node_name_taken(const vs_network *net, const char *name) {
  return index_slot(&net->node_names, name) != NULL;
}

static int branch_name_taken(const vs_network *net, const char *name) {
  return index_slot(&net->branch_names, name) != NULL;
}

static int valid_name(const char *name) { return name && name[0] != '\0'; }

int vs_network_add_compartment(vs_network *net, const vs_compartment_spec *s) {
  if (!net || !s || !valid_name(s->name) || node_name_taken(net, s->name))
    return VS_EINVAL;
  if (grow((void **)&net->comp, &net->cap_comp, net->n_comp, sizeof *net->comp))
    return VS_ENOMEM;
  vs_compartment_spec c = *s;
  c.name = vs_text_dup(s->name);
  if (!c.name || vs_waveform_copy(&c.p_ext, &s->p_ext)) {
    free((char *)c.name);
    return VS_ENOMEM;
  }
  if (index_put(&net->node_names, c.name, (int)net->n_comp)) {
    free((char *)c.name);
    vs_waveform_clear(&c.p_ext);
    return VS_ENOMEM;
  }
  net->comp[net->n_comp] = c;
  net->validated = 0;
  return (int)net->n_comp++;
}

int vs_network_add_pressure_node(vs_network *net,
                                 const vs_pressure_node_spec *s) {
  if (!net || !s || !valid_name(s->name) || node_name_taken(net, s->name))
    return VS_EINVAL;
  if (grow((void **)&net->pnode, &net->cap_pnode, net->n_pnode,
           sizeof *net->pnode))
    return VS_ENOMEM;
  vs_pressure_node_spec p = *s;
  p.name = vs_text_dup(s->name);
  if (!p.name || vs_waveform_copy(&p.pressure, &s->pressure)) {
    free((char *)p.name);
    return VS_ENOMEM;
  }
  if (index_put(&net->node_names, p.name, -1 - (int)net->n_pnode)) {
    free((char *)p.name);
    vs_waveform_clear(&p.pressure);
    return VS_ENOMEM;
  }
  net->pnode[net->n_pnode] = p;
  net->validated = 0;
  return (int)net->n_pnode++;
}

int vs_network_add_link(vs_network *net, const vs_link_spec *s) {
  if (!net || !s || !valid_name(s->name) || !valid_name(s->from) ||
      !valid_name(s->to) || branch_name_taken(net, s->name))
    return VS_EINVAL;
  if (grow((void **)&net->link, &net->cap_link, net->n_link, sizeof *net->link))
    return VS_ENOMEM;
  vs_link_spec l = *s;
  l.name = vs_text_dup(s->name);
  l.from = vs_text_dup(s->from);
  l.to = vs_text_dup(s->to);
  int wave_rc = s->resistance_varies
                    ? vs_waveform_copy(&l.resistance_wave, &s->resistance_wave)
                    : (l.resistance_wave = vs_waveform_constant(0.0), VS_OK);
  if (!l.name || !l.from || !l.to || wave_rc) {
    free((char *)l.name);
    free((char *)l.from);
    free((char *)l.to);
    if (!wave_rc) vs_waveform_clear(&l.resistance_wave);
    return VS_ENOMEM;
  }
  if (index_put(&net->branch_names, l.name, (int)net->n_link)) {
    free((char *)l.name);
    free((char *)l.from);
    free((char *)l.to);
    vs_waveform_clear(&l.resistance_wave);
    return VS_ENOMEM;
  }
  net->link[net->n_link] = l;
  net->validated = 0;
  return (int)net->n_link++;
}

int vs_network_add_flow_source(vs_network *net, const vs_flow_source_spec *s) {
  if (!net || !s || !valid_name(s->name) || !valid_name(s->compartment) ||
      branch_name_taken(net, s->name))
    return VS_EINVAL;
  if (grow((void **)&net->src, &net->cap_src, net->n_src, sizeof *net->src))
    return VS_ENOMEM;
  vs_flow_source_spec f = *s;
  f.name = vs_text_dup(s->name);
  f.compartment = vs_text_dup(s->compartment);
  if (!f.name || !f.compartment || vs_waveform_copy(&f.flow, &s->flow)) {
    free((char *)f.name);
    free((char *)f.compartment);
    return VS_ENOMEM;
  }
  if (index_put(&net->branch_names, f.name, -1 - (int)net->n_src)) {
    free((char *)f.name);
    free((char *)f.compartment);
    vs_waveform_clear(&f.flow);
    return VS_ENOMEM;
  }
  net->src[net->n_src] = f;
  net->validated = 0;
  return (int)net->n_src++;
}

int vs_network_add_phase(vs_network *net, const char *name, double t_start_s,
                         double t_end_s) {
  if (!net || !valid_name(name) || !isfinite(t_start_s) ||
      !isfinite(t_end_s) || !(t_end_s >= t_start_s))
    return VS_EINVAL;
  if (grow((void **)&net->phase, &net->cap_phase, net->n_phase,
           sizeof *net->phase))
    return VS_ENOMEM;
  char *copy = vs_text_dup(name);
  if (!copy) return VS_ENOMEM;
  net->phase[net->n_phase].name = copy;
  net->phase[net->n_phase].t_start_s = t_start_s;
  net->phase[net->n_phase].t_end_s = t_end_s;
  return (int)net->n_phase++;
}

int vs_network_set_site(vs_network *net, const char *link,
                        double lumen_diameter_cm) {
  if (!net || (link && !valid_name(link)) || !isfinite(lumen_diameter_cm) ||
      lumen_diameter_cm < 0)
    return VS_EINVAL;
  char *copy = link ? vs_text_dup(link) : NULL;
  if (link && !copy) return VS_ENOMEM;
  free(net->site_link);
  net->site_link = copy;
  net->has_site = 1;
  net->site_lumen_cm = lumen_diameter_cm;
  net->validated = 0;
  return VS_OK;
}

int vs_network_site(const vs_network *net, const char **link,
                    double *lumen_diameter_cm) {
  if (!net || !net->has_site) return 0;
  if (link) *link = net->site_link;
  if (lumen_diameter_cm) *lumen_diameter_cm = net->site_lumen_cm;
  return 1;
}

size_t vs_network_phase_count(const vs_network *net) { return net->n_phase; }

const char *vs_network_phase(const vs_network *net, size_t i,
                             double *t_start_s, double *t_end_s) {
  if (i >= net->n_phase) return NULL;
  if (t_start_s) *t_start_s = net->phase[i].t_start_s;
  if (t_end_s) *t_end_s = net->phase[i].t_end_s;
  return net->phase[i].name;
}

size_t vs_network_compartment_count(const vs_network *net) {
  return net->n_comp;
}
size_t vs_network_pressure_node_count(const vs_network *net) {
  return net->n_pnode;
}
size_t vs_network_link_count(const vs_network *net) { return net->n_link; }
size_t vs_network_flow_source_count(const vs_network *net) {
  return net->n_src;
}

int vs_network_find_node(const vs_network *net, const char *name) {
  const int *v = name ? index_slot(&net->node_names, name) : NULL;
  if (!v) return -1;
  return *v >= 0 ? *v : (int)net->n_comp + (-1 - *v);
}

int vs_network_find_link(const vs_network *net, const char *name) {
  const int *v = name ? index_slot(&net->branch_names, name) : NULL;
  return v && *v >= 0 ? *v : -1;
}

const char *vs_network_node_name(const vs_network *net, size_t i) {
  if (i < net->n_comp) return net->comp[i].name;
  if (i < net->n_comp + net->n_pnode) return net->pnode[i - net->n_comp].name;
  return NULL;
}

const char *vs_network_branch_name(const vs_network *net, size_t i) {
  if (i < net->n_link) return net->link[i].name;
  if (i < net->n_link + net->n_src) return net->src[i - net->n_link].name;
  return NULL;
}

const vs_compartment_spec *vs_network_compartment(const vs_network *net,
                                                  size_t i) {
  return i < net->n_comp ? &net->comp[i] : NULL;
}
const vs_pressure_node_spec *vs_network_pressure_node(const vs_network *net,
                                                      size_t i) {
  return i < net->n_pnode ? &net->pnode[i] : NULL;
}
const vs_link_spec *vs_network_link(const vs_network *net, size_t i) {
  return i < net->n_link ? &net->link[i] : NULL;
}
const vs_flow_source_spec *vs_network_flow_source(const vs_network *net,
                                                  size_t i) {
  return i < net->n_src ? &net->src[i] : NULL;
}

/* 1 if node i is a compartment with a collapsible (tube-law) wall. */
static int is_tube(const vs_network *net, int i) {
  return (size_t)i < net->n_comp && net->comp[i].wall.kind == VS_WALL_TUBE_LAW;
}

static int finite_nonneg(double x) { return isfinite(x) && x >= 0; }

/* Checks one link's own parameters (not its ends). */
static int validate_link(const vs_link_spec *l, char *msg, size_t msglen) {
  if (!finite_nonneg(l->resistance_mmhg_s_ml) ||
      !finite_nonneg(l->inertance_mmhg_s2_ml)) {
    snprintf(msg, msglen, "link '%s': resistance and inertance must be >= 0",
             l->name);
    return VS_ENETWORK;
  }
  if (l->resistance_varies && !(vs_waveform_min(&l->resistance_wave) >= 0)) {
    snprintf(msg, msglen, "link '%s': the resistance waveform goes below 0",
             l->name);
    return VS_ENETWORK;
  }
  if (l->has_valve) {
    char why[160];
    if (vs_valve_validate(&l->valve, why, sizeof why)) {
      snprintf(msg, msglen, "link '%s': %s", l->name, why);
      return VS_ENETWORK;
    }
  }
  int geometry = l->poiseuille || l->geometric_inertance || l->has_stenosis ||
                 l->has_valve;
  if (geometry && !(l->diameter_cm > 0 && isfinite(l->diameter_cm))) {
    snprintf(msg, msglen, "link '%s': needs a positive diameter", l->name);
    return VS_ENETWORK;
  }
  if ((l->poiseuille || l->geometric_inertance) &&
      !(l->length_cm > 0 && isfinite(l->length_cm))) {
    snprintf(msg, msglen, "link '%s': needs a positive length", l->name);
    return VS_ENETWORK;
  }
  if (l->has_valve && l->valve.station_length_cm > 0 && !l->poiseuille) {
    /* The station adds the Poiseuille drop of the rest of its length. */
    snprintf(msg, msglen,
             "link '%s': a valve station needs Poiseuille geometry",
             l->name);
    return VS_ENETWORK;
  }
  if (l->collapsible && !l->poiseuille) {
    snprintf(msg, msglen, "link '%s': collapsible needs Poiseuille geometry",
             l->name);
    return VS_ENETWORK;
  }
  if (l->has_stenosis) {
    const vs_stenosis *s = &l->stenosis;
    if (!(s->area_ratio > 0 && s->area_ratio <= 1) || !(s->length_cm > 0) ||
        !finite_nonneg(s->kt) || !finite_nonneg(s->ku) ||
        !finite_nonneg(s->la_ls) || !finite_nonneg(s->la_ds) ||
        !isfinite(s->length_cm)) {
      snprintf(msg, msglen,
               "link '%s': stenosis needs 0 < area_ratio <= 1, a positive "
               "length and non-negative coefficients",
               l->name);
      return VS_ENETWORK;
    }
  }
  return VS_OK;
}

/* Every compartment must reach a boundary (pressure node or flow source)
 * through links, or its volume is undetermined. Breadth-first search from
 * the boundaries over an adjacency list. */
static int check_connected(vs_network *net, char *msg, size_t msglen) {
  size_t nn = net->n_comp + net->n_pnode;
  int rc = VS_ENOMEM;
  size_t *deg = calloc(nn + 1, sizeof *deg);
  size_t *adj = malloc((2 * net->n_link + 1) * sizeof *adj);
  size_t *queue = malloc((nn + 1) * sizeof *queue);
  char *seen = calloc(nn + 1, 1);
  if (!deg || !adj || !queue || !seen) goto done;
  for (size_t k = 0; k < net->n_link; ++k) {
    deg[net->link_from[k] + 1]++;
    deg[net->link_to[k] + 1]++;
  }
  for (size_t i = 0; i < nn; ++i) deg[i + 1] += deg[i]; /* row starts */
  size_t *fill = calloc(nn + 1, sizeof *fill);
  if (!fill) goto done;
  for (size_t k = 0; k < net->n_link; ++k) {
    size_t a = (size_t)net->link_from[k], b = (size_t)net->link_to[k];
    adj[deg[a] + fill[a]++] = b;
    adj[deg[b] + fill[b]++] = a;
  }
  free(fill);
  /* First from the pressure nodes (the outlets): every compartment must
   * reach one, or what flows in could only pile up. Then from the flow
   * sources, to tell a compartment without an outlet from one without any
   * boundary. */
  size_t head = 0, tail = 0;
  for (size_t i = net->n_comp; i < nn; ++i) {
    seen[i] = 1;
    queue[tail++] = i;
  }
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1)
      for (size_t s = 0; s < net->n_src; ++s) {
        size_t i = (size_t)net->src_node[s];
        if (!seen[i]) {
          seen[i] = 2;
          queue[tail++] = i;
        }
      }
    while (head < tail) {
      size_t i = queue[head++];
      for (size_t e = deg[i]; e < deg[i + 1]; ++e)
        if (!seen[adj[e]]) {
          seen[adj[e]] = (char)(pass + 1);
          queue[tail++] = adj[e];
        }
    }
  }
  rc = VS_OK;
  for (size_t i = 0; i < net->n_comp; ++i) {
    if (seen[i] == 1) continue;
    if (seen[i] == 2)
      snprintf(msg, msglen,
               "compartment '%s' has no path to a pressure boundary (an "
               "outlet): what its flow sources bring could only pile up",
               net->comp[i].name);
    else
      snprintf(msg, msglen,
               "compartment '%s' is not connected to any boundary (pressure "
               "node or flow source)",
               net->comp[i].name);
    rc = VS_ENETWORK;
    break;
  }
done:
  free(deg);
  free(adj);
  free(queue);
  free(seen);
  return rc;
}

int vs_network_validate(vs_network *net, char *msg, size_t msglen) {
  char why[160];
  if (!net) return VS_EINVAL;
  if (net->n_comp == 0) {
    snprintf(msg, msglen, "the network has no compartment");
    return VS_ENETWORK;
  }
  free(net->link_from);
  free(net->link_to);
  free(net->src_node);
  net->link_from = malloc((net->n_link + 1) * sizeof *net->link_from);
  net->link_to = malloc((net->n_link + 1) * sizeof *net->link_to);
  net->src_node = malloc((net->n_src + 1) * sizeof *net->src_node);
  if (!net->link_from || !net->link_to || !net->src_node) return VS_ENOMEM;
  net->validated = 0;

  for (size_t i = 0; i < net->n_comp; ++i) {
    const vs_compartment_spec *c = &net->comp[i];
    if (vs_wall_validate(&c->wall, why, sizeof why)) {
      snprintf(msg, msglen, "compartment '%s': %s", c->name, why);
      return VS_ENETWORK;
    }
    if (!isfinite(c->height_cm) || !isfinite(c->p_init_mmhg)) {
      snprintf(msg, msglen, "compartment '%s': height and initial pressure "
               "must be finite", c->name);
      return VS_ENETWORK;
    }
  }
  for (size_t k = 0; k < net->n_link; ++k) {
    const vs_link_spec *l = &net->link[k];
    int a = vs_network_find_node(net, l->from);
    int b = vs_network_find_node(net, l->to);
    if (a < 0 || b < 0) {
      snprintf(msg, msglen, "link '%s': unknown node '%s'", l->name,
               a < 0 ? l->from : l->to);
      return VS_ENETWORK;
    }
    if (a == b) {
      snprintf(msg, msglen, "link '%s' joins node '%s' to itself", l->name,
               l->from);
      return VS_ENETWORK;
    }
    if ((size_t)a >= net->n_comp && (size_t)b >= net->n_comp) {
      snprintf(msg, msglen, "link '%s' joins two pressure nodes", l->name);
      return VS_ENETWORK;
    }
    int rc = validate_link(l, msg, msglen);
    if (rc) return rc;
    if (l->collapsible && !is_tube(net, a) && !is_tube(net, b)) {
      snprintf(msg, msglen,
               "link '%s' is collapsible but neither end is a tube-law "
               "compartment", l->name);
      return VS_ENETWORK;
    }
    net->link_from[k] = a;
    net->link_to[k] = b;
  }
  for (size_t s = 0; s < net->n_src; ++s) {
    int i = vs_network_find_node(net, net->src[s].compartment);
    if (i < 0 || (size_t)i >= net->n_comp) {
      snprintf(msg, msglen, "flow source '%s': unknown compartment '%s'",
               net->src[s].name, net->src[s].compartment);
      return VS_ENETWORK;
    }
    net->src_node[s] = i;
  }
  if (net->site_link && vs_network_find_link(net, net->site_link) < 0) {
    snprintf(msg, msglen, "measurement site: unknown link '%s'",
             net->site_link);
    return VS_ENETWORK;
  }
  int rc = check_connected(net, msg, msglen);
  if (rc) return rc;
  net->validated = 1;
  return VS_OK;
}
