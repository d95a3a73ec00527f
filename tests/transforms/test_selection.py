"""FrequencySelector: label-aware choice of coefficient channels between transform and quantizer.

What it keeps is read from the transform's structure (a (plane, frequency)
pair of a block DCT, an MDCT bin, a subband); the quantizer after it lays the
table's step of each kept frequency on it, the codec codes only what it kept,
and ``score_func="order"`` is exactly the transform's own first ``k``.
"""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skcompress import (
    KSVD,
    MDCT,
    BlockDCT,
    ChromaSubsampler,
    ColorTransform,
    FrequencySelector,
    JPEGCodec,
    OMPCoder,
    Patches,
    PerceptualQuantizer,
    PyramidVQ,
    ResidualVQ,
    WaveletTransform,
)
from skcompress._core._structure import structure_of
from skcompress.codecs import Codec
from skcompress.datasets import load_mnist
from skcompress.entropy import BlockContextModel
from skcompress.metrics import coded_bits, rate_scoring
from skcompress.quantization import JPEG_CHROMA, JPEG_LUMA, FrequencyRampTable
from skcompress.transforms import zigzag_order

DIGITS, LABELS = load_mnist(return_X_y=True)
X_TRAIN, Y_TRAIN = DIGITS[:300], LABELS[:300]
X_TEST = DIGITS[300:400]
RNG = np.random.default_rng(0)
COLOUR = RNG.integers(0, 256, size=(30, 16, 24, 3), dtype=np.uint8)
COLOUR_Y = np.arange(len(COLOUR)) % 3
# 1-D signals whose class lives in one MDCT bin: a tone of class-dependent strength
AUDIO_Y = np.arange(40) % 2
AUDIO = RNG.standard_normal((40, 512)) + 3 * AUDIO_Y[:, None] * np.sin(
    2 * np.pi * 20.5 / 256 * np.arange(512)
)


def _round_half_away(x):
    return np.trunc(x + np.copysign(0.5, x)).astype(np.int32)


def _selected(k=10, **params):
    G = BlockDCT().fit_transform(X_TRAIN)
    return FrequencySelector(k, **params).fit(G, Y_TRAIN), G


# -- what it keeps -------------------------------------------------------------------


def test_order_is_the_transforms_own_first_k_bit_for_bit():
    chosen = make_pipeline(
        BlockDCT(), FrequencySelector(10, score_func="order"), PerceptualQuantizer(quality=50)
    ).fit(X_TRAIN)
    first = make_pipeline(BlockDCT(n_coefficients=10), PerceptualQuantizer(quality=50)).fit(
        X_TRAIN
    )
    np.testing.assert_array_equal(chosen.transform(X_TEST), first.transform(X_TEST))
    np.testing.assert_array_equal(chosen[-1].steps_, first[-1].steps_)
    assert coded_bits(chosen, X_TEST) == coded_bits(first, X_TEST)
    assert chosen[1].positions_.tolist() == zigzag_order(8)[:10].tolist()


def test_labels_choose_the_channels_and_the_grid_stays():
    selector, G = _selected(10)
    assert selector.n_channels_ == 64 and selector.support_.sum() == 10
    Z = selector.transform(G)
    structure = structure_of(Z)
    assert structure.kind == "dct" and structure.grid == (4, 4) and structure.k == 10
    assert structure.positions == tuple(selector.positions_.tolist())
    assert "10 per block, chosen positions" in structure.describe()
    # kept in the transform's (zig-zag) order, and the best 10 by score
    zz = np.argsort(zigzag_order(8))
    assert np.all(np.diff(zz[selector.positions_]) > 0)
    best = np.sort(np.argsort(-selector.scores_, kind="stable")[:10])
    np.testing.assert_array_equal(selector.get_support(indices=True), best)
    # every block keeps the same coefficients: column j of block g is input value g * 64 + j
    blocks = np.asarray(G).reshape(len(G), 16, 64)[:, :, selector.get_support()]
    np.testing.assert_array_equal(np.asarray(Z).reshape(len(G), 16, 10), blocks)


