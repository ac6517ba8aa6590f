"""The take-home script (issue 11): a run's settings as a standalone
plain-PyTorch ``train.py`` (torch and numpy only, no ``rnn_studio`` import).

``script_for(cfg)`` returns the script's text. Run with ``python train.py``,
it rebuilds the data and the model from the settings, trains from scratch
with the run's seed and prints one JSON line per epoch in the format of
``rnn-studio train --json`` ({"epoch", "loss", "grad_norm", "ms"} plus
"valid_loss" with a held-out split), then {"event": "done", ...}.

It reproduces ``Trainer`` step for step: the same seeding order
(torch.manual_seed, then np.random.seed, then the data, then the model's
construction and initialisation), the same sorted character vocabulary and
space padding, the same sine windows from ``np.random.default_rng(seed)``,
the same minibatch order (its own ``torch.Generator`` seeded with the seed),
torch's Adam/SGD, and the same losses. On the CPU the per-epoch losses equal
the studio's to float rounding (tests/test_export_script.py measures it).

Supported: the text task on typed sentences and both sine modes, with any
architecture (rnn, rnn-relu, lstm, gru, the from-scratch Elman cell), one-hot
or embedding, layers, dropout, the default/xavier/seed003 initialisations,
clipping, minibatches, validation and the plateau schedule; all to float
rounding except an LSTM with dropout between layers, whose masks the studio
draws in another order on the steps it traces (the script's header says so).
Refused
(``ExportError``, one line): classify and training on a text file; their
data (a file) is not part of the settings, and a script that read it
differently would train on something else.
"""

from __future__ import annotations

import math
import textwrap

from .config import SEED_SENTENCES, RunConfig, resolved_valid_fraction, validate
from .errors import StudioError
from .text import clean_sentences


class ExportError(StudioError):
    """These settings cannot be written as a standalone script."""


def unsupported_reason(cfg: RunConfig) -> str | None:
    """Why ``cfg`` cannot be exported, or None."""
    if cfg.task.kind == "classify":
        return ("export-script writes scripts for the text and sine tasks; a classifier's data and "
                "tokenisation are not reproduced (train it with rnn-studio train --task classify)")
    if cfg.task.kind == "text" and cfg.task.text_file:
        return ("export-script writes scripts for typed sentences and the sine tasks; a network trained on a "
                "text file is not reproduced (its windows read the file as the studio does)")
    return None


def script_for(cfg: RunConfig) -> str:
    """The text of a standalone ``train.py`` that trains ``cfg`` from scratch.

    Raises ``ExportError`` (one line) for settings it cannot reproduce."""
    cfg = validate(cfg.copy())
    reason = unsupported_reason(cfg)
    if reason:
        raise ExportError(reason)
    return _Writer(cfg).text()


def _lit(value) -> str:
    """A Python literal for a setting."""
    if isinstance(value, float):
        if math.isinf(value):
            return "float('inf')"
        return repr(float(value))
    return repr(value)


