/**
 * @file leg.h
 * @brief The default leg: anatomy, valves, calf pump, posture and the
 *        clinical protocol, turned into a network (PHYSICS.md 1.5, 2).
 *
 * Anatomy. Anatomical segments (deep veins from the plantar plexus through
 * the paired tibial veins, the soleal and gastrocnemius sinuses, popliteal,
 * femoral, common femoral, external and common iliac veins to the inferior
 * vena cava; the great saphenous vein from the dorsal venous arch of the
 * foot to the saphenofemoral junction) are each split into n compliant
 * compartments along their length (the 1D resolution). Every compartment
 * obeys Shapiro's tube law (wall.h) with the segment's stiffness K; links
 * between them carry the Poiseuille resistance of the current lumen
 * (segment.h). Valves (valve.h) sit where the default tables put them;
 * perforators join the great saphenous vein to the deep veins; a pelvic
 * collateral joins the external iliac vein to the cava; arterial blood
 * enters through microvascular beds.
 *
 * Sizes, lengths and heights: PHYSICS.md section 2 (ADAN network, IVUS and
 * ultrasound series; heights for an adult of about 175 cm standing). The
 * stiffness K, valve rates, collateral resistance and the split of the
 * resting inflow between beds have no public value: they are inputs with
 * defaults calibrated so that the default leg meets the validation table
 * (PHYSICS.md section 3), and they are meant to be swept.
 *
 * Hydrostatics. The outlet is the inferior vena cava at the venous
 * hydrostatic indifference point, just below the diaphragm (Gauer & Thron,
 * Handbook of Physiology 1965), whose pressure barely changes with posture.
 * Arterial blood comes from the heart's level, so the arterial and venous
 * columns rise together and standing does not stop the inflow.
 *
 * Abdomen. The abdominal contents behave as a fluid column: the
 * intra-abdominal pressure on a vein at height h is p_abd,supine (5 to 7
 * mmHg, WSACS) lying, and p_abd,standing + rho g (h_ref - h) standing, with
 * 20 mmHg at the bladder's height h_ref (Cobb, J Surg Res 2005).
 *
 * Posture and inflow. Standing, the veno-arteriolar reflex constricts the
 * leg's arterioles (Henriksen, Acta Physiol Scand Suppl 1977): each bed's
 * resistance rises with sin(tilt) so that its resting flow standing is
 * standing_flow_ratio of its flow lying. Exercise dilates the muscle beds
 * (exercise_flow_factor).
 *
 * Calf tissue. Veins inside the deep fascia sit in muscle whose resting
 * pressure rises on standing; it bounds how far the emptied calf veins fall
 * after a contraction (calf_tissue_*, inputs).
 *
 * Calf pump. While walking, a contraction pressure (soleus 181 +/- 69 mmHg
 * in late stance, Ballard, J Appl Physiol 1998) acts on the deep calf
 * compartments, scaled per segment (pump_fraction: 1 in the muscle sinuses,
 * less in the tibial veins, none outside the deep fascia), with the plantar
 * plexus squeezed at each step; about one contraction per second per leg.
 *
 * Mesh (the 1D resolution). A segment is cut into cells fitted to where
 * other veins join it (vs_leg_segment_mesh): a short cell at each end, a
 * short cell centred on each junction (a perforator, a communication, a
 * collateral, a segment draining into it), and each stretch between them
 * cut into n = compartments_per_segment equal cells. The short cells are
 * VS_LEG_MESH_END and VS_LEG_MESH_JOIN of the segment at n = 1 and shrink
 * as 1/n, down to VS_LEG_MESH_MIN_CELL_CM of vein. Why: with equal cells a
 * junction is tied to a cell's mean pressure, and half a cell away from
 * where it joins; in the calf veins, whose top collapses standing after a
 * contraction, that error was first order in the cell length (AVP 25.3,
 * 28.9, 30.7, 31.9 ... 34.7 mmHg at n = 1, 2, 4, 8 ... 128 on equal
 * cells). On the fitted mesh the validated measurements move less than
 * 1 % from n = 2 to 4 (AVP 27.35, 27.70, 27.80, 27.75 mmHg at n = 1, 2,
 * 4, 8); validate_leg checks it at the default n = 2.
 *
 * Naming. Compartment k (1 = distal) of segment S is "S_k". The valve on
 * the link out of the proximal end of a segment is named in its table;
 * perforators and communications are links named in theirs. A site's
 * pressure is the mean over its segment's compartments weighed by their
 * lengths (the run's network table keeps them): the segment's mean pressure
 * whatever n is. Sites: VS_LEG_ANKLE_SEGMENT (the superficial vein at the
 * ankle, where ambulatory venous pressure is measured through a dorsal foot
 * vein), VS_LEG_CFV_SEGMENT and VS_LEG_CAVA_SEGMENT.
 */
