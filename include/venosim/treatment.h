/**
 * @file treatment.h
 * @brief Lesions and treatments as pure physics: clot, balloon venoplasty,
 *        stents, compression stockings, wall shear (PHYSICS.md 1.3, 1.6).
 *
 * Units: diameters in mm, lengths and heights in cm, pressures in mmHg,
 * forces in N (1 N = 1e5 dyn), flow in mL/s, viscosity in mPa s, wall shear
 * stress in Pa. Fractions are dimensionless in [0, 1].
 *
 * Clot (PHYSICS.md 1.3). A clot occupies a fraction phi of the lumen:
 *
 *     As/A0 = 1 - phi          (phi = 1: total occlusion, collaterals only)
 *     phi_after = phi r        (lysis or thrombectomy leaves a fraction r)
 *
 * Balloon venoplasty (PHYSICS.md 1.6). The lesion is dilated to the balloon
 * diameter Db and recoils elastically by a fraction f of the balloon area:
 *
 *     A_after = A_balloon (1 - f)  =>  d_after = max(d_lesion, Db sqrt(1 - f))
 *
 * No iliac-vein recoil is public. Proxies: dialysis-access veins, 15.6 % of
 * lesions re-narrowed by more than 50 % within 15 min (Rajan, Radiology
 * 2016); IVUS of venous stenoses, recoil to below 0.75 of the balloon in
 * half of the lesions (Davidson, Kidney Int 1991); iliac arteries 36 +/- 11 %
 * (Gardiner, JVIR 2001). Default f = 0.35; sweep 0.2 .. 0.5.
 *
 * Stent. Let x = d/D be the diameter held over the nominal (labelled)
 * diameter D, and f(x) the total radial force per cm of stent length (N/cm).
 * Over a length l the force F = f l acts on the projected area d l, so
 *
 *     p_stent(d) = F / (pi d l) = f(x) / (pi d)
 *                = f(x) [N/cm] 1e6 / (pi d[mm] VS_DYN_CM2_PER_MMHG)  mmHg.
 *
 * Both curves are piecewise linear in x, continuous, zero for x >= 1, and
 * scaled so that f(x_ref) = f_ref (radial_force_n_per_cm) at
 * x_ref = VS_STENT_REFERENCE_FRACTION = 0.75:
 *
 *   laser-cut nitinol (superelastic plateau, Zilver Vena, Venovo, Vici, Abre):
 *     f(x) = f_ref [1 + sigma (x_ref - x) / (1 - x_ref)]         x <= x_p
 *     f(x) = f(x_p) (1 - x) / (1 - x_p)                          x_p < x < 1
 *     x_p = VS_STENT_NITINOL_PLATEAU_END (default 0.9), sigma =
 *     VS_STENT_NITINOL_PLATEAU_SLOPE (default 0.5): the unloading plateau
 *     rises gently with compression, so a wider stent of the same force
 *     rating opens a lesion further (oversizing), but far less steeply than
 *     a braided stent
 *   braided (Wallstent-type: a spring that stiffens below x_ref):
 *     f(x) = f_ref (1 - x) / (1 - x_ref)                         x_ref <= x < 1
 *     f(x) = f_ref [1 + s (x_ref - x) / (1 - x_ref)]             x < x_ref
 *     s = VS_STENT_BRAIDED_STIFFENING (default 3): the lower branch is s
 *     times as steep as the upper one.
 *
 * f is positive and non-increasing on (0, 1), so p_stent is positive and
 * strictly decreasing there (and -> infinity as d -> 0). With the same f_ref,
 * a braided stent presses harder than a nitinol one below x_ref and less
 * above it. No per-product curve is public; f_ref and the shape knobs are
 * inputs (PHYSICS.md 4).
 *
 * Lesion load. A scarred wall that sits at diameter L unloaded and resists
 * being stretched, plus an extrinsic pressure (May-Thurner compression by
 * the right common iliac artery) acting at any diameter:
 *
 *     p_lesion(d) = k max(0, d/L - 1) + p_ext
 *
 * Achieved stent lumen: the unique root of p_stent(d) = p_lesion(d) on
 * (0, D] (one side strictly falls, the other never falls), found by
 * bisection. If p_lesion(D) = 0 (no load at nominal) the stent reaches D.
 * Closed forms exist on each linear branch: on the nitinol plateau with the
 * wall stretched (d > L), writing C = f_ref 1e6 / (pi VS_DYN_CM2_PER_MMHG)
 * (mmHg mm) and b = sigma / (1 - x_ref),
 * (k/L) d^2 + (p_ext - k + C b / D) d - C (1 + b x_ref) = 0.
 *
 * A stented segment is practically non-collapsible: its compartments' tube
 * law is stiffened by VS_STENT_WALL_STIFFENING_DEFAULT. A common-iliac stent
 * narrows the adjacent external iliac vein (Al-Hakim, JVIR 2018): mean
 * DIAMETER decrease 21.7 +/- 15.8 % on venograms (11.9 -> 9.3 mm, n = 17).
 *
 * Sizing to normal anatomy (Raju) [check]: common iliac 200 mm^2 (16 mm),
 * external iliac 150 mm^2 (14 mm), common femoral 125 mm^2 (12.6 mm).
 * Products: Zilver Vena 14, 16 mm; Wallstent 10 .. 24 mm; Venovo 10 .. 20 mm;
 * Vici 12 .. 16 mm; Abre 10 .. 20 mm [check].
 *
 * Graduated compression stockings: pressure on the skin falls linearly from
 * the ankle value p_a at the ankle height h_a to q p_a at the top h_t:
 *
 *     p(h) = p_a                                        h <= h_a
 *     p(h) = p_a [1 - (1 - q) (h - h_a) / (h_t - h_a)]   h_a < h <= h_t
 *     p(h) = 0                                          h > h_t
 *
 * Classes by ankle pressure, European RAL-GZ 387: I 18-21, II 23-32,
 * III 34-46, IV >= 49 mmHg (PHYSICS.md: classes of about 20-30 and 30-40).
 *
 * Wall shear stress of Poiseuille flow Q in a lumen of radius r:
 *
 *     tau = 4 mu Q / (pi r^3)
 *
 * which in these units needs no factor: tau[Pa] = 4 mu[mPa s] Q[mL/s] /
 * (pi r[mm]^3), since 1e-3 Pa s x 1e-6 m^3/s / 1e-9 m^3 = 1 Pa. An
 * oversized stent lowers velocity and wall shear.
 */