class _Writer:
    def __init__(self, cfg: RunConfig):
        self.cfg = cfg
        t, m, tr = cfg.task, cfg.model, cfg.train
        self.text_task = t.kind == "text"
        self.sequence = t.kind == "sine" and t.sine_mode == "sequence"
        if self.text_task:
            self.sentences = clean_sentences(t.sentences)
            self.valid_fraction = resolved_valid_fraction(t, len(self.sentences))
        elif self.sequence:
            self.valid_fraction = 0.0
        else:
            self.valid_fraction = resolved_valid_fraction(t, t.sine_windows)
        self.m, self.tr, self.t = m, tr, t

    # -- the pieces ------------------------------------------------------------------
    def text(self) -> str:
        parts = [self.header(), self.settings(), SEEDING, self.data(), self.model(), self.optimizer(),
                 self.helpers(), self.loop()]
        return "\n\n".join(p.strip("\n") for p in parts if p) + "\n"

    def header(self) -> str:
        m, tr = self.m, self.tr
        if self.text_task:
            what = ("next character of typed sentences (seeds 000/001: 'hey how are you', 'good i am fine', "
                    "'have a nice day')" if tuple(self.sentences) == SEED_SENTENCES else
                    "next character of typed sentences (seeds 000/001)")
        elif self.sequence:
            what = "sine sequence, an update after every point (seed 003)"
        else:
            what = "sine next value after a window of points (seed 002)"
        differences = [
            "It runs on the CPU; the studio may have trained on a GPU (same losses to float rounding on CPU).",
            "The studio skips an update whose loss or gradient is not finite (and puts the weights back one "
            "step); this script does not check: a diverging run shows nan.",
        ]
        if m.arch == "lstm" and not self.sequence:
            if m.layers > 1 and m.dropout:
                differences.append("LSTM with dropout between layers: every 10th step the studio runs the LSTM "
                                   "cell by cell to measure dLoss/dh_t and draws those dropout masks in another "
                                   "order, so the losses here follow the same course but not to the digit.")
            else:
                differences.append("LSTM: every 10th step the studio runs the same LSTM cell by cell to measure "
                                   "dLoss/dh_t; that can change the last float digits, not the 4th significant one.")
        lines = [
            '"""train.py: a run exported from RNN Studio (rnn-studio export-script).',
            "",
            textwrap.fill(f"Task: {what}.", 96, subsequent_indent="  "),
            f"Model: {m.arch}, {m.layers} layer(s) of {m.hidden} units"
            + (f", {m.encoding}" if self.text_task else "")
            + (f", dropout {m.dropout:g}" if m.dropout else "") + f", initialisation {m.init}.",
            f"Training: {tr.optimizer} lr {tr.lr:g}, {tr.epochs} epochs, seed {tr.seed}"
            + (f", gradient clipped to {tr.clip:g}" if tr.clip else "")
            + (", learning rate halved on plateaus" if tr.plateau else "") + ".",
            "",
            "Needs only torch and numpy:  python train.py",
            "Prints one JSON line per epoch, as `rnn-studio train --json` does:",
            '  {"epoch": ..., "loss": ..., "grad_norm": ..., "ms": ...}  then  {"event": "done", ...}',
            "With the same settings the losses are the studio's, epoch for epoch.",
            "",
            "Differences from the studio:",
            *[textwrap.fill(d, 96, initial_indent="- ", subsequent_indent="  ") for d in differences],
            '"""',
            "",
            "import json",
            "import math",
            "import time",
            "",
            "import numpy as np",
            "import torch",
            "from torch import nn",
        ]
        return "\n".join(lines)

    def settings(self) -> str:
        t, m, tr = self.t, self.m, self.tr
        rows = ["# ---- Settings (from the run) -------------------------------------------------"]
        rows.append(f"SEED = {tr.seed}")
        if self.text_task:
            rows.append("SENTENCES = [")
            rows += [f"    {s!r}," for s in self.sentences]
            rows.append("]")
            rows.append(f"BATCH_EXAMPLES = {t.batch_examples}  # sentences per minibatch; 0 = all in one batch")
        else:
            rows.append(f"WINDOW_LEN = {t.sine_window_len}  # points per sequence")
            if not self.sequence:
                rows.append(f"WINDOWS = {t.sine_windows}  # random-phase windows (seed 002)")
                rows.append(f"BATCH_EXAMPLES = {t.batch_examples}  # windows per minibatch; 0 = all in one batch")
            rows.append(f"NOISE = {_lit(float(t.sine_noise))}  # standard deviation of noise added to the wave")
        if not self.sequence:
            rows.append(f"SHUFFLE = {t.shuffle}  # a new minibatch order every epoch (seed 002's DataLoader)")
            rows.append(f"VALID_FRACTION = {_lit(float(self.valid_fraction))}  # held out, measured after every epoch")
        rows += [
            f"ARCH = {m.arch!r}",
            f"LAYERS = {m.layers}",
            f"HIDDEN = {m.hidden}",
        ]
        if self.text_task:
            rows.append(f"ENCODING = {m.encoding!r}  # 'onehot' or 'embedding'")
            if m.encoding == "embedding":
                rows.append(f"EMBEDDING_DIM = {m.embedding_dim}")
        rows += [
            f"DROPOUT = {_lit(float(m.dropout))}",
            f"BIAS = {m.bias}",
            f"INIT = {m.init!r}",
            f"OPTIMIZER = {tr.optimizer!r}",
            f"LR = {_lit(float(tr.lr))}",
            f"EPOCHS = {tr.epochs}",
            f"CLIP = {_lit(float(tr.clip))}  # 0 = no clipping",
            f"PLATEAU = {tr.plateau}",
        ]
        return "\n".join(rows)

    def data(self) -> str:
        if self.text_task:
            if self.valid_fraction > 0:
                return TEXT_DATA + TEXT_SPLIT + TEXT_TENSORS + "valid_x, valid_y = encode(valid_sentences)\n"
            return TEXT_DATA + TEXT_NO_SPLIT + TEXT_TENSORS
        if self.sequence:
            return SINE_SEQUENCE_DATA
        return SINE_WINDOWS_DATA

    def model(self) -> str:
        m = self.m
        parts = []
        if m.arch == "elman":
            parts.append(ELMAN_CLASS)
        layers = {
            "rnn": "nn.RNN(input_size, HIDDEN, nonlinearity='tanh', **common)",
            "rnn-relu": "nn.RNN(input_size, HIDDEN, nonlinearity='relu', **common)",
            "lstm": "nn.LSTM(input_size, HIDDEN, **common)",
            "gru": "nn.GRU(input_size, HIDDEN, **common)",
            "elman": "Elman(input_size, HIDDEN, LAYERS, bias=BIAS, dropout=between)",
        }[m.arch]
        directions = 2 if m.bidirectional else 1
        if self.text_task:
            size = "VOCAB"
            if m.encoding == "embedding":
                encode_init = ("        self.embedding = nn.Embedding(VOCAB, EMBEDDING_DIM)  # learned vectors (seed 004)\n"
                               "        input_size = EMBEDDING_DIM\n")
                encode = "        x = self.embedding(x)  # indices -> learned vectors\n"
            else:
                encode_init = "        input_size = VOCAB  # one-hot: one input per character (seed 000)\n"
                encode = "        x = nn.functional.one_hot(x, VOCAB).float()  # indices -> one-hot vectors (seed 000)\n"
        else:
            size = "1"
            encode_init = "        input_size = 1  # one value per time step\n"
            encode = ""
        common = "" if m.arch == "elman" else (
            "        common = dict(num_layers=LAYERS, bias=BIAS, batch_first=True, dropout=between"
            + (", bidirectional=True" if m.bidirectional else "") + ")\n")
        parts.append(
            "class Net(nn.Module):\n"
            '    """Input -> recurrent layers -> dropout -> a linear read-out at every time step\n'
            "    (seed 000's Model: nn.RNN + nn.Linear). The layers are built in this order because\n"
            '    each one draws its starting weights from torch\'s random numbers."""\n\n'
            "    def __init__(self):\n"
            "        super().__init__()\n"
            + encode_init
            + "        between = DROPOUT if LAYERS > 1 else 0.0  # dropout between stacked layers\n"
            + common
            + f"        self.rnn = {layers}\n"
            + "        self.drop = nn.Dropout(DROPOUT) if DROPOUT else nn.Identity()\n"
            + (f"        self.fc = nn.Linear(HIDDEN, {size}, bias=BIAS)\n\n" if directions == 1 else
               f"        self.fc = nn.Linear(2 * HIDDEN, {size}, bias=BIAS)  # both directions\n\n")
            + "    def forward(self, x, hidden=None):\n"
            + encode
            + "        states, hidden = self.rnn(x, hidden)  # the hidden state of every time step\n"
            "        return self.fc(self.drop(states)), hidden\n"
        )
        init = ["model = Net()"]
        if m.init == "xavier":
            init.append(
                "# Xavier weights and zero biases (seed 002's best practice)\n"
                "for name, p in model.named_parameters():\n"
                "    if 'weight' in name and p.dim() >= 2:\n"
                "        nn.init.xavier_uniform_(p)\n"
                "    elif 'bias' in name:\n"
                "        nn.init.zeros_(p)"
            )
        elif m.init == "seed003":
            init.append(
                "# seed 003's initialisation: w1 ~ normal(0, 0.4) for input and context, w2 ~ normal(0, 0.3)\n"
                "for name, p in model.rnn.named_parameters():\n"
                "    if 'weight' in name:\n"
                "        nn.init.normal_(p, 0.0, 0.4)\n"
                "    else:\n"
                "        nn.init.zeros_(p)\n"
                "nn.init.normal_(model.fc.weight, 0.0, 0.3)\n"
                "if model.fc.bias is not None:\n"
                "    nn.init.zeros_(model.fc.bias)"
            )
        parts.append("\n".join(init))
        return "# ---- 3. The model ----------------------------------------------------------------\n" + "\n\n\n".join(parts)

    def optimizer(self) -> str:
        text = ("# ---- 4. The optimizer --------------------------------------------------------------\n"
                "params = list(model.parameters())\n"
                "if OPTIMIZER == 'sgd':\n"
                "    optimizer = torch.optim.SGD(params, lr=LR)\n"
                "else:\n"
                "    optimizer = torch.optim.Adam(params, lr=LR)\n")
        if self.tr.plateau:
            text += ("# halve the learning rate when the loss has not fallen for 5 epochs (seed 002)\n"
                     "scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode='min', factor=0.5, "
                     "patience=5)\n")
        return text

    def helpers(self) -> str:
        if self.text_task:
            loss = ("def loss_of(out, y):\n"
                    "    # cross-entropy of the next character, over every position of every sentence\n"
                    "    return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))\n")
        elif self.sequence:
            loss = ""
        else:
            loss = ("def loss_of(out, y):\n"
                    "    # mean squared error of the prediction after the last point of each window\n"
                    "    return nn.functional.mse_loss(out[:, -1, 0], y)\n")
        return (loss + ("\n\n" if loss else "") +
                "def gradient_norm():\n"
                '    """The length of all the gradients together, before clipping (the studio\'s grad_norm)."""\n'
                "    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]\n"
                "    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))\n")

    def loop(self) -> str:
        if self.sequence:
            body = SEQUENCE_LOOP
        else:
            body = BATCH_LOOP
            if self.valid_fraction > 0:
                body = body.replace("    # VALIDATION\n", VALIDATION)
            else:
                body = body.replace("    # VALIDATION\n", "")
        if self.tr.plateau:
            # seed 002: scheduler.step(validation_loss), where there is one
            value = "valid_loss" if self.valid_fraction > 0 and not self.sequence else "epoch_loss"
            body = body.replace("    # PLATEAU\n", PLATEAU.replace("VALUE", value))
        else:
            body = body.replace("    # PLATEAU\n", "")
        done_extra = ', "valid_loss": valid_loss' if self.valid_fraction > 0 and not self.sequence else ""
        body = body.replace(" DONE_EXTRA", done_extra)
        row_extra = ', "valid_loss": valid_loss' if self.valid_fraction > 0 and not self.sequence else ""
        return body.replace(" ROW_EXTRA", row_extra)


