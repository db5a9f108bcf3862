#!/usr/bin/python3
"""PyTorch (CPU) peer for tailor's CTR models on a gen_data.py `ctr` world.

Data: CSVs written by
  /usr/bin/python3 /work/shared/peers/gen_data.py ctr --n N --test-n M --fields 20 --seed 0 \
      --out train.csv --test-out test.csv
Columns f0..f{F-1} are integer ids in [0, card_f); the label is `click` (--label) for the
single-task models. The multi-task models read both `click` and `conversion` (conversion is 1 only
where click is 1; the funnel models refuse a training file that breaks this).

Feature space: ONE embedding table for all fields. Field f owns card_f + 1 contiguous rows
(offset_f = sum_{g<f} (card_g + 1)); row card_f is the field's out-of-vocabulary (OOV) row, which
any id outside [0, card_f) maps to (train or test; in generated data every id is in range).
card_f comes from --cards:
  gen    (default) the generator's own formula, round(geomspace(--min-card, --max-card, F)),
         i.e. gen_data.py's defaults 10 .. 100000 -- the true cardinalities of the world;
  train  max training id + 1 per field;
  a,b,c  an explicit comma-separated list.

Models (standard definitions; b = output bias, w = per-id first-order weights, v = per-id
k-dimensional embeddings, e = [v_f0, ..., v_f{F-1}] concatenated):
  lr        b + sum_f w
  fm        b + sum_f w + 1/2 sum_k [(sum_f v_fk)^2 - sum_f v_fk^2]          (Rendle 2010)
  deepfm    fm + MLP(e), the MLP sharing the FM's embeddings               (Guo et al. 2017)
  widedeep  b + sum_f w (wide) + MLP(e) (deep)                             (Cheng et al. 2016)
  ipnn      b + MLP([e, <v_f, v_g> for f < g])                             (Qu et al. 2016)
MLP = --hidden Linear+ReLU layers then a Linear to one output without bias (the model's single
output bias b plays that role); no dropout, no batch norm.

Initialisation: b = logit(training base rate); embeddings v ~ Normal(0, 0.01); first-order
weights w = 0 (as libFM); MLP layers use PyTorch's default nn.Linear init (Kaiming-uniform).
Loss: BCEWithLogits, mean over the batch; no regularisation.

Multi-task models (same table, embeddings and optimizers; e = the F*k concatenation above):
  tower   MLP: Linear+ReLU per --tower-hidden width, then Linear(d, 1) WITH bias.
  expert  Linear+ReLU for every --expert-hidden width, the last included (output >= 0).
  gate    Linear WITHOUT bias from the level's input to the number of experts it mixes, then
          softmax; the mixed representation is the gate-weighted sum of those experts' outputs.
All layers use nn.Linear's default init. After construction (once, under no_grad) each tower's
output bias is shifted so that the mean of its logit over the first min(n, 4096) training rows is
logit(base rate): CTR tower = training click rate; CVR and imputation towers = training
conversions / clicks; multi-task task 0 = click rate, task 1 = conversions / all rows (CTCVR).
Losses are means over the batch of the per-row sums below; BCE(z, y) = softplus(z) - y z.
 Funnel models (towers on e, --tower-hidden default 400,400,400; pCTR = s(z_c), pCVR = s(z_v),
 pCTCVR = pCTR pCVR, s = sigmoid; sg = stop-gradient):
  esmm       towers z_c (CTR), z_v (CVR).                                  (Ma et al. 2018)
             L = BCE(z_c, click) + BCE_prod(z_c, z_v, conversion), the BCE of pCTCVR in log space:
             log p = -softplus(-z_c) - softplus(-z_v), log(1-p) = log(-expm1(min(log p, -1e-7)))
             (the clamp guards only the log(1-p) term), BCE_prod = -[y log p + (1-y) log(1-p)].
  escm2_ips  esmm's towers. w = click / max(sg(s(z_c)), --propensity-floor)  (Wang et al. 2022)
             L = BCE(z_c, click) + lambda_g BCE_prod + lambda_c w BCE(z_v, conversion)
             (--lambda-g, --lambda-c; the propensity is detached: no gradient into the CTR tower
             through w).
  escm2_dr   a third tower z_i (imputation), r^ = s(z_i); w as in escm2_ips;
             err = BCE(z_v, conversion), err^ = BCE(z_v, sg(r^)) (soft label),
             L_CVR = err^ + w (err - err^),  L_imp = w ((r^ - conversion) sg(z_v))^2
             (= w (err - err^)^2 with z_v detached: its gradient reaches the imputation tower only),
             L = BCE(z_c, click) + lambda_g BCE_prod + lambda_c L_CVR + L_imp.
 Expert models (tasks: 0 = click, 1 = conversion over ALL impressions, i.e. the CTCVR label;
 --expert-hidden default 256,128, --tower-hidden default 128; L = BCE(z_0, click) +
 BCE(z_1, conversion); pCTR = s(z_0), pCTCVR = s(z_1)):
  shared_bottom  one expert on e; both towers on its output (no gate).       (Caruana 1997)
  mmoe           --num-experts experts on e; task t's gate from e mixes all of them.
                                                                          (Ma et al. 2018)
  ple            --levels CGC levels, each with --shared-experts shared experts and
                 --task-experts experts per task.                        (Tang et al. 2020)
                 Level 1: every expert and gate takes e. Task t's gate mixes [task t's experts,
                 shared experts] (that order) from task t's level input; the shared gate (every
                 level but the last) mixes [task 0's experts, task 1's experts, shared experts]
                 from the shared level input. Level l > 1: task-t experts and gate take level
                 l-1's task-t output, shared experts and gate its shared output. The towers take
                 the last level's task outputs.
Optimizers:
  lazy_adam  embedding tables are nn.Embedding(sparse=True) stepped by torch.optim.SparseAdam
             (moments of the rows in the batch only); dense parameters by torch.optim.Adam;
  adam       dense nn.Embedding + torch.optim.Adam over every parameter (whole-table update).
Both with --lr and Adam's defaults (betas 0.9/0.999, eps 1e-8).

Training: --epochs passes, each over a permutation from a torch.Generator seeded with --seed
(batch --batch; the last short batch is kept). torch.set_num_threads(--threads); OMP and
OpenBLAS thread counts are set to --threads too (before torch loads) unless already set.
Timing: train_seconds = wall clock of the epoch loop only (CSV already parsed into tensors);
predict_seconds = wall clock of the forward pass over the test set in batches of 65536 under
torch.no_grad(). With --repeats R the model is rebuilt and retrained from scratch R times with
the same seed; each repeat's rates are listed and the top-level rates are their medians.

Output: ONE JSON line (test_auc is exact: Mann-Whitney with average ranks for ties).
The multi-task models add (test set): auc_click (pCTR vs click), auc_ctcvr (pCTCVR vs conversion,
all rows; the task-1 output for the expert models), logloss_click, logloss_ctcvr, and for the
funnel models auc_cvr_clicked (pCVR vs conversion on clicked rows) and mean_pcvr (over all rows);
test_auc / test_logloss / mean_pred then refer to pCTR. Training progress (last repeat):
first_batch_loss, last_batch_loss, the mean loss over the first and last (up to) 10 batches of the
last epoch, and head_loss_before / head_loss_after = the training loss over the first
min(n, 4096) training rows (the bias-calibration rows) right after calibration and after training
(both outside the timed loop).
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time


SINGLE_TASK = ("fm", "deepfm", "widedeep", "ipnn", "lr")
FUNNEL = ("esmm", "escm2_ips", "escm2_dr")
EXPERT_MODELS = ("shared_bottom", "mmoe", "ple")
MULTI_TASK = FUNNEL + EXPERT_MODELS
MULTI_TASK_LABELS = ("click", "conversion")
CALIBRATION_ROWS = 4096


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--label", default="click")
    p.add_argument("--model", default="fm", choices=list(SINGLE_TASK + FUNNEL + EXPERT_MODELS))
    p.add_argument("--optimizer", default="lazy_adam", choices=["lazy_adam", "adam"])
    p.add_argument("--embedding-dim", type=int, default=16)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--hidden", default="400,400,400",
                   help="comma-separated MLP hidden widths (deepfm, widedeep, ipnn)")
    p.add_argument("--tower-hidden", default=None,
                   help="comma-separated tower hidden widths (multi-task models; default "
                        "400,400,400 for esmm/escm2_*, 128 for shared_bottom/mmoe/ple)")
    p.add_argument("--expert-hidden", default="256,128",
                   help="comma-separated expert widths (shared_bottom, mmoe, ple)")
    p.add_argument("--num-experts", type=int, default=4, help="mmoe experts")
    p.add_argument("--levels", type=int, default=2, help="ple CGC levels")
    p.add_argument("--shared-experts", type=int, default=2, help="ple shared experts per level")
    p.add_argument("--task-experts", type=int, default=2, help="ple experts per task per level")
    p.add_argument("--lambda-c", type=float, default=1.0, help="escm2 weight of the CVR term")
    p.add_argument("--lambda-g", type=float, default=1.0, help="escm2 weight of the CTCVR term")
    p.add_argument("--propensity-floor", type=float, default=0.01,
                   help="escm2 lower bound on the (detached) click propensity")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--cards", default="gen", help="gen | train | comma-separated list")
    p.add_argument("--min-card", type=int, default=10, help="gen_data.py --min-card")
    p.add_argument("--max-card", type=int, default=100_000, help="gen_data.py --max-card")
    p.add_argument("--predict-batch", type=int, default=65536)
    return p.parse_args()


ARGS = parse_args()
# Thread pools must be sized before torch (and its BLAS) is loaded.
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("MKL_NUM_THREADS", str(ARGS.threads))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------
def field_columns(df):
    cols = [c for c in df.columns if c.startswith("f") and c[1:].isdigit()]
    return sorted(cols, key=lambda c: int(c[1:]))


def load(path, labels):
    """labels: one column name -> y of shape (n,); a tuple of names -> y of shape (n, len)."""
    df = pd.read_csv(path)
    cols = field_columns(df)
    ids = df[cols].to_numpy(dtype=np.int64)
    y = df[labels if isinstance(labels, str) else list(labels)].to_numpy(dtype=np.float32)
    return cols, ids, np.ascontiguousarray(y)


def cardinalities(spec, train_ids, min_card, max_card):
    F = train_ids.shape[1]
    if spec == "gen":
        return np.round(np.geomspace(min_card, max_card, F)).astype(np.int64)
    if spec == "train":
        return train_ids.max(axis=0).astype(np.int64) + 1
    cards = np.array([int(x) for x in spec.split(",")], dtype=np.int64)
    if cards.size != F:
        sys.exit(f"--cards lists {cards.size} cardinalities for {F} fields")
    return cards


def to_rows(ids, cards, offsets):
    """Raw per-field ids -> global table rows; out-of-range ids -> the field's OOV row."""
    oov = (ids < 0) | (ids >= cards[None, :])
    local = np.where(oov, cards[None, :], ids)
    return torch.from_numpy(np.ascontiguousarray(local + offsets[None, :])), int(oov.sum())


