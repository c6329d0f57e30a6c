"""Read the shape of a question from its words alone, before any name is matched to the schema.

The result is an `Intent`: which aggregate, over which phrase, grouped by which phrases, in which time
bucket and period, ranked or not. Phrases are kept as token positions so the schema matcher can split
them ("high priority tickets" = a value, a column name and a table) and so every word of the question
is accounted for: a word nobody understood makes the planner decline instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from csvanalyst.llm.offline import time as timewords


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


BOUNDARY = _wordset(
    "by per for in with where whose having from between during since before after over across and or "
    "each on at is are was were has have had did does do that which who than to when of the a an all "
    "there exist exists what how many much"
)
STOPWORDS = _wordset(
    "what whats is are was were the a an of in on for to me show give list tell display get find compute "
    "calculate how many much which there do does did we i you have has had all each every per by with and "
    "please value values overall s that this those these it its be been being exist exists our my data "
    "dataset table over during across so far currently been ever recorded record total number count "
    "distinct unique different kinds kind seen got see us"
)
DECLINE_WORDS = _wordset(
    "why predict prediction forecast will should would could recommend explain cause causes caused reason "
    "meaning next future correlation correlate correlated ratio "
    "compare compared versus vs growth impact"
)
_AGG_WORDS = {
    "average": "avg", "avg": "avg", "mean": "avg", "total": "sum", "sum": "sum", "maximum": "max",
    "max": "max", "highest": "max", "largest": "max", "biggest": "max", "peak": "max", "latest": "max",
    "minimum": "min", "min": "min", "lowest": "min", "smallest": "min", "earliest": "min", "median": "median",
}  # fmt: skip
_COUNT_STARTS = (("how", "many"), ("number", "of"), ("count", "of"), ("count",))
_DISTINCT = frozenset({"distinct", "unique", "different"})
_UP = frozenset({"top", "best", "highest", "largest", "biggest", "most", "greatest"})
_DOWN = frozenset({"bottom", "worst", "lowest", "smallest", "least", "fewest"})
_RANK_LEAD = (_UP | _DOWN | {"top", "bottom", "best", "worst"}) - {"most", "least", "fewest"}
_FREQUENT = frozenset({"common", "frequent", "popular", "usual"})
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "twenty": 20}  # fmt: skip
_COMPARE = {("more", "than"): ">", ("greater", "than"): ">", ("over",): ">", ("above",): ">",
            ("exceeding",): ">", ("at", "least"): ">=", ("less", "than"): "<", ("fewer", "than"): "<",
            ("below",): "<", ("under",): "<", ("at", "most"): "<=", (">",): ">", (">=",): ">=",
            ("<",): "<", ("<=",): "<=", ("=",): "=", ("equal", "to"): "="}  # fmt: skip
_TOKEN = re.compile(r"\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?(?:st|nd|rd|th)?|[a-z][a-z0-9_]*|[<>]=?|=")


@dataclass(frozen=True)
class Rank:
    desc: bool
    n: int


@dataclass(frozen=True)
class Comparison:
    phrase: list[int]
    op: str
    value: float


@dataclass
class Intent:
    """The question's structure; phrases are lists of token positions."""

    tokens: list[str]
    used: set[int] = field(default_factory=set)
    fn: str | None = None
    p: float | None = None
    measure: list[int] = field(default_factory=list)
    entity: list[int] = field(default_factory=list)
    groups: list[list[int]] = field(default_factory=list)
    bucket: str | None = None
    period: timewords.Period | None = None
    rank: Rank | None = None
    listing: bool = False
    lookup: bool = False  # a measure named without an aggregate or a grouping: its values are shown
    compare: bool = False  # "more A than B": the two values are grouped side by side
    comparisons: list[Comparison] = field(default_factory=list)
    decline: str | None = None

    def text(self, phrase: list[int]) -> str:
        return " ".join(self.tokens[i] for i in phrase)

    def free(self, i: int) -> bool:
        return 0 <= i < len(self.tokens) and i not in self.used

    def at(self, i: int, *seq: str) -> bool:
        return all(self.free(i + k) and self.tokens[i + k] == w for k, w in enumerate(seq))

    def take(self, *positions: int) -> None:
        self.used.update(positions)

    def phrase(self, start: int, stop_at: frozenset[str] = BOUNDARY) -> list[int]:
        """Free tokens from `start` up to the next boundary word; a phrase never starts with one."""
        out = []
        i = start
        while self.free(i) and (self.tokens[i] not in stop_at or (not out and self.tokens[i] in ("the", "a"))):
            if self.tokens[i] not in ("the", "a"):
                out.append(i)
            else:
                self.take(i)
            i += 1
        return out

    def leftover(self) -> list[int]:
        return [i for i in range(len(self.tokens)) if i not in self.used]