SEEDING = """
# ---- 1. Seeding: the studio's order -------------------------------------------------
# torch's generator first, then numpy's; the data and then the model follow in
# that order, so the starting weights are the same numbers as in the studio.
torch.manual_seed(SEED)
np.random.seed(SEED)
"""

TEXT_DATA = """
# ---- 2. The data: next character (seeds 000/001) ----------------------------------
# Pad every sentence with spaces to the longest (as seed 000 does).
maxlen = max(len(s) for s in SENTENCES)
padded = [s.ljust(maxlen) for s in SENTENCES]
# A sorted character vocabulary (the seed's set() order changes between runs);
# index 0 stands for any character never seen in training.
UNKNOWN = '\\ufffd'
itos = [UNKNOWN] + sorted(set(''.join(padded)) - {UNKNOWN})
stoi = {c: i for i, c in enumerate(itos)}
VOCAB = len(itos)
"""

TEXT_SPLIT = """
# Hold some sentences out for validation: a seeded draw, at least one of each side.
held = min(max(int(round(len(padded) * VALID_FRACTION)), 1), len(padded) - 1)
order = np.random.default_rng(SEED).permutation(len(padded))
train_sentences = [padded[i] for i in np.sort(order[held:])]
valid_sentences = [padded[i] for i in np.sort(order[:held])]
"""

