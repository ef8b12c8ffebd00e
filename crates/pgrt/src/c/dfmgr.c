/*
 * dfmgr.c -- load_external_function and lookup_external_function: the
 * bodies are Rust (src/dfmgr.rs); an ERROR they record (a library that
 * cannot be loaded, a missing function) is raised here, in C, once the
 * Rust body has returned, so it never unwinds Rust frames.
 */
#include "pgcompat.h"

#define RAISING(expr) ({ __typeof__(expr) r_ = (expr); bgw_c_raise_pending(); r_; })

extern void *bgw_rs_load_external_function(const char *filename, const char *funcname,
										   bool signalNotFound, void **filehandle);
extern void *bgw_rs_lookup_external_function(void *filehandle, const char *funcname);

void *
bgw_c_load_external_function(const char *filename, const char *funcname,
							 bool signalNotFound, void **filehandle)
{
	return RAISING(bgw_rs_load_external_function(filename, funcname, signalNotFound, filehandle));
}

void *
bgw_c_lookup_external_function(void *filehandle, const char *funcname)
{
	return RAISING(bgw_rs_lookup_external_function(filehandle, funcname));
}
