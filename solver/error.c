/* Status codes to text: one table (error.h's VS_ERRNO_MAP). */
#include "venosim/error.h"

const char *vs_strerror(int status) {
  switch (status) {
#define VS_ERR_CASE(name, value, msg) \
  case value:                         \
    return msg;
    VS_ERRNO_MAP(VS_ERR_CASE)
#undef VS_ERR_CASE
  default:
    return "unknown error";
  }
}
