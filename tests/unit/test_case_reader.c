/* The case file reader (case.h): a full case lands field by field, defaults
 * fill in, the resolved case reads back to the same case, and every file of
 * the bad-case catalogue (tests/bad_cases) fails with its expected message
 * at its expected line. */
#define _POSIX_C_SOURCE 200809L /* opendir */

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_schema.h"
#include "venosim/case.h"
#include "venosim/error.h"
#include "venosim/units.h"

#ifndef VS_TEST_CASES_DIR
#error "VS_TEST_CASES_DIR must name the cases/ folder"
#endif
#ifndef VS_TEST_BAD_DIR
#error "VS_TEST_BAD_DIR must name the tests/bad_cases/ folder"
#endif

enum { MSG_LEN = 1024 };

/* Every feature of the format once: both wall laws, every boundary type,
 * geometry, a stenosis with an overridden coefficient, a table and a sine. */
static const char full_case[] =
    "name: full_demo\n"
    "description: >\n"
    "  Every key of the format at least once.\n"
    "blood:\n"
    "  density_g_cm3: 1.05\n"
    "  viscosity_mpa_s: 4\n"
    "posture:\n"
    "  tilt_deg: {type: sine, mean: 45, amplitude: 30, period_s: 8, phase_s: 1}\n"
    "solver:\n"
    "  t_end_s: 20\n"
    "  output_dt_s: 0.05\n"
    "  rtol: 1.0e-5\n"
    "  atol_volume_ml: 1.0e-7\n"
    "  atol_flow_ml_s: 2.0e-7\n"
    "  max_step_s: 0.01\n"
    "  initial_step_s: 1.0e-4\n"
    "  max_order: 3\n"
    "  max_steps: 5000\n"
    "  linear_solver: klu\n"
    "  dense_max_states: 40\n"
    "compartments:\n"
    "  - name: calf\n"
    "    height_cm: 20\n"
    "    p_init_mmhg: 12\n"
    "    p_ext_mmhg:\n"
    "      type: table\n"
    "      times_s: [0, 0.4, 1]\n"
    "      values: [0, 80, 0]\n"
    "      periodic: true\n"
    "    wall:\n"
    "      type: tube_law\n"
    "      k_mmhg: 6\n"
    "      diameter_mm: 12\n"
    "      length_cm: 30\n"
    "      m: 8\n"
    "      n: -2\n"
    "  - name: thigh\n"
    "    height_cm: 60\n"
    "    p_init_mmhg: 8\n"
    "    wall: {type: linear, compliance_ml_mmhg: 2.5, v0_ml: 100}\n"
    "boundaries:\n"
    "  - name: atrium\n"
    "    type: pressure\n"
    "    pressure_mmhg: 3\n"
    "    height_cm: 125\n"
    "  - name: inflow\n"
    "    type: flow\n"
    "    compartment: calf\n"
    "    flow_ml_s: 5\n"
    "  - name: outlet\n"
    "    type: resistance\n"
    "    compartment: thigh\n"
    "    resistance_mmhg_s_ml: 0.1\n"
    "    pressure_mmhg: 2\n"
    "    height_cm: 100\n"
    "links:\n"
    "  - name: femoral\n"
    "    from: calf\n"
    "    to: thigh\n"
    "    resistance_mmhg_s_ml: 0.01\n"
    "    diameter_mm: 12\n"
    "    length_cm: 10\n"
    "    collapsible: true\n"
    "    stenosis:\n"
    "      area_ratio: 0.2\n"
    "      length_cm: 3\n"
    "      kt: 2.0\n"
    "  - name: iliac\n"
    "    from: thigh\n"
    "    to: atrium\n"
    "    resistance_mmhg_s_ml: 0.05\n"
    "    inertance_mmhg_s2_ml: 0.01\n";

/* The smallest valid case: only the required keys. */
static const char minimal_case[] =
    "description: one compartment, one pressure boundary\n"
    "compartments:\n"
    "  - name: c\n"
    "    wall: {type: linear, compliance_ml_mmhg: 1}\n"
    "boundaries:\n"
    "  - {name: p, type: pressure}\n"
    "links:\n"
    "  - {name: l, from: c, to: p, resistance_mmhg_s_ml: 1}\n";