def test_scores_are_pooled_over_the_grid():
    G = BlockDCT().fit_transform(X_TRAIN)
    mean = FrequencySelector("all").fit(G, Y_TRAIN)
    top = FrequencySelector("all", pool="max").fit(G, Y_TRAIN)
    from sklearn.feature_selection import f_classif

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        F = np.nan_to_num(f_classif(np.asarray(G), Y_TRAIN)[0]).reshape(16, 64)
    np.testing.assert_allclose(mean.scores_, F.mean(axis=0))
    np.testing.assert_allclose(top.scores_, F.max(axis=0))


def test_score_functions_callables_and_models():
    G = BlockDCT(n_coefficients=16).fit_transform(X_TRAIN)
    energy = FrequencySelector(3, score_func=lambda X, y: np.var(X, axis=0)).fit(G, Y_TRAIN)
    assert energy.positions_.tolist() == [0, 1, 8]  # the DC and the first two AC vary most
    model = FrequencySelector(4, score_func=LogisticRegression(max_iter=50))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert model.fit(G, Y_TRAIN).support_.sum() == 4
    plain, target = RNG.standard_normal((60, 6)), np.arange(60) % 2
    plain[:, 2] += 2 * target
    mi = FrequencySelector(1, score_func="mutual_info", random_state=0).fit(plain, target)
    assert mi.positions_.tolist() == [2]
    np.testing.assert_array_equal(mi.scores_, clone(mi).fit(plain, target).scores_)
    with pytest.raises(ValueError, match="expected one score per column"):
        FrequencySelector(2, score_func=lambda X, y: np.ones(3)).fit(G, Y_TRAIN)
    with pytest.raises(TypeError, match="neither feature_importances_ nor coef_"):
        FrequencySelector(2, score_func=GaussianNB()).fit(G, Y_TRAIN)


def test_plain_columns_are_channels():
    X = RNG.standard_normal((50, 6))
    y = (X[:, 4] > 0).astype(int)
    selector = FrequencySelector(1).fit(X, y)
    assert selector.positions_.tolist() == [4]
    out = selector.transform(X)
    assert structure_of(out) is None and out.shape == (50, 1)
    np.testing.assert_array_equal(selector.get_feature_names_out(), ["x4"])


# -- the quantizer after it -----------------------------------------------------------


def test_kept_positions_get_the_tables_steps_at_those_positions():
    selector, G = _selected(12)
    Z = selector.transform(G)
    at = selector.positions_
    q = PerceptualQuantizer(quality=50).fit(Z)
    np.testing.assert_array_equal(q.steps_, JPEG_LUMA.reshape(-1)[at])
    ramp = FrequencyRampTable(8, 0.5)
    q = PerceptualQuantizer(table=ramp).fit(Z)
    np.testing.assert_array_equal(q.steps_, np.asarray(ramp).reshape(-1)[at])
    # a vector over the whole block is read in the transform's (zig-zag) order
    vector = np.arange(1.0, 65.0)
    q = PerceptualQuantizer(table=vector).fit(Z)
    np.testing.assert_array_equal(q.steps_, np.argsort(zigzag_order(8))[at] + 1.0)
    np.testing.assert_array_equal(
        np.asarray(q.transform(Z)),
        _round_half_away(np.asarray(Z) / np.tile(q.steps_, 16)),
    )
    with pytest.raises(ValueError, match="not a table for the 8x8 blocks"):
        PerceptualQuantizer(table=np.ones(12)).fit(Z)


def test_colour_planes_keep_their_own_frequencies_and_tables():
    steps = make_pipeline(ColorTransform(), BlockDCT()).fit(COLOUR)
    G = steps.transform(COLOUR)
    selector = FrequencySelector(20).fit(G, COLOUR_Y)
    Z = selector.transform(G)
    structure = structure_of(Z)
    assert structure.depth == 1 and structure.channels == ("Y", "Cb", "Cr")
    plane, at = np.divmod(selector.positions_, 64)
    q = PerceptualQuantizer(table="jpeg").fit(Z)
    tables = np.stack([JPEG_LUMA, JPEG_CHROMA, JPEG_CHROMA]).reshape(3, 64)
    np.testing.assert_array_equal(q.steps_, tables[plane, at])
    with pytest.raises(ValueError, match="holds 2 tables; .* has 3 planes"):
        PerceptualQuantizer(table=np.ones((2, 8, 8))).fit(Z)
    assert selector.score_map().shape == (3, 8, 8)