def tokenize(question: str) -> list[str]:
    text = question.lower().replace("\u2019", "'").replace("'s ", " ").replace("'", " ")
    return _TOKEN.findall(text)


def parse_question(question: str) -> Intent:
    intent = Intent(tokens=tokenize(question))
    toks = intent.tokens
    bad = next((w for w in toks if w in DECLINE_WORDS), None)
    if bad is not None:
        intent.decline = f"“{bad}” asks for an explanation, comparison or prediction, not a lookup in the data"
        return intent
    _read_compare(intent)
    timewords.read_period(intent)
    timewords.read_bucket(intent)
    _read_percentile(intent)
    _read_comparisons(intent)
    if _read_share(intent):
        _read_groups(intent)
        return intent
    if not (_read_rank(intent) or _read_listing(intent)):
        _read_aggregate(intent)
    _read_top_n(intent)
    _read_groups(intent)
    return intent


_COMPARATIVES = frozenset({"more", "higher", "greater", "larger", "bigger", "better", "less", "lower", "fewer",
                           "smaller", "worse"})  # fmt: skip


def _read_compare(intent: Intent) -> None:
    """`did X win more A than B`, `is the average M higher at A than at B`: a two-way comparison."""
    toks = intent.tokens
    for i, tok in enumerate(toks):
        if tok not in _COMPARATIVES or "than" not in toks[i + 1 :]:
            continue
        than = toks.index("than", i + 1)
        if than + 1 < len(toks) and _is_number(toks[than + 1]):
            return  # "more than 150 horsepower" is a number condition, read elsewhere
        intent.take(i, than)
        intent.compare = True
        return


_SHARE_WORDS = frozenset({"share", "percentage", "percent", "proportion", "fraction"})


def _read_share(intent: Intent) -> bool:
    """`what percentage of X were Y`, `share of X at Y`: X is the whole, the other conditions the part."""
    toks = intent.tokens
    for i, tok in enumerate(toks):
        if tok not in _SHARE_WORDS or not intent.free(i):
            continue
        start = i + 1
        while intent.free(start) and toks[start] in ("of", "the", "all"):
            start += 1
        intent.take(*range(0, start))
        intent.fn = "share"
        intent.measure = intent.phrase(start)
        return bool(intent.measure)
    return False


def _read_top_n(intent: Intent) -> None:
    """`…, top 10` or `first 3` anywhere in a ranking sets how many rows it shows."""
    if intent.rank is None:
        return
    for i, tok in enumerate(intent.tokens):
        if tok in ("top", "first", "bottom", "last") and intent.free(i):
            n, end = _count_n(intent, i + 1)
            if n is not None:
                intent.rank = Rank(desc=intent.rank.desc, n=n)
                intent.take(i, end - 1)


def _read_percentile(intent: Intent) -> None:
    toks = intent.tokens
    for i, tok in enumerate(toks):
        m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", tok)
        if m and intent.at(i + 1, "percentile") and 0 < int(m.group(1)) < 100:
            intent.fn, intent.p = "percentile", int(m.group(1)) / 100
            intent.take(i, i + 1)
        elif re.fullmatch(r"p\d{1,2}", tok) and intent.free(i) and 0 < int(tok[1:]) < 100:
            intent.fn, intent.p = "percentile", int(tok[1:]) / 100
            intent.take(i)
        else:
            continue
        start = i + 2 if toks[i].isdigit() or toks[i][0].isdigit() else i + 1
        if intent.at(start, "of"):
            intent.take(start)
            start += 1
        intent.measure = intent.phrase(start)
        return