static vs_case *load(const char *text, const char *name) {
  vs_case *c = NULL;
  char msg[MSG_LEN];
  int rc = vs_case_load_string(text, strlen(text), name, &c, msg, sizeof msg);
  if (rc) print_error("%s\n", msg);
  assert_int_equal(rc, VS_OK);
  assert_non_null(c);
  return c;
}

/* ---- comparing two cases field by field ---------------------------------- */

static void same_waveform(const vs_waveform *a, const vs_waveform *b) {
  assert_int_equal(a->kind, b->kind);
  assert_true(a->value == b->value);
  if (a->kind == VS_WAVE_SINE) {
    assert_true(a->amplitude == b->amplitude);
    assert_true(a->period_s == b->period_s);
    assert_true(a->phase_s == b->phase_s);
  }
  if (a->kind == VS_WAVE_TABLE) {
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->periodic, b->periodic);
    for (size_t k = 0; k < a->n; ++k) {
      assert_true(a->t[k] == b->t[k]);
      assert_true(a->v[k] == b->v[k]);
    }
  }
}

static void same_wall(const vs_wall *a, const vs_wall *b) {
  assert_int_equal(a->kind, b->kind);
  assert_true(a->compliance_ml_mmhg == b->compliance_ml_mmhg);
  assert_true(a->v0_ml == b->v0_ml);
  assert_true(a->k_mmhg == b->k_mmhg);
  assert_true(a->area0_cm2 == b->area0_cm2);
  assert_true(a->length_cm == b->length_cm);
  assert_true(a->m == b->m);
  assert_true(a->n == b->n);
}

static void same_link(const vs_link_spec *a, const vs_link_spec *b) {
  assert_string_equal(a->name, b->name);
  assert_string_equal(a->from, b->from);
  assert_string_equal(a->to, b->to);
  assert_true(a->resistance_mmhg_s_ml == b->resistance_mmhg_s_ml);
  assert_true(a->inertance_mmhg_s2_ml == b->inertance_mmhg_s2_ml);
  assert_int_equal(a->poiseuille, b->poiseuille);
  assert_int_equal(a->geometric_inertance, b->geometric_inertance);
  assert_true(a->diameter_cm == b->diameter_cm);
  assert_true(a->length_cm == b->length_cm);
  assert_int_equal(a->collapsible, b->collapsible);
  assert_int_equal(a->has_stenosis, b->has_stenosis);
  if (a->has_stenosis) {
    assert_true(a->stenosis.area_ratio == b->stenosis.area_ratio);
    assert_true(a->stenosis.length_cm == b->stenosis.length_cm);
    assert_true(a->stenosis.kt == b->stenosis.kt);
    assert_true(a->stenosis.ku == b->stenosis.ku);
    assert_true(a->stenosis.la_ls == b->stenosis.la_ls);
    assert_true(a->stenosis.la_ds == b->stenosis.la_ds);
  }
}

static void same_solver(const vs_solver_options *a,
                        const vs_solver_options *b) {
  assert_true(a->t_end_s == b->t_end_s);
  assert_true(a->output_dt_s == b->output_dt_s);
  assert_true(a->rtol == b->rtol);
  assert_true(a->atol_volume_ml == b->atol_volume_ml);
  assert_true(a->atol_flow_ml_s == b->atol_flow_ml_s);
  assert_true(a->max_step_s == b->max_step_s);
  assert_true(a->initial_step_s == b->initial_step_s);
  assert_int_equal(a->max_order, b->max_order);
  assert_int_equal(a->max_steps, b->max_steps);
  assert_int_equal(a->linear_solver, b->linear_solver);
  assert_int_equal(a->dense_max_states, b->dense_max_states);
}