#ifndef VENOSIM_TREATMENT_H
#define VENOSIM_TREATMENT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- clot --------------------------------------------------------------- */

/** Lumen area left by a clot occupying occupied_fraction (phi) of it:
 *  1 - phi, phi clamped to [0, 1] (NaN stays NaN). */
double vs_clot_area_ratio(double occupied_fraction);

/** Occupied fraction after thrombolysis or thrombectomy leaves
 *  residual_fraction (r) of the clot: phi r, both clamped to [0, 1]. */
double vs_clot_after_removal(double occupied_fraction,
                             double residual_fraction);

/* ---- balloon venoplasty ------------------------------------------------- */

/** Elastic recoil, fraction of the balloon area lost after deflation. No
 *  iliac-vein value is public (proxies in the file comment); default 0.35
 *  (Gardiner's 36 +/- 11 % for iliac arteries), valid [0, 1], sweep
 *  0.2 .. 0.5. */
#define VS_BALLOON_RECOIL_DEFAULT 0.35
#define VS_BALLOON_RECOIL_MIN 0.0
#define VS_BALLOON_RECOIL_MAX 1.0
#define VS_BALLOON_RECOIL_SWEEP_MIN 0.2
#define VS_BALLOON_RECOIL_SWEEP_MAX 0.5

/** Lumen diameter (mm) after dilating a lesion of lumen lesion_lumen_mm with
 *  a balloon of balloon_mm and a recoil fraction recoil:
 *  max(lesion, balloon sqrt(1 - recoil)). NaN if a diameter is not positive
 *  and finite or recoil is outside [0, 1]. */
double vs_balloon_lumen_mm(double lesion_lumen_mm, double balloon_mm,
                           double recoil);

/* ---- stents ------------------------------------------------------------- */

typedef enum { VS_STENT_NITINOL = 0, VS_STENT_BRAIDED = 1 } vs_stent_type;

typedef struct {
  vs_stent_type type;
  double nominal_diameter_mm;   /**< labelled size D, mm, in [6, 30]
                                     (products 10 .. 24) */
  double length_cm;             /**< l, cm (> 0) */
  double radial_force_n_per_cm; /**< f_ref: total radial force per cm of
                                     length at 0.75 D, N/cm, [0.05, 10] */
} vs_stent;

/** Valid nominal diameter, mm. */
#define VS_STENT_NOMINAL_MIN_MM 6.0
#define VS_STENT_NOMINAL_MAX_MM 30.0