def _read_comparisons(intent: Intent) -> None:
    toks = intent.tokens
    for i in range(len(toks)):
        for seq, op in _COMPARE.items():
            end = i + len(seq)
            if not intent.at(i, *seq) or end >= len(toks) or not _is_number(toks[end]):
                continue
            j = i - 1
            while intent.free(j) and toks[j] not in BOUNDARY:
                j -= 1
            phrase = list(range(j + 1, i))
            if not phrase:
                phrase = _phrase_after(intent, end + 1)
            if phrase:
                intent.comparisons.append(Comparison(phrase, op, float(toks[end])))
                intent.take(*range(i, end + 1), *phrase)
    for i in range(len(toks) - 1):
        if (
            intent.at(i, "with")
            and intent.free(i + 1)
            and _is_number(toks[i + 1])
            and not timewords.is_year(toks[i + 1])
        ):
            phrase = _phrase_after(intent, i + 2)
            if phrase:
                intent.comparisons.append(Comparison(phrase, "=", float(toks[i + 1])))
                intent.take(i, i + 1, *phrase)


def _phrase_after(intent: Intent, start: int) -> list[int]:
    out = []
    k = start
    while intent.free(k) and intent.tokens[k] not in BOUNDARY and not _is_number(intent.tokens[k]):
        out.append(k)
        k += 1
    return out


def _is_number(tok: str) -> bool:
    return re.fullmatch(r"\d+(?:\.\d+)?", tok) is not None


def _count_n(intent: Intent, i: int) -> tuple[int | None, int]:
    """A number of items at position i (`5`, `five`), and the position after it."""
    if intent.free(i):
        tok = intent.tokens[i]
        if tok.isdigit() and not timewords.is_year(tok):
            return int(tok), i + 1
        if tok in _NUMBERS:
            return _NUMBERS[tok], i + 1
    return None, i


def _read_rank(intent: Intent) -> bool:
    """`top 5 products by revenue` and `which agent has the best average satisfaction`."""
    toks = intent.tokens
    for i, tok in enumerate(toks):
        if not intent.free(i) or tok not in _RANK_LEAD:
            continue
        n, start = _count_n(intent, i + 1)
        if tok in ("top", "bottom", "best", "worst") or n is not None:
            entity = intent.phrase(start)
            if entity and intent.at(start + len(entity), "by"):
                intent.take(i, start - 1, start + len(entity))
                intent.rank = Rank(desc=tok not in _DOWN, n=n or 10)
                intent.entity = entity
                _read_measure(intent, start + len(entity) + 1, default=None)
                return True
    if toks and toks[0] in ("which", "what") and intent.free(0):
        n, start = _count_n(intent, 1)
        entity = intent.phrase(start)
        k = start + len(entity)
        while intent.free(k) and toks[k] in ("has", "have", "had", "with", "got", "is", "are", "was", "the"):
            k += 1
        if entity and intent.free(k) and toks[k] in _UP | _DOWN:
            intent.take(*range(0, start), *range(start + len(entity), k + 1))
            _ranked(intent, entity, k, n or 1)
            return True
    return _read_with_superlative(intent)


def _ranked(intent: Intent, entity: list[int], k: int, n: int) -> None:
    """The superlative at k ranks `entity`; `most common` / `most frequent` counts rows."""
    toks = intent.tokens
    intent.rank = Rank(desc=toks[k] in _UP, n=n)
    intent.entity = entity
    if intent.free(k + 1) and toks[k + 1] in _FREQUENT:
        intent.take(k + 1)
        intent.fn = "count"
        return
    _read_measure(intent, k + 1, default="count" if toks[k] in ("most", "least", "fewest") else None)


def _read_with_superlative(intent: Intent) -> bool:
    """`product with the largest stock in 2020`, `store with the highest rating`."""
    toks = intent.tokens
    for i, tok in enumerate(toks):
        if tok != "with" or not intent.free(i) or i == 0:
            continue
        k = i + 1
        while intent.free(k) and toks[k] in ("the", "a"):
            k += 1
        if not (intent.free(k) and toks[k] in _UP | _DOWN):
            continue
        start = 0
        while intent.free(start) and toks[start] in ("the", "a", "which", "what", "show", "find", "list"):
            start += 1
        entity = [j for j in range(start, i) if intent.free(j)]
        if not entity or any(toks[j] in BOUNDARY - {"the", "a"} for j in entity):
            continue
        intent.take(*range(0, start), *range(i, k + 1))
        _ranked(intent, entity, k, 1)
        return True
    return False