def test_mdct_bins_and_the_vector_of_steps():
    G = MDCT(256).fit_transform(AUDIO)
    selector = FrequencySelector(4).fit(G, AUDIO_Y)
    assert 20 in selector.positions_  # the bin of the tone
    Z = selector.transform(G)
    assert structure_of(Z).kind == "mdct" and Z.shape == (40, 4 * structure_of(G).grid[0])
    table = np.arange(1.0, 129.0)
    q = PerceptualQuantizer(table=table).fit(Z)
    np.testing.assert_array_equal(q.steps_, table[selector.positions_])
    with pytest.raises(ValueError, match="does not cover the values its input kept"):
        PerceptualQuantizer(table=np.ones(10)).fit(Z)


def test_wavelet_subbands_are_channels():
    wt = WaveletTransform("haar", level=2).fit(X_TRAIN)
    G = wt.transform(X_TRAIN)
    selector = FrequencySelector(3).fit(G, Y_TRAIN)
    sizes = [int(np.prod(s)) for s in wt.subband_shapes_]
    assert selector.n_channels_ == len(wt.subbands_) == 7
    kept = [n for n, keep in zip(sizes, selector.support_, strict=True) if keep]
    Z = selector.transform(G)
    assert Z.shape == (len(G), sum(kept)) and structure_of(Z).kind == "subbands"
    steps = wt.step_map(4.0)
    q = PerceptualQuantizer(table=steps).fit(Z)
    np.testing.assert_array_equal(q.steps_, steps[selector.positions_])
    back = wt.inverse_transform(selector.inverse_transform(Z))
    assert back.shape == X_TRAIN.shape


# -- rate: only what is kept is coded ------------------------------------------------


@pytest.mark.parametrize("layout", ["flat", "blocks", "channels_first"])
def test_codec_codes_the_kept_coefficients_with_the_block_model(layout):
    pipe = make_pipeline(
        BlockDCT(layout=layout), FrequencySelector(8), PerceptualQuantizer(quality=50)
    ).fit(X_TRAIN, Y_TRAIN)
    Z = pipe[:2].transform(X_TEST)
    assert (
        Z.shape[1:] == {"flat": (128,), "blocks": (4, 4, 8), "channels_first": (8, 4, 4)}[layout]
    )
    codec = Codec(pipe).fit(X_TRAIN)
    assert isinstance(codec.model_, BlockContextModel) and codec.model_.n_coefficients_ == 8
    strings = codec.compress(X_TEST)
    np.testing.assert_array_equal(codec.decompress_symbols(strings), pipe.transform(X_TEST))
    decoded = codec.decompress(strings)
    assert decoded.shape == X_TEST.shape and decoded.dtype == np.uint8
    if layout == "flat":
        everything = make_pipeline(BlockDCT(), PerceptualQuantizer(quality=50)).fit(X_TRAIN)
        assert coded_bits(pipe, X_TEST) < coded_bits(everything, X_TEST)


def test_mdct_chain_codes_and_decodes():
    pipe = make_pipeline(MDCT(256), FrequencySelector(6), PerceptualQuantizer(table=0.5))
    pipe.fit(AUDIO, AUDIO_Y)
    codec = Codec(pipe).fit(AUDIO[:20])
    strings = codec.compress(AUDIO[20:])
    np.testing.assert_array_equal(codec.decompress_symbols(strings), pipe.transform(AUDIO[20:]))
    assert codec.decompress(strings).shape == (20, 512)


def test_grid_search_over_k_with_the_rate_scorers():
    pipe = make_pipeline(
        BlockDCT(),
        FrequencySelector(),
        PerceptualQuantizer(quality=50),
        StandardScaler(),
        LogisticRegression(max_iter=200),
    )
    search = GridSearchCV(
        pipe,
        {"frequencyselector__k": [2, 8, 24]},
        cv=2,
        scoring=rate_scoring(model="categorical"),
        refit="accuracy",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_TRAIN, Y_TRAIN)
    bits = -search.cv_results_["mean_test_neg_bits_per_sample"]
    accuracy = search.cv_results_["mean_test_accuracy"]
    assert np.all(np.diff(bits) > 0)  # more channels kept, more bits
    assert accuracy.min() > 0.5
    names = search.best_estimator_[:2].get_feature_names_out()
    assert len(names) == 16 * search.best_params_["frequencyselector__k"]
    assert names[0].startswith("blk0_0_dct")


