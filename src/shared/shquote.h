/* SPDX-License-Identifier: MIT */
/*
 * Shell quoting for --dry-run: every word a dry run prints that comes from input or from the
 * system (names, paths, comments' text) goes through these, so that a pasted plan runs the
 * commands it shows and nothing else.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* Room for any word lanjoin quotes (a target spec or path of up to 256 bytes, each byte
 * quoted as '\'' at worst) and its NUL. */
#define LJ_SHQ_MAX (256 * 4 + 3)

/*
 * s as one shell word: s itself if it holds only characters no shell treats specially
 * (letters, digits, _@%+=:,./-), otherwise in single quotes with each ' written as '\''
 * (an empty s is ''). Control characters are written as '?'. Returns s or buf (size bytes);
 * if buf is too small, the word '<too-long>' (quoted: it never runs as a command).
 */
const char *lj_shell_quote(const char *s, char *buf, size_t size);

/* lj_shell_quote with a buffer that lives until the end of the enclosing block, for use as a
 * printf argument: fprintf(f, "ip link del %s\n", LJ_SHQ(name)). */
#define LJ_SHQ(s) lj_shell_quote((s), (char[LJ_SHQ_MAX]){0}, LJ_SHQ_MAX)

/* Write s to f as one shell word (lj_shell_quote, any length). */
void lj_shell_word(FILE *f, const char *s);

/*
 * s as text for a "# ..." comment line: newlines and other control characters as '?', so
 * that the text cannot end the comment. Returns buf (size bytes; cut to fit).
 */
const char *lj_shell_comment(const char *s, char *buf, size_t size);

#define LJ_SHC(s) lj_shell_comment((s), (char[LJ_SHQ_MAX]){0}, LJ_SHQ_MAX)