static void same_case(const vs_case *a, const vs_case *b) {
  const vs_network *x = a->network, *y = b->network;
  assert_string_equal(a->name, b->name);
  assert_string_equal(a->description, b->description);
  same_solver(&a->solver, &b->solver);
  assert_int_equal(vs_network_compartment_count(x),
                   vs_network_compartment_count(y));
  assert_int_equal(vs_network_pressure_node_count(x),
                   vs_network_pressure_node_count(y));
  assert_int_equal(vs_network_link_count(x), vs_network_link_count(y));
  assert_int_equal(vs_network_flow_source_count(x),
                   vs_network_flow_source_count(y));
  for (size_t i = 0; i < vs_network_compartment_count(x); ++i) {
    const vs_compartment_spec *p = vs_network_compartment(x, i);
    const vs_compartment_spec *q = vs_network_compartment(y, i);
    assert_string_equal(p->name, q->name);
    assert_true(p->height_cm == q->height_cm);
    assert_true(p->p_init_mmhg == q->p_init_mmhg);
    same_wall(&p->wall, &q->wall);
    same_waveform(&p->p_ext, &q->p_ext);
  }
  for (size_t i = 0; i < vs_network_pressure_node_count(x); ++i) {
    const vs_pressure_node_spec *p = vs_network_pressure_node(x, i);
    const vs_pressure_node_spec *q = vs_network_pressure_node(y, i);
    assert_string_equal(p->name, q->name);
    assert_true(p->height_cm == q->height_cm);
    same_waveform(&p->pressure, &q->pressure);
  }
  for (size_t i = 0; i < vs_network_link_count(x); ++i)
    same_link(vs_network_link(x, i), vs_network_link(y, i));
  for (size_t i = 0; i < vs_network_flow_source_count(x); ++i) {
    const vs_flow_source_spec *p = vs_network_flow_source(x, i);
    const vs_flow_source_spec *q = vs_network_flow_source(y, i);
    assert_string_equal(p->name, q->name);
    assert_string_equal(p->compartment, q->compartment);
    same_waveform(&p->flow, &q->flow);
  }
}

/* Load the resolved text back: the same case, and the same resolved text
 * (printing is a fixed point). */
static void check_round_trip(const vs_case *c) {
  vs_case *back = load(c->resolved, c->path);
  same_case(c, back);
  assert_string_equal(c->resolved, back->resolved);
  vs_case_free(&back);
}

/* ---- tests --------------------------------------------------------------- */

