/* The network's storage, shared by network.c and system.c only. */
#ifndef VENOSIM_NETWORK_INTERNAL_H
#define VENOSIM_NETWORK_INTERNAL_H

#include "venosim/network.h"

/* Names to element indices (network.c). */
typedef struct {
  size_t cap, n;
  const char **key;
  int *val;
} vs_name_index;

struct vs_network {
  double density_g_cm3;
  double viscosity_poise;
  vs_waveform tilt_deg;

  size_t n_comp, cap_comp;
  vs_compartment_spec *comp; /* names and waveforms owned */
  size_t n_pnode, cap_pnode;
  vs_pressure_node_spec *pnode;
  size_t n_link, cap_link;
  vs_link_spec *link;
  size_t n_src, cap_src;
  vs_flow_source_spec *src;
  size_t n_phase, cap_phase;
  struct vs_network_phase {
    char *name;
    double t_start_s, t_end_s;
  } *phase;
  vs_name_index node_names;   /* compartments and pressure nodes */
  vs_name_index branch_names; /* links and flow sources */
  int has_site;             /* a measurement site is marked */
  char *site_link;          /* its link, or NULL */
  double site_lumen_cm;

  /* Resolved by vs_network_validate: node indices (compartments first). */
  int validated;
  int *link_from;
  int *link_to;
  int *src_node;
};

#endif /* VENOSIM_NETWORK_INTERNAL_H */