#ifndef VENOSIM_LEG_H
#define VENOSIM_LEG_H

#include <stddef.h>

#include "venosim/network.h"
#include "venosim/result.h"
#include "venosim/solver.h"
#include "venosim/treatment.h"
#include "venosim/valve.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Segment where the ankle pressure is read. */
#define VS_LEG_ANKLE_SEGMENT "gsv_ankle"
/** Common femoral vein. */
#define VS_LEG_CFV_SEGMENT "common_femoral"
/** Infrarenal inferior vena cava. */
#define VS_LEG_CAVA_SEGMENT "ivc"
/** External iliac vein (where the pelvic collateral leaves). */
#define VS_LEG_ILIAC_SEGMENT "external_iliac"
/** The pelvic collateral link. */
#define VS_LEG_COLLATERAL "pelvic_collateral"
/** The outlet pressure node. */
#define VS_LEG_OUTLET "thoracic_ivc"
/** The arterial pressure node. */
#define VS_LEG_ARTERY "arterial"

typedef enum {
  VS_LEG_DEEP = 0,     /**< deep axial veins */
  VS_LEG_SINUS,        /**< calf muscle sinuses (deep) */
  VS_LEG_SUPERFICIAL,  /**< great saphenous system */
  VS_LEG_PELVIC        /**< iliac veins and cava (deep, abdominal) */
} vs_leg_system;

/** One anatomical vein segment. */
typedef struct {
  char name[32];
  vs_leg_system system;
  double diameter_mm;     /**< each vessel's reference diameter (p_tm = 0) */
  unsigned n_parallel;    /**< vessels side by side (paired tibial veins) */
  double length_cm;
  double z_distal_cm;     /**< height of the distal end, standing */
  double z_proximal_cm;   /**< height of the proximal end, standing */
  double k_mmhg;          /**< tube-law distension stiffness Kd */
  double k_collapse_mmhg; /**< tube-law collapse stiffness Kc (wall.h) */
  double pump_fraction;   /**< share of the calf contraction pressure felt */
  double plantar_fraction;/**< share of the plantar (foot) pump pressure */
  int abdominal;          /**< under the intra-abdominal pressure */
  int in_calf;            /**< counted in the calf volume (plethysmography) */
  char drains_to[32];     /**< segment receiving the proximal end ("" for
                               the outlet) */
  double drains_at;       /**< where along it, 0 distal .. 1 proximal */
  char valve[32];         /**< valve on that junction link, or "" */
  const char *source;     /**< where the numbers come from */
} vs_leg_segment;

/** A link between two segments that is not an axial junction: perforators,
 *  sinus outflows, the pelvic collateral. Flow forward is from -> to. */
typedef struct {
  char name[32];
  char from[32];
  double from_at;         /**< 0 distal .. 1 proximal along `from` */
  char to[32];
  double to_at;
  double diameter_mm;     /**< 0: a given resistance instead of geometry */
  unsigned n_parallel;
  double length_cm;
  double resistance_mmhg_s_ml; /**< used when diameter_mm is 0 */
  char valve[32];         /**< valve name, or "" */
  const char *source;
} vs_leg_connection;

