#!/usr/bin/python3
"""PyTorch (CPU) peer for tailor's CTR models on a gen_data.py `ctr` world.

Data: CSVs written by
  /usr/bin/python3 /work/shared/peers/gen_data.py ctr --n N --test-n M --fields 20 --seed 0 \
      --out train.csv --test-out test.csv
Columns f0..f{F-1} are integer ids in [0, card_f); the label is `click` (--label).

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
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True)
    p.add_argument("--test", required=True)
    p.add_argument("--label", default="click")
    p.add_argument("--model", default="fm", choices=["fm", "deepfm", "widedeep", "ipnn", "lr"])
    p.add_argument("--optimizer", default="lazy_adam", choices=["lazy_adam", "adam"])
    p.add_argument("--embedding-dim", type=int, default=16)
    p.add_argument("--batch", type=int, default=4096)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--hidden", default="400,400,400",
                   help="comma-separated MLP hidden widths (deepfm, widedeep, ipnn)")
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


def load(path, label):
    df = pd.read_csv(path)
    cols = field_columns(df)
    ids = df[cols].to_numpy(dtype=np.int64)
    y = df[label].to_numpy(dtype=np.float32)
    return cols, ids, y


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
def mlp(in_dim, hidden):
    layers = []
    d = in_dim
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, 1, bias=False))
    return nn.Sequential(*layers)


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
def run_once(args, rows_tr, y_tr, rows_te, y_te, n_rows, n_fields, hidden, base_rate):
    torch.manual_seed(args.seed)
    model = CTRModel(args.model, n_rows, n_fields, args.embedding_dim, hidden,
                     sparse=(args.optimizer == "lazy_adam"), base_rate=base_rate)
    opts = make_optimizers(model, args.optimizer, args.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    gen = torch.Generator().manual_seed(args.seed)
    n = rows_tr.shape[0]
    model.train()
    last_loss = float("nan")

    t0 = time.perf_counter()
    for _ in range(args.epochs):
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
        last_loss = float(loss.detach())
    train_seconds = time.perf_counter() - t0

    model.eval()
    preds = []
    t0 = time.perf_counter()
    with torch.no_grad():
        for s in range(0, rows_te.shape[0], args.predict_batch):
            preds.append(torch.sigmoid(model(rows_te[s:s + args.predict_batch])))
    p = torch.cat(preds)
    predict_seconds = time.perf_counter() - t0

    p = p.numpy()
    y = y_te.numpy()
    return {
        "train_seconds": train_seconds,
        "train_samples_per_s": n * args.epochs / train_seconds,
        "predict_seconds": predict_seconds,
        "predict_samples_per_s": rows_te.shape[0] / predict_seconds,
        "last_batch_loss": last_loss,
        "test_auc": exact_auc(p, y),
        "test_logloss": logloss(p, y),
        "mean_pred": float(p.mean()),
    }


def main():
    args = ARGS
    torch.set_num_threads(args.threads)
    hidden = [int(h) for h in args.hidden.split(",") if h.strip()]
    load_avg = os.getloadavg()

    t0 = time.perf_counter()
    cols_tr, ids_tr, y_tr = load(args.train, args.label)
    cols_te, ids_te, y_te = load(args.test, args.label)
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
    base_rate = float(y_tr.mean())

    reps = [run_once(args, rows_tr, y_tr_t, rows_te, y_te_t, n_rows, F, hidden, base_rate)
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
        "ctr": float(y_te.mean()),
        "train_ctr": base_rate,
        "per_repeat": [{k: r[k] for k in ("train_seconds", "train_samples_per_s",
                                          "predict_samples_per_s", "test_auc")} for r in reps],
        "load_seconds": load_seconds,
        "loadavg_at_start": list(load_avg),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "torch_version": torch.__version__,
        "blas": blas_info(),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
