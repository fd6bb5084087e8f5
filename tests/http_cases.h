/*
 * http_cases.h: the HTTP cases that live beside test_http.c, run from its
 * main: size limits, pipelining, pausing and random inputs (http_stream.c).
 */
#ifndef PVT_TEST_HTTP_CASES_H
#define PVT_TEST_HTTP_CASES_H

void test_body_too_large(void **state);
void test_uri_too_long(void **state);
void test_headers_too_large(void **state);
void test_pipelined(void **state);
void test_sleep_pause(void **state);
void test_random_inputs(void **state);

#endif
