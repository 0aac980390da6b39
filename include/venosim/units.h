/**
 * @file units.h
 * @brief Physical constants and unit conversions, defined once.
 *
 * venosim's working units are the clinician's: pressure in mmHg, volume in
 * mL (cm^3), flow in mL/s, length in cm, time in s. Fluid mechanics is done
 * in CGS (dyn/cm^2, poise, g/cm^3) and converted with VS_DYN_CM2_PER_MMHG.
 * (-std=c11 hides M_PI, hence VS_PI.)
 */
#ifndef VENOSIM_UNITS_H
#define VENOSIM_UNITS_H

#define VS_PI 3.14159265358979323846

/** 1 mmHg = 133.322 Pa = 1333.22 dyn/cm^2. */
#define VS_DYN_CM2_PER_MMHG 1333.224
/** Standard gravity, cm/s^2. */
#define VS_GRAVITY_CM_S2 980.665
/** 1 mPa s = 0.01 poise (dyn s/cm^2). */
#define VS_POISE_PER_MPA_S 0.01

/** Blood density, g/cm^3 (PHYSICS.md: 1.06). */
#define VS_BLOOD_DENSITY_G_CM3 1.06
/** Blood viscosity, mPa s (PHYSICS.md: 3.5). */
#define VS_BLOOD_VISCOSITY_MPA_S 3.5

#endif /* VENOSIM_UNITS_H */
