"""The business's own job list as the assistant's vocabulary.

Each job estimate the owner defines is a small document: its key, label, description and the
owner's synonyms, read through a default vocabulary in English and Spanish (``vocabulary.py``:
"resorte" and "spring" are one concept). A customer's text is matched against those documents the
way a search engine ranks pages: the concepts they share, each weighted by how rare it is in *this*
catalogue (a word every job of a garage-door company shares, "garage door", decides nothing; the
one word only the spring job has decides everything), fuzzy-matched for typos (rapidfuzz), then the
kind of work (a new or replaced unit against a repair of the old one) as the tie-breaker.
"""

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import snowballstemmer
from rapidfuzz import fuzz, process

from apps.dispatch import vocabulary
from apps.dispatch.rules import fold

CENT = Decimal("0.01")
DEFAULT_DURATION_MINUTES = 60
FUZZY_CUTOFF = 86  # rapidfuzz ratio: "thermastat" and "thermostat" (90) match, "heater" and "header" do not count.
KIND_WEIGHT = 0.6  # Less than any rare concept: the kind of work breaks ties, it never picks the job.
WORKED_ON_WEIGHT = 0.5  # A concept in the clause that says the kind of work counts half again.
_CLAUSES = re.compile(r"[,.;!?]+")

_STEMMER = snowballstemmer.stemmer("english")


@dataclass(frozen=True)
class Estimate:
    job_type: str  # the business's key, what a booking stores
    label: str  # what the customer is told ("Spring replacement")
    min_price: Decimal
    max_price: Decimal
    duration_minutes: int
    matched: bool  # False: no estimate for this job; another job of its trade lends its duration only.
    source: int | None = None  # which of the texts matched (their index)
    shared: frozenset[str] = frozenset()  # the concepts the text and the job share


_KINDS = (
    ("install", vocabulary.INSTALL_WORDS),
    ("maintenance", vocabulary.MAINTENANCE_WORDS),
    ("repair", vocabulary.REPAIR_WORDS),
)


def work_kind(text: str) -> str | None:
    """``install``, ``maintenance`` or ``repair`` when ``text`` says which, in that order ("replace the
    broken one" is an install, "a tune-up, it's gotten loud" maintenance)."""
    kinds = work_kinds(text)
    return kinds[0] if kinds else None


def work_kinds(text: str) -> tuple[str, ...]:
    """Every kind of work ``text`` names, in ``work_kind``'s order: a job described as "Broken torsion
    or extension spring" with the key ``spring_replace`` is both the replacement and the repair."""
    folded = f" {_plain(text)} "
    return tuple(kind for kind, words in _KINDS if any(f" {phrase} " in folded for phrase in words))


def _plain(text: str) -> str:
    """Folded, apostrophes dropped ("won't" -> "wont"), everything else not a letter or digit a space."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(text).replace("'", "").replace("’", "")).split())


# A person who is stuck somewhere ("im stuck at work across town") says nothing about a jammed lock.
_PERSON_STUCK = re.compile(
    r" (i|im|i am|we|were|we are|hes|he is|shes|she is|got|been|estoy) (stuck|tied up|atorad[oa]) (at|in|on|en) "
)


@lru_cache(maxsize=4096)
def concepts(text: str) -> frozenset[str]:
    """The concepts ``text`` names: vocabulary phrases first (longest first, each consumed), then
    the remaining words that carry meaning, as vocabulary concepts or English stems."""
    plain = _PERSON_STUCK.sub(" ", f" {_plain(text)} ")
    found: set[str] = set()
    for phrase, named in vocabulary.PHRASES:
        while f" {phrase} " in plain:
            found.update(named)
            plain = plain.replace(f" {phrase} ", " ", 1)
    for word in plain.split():
        if word in vocabulary.STOP_WORDS or word.isdigit() or len(word) < 2:
            continue
        stem = _STEMMER.stemWord(word)
        named = vocabulary.WORDS.get(word) or vocabulary.WORDS.get(stem) or _spanish_plural(word)
        if named:
            found.update(named)
        elif len(word) > 2:
            found.add(stem)
    for required, excluded, implied in vocabulary.IMPLIED:
        if required <= found and not found & excluded:
            found.add(implied)
    return frozenset(found)


def _spanish_plural(word: str) -> frozenset[str] | None:
    """ "resortes" -> "resorte", "cerraduras" -> "cerradura", "tableros" -> "tablero"."""
    for singular in (word[:-1], word[:-2]) if word.endswith("s") else ():
        if singular in vocabulary.WORDS:
            return vocabulary.WORDS[singular]
    return None


def names_trade(text: str) -> str | None:
    """The trade ``text`` names by the person who does it ("plomero", "a locksmith")."""
    plain = f" {_plain(text)} "
    for trade, forms in vocabulary.TRADE_NAMES.items():
        if any(f" {form} " in plain for form in forms):
            return trade
    return None


def _document(item: dict) -> frozenset[str]:
    synonyms = " . ".join(str(word) for word in item.get("synonyms") or [])
    key = str(item.get("job_type", "")).replace("_", " ")
    return concepts(f"{key} . {item.get('label') or ''} . {item.get('description') or ''} . {synonyms}")


def label_of(item: dict) -> str:
    """The job's name for customers: its label, else its key made readable ("drain_cleaning")."""
    label = str(item.get("label") or "").strip()
    if label:
        return label
    key = str(item.get("job_type", "")).replace("_", " ").strip()
    return key[:1].upper() + key[1:]


