/* SPDX-License-Identifier: MIT */
/*
 * libcurl's functions as engine.c loads them (dlopen on first use), shared with the event
 * stream (engine-events.c). Internal to src/lib/foreign.
 */
#pragma once

/* Only types and constants come from the header: the functions are looked up with dlsym. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

struct lj_engine_err; /* lib/foreign/engine.h */

struct lj_curl_fns {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_cleanup)(CURLM *);
	CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg *(*multi_info_read)(CURLM *, int *);
	CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
};

/*
 * libcurl's functions, loaded on the first call (it stays loaded). NULL with err filled when
 * it cannot be loaded.
 */
const struct lj_curl_fns *lj_curl(struct lj_engine_err *err);