# ----------------------------------------------------------------------------
# models
# ----------------------------------------------------------------------------
def relu_layers(in_dim, widths):
    """Linear+ReLU per width; returns (layers, output width)."""
    layers = []
    d = in_dim
    for h in widths:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    return layers, d


def mlp(in_dim, hidden, out_bias=False):
    layers, d = relu_layers(in_dim, hidden)
    layers.append(nn.Linear(d, 1, bias=out_bias))
    return nn.Sequential(*layers)


def tower(in_dim, hidden):
    """Multi-task tower: the MLP above with a bias on its output Linear (one logit per row)."""
    return mlp(in_dim, hidden, out_bias=True)


def expert(in_dim, widths):
    """Linear+ReLU for every width, the last included: a non-negative representation."""
    layers, _ = relu_layers(in_dim, widths)
    return nn.Sequential(*layers)


def mix(gate_logits, outputs):
    """Softmax gate (B, m) over m expert outputs (each (B, d)) -> their weighted sum (B, d)."""
    g = torch.softmax(gate_logits, dim=1).unsqueeze(1)  # (B, 1, m)
    return torch.bmm(g, torch.stack(outputs, dim=1)).squeeze(1)  # (B, m, d) -> (B, d)


class CTRModel(nn.Module):
    def __init__(self, kind, n_rows, n_fields, k, hidden, sparse, base_rate):
        super().__init__()
        self.kind = kind
        self.bias = nn.Parameter(torch.tensor([math.log(base_rate / (1.0 - base_rate))]))
        self.use_linear = kind in ("lr", "fm", "deepfm", "widedeep")
        self.use_fm = kind in ("fm", "deepfm")
        self.use_emb = kind != "lr"
        self.use_mlp = kind in ("deepfm", "widedeep", "ipnn")
        if self.use_linear:
            self.w = nn.Embedding(n_rows, 1, sparse=sparse)
            nn.init.zeros_(self.w.weight)
        if self.use_emb:
            self.v = nn.Embedding(n_rows, k, sparse=sparse)
            nn.init.normal_(self.v.weight, 0.0, 0.01)
        if self.use_mlp:
            in_dim = n_fields * k
            if kind == "ipnn":
                iu = torch.triu_indices(n_fields, n_fields, offset=1)
                self.register_buffer("iu0", iu[0], persistent=False)
                self.register_buffer("iu1", iu[1], persistent=False)
                in_dim += n_fields * (n_fields - 1) // 2
            self.mlp = mlp(in_dim, hidden)

    def forward(self, rows):  # rows: (B, F) int64
        out = self.bias.expand(rows.shape[0])
        if self.use_linear:
            out = out + self.w(rows).sum(dim=(1, 2))
        if self.use_emb:
            e = self.v(rows)  # (B, F, k)
            if self.use_fm:
                s = e.sum(dim=1)
                out = out + 0.5 * (s * s - (e * e).sum(dim=1)).sum(dim=1)
            if self.use_mlp:
                flat = e.reshape(e.shape[0], -1)
                if self.kind == "ipnn":
                    gram = torch.bmm(e, e.transpose(1, 2))  # (B, F, F)
                    flat = torch.cat([flat, gram[:, self.iu0, self.iu1]], dim=1)
                out = out + self.mlp(flat).squeeze(1)
        return out


