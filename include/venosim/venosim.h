/**
 * @file venosim.h
 * @brief venosim's public API in one include.
 *
 * Data flow (DESIGN.md): case file --case.h--> network (network.h) --solver.h
 * --> sampled run (result.h) --metrics.h--> summary --writer.h--> HDF5;
 * runner.h runs many in parallel. The element physics (wall.h, segment.h,
 * stenosis.h, waveform.h) are pure functions usable on their own.
 */
#ifndef VENOSIM_VENOSIM_H
#define VENOSIM_VENOSIM_H

#include "venosim/error.h"
#include "venosim/units.h"
#include "venosim/version.h"
#include "venosim/waveform.h"
#include "venosim/wall.h"
#include "venosim/segment.h"
#include "venosim/stenosis.h"
#include "venosim/valve.h"
#include "venosim/treatment.h"
#include "venosim/network.h"
#include "venosim/leg.h"
#include "venosim/result.h"
#include "venosim/solver.h"
#include "venosim/metrics.h"
#include "venosim/case.h"
#include "venosim/writer.h"
#include "venosim/runner.h"
#include "venosim/svzerod.h"
#include "venosim/sweep.h"

#endif /* VENOSIM_VENOSIM_H */