static void test_full_case(void **state) {
  (void)state;
  vs_case *c = load(full_case, "cases/full.yaml");
  const vs_network *net = c->network;

  assert_string_equal(c->path, "cases/full.yaml");
  assert_string_equal(c->name, "full_demo");
  assert_string_equal(c->description, "Every key of the format at least once.\n");
  assert_memory_equal(c->text, full_case, sizeof full_case);

  /* resistance boundary = pressure node + link; flow boundary = source */
  assert_int_equal(vs_network_compartment_count(net), 2);
  assert_int_equal(vs_network_pressure_node_count(net), 2);
  assert_int_equal(vs_network_link_count(net), 3);
  assert_int_equal(vs_network_flow_source_count(net), 1);

  const vs_compartment_spec *calf = vs_network_compartment(net, 0);
  assert_string_equal(calf->name, "calf");
  assert_true(calf->height_cm == 20 && calf->p_init_mmhg == 12);
  assert_int_equal(calf->wall.kind, VS_WALL_TUBE_LAW);
  assert_true(fabs(calf->wall.area0_cm2 - VS_PI * 1.2 * 1.2 / 4.0) < 1e-12);
  assert_true(calf->wall.k_mmhg == 6 && calf->wall.length_cm == 30);
  assert_true(calf->wall.m == 8 && calf->wall.n == -2);
  assert_int_equal(calf->p_ext.kind, VS_WAVE_TABLE);
  assert_int_equal(calf->p_ext.n, 3);
  assert_int_equal(calf->p_ext.periodic, 1);
  assert_true(calf->p_ext.t[1] == 0.4 && calf->p_ext.v[1] == 80);

  const vs_compartment_spec *thigh = vs_network_compartment(net, 1);
  assert_int_equal(thigh->wall.kind, VS_WALL_LINEAR);
  assert_true(thigh->wall.compliance_ml_mmhg == 2.5);
  assert_true(thigh->wall.v0_ml == 100);
  assert_int_equal(thigh->p_ext.kind, VS_WAVE_CONSTANT);

  const vs_pressure_node_spec *atrium =
      vs_network_pressure_node(net, (size_t)vs_network_find_node(net, "atrium") - 2);
  assert_string_equal(atrium->name, "atrium");
  assert_true(atrium->height_cm == 125 && atrium->pressure.value == 3);
  const vs_pressure_node_spec *outlet =
      vs_network_pressure_node(net, (size_t)vs_network_find_node(net, "outlet") - 2);
  assert_true(outlet->height_cm == 100 && outlet->pressure.value == 2);

  const vs_link_spec *fem = vs_network_link(net, (size_t)vs_network_find_link(net, "femoral"));
  assert_true(fem->diameter_cm == 1.2 && fem->length_cm == 10);
  assert_true(fem->resistance_mmhg_s_ml == 0.01);
  assert_int_equal(fem->poiseuille, 1);          /* geometry given */
  assert_int_equal(fem->geometric_inertance, 1); /* geometry given */
  assert_int_equal(fem->collapsible, 1);
  assert_int_equal(fem->has_stenosis, 1);
  assert_true(fem->stenosis.area_ratio == 0.2 && fem->stenosis.length_cm == 3);
  assert_true(fem->stenosis.kt == 2.0);
  assert_true(fem->stenosis.ku == vs_stenosis_young_tsai(0.2, 3).ku);

  const vs_link_spec *iliac = vs_network_link(net, (size_t)vs_network_find_link(net, "iliac"));
  assert_int_equal(iliac->poiseuille, 0); /* no geometry */
  assert_int_equal(iliac->geometric_inertance, 0);
  assert_true(iliac->inertance_mmhg_s2_ml == 0.01);

  const vs_link_spec *out = vs_network_link(net, (size_t)vs_network_find_link(net, "outlet"));
  assert_string_equal(out->from, "thigh");
  assert_string_equal(out->to, "outlet");
  assert_true(out->resistance_mmhg_s_ml == 0.1);

  const vs_flow_source_spec *in = vs_network_flow_source(net, 0);
  assert_string_equal(in->compartment, "calf");
  assert_true(in->flow.kind == VS_WAVE_CONSTANT && in->flow.value == 5);

  const vs_solver_options *o = &c->solver;
  assert_true(o->t_end_s == 20 && o->output_dt_s == 0.05);
  assert_true(o->rtol == 1e-5 && o->atol_volume_ml == 1e-7);
  assert_true(o->atol_flow_ml_s == 2e-7 && o->max_step_s == 0.01);
  assert_true(o->initial_step_s == 1e-4);
  assert_int_equal(o->max_order, 3);
  assert_int_equal(o->max_steps, 5000);
  assert_int_equal(o->linear_solver, VS_LINSOL_KLU);
  assert_int_equal(o->dense_max_states, 40);

  /* blood and tilt have no network getter: check them in the resolved text */
  assert_non_null(strstr(c->resolved, "density_g_cm3: 1.05\n"));
  assert_non_null(strstr(c->resolved, "viscosity_mpa_s: 4\n"));
  assert_non_null(strstr(c->resolved, "    type: sine\n    mean: 45\n"));

  check_round_trip(c);
  vs_case_free(&c);
  assert_null(c);
}

