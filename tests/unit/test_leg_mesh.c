/* The leg's fitted mesh (leg.h, vs_leg_segment_mesh) against its
 * definition, worked out by hand for the default anatomy, and the
 * network built on it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "venosim/venosim.h"

#define CAP 512

static unsigned mesh(vs_leg *leg, const char *segment, unsigned n,
                     double *edges) {
  leg->compartments_per_segment = n;
  vs_leg_segment *s = vs_leg_find_segment(leg, segment);
  assert_non_null(s);
  unsigned cells = vs_leg_segment_mesh(leg, s, edges, CAP);
  assert_true(cells + 1 <= CAP);
  return cells;
}

/* The tibial veins (35 cm) take the calf perforator at 0.35 and the soleal
 * sinus at 0.6, and the plantar plexus at 0 (inside the end cell). At
 * n = 1: end cells of 5 %, a 3 % cell centred on each junction, one cell
 * in each of the three stretches between them. */
static void tibial_mesh_by_hand(void **state) {
  (void)state;
  vs_leg leg;
  assert_int_equal(vs_leg_default(&leg), VS_OK);
  double e[CAP];
  const double expect[] = {0.0,   0.05, 0.335, 0.365, 0.585,
                           0.615, 0.95, 1.0};
  unsigned cells = mesh(&leg, "tibial", 1, e);
  assert_int_equal(cells, 7);
  for (unsigned i = 0; i <= cells; ++i)
    assert_true(fabs(e[i] - expect[i]) < 1e-12);
  /* Asking with no room still tells the number of cells. */
  assert_int_equal(vs_leg_segment_mesh(&leg, vs_leg_find_segment(&leg,
                                                                  "tibial"),
                                       NULL, 0),
                   7);
  vs_leg_clear(&leg);
}

/* Refining: each stretch into n cells, the short cells shrinking as 1/n
 * down to 0.5 cm of vein; in a segment too short for that (the ankle's
 * 6 cm saphenous vein) they stay at their n = 1 fraction. */
static void short_cells_shrink_to_their_floor(void **state) {
  (void)state;
  vs_leg leg;
  assert_int_equal(vs_leg_default(&leg), VS_OK);
  double e[CAP];
  const unsigned ns[] = {1, 2, 4, 8};
  const double tibial_end_cm[] = {1.75, 0.875, 0.5, 0.5};
  for (int i = 0; i < 4; ++i) {
    unsigned cells = mesh(&leg, "tibial", ns[i], e);
    /* Two end cells, two junction cells, three stretches of n. */
    assert_int_equal(cells, 4 + 3 * ns[i]);
    assert_true(fabs(35.0 * e[1] - tibial_end_cm[i]) < 1e-9);
    assert_true(fabs(35.0 * (1.0 - e[cells - 1]) - tibial_end_cm[i]) < 1e-9);
    for (unsigned k = 1; k <= cells; ++k) assert_true(e[k] > e[k - 1]);
    assert_true(e[0] == 0.0 && e[cells] == 1.0);
    unsigned a = mesh(&leg, "gsv_ankle", ns[i], e);
    assert_true(fabs(e[1] - 0.05) < 1e-12);
    assert_true(a >= 3);
  }
  vs_leg_clear(&leg);
}

/* Every junction lies at the centre of a cell of its segment, unless it
 * falls in an end cell. */
static void junctions_sit_in_the_middle_of_their_cells(void **state) {
  (void)state;
  vs_leg leg;
  assert_int_equal(vs_leg_default(&leg), VS_OK);
  double e[CAP];
  for (unsigned n = 1; n <= 4; n *= 2)
    for (size_t i = 0; i < leg.n_segments; ++i) {
      const vs_leg_segment *s = &leg.segments[i];
      if (!s->drains_to[0]) continue;
      unsigned cells = mesh(&leg, s->drains_to, n, e);
      double at = s->drains_at;
      if (at <= e[1] || at >= e[cells - 1]) continue;
      unsigned k = 1;
      while (k < cells && !(at < e[k])) ++k;
      assert_true(fabs(0.5 * (e[k - 1] + e[k]) - at) < 1e-12);
    }
  vs_leg_clear(&leg);
}

/* The network on the mesh: each segment's compartments add up to its
 * length of vein, climb from its distal to its proximal height, and the
 * run's network table keeps their lengths (the sites weigh by them). */
static void network_follows_the_mesh(void **state) {
  (void)state;
  vs_leg leg;
  assert_int_equal(vs_leg_default(&leg), VS_OK);
  vs_leg_protocol p = vs_leg_protocol_default();
  vs_network *net = NULL;
  char msg[256];
  if (vs_leg_build(&leg, &p, &net, msg, sizeof msg)) fail_msg("%s", msg);
  vs_run_result *r = NULL;
  assert_int_equal(vs_result_create(&r, "mesh"), VS_OK);
  assert_int_equal(vs_result_describe_network(r, net), VS_OK);
  const vs_result_network *t = &r->topology;
  for (size_t i = 0; i < leg.n_segments; ++i) {
    const vs_leg_segment *s = &leg.segments[i];
    unsigned cells = vs_leg_segment_mesh(&leg, s, NULL, 0);
    double length = 0.0, last_z = -INFINITY;
    for (unsigned k = 1; k <= cells; ++k) {
      char name[64];
      vs_leg_compartment_name(s->name, k, name, sizeof name);
      int node = vs_network_find_node(net, name);
      assert_true(node >= 0);
      const vs_compartment_spec *c = vs_network_compartment(net, (size_t)node);
      length += c->wall.length_cm;
      assert_true(fabs(t->node_length_cm[node] - c->wall.length_cm) < 1e-15);
      if (s->z_proximal_cm > s->z_distal_cm) assert_true(c->height_cm > last_z);
      last_z = c->height_cm;
    }
    char beyond[64];
    vs_leg_compartment_name(s->name, cells + 1, beyond, sizeof beyond);
    assert_true(vs_network_find_node(net, beyond) < 0);
    assert_true(fabs(length - s->length_cm) < 1e-9 * s->length_cm);
  }
  vs_result_free(&r);
  vs_network_free(&net);
  vs_leg_clear(&leg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(tibial_mesh_by_hand),
      cmocka_unit_test(short_cells_shrink_to_their_floor),
      cmocka_unit_test(junctions_sit_in_the_middle_of_their_cells),
      cmocka_unit_test(network_follows_the_mesh),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