def _estimate(item: dict, *, matched: bool, source: int | None = None, shared=frozenset()) -> Estimate:
    return Estimate(
        job_type=str(item.get("job_type", "")),
        label=label_of(item),
        min_price=Decimal(str(item.get("min_price", 0))).quantize(CENT),
        max_price=Decimal(str(item.get("max_price", 0))).quantize(CENT),
        duration_minutes=int(item.get("duration_minutes") or DEFAULT_DURATION_MINUTES),
        matched=matched,
        source=source,
        shared=shared,
    )


@dataclass(frozen=True)
class _Weights:
    idf: dict[str, float]
    rare: float  # the idf of a concept named by half the catalogue: that much evidence decides a job
    generic: frozenset[str]  # the trade's own name ("garage door"): no evidence for a job of that trade

    def weight(self, concept: str) -> float:
        """A place ("under the sink"), a symptom ("leaking") and the kind of work ("new") say less
        about which job it is than the thing that needs the work does."""
        if concept in vocabulary.PLACES:
            return 0.3 * self.idf[concept]
        if concept == "install":
            return 0.5 * self.idf[concept]
        return self.idf[concept] * (0.75 if concept in vocabulary.SYMPTOMS else 1.0)

    def evidence(self, concept: str) -> float:
        """How much the concept says there is a job of this catalogue at all: a symptom does."""
        if concept in self.generic:
            return 0.0
        return self.idf[concept] if concept in vocabulary.SYMPTOMS else self.weight(concept)


