/* SPDX-License-Identifier: MIT */
/*
 * The macvlan way: a macvlan child of the parent, created directly in the target, and on
 * request the host shim (macvlan-common.h) with a host route to each container address. Its
 * plan builder is lj_attach_macvlan_build (lib/core/attach.h); what it shares with the shim
 * commands is in macvlan-common.h.
 */
#pragma once

#include "lib/ways/macvlan-common.h"
