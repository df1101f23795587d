"""Training pools with something worth skipping: a target corpus mixed with off-target text or junk.

Selection only pays where the pool holds what the target does not need (the IGF paper's "Standard
Mixed" baseline; RHO-LOSS and CoLoR-Filter's noisy pools). These build such pools from real text,
by contexts and deterministically for a seed, so a learner's effect can be measured where it matters:
- `mixed_pool`: target contexts plus a given fraction of contexts from another corpus;
- `junk_contexts`: token-shuffled target passages, repeated boilerplate lines and markup, the kinds
  of junk a scraped corpus carries.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

BOILERPLATE_LINES = (
    "Copyright (c) 2019 All rights reserved.", "Click here to subscribe to our newsletter!",
    "This site uses cookies to improve your experience. Accept | Decline",
    "Share on Facebook | Share on Twitter | Email this page", "Home > Books > Religion > Read online",
    "Terms of Service | Privacy Policy | Contact Us | Sitemap", "Loading... please wait.",
    "Advertisement", "Page 1 of 12 Next >>", "Posted by admin at 10:42 AM 0 comments",
)
MARKUP_SNIPPETS = (
    '<div class="nav-wrapper"><ul id="menu"><li><a href="/index.html">', '</a></li></ul></div>',
    '<script type="text/javascript">var _gaq = _gaq || []; _gaq.push(["_trackPageview"]);</script>',
    '<table border="0" cellpadding="2" width="100%"><tr><td align="left">', '</td></tr></table>',
    '<meta name="viewport" content="width=device-width, initial-scale=1">', '&nbsp;&nbsp;|&nbsp;',
    '<span style="font-size:10pt;color:#333333">', '</span><br/><br/>', '{{#if user}}{{> header}}{{/if}}',
)
JUNK_KINDS = ("shuffled", "boilerplate", "markup")


@dataclass
class Pool:
    """Contexts to fine-tune on, and which of them come from the target corpus."""

    contexts: torch.Tensor
    is_target: torch.Tensor

    def __len__(self) -> int:
        return len(self.contexts)

    @property
    def target_fraction(self) -> float:
        return float(self.is_target.float().mean())

    def target_only(self) -> torch.Tensor:
        return self.contexts[self.is_target]


def mixed_pool(target: torch.Tensor, other: torch.Tensor, *, other_fraction: float, seed: int) -> Pool:
    """All of `target` plus as many `other` contexts as make `other_fraction` of the pool, shuffled."""
    if not 0 <= other_fraction < 1:
        raise ValueError(f"other_fraction must be in [0, 1); got {other_fraction}.")
    count = round(len(target) * other_fraction / (1 - other_fraction))
    if count > len(other):
        raise ValueError(f"A pool {other_fraction:.0%} off-target needs {count} other contexts; {len(other)} given.")
    generator = torch.Generator().manual_seed(seed)
    chosen = other[torch.randperm(len(other), generator=generator)[:count]]
    contexts = torch.cat([target, chosen])
    is_target = torch.cat([torch.ones(len(target), dtype=torch.bool), torch.zeros(count, dtype=torch.bool)])
    order = torch.randperm(len(contexts), generator=generator)
    return Pool(contexts[order], is_target[order])


def junk_contexts(source: torch.Tensor, tokenizer, count: int, *, seed: int) -> torch.Tensor:
    """`count` junk contexts as long as `source`'s, a third of each kind in `JUNK_KINDS`.

    shuffled: a source context with its tokens permuted (the target's vocabulary, no language);
    boilerplate: random web boilerplate lines, repeated; markup: HTML/JS/template fragments.
    """
    generator = torch.Generator().manual_seed(seed)
    length = source.shape[1]
    contexts = []
    for index in range(count):
        kind = JUNK_KINDS[index % len(JUNK_KINDS)]
        if kind == "shuffled":
            row = source[int(torch.randint(len(source), (1,), generator=generator))]
            contexts.append(row[torch.randperm(length, generator=generator)])
            continue
        pieces = BOILERPLATE_LINES if kind == "boilerplate" else MARKUP_SNIPPETS
        ids: list[int] = []
        while len(ids) < length:
            piece = pieces[int(torch.randint(len(pieces), (1,), generator=generator))]
            ids += tokenizer(piece + ("\n" if kind == "boilerplate" else ""), add_special_tokens=False)["input_ids"]
        contexts.append(torch.tensor(ids[:length], dtype=torch.long))
    order = torch.randperm(count, generator=generator)
    return torch.stack(contexts)[order]
