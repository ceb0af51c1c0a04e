"""Every preset, including those with an unstated fitted span, can be re-counted both ways."""

import numpy as np
import pytest

from scaling_explorer.laws import PRESETS
from scaling_explorer.reexpress import reexpress


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_reexpresses(key):
    law = PRESETS[key]
    other = "total" if law.params_meaning.value == "non-embedding" else "non-embedding"
    counted = reexpress(law, other)
    N, D = counted.compute_optimal(1e22)
    assert np.isfinite(N) and np.isfinite(D) and N > 0
    if law.fitted_range is not None and not np.all(np.isfinite(law.fitted_range.tokens)):
        assert np.all(np.isnan(counted.fitted_range.flops))