/** A microvascular bed: arterial blood entering a segment. */
typedef struct {
  char name[32];
  char segment[32];
  double at;              /**< 0 distal .. 1 proximal */
  double rest_flow_ml_s;  /**< supine resting flow it is sized for */
  int muscle;             /**< dilates in exercise (hyperaemia) */
} vs_leg_bed;

/** A valve's parameters by name. */
typedef struct {
  char name[32];
  vs_leg_system system;   /**< deep, superficial (set from its segment) */
  int perforator;         /**< a perforator valve */
  vs_valve valve;
} vs_leg_valve;

/** What a lesion is (PHYSICS.md 1.3). Every kind narrows the segment where
 *  it drains (a Young-Tsai stenosis on that link, stenosis.h); a lumen
 *  left of 0 is a total occlusion: the link is removed and only the
 *  collaterals carry the flow. */
typedef enum {
  VS_LESION_STENOSIS = 0, /**< residual post-thrombotic stenosis: chronic
                               area loss, stiffer and less collapsible wall */
  VS_LESION_CLOT,         /**< acute thrombus occupying part of the lumen */
  VS_LESION_COMPRESSION,  /**< extrinsic compression (May-Thurner): a fixed
                               narrowing and an external pressure on the
                               segment */
  VS_LESION_FILTER        /**< an IVC filter, with or without trapped clot */
} vs_lesion_kind;

/** A residual post-thrombotic stenosis is stiffer and less collapsible
 *  than a normal vein (PHYSICS.md 1.3): its tube-law Kd and Kc are
 *  multiplied by this. No public value; default 3, valid [1, 1000]. */
#define VS_LEG_SCAR_WALL_STIFFENING_DEFAULT 3.0

/** A lesion of one segment (at most one per segment). */
typedef struct {
  vs_lesion_kind kind;
  char segment[32];
  double area_ratio;        /**< lumen left, As/A0, in [0, 1]: stenosis and
                                 compression give it; clot and filter derive
                                 it as 1 - occupied_fraction */
  double occupied_fraction; /**< clot, filter: share of the lumen filled by
                                 thrombus, [0, 1] (1: total occlusion) */
  double length_cm;         /**< lesion length */
  double wall_stiffening;   /**< multiplies the segment's tube-law stiffness
                                 Kd and Kc (a scarred wall: >= 1) */
  double external_mmhg;     /**< extrinsic pressure on the segment (the
                                 artery over the vein), >= 0 */
  double scar_stiffness_mmhg; /**< what the lesion pushes back on a stent
                                   with (treatment.h vs_lesion_load) */
} vs_leg_lesion;

/** A treatment of the leg (PHYSICS.md 1.6; models in treatment.h). */
typedef enum {
  VS_TREAT_CLOT_REMOVAL = 0, /**< thrombolysis or thrombectomy: leaves
                                  residual_fraction of the clot */
  VS_TREAT_BALLOON,          /**< venoplasty: the balloon lumen less the
                                  elastic recoil */
  VS_TREAT_STENT,            /**< the lumen of the stent-lesion force
                                  balance; a stiff stented wall; the
                                  neighbour upstream narrowed */
  VS_TREAT_STOCKINGS,        /**< graduated external pressure on the leg */
  VS_TREAT_PALMA             /**< crossover bypass: a graft from the common
                                  femoral vein to the other side's (the cava
                                  through the healthy iliac veins) */
} vs_treatment_kind;

typedef struct {
  vs_treatment_kind kind;
  char segment[32];           /**< the treated lesion's segment (clot
                                   removal, balloon, stent) */
  double residual_fraction;   /**< clot removal: share of the clot left */
  double diameter_mm;         /**< balloon; stent nominal; Palma graft */
  double length_cm;           /**< stent; Palma graft */
  double recoil;              /**< balloon: elastic recoil fraction */
  vs_stent stent;             /**< stent: type, size, radial force */
  double adjacent_narrowing;  /**< stent: area lost by the segment draining
                                   into the stented one (Al-Hakim 2018) */
  double adjacent_length_cm;  /**< stent: length of that narrowing */
  double stent_wall_stiffening; /**< stent: multiplies Kd and Kc of the
                                     stented compartments */
  vs_stocking stocking;       /**< stockings */
} vs_leg_treatment;

