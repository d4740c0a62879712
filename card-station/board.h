/*
 * board.h: what the operator of a bulk personalization run sees: one live line per
 * reader (step, card serial, time on this card), a total (done, failed, rate, expected
 * finish), and at the end a summary table of every card.
 *
 * On a terminal the lines are redrawn in place; otherwise (a log file, a pipe) each step
 * and each total is printed once as its own timestamped line, so the same run reads well
 * in both. Reader threads report through it; it holds its own lock.
 */
#ifndef CS_BOARD_H
#define CS_BOARD_H

#include <stdint.h>
#include <stdio.h>

typedef struct board board_t;

enum board_result { BOARD_OK, BOARD_FAILED, BOARD_SKIPPED };

/* A board for NREADERS readers named NAMES, printing to OUT. EXPECTED: cards the run
 * expects (0: unknown). */
board_t *board_new(FILE *out, char **names, size_t nreaders, long expected);
void board_destroy(board_t **b);

/* Reader I starts card SERIAL. */
void board_card(board_t *b, size_t i, uint32_t serial);
/* Reader I's card is at STEP. */
void board_step(board_t *b, size_t i, const char *step);
/* Reader I's card is finished with RESULT; ORDER (0: none) and DETAIL (the reason) go in
 * the summary. */
void board_finish(board_t *b, size_t i, int64_t order, enum board_result result, const char *detail);
/* Change the number of cards the run expects (for the expected finish). */
void board_expect(board_t *b, long expected);
/* Redraw (terminal) or print the total if it changed (log); called a few times a second. */
void board_tick(board_t *b);
/* The summary table; returns the number of failed cards. */
size_t board_summary(board_t *b);
/* Cards finished as OK / FAILED so far, and the sum of their card times (ms). */
void board_counts(board_t *b, size_t *ok, size_t *failed, int64_t *card_ms);

#endif