TEXT_NO_SPLIT = """
train_sentences = padded
"""

TEXT_TENSORS = """

def encode(sentences):
    # input = every character but the last; target = every character but the first
    idx = torch.tensor([[stoi.get(c, 0) for c in s] for s in sentences], dtype=torch.long)
    return idx[:, :-1].contiguous(), idx[:, 1:].contiguous()


train_x, train_y = encode(train_sentences)
"""

SINE_WINDOWS_DATA = """
# ---- 2. The data: sine windows (seed 002) ------------------------------------------
# Each window starts at a random phase: np.sin(np.linspace(start, start + 2*pi, WINDOW_LEN + 1)).
rng = np.random.default_rng(SEED)
start = rng.uniform(0, 2 * np.pi, size=(WINDOWS, 1))
wave = np.sin(start + np.linspace(0.0, 2 * np.pi, WINDOW_LEN + 1)[None, :])
if NOISE:
    wave = wave + rng.normal(0.0, NOISE, size=wave.shape)
inputs = torch.tensor(wave[:, :-1], dtype=torch.float32).unsqueeze(-1)  # [windows, points, 1]
targets = torch.tensor(wave[:, -1], dtype=torch.float32)  # the point after each window
train_x, train_y = inputs, targets
if VALID_FRACTION > 0:
    # the phases are random, so the last windows are as good a sample as any
    held = min(max(int(round(WINDOWS * VALID_FRACTION)), 1), WINDOWS - 1)
    valid_x, valid_y = inputs[-held:], targets[-held:]
    train_x, train_y = inputs[:-held], targets[:-held]
"""

