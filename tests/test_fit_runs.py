"""Reading runs: sources, formats and every kind of bad input, each with a clear message."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from fit_reference import require_epoch

from scaling_explorer import fit as F


@pytest.fixture(scope="module")
def epoch_runs():
    return F.read_runs(require_epoch())


GOOD = "params,tokens,loss\n" + "\n".join(f"{n:g},{20 * n:g},{2 + 1 / i}" for i, n in
                                          enumerate([1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9], start=1))


def test_read_runs_sources_and_formats(tmp_path):
    from_bytes = F.read_runs(GOOD.encode())
    path = tmp_path / "runs.csv"
    path.write_text(GOOD)
    pd.testing.assert_frame_equal(from_bytes, F.read_runs(path))
    pd.testing.assert_frame_equal(from_bytes, F.read_runs(io.BytesIO(GOOD.encode())))
    assert list(from_bytes.columns) == ["params", "tokens", "loss", "flops"]
    np.testing.assert_allclose(from_bytes.flops, 6 * from_bytes.params * from_bytes.tokens)
    flops_csv = "PARAMS,FLOPs,Loss\n" + "\n".join(
        f"{n:g},{6 * n * 20 * n:g},{2 + 1 / i}" for i, n in enumerate([1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9], start=1))
    np.testing.assert_allclose(F.read_runs(flops_csv.encode()).tokens, from_bytes.tokens, rtol=1e-12)


def test_read_epoch_file_as_is(epoch_runs):
    assert len(epoch_runs) == 245
    assert epoch_runs.params.min() == pytest.approx(5.73e7, rel=1e-3)  # reference A3 ranges
    assert epoch_runs.flops.max() == pytest.approx(1.30e22, rel=1e-2)
    assert epoch_runs.loss.max() == pytest.approx(5.006, rel=1e-3)


def _error(source, **kw) -> str:
    with pytest.raises(F.RunsError) as info:
        F.read_runs(source, **kw)
    return str(info.value)


def test_missing_column():
    msg = _error(b"params,loss\n1,2\n2,3\n3,4\n4,5\n5,6\n")
    assert "missing column" in msg and "tokens or flops" in msg


def test_text_in_number_column():
    msg = _error(GOOD.replace("2.5", "two point five").encode())
    assert "not a number" in msg and "row 2" in msg and "'loss'" in msg


def test_nan_and_empty():
    msg = _error(GOOD.replace(",2.5", ",").replace(",2.25", ",NaN").encode())
    assert "missing value" in msg and "rows 2, 4" in msg


def test_non_positive():
    msg = _error(GOOD.replace("1e+08,", "-1e+08,").encode())
    assert "must be positive" in msg and "'params'" in msg and "row 1" in msg


def test_every_problem_listed_at_once():
    bad = GOOD.replace("1e+08,", "-1e+08,").replace("2.5", "x")
    err = pytest.raises(F.RunsError, F.read_runs, bad.encode()).value
    assert len(err.problems) == 2
    assert "must be positive" in str(err) and "not a number" in str(err)


def test_too_few_runs():
    msg = _error("\n".join(GOOD.splitlines()[:4]).encode())
    assert "too few runs: 3" in msg and "5" in msg


def test_binary_and_not_csv():
    assert "binary" in _error(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "UTF-8" in _error(b"params,tokens,loss\n\xff\xfe1,2,3\n")
    assert "not parseable as CSV" in _error(b'params,tokens,loss\n1,2,3\n4,5,6,7,8\n"9,1')
    assert "empty" in _error(b"")


def test_too_large(tmp_path):
    assert "limit is 100 bytes" in _error(GOOD.encode(), max_bytes=100)
    path = tmp_path / "big.csv"
    path.write_text(GOOD)
    assert "too large" in _error(path, max_bytes=100)
    assert "too large" in _error(io.BytesIO(GOOD.encode()), max_bytes=100)


@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_files(sep):
    np.testing.assert_array_equal(F.read_runs(GOOD.replace(",", sep).encode()).to_numpy(),
                                  F.read_runs(GOOD.encode()).to_numpy())