# -- the table searched with the same scores -------------------------------------------


def test_ramp_table_follows_the_scores():
    selector, _ = _selected("all")
    scores = selector.score_map()
    assert scores.shape == (8, 8)
    table = np.asarray(FrequencyRampTable(10, 1.0, scores=scores))
    plain = np.asarray(FrequencyRampTable(10, 1.0))
    # the same steps, laid on the frequencies by score: the best gets the DC's step
    np.testing.assert_array_equal(np.sort(table, axis=None), np.sort(plain, axis=None))
    ranked = np.argsort(-scores.reshape(-1), kind="stable")
    assert np.all(np.diff(table.reshape(-1)[ranked]) >= 0)
    # scores falling along the zig-zag scan give the plain ramp
    along = np.empty(64)
    along[zigzag_order(8)] = -np.arange(64)
    np.testing.assert_array_equal(
        np.asarray(FrequencyRampTable(10, 1.0, scores=along.reshape(8, 8))), plain
    )
    # NaN (no coefficient) ranks last; per-plane scores give a table per plane
    partial = FrequencySelector("all").fit(
        BlockDCT(n_coefficients=6).fit_transform(X_TRAIN), Y_TRAIN
    )
    assert np.isnan(partial.score_map()).sum() == 58
    per_plane = FrequencyRampTable(scores=np.stack([scores, scores]))
    assert per_plane.shape == (2, 8, 8) and np.asarray(per_plane).shape == (2, 8, 8)
    with pytest.raises(ValueError, match=r"scores must be a \(4, 4\) matrix"):
        np.asarray(FrequencyRampTable(block_size=4, scores=scores))


def test_ramp_table_with_scores_in_a_grid_search():
    selector, _ = _selected("all")
    table = FrequencyRampTable(scores=selector.score_map())
    q = PerceptualQuantizer(table=table)
    assert clone(q).table == table and clone(q).table is not table
    assert "scores=<array of shape (8, 8)>" in repr(table)
    pipe = make_pipeline(BlockDCT(), q, RidgeClassifier(alpha=10.0))
    search = GridSearchCV(
        pipe,
        {"perceptualquantizer__table__slope": [0.5, 4.0]},
        cv=2,
        scoring=rate_scoring(model="categorical"),
        refit="accuracy",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(X_TRAIN, Y_TRAIN)
    bits = -search.cv_results_["mean_test_neg_bits_per_sample"]
    assert bits[1] < bits[0]


# -- refusals and chains -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "X", "message"),
    [
        ([BlockDCT(), PerceptualQuantizer()], X_TRAIN, "before they are quantized"),
        ([JPEGCodec()], X_TRAIN, "For JPEGCodec, set its n_coefficients"),
        ([ColorTransform()], COLOUR, "Put a transform"),
        ([], X_TRAIN, "plain array of shape"),
        ([Patches()], X_TRAIN, "Put a transform"),
    ],
    ids=["after-quantizer", "after-jpeg", "on-images", "plain-images", "on-patches"],
)
def test_refusals_say_where_it_belongs(before, X, message):
    Z = make_pipeline(*before).fit_transform(X) if before else X
    selector = FrequencySelector(1)
    with pytest.raises(ValueError, match=message):
        selector.fit(Z, np.arange(len(X)) % 2)
    assert not hasattr(selector, "support_")


def test_bad_settings_are_named():
    G = BlockDCT(n_coefficients=6).fit_transform(X_TRAIN)
    with pytest.raises(ValueError, match="k=7 exceeds the 6 channels"):
        FrequencySelector(7).fit(G, Y_TRAIN)
    with pytest.raises(ValueError, match="requires y to be passed"):
        FrequencySelector(2).fit(G)
    assert FrequencySelector(2, score_func="order").fit(G).positions_.tolist() == [0, 1]
    fitted = FrequencySelector(2).fit(G, Y_TRAIN)
    other = FrequencySelector(3).fit(G, Y_TRAIN).transform(G)
    q = PerceptualQuantizer().fit(fitted.transform(G))
    with pytest.raises(ValueError, match="was fitted on"):
        q.transform(other)
    with pytest.raises(ValueError, match="expects 32 values per sample"):
        fitted.inverse_transform(np.zeros((2, 5)))


