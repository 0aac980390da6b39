/* The network's own checks: names, ends, topology, parameters. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "support.h"

static vs_network *two_compartments(void) {
  vs_network *net = NULL;
  assert_int_equal(vs_network_create(&net), 0);
  t_compartment(net, "a", vs_wall_linear(1.0, 0.0), 0.0, 0.0);
  t_compartment(net, "b", vs_wall_tube_law(20.0, 1.0, 5.0), 0.0, 0.0);
  t_pressure_node(net, "out", 0.0, 0.0);
  return net;
}

static void expect_invalid(vs_network *net, const char *needle) {
  char msg[256] = "";
  assert_int_equal(vs_network_validate(net, msg, sizeof msg), VS_ENETWORK);
  if (!strstr(msg, needle)) fail_msg("message '%s' lacks '%s'", msg, needle);
}

static void duplicate_names_are_refused(void **state) {
  (void)state;
  vs_network *net = two_compartments();
  vs_compartment_spec c = {.name = "a", .wall = vs_wall_linear(1.0, 0.0)};
  assert_int_equal(vs_network_add_compartment(net, &c), VS_EINVAL);
  vs_pressure_node_spec p = {.name = "b"};
  assert_int_equal(vs_network_add_pressure_node(net, &p), VS_EINVAL);
  t_link(net, "l", "a", "b", 1.0, 0.0);
  assert_int_equal(vs_network_find_link(net, "l"), 0);
  vs_link_spec l = vs_link_spec_default();
  l.name = "l";
  l.from = "a";
  l.to = "out";
  assert_int_equal(vs_network_add_link(net, &l), VS_EINVAL);
  vs_network_free(&net);
  assert_null(net);
}

static void unknown_node(void **state) {
  (void)state;
  vs_network *net = two_compartments();
  t_link(net, "l", "a", "nowhere", 1.0, 0.0);
  expect_invalid(net, "unknown node 'nowhere'");
  vs_network_free(&net);
}

static void two_pressure_nodes(void **state) {
  (void)state;
  vs_network *net = two_compartments();
  t_pressure_node(net, "out2", 0.0, 0.0);
  t_link(net, "l", "out", "out2", 1.0, 0.0);
  expect_invalid(net, "two pressure nodes");
  vs_network_free(&net);
}

static void disconnected_compartment(void **state) {
  (void)state;
  vs_network *net = two_compartments();
  t_link(net, "l", "a", "out", 1.0, 0.0);
  expect_invalid(net, "compartment 'b' is not connected");
  vs_network_free(&net);
}

static void link_without_resistance_or_inertance(void **state) {
  (void)state;
  vs_network *net = two_compartments();
  t_link(net, "l", "a", "b", 0.0, 0.0);
  t_link(net, "m", "b", "out", 1.0, 0.0);
  t_validate(net);
  vs_system *sys = NULL;
  char msg[256];
  assert_int_equal(vs_system_create(net, &sys, msg, sizeof msg), VS_ENETWORK);
  assert_non_null(strstr(msg, "neither resistance nor inertance"));
  assert_null(sys);
  vs_network_free(&net);
}

static void collapsible_needs_tube_law_end(void **state) {
  (void)state;
  vs_network *net = two_compartments();
  vs_link_spec l = vs_link_spec_default();
  l.name = "l";
  l.from = "a";
  l.to = "out";
  l.diameter_cm = 1.0;
  l.length_cm = 5.0;
  l.poiseuille = 1;
  l.collapsible = 1;
  assert_true(vs_network_add_link(net, &l) >= 0);
  t_link(net, "m", "b", "out", 1.0, 0.0);
  expect_invalid(net, "neither end is a tube-law");
  vs_network_free(&net);
}

static void stenosis_ratio_checked(void **state) {
  (void)state;
  vs_network *net = two_compartments();
  vs_link_spec l = vs_link_spec_default();
  l.name = "l";
  l.from = "a";
  l.to = "b";
  l.diameter_cm = 1.0;
  l.has_stenosis = 1;
  l.stenosis = vs_stenosis_young_tsai(1.2, 2.0);
  assert_true(vs_network_add_link(net, &l) >= 0);
  t_link(net, "m", "b", "out", 1.0, 0.0);
  expect_invalid(net, "area_ratio");
  vs_network_free(&net);
}

/* State layout: volumes, then inertial flows, then boundary volumes. */
static void state_layout(void **state) {
  (void)state;
  vs_network *net = two_compartments();
  t_link(net, "ab", "a", "b", 1.0, 0.01);
  t_link(net, "b_out", "b", "out", 1.0, 0.0);
  vs_waveform q = vs_waveform_constant(1.0);
  t_flow_source(net, "in", "a", &q);
  t_validate(net);
  vs_system *sys = NULL;
  char msg[256];
  assert_int_equal(vs_system_create(net, &sys, msg, sizeof msg), 0);
  const char *expect[] = {"V[a]", "V[b]", "Q[ab]", "W[b_out]", "W[in]"};
  assert_int_equal(vs_system_state_count(sys), 5);
  for (size_t i = 0; i < 5; ++i)
    assert_string_equal(vs_system_state_name(sys, i), expect[i]);
  vs_system_free(&sys);
  vs_network_free(&net);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(duplicate_names_are_refused),
      cmocka_unit_test(unknown_node),
      cmocka_unit_test(two_pressure_nodes),
      cmocka_unit_test(disconnected_compartment),
      cmocka_unit_test(link_without_resistance_or_inertance),
      cmocka_unit_test(collapsible_needs_tube_law_end),
      cmocka_unit_test(stenosis_ratio_checked),
      cmocka_unit_test(state_layout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
