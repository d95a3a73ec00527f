"""
The rate-accuracy frontier of speech: spoken digits from MDCT symbols and RVQ codes
===================================================================================

The audio counterpart of the MNIST frontier: how many bits per second of
speech a classifier needs to tell the ten spoken digits apart, when it learns
from what a codec sends instead of from the waveform. Three codec routes:

* MP3's and Opus' transform, the MDCT (256-sample frames, 50% overlap, 128
  bins at 8 kHz), its coefficients quantized with one uniform step
  (``PerceptualQuantizer(table=...)``) and read by ``MDCTNetClassifier``
  with log-magnitude companding;
* SoundStream's quantizer, ``ResidualVQ`` codes of every MDCT frame (one code
  of 64 codewords per stage and frame), read as tokens by
  ``CodeEmbeddingClassifier``;
* two whole codecs at 2, 4, 8 and 16 kbit/s, ``CELTCodec`` (Opus' CELT
  layer: coded band energies and pyramid-VQ shapes of 20 ms MDCT frames)
  and ``MP3Codec`` (Layer III's loops: global gain, scale factors and
  power-law quantized lines of 576-line granules, long or short), their
  symbols (CELT: silence flag, coarse and fine band energies, pulses; MP3:
  block type, gain, scale factors, lines) read by ``MDCTNetClassifier``,
  every symbol position of a frame a channel. ``benchmarks/bench_learning.py``
  reads them the same way, on all the clips.

The baseline, drawn as a line, is the same network on a log spectrogram of
the 16-bit PCM waveform (128 kbit/s). Rates are the payload of real
bitstreams (:class:`~skcompress.codecs.Codec`, fitted on the training
clips, coding the test clips; the whole codecs' own bitstreams, header
included); every clip lasts one second, so bits per clip
are bits per second. The test voices are unseen: the split holds out whole
voices (the ``settings`` field without speed and pitch), as
``benchmarks/bench_learning.py`` does with more clips and epochs.
"""

import numpy as np
from scipy.signal import stft
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skcompress import MDCT, CELTCodec, MP3Codec, PerceptualQuantizer, ResidualVQ
from skcompress.codecs import Codec
from skcompress.datasets import load_spoken_digits
from skcompress.nets import CodeEmbeddingClassifier, MDCTNetClassifier

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None

digits = load_spoken_digits()
voices = np.array([s.split("|")[0] for s in digits.settings])
held_voices = np.unique(voices)[::5]  # every fifth voice
held_out = np.isin(voices, held_voices)
subset = np.arange(len(voices)) % 2 == 0  # half the clips keeps the example quick
train, test = ~held_out & subset, held_out & subset
X_train, y_train = digits.data[train], digits.target[train]
X_test, y_test = digits.data[test], digits.target[test]
print(
    f"{len(X_train)} training clips, {len(X_test)} test clips of {len(held_voices)} unseen voices"
)
training = {"max_epochs": 4, "lr": 3e-3, "random_state": 0, "device": "cpu", "n_threads": 1}


def measure(codec_steps, classifier):
    """Test accuracy, and coded payload bits per test clip of the codec's steps."""
    pipe = make_pipeline(*codec_steps, classifier).fit(X_train, y_train)
    bits = Codec(pipe[:-1]).fit(X_train).rate(X_test)["payload_bits_per_sample"]
    return bits, pipe.score(X_test, y_test)


# %%
# The baseline: a log spectrogram of the waveform
# -----------------------------------------------
def log_spectrogram(X):
    _, _, S = stft(np.asarray(X, np.float32), nperseg=256, noverlap=128)
    return np.log1p(np.abs(S)).astype(np.float32)


baseline = make_pipeline(FunctionTransformer(log_spectrogram), MDCTNetClassifier(**training))
baseline_accuracy = baseline.fit(X_train, y_train).score(X_test, y_test)

# %%
# MDCT symbols at coarser and coarser steps
# -----------------------------------------
mdct_points = []
for step in (512, 4096, 16384):
    bits, accuracy = measure(
        [
            MDCT(256, layout="channels_first"),
            PerceptualQuantizer(table=np.full(128, float(step)), layout="channels_first"),
        ],
        MDCTNetClassifier(compand="log", **training),
    )
    mdct_points.append((f"step {step}", bits, accuracy))

# %%
# Residual-VQ codes of the MDCT frames
# ------------------------------------
rvq_points = []
for stages in (1, 2, 4):
    bits, accuracy = measure(
        [
            MDCT(256, layout="blocks"),
            ResidualVQ(
                n_stages=stages,
                codebook_size=64,
                n_refine=0,
                layout="channels_first",
                random_state=0,
            ),
        ],
        CodeEmbeddingClassifier(widths=(64,), **training),
    )
    rvq_points.append((f"{stages}x64", bits, accuracy))


# %%
# The symbols of whole codecs: CELT and MP3
# -----------------------------------------
# Each codec learns its entropy models from every fifth training clip (to
# keep the example quick), the network from the symbols of all of them.
def whole_codec_points(make):
    points = []
    for kbps in (2, 4, 8, 16):
        codec = make(kbps, sample_rate=8000, full_scale=32768).fit(X_train[::5])
        classifier = MDCTNetClassifier(compand="log", **training)
        classifier.fit(codec.transform(X_train), y_train)
        bits = np.mean([8 * len(s) for s in codec.compress(X_test)])
        accuracy = classifier.score(codec.transform(X_test), y_test)
        points.append((f"{kbps} kbit/s", bits, accuracy))
    return points


celt_points = whole_codec_points(CELTCodec)
mp3_points = whole_codec_points(MP3Codec)

# %%
# The table and the picture
# -------------------------
print(f"{'code':<18}{'kbit/s':>8}{'accuracy':>10}")
print(f"{'PCM spectrogram':<18}{128.0:>8.1f}{baseline_accuracy:>10.1%}")
families = (("MDCT", mdct_points), ("RVQ", rvq_points), ("CELT", celt_points), ("MP3", mp3_points))
for family, points in families:
    for name, bits, accuracy in points:
        print(f"{family + ' ' + name:<18}{bits / 1000:>8.2f}{accuracy:>10.1%}")

if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, points in (
        ("MDCT symbols + MDCTNet", mdct_points),
        ("RVQ codes + CodeEmbedding", rvq_points),
        ("CELTCodec symbols + MDCTNet", celt_points),
        ("MP3Codec symbols + MDCTNet", mp3_points),
    ):
        rates = [p[1] / 1000 for p in points]
        ax.plot(rates, [p[2] for p in points], "o-", label=label)
        for name, bits, accuracy in points:
            ax.annotate(
                name,
                (bits / 1000, accuracy),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize=7,
            )
    ax.axhline(
        baseline_accuracy, color="k", ls="--", lw=1, label="PCM log spectrogram (128 kbit/s)"
    )
    ax.set_xscale("log")
    ax.set_xlabel("kbit per second of speech (coded)")
    ax.set_ylabel("accuracy on unseen voices")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Spoken digits: accuracy against coded bits")
    fig.tight_layout()
    plt.show()
