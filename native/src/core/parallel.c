/* Splitting an op into tiles and running them through the caller's parallel-for
 * (ecnn_parallel). The ops (src/ops) plan a grid of tiles (or a span of pieces) from the op's
 * size and the thread count and hand ecnn_run_grid (ecnn_run_span) a function that runs their
 * kernel on one tile (piece). No threads and no allocation here: a build without threads runs
 * every task inline. */
#include "core/op.h"

/* Tiles worth making for `work` MAC-equivalents (`setup` more per tile): one per
 * ECNN_MIN_TILE_WORK, at most one per thread unless each keeps ECNN_BALANCE_TILE_WORK, and at
 * most ECNN_TILES_PER_THREAD per thread (one with a setup: each tile beyond the threads would
 * add a setup to a thread's time) and with a setup no tile under 2 x setup of work; at least 1,
 * and 1 on one thread. */
static uint32_t tiles_wanted(const ecnn_run_ctx *r, uint64_t work, uint64_t setup)
{
    const uint64_t threads = r->par != NULL ? r->par->threads : 1;
    uint64_t want, balance;
    if (threads < 2) return 1;
    want = work / ECNN_MIN_TILE_WORK;
    if (setup > 0) {
        if (want > work / (2 * setup)) want = work / (2 * setup);
        if (want > threads) want = threads;
    } else if (want > threads) {
        balance = work / ECNN_BALANCE_TILE_WORK;
        want = balance < threads ? threads : balance;
        if (want > threads * ECNN_TILES_PER_THREAD) want = threads * ECNN_TILES_PER_THREAD;
    }
    return want < 2 ? 1 : (uint32_t)want;
}

static uint32_t div_up(uint32_t a, uint32_t b)
{
    return a / b + (a % b != 0);
}

/* Splits `units` into at most `parts` blocks of equal size (the last one shorter): the block size. */
static uint32_t block_of(uint32_t units, uint32_t parts)
{
    return div_up(units, parts < units ? parts : units);
}

uint32_t ecnn_grid_plan(ecnn_grid *g, const ecnn_run_ctx *r, uint32_t rows, uint32_t chans, uint32_t grain,
                        uint64_t work, uint64_t setup, int chans_first)
{
    const uint32_t want = tiles_wanted(r, work, setup);
    const uint32_t units = grain >= chans ? 1 : div_up(chans, grain); /* channel blocks of `grain` */
    uint32_t row_parts, unit_parts;
    if (chans_first) {
        unit_parts = want < units ? want : units;
        row_parts = div_up(want, unit_parts);
    } else {
        row_parts = want < rows ? want : rows;
        unit_parts = div_up(want, row_parts);
    }
    g->rows = rows;
    g->row_step = block_of(rows, row_parts);
    g->row_tiles = div_up(rows, g->row_step);
    g->chans = chans;
    g->chan_step = units == 1 ? chans : block_of(units, unit_parts) * grain;
    g->chan_tiles = div_up(chans, g->chan_step);
    return g->row_tiles * g->chan_tiles;
}

static void grid_tile(const ecnn_grid *g, size_t index, ecnn_tile *t)
{
    const uint32_t rb = (uint32_t)(index / g->chan_tiles), cb = (uint32_t)(index % g->chan_tiles);
    t->m0 = rb * g->row_step;
    t->m1 = g->rows - t->m0 < g->row_step ? g->rows : t->m0 + g->row_step;
    t->o0 = cb * g->chan_step;
    t->o1 = g->chans - t->o0 < g->chan_step ? g->chans : t->o0 + g->chan_step;
}

/* The split of a flat range [0, count) into `pieces` of `step`, the last one shorter. */
typedef struct {
    size_t count, step;
    uint32_t pieces;
} span;

static uint32_t span_plan(span *sp, const ecnn_run_ctx *r, size_t count, size_t align, uint64_t work, uint64_t setup)
{
    const uint32_t want = tiles_wanted(r, work, setup);
    const size_t units = count / align + (count % align != 0);
    const size_t parts = want < units ? want : (units ? units : 1);
    sp->count = count;
    sp->step = (units / parts + (units % parts != 0)) * align;
    sp->pieces = sp->step ? (uint32_t)(count / sp->step + (count % sp->step != 0)) : 1;
    if (sp->pieces == 0) sp->pieces = 1;
    return sp->pieces;
}

/* Piece `index`: [*first, *first + return value). */
static size_t span_piece(const span *sp, size_t index, size_t *first)
{
    *first = index * sp->step;
    if (*first >= sp->count) return 0;
    return sp->count - *first < sp->step ? sp->count - *first : sp->step;
}

/* task(ctx, i) for every i in [0, count): through r's parallel-for when count > 1, else here. */
static void run_tasks(const ecnn_run_ctx *r, ecnn_task_fn task, void *ctx, size_t count)
{
    size_t i;
    if (count > 1 && r->par != NULL && r->par->threads > 1) {
        r->par->parallel_for(r->par->pool, task, ctx, count);
        return;
    }
    for (i = 0; i < count; i++) task(ctx, i);
}

/* The task context of ecnn_run_grid and ecnn_run_span: the op's function and job, and the
 * split (a grid of tiles or a span of pieces). */
typedef struct {
    const ecnn_grid *grid;
    ecnn_tile_fn *tile_fn;
    span span;
    ecnn_piece_fn *piece_fn;
    const void *ctx;
} split_job;

static void grid_task(void *ctx, size_t index)
{
    const split_job *j = (const split_job *)ctx;
    ecnn_tile t;
    grid_tile(j->grid, index, &t);
    j->tile_fn(j->ctx, &t);
}

void ecnn_run_grid(const ecnn_run_ctx *r, const ecnn_grid *g, ecnn_tile_fn *fn, const void *ctx)
{
    split_job j;
    j.grid = g;
    j.tile_fn = fn;
    j.ctx = ctx;
    run_tasks(r, grid_task, &j, (size_t)g->row_tiles * g->chan_tiles);
}

static void span_task(void *ctx, size_t index)
{
    const split_job *j = (const split_job *)ctx;
    size_t first;
    const size_t count = span_piece(&j->span, index, &first);
    if (count > 0) j->piece_fn(j->ctx, first, count);
}

void ecnn_run_span(const ecnn_run_ctx *r, ecnn_piece_fn *fn, const void *ctx, size_t count, size_t align, uint64_t work,
                   uint64_t setup)
{
    split_job j;
    j.piece_fn = fn;
    j.ctx = ctx;
    run_tasks(r, span_task, &j, span_plan(&j.span, r, count, align, work, setup));
}

void ecnn_run_conv_passes(const ecnn_run_ctx *r, ecnn_pass_io *io, const ecnn_conv2d_args *p, size_t x_bytes,
                          size_t y_bytes, uint32_t grain, uint64_t setup, ecnn_tile_fn *fn, const void *ctx)
{
    const uint8_t *x0 = (const uint8_t *)io->x;
    uint8_t *y0 = (uint8_t *)io->y;
    uint32_t s0;
    for (s0 = 0; r->run && s0 < r->batch; s0 += io->n) {
        ecnn_grid grid;
        io->n = ecnn_pass_samples(r->batch - s0, p->oh);
        io->x = x0 + (size_t)s0 * x_bytes;
        io->y = y0 + (size_t)s0 * y_bytes;
        ecnn_grid_plan(&grid, r, io->n * p->oh, p->o, grain,
                       (uint64_t)io->n * p->oh * p->ow * p->o * p->kh * p->kw * (p->c / p->group), setup, 0);
        ecnn_run_grid(r, &grid, fn, ctx);
    }
}