def _read_measure(intent: Intent, start: int, default: str | None) -> None:
    """An optional aggregate word, then the measure phrase (`average satisfaction`, `number of orders`)."""
    for seq in _COUNT_STARTS:
        if intent.at(start, *seq):
            intent.take(*range(start, start + len(seq)))
            intent.fn, intent.measure = "count", intent.phrase(start + len(seq))
            return
    word = intent.tokens[start] if intent.free(start) else ""
    if word in _AGG_WORDS and intent.fn is None:
        intent.take(start)
        intent.fn = _AGG_WORDS[word]
        start += 1
        if intent.at(start, "of"):
            intent.take(start)
            start += 1
    elif intent.fn is None:
        intent.fn = default
    intent.measure = intent.phrase(start)


def _read_listing(intent: Intent) -> bool:
    """`which regions are there`, `list the distinct channels`, `what are the categories`."""
    toks = intent.tokens
    if not toks or not intent.free(0):
        return False
    start = 0
    if toks[0] in ("list", "show", "name", "give", "display"):
        start = 1
        while intent.free(start) and toks[start] in ("me", "all", "the", "of"):
            start += 1
    elif toks[0] in ("which", "what"):
        start = 1
        while intent.free(start) and toks[start] in ("are", "is", "were", "the", "kinds", "kind", "of"):
            start += 1
    elif toks[0] not in _DISTINCT:
        return False
    distinct = intent.free(start) and toks[start] in _DISTINCT
    phrase = intent.phrase(start + 1 if distinct else start)
    rest = [i for i in range(start + len(phrase) + int(distinct), len(toks)) if intent.free(i)]
    tail = " ".join(toks[i] for i in rest)
    closing = tail in ("", "are there", "exist", "are in the data", "do we have", "are used", "there are")
    if not phrase or not (closing or (distinct and toks[0] in ("list", "show", "which", "what"))):
        return False
    if any(toks[i] in _AGG_WORDS or toks[i] == "number" for i in phrase) or intent.bucket or intent.fn:
        return False
    if toks[0] in ("which", "what") and not (distinct or tail or start > 1):
        return False  # "what temperature" is not a listing
    intent.take(*range(0, start + int(distinct)))
    if closing:
        intent.take(*rest)
    intent.listing = True
    intent.entity = phrase
    return True


def _read_aggregate(intent: Intent) -> None:
    """The first aggregate word and its phrase; without one, a leading noun is counted (`orders per month`)."""
    toks = intent.tokens
    for i in range(len(toks)):
        for seq in _COUNT_STARTS:
            if intent.at(i, *seq):
                intent.take(*range(i, i + len(seq)))
                distinct = intent.free(i + len(seq)) and toks[i + len(seq)] in _DISTINCT
                if distinct:
                    intent.take(i + len(seq))
                intent.fn = "count_distinct" if distinct else "count"
                intent.measure = intent.phrase(i + len(seq) + int(distinct))
                return
        if intent.free(i) and toks[i] in _AGG_WORDS and intent.fn is None:
            _read_measure(intent, i, default=None)
            return
    if intent.fn == "percentile":
        return
    first = next((i for i in range(len(toks)) if intent.free(i) and toks[i] not in STOPWORDS), None)
    if first is not None and (intent.bucket or _has_group_word(intent)):
        intent.measure = intent.phrase(first)  # no aggregate word: a table is counted, a measure summed
    elif first is not None and intent.fn is None and not intent.compare:
        intent.measure = intent.phrase(first)
        intent.lookup = bool(intent.measure)


def _has_group_word(intent: Intent) -> bool:
    return any(intent.free(i) and t in ("by", "per", "each", "across") for i, t in enumerate(intent.tokens))


def _read_groups(intent: Intent) -> None:
    """`by X`, `per X`, `for each X`, `across X`, and `and Y` / `, Y` after any of them."""
    toks = intent.tokens
    i = 0
    while i < len(toks):
        size = _group_word(intent, i)
        if not size:
            i += 1
            continue
        intent.take(*range(i, i + size))
        group = intent.phrase(i + size)
        if not group:
            i += size
            continue
        intent.groups.append(group)
        i = group[-1] + 1
        while intent.at(i, "and") and intent.phrase(i + 1) and _group_word(intent, i + 1) == 0:
            intent.take(i)
            more = intent.phrase(i + 1)
            intent.groups.append(more)
            i = more[-1] + 1


def _group_word(intent: Intent, i: int) -> int:
    for seq in (("for", "each"), ("for", "every"), ("in", "each"), ("broken", "down", "by"), ("grouped", "by"),
                ("split", "by"), ("by",), ("per",), ("across",), ("each",)):  # fmt: skip
        if intent.at(i, *seq):
            return len(seq)
    return 0
