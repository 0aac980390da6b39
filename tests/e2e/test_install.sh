#!/usr/bin/env bash
# Install libvenosim into a scratch prefix and build a small program against
# it twice: with pkg-config and with CMake's find_package. The program
# integrates an RC discharge and checks the answer.
set -euo pipefail
src="$1"
build="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

cat >"$work/consumer.c" <<'C'
#include <math.h>
#include <stdio.h>
#include <venosim/venosim.h>

int main(void) {
  vs_network *net = NULL;
  char msg[256];
  vs_network_create(&net);
  vs_compartment_spec c = {.name = "c", .wall = vs_wall_linear(2.0, 0.0),
                           .p_ext = vs_waveform_constant(0.0), .p_init_mmhg = 20.0};
  vs_pressure_node_spec g = {.name = "g", .pressure = vs_waveform_constant(0.0)};
  vs_link_spec l = vs_link_spec_default();
  l.name = "r"; l.from = "c"; l.to = "g"; l.resistance_mmhg_s_ml = 1.0;
  vs_network_add_compartment(net, &c);
  vs_network_add_pressure_node(net, &g);
  vs_network_add_link(net, &l);
  if (vs_network_validate(net, msg, sizeof msg)) { fprintf(stderr, "%s\n", msg); return 1; }
  vs_system *sys = NULL;
  vs_run_result *res = NULL;
  vs_system_create(net, &sys, msg, sizeof msg);
  vs_result_create(&res, "rc");
  vs_solver_options o = vs_solver_options_default();
  o.t_end_s = 2.0;
  int rc = vs_integrate(sys, &o, res);
  double p = res->series[0].data[(res->n_samples - 1) * res->series[0].n_columns];
  double exact = 20.0 * exp(-1.0);
  printf("venosim %s: p(2 s) = %.6f mmHg (exact %.6f)\n", VS_VERSION_STRING, p, exact);
  vs_result_free(&res);
  vs_system_free(&sys);
  vs_network_free(&net);
  return rc || fabs(p - exact) > 1e-4 * exact;
}
C

libdir="$(find "$prefix" -name 'libvenosim.so*' -printf '%h\n' | head -n1)"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# 1. pkg-config
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 "$work/consumer.c" $(pkg-config --cflags --libs venosim) -lm -o "$work/consumer_pc"
"$work/consumer_pc"

# 2. CMake package
mkdir -p "$work/cm"
cat >"$work/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(consumer C)
find_package(venosim 0.1 REQUIRED)
add_executable(consumer ../consumer.c)
target_link_libraries(consumer PRIVATE venosim::venosim)
CM
cmake -S "$work/cm" -B "$work/cm/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cm/build" >/dev/null
"$work/cm/build/consumer"
echo "install consumer: pkg-config and CMake package both work"