/** Length of the narrowing a stent causes in the segment upstream of it
 *  (the stent's end pressing on the next vein). No public value; default
 *  2 cm. */
#define VS_LEG_ADJACENT_LENGTH_DEFAULT_CM 2.0
/** Palma crossover graft: the contralateral great saphenous vein, about
 *  6 mm wide, tunnelled suprapubically from one groin to the other (about
 *  30 cm). Inputs; defaults from the vein's size (PHYSICS.md 1.5: radius
 *  about 1.8 mm at rest, wider when arterialised) [check]. */
#define VS_LEG_PALMA_DIAMETER_DEFAULT_MM 6.0
#define VS_LEG_PALMA_LENGTH_DEFAULT_CM 30.0
/** The Palma graft's link. */
#define VS_LEG_PALMA_LINK "palma_graft"

/** The treated (or, untreated, the diseased) site of a built leg: the
 *  lumen a treatment achieved, reported as lumen_diameter_treated. */
typedef struct {
  char segment[32];       /**< "" when the leg has no lesion */
  double lumen_mm;        /**< effective lumen diameter (0: occluded) */
  double area_ratio;      /**< effective lumen left, As/A0 (> 1: a stent
                               wider than the native vein) */
  int stented;
} vs_leg_site;

/** Everything about the leg that a case file can change. */
typedef struct {
  size_t n_segments;
  vs_leg_segment *segments;
  size_t n_connections;
  vs_leg_connection *connections;
  size_t n_beds;
  vs_leg_bed *beds;
  size_t n_valves;
  vs_leg_valve *valves;
  size_t n_lesions;
  vs_leg_lesion *lesions;         /**< none in the default leg */
  size_t n_treatments;
  vs_leg_treatment *treatments;   /**< applied in order, none by default */

  unsigned compartments_per_segment; /**< n, the 1D resolution (>= 1):
                                       cells per stretch of the fitted mesh
                                       (default 2) */
  double wall_stiffness_scale;    /**< multiplies every segment's K */
  double arterial_pressure_mmhg;  /**< mean arterial pressure at the heart */
  double heart_height_cm;         /**< standing height of the heart */
  double outlet_pressure_mmhg;    /**< cava at the indifference point */
  double outlet_height_cm;        /**< its standing height */
  double abdominal_supine_mmhg;   /**< intra-abdominal pressure lying */
  double abdominal_standing_mmhg; /**< standing, at abdominal_ref_height */
  double abdominal_ref_height_cm; /**< where the standing value is taken */
  double contralateral_flow_ml_s; /**< the other leg and pelvis into the cava */
  double venous_pressure_rest_mmhg; /**< venular pressure the beds are sized
                                       for (supine) */
  double calf_tissue_supine_mmhg; /**< resting pressure inside the deep
                                       fascia, lying */
  double calf_tissue_standing_mmhg; /**< the same standing */
  double pump_pressure_mmhg;      /**< calf contraction pressure amplitude */
  double plantar_pressure_mmhg;   /**< foot pump pressure amplitude */
  double pump_duty;               /**< fraction of a cycle contracted */
  double pump_rise_s;             /**< rise and fall time of a contraction */
  double exercise_flow_factor;    /**< muscle-bed flow in exercise / rest */
  double standing_flow_ratio;     /**< bed flow standing / lying at rest
                                       (veno-arteriolar reflex) */
  double respiration_mmhg;        /**< abdominal swing with breathing (0 off) */
  double respiration_period_s;
} vs_leg;