/** Fraction of nominal at which radial_force_n_per_cm is given. */
#define VS_STENT_REFERENCE_FRACTION 0.75

/** Radial force per cm at 0.75 nominal, N/cm. Inputs with no public
 *  per-product value: bench tests in the literature report the order of
 *  0.1 .. 0.5 N/mm (1 .. 5 N/cm) [check]. The defaults sit low in that band;
 *  a braided stent is given less force at 0.75 D than a laser-cut nitinol
 *  one (it gains force below it). Valid [0.05, 10]. */
#define VS_STENT_RADIAL_FORCE_NITINOL_DEFAULT_N_PER_CM 1.5
#define VS_STENT_RADIAL_FORCE_BRAIDED_DEFAULT_N_PER_CM 1.2
#define VS_STENT_RADIAL_FORCE_MIN_N_PER_CM 0.05
#define VS_STENT_RADIAL_FORCE_MAX_N_PER_CM 10.0

/** Nitinol curve: end x_p of the superelastic plateau as a fraction of
 *  nominal; the force falls linearly to 0 from x_p to 1. Default 0.9,
 *  valid [0.75, 0.99] (must not start before the reference fraction). */
#define VS_STENT_NITINOL_PLATEAU_END 0.9

/** Nitinol curve: rise of the plateau with compression, as a fraction of
 *  f_ref per (1 - x_ref) of diameter (the braided upper branch has 1).
 *  No public per-product value; default 0.5, valid [0, 1] (0: flat). */
#define VS_STENT_NITINOL_PLATEAU_SLOPE 0.5

/** Braided curve: slope of the branch below 0.75 D as a multiple of the
 *  slope above it. Default 3, valid [1, 20]. */
#define VS_STENT_BRAIDED_STIFFENING 3.0

/** Stented wall: multiplier on the stented compartments' tube-law
 *  stiffness (both branches; it replaces the scar's), making them
 *  practically non-collapsible. No public value; default 10 (the lumen
 *  then moves by a few percent over the pressures of a walk), valid
 *  [1, 1000]. Stiffer walls leave the metrics as they are but make the
 *  stented compartment nearly incompressible: with 20 under a 10 mmHg
 *  compression a run took 25 times as long. */
#define VS_STENT_WALL_STIFFENING_DEFAULT 10.0
#define VS_STENT_WALL_STIFFENING_MIN 1.0
#define VS_STENT_WALL_STIFFENING_MAX 1000.0

/** Adjacent-segment narrowing (Al-Hakim, JVIR 2018): 21.7 +/- 15.8 %,
 *  valid [0, 0.6]. NOTE: the paper measured DIAMETER on venograms, so the
 *  area left in the neighbour is (1 - n)^2 = 0.613 at the default, not
 *  1 - n; vs_stent_adjacent_area_ratio() does this. */
#define VS_STENT_ADJACENT_NARROWING_DEFAULT 0.217
#define VS_STENT_ADJACENT_NARROWING_MIN 0.0
#define VS_STENT_ADJACENT_NARROWING_MAX 0.6

/** A stent of the given type and size with its type's default force. */
vs_stent vs_stent_default(vs_stent_type type, double nominal_mm,
                          double length_cm);

/** Checks a stent; 0 or VS_EINVAL with a reason in msg (msg may be NULL). */
int vs_stent_validate(const vs_stent *s, char *msg, size_t msglen);

/** Radial force per cm of length, f(d/D) (N/cm), of the stent held at
 *  d_mm; 0 at and above nominal. NaN for an invalid stent or d_mm <= 0. */
double vs_stent_force_n_per_cm(const vs_stent *s, double d_mm);

/** Outward pressure (mmHg) of the stent held at d_mm: f / (pi d); 0 at and
 *  above nominal, positive and strictly decreasing below it. NaN for an
 *  invalid stent or d_mm <= 0. */
double vs_stent_pressure_mmhg(const vs_stent *s, double d_mm);

/* ---- lesion load -------------------------------------------------------- */

/** Scar recoil stiffness k, mmHg per unit circumferential strain. No public
 *  value. Default 60: with the defaults, a 16 mm nitinol stent in an 8 mm
 *  scarred lesion opens to about 12 mm (56 % of nominal area), a visible
 *  underexpansion; 0 is a wall that does not resist (stent reaches nominal
 *  unless compressed), 1000 a lesion that hardly yields. Valid [0, 1000]. */