SINE_SEQUENCE_DATA = """
# ---- 2. The data: one sine sequence (seed 003) -------------------------------------
# seed 003: np.sin(np.linspace(2, 10, seq_length + 1)); the target is the input shifted by one step
wave = np.sin(np.linspace(2.0, 10.0, WINDOW_LEN + 1))
if NOISE:
    wave = wave + np.random.default_rng(SEED).normal(0.0, NOISE, size=wave.shape)
x = torch.tensor(wave[:-1], dtype=torch.float32).view(1, WINDOW_LEN, 1)
y = torch.tensor(wave[1:], dtype=torch.float32).view(1, WINDOW_LEN, 1)
"""

ELMAN_CLASS = '''
class Elman(nn.Module):
    """The Elman network written out (seed 003): h_t = tanh(W_ih x_t + W_hh h_(t-1) + b).
    No nn.RNN inside; the weights carry nn.RNN's names and shapes."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, dropout=0.0):
        super().__init__()
        self.hidden_size, self.num_layers, self.bias, self.dropout = hidden_size, num_layers, bias, dropout
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size
            setattr(self, f"weight_ih_l{layer}", nn.Parameter(torch.empty(hidden_size, in_size)))
            setattr(self, f"weight_hh_l{layer}", nn.Parameter(torch.empty(hidden_size, hidden_size)))
            if bias:
                setattr(self, f"bias_ih_l{layer}", nn.Parameter(torch.empty(hidden_size)))
                setattr(self, f"bias_hh_l{layer}", nn.Parameter(torch.empty(hidden_size)))
        # nn.RNN's default start: uniform(-1/sqrt(H), 1/sqrt(H))
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x, hidden=None):
        batch, steps, _ = x.shape
        if hidden is None:
            hidden = x.new_zeros(self.num_layers, batch, self.hidden_size)
        layer_input, finals = x, []
        for layer in range(self.num_layers):
            w_ih = getattr(self, f"weight_ih_l{layer}")
            w_hh = getattr(self, f"weight_hh_l{layer}")
            # the input part of every step at once; the recurrence must loop
            projected = layer_input @ w_ih.t()
            if self.bias:
                projected = projected + getattr(self, f"bias_ih_l{layer}") + getattr(self, f"bias_hh_l{layer}")
            h = hidden[layer]
            outputs = []
            for t in range(steps):
                h = torch.tanh(projected[:, t] + h @ w_hh.t())
                outputs.append(h)
            finals.append(h)
            layer_input = torch.stack(outputs, dim=1)
            if layer < self.num_layers - 1 and self.dropout and self.training:
                layer_input = nn.functional.dropout(layer_input, self.dropout, True)
        return layer_input, torch.stack(finals, dim=0)
'''