/** The leg's clinical protocol: one run yields every measurement. */
typedef struct {
  double supine_s;          /**< supine rest */
  double exercise_s;        /**< supine exercise: raised inflow */
  double elevation_s;       /**< leg raised (the plethysmograph's empty
                                 baseline), lying at elevation_deg */
  double elevation_deg;     /**< body tilt that raises the leg (< 0) */
  double stand_up_s;        /**< tilt from elevation_deg to 90 degrees */
  double standing_s;        /**< standing still (filling, standing values) */
  double tiptoe_refill_s;   /**< standing after one tiptoe */
  unsigned walk_steps;      /**< steps (contractions) of the walk */
  double cadence_hz;        /**< contractions per second */
  double recovery_s;        /**< standing after walking (refill) */
  double cuff_mmhg;         /**< calf compression before its release */
  double cuff_hold_s;
  double cuff_release_s;    /**< time to deflate */
  double cuff_observe_s;    /**< standing after the release */
  double valsalva_mmhg;     /**< added abdominal pressure */
  double valsalva_s;
  double valsalva_observe_s;
  double output_dt_s;       /**< output grid */
} vs_leg_protocol;

/** A named window of the protocol. */
typedef struct {
  char name[32];
  double t_start_s;
  double t_end_s;
} vs_leg_phase;

/** Mean retrograde velocity through a valve's annulus above which a sample
 *  counts as reflux (duplex ultrasound sees flow, not a shut cusp). */
#define VS_LEG_REFLUX_VELOCITY_CM_S 1.0

/** The clinical measurements of one run through the protocol, each taken
 *  as a clinician takes it (metrics.h describes each); NaN when the run is
 *  not a leg run or lacks the phase a measurement needs. */
typedef struct {
  double p_ankle_supine;       /**< mmHg, mean over the last 5 s supine */
  double p_ankle_standing;     /**< mmHg, mean over the last 5 s standing */
  double avp_ankle;            /**< mmHg, mean over the walk's last 5 cycles */
  double avp_drop;             /**< mmHg, standing minus AVP */
  double avp_transmural;       /**< mmHg, AVP less the external pressure on
                                    the ankle vein (stockings) */
  double refill_time_90;       /**< s, after the walk, to recover 90 % */
  double p_cfv_standing;       /**< mmHg */
  double p_cfv_walk_rise;      /**< mmHg, walking minus standing */
  double gradient_rest;        /**< mmHg, femoral to cava, supine rest */
  double gradient_exercise;    /**< mmHg, the same in supine exercise */
  double reflux_time_max_deep; /**< s */
  double reflux_time_max_superficial; /**< s */
  double reflux_time_max_perforator;  /**< s */
  double venous_volume;        /**< mL, calf, standing minus supine */
  double venous_filling_index; /**< mL/s, 90 % VV / time to fill it */
  double ejection_fraction;    /**< %, one tiptoe */
  double residual_volume_fraction; /**< %, after the walk */
  double collateral_flow_fraction; /**< 1, standing */
  double ulcer_risk_band;      /**< %, ulcer incidence of the AVP band */
  double lumen_diameter_treated;   /**< mm, the site's effective lumen */
  double wall_shear_stress_treated;/**< Pa, in the site's lumen lying at
                                        rest */
  size_t n_valves;             /**< valves found in the run */
  char valve_names[32][32];
  double reflux_time[32];      /**< s, per valve, longest retrograde run */
} vs_leg_measurements;

/** Take every measurement from a finished run. */
void vs_leg_measure(const vs_run_result *r, vs_leg_measurements *m);

/** Nicolaides et al. (J Vasc Surg 1993): ulcer incidence (%) for an AVP. */
double vs_leg_ulcer_incidence(double avp_mmhg);

/** The default leg (allocates its tables; free with vs_leg_clear). */
int vs_leg_default(vs_leg *leg);
/** Deep copy. */
int vs_leg_copy(vs_leg *dst, const vs_leg *src);
void vs_leg_clear(vs_leg *leg);

/** A lesion of `kind` on `segment` with the kind's defaults (wall
 *  stiffening, scar stiffness); the caller sets its size. */
