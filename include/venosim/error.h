/**
 * @file error.h
 * @brief Status codes shared by every venosim module.
 *
 * Every function that can fail returns an int: 0 on success, one of the
 * negative codes below on failure. vs_strerror() turns a code into a short
 * human-readable phrase; the detailed reason (which file, which key, which
 * CVODE call) travels separately in a caller-supplied message buffer.
 */
#ifndef VENOSIM_ERROR_H
#define VENOSIM_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/* X-macro: code name, value, message. One table, one place. */
#define VS_ERRNO_MAP(XX)                                                      \
  XX(OK, 0, "success")                                                        \
  XX(ENOMEM, -1, "out of memory")                                             \
  XX(EINVAL, -2, "invalid argument")                                          \
  XX(EIO, -3, "input/output error")                                           \
  XX(EPARSE, -4, "malformed case file")                                       \
  XX(ESCHEMA, -5, "case file does not match the schema")                      \
  XX(ENETWORK, -6, "invalid network")                                         \
  XX(ESOLVER, -7, "the ODE solver failed")                                    \
  XX(ENONFINITE, -8, "non-finite or non-physical state")                      \
  XX(EHDF5, -9, "HDF5 call failed")                                           \
  XX(ENOTFOUND, -10, "name not found")                                        \
  XX(EINTERRUPTED, -11, "interrupted")

typedef enum {
#define VS_ERR_ENUM(name, value, msg) VS_##name = value,
  VS_ERRNO_MAP(VS_ERR_ENUM)
#undef VS_ERR_ENUM
} vs_status;

/** Short description of a status code; never NULL. */
const char *vs_strerror(int status);

#ifdef __cplusplus
}
#endif
#endif /* VENOSIM_ERROR_H */