class FunnelModel(nn.Module):
    """esmm / escm2_ips / escm2_dr: towers on e; forward -> (z_c, z_v) or (z_c, z_v, z_i)."""

    def __init__(self, kind, n_rows, n_fields, k, tower_hidden, sparse):
        super().__init__()
        self.kind = kind
        self.v = nn.Embedding(n_rows, k, sparse=sparse)
        nn.init.normal_(self.v.weight, 0.0, 0.01)
        n_towers = 3 if kind == "escm2_dr" else 2
        self.towers = nn.ModuleList(tower(n_fields * k, tower_hidden) for _ in range(n_towers))

    def forward(self, rows):
        e = self.v(rows).flatten(1)
        return tuple(t(e).squeeze(1) for t in self.towers)


class CGCLevel(nn.Module):
    """One PLE level: per-task experts + shared experts, a gate per task, and (except on the last
    level) a shared gate over every expert of the level."""

    def __init__(self, in_dim, widths, n_tasks, task_experts, shared_experts, shared_gate):
        super().__init__()
        self.task_experts = nn.ModuleList(
            nn.ModuleList(expert(in_dim, widths) for _ in range(task_experts))
            for _ in range(n_tasks))
        self.shared_experts = nn.ModuleList(expert(in_dim, widths)
                                            for _ in range(shared_experts))
        self.task_gates = nn.ModuleList(nn.Linear(in_dim, task_experts + shared_experts,
                                                  bias=False) for _ in range(n_tasks))
        self.shared_gate = (nn.Linear(in_dim, n_tasks * task_experts + shared_experts, bias=False)
                            if shared_gate else None)

    def forward(self, task_inputs, shared_input):
        shared = [ex(shared_input) for ex in self.shared_experts]
        per_task = [[ex(x) for ex in exs] for exs, x in zip(self.task_experts, task_inputs)]
        task_out = [mix(g(x), outs + shared)
                    for g, x, outs in zip(self.task_gates, task_inputs, per_task)]
        shared_out = None
        if self.shared_gate is not None:
            every = [o for outs in per_task for o in outs] + shared
            shared_out = mix(self.shared_gate(shared_input), every)
        return task_out, shared_out