vs_leg_lesion vs_leg_lesion_default(vs_lesion_kind kind, const char *segment);
/** Add a lesion (copied); VS_EINVAL with the reason in msg for an unknown
 *  segment, a second lesion on one segment, or a value out of range. */
int vs_leg_add_lesion(vs_leg *leg, const vs_leg_lesion *lesion, char *msg,
                      size_t msglen);
/** A treatment of `kind` with its defaults (treatment.h). */
vs_leg_treatment vs_leg_treatment_default(vs_treatment_kind kind);
/** Add a treatment (copied); VS_EINVAL with the reason in msg when it
 *  names a segment without a lesion it can treat, a stent longer than its
 *  segment or a value out of range. */
int vs_leg_add_treatment(vs_leg *leg, const vs_leg_treatment *t, char *msg,
                         size_t msglen);
/** A segment as its lesions and treatments leave it: what vs_leg_build
 *  puts into the network. */
typedef struct {
  double area_ratio;        /**< lumen left where it drains, As/A0 (1: no
                                 narrowing, 0: occluded; > 1 is read as 1) */
  double length_cm;         /**< length of that narrowing */
  double stiffening;        /**< multiplies Kd and Kc of every compartment */
  double external_mmhg;     /**< extrinsic pressure on every compartment */
  double stented_length_cm; /**< proximal length held open by a stent */
  double stent_lumen_mm;    /**< the stent's achieved lumen (0: none) */
  double stent_stiffening;  /**< multiplies Kd and Kc where stented */
} vs_leg_segment_state;

/** Every segment's state (states[leg->n_segments]) after the lesions and
 *  then the treatments in order, and the site a run reports: the most
 *  severe lesion as the patient has it, before treatment (least lumen
 *  left, the first of equals; site->segment "" without lesions), so that
 *  every arm of one patient reports the same segment.
 *  Returns 0 or VS_EINVAL with the reason in msg. */
int vs_leg_disease_state(const vs_leg *leg, vs_leg_segment_state *states,
                         vs_leg_site *site, char *msg, size_t msglen);

/** Look-ups by name (NULL if absent). */
vs_leg_segment *vs_leg_find_segment(vs_leg *leg, const char *name);
vs_leg_valve *vs_leg_find_valve(vs_leg *leg, const char *name);
vs_leg_connection *vs_leg_find_connection(vs_leg *leg, const char *name);

/** Largest step for a leg run. Every corner of the forcing (a contraction's
 *  rise and fall, the cuff, the Valsalva, posture) is a stop time of the
 *  integrator, so no pulse can be stepped over and the error control sets
 *  the step inside them; the cap only bounds the long quiet stretches.
 *  0.25 s gives every measurement of the validation table to its printed
 *  digits, as 0.02 s did, with half the steps. */
#define VS_LEG_MAX_STEP_S 0.25

/** Leg runs turn on CVODE's BDF stability limit detection
 *  (vs_solver_options.stability_limit_detection). BDF of order 3 to 5 is
 *  not A-stable, and a leg split into many compartments has modes near the
 *  imaginary axis (a valve's opening coupled through a nearly
 *  resistance-free link to two small compartments): at order 4 or 5 they
 *  grow for a range of steps, and the error test then holds the step at
 *  their time scale (some 15 microseconds) for a while: n = 8 took 122 000
 *  steps, 23 000 with detection; n = 16, 277 000 and 119 000 (max_order 2
 *  does better still there, 23 000). Detection lowers the order instead.
 *  With one compartment per segment it never acts (the same steps, the
 *  same numbers). Those figures are of the equal-cell mesh; leg runs now
 *  stop at order 2 (VS_LEG_MAX_ORDER), where CVODE's detection does not
 *  act (it watches orders 3 and up): it stays on for a case file that
 *  raises solver.max_order. */
#define VS_LEG_STABILITY_LIMIT_DETECTION 1

