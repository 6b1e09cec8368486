"""The cyclic garbage collector, paused while the application's modules load.

Loading them allocates some 150 000 objects that live as long as the process (modules, classes,
mappers, schemas) and next to no garbage, yet the collector walks them again and again as they
pile up: about a tenth of every `flask` command's start. Imported first by `application`, which
calls `finished()` once every module is loaded: what is loaded by then is frozen, never walked
again by a collection (and left untouched in the pages forked workers share)."""

import gc

_was_enabled = gc.isenabled()
gc.disable()


def finished() -> None:
    """Every module is loaded: freeze what they made and let the collector run again."""
    gc.freeze()
    if _was_enabled:
        gc.enable()