static void test_defaults(void **state) {
  (void)state;
  vs_case *c = load(minimal_case, "some/dir/minimal.case.yaml");
  const vs_network *net = c->network;
  vs_solver_options d = vs_solver_options_default();

  assert_string_equal(c->name, "minimal.case"); /* the file's stem */
  same_solver(&c->solver, &d);

  const vs_compartment_spec *cc = vs_network_compartment(net, 0);
  assert_true(cc->height_cm == 0 && cc->p_init_mmhg == 0);
  assert_true(cc->wall.v0_ml == 0);
  assert_true(cc->p_ext.kind == VS_WAVE_CONSTANT && cc->p_ext.value == 0);
  const vs_pressure_node_spec *p = vs_network_pressure_node(net, 0);
  assert_true(p->height_cm == 0 && p->pressure.value == 0);
  const vs_link_spec *l = vs_network_link(net, 0);
  assert_true(l->inertance_mmhg_s2_ml == 0);
  assert_int_equal(l->poiseuille, 0);
  assert_int_equal(l->geometric_inertance, 0);
  assert_int_equal(l->collapsible, 0);
  assert_int_equal(l->has_stenosis, 0);

  assert_non_null(strstr(c->resolved, "name: \"minimal.case\"\n"));
  assert_non_null(strstr(c->resolved, "  density_g_cm3: 1.06\n"));
  assert_non_null(strstr(c->resolved, "  viscosity_mpa_s: 3.5\n"));
  assert_non_null(strstr(c->resolved, "  tilt_deg: 90\n"));
  assert_non_null(strstr(c->resolved, "  linear_solver: auto\n"));
  check_round_trip(c);
  vs_case_free(&c);

  /* Tube-law exponents and stenosis coefficients default to the models'. */
  c = load("description: d\n"
           "compartments:\n"
           "  - name: a\n"
           "    wall: {type: tube_law, k_mmhg: 5, diameter_mm: 10, length_cm: 5}\n"
           "  - name: b\n"
           "    wall: {type: tube_law, k_mmhg: 5, diameter_mm: 10, length_cm: 5}\n"
           "boundaries: [{name: p, type: pressure}]\n"
           "links:\n"
           "  - {name: ab, from: a, to: b, diameter_mm: 10, length_cm: 5,\n"
           "     stenosis: {area_ratio: 0.5, length_cm: 2}}\n"
           "  - {name: bp, from: b, to: p, resistance_mmhg_s_ml: 1}\n",
           "x.yaml");
  vs_wall w = vs_wall_tube_law(5, 1, 5);
  vs_stenosis s = vs_stenosis_young_tsai(0.5, 2);
  const vs_compartment_spec *a = vs_network_compartment(c->network, 0);
  assert_true(a->wall.m == w.m && a->wall.n == w.n);
  l = vs_network_link(c->network, 0);
  assert_true(l->stenosis.kt == s.kt && l->stenosis.ku == s.ku);
  assert_true(l->stenosis.la_ls == s.la_ls && l->stenosis.la_ds == s.la_ds);
  check_round_trip(c);
  vs_case_free(&c);
}

/* Anchors, aliases and merge keys are plain YAML and work. */
static void test_yaml_aliases(void **state) {
  (void)state;
  vs_case *c = load("description: anchors\n"
                    "compartments:\n"
                    "  - name: a\n"
                    "    wall: &vein {type: tube_law, k_mmhg: 5, diameter_mm: 10,\n"
                    "                 length_cm: 5}\n"
                    "  - name: b\n"
                    "    wall:\n"
                    "      <<: *vein\n"
                    "      k_mmhg: 7\n"
                    "boundaries: [{name: p, type: pressure}]\n"
                    "links:\n"
                    "  - {name: ab, from: a, to: b, resistance_mmhg_s_ml: 1}\n"
                    "  - {name: bp, from: b, to: p, resistance_mmhg_s_ml: 1}\n",
                    "alias.yaml");
  assert_true(vs_network_compartment(c->network, 0)->wall.k_mmhg == 5);
  assert_true(vs_network_compartment(c->network, 1)->wall.k_mmhg == 7);
  assert_true(vs_network_compartment(c->network, 1)->wall.length_cm == 5);
  vs_case_free(&c);
}

/* Every example case is valid and survives the round trip. */
static void test_example_cases(void **state) {
  (void)state;
  const char *names[] = {"chain_stenosis.yaml", "rc_discharge.yaml"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
    char path[1024], msg[MSG_LEN];
    vs_case *c = NULL;
    snprintf(path, sizeof path, "%s/%s", VS_TEST_CASES_DIR, names[i]);
    int rc = vs_case_load_file(path, &c, msg, sizeof msg);
    if (rc) print_error("%s\n", msg);
    assert_int_equal(rc, VS_OK);
    assert_true(strlen(c->description) > 40);
    check_round_trip(c);
    vs_case_free(&c);
  }
}