def test_inverse_puts_kept_values_back_and_zeros_elsewhere():
    selector, G = _selected(5)
    back = selector.inverse_transform(selector.transform(G))
    assert structure_of(back) == structure_of(G)
    mask = np.tile(selector.support_, 16)
    np.testing.assert_array_equal(np.asarray(back)[:, mask], np.asarray(G)[:, mask])
    assert not np.asarray(back)[:, ~mask].any()
    Z32 = FrequencySelector(5, dtype=np.float32).fit(G, Y_TRAIN).transform(G)
    assert Z32.dtype == np.float32 and structure_of(Z32) is not None


FIRST_STEPS = {
    "BlockDCT": BlockDCT,
    "ColorTransform": ColorTransform,
    "ChromaSubsampler": ChromaSubsampler,
    "WaveletTransform": WaveletTransform,
    "MDCT": MDCT,
    "PerceptualQuantizer": PerceptualQuantizer,
}
NEXT_STEPS = {
    "PerceptualQuantizer": PerceptualQuantizer,
    "PyramidVQ": PyramidVQ,
    "ResidualVQ": lambda: ResidualVQ(2, 4, n_refine=0, random_state=0),
    "KSVD": lambda: KSVD(n_components=4, max_iter=1, random_state=0),
    "OMPCoder": OMPCoder,
    "BlockDCT": BlockDCT,
}
INPUTS = {"gray": DIGITS[:12], "colour": COLOUR[:12], "1-D": AUDIO[:12]}


def _first_outputs():
    """``(first step, input kind)`` pairs where the first step takes the input on its own."""
    pairs = []
    for first, step in FIRST_STEPS.items():
        for kind, X in INPUTS.items():
            try:
                step().fit(X)
            except ValueError:
                continue
            pairs.append(pytest.param(first, kind, id=f"{first}-{kind}"))
    return pairs


@pytest.mark.parametrize(("first", "kind"), _first_outputs())
@pytest.mark.parametrize("second", list(NEXT_STEPS))
def test_default_chains_through_the_selector_compute_or_say_what_to_set(first, kind, second):
    X, y = INPUTS[kind], np.arange(12) % 2
    Z = FIRST_STEPS[first]().fit_transform(X)
    try:
        S = FrequencySelector(1).fit_transform(Z, y)
    except ValueError as error:
        assert first in ("ColorTransform", "ChromaSubsampler", "PerceptualQuantizer"), error
        assert any(w in str(error) for w in ("Put ", "put ", "pass ")), error
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = NEXT_STEPS[second]().fit_transform(S)
    except ValueError as error:
        assert any(w in str(error) for w in ("=", "Put ", "Pass ", "pass ", "Use ", "before")), (
            error
        )
        return
    assert len(out) == len(X)


def test_mcu_luma_blocks_share_their_frequencies_and_order_is_blockdct_n_coefficients():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (40, 32, 32, 3)).astype(np.uint8)
    y = np.arange(40) % 2
    sites = ChromaSubsampler().fit_transform(ColorTransform().fit_transform(X))
    G = BlockDCT().fit_transform(sites)
    # one channel per (component, frequency): Y (its 4 blocks), Cb, Cr
    sel = FrequencySelector(5, score_func="f_classif").fit(G, y)
    assert sel.n_channels_ == 3 * 64
    planes, naturals = np.divmod(sel.positions_, 64)
    luma = planes < 4
    for p in range(1, 4):  # every luma block keeps the frequencies block 0 keeps
        assert naturals[planes == p].tolist() == naturals[planes == 0].tolist()
    assert len(sel.positions_) == 4 * (planes == 0).sum() + (~luma).sum()
    assert sel.transform(G).shape[1] == 2 * 2 * len(sel.positions_)  # 2 x 2 MCUs
    # "order" with k = 3 m keeps what BlockDCT(n_coefficients=m) keeps, on every plane
    chosen = FrequencySelector(6, score_func="order").fit(G)
    expected = BlockDCT(n_coefficients=2).fit_transform(sites)
    np.testing.assert_array_equal(np.asarray(chosen.transform(G)), np.asarray(expected))