VALIDATION = """    # measure the held-out data (eval mode: no dropout, no update)
    model.eval()
    with torch.no_grad():
        out, _ = model(valid_x)
        valid_loss = loss_of(out, valid_y).item()
    model.train()
"""

PLATEAU = """    scheduler.step(VALUE)
"""

BATCH_LOOP = """
# ---- 5. Training ----------------------------------------------------------------------
# Minibatches of whole examples in a new order every epoch when there is more than one
# (seed 002's DataLoader(shuffle=True)); the order comes from its own generator.
n = train_x.shape[0]
batch = BATCH_EXAMPLES if 0 < BATCH_EXAMPLES < n else n
steps_per_epoch = math.ceil(n / batch)
shuffles = steps_per_epoch > 1 and SHUFFLE
order_generator = torch.Generator().manual_seed(SEED)

model.train()
total_start = time.perf_counter()
epoch_loss = None
valid_loss = None
for epoch in range(1, EPOCHS + 1):
    start = time.perf_counter()
    order = torch.randperm(n, generator=order_generator) if shuffles else torch.arange(n)
    losses, norms = [], []
    for first in range(0, n, batch):
        rows = order[first:first + batch]
        for p in params:
            p.grad = None  # forget the last step's gradients
        out, _ = model(train_x[rows])  # a fresh (zero) hidden state for every batch
        loss = loss_of(out, train_y[rows])
        loss.backward()  # backpropagation through time
        norm = gradient_norm()
        if CLIP > 0:
            nn.utils.clip_grads_with_norm_(params, CLIP, norm)  # exploding gradients: clip their length
        optimizer.step()
        losses.append(loss.item())
        norms.append(norm.item())
    epoch_loss = losses[0] if len(losses) == 1 else float(np.mean(losses))
    # VALIDATION
    # PLATEAU
    ms = (time.perf_counter() - start) * 1000.0
    print(json.dumps({"epoch": epoch, "loss": epoch_loss, "grad_norm": float(np.mean(norms)), "ms": ms ROW_EXTRA}), flush=True)

if EPOCHS == 0:  # nothing trained: the loss of the starting weights
    model.eval()
    with torch.no_grad():
        epoch_loss = loss_of(model(train_x)[0], train_y).item()
ms_per_epoch = (time.perf_counter() - total_start) * 1000.0 / EPOCHS if EPOCHS else 0.0
print(json.dumps({"event": "done", "epochs": EPOCHS, "final_loss": epoch_loss, "ms_per_epoch": ms_per_epoch DONE_EXTRA}))
"""

SEQUENCE_LOOP = """
# ---- 5. Training (seed 003) --------------------------------------------------------------
# One epoch reads the sequence point by point with an update after every point:
# loss (prediction - target)^2 / 2, the hidden state (the context) carried on but
# detached, so each update looks back one step. The loss printed is the epoch's
# mean squared error.
model.train()
total_start = time.perf_counter()
epoch_loss = None
for epoch in range(1, EPOCHS + 1):
    start = time.perf_counter()
    hidden = None
    squared_errors, norms = [], []
    for t in range(WINDOW_LEN):
        for p in params:
            p.grad = None
        out, hidden = model(x[:, t:t + 1], hidden)
        loss = (out[:, 0] - y[:, t]).pow(2).sum() / 2
        loss.backward()
        norm = gradient_norm()
        if CLIP > 0:
            nn.utils.clip_grads_with_norm_(params, CLIP, norm)
        optimizer.step()
        squared_errors.append(2 * loss.item())
        norms.append(norm.item())
        hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
    epoch_loss = float(np.mean(squared_errors))
    # PLATEAU
    ms = (time.perf_counter() - start) * 1000.0
    print(json.dumps({"epoch": epoch, "loss": epoch_loss, "grad_norm": float(np.mean(norms)), "ms": ms}), flush=True)

if EPOCHS == 0:  # nothing trained: the mean squared error of the starting weights
    model.eval()
    with torch.no_grad():
        epoch_loss = nn.functional.mse_loss(model(x)[0], y).item()
ms_per_epoch = (time.perf_counter() - total_start) * 1000.0 / EPOCHS if EPOCHS else 0.0
print(json.dumps({"event": "done", "epochs": EPOCHS, "final_loss": epoch_loss, "ms_per_epoch": ms_per_epoch}))
"""