/* Reads "# expect: ..." and "# expect-line: N" from a bad case. */
static void read_expectations(const char *path, char *expect, size_t size,
                              int *line) {
  char buf[1024];
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  expect[0] = '\0';
  *line = 0;
  while (fgets(buf, sizeof buf, f) && buf[0] == '#') {
    buf[strcspn(buf, "\n")] = '\0';
    if (strncmp(buf, "# expect: ", 10) == 0)
      snprintf(expect, size, "%s", buf + 10);
    else if (strncmp(buf, "# expect-line: ", 15) == 0)
      *line = atoi(buf + 15);
  }
  fclose(f);
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_bad_cases(void **state) {
  (void)state;
  DIR *dir = opendir(VS_TEST_BAD_DIR);
  assert_non_null(dir);
  int count = 0, failures = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    if (!ends_with(e->d_name, ".yaml")) continue;
    char path[1024], expect[1024], prefix[1100], msg[MSG_LEN];
    int line;
    snprintf(path, sizeof path, "%s/%s", VS_TEST_BAD_DIR, e->d_name);
    read_expectations(path, expect, sizeof expect, &line);
    static vs_case sentinel;
    vs_case *c = &sentinel; /* must come back NULL */
    int rc = vs_case_load_file(path, &c, msg, sizeof msg);
    /* FILE:LINE:COL: for positioned errors, "FILE: " for file-level ones */
    if (line > 0)
      snprintf(prefix, sizeof prefix, "%s:%d:", path, line);
    else
      snprintf(prefix, sizeof prefix, "%s: ", path);
    int ok = rc < 0 && c == NULL && expect[0] && strstr(msg, expect) &&
             strncmp(msg, prefix, strlen(prefix)) == 0;
    if (!ok) {
      print_error("%s: rc %d, message \"%s\"; expected \"%s\" at \"%s\"\n",
                  e->d_name, rc, msg, expect, prefix);
      ++failures;
    }
    ++count;
  }
  closedir(dir);
  assert_int_equal(failures, 0);
  assert_true(count >= 20);
}

static void test_binary_garbage(void **state) {
  (void)state;
  /* A few bytes of an ELF file: NUL bytes and invalid UTF-8. */
  static const char garbage[] = "\x7f" "ELF\x02\x01\x01\x00\x00\xff\xfe";
  char msg[MSG_LEN];
  vs_case *c = NULL;
  int rc = vs_case_load_string(garbage, sizeof garbage - 1, "garbage.bin", &c,
                               msg, sizeof msg);
  assert_int_equal(rc, VS_EPARSE);
  assert_null(c);
  assert_non_null(strstr(msg, "garbage.bin:1:1: not a YAML text file"));

  static const char bad_utf8[] = "description: caf\xc3\x28\n";
  rc = vs_case_load_string(bad_utf8, sizeof bad_utf8 - 1, "utf8.yaml", &c, msg,
                           sizeof msg);
  assert_int_equal(rc, VS_EPARSE);
  assert_string_equal(msg,
                      "utf8.yaml:1:17: not a YAML text file: invalid UTF-8 "
                      "byte 0xc3");

  static const char nul_inside[] = "description: a\0b\n";
  rc = vs_case_load_string(nul_inside, sizeof nul_inside - 1, "nul.yaml", &c,
                           msg, sizeof msg);
  assert_int_equal(rc, VS_EPARSE);
  assert_non_null(strstr(msg, "nul.yaml:1:15: not a YAML text file: NUL byte"));
}

static void test_unreadable(void **state) {
  (void)state;
  char msg[MSG_LEN];
  vs_case *c = NULL;
  int rc = vs_case_load_file("/nonexistent/dir/leg.yaml", &c, msg, sizeof msg);
  assert_int_equal(rc, VS_EIO);
  assert_null(c);
  assert_string_equal(msg, "/nonexistent/dir/leg.yaml: cannot open: No such "
                           "file or directory");

  rc = vs_case_load_file(VS_TEST_BAD_DIR, &c, msg, sizeof msg);
  assert_int_equal(rc, VS_EIO);
  assert_null(c);
  assert_non_null(strstr(msg, VS_TEST_BAD_DIR ": cannot read: "));
}

