/* Versions of the libraries venosim was built with (version.h). */
#include <hdf5.h>
#include <sundials/sundials_config.h>

#include "venosim/version.h"

#define VS_STR_(x) #x
#define VS_STR(x) VS_STR_(x)

const char *vs_sundials_version(void) { return SUNDIALS_VERSION; }

const char *vs_hdf5_version(void) {
  return VS_STR(H5_VERS_MAJOR) "." VS_STR(H5_VERS_MINOR) "." VS_STR(
      H5_VERS_RELEASE);
}