class ExpertModel(nn.Module):
    """shared_bottom / mmoe / ple over tasks (click, conversion); forward -> (z_0, z_1)."""

    N_TASKS = 2

    def __init__(self, kind, n_rows, n_fields, k, expert_hidden, tower_hidden, sparse,
                 num_experts, levels, shared_experts, task_experts):
        super().__init__()
        self.kind = kind
        self.v = nn.Embedding(n_rows, k, sparse=sparse)
        nn.init.normal_(self.v.weight, 0.0, 0.01)
        in_dim = n_fields * k
        d = expert_hidden[-1]
        T = self.N_TASKS
        if kind == "shared_bottom":
            self.bottom = expert(in_dim, expert_hidden)
        elif kind == "mmoe":
            self.experts = nn.ModuleList(expert(in_dim, expert_hidden)
                                         for _ in range(num_experts))
            self.gates = nn.ModuleList(nn.Linear(in_dim, num_experts, bias=False)
                                       for _ in range(T))
        else:  # ple
            self.levels = nn.ModuleList(
                CGCLevel(in_dim if lv == 0 else d, expert_hidden, T, task_experts,
                         shared_experts, shared_gate=(lv < levels - 1))
                for lv in range(levels))
        self.towers = nn.ModuleList(tower(d, tower_hidden) for _ in range(T))

    def forward(self, rows):
        e = self.v(rows).flatten(1)
        if self.kind == "shared_bottom":
            h = self.bottom(e)
            reps = [h] * self.N_TASKS
        elif self.kind == "mmoe":
            outs = [ex(e) for ex in self.experts]
            reps = [mix(g(e), outs) for g in self.gates]
        else:
            reps, shared = [e] * self.N_TASKS, e
            for level in self.levels:
                reps, shared = level(reps, shared)
        return tuple(t(r).squeeze(1) for t, r in zip(self.towers, reps))