static void test_bad_arguments(void **state) {
  (void)state;
  char msg[MSG_LEN];
  vs_case *c = NULL;
  assert_int_equal(vs_case_load_string(NULL, 5, "x", &c, msg, sizeof msg),
                   VS_EINVAL);
  assert_int_equal(vs_case_load_string("a: 1", 4, "x", NULL, msg, sizeof msg),
                   VS_EINVAL);
  assert_int_equal(vs_case_load_file(NULL, &c, msg, sizeof msg), VS_EINVAL);
  /* No message buffer: still fails cleanly. */
  assert_int_equal(vs_case_load_string("- 1", 3, "x", &c, NULL, 0),
                   VS_ESCHEMA);
  assert_null(c);
  /* A short buffer is truncated, never overrun. */
  char tiny[8];
  assert_int_equal(vs_case_load_string("- 1", 3, "x", &c, tiny, sizeof tiny),
                   VS_ESCHEMA);
  assert_string_equal(tiny, "x:1:3: ");
  vs_case_free(&c);
  vs_case_free(NULL);
}

/* The table itself: ranges, defaults and cross-references consistent. */
static void check_table(const vs_schema_key *t) {
  for (const vs_schema_key *k = t; k->key; ++k) {
    int numeric = k->type == VS_ST_NUMBER || k->type == VS_ST_INTEGER ||
                  k->type == VS_ST_WAVEFORM || k->type == VS_ST_NUMBER_LIST;
    assert_non_null(k->desc);
    if (numeric && !k->inherit_range && k->range != VS_RANGE_ANY)
      assert_true(k->min < k->max);
    if (k->required) assert_int_equal(k->dflt, VS_DEFAULT_NONE);
    if (k->dflt == VS_DEFAULT_VALUE || k->dflt == VS_DEFAULT_MODEL) {
      if (k->type == VS_ST_ENUM)
        assert_true(k->def_text ? vs_schema_choice(k, k->def_text) >= 0
                                : vs_schema_default_number(k) >= 0);
      else if (numeric)
        assert_true(vs_schema_in_range(k, vs_schema_default_number(k)));
    }
    if (k->needs) {
      char words[128];
      snprintf(words, sizeof words, "%s", k->needs);
      for (char *w = strtok(words, " "); w; w = strtok(NULL, " "))
        assert_true(vs_schema_find(t, w) >= 0);
    }
    if (k->at_most) assert_true(vs_schema_find(t, k->at_most) >= 0);
    if (k->type == VS_ST_MAPPING || k->type == VS_ST_LIST) {
      assert_non_null(k->sub);
      check_table(k->sub);
    }
  }
}

static void test_schema(void **state) {
  (void)state;
  check_table(vs_case_schema);
  check_table(vs_waveform_schema);

  FILE *f = tmpfile();
  assert_non_null(f);
  vs_case_print_schema(f);
  long n = ftell(f);
  assert_true(n > 0);
  char *text = calloc((size_t)n + 1, 1);
  assert_non_null(text);
  rewind(f);
  assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  assert_non_null(strstr(text, "| `links[].stenosis.area_ratio` | number | 1 |"
                               "  | (0, 1] | yes |"));
  assert_non_null(strstr(text, "| `solver.max_order` | integer | 1 | `5` | "
                               "[1, 5] | no |"));
  assert_non_null(strstr(text, "| `compartments[].wall.k_mmhg` | number | "
                               "mmHg |  | (0, 1e5] | yes, if `type` is "
                               "`tube_law` |"));
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_case),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_yaml_aliases),
      cmocka_unit_test(test_example_cases),
      cmocka_unit_test(test_bad_cases),
      cmocka_unit_test(test_binary_garbage),
      cmocka_unit_test(test_unreadable),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_schema),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