def _weights(documents: list[frozenset[str]], trades: set[str]) -> _Weights:
    frequency: dict[str, int] = {}
    for document in documents:
        for concept in document:
            frequency[concept] = frequency.get(concept, 0) + 1
    total = len(documents)
    return _Weights(
        idf={concept: math.log((total + 1) / count) for concept, count in frequency.items()},
        rare=math.log((total + 1) / max(1, total // 2)),
        generic=frozenset().union(*(concepts(trade.replace("_", " ")) for trade in trades)),
    )


def _score(
    wanted: frozenset[str], document: frozenset[str], weights: _Weights, *, whole: bool = False
) -> tuple[float, bool]:
    """The shared concepts' weight, and whether they are evidence enough to decide the job: one
    concept named by at most half the catalogue, or several commoner ones. A concept of the text
    the document lacks may still match one of its words by spelling (a typo). ``whole``: the customer
    wants the trade's own thing new ("replacing both of our garage doors"), so its name is evidence
    for the job that installs it, not for one that installs a part of it (an opener)."""
    score = evidence = 0.0
    shared = wanted & document
    whole = whole and not (document - wanted) & vocabulary.CONCEPTS - vocabulary.PLACES - vocabulary.SYMPTOMS
    for concept in shared:
        score += weights.weight(concept)
        evidence += weights.rare if whole and concept in weights.generic else weights.evidence(concept)
    candidates = [concept for concept in document if len(concept) >= 5]
    for concept in wanted - shared:
        if len(concept) < 5 or not candidates:
            continue
        hit = process.extractOne(concept, candidates, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if hit:
            score += 0.8 * weights.weight(hit[0])
            evidence += 0.8 * weights.evidence(hit[0])
    # Of two jobs that answer equally, the one with less else in it ("leak repair" over "toilet: running,
    # clogged, leaking or rocking").
    score -= 0.02 * len(document - shared)
    return score, evidence >= weights.rare - 1e-9


def match(
    estimates: list[dict],
    *,
    texts: list[str],
    trade: str | None = None,
    job_type: str | None = None,
    hint: str = "",
    kind: str | None = None,
    only_kind: bool = False,
) -> Estimate | None:
    """The business's estimate for what the customer asked, or ``None`` when nothing in the catalogue
    answers it.

    ``texts`` are the customer's messages, newest first: the newest that names a job of the
    catalogue decides (a correction wins). ``job_type`` is a key the model chose (it sees the
    catalogue): the same key counts as a strong match.
    ``hint`` is the rules' name for the job ("Garbage disposal"), worth half a customer word.
    ``kind``: install, maintenance or repair, the customer's latest word on it; ``only_kind``: only
    jobs of that kind answer (the replacement of "fix it vs replace it", whatever the symptoms say).
    """
    items = [item for item in estimates if not (trade and item.get("trade") and item.get("trade") != trade)]
    if not items:
        return None
    documents = [_document(item) for item in items]
    weights = _weights(documents, {str(item["trade"]) for item in items if item.get("trade")} | {trade} - {None})
    hint_concepts = concepts(hint) if hint else frozenset()

    for index, text in enumerate(texts):
        wanted = concepts(text)
        if not wanted and not job_type:
            continue
        kind_here = kind or work_kind(text)
        # What the kind of work is said of: "a level 2 charger installed …, panel is right there" installs
        # the charger; "take it off and put in a regular old deadbolt" the deadbolt.
        worked_on = (
            frozenset().union(
                *(concepts(clause) for clause in _CLAUSES.split(text) if kind_here and kind_here in work_kinds(clause))
            )
            - {"install"}
            - weights.generic
        )
        best, best_score, best_document = None, 0.0, frozenset()
        for item, document in zip(items, documents, strict=True):
            # A job that names no kind ("Drain cleaning", "Home lockout") is a repair, not an install.
            own_kinds = work_kinds(f"{item.get('job_type', '')} {label_of(item)} {item.get('description', '')}")
            own_kinds = own_kinds or ("repair",)
            score, decisive = _score(wanted, document, weights, whole=kind_here == "install" == own_kinds[0])
            hinted, _ = _score(hint_concepts - wanted, document, weights)
            score += 0.5 * hinted
            score += WORKED_ON_WEIGHT * sum(weights.weight(concept) for concept in wanted & document & worked_on)
            same_key = bool(job_type) and fold(str(item.get("job_type", ""))).replace(" ", "_") == job_type
            if same_key:
                score, decisive = score + 1.5, True
            if not decisive or (only_kind and kind_here not in own_kinds):
                continue
            if kind_here:
                score += KIND_WEIGHT if kind_here in own_kinds else -KIND_WEIGHT
            elif "repair" not in own_kinds:
                score -= KIND_WEIGHT / 2  # Unsaid, it is a visit to look at what is wrong.
            if score > best_score:
                best, best_score, best_document = item, score, document
        if best is not None:
            return _estimate(best, matched=True, source=index, shared=wanted & best_document)
    return None


def fallback(estimates: list[dict], *, trade: str | None) -> Estimate | None:
    """Another job of the same trade: its duration is a fair guess for an unlisted job, its price is not."""
    for item in estimates:
        if trade and item.get("trade") == trade:
            return _estimate(item, matched=False)
    return None


def names_substance(estimate: Estimate) -> bool:
    """Whether the job was matched on what needs the work, not only on a symptom or a place (a
    refrigerator "not cooling" shares only a symptom with an AC repair)."""
    return bool(estimate.shared - vocabulary.SYMPTOMS - vocabulary.PLACES - {"install"})


_ASKS_WHETHER_THEY_DO = re.compile(
    r"\b(do|can|could|will)\s+(you|u|y'?all|ya)\s+(guys\s+)?(do|patch|paint|fix|repair|install|handle|work\s+on|clean|build)\b"
    r"|\b(hacen|arreglan|reparan|instalan|trabajan|limpian|pintan|construyen)\b"
)


def asks_whether_they_do(text: str) -> bool:
    """ "Do you guys patch drywall?": the customer names the work they are asking for."""
    return _ASKS_WHETHER_THEY_DO.search(_plain(text)) is not None


def names_other_work(text: str, estimates: list[dict]) -> str | None:
    """The trade outside every home-service trade the text asks for ("roofing", "appliance repair"),
    unless the business's own catalogue lists it."""
    wanted = concepts(text)
    for trade, words in vocabulary.OTHER_WORK.items():
        if wanted & words:
            listed = any(_document(item) & words for item in estimates)
            if not listed:
                return trade
    return None