#define VS_LESION_STIFFNESS_DEFAULT_MMHG 60.0
#define VS_LESION_STIFFNESS_MIN_MMHG 0.0
#define VS_LESION_STIFFNESS_MAX_MMHG 1000.0

typedef struct {
  double lumen_mm;       /**< the lesion's unloaded lumen diameter L (> 0) */
  double stiffness_mmhg; /**< scar recoil stiffness k, mmHg per unit
                              circumferential strain, [0, 1000] */
  double external_mmhg;  /**< extrinsic pressure p_ext, mmHg, >= 0 */
} vs_lesion_load;

/** Checks a lesion load; 0 or VS_EINVAL with a reason in msg. */
int vs_lesion_load_validate(const vs_lesion_load *l, char *msg,
                            size_t msglen);

/** Inward pressure (mmHg) of the lesion held at d_mm:
 *  k max(0, d/L - 1) + p_ext. NaN for an invalid load or d_mm <= 0. */
double vs_lesion_pressure_mmhg(const vs_lesion_load *l, double d_mm);

/** Achieved lumen (mm, in (0, D]) where p_stent(d) = p_lesion(d), to about
 *  1e-13 relative. Returns 0 and sets *lumen_mm, or VS_EINVAL for a NULL
 *  pointer or an invalid stent or load (*lumen_mm untouched). If the lesion
 *  is wider than the stent and not compressed, the stent does not touch it
 *  and the result is D (the vessel's own lumen is then the larger one). */
int vs_stent_deploy(const vs_stent *s, const vs_lesion_load *l,
                    double *lumen_mm);

/** Area ratio left in the segment next to a stent for a diameter narrowing
 *  n (VS_STENT_ADJACENT_NARROWING_DEFAULT): (1 - n)^2, n clamped to [0, 1]. */
double vs_stent_adjacent_area_ratio(double diameter_narrowing);

/* ---- compression stockings ---------------------------------------------- */

typedef struct {
  double ankle_mmhg;      /**< p_a at the ankle, mmHg (>= 0); class I
                               18-21, II 23-32, III 34-46 (RAL-GZ 387) */
  double ankle_height_cm; /**< h_a, cm above the floor (default 8) */
  double top_height_cm;   /**< h_t > h_a: thigh-length 75 (default),
                               knee-length about 45 */
  double top_fraction;    /**< q, fraction of p_a at the top, [0, 1];
                               default 0.4 (graduated) [check] */
} vs_stocking;

#define VS_STOCKING_ANKLE_HEIGHT_DEFAULT_CM 8.0
#define VS_STOCKING_TOP_THIGH_CM 75.0
#define VS_STOCKING_TOP_KNEE_CM 45.0
#define VS_STOCKING_TOP_FRACTION_DEFAULT 0.4
/** Ankle pressures of vs_stocking_class(1, 2, 3), mmHg: within the RAL-GZ
 *  387 bands (class I at its lower edge, II and III near the middle) and
 *  near PHYSICS.md's 20-30 / 30-40. */
#define VS_STOCKING_CLASS1_MMHG 18.0
#define VS_STOCKING_CLASS2_MMHG 28.0
#define VS_STOCKING_CLASS3_MMHG 40.0

/** A thigh-length graduated stocking of class 1, 2 or 3 (ankle 18, 28, 40
 *  mmHg, ankle at 8 cm, top at 75 cm, top fraction 0.4). Any other class
 *  gives ankle_mmhg = NaN, which vs_stocking_validate refuses. */
vs_stocking vs_stocking_class(int cls);

/** Checks a stocking; 0 or VS_EINVAL with a reason in msg. */
int vs_stocking_validate(const vs_stocking *s, char *msg, size_t msglen);

/** Pressure (mmHg) on the skin at height_cm above the floor (the profile in
 *  the file comment). NaN for an invalid stocking. */
double vs_stocking_pressure_mmhg(const vs_stocking *s, double height_cm);

/* ---- wall shear ---------------------------------------------------------- */

/** Wall shear stress (Pa) of Poiseuille flow flow_ml_s in a lumen of
 *  diameter_mm with viscosity viscosity_mpa_s: 4 mu Q / (pi r^3). Signed
 *  with Q. NaN if the diameter or viscosity is not positive and finite. */
double vs_wall_shear_stress_pa(double flow_ml_s, double diameter_mm,
                               double viscosity_mpa_s);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_TREATMENT_H */
