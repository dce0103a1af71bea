/* SPDX-License-Identifier: MIT */
/* lanjoin reconcile, as other front ends (watch) call it. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/*
 * Bring the attachments of target (NULL: all) back to their specs, logging one line per
 * action to log. Returns 0 when all are ok or repaired, 1 when something stays drifted or
 * failed, or -errno on an early error.
 */
int cli_reconcile(const char *target, bool json, FILE *log);