def calibrate_tower_biases(model, rows, base_rates):
    """Shift each tower's output bias so its mean logit over `rows` is logit(base rate)."""
    with torch.no_grad():
        logits = model(rows)
        for t, z, r in zip(model.towers, logits, base_rates):
            t[-1].bias += math.log(r / (1.0 - r)) - z.double().mean().item()


def bce_rows(z, y):
    """Per-row binary cross-entropy on logits (y may be a soft label)."""
    return nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none")


def bce_prod_rows(z_c, z_v, y):
    """Per-row BCE of pCTCVR = s(z_c) s(z_v) against y, in log space."""
    log_p = nn.functional.logsigmoid(z_c) + nn.functional.logsigmoid(z_v)
    log_1mp = torch.log(-torch.expm1(torch.clamp(log_p, max=-1e-7)))
    return -(y * log_p + (1.0 - y) * log_1mp)


def ips_weight(z_c, click, floor):
    """click / max(sg(s(z_c)), floor): no gradient flows through it."""
    return click / torch.clamp(torch.sigmoid(z_c.detach()), min=floor)


def ips_cvr_rows(z_c, z_v, click, conversion, floor):
    """escm2_ips: w BCE(z_v, conversion) per row."""
    return ips_weight(z_c, click, floor) * bce_rows(z_v, conversion)


def dr_cvr_rows(z_c, z_v, z_i, click, conversion, floor):
    """escm2_dr: per-row (L_CVR, L_imp)."""
    w = ips_weight(z_c, click, floor)
    r_hat = torch.sigmoid(z_i)
    err = bce_rows(z_v, conversion)
    err_hat = bce_rows(z_v, r_hat.detach())
    l_cvr = err_hat + w * (err - err_hat)
    l_imp = w * ((r_hat - conversion) * z_v.detach()) ** 2
    return l_cvr, l_imp


def multi_task_loss(kind, logits, y, args):
    """Mean over the batch of the model's per-row loss; y is (B, 2) = (click, conversion)."""
    click, conv = y[:, 0], y[:, 1]
    if kind in EXPERT_MODELS:
        return (bce_rows(logits[0], click) + bce_rows(logits[1], conv)).mean()
    z_c, z_v = logits[0], logits[1]
    rows = bce_rows(z_c, click)
    if kind == "esmm":
        return (rows + bce_prod_rows(z_c, z_v, conv)).mean()
    rows = rows + args.lambda_g * bce_prod_rows(z_c, z_v, conv)
    if kind == "escm2_ips":
        rows = rows + args.lambda_c * ips_cvr_rows(z_c, z_v, click, conv, args.propensity_floor)
    else:  # escm2_dr
        l_cvr, l_imp = dr_cvr_rows(z_c, z_v, logits[2], click, conv, args.propensity_floor)
        rows = rows + args.lambda_c * l_cvr + l_imp
    return rows.mean()


def build_model(args, n_rows, n_fields, hidden, rates):
    sparse = args.optimizer == "lazy_adam"
    k = args.embedding_dim
    if args.model in FUNNEL:
        return FunnelModel(args.model, n_rows, n_fields, k, hidden["tower"], sparse)
    if args.model in EXPERT_MODELS:
        return ExpertModel(args.model, n_rows, n_fields, k, hidden["expert"], hidden["tower"],
                           sparse, args.num_experts, args.levels, args.shared_experts,
                           args.task_experts)
    return CTRModel(args.model, n_rows, n_fields, k, hidden, sparse=sparse,
                    base_rate=rates["click"])


