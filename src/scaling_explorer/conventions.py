"""Conventions a scaling law is stated in (kept for old imports): see the modules by idea.

- :mod:`scaling_explorer.counting`: what N counts (:class:`ParamCount`), architectures, total <->
  non-embedding conversions, the catalog's non-embedding counts;
- :mod:`scaling_explorer.flops`: FLOP models (:class:`FlopModel`, :data:`FLOP_MODELS`);
- :mod:`scaling_explorer.porian`: Porian et al. 2024's released data.
"""

from .counting import (  # noqa: F401
    CHINCHILLA_SHAPES,
    NON_EMBEDDING_ROUTES,
    PEARCE_SONG,
    PEARCE_SONG_GAMMA,
    Architecture,
    ParamCount,
    ShapeFamily,
    architecture_of,
    convert_params,
    embedding_params,
    non_embedding_counts,
    non_embedding_from_total,
    total_from_non_embedding,
)
from .flops import (  # noqa: F401
    _COUNTS,
    CHINCHILLA_FLOPS,
    DEEPSEEK_FLOPS,
    FLOP_MODELS,
    KAPLAN_FLOPS,
    SIX_ND,
    FlopModel,
    PerTokenFlops,
    ShapedFlopModel,
    chinchilla_flops_per_token,
    compare_reported_flops,
    deepseek_flops_per_token,
    get_flop_model,
    kaplan_flops_per_token,
    six_n_flops_per_token,
)
from .porian import (  # noqa: F401
    PORIAN,
    PORIAN_COLUMNS,
    _data_file,
    load_porian_steps,
)