/** BDF order limit of a leg run (a case's solver.max_order, when the file
 *  does not set it). A segment's valve drives its closing with the whole
 *  segment's viscous drop (valve.h, station) across its short end cell, so
 *  the loop valve - short link - small compartment is stiff; orders 3 to 5
 *  crawl there even with stability limit detection (more than 30 million
 *  steps at n = 2), order 2 does not. */
#define VS_LEG_MAX_ORDER 2

/** The fitted mesh (see the top of this file): each end cell is this
 *  fraction of its segment at n = 1, ... */
#define VS_LEG_MESH_END 0.05
/** ... each junction's cell this fraction, ... */
#define VS_LEG_MESH_JOIN 0.03
/** ... both shrinking as 1/n but not below this length of vein (nor
 *  growing above their n = 1 fraction to reach it), cm. */
#define VS_LEG_MESH_MIN_CELL_CM 0.5

/** Absolute tolerance on valve openings in a leg run. A shut leg valve
 *  still has 1e-4 of its annulus open (leak floor): 1e-6 of opening is 1 %
 *  of that, tighter than anything measured needs. 1e-5 took 9,680 steps
 *  instead of 11,400 for the healthy leg on one compartment per segment,
 *  with every printed measurement the same (within 6e-5 relative). */
#define VS_LEG_ATOL_VALVE 1e-5

/** Newton convergence factor of a leg run (CVODE's nlscoef; its default
 *  is 0.1). The fitted mesh's short cells beside long ones make modes of
 *  a microsecond; with the Newton iteration stopped at CVODE's default
 *  accuracy, what it leaves rings in them from step to step: a sinus and
 *  the tibial cell it drains into swapped 24 mL/s every microsecond
 *  (a cycle of two steps, repeating to the last digit), and 5 of 72 runs
 *  of a grid of leaky valves (Mrg 0.1 to 0.6, n = 1, 2, 4) crawled for
 *  more than 20 s, one to 5.6 million steps. At 0.01 none does, and the
 *  default leg takes fewer steps. */
#define VS_LEG_NONLIN_CONV_COEF 0.01

/** The default protocol. */
vs_leg_protocol vs_leg_protocol_default(void);
/** Checks it; 0 or VS_EINVAL with the reason. */
int vs_leg_protocol_validate(const vs_leg_protocol *p, char *msg,
                             size_t msglen);

/** The protocol's phases in time order (static storage of at most
 *  VS_LEG_MAX_PHASES); returns their number. */
#define VS_LEG_MAX_PHASES 16
size_t vs_leg_phases(const vs_leg_protocol *p, vs_leg_phase *phases);
/** End time of the protocol, s. */
double vs_leg_protocol_duration(const vs_leg_protocol *p);

/** The solver options of a run of `leg` through `p`: CVODE's defaults
 *  with the protocol's length and output grid and the leg's step cap,
 *  stability limit detection, valve tolerance and order limit above. A case file's solver keys override them one by one. */
vs_solver_options vs_leg_solver_options(const vs_leg *leg,
                                        const vs_leg_protocol *p);

/** Build the network of `leg` run through `protocol` (posture, pump, cuff,
 *  Valsalva and hyperaemia as waveforms), validated. */
int vs_leg_build(const vs_leg *leg, const vs_leg_protocol *protocol,
                 vs_network **net, char *msg, size_t msglen);

/** The cells of segment `s` of `leg`: fills edges[0 .. min(cells, cap-1)]
 *  with their edges as fractions of its length (0 distal, 1 proximal) and
 *  returns the number of cells, compartment k lying between edges[k-1] and
 *  edges[k]. Call it with cap 0 to learn the number; 0 means it ran out
 *  of memory. */
unsigned vs_leg_segment_mesh(const vs_leg *leg, const vs_leg_segment *s,
                             double *edges, unsigned cap);

/** Name of compartment k (1-based, 1 = distal) of a segment. */
void vs_leg_compartment_name(const char *segment, unsigned k, char *out,
                             size_t len);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_LEG_H */