def make_optimizers(model, kind, lr):
    if kind == "adam":
        return [torch.optim.Adam(model.parameters(), lr=lr)]
    sparse = [m.weight for m in model.modules() if isinstance(m, nn.Embedding)]
    sparse_ids = {id(p) for p in sparse}
    dense = [p for p in model.parameters() if id(p) not in sparse_ids]
    opts = [torch.optim.SparseAdam(sparse, lr=lr)]
    if dense:
        opts.append(torch.optim.Adam(dense, lr=lr))
    return opts


# ----------------------------------------------------------------------------
# metrics
# ----------------------------------------------------------------------------
def exact_auc(score, label):
    label = np.asarray(label).astype(bool)
    n_pos = int(label.sum())
    n_neg = label.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    try:
        from sklearn.metrics import roc_auc_score
        return float(roc_auc_score(label, score))
    except ImportError:
        from scipy.stats import rankdata
        ranks = rankdata(score)
        return float((ranks[label].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def logloss(p, y):
    p = np.clip(p.astype(np.float64), 1e-15, 1.0 - 1e-15)
    y = y.astype(np.float64)
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def blas_info():
    cfg = torch.__config__.show()
    snippet = [s.strip() for s in cfg.replace("\n", ",").split(",")
               if any(t in s for t in ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "MKL"))]
    # Which BLAS library is actually mapped after a matmul (Debian: libblas.so.3 alternative).
    a = torch.randn(64, 64)
    (a @ a).sum().item()
    loaded = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if base.startswith("lib") and ".cpython-" not in base and \
                        any(t in base for t in ("blas", "mkl", "lapack", "dnnl")):
                    loaded.add(os.path.realpath(path))
    except OSError:
        pass
    loaded = sorted(loaded)
    joined = " ".join(loaded + snippet).lower()
    kind = "OpenBLAS" if "openblas" in joined else ("MKL" if "mkl_" in joined or "libmkl" in joined
                                                    else "other")
    return {"kind": kind, "openblas": "openblas" in joined,
            "mkl": ("libmkl" in joined or "mkl_rt" in joined), "loaded": loaded,
            "config": snippet}


# ----------------------------------------------------------------------------
def tower_base_rates(kind, rates):
    """Target mean probability of each tower's logit, in the towers' order."""
    if kind in EXPERT_MODELS:
        return [rates["ctr"], rates["ctcvr"]]
    return [rates["ctr"], rates["cvr"]] + ([rates["cvr"]] if kind == "escm2_dr" else [])


def probabilities(kind, out):
    """Model output -> test-time probabilities: (B,) for the single-task models; columns
    (pCTR, pCVR, pCTCVR) for the funnel models, (pCTR, pCTCVR) for the expert models."""
    if kind in FUNNEL:
        p_ctr, p_cvr = torch.sigmoid(out[0]), torch.sigmoid(out[1])
        return torch.stack([p_ctr, p_cvr, p_ctr * p_cvr], dim=1)
    if kind in EXPERT_MODELS:
        return torch.stack([torch.sigmoid(out[0]), torch.sigmoid(out[1])], dim=1)
    return torch.sigmoid(out)


def multi_task_metrics(kind, p, y):
    click, conv = y[:, 0], y[:, 1]
    p_ctr, p_ctcvr = p[:, 0], p[:, -1]
    m = {
        "auc_click": exact_auc(p_ctr, click),
        "auc_ctcvr": exact_auc(p_ctcvr, conv),
        "logloss_click": logloss(p_ctr, click),
        "logloss_ctcvr": logloss(p_ctcvr, conv),
        "mean_pctr": float(p_ctr.mean()),
        "mean_pctcvr": float(p_ctcvr.mean()),
    }
    if kind in FUNNEL:
        clicked = click == 1
        m["auc_cvr_clicked"] = exact_auc(p[clicked, 1], conv[clicked])
        m["mean_pcvr"] = float(p[:, 1].mean())
    # Compatibility with the single-task fields: they describe pCTR.
    m["test_auc"] = m["auc_click"]
    m["test_logloss"] = m["logloss_click"]
    m["mean_pred"] = m["mean_pctr"]
    return m


def run_once(args, rows_tr, y_tr, rows_te, y_te, n_rows, n_fields, hidden, rates):
    torch.manual_seed(args.seed)
    multi = args.model in MULTI_TASK
    model = build_model(args, n_rows, n_fields, hidden, rates)
    if multi:
        head_x, head_y = rows_tr[:CALIBRATION_ROWS], y_tr[:CALIBRATION_ROWS]
        calibrate_tower_biases(model, head_x, tower_base_rates(args.model, rates))
        loss_fn = lambda out, yb: multi_task_loss(args.model, out, yb, args)  # noqa: E731
        with torch.no_grad():
            head_loss_before = float(loss_fn(model(head_x), head_y))
    else:
        loss_fn = nn.BCEWithLogitsLoss()
    opts = make_optimizers(model, args.optimizer, args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    n = rows_tr.shape[0]
    model.train()
    last_loss = float("nan")
    batch_losses = []  # detached scalars of the last epoch, read after the clock stops

    t0 = time.perf_counter()
    for _ in range(args.epochs):
        batch_losses = []
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, args.batch):
            idx = perm[s:s + args.batch]
            xb = rows_tr.index_select(0, idx)
            yb = y_tr.index_select(0, idx)
            for o in opts:
                o.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            for o in opts:
                o.step()
            if multi:
                batch_losses.append(loss.detach())
        last_loss = float(loss.detach())
    train_seconds = time.perf_counter() - t0

    model.eval()
    preds = []
    t0 = time.perf_counter()
    with torch.no_grad():
        for s in range(0, rows_te.shape[0], args.predict_batch):
            preds.append(probabilities(args.model, model(rows_te[s:s + args.predict_batch])))
    p = torch.cat(preds)
    predict_seconds = time.perf_counter() - t0

    p = p.numpy()
    y = y_te.numpy()
    res = {
        "train_seconds": train_seconds,
        "train_samples_per_s": n * args.epochs / train_seconds,
        "predict_seconds": predict_seconds,
        "predict_samples_per_s": rows_te.shape[0] / predict_seconds,
        "last_batch_loss": last_loss,
    }
    if not multi:
        res.update({
            "test_auc": exact_auc(p, y),
            "test_logloss": logloss(p, y),
            "mean_pred": float(p.mean()),
        })
        return res
    with torch.no_grad():
        head_loss_after = float(loss_fn(model(head_x), head_y))
    bl = [float(x) for x in batch_losses]
    res.update({
        "head_loss_before": head_loss_before,
        "head_loss_after": head_loss_after,
        "first_batch_loss": bl[0],
        "loss_mean_first10": statistics.fmean(bl[:10]),
        "loss_mean_last10": statistics.fmean(bl[-10:]),
        "batches_per_epoch": len(bl),
    })
    res.update(multi_task_metrics(args.model, p, y))
    return res


def widths(spec):
    return [int(h) for h in spec.split(",") if h.strip()]


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    multi = args.model in MULTI_TASK
    if multi:
        tower_default = "400,400,400" if args.model in FUNNEL else "128"
        hidden = {"tower": widths(args.tower_hidden or tower_default),
                  "expert": widths(args.expert_hidden) if args.model in EXPERT_MODELS else []}
        if args.model in EXPERT_MODELS and not hidden["expert"]:
            sys.exit("--expert-hidden needs at least one width")
    else:
        hidden = widths(args.hidden)
    if min(args.num_experts, args.levels, args.shared_experts, args.task_experts) < 1:
        sys.exit("--num-experts, --levels, --shared-experts and --task-experts must be >= 1")
    labels = MULTI_TASK_LABELS if multi else args.label
    load_avg = os.getloadavg()

    t0 = time.perf_counter()
    cols_tr, ids_tr, y_tr = load(args.train, labels)
    cols_te, ids_te, y_te = load(args.test, labels)
    if cols_tr != cols_te:
        sys.exit("train and test have different field columns")
    F = len(cols_tr)
    cards = cardinalities(args.cards, ids_tr, args.min_card, args.max_card)
    sizes = cards + 1  # + one OOV row per field
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    n_rows = int(sizes.sum())
    rows_tr, oov_tr = to_rows(ids_tr, cards, offsets)
    rows_te, oov_te = to_rows(ids_te, cards, offsets)
    y_tr_t = torch.from_numpy(y_tr)
    y_te_t = torch.from_numpy(y_te)
    load_seconds = time.perf_counter() - t0
    if multi:
        n_tr = y_tr.shape[0]
        clicks, convs = float(y_tr[:, 0].sum()), float(y_tr[:, 1].sum())
        orphans = int(((y_tr[:, 1] == 1) & (y_tr[:, 0] != 1)).sum())
        if args.model in FUNNEL and orphans:
            sys.exit(f"{orphans} training rows convert without a click; the funnel needs "
                     "conversion <= click")
        if not 0 < convs < clicks < n_tr:
            sys.exit("the training set needs 0 < conversions < clicks < rows")
        rates = {"ctr": clicks / n_tr, "cvr": convs / clicks, "ctcvr": convs / n_tr}
        base_rate = float(y_tr[:, 0].mean())
    else:
        base_rate = float(y_tr.mean())
        rates = {"click": base_rate}

    reps = [run_once(args, rows_tr, y_tr_t, rows_te, y_te_t, n_rows, F, hidden, rates)
            for _ in range(args.repeats)]
    med = lambda key: statistics.median(r[key] for r in reps)  # noqa: E731
    last = reps[-1]
    out = {
        "script": "torch_ctr",
        "model": args.model,
        "optimizer": args.optimizer,
        "n_train": int(rows_tr.shape[0]),
        "n_test": int(rows_te.shape[0]),
        "fields": F,
        "table_rows": n_rows,
        "cards": args.cards,
        "oov_train": oov_tr,
        "oov_test": oov_te,
        "embedding_dim": args.embedding_dim,
        "hidden": hidden if args.model in ("deepfm", "widedeep", "ipnn") else [],
        "batch": args.batch,
        "lr": args.lr,
        "epochs": args.epochs,
        "seed": args.seed,
        "threads": args.threads,
        "torch_num_threads": torch.get_num_threads(),
        "repeats": args.repeats,
        "train_seconds": med("train_seconds"),
        "train_samples_per_s": med("train_samples_per_s"),
        "predict_seconds": med("predict_seconds"),
        "predict_samples_per_s": med("predict_samples_per_s"),
        "test_auc": last["test_auc"],
        "test_logloss": last["test_logloss"],
        "mean_pred": last["mean_pred"],
        "ctr": float(y_te.mean()) if not multi else float(y_te[:, 0].mean()),
        "train_ctr": base_rate,
        "per_repeat": [{k: r[k] for k in ("train_seconds", "train_samples_per_s",
                                          "predict_samples_per_s", "test_auc")} for r in reps],
        "load_seconds": load_seconds,
        "loadavg_at_start": list(load_avg),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "torch_version": torch.__version__,
        "blas": blas_info(),
    }
    if multi:
        clicked_te = y_te[:, 0] == 1
        extra = {
            "hidden": [],
            "tower_hidden": hidden["tower"],
            "expert_hidden": hidden["expert"],
            "train_cvr_given_click": rates["cvr"],
            "train_ctcvr": rates["ctcvr"],
            "test_ctcvr": float(y_te[:, 1].mean()),
            "test_cvr_given_click": (float(y_te[clicked_te, 1].mean()) if clicked_te.any()
                                     else float("nan")),
            "tower_base_rates": tower_base_rates(args.model, rates),
            "calibration_rows": min(int(rows_tr.shape[0]), CALIBRATION_ROWS),
        }
        if args.model in FUNNEL and args.model != "esmm":
            extra.update({"lambda_c": args.lambda_c, "lambda_g": args.lambda_g,
                          "propensity_floor": args.propensity_floor})
        if args.model == "mmoe":
            extra["num_experts"] = args.num_experts
        if args.model == "ple":
            extra.update({"levels": args.levels, "shared_experts": args.shared_experts,
                          "task_experts": args.task_experts})
        keys = ["auc_click", "auc_ctcvr"] + (["auc_cvr_clicked", "mean_pcvr"]
                                             if args.model in FUNNEL else []) + \
            ["logloss_click", "logloss_ctcvr", "mean_pctr", "mean_pctcvr", "first_batch_loss",
             "loss_mean_first10", "loss_mean_last10", "last_batch_loss", "batches_per_epoch",
             "head_loss_before", "head_loss_after"]
        extra.update({k: last[k] for k in keys})
        out.update(extra)
        for r, pr in zip(reps, out["per_repeat"]):
            pr.update({k: r[k] for k in ("auc_click", "auc_ctcvr")})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
