/* The command line of icperf (cli.c). */
#ifndef ICPERF_CLI_H
#define ICPERF_CLI_H

#include "backend.h"

/* Fill cfg from the command line (defaults for what is not given). --help and --version print
 * and exit 0; a bad argument prints one line naming the option and what it allows, then the
 * usage, on stderr, and exits 2. */
void cli_parse(int argc, char **argv, struct icperf_cfg *cfg);

/* The name of a mode as on the command line and in the summary: "send", "recv", ... */
const char *cli_mode_name(enum icperf_mode mode);

#endif
