"""Small numerical helpers shared by plugins, so plugins need not import each other."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_cross_entropy(logits: torch.Tensor, target_probs: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``-sum_y q(y|x) log p(y|x)`` (RWFT paper Eq. 4)."""
    return -(target_probs * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def confusion_matrix(labels: torch.Tensor, predictions: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``cm[y, p]``: how many samples of true class ``y`` were predicted as ``p`` (int64, K x K)."""
    flat = labels.long() * num_classes + predictions.long()
    return torch.bincount(flat, minlength=num_classes * num_classes).view(num_classes, num_classes)


def total_variation(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Per-row total variation distance ``0.5 * sum |p - q|`` between probability rows."""
    return 0.5 * (p - q).abs().sum(dim=1)


def masked_softmax(logits: torch.Tensor, removed: torch.Tensor) -> torch.Tensor:
    """Softmax with the ``removed`` entries forced to exactly zero probability."""
    return logits.masked_fill(removed, float("-inf")).softmax(dim=1)


def accuracy(logits_or_probs: torch.Tensor, labels: torch.Tensor) -> float | None:
    """Fraction of rows whose argmax equals the label, or None for an empty split."""
    if len(labels) == 0:
        return None
    return (logits_or_probs.argmax(dim=1) == labels).float().mean().item()


def js_divergence(p: torch.Tensor, q: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Per-row textbook Jensen-Shannon divergence ``0.5 KL(p||m) + 0.5 KL(q||m)``, natural log, in [0, ln 2]."""
    p, q = p.double().clamp_min(eps), q.double().clamp_min(eps)
    m = 0.5 * (p + q)
    return (0.5 * (p * (p / m).log()).sum(dim=1) + 0.5 * (q * (q / m).log()).sum(dim=1)).clamp_min(0.0)


def js_reference(p: torch.Tensor, q: torch.Tensor, flavor: str) -> float:
    """The Jensen-Shannon numbers of the reference repositories (metrics.md section 2.9 (a)).

    ``badteacher`` (Bad Teacher / SSD ``JSDiv``): ``F.kl_div(log p, m)`` is KL(m||p), averaged
    over all N*K entries, i.e. the mean reverse-KL JS divided by K. ``lotus`` (LoTUS ``JSDiv``):
    inputs clamped to 1e-8 and divided by their sum over the whole matrix, reverse KL with
    ``batchmean``, i.e. divided by N once more. LoTUS tables multiply this by 1e4; we do not.
    """
    p, q = p.double(), q.double()
    if flavor == "badteacher":
        m = 0.5 * (p + q)
        # F.kl_div(log p, m, reduction="mean"), written out: torch warns that "mean" will change.
        kl_mp = torch.xlogy(m, m) - m * p.log()
        kl_mq = torch.xlogy(m, m) - m * q.log()
        return (0.5 * kl_mp.mean() + 0.5 * kl_mq.mean()).item()
    if flavor == "lotus":
        p, q = p.clamp_min(1e-8), q.clamp_min(1e-8)
        p, q = p / p.sum(), q / q.sum()
        m = 0.5 * (p + q)
        return (
            0.5 * F.kl_div(p.log(), m, reduction="batchmean") + 0.5 * F.kl_div(q.log(), m, reduction="batchmean")
        ).item()
    raise ValueError(f"unknown JS flavor {flavor!r}; accepted: badteacher, lotus")


def entropy(p: torch.Tensor) -> torch.Tensor:
    """Per-row Shannon entropy ``-sum p log p`` (natural log, 0 log 0 = 0)."""
    return -(p * p.clamp_min(1e-30).log()).sum(dim=1)


def true_class_probability(p: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``p[i, labels[i]]`` for every row."""
    return p.gather(1, labels.view(-1, 1)).squeeze(1)


def logit_scaled(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """LiRA's ``log p_y - log sum_{c != y} p_c`` computed stably from logits (or log-probabilities)."""
    z = logits.double()
    zy = z.gather(1, labels.view(-1, 1)).squeeze(1)
    others = z.scatter(1, labels.view(-1, 1), float("-inf"))
    return zy - torch.logsumexp(others, dim=1)


def membership_attack(
    member: torch.Tensor,
    nonmember: torch.Tensor,
    target: torch.Tensor,
    classifier: str = "svc",
    seed: int = 0,
) -> float:
    """Fit a member (1) / non-member (0) classifier on 1-D or 2-D features; the fraction of ``target`` predicted member.

    ``svc`` is ``SVC(C=3, gamma='auto', kernel='rbf')`` as in Kodge, SalUn and Bad Teacher (fitted
    through :mod:`unlearnkit.core.svc_attack`, same predictions, faster on 1-D features);
    ``logreg`` is SSD's ``LogisticRegression(class_weight='balanced', solver='lbfgs')``. Features
    are not scaled, as in the reference code. Returns NaN when ``target`` is empty.
    """
    import numpy as np

    def as2d(t: torch.Tensor) -> np.ndarray:
        a = t.detach().double().cpu().numpy()
        return a.reshape(len(a), -1) if a.size else a.reshape(0, 1)

    xm, xn, xt = as2d(member), as2d(nonmember), as2d(target)
    if len(xt) == 0 or len(xm) == 0 or len(xn) == 0:
        return float("nan")
    x = np.concatenate([xm, xn])
    y = np.r_[np.ones(len(xm)), np.zeros(len(xn))]
    if classifier == "svc":
        from unlearnkit.core.svc_attack import fit_predict

        return float(fit_predict(x, y, xt, 3.0, seed).mean())
    if classifier != "logreg":
        raise ValueError(f"unknown attack classifier {classifier!r}; accepted: svc, logreg")
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(class_weight="balanced", solver="lbfgs", random_state=seed)
    return float(clf.fit(x, y).predict(xt).mean())
