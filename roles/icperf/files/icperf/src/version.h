/* icperf version: the one place it is defined. */
#ifndef ICPERF_VERSION_H
#define ICPERF_VERSION_H
#define ICPERF_VERSION "0.1.0"
#endif
