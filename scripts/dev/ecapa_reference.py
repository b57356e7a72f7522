#!/usr/bin/env python3
"""DEV ONLY: reference embeddings of SpeechBrain's own ECAPA-TDNN, for tests/ecapa.rs.

Not used by dubber or its setup. It needs a Python environment with torch and speechbrain
(made outside the repo, e.g. `python3 -m venv /tmp/sbvenv && /tmp/sbvenv/bin/pip install torch
speechbrain`; torchaudio is not needed). It builds the model exactly as the hyperparams.yaml of
`speechbrain/spkrec-ecapa-voxceleb` does (written out here: no hub access), loads the checkpoint
dubber installs, and prints, for each WAV (16 kHz mono 16-bit), the raw 192-d embedding that
`EncoderClassifier.encode_batch` returns (Fbank -> InputNormalization(sentence) -> ECAPA_TDNN),
as JSON:

    python scripts/dev/ecapa_reference.py ~/.local/share/dubber/models/ecapa/ecapa-voxceleb.ckpt \
        tests/fixtures/ecapa/*.wav > tests/fixtures/ecapa/reference.json
"""

import json
import os
import sys
import wave

import torch
from speechbrain.lobes.features import Fbank
from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN
from speechbrain.processing.features import InputNormalization


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        raw = w.readframes(w.getnframes())
    pcm = torch.frombuffer(bytearray(raw), dtype=torch.int16).to(torch.float32)
    return pcm / 32768.0


def main():
    ckpt, wavs = sys.argv[1], sys.argv[2:]
    torch.set_grad_enabled(False)
    compute_features = Fbank(n_mels=80)
    mean_var_norm = InputNormalization(norm_type="sentence", std_norm=False)
    model = ECAPA_TDNN(
        input_size=80,
        channels=[1024, 1024, 1024, 1024, 3072],
        kernel_sizes=[5, 3, 3, 3, 1],
        dilations=[1, 2, 3, 4, 1],
        attention_channels=128,
        lin_neurons=192,
    )
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    for module in (compute_features, mean_var_norm, model):
        module.eval()
    out = {
        "speechbrain": __import__("speechbrain").__version__,
        "torch": torch.__version__,
        "clips": {},
    }
    for path in wavs:
        wav = read_wav(path).unsqueeze(0)
        lens = torch.ones(1)
        feats = compute_features(wav)
        feats = mean_var_norm(feats, lens)
        emb = model(feats, lens)[0, 0]
        out["clips"][os.path.basename(path)] = [round(float(x), 7) for x in emb]
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
