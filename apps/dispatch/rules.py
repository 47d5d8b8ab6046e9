"""The deterministic rule-based engine: what a customer's message says, without a language model.

It runs when no OpenAI key is configured and whenever the OpenAI call fails, so it must answer
every message in well under a millisecond and never raise. Everything here is a pure function of
the text (and, for time preferences, of "now" in the business's time zone).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache

from dateparser.search import search_dates
from django.utils.translation import gettext_noop
from lingua import Language, LanguageDetectorBuilder

from apps.dispatch import vocabulary
from nevermisscall.choices import Trade

INTENTS = ("appointment", "pricing", "emergency", "general")
URGENCIES = ("emergency", "urgent", "normal")
URGENCY_RANK = {"normal": 0, "urgent": 1, "emergency": 2}


def fold(text: str) -> str:
    """Lower case without accents, so "mañana" and "manana", "sí" and "si" match the same patterns."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@cache
def _compiled(pattern: str) -> re.Pattern:
    """Each pattern compiled once per process: the rules hold more patterns than ``re``'s own cache
    keeps (512), which then recompiled hundreds of them on every customer text (issue 10)."""
    return re.compile(pattern)


def _any(patterns, text: str) -> int:
    return sum(1 for pattern in patterns if _compiled(pattern).search(text))


# --- Language -----------------------------------------------------------------------------------
# lingua (a maintained n-gram detector that does well on short texts), restricted to the two
# languages the product speaks; models are loaded once per process, at import.
_DETECTOR = (
    LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH).with_preloaded_language_models().build()
)
_LANGUAGE_CODES = {Language.ENGLISH: "en", Language.SPANISH: "es"}
# Below it the caller's default decides: "yes", "dale", a lone name ("Maria" reads 0.76 Spanish).
_LANGUAGE_CONFIDENCE = 0.75
_ONE_WORD_CONFIDENCE = 0.9


def _common_words(text: str) -> list[str]:
    """The words of ``text`` without proper names (capitalised words that do not start a sentence):
    "Los Angeles" or "San Pablo Ave" in an English address must not read as Spanish."""
    words = []
    for match in re.finditer(r"[^\W\d_]+", text):
        starts_sentence = not text[: match.start()].strip() or text[: match.start()].rstrip()[-1] in ".!?¿¡\n"
        if starts_sentence or not match.group()[0].isupper():
            words.append(match.group())
    return words


def detect_language(text: str, default: str = "en") -> str:
    """``"es"`` or ``"en"``: Spanish punctuation wins outright, otherwise lingua when it is sure."""
    if "¿" in text or "¡" in text or "ñ" in text.lower():
        return "es"
    words = _common_words(text)
    if not words:
        return default
    best = _DETECTOR.compute_language_confidence_values(" ".join(words))[0]
    needed = _ONE_WORD_CONFIDENCE if len(words) == 1 else _LANGUAGE_CONFIDENCE
    return _LANGUAGE_CODES[best.language] if best.value >= needed else default


# --- Job types ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobType:
    key: str
    trade: str
    label: str
    patterns: tuple[str, ...]
    generic: bool = False  # A catch-all for its trade: any specific job type beats it.


JOB_TYPES: tuple[JobType, ...] = (
    # Most specific first: on a tie the earlier job type wins ("toilet is clogged" is a toilet job).
    JobType(
        "burst_pipe",
        Trade.PLUMBING,
        gettext_noop("Burst pipe"),
        (
            r"\b(burst|broken|busted|frozen|cracked)\s+(water\s+)?(pipe|line|main)",
            r"\bpipe\s+(burst|broke)",
            r"tuberia\s+(rota|reventad)",
            r"se\s+(rompio|revento)\s+(un|una|el|la)\s+(tubo|tuberia)",
        ),
    ),
    JobType(
        "water_heater",
        Trade.PLUMBING,
        gettext_noop("Water heater repair"),
        (
            r"water\s+heater",
            r"\bno\s+hot\s+water",
            r"hot\s+water\s+(tank|heater)",
            r"\btankless\b",
            r"calentador",
            r"agua\s+caliente",
        ),
    ),
    JobType(
        "gas_leak",
        Trade.PLUMBING,
        gettext_noop("Gas leak"),
        (
            r"\bgas\s+(smell|leak|line)",
            r"\bsmells?\s+(like\s+|of\s+)?gas\b",
            r"\bsmell\s+gas\b",
            r"huele\s+a\s+gas",
            r"fuga\s+de\s+gas",
        ),
    ),
    JobType(
        "garbage_disposal",
        Trade.PLUMBING,
        gettext_noop("Garbage disposal"),
        (r"\bgarbage\s+disposal", r"\bdisposal\b", r"\bin-?sink-?erator", r"\btriturador"),
    ),
    JobType(
        "sump_pump",
        Trade.PLUMBING,
        gettext_noop("Sump pump"),
        (r"sump\s+pump", r"basement\s+(is\s+)?flood", r"sotano\s+inundado"),
    ),
    JobType(
        "toilet_repair",
        Trade.PLUMBING,
        gettext_noop("Toilet repair"),
        (r"\btoilet", r"\bcommode\b", r"keeps\s+running", r"\binodoro", r"\bexcusado", r"\bescusado"),
    ),
    JobType(
        "drain_cleaning",
        Trade.PLUMBING,
        gettext_noop("Drain cleaning"),
        (
            r"\bclog",
            r"\bdrain",
            r"backed\s+up",
            r"backing\s+up",
            r"\bsewer",
            r"\bsewage",
            r"won'?t\s+drain",
            r"tapad",
            r"desag[uü]e",
            r"drenaje",
            r"atascad",
        ),
    ),
    JobType(
        "leak_repair",
        Trade.PLUMBING,
        gettext_noop("Leak repair"),
        (
            r"\bleak",
            r"\b(thru|through)\s+the\s+ceiling",
            r"\bdripping",
            r"\bdrips?\b",
            r"\bfaucet",
            r"\bfuga\s+de\s+agua",
            r"\bgotea",
            r"\bllave\s+del\s+agua",
            r"\bgrifo",
        ),
    ),
    JobType(
        "wiring",
        Trade.ELECTRICAL,
        gettext_noop("Wiring / sparks"),
        (
            r"\bspark",
            r"\bwir(e|es|ing)\b",
            r"burning\s+smell",
            r"smells?\s+like\s+(something\s+)?burning",
            r"\bchispa",
            r"\bcables?\b",
            r"olor\s+a\s+quemado",
        ),
    ),
    JobType(
        "power_outage",
        Trade.ELECTRICAL,
        gettext_noop("Power loss"),
        (
            r"\bno\s+power",
            r"power\s+(is\s+)?(out|went\s+out)",
            r"lost\s+power",
            r"half\s+(of\s+)?(the|my)\s+house",
            r"\bsin\s+luz",
            r"se\s+fue\s+la\s+luz",
            r"no\s+hay\s+luz",
        ),
    ),
    JobType(
        "breaker_panel",
        Trade.ELECTRICAL,
        gettext_noop("Breaker / panel"),
        (
            r"\bbreaker",
            r"\bpanel\b",
            r"\bfuse\s*box",
            r"keeps\s+tripping",
            r"\btripp",
            r"\bamp\s+service",
            r"\bpastilla",
            r"\btablero",
            r"\bbreakers?\b",
        ),
    ),
    JobType(
        "ev_charger",
        Trade.ELECTRICAL,
        gettext_noop("EV charger install"),
        (r"\bev\s+charger", r"\btesla\s+charger", r"\bcar\s+charger", r"level\s*2\s+charger", r"cargador"),
    ),
    JobType(
        "lighting",
        Trade.ELECTRICAL,
        gettext_noop("Lighting / fixtures"),
        (
            r"\blights?\s+(fixture|flicker|keep)",
            r"\bflicker",
            r"ceiling\s+fan",
            r"\bchandelier",
            r"\brecessed\s+light",
            r"\blamparas?\b",
            r"\bfoco",
            r"parpadea",
        ),
    ),
    JobType(
        "outlet_repair",
        Trade.ELECTRICAL,
        gettext_noop("Outlet / switch repair"),
        (r"\boutlet", r"\bswitch(es)?\b", r"\bgfci\b", r"\bplugs?\b", r"\benchufe", r"\btomacorriente", r"\bapagador"),
    ),
    JobType(
        "carbon_monoxide",
        Trade.HVAC,
        gettext_noop("Carbon monoxide / gas"),
        (r"carbon\s+monoxide", r"\bco\s+(alarm|detector)", r"monoxido"),
    ),
    JobType(
        "thermostat",
        Trade.HVAC,
        gettext_noop("Thermostat"),
        (
            r"\bthermostat",
            r"\btermostato",
        ),
    ),
    JobType(
        "hvac_maintenance",
        Trade.HVAC,
        gettext_noop("HVAC tune-up"),
        (
            r"\btune[\s-]?up",
            r"\bhvac\s+(maintenance|service|check)",
            r"\bduct(s|work)?\b",
            r"\bfilter\s+change",
            r"\bmantenimiento\s+(del|de\s+la)\s+(aire|clima|calefaccion)",
            r"\bductos",
        ),
    ),
    JobType(
        "ac_repair",
        Trade.HVAC,
        gettext_noop("AC repair"),
        (
            r"\b(ac|a/c|a\.c\.)\b",
            r"air\s+condition",
            r"not\s+cooling",
            r"blowing\s+(hot|warm)\s+air",
            r"\bcondenser",
            r"aire\s+acondicionado",
            r"\bclima\b",
            r"no\s+enfria",
        ),
    ),
    JobType(
        "heating_repair",
        Trade.HVAC,
        gettext_noop("Heating repair"),
        (
            r"\bfurnace",
            r"\bno\s+heat\b",
            r"\bheat(er|ing)?\s+(is\s+)?(not|isn'?t|won'?t|stopped|broke)",
            r"\bheat\s+pump",
            r"\bboiler",
            r"\bcalefaccion",
            r"\bcalentador\s+de\s+aire",
            r"\bno\s+calienta",
            r"\bhorno\b",
        ),
    ),
    JobType(
        "lockout",
        Trade.LOCKSMITH,
        gettext_noop("Lockout"),
        (
            r"locked\s+(myself\s+)?out",
            r"lock(ed)?\s+out\s+of",
            r"\blockout\b",
            r"keys?\s+(locked\s+)?inside",
            r"lost\s+(my\s+)?keys",
            r"locked\s+in\s+the\s+car",
            r"quede\s+afuera",
            r"me\s+quede\s+fuera",
            r"perdi\s+(mis|las)\s+llaves",
            r"llaves\s+adentro",
        ),
    ),
    JobType(
        "lock_change",
        Trade.LOCKSMITH,
        gettext_noop("Lock change / rekey"),
        (
            r"\brekey",
            r"\bre-key",
            r"change\s+(the\s+|my\s+|all\s+the\s+)?locks?",
            r"new\s+locks?",
            r"\bdeadbolt",
            r"\bsmart\s+lock",
            r"lock\s+(is\s+)?(broken|jammed|stuck)",
            r"cambiar\s+(la|las)\s+cerradura",
            r"\bcerradura",
            r"\bchapa\b",
        ),
    ),
    JobType(
        "key_duplication",
        Trade.LOCKSMITH,
        gettext_noop("Keys / duplication"),
        (
            r"\bcopy\s+of\s+(a|my|the)\s+key",
            r"\bduplicate\s+keys?",
            r"\bkey\s+fob",
            r"\bcar\s+key",
            r"\bcopia\s+de\s+(la\s+)?llave",
            r"\bllave\s+del\s+carro",
        ),
    ),
    JobType(
        "safe",
        Trade.LOCKSMITH,
        gettext_noop("Safe opening"),
        (r"\bsafe\b(?!ly)", r"\bcaja\s+fuerte"),
    ),
    JobType(
        "garage_spring",
        Trade.GARAGE_DOOR,
        gettext_noop("Garage door spring"),
        (r"\bsprings?\b", r"\btorsion", r"\bresortes?\b"),
    ),
    JobType(
        "garage_off_track",
        Trade.GARAGE_DOOR,
        gettext_noop("Garage door off track / cables"),
        (
            r"off\s+(the\s+)?tracks?",
            r"\bcables?\s+(snapped|broke|came\s+off)",
            r"\bcrooked\b",
            r"\bfuera\s+del\s+riel",
            r"\bse\s+salio\s+del\s+riel",
        ),
    ),
    JobType(
        "garage_opener",
        Trade.GARAGE_DOOR,
        gettext_noop("Garage door opener"),
        (
            r"\bopener",
            r"\bremote\b",
            r"\bliftmaster",
            r"\bchamberlain",
            r"\bgenie\b",
            r"\bmotor\s+del\s+garaje",
            r"\bcontrol\s+del\s+garaje",
        ),
    ),
    JobType(
        "garage_door_repair",
        Trade.GARAGE_DOOR,
        gettext_noop("Garage door repair"),
        (
            r"garage\s+door",
            r"\bgarage\b.*\b(won'?t|doesn'?t|stuck|open|close)",
            r"puerta\s+(del|de\s+la|de)\s+(garaje|cochera)",
            r"\bcochera",
        ),
        generic=True,
    ),
)
_TRADE_WORDS = {
    Trade.PLUMBING: (
        r"\bplumb",
        r"\bre-?pip",
        r"\bplomer",
        r"\bfontaner",
        r"\bpipes?\b",
        r"\bsink\b",
        r"\bshower\b",
        r"\btub\b",
        r"\bbathroom\b",
        r"\bfregadero",
        r"\blavabo",
        r"\bregadera",
    ),
    Trade.ELECTRICAL: (r"\belectric", r"\belectricista", r"\belectrico", r"\bvolt", r"\bgenerator"),
    Trade.HVAC: (
        r"\bhvac\b",
        r"\bheating\b",
        r"\bcooling\b",
        r"\bair\s+handler",
        r"\bminisplit",
        r"\bmini[\s-]split",
        r"\bcalefaccion",
    ),
    Trade.LOCKSMITH: (r"\blocksmith", r"\bcerrajer", r"\block\b", r"\blocks\b", r"\bkeys?\b", r"\bllaves?\b"),
    Trade.GARAGE_DOOR: (r"\bgarage", r"\bgaraje", r"\bcochera"),
}


@dataclass(frozen=True)
class JobMatch:
    job_type: str | None
    trade: str | None
    label: str | None
    confidence: float


def detect_job_type(text: str, *, trades: list[str] | tuple[str, ...] = ()) -> JobMatch:
    """The most specific job type the text names, with a confidence in [0, 1].

    A job-type phrase scores 0.85 (+0.05 per extra phrase, at most 0.95); a bare trade word
    ("plumber", "locksmith") gives the trade at 0.6; a tie between trades is broken by the
    business's own trades. Nothing recognised is ``JobMatch(None, None, None, 0.0)``.
    """
    folded = fold(text)
    scored = []
    for order, job in enumerate(JOB_TYPES):
        hits = _any(job.patterns, folded)
        if hits:
            trade_bonus = 1 if job.trade in trades else 0
            scored.append((not job.generic, hits, trade_bonus, -order, job))
    if scored:
        scored.sort(key=lambda item: item[:4], reverse=True)
        hits, job = scored[0][1], scored[0][4]
        return JobMatch(job.key, str(job.trade), job.label, round(min(0.95, 0.8 + 0.05 * hits), 2))
    trade_hits = [
        (_any(patterns, folded), 1 if trade in trades else 0, trade) for trade, patterns in _TRADE_WORDS.items()
    ]
    trade_hits = [item for item in trade_hits if item[0]]
    if trade_hits:
        trade_hits.sort(key=lambda item: item[:2], reverse=True)
        return JobMatch(None, str(trade_hits[0][2]), None, 0.6)
    return JobMatch(None, None, None, 0.0)


# --- What the customer says is not the problem --------------------------------------------------
_DENIED_DANGER = re.compile(
    r"\b(no|not|doesn'?t|does\s+not|don'?t|do\s+not|isn'?t|nunca|sin)\s+(huele|huelo|smell|smells|smelling|hay|olor)"
    r"\s+(a\s+|like\s+|de\s+|any\s+|of\s+)?(gas|humo|smoke|quemado|burning)\b"
    # the danger as an adjective before its smell, or the danger itself, denied: "no burning smell",
    # "no gas odor", "no sparks", "sin chispas ni humo"
    r"|\b(no|not|never|without|sin|ni)\s+(any\s+)?(gas|smoke|burning|burnt|burned|electrical)\s+(smell|odou?r)s?\b"
    r"|\b(no|never|without|sin|ni)\s+(any\s+)?(sparks?|sparking|smoke|smoking|flames?|chisp\w*|humo|llamas?)\b"
)
_CLAUSE = re.compile(r"[,.;!?]+|\s+(?:y|and|but|pero)\s+")
_SAYS_FINE = re.compile(
    r"\b(esta|is|are|seems?|looks?|estan|parece)\s+(bien|fine|ok|okay|good)\b|\bworks?\s+fine\b|\bfunciona\s+bien\b"
    r"|\bnothing'?s?\s+wrong\s+with\b"
)
_ENDS_FINE = re.compile(r"\b(bien|fine|ok|okay|good)\s*$")  # "está bien duro" is "quite hard", not fine


# From here to the end of its clause the customer says what it is not: "no es la llave del lavabo
# ni el tubo", "it's not the faucet", "no gotea ni huele a nada", "la pastilla no está botada",
# "new batteries didn't help" (the batteries are not the job).
_DENIAL_FROM = re.compile(
    r"\b(no\s+es\s+(el|la|los|las|del|de)|ni\s+(el|la|los|las|huele|gotea)|(it'?s|its|it\s+is)\s+not\s+the"
    r"|isn'?t\s+the|not\s+the\s+\w+\s+(itself|either)"
    r"|(no|not|isn'?t|doesn'?t|does\s+not|ni)\s+(gotea|goteando|leaking|leak|leaks|dripping|drip)\b"
    # what the customer is done with is what goes, not what they want: "honestly done with smart locks"
    r"|done\s+with|sick\s+of|tired\s+of|fed\s+up\s+with|get\s+rid\s+of|hart[oa]s?\s+de|ya\s+no\s+quiero)"
)
_DENIED_CLAUSE = re.compile(
    r"\b(didn'?t|did\s+not|don'?t|doesn'?t)\s+(help|fix\s+it|do\s+anything)\b|\bno\s+(sirvio|ayudo|funciono)\s+(de\s+nada)?"
    r"|\b(no\s+esta|not|isn'?t|hasn'?t|wasn'?t|no\s+se\s+ha)\s+(botad[ao]|tripped|disparad[ao]|botado)\b"
    # a part the customer says is already new was checked, it is not the job: "el termostato es
    # nuevo", "the thermostat is brand new", "we just replaced the batteries"
    r"|\b(es|son|esta|estan|is|are|was|were)\s+(brand\s+|bien\s+|muy\s+)?(nuev[oa]s?|new)\s*$"
    r"|\b(just|recently|already)\s+(replaced|installed|put\s+in)\b|\bya\s+(cambie|cambiamos|reemplace|reemplazamos)\b"
    # a lockout denied: "no estoy encerrado ni nada", "i'm not locked out"
    r"|\b(no\s+estoy|no\s+estamos|not|i'?m\s+not|we'?re\s+not|am\s+not|aren'?t)\s+(encerrad[ao]s?|locked\s+(out|in))\b"
)


def without_denials(text: str) -> str:
    """``text`` without what the customer says is fine: "no huele a gas", "ya revisé la pastilla y
    está bien" (the breaker is not the job), or says is not the problem ("no es la llave del
    lavabo", "new batteries didn't help")."""
    folded = _DENIED_DANGER.sub(" ", fold(text))
    kept: list[str] = []
    for clause in (clause for clause in _CLAUSE.split(folded) if clause and clause.strip()):
        if _DENIED_CLAUSE.search(clause):
            continue
        denial = _DENIAL_FROM.search(clause)
        if denial:
            clause = clause[: denial.start()]
            if not clause.strip():
                continue
        if not (_SAYS_FINE.search(clause) and (_ENDS_FINE.search(clause) or "wrong" in clause)):
            kept.append(clause)
        elif len(_SAYS_FINE.sub(" ", clause).split()) < 2 and kept:
            kept.pop()  # "… revisé la pastilla y está bien": the clause before is what is fine
    return " , ".join(kept)


# --- Urgency and intent -------------------------------------------------------------------------
_EMERGENCY = (
    r"\bemergenc",
    r"\bflood",
    r"water\s+(is\s+)?everywhere",
    r"water\s+(is\s+)?pouring",
    r"\bburst",
    r"\b(split|cracked|burst|broke)\b[^.!?]*\b(spraying|gushing|pouring)\b",
    r"\bwater\s+(is\s+)?(spraying|gushing)",
    r"\b(spraying|gushing)\s+(water|everywhere)",
    r"\b(shut\s*off|valve)\b[^.!?]*\b(won'?t|wont|doesn'?t|will\s+not)\s+(close|turn|work|shut)",
    r"\bgas\s+(smell|leak)",
    r"\bsmell\s+gas\b",
    # water coming through a ceiling, whichever room's ("thru the kitchen ceiling"), or onto a light
    # or an outlet: water and electricity together
    r"water\s+(is\s+)?(coming|pouring|leaking|dripping|running)\s+(down\s+)?(thru|through|from|out\s+of)\s+"
    r"(the\s+|my\s+|our\s+)?(\w+\s+){0,2}ceiling",
    r"\b(light\s+fixtures?|lights?|outlets?|panel|breaker\s+box)\s+(is\s+|are\s+)?(all\s+)?(wet|soaked|dripping|full\s+of\s+water)\b",
    r"\bwater\s+(is\s+)?(in|into|on|inside|dripping\s+(on|into))\s+(the\s+|my\s+)?(light\s+fixture|lights?|outlets?|panel|breaker\s+box)",
    # what gas smells like: the odorant's rotten eggs, sulfur
    r"\brotten\s+eggs?\b",
    r"\b(sulfur|sulphur)\s+smell|\bsmells?\s+(like\s+)?(sulfur|sulphur)",
    r"\bhuevos?\s+podridos?\b",
    r"\b(huele|olor)\s+a\s+azufre\b",
    r"smells?\s+(like\s+)?gas",
    r"\bsparks?\b",
    r"\bsparking",
    r"\bsmok(e|ing)\b",
    r"\bon\s+fire\b",
    r"\bfire\b",
    r"burning\s+smell",
    r"smells?\s+like\s+(something\s+)?burning",
    r"carbon\s+monoxide",
    r"\bco\s+alarm",
    r"sewage\s+(is\s+)?(backing|coming)\s+up",
    r"(baby|toddler|infant|kid|kids|child|children|son|daughter|dog|pet)\s+(is\s+|are\s+)?(locked\s+)?in(side)?\s+the\s+car",
    r"\bemergencia",
    r"\binundacion",
    r"\binundando",
    r"\binundad[oa]",
    r"\bchisp(as|ita|itas|ea|eando|eo|azos?)\b",
    r"huele\s+a\s+gas",
    r"fuga\s+de\s+gas",
    r"huele\s+(muy\s+|bien\s+|bien\s+fuerte\s+|fuerte\s+)?(fuerte\s+)?a\s+gas",
    r"\bolor\s+a\s+gas",
    r"\b(cae|cayendo|sale|saliendo|escurre|escurriendo|gotea|goteando)\s+(mucha\s+)?agua\s+(del|por\s+el|desde\s+el)\s+techo",
    r"\bno\s+(encuentro|encontramos|hallo)\s+la\s+llave\s+de\s+paso",
    r"\bcan'?t\s+find\s+the\s+(main\s+)?(shut\s*off|valve)",
    r"\bhumo\b",
    r"\bhumito\b",
    r"\bse\s+(puso|quedo)\s+negr[oa]\b",
    r"\b(pipes?|tuberias?)\b[^.!?]*\b(gonna|going\s+to|about\s+to|could|will)\s+(freeze|burst)",
    r"\bincendio",
    r"\breventad[oa]",
    r"\bse\s+revento",
    r"olor\s+a\s+quemado",
    r"monoxido",
)
_URGENT = (
    r"\basap\b",
    r"as\s+soon\s+as\s+(possible|you\s+can)",
    r"\bright\s+away",
    r"\bimmediately",
    r"\burgent",
    r"\btoday\b",
    r"\btonight\b",
    r"\bright\s+now",
    r"\bquickly\b",
    r"\bno\s+hot\s+water",
    r"\bno\s+heat\b",
    r"\bno\s+power\b",
    r"\bnot\s+cooling",
    r"\bno\s+(ac|a/c|air)\b",
    r"locked\s+(myself\s+)?out",
    r"\bstuck\s+(open|closed|shut)",
    r"won'?t\s+(open|close|lock)",
    r"\bcan'?t\s+(get\s+in|get\s+out|open|close|lock)",
    r"\bleaking\b",
    r"\burgente",
    r"lo\s+(mas\s+)?antes\s+posible",
    r"\bcuanto\s+antes",
    r"\bhoy\b",
    r"\besta\s+noche",
    r"\bahora\s+mismo",
    r"\bsin\s+agua\s+caliente",
    r"\bsin\s+luz",
    r"\bsin\s+calefaccion",
    r"\bno\s+enfria",
    r"\bquede\s+afuera",
    r"\bme\s+quede\s+fuera",
    r"\bno\s+(abre|cierra)\b",
)
_PRICING = (
    r"how\s+much",
    r"\bprices?\b",
    r"\bpricing\b",
    r"\bcosts?\b",
    r"\bquote\b",
    r"\bestimate\b",
    r"\bcharge\b",
    r"\brates?\b",
    r"\bfees?\b",
    r"\bballpark\b",
    r"\bcuanto\s+(cuesta|cobran|sale|seria|cobra)",
    r"\bcuanto\s+(es\s+)?(por|x|para)\s+(un|una|el|la|los|las|abrir|cambiar|arreglar|instalar|hacer)\b",
    r"\bcuanto\s+(me\s+|nos\s+)?(va\s+a\s+|iria\s+a\s+)?(salir|costar|cobrar)",
    r"\bprecios?\b",
    r"\bcostos?\b",
    r"\bcotizacion",
    r"\bpresupuesto",
)
# Two prices asked against each other: "to fix it vs just replacing it", "tonight or Tuesday".
_PRICE_CONTRAST = re.compile(r"\b(vs\.?|versus|or|o|compared\s+(to|with)|instead\s+of|en\s+vez\s+de|contra)\b")
# When the emergency rate is what a price depends on: tonight, right now, after hours.
_PRICE_OUT_OF_HOURS = re.compile(
    r"\b(tonight|right\s+now|after\s+hours|emergency|overnight|esta\s+noche|ahorita|ahora\s+mismo"
    r"|fuera\s+de\s+horario|emergencia|de\s+urgencia|en\s+la\s+madrugada)\b"
)


def price_questions(text: str) -> list[str]:
    """The sentences of ``text`` that each ask a price ("¿cuánto cobran por un resorte? y ¿cuánto
    sale el mantenimiento?": two), when there are several; else ``[]``."""
    asked = [part for part in re.split(r"[?.!¿¡]+", text) if _any(_PRICING, fold(part))]
    return asked if len(asked) > 1 else []


def contrasts_prices(text: str) -> bool:
    return bool(_any(_PRICING, fold(text)) and _PRICE_CONTRAST.search(fold(text)))


def asks_out_of_hours_price(text: str) -> bool:
    """A price asked for a visit tonight or right now ("how much if someone comes tonight vs Tuesday?")."""
    return bool(_any(_PRICING, fold(text)) and _PRICE_OUT_OF_HOURS.search(fold(text)))


_APPOINTMENT = (
    r"\bappointment",
    r"\bschedul",
    r"\bbook\b",
    r"\bcome\s+(out|by|over|take)",
    r"\bsend\s+(someone|somebody|a\s+tech)",
    r"\bneed\s+(someone|somebody|a\s+|an\s+|help|my|to\s+get)",
    r"\bcan\s+you\s+(come|fix|help|look|send|install|replace|repair)",
    r"\b(fix|fixed|repair|install|installed|replace|replacing|installing)\b",
    r"\bavailab",
    r"\bcita\b",
    r"\bagendar",
    r"\bprogramar",
    r"\bvenir",
    r"\bvengan?\b",
    r"\bnecesito\b",
    r"\breparar",
    r"\barreglar",
    r"\binstalar",
    r"\bcambiar\b",
)


_NOT_URGENT = (
    r"\b(not|isn'?t|no)\s+(urgent|an\s+emergency|a\s+rush)\b|\bno\s+rush\b|\bno\s+es\s+(urgente|una\s+emergencia)\b"
)


# A danger named as what a routine visit checks is not one happening: "a carbon monoxide inspection
# before closing", "gas line pressure test", "revisión de monóxido". (An alarm going off is.)
_ROUTINE_CHECK = re.compile(
    r"\b(carbon\s+monoxide|co|gas(\s+line)?|gas\s+leak|smoke|monoxido(\s+de\s+carbono)?)"
    r"\s+(safety\s+|pressure\s+|leak\s+)?(inspections?|check(-?ups?)?|tests?|testing|certificat\w*)\b"
    r"|\b(inspeccion|revision|prueba)\s+de\s+(gas|monoxido(\s+de\s+carbono)?)\b"
)


def detect_urgency(text: str) -> tuple[str, float]:
    """``("emergency" | "urgent" | "normal", confidence)``; "not urgent" and "no rush" are normal."""
    folded = _ROUTINE_CHECK.sub(" ", re.sub(_NOT_URGENT, " ", fold(text)))
    emergency_hits = _any(_EMERGENCY, folded)
    if emergency_hits:
        return "emergency", round(min(0.95, 0.8 + 0.05 * emergency_hits), 2)
    urgent_hits = _any(_URGENT, folded)
    if urgent_hits:
        return "urgent", round(min(0.9, 0.7 + 0.05 * urgent_hits), 2)
    return "normal", 0.6


def detect_intent(text: str, *, urgency: str | None = None, job: JobMatch | None = None) -> tuple[str, float]:
    """``(intent, confidence)``: emergency, then pricing, then appointment, else general.

    A message naming a job ("my toilet is clogged") is an appointment request even without the
    word "appointment": that is what a missed caller texting back means.
    """
    folded = fold(text)
    urgency = urgency or detect_urgency(text)[0]
    if urgency == "emergency":
        return "emergency", 0.9
    if _any(_PRICING, fold(" ".join(_common_words(text)))):  # "This is Owen Price" asks no price
        return "pricing", 0.85
    appointment_hits = _any(_APPOINTMENT, folded)
    job = job or detect_job_type(text)
    if appointment_hits or job.trade:
        return "appointment", round(min(0.9, 0.6 + 0.1 * appointment_hits + (0.1 if job.job_type else 0)), 2)
    return "general", 0.5


def seed_intent_key(intent: str) -> str:
    """Seed 000's template keys for our intents."""
    return {
        "appointment": "appointment_request",
        "pricing": "pricing_inquiry",
        "emergency": "emergency",
    }.get(intent, "general_inquiry")


# --- Confirmation -------------------------------------------------------------------------------
_CONFIRM = (
    r"^\s*(yes|yeah|yep|yup|ya|sure|ok|okay|k|kk|bet|awesome|sweet|perfect|great|confirm(ed)?|correct|absolutely|definitely|please\s+do|do\s+it|book\s+it)\b",
    r"\bsounds\s+(good|great|perfect|fine)",
    r"\bthat\s+(works|is\s+fine|'?s\s+fine|'?s\s+perfect|would\s+work|time\s+works)",
    r"\bworks\s+for\s+me",
    r"\bsee\s+you\s+then",
    r"\blet'?s\s+do\s+(it|that)",
    r"\bi'?ll\s+take\s+it",
    r"^\s*(si|claro|vale|perfecto|bueno|de\s+acuerdo|correcto|confirmo|esta\s+bien|okey)\b",
    r"\bme\s+(parece\s+bien|sirve|funciona|queda\s+bien)",
    r"\bnos\s+vemos",
    r"^\s*(👍|👌|✅|🙏|💯)",
    r"^\s*(fine|alright|all\s+right|works|cool|deal|go\s+ahead|that'?ll\s+do|no\s+prob(lem)?|lock\s+it\s+in)\b",
    r"^\s*(dale|va|sale|orale|andale|listo|perfecta|con\s+gusto|simon|sip|sipi|aja)\b",
    r"^\s*(say\s+less|for\s+sure|yessir|yes\s+sir|sounds\s+like\s+a\s+plan|bet)\b",
)
_REJECT = (
    r"^\s*(no|nope|nah|negative)\s*[.!,]*\s*$",
    r"^\s*(no|nope|nah)\s*[,.!-]",
    r"^\s*no\s+(thanks|thank\s+you|gracias|puedo|me\s+sirve|me\s+funciona)\b",
    r"\b(another|different|other|later|earlier)\s+(time|day|slot)",
    r"\b(does|do|would|will)\s*(n'?t|\s+not)\s+work",
    r"\bcan'?t\s+(make\s+it|do\s+(that|then|it))",
    r"\bcannot\s+(make\s+it|do\s+(that|then|it))",
    r"\bnot\s+(available|free|home)\s+(then|at\s+that)",
    r"\bwon'?t\s+be\s+(home|there|available)",
    r"\botro\s+(dia|horario)",
    r"\botra\s+(hora|fecha)",
    r"\bno\s+puedo",
    r"\bno\s+me\s+(sirve|funciona|queda)",
    r"\bmas\s+tarde\b",
)


def detect_confirmation(text: str) -> str | None:
    """``"confirmed"``, ``"rejected"`` or ``None`` for a reply to a proposed slot.

    Rejection is checked first: "no, another time works better" rejects even though it says
    "works"; "no hot water" is not a rejection (only a bare or punctuated "no" is).
    """
    folded = fold(text)
    if _any(_REJECT, folded):
        return "rejected"
    if _any(_CONFIRM, folded):
        return "confirmed"
    # A yes after the name or a greeting ("Soy Yesenia Correa, sí vengan ya"): a clause that opens with one.
    clauses = _CONFIRM_CLAUSE_BREAK.split(folded)[1:]
    if clauses and _CONFIRM_AT_A_CLAUSE.search("\n".join(clauses)):
        return "confirmed"
    # The day said back with the yes: "el martes está bien", "tuesday works" (whether it is the
    # proposed day is the engine's check, ``yes_with_a_condition``).
    without_day = _LEADING_DAY.sub("", folded, count=1)
    if without_day != folded and _any(_CONFIRM, without_day):
        return "confirmed"
    return None


_CONFIRM_CLAUSE_BREAK = re.compile(r"[,;.!]+[^\S\n]*")
_CONFIRM_AT_A_CLAUSE = re.compile("|".join(f"(?:{pattern})" for pattern in _CONFIRM), re.MULTILINE)


# --- Names --------------------------------------------------------------------------------------
_NAME_WORD = r"[A-Z][a-zA-Z'\-áéíóúñÁÉÍÓÚÑ]+"
# Surnames with particles ("Rosa María de la Garza", "Ludwig van der Berg") and two surnames
# ("José Luis Hernández Ortega"): up to four name words, a particle only between two of them.
_NAME_PARTICLE = r"(?:de(?:\s+l[ao]s?)?|del|van(?:\s+der|\s+den)?|von|da|das|dos|di|du|le)"
_NAME_PARTICLES = frozenset(
    ["de", "del", "la", "las", "los", "van", "der", "den", "von", "da", "das", "dos", "di", "du", "le"]
)
_FULL_NAME = rf"{_NAME_WORD}(?:\s+(?:{_NAME_PARTICLE}\s+)?{_NAME_WORD}){{0,3}}"
_NAME_PATTERNS = (
    rf"(?i:\bmy\s+name\s+is)\s+(?P<name>{_FULL_NAME})",
    rf"(?i:\bname'?s)\s+(?P<name>{_FULL_NAME})",
    rf"(?i:\bthis\s+is)\s+(?P<name>{_FULL_NAME})",
    rf"\b[Ii]\s*'?\s*a?m\s+(?P<name>{_FULL_NAME})",
    rf"(?i:\bit'?s)\s+(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD})?)\s+(?i:here|btw|by\s+the\s+way)\b",
    rf"^(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD})?)\s+here\b",
    rf"(?i:\bme\s+llamo)\s+(?P<name>{_FULL_NAME})",
    rf"(?i:\bmi\s+nombre\s+es)\s+(?P<name>{_FULL_NAME})",
    rf"(?i:\bsoy)\s+(?P<name>{_FULL_NAME})",
    rf"^[Nn]ame\s*[:\-]\s*(?P<name>{_FULL_NAME})",
    # the name a booking is under: "a nombre de Gloria Téllez", "put it under Dana Wu"
    rf"(?i:\ba\s+nombre\s+de|\bunder\s+(?:the\s+name\s+(?:of\s+)?)?)\s*(?P<name>{_FULL_NAME})",
    # the name said on its own at the end: "and it's Beth Sorensen"
    rf"(?i:\bit'?s)\s+(?P<name>{_NAME_WORD}(?:\s+(?:{_NAME_PARTICLE}\s+)?{_NAME_WORD}){{1,3}})\s*[.!]*\s*$",
    # "Maria Lopez, 1420 W Fullerton Ave" (after a "Sure -"): two to four capitalised words, a comma,
    # a street number.
    rf"^\s*(?:(?i:sure|yes|yeah|yep|ok|okay|si|sí|claro|hi|hello|hola)\b[\s,:!.\-–—]*)?"
    rf"(?P<name>{_NAME_WORD}(?:\s+(?:{_NAME_PARTICLE}\s+)?{_NAME_WORD}){{1,3}})\s*,\s*\d",
)
# "Tom Kowalski 3342 N Paulina St": the name and the address with nothing between them, the whole text
# opening with the name (checked: a street address must start right after it).
_NAME_THEN_ADDRESS = re.compile(
    rf"^\s*(?:(?i:sure|yes|yeah|yep|ok|okay|si|sí|claro|hi|hello|hola)\b[\s,:!.\-–—]*)?"
    rf"(?P<name>(?:{_NAME_WORD}|{{lower}})(?:\s+(?:{_NAME_PARTICLE}\s+)?(?:{_NAME_WORD}|{{lower}})){{{{1,3}}}})\s+(?=\d)"
)
_NOT_NAMES = frozenset(
    [
        "it's",
        "its",
        "a",
        "an",
        "the",
        "in",
        "at",
        "on",
        "locked",
        "out",
        "having",
        "home",
        "not",
        "here",
        "there",
        "so",
        "very",
        "just",
        "calling",
        "looking",
        "texting",
        "trying",
        "available",
        "free",
        "interested",
        "sorry",
        "good",
        "fine",
        "ok",
        "okay",
        "sure",
        "from",
        "with",
        "your",
        "new",
        "having",
        "outside",
        "inside",
        "stuck",
        "going",
        "about",
        "currently",
        "still",
        "wondering",
        "hoping",
        "needing",
        "getting",
        "unable",
        "able",
        "afraid",
        "worried",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "today",
        "tomorrow",
    ]
)
_STREET_WORDS = frozenset(
    [
        "street",
        "st",
        "avenue",
        "ave",
        "road",
        "rd",
        "drive",
        "dr",
        "lane",
        "ln",
        "court",
        "ct",
        "way",
        "blvd",
        "boulevard",
    ]
)


# People who text in lower case still say who they are: "soy guadalupe reyes vivo en …",
# "its mary-kate o'donnell, 2124 n dayton st" (an "it's" only when the address follows the name).
_LOWER_NAME_WORD = r"[a-záéíóúñ][a-záéíóúñ'\-]+"
_LOWER_FULL_NAME = rf"{_LOWER_NAME_WORD}(?:\s+(?:{_NAME_PARTICLE}\s+)?{_LOWER_NAME_WORD}){{0,3}}"
_NAME_THEN_ADDRESS = re.compile(_NAME_THEN_ADDRESS.pattern.format(lower=_LOWER_NAME_WORD))
_LOWER_CASE_NAME = re.compile(
    rf"\b(?:soy|me\s+llamo|mi\s+nombre\s+es|(?:my\s+)?name\s+is|name'?s)\s+(?P<name>{_LOWER_FULL_NAME})"
    rf"|\b(?:it'?s|this\s+is)\s+(?P<before_address>{_LOWER_FULL_NAME})\s*,\s*\d"
)


def _name_cased(word: str) -> str:
    """ "mary-kate" → "Mary-Kate", "o'donnell" → "O'Donnell"; particles stay lower case."""
    if word in _NAME_PARTICLES:
        return word
    return "-".join("'".join(part[:1].upper() + part[1:] for part in piece.split("'")) for piece in word.split("-"))


def _name_words(words: list[str], *, stops: frozenset) -> list[str]:
    """The name in ``words`` up to the first word that is not one; a particle only between two name
    words ("rosa maría de la garza", not "soy de chicago")."""
    kept: list[str] = []
    particles: list[str] = []
    for word in words:
        lowered = word.lower()
        if lowered in _NAME_PARTICLES:
            if not kept:
                break
            particles.append(lowered)
            continue
        if lowered in _NOT_NAMES or lowered in _STREET_WORDS or lowered in stops:
            break
        kept.extend(particles)
        particles = []
        kept.append(word)
    return kept


def extract_name(text: str) -> str | None:
    found = _capitalised_name(text)
    if found:
        return found
    match = _LOWER_CASE_NAME.search(text)
    if match and not (match.group("before_address") and not _ADDRESS.match(text, match.end() - 1)):
        kept = _name_words((match.group("name") or match.group("before_address")).split(), stops=_LOWER_CASE_STOPS)
        # one lower-case word is too often not a name
        return " ".join(_name_cased(word) for word in kept) if len(kept) >= 2 else None
    before = _NAME_THEN_ADDRESS.match(text)
    if before and _ADDRESS.match(text, before.end()):
        words = before.group("name").split()
        kept = _name_words(words, stops=_LOWER_CASE_STOPS)
        # "water heater 123 Main St" names the job, not the customer
        if len(kept) == len(words) and not any(_is_vocabulary_word(word) for word in kept):
            return " ".join(word if word[:1].isupper() else _name_cased(word) for word in kept)
    return None


def _is_vocabulary_word(word: str) -> bool:
    folded = fold(word)
    return folded in vocabulary.WORDS or folded in vocabulary.STOP_WORDS


_LOWER_CASE_STOPS = frozenset(
    [
        "vivo",
        "y",
        "en",
        "de",
        "del",
        "la",
        "el",
        "los",
        "las",
        "from",
        "at",
        "and",
        "in",
        "on",
        "my",
        "mi",
        "con",
        "por",
        "para",
        "que",
        "es",
        "esta",
        "estoy",
        "aqui",
    ]
)


def _capitalised_name(text: str) -> str | None:
    for pattern in _NAME_PATTERNS:
        match = re.search(pattern, text)
        if not match:
            continue
        kept = _name_words(match.group("name").split(), stops=frozenset())
        if kept:
            return " ".join(kept)
    return None


# --- Addresses ----------------------------------------------------------------------------------
_STREET_TYPES = (
    r"street|st|avenue|ave|av|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|way|place|pl|terrace|ter|"
    r"parkway|pkwy|circle|cir|highway|hwy|trail|trl|square|sq|loop|row|pike|alley|plaza"
)
_ADDRESS = re.compile(
    r"\b(?P<number>\d{1,6}[A-Za-z]?)\s+"
    r"(?P<street>(?:[NSEWnsew]\.?\s+)?(?:[A-Za-z0-9][\w'.\-]*\s+){0,4}?(?:" + _STREET_TYPES + r"))\.?"
    r"(?P<unit>,?\s*(?:(?:apartment|departamento|apto|apt|depto|dept|unit|suite|ste|interior|int)\b|#)\.?\s*[\w\-]+)?"
    # Then "City, ST 12345", "City ST", "ST 12345", "City 12345" or "12345"; the state must be
    # upper case, or "123 Main St and my toilet is clogged" would end in the state "is".
    r"(?:,?\s+(?P<city>[A-Za-z][A-Za-z .'\-]{1,40}?),?\s+(?P<state>(?-i:[A-Z]{2}))(?:,?\s+(?P<zip>\d{5})(?:-\d{4})?)?"
    r"|(?:,?\s+(?P<city2>[A-Za-z][A-Za-z .'\-]{1,40}?))?,?\s+(?P<zip2>\d{5})(?:-\d{4})?)?"
    r"(?=$|[\s,.!?;])",
    re.IGNORECASE,
)
_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")
# "..., Galveston TX 77550" a little after a street the pattern above ended early ("Broadway Ave J").
_LOCALITY = re.compile(
    r"^[^,]{0,12},\s*(?P<city>[A-Za-z][A-Za-z .'\-]{1,40}?),?\s+(?P<state>[A-Z]{2})(?:,?\s+(?P<zip>\d{5})(?:-\d{4})?)?\b"
)


@dataclass(frozen=True)
class Address:
    text: str
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None


# Between two addresses of one text, a word that takes the first back: "12 Crestline Dr? no sorry 112 …".
_ADDRESS_CORRECTION = re.compile(
    r"\b(no|nope|sorry|oops|actually|i\s+mean|i\s+meant|correction|perdon|perd[oó]n|digo|mejor\s+dicho|"
    r"quise\s+decir|es|its|it'?s)\b",
    re.IGNORECASE,
)
# A street named without its type ("845 N Broadway") is told from its city by the ZIP code's city.
_UNTYPED_STREET = re.compile(
    r"\b(?P<number>\d{1,6})\s+(?P<rest>(?:[NSEWnsew]\.?\s+)?[A-Za-z][\w'.\-]*(?:[\s,]+[A-Za-z][\w'.\-]*){1,6}?)"
    r",?\s+(?:(?P<state>(?-i:[A-Z]{2}))\s+)?(?P<zip>\d{5})(?:-\d{4})?\b"
)


def _untyped_street(text: str) -> Address | None:
    import zipcodes  # its table loads on first use: only for an address the pattern above did not read

    match = _UNTYPED_STREET.search(text)
    if not match:
        return None
    try:
        rows = zipcodes.matching(match.group("zip"))
    except (TypeError, ValueError):
        return None
    if not rows:
        return None
    city = rows[0]["city"]
    rest = match.group("rest").rstrip(" ,")
    if not fold(rest).endswith(fold(city)) or len(rest) <= len(city):
        return None
    street = f"{match.group('number')} {rest[: -len(city)].rstrip(' ,')}"
    state, zip_code = match.group("state"), match.group("zip")
    region = " ".join(part for part in (state, zip_code) if part)
    return Address(f"{street}, {city}, {region}", street=street, city=city, state=state, zip_code=zip_code)


def extract_address(text: str) -> Address | None:
    """A US street address ("1420 W Fullerton Ave, Chicago IL 60614"), or a bare ZIP code. Of two
    addresses, the second when the customer takes the first back ("12 Crestline Dr? no sorry 112 …")."""
    matches = list(_ADDRESS.finditer(text))
    match = matches[0] if matches else None
    for later in matches[1:]:
        if _ADDRESS_CORRECTION.search(text, match.end(), later.start()):
            match = later
    if match is None and _ZIP.search(text):
        untyped = _untyped_street(text)
        if untyped:
            return untyped
    if match:
        street = f"{match.group('number')} {match.group('street')}".strip()
        unit = (match.group("unit") or "").strip(" ,")
        city = (match.group("city") or match.group("city2") or "").strip(" ,.") or None
        state = match.group("state")
        zip_code = match.group("zip") or match.group("zip2")
        later = None if city or state or zip_code else _LOCALITY.match(text[match.end() :])
        if later:
            street = f"{street}{text[match.end() : match.end() + later.start('city')].split(',')[0]}".strip()
            city, state, zip_code = later.group("city").strip(" ,."), later.group("state"), later.group("zip")
        pieces = [street + (f" {unit}" if unit else "")]
        if city:
            pieces.append(city)
        if state or zip_code:
            pieces.append(" ".join(part for part in (state, zip_code) if part))
        return Address(", ".join(pieces), street=street, city=city, state=state, zip_code=zip_code)
    for zip_match in _ZIP.finditer(text):
        after = text[zip_match.end() : zip_match.end() + 20].lower()
        if re.match(r"\s+(" + _STREET_TYPES + r"|[a-z]+\s+(" + _STREET_TYPES + r"))\b", after):
            continue
        return Address(zip_match.group(0), zip_code=zip_match.group(1))
    return None


# The rest of an address sent in a later text: "apt 3R, chicago 60614".
_ADDRESS_PIECES = re.compile(
    r"^\W*(?:(?:and|y)\s+)?(?P<unit>(?:(?:apartment|departamento|apto|apt|depto|dept|unit|suite|ste|interior|int)\b|#)"
    r"\.?\s*[\w\-]+)?[\s,]*(?P<city>[A-Za-z][A-Za-z .'\-]{1,40}?)??,?\s*(?P<state>(?-i:[A-Z]{2}))?,?\s*"
    r"(?P<zip>\d{5})?(?:-\d{4})?[\s.!]*$",
    re.IGNORECASE,
)


def _with_pieces(address: Address, *, unit: str = "", city=None, state=None, zip_code=None) -> Address:
    street = address.street or ""
    if unit:
        street = f"{street} {unit}"
    city, state, zip_code = city or address.city, state or address.state, zip_code or address.zip_code
    pieces = [street]
    if city:
        pieces.append(city)
    if state or zip_code:
        pieces.append(" ".join(part for part in (state, zip_code) if part))
    return Address(", ".join(pieces), street=street, city=city, state=state, zip_code=zip_code)


def _corrected_number(address: Address, text: str) -> Address | None:
    """ "sorry typo, its 1420 ridgeland not 1240": the same street with another house number."""
    number, _, rest = (address.street or "").partition(" ")
    words = [word for word in rest.split() if word.lower().strip(".") not in {"n", "s", "e", "w"}]
    if not words:
        return None
    match = re.search(rf"\b(\d{{1,6}})\s+(?:[NSEWnsew]\.?\s+)?{re.escape(words[0])}\b", text, re.IGNORECASE)
    if not match or match.group(1) == number:
        return None
    street = f"{match.group(1)} {rest}"
    return Address(
        address.text.replace(address.street, street, 1),
        street=street,
        city=address.city,
        state=address.state,
        zip_code=address.zip_code,
    )


def conversation_address(texts: list[str]) -> Address | None:
    """The service address of a conversation (``texts`` newest first): the newest street address, as
    the texts after it complete it ("1600 W Fullerton Ave", then "apt 3R, chicago 60614") or correct
    its house number; with no street, the newest ZIP code."""
    found = [extract_address(text) for text in texts]
    newest = next((index for index, address in enumerate(found) if address and address.street), None)
    if newest is None:
        return next((address for address in found if address), None)
    address = found[newest]
    for index in range(newest - 1, -1, -1):  # the later texts, oldest first
        text = texts[index]
        corrected = _corrected_number(address, text)
        if corrected:
            address = corrected
            continue
        pieces = _ADDRESS_PIECES.match(text)
        if pieces and (pieces.group("unit") or pieces.group("zip")):
            address = _with_pieces(
                address,
                unit=(pieces.group("unit") or "").strip(" ,"),
                city=(pieces.group("city") or "").strip(" ,.").title() or None,
                state=pieces.group("state"),
                zip_code=pieces.group("zip"),
            )
        elif found[index] and found[index].zip_code:
            address = _with_pieces(address, zip_code=found[index].zip_code)
    return address


# --- Time preferences ---------------------------------------------------------------------------
WEEKDAY_NAMES = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "lunes": 0,
    "martes": 1,
    "miercoles": 2,
    "jueves": 3,
    "viernes": 4,
    "sabado": 5,
    "domingo": 6,
}
DAY_PARTS = {"morning": (time(7), time(12)), "afternoon": (time(12), time(17)), "evening": (time(17), time(21))}


@dataclass
class TimePreference:
    """What the customer asked for, resolved against "now" in the business's time zone.

    ``date`` pins a day, ``weekday`` a day of the week, ``after``/``before`` bound the local time of
    day, ``latest_start`` is the last start that will do ("9 or 10": from 9 to 10), ``at`` asks for a
    time; ``asap`` wants the earliest slot; ``flexible`` says any time will do.
    """

    raw: str = ""
    asap: bool = False
    flexible: bool = False
    date: date | None = None
    weekday: int | None = None
    earliest_date: date | None = None
    after: time | None = None
    before: time | None = None
    latest_start: time | None = None
    at: time | None = None
    day_part: str | None = None
    excluded_weekdays: tuple[int, ...] = ()  # "not Monday", "entre semana" (no Saturday or Sunday)
    matched: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.matched

    def as_dict(self) -> dict:
        return {
            "raw": self.raw,
            "asap": self.asap,
            "flexible": self.flexible,
            "date": self.date.isoformat() if self.date else None,
            "weekday": self.weekday,
            "earliest_date": self.earliest_date.isoformat() if self.earliest_date else None,
            "after": self.after.strftime("%H:%M") if self.after else None,
            "before": self.before.strftime("%H:%M") if self.before else None,
            "latest_start": self.latest_start.strftime("%H:%M") if self.latest_start else None,
            "at": self.at.strftime("%H:%M") if self.at else None,
            "day_part": self.day_part,
            "excluded_weekdays": list(self.excluded_weekdays),
        }


_CLOCK = r"(?P<h>\d{1,2})(?::(?P<m>[0-5]\d))?\s*(?P<ampm>a\.?\s?m\.?|p\.?\s?m\.?|am|pm)?"


def _clock(match: re.Match, *, prefer_pm: bool = True, suffix: str = "", ampm: str = "") -> time | None:
    hour = int(match.group("h" + suffix))
    minute = int(match.group("m" + suffix) or 0)
    ampm = (match.group("ampm" + suffix) or ampm).replace(".", "").replace(" ", "")
    if hour > 23:
        return None
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    elif not ampm and prefer_pm and 1 <= hour <= 6:
        # "after 3" from a customer booking a home visit means 3 pm.
        hour += 12
    return time(hour, minute)


# "Not before 10" is "after 10": the negation turns a bound around.
_NEGATED_BOUND_MEANS = {"before": "after", "after": "before", "antes de": "despues de", "despues de": "antes de"}
_NEGATED_BOUNDS = re.compile(r"\b(?:not|no)\s+(before|after|antes\s+de|despues\s+de)\b")
# "No llego a la casa antes de las 11", "won't be home before 11": the customer is there after 11.
_NOT_THERE_BEFORE = re.compile(
    r"\b(?:no\s+(?:llego|llegamos|estoy|estamos|voy\s+a\s+estar|vamos\s+a\s+estar)|(?:won'?t|wont|will\s+not)\s+be"
    r"|(?:i'?m|we'?re|im|were)\s+not|(?:can'?t|cant)\s+(?:be|get))\b(?P<where>[^.,;!?]{0,25}?)\s(?P<bound>before|antes\s+de)\b"
)


# Two hours offered as alternatives ("like 9 or 10", "a las 9 o 10", a reply "9 or 10?"): a start
# from the first to the second. Said after a word for a time or opening the text, and not a count
# ("2 or 3 days").
_ALTERNATIVE_HOURS = re.compile(
    r"(?:^|\b(?:at|around|about|like|maybe|say|a\s+las?|como\s+a\s+las?|tipo|sobre\s+las?)\s+)\s*"
    + _CLOCK
    + r"\s+(?:or|o|u)\s+(?:at\s+|a\s+las?\s+)?"
    + _CLOCK.replace("(?P<h>", "(?P<h2>").replace("(?P<m>", "(?P<m2>").replace("(?P<ampm>", "(?P<ampm2>")
    + r"(?![\d:])(?!\s*(?:days?|weeks?|months?|years?|hours?|hrs?|mins?|minutes?|times|people|dias|semanas|meses"
    r"|anos|horas|minutos|veces|personas)\b)"
)


def _alternative_hours(folded: str) -> tuple[time, time] | None:
    """The first and the last start of "9 or 10", "a las 3 o 4" (a pm said once is said for both)."""
    found = _ALTERNATIVE_HOURS.search(folded)
    if found is None:
        return None
    first = _clock(found, ampm=found.group("ampm2") or "")
    second = _clock(found, suffix="2", ampm=found.group("ampm") or "")
    if first is None or second is None or first == second:
        return None
    return min(first, second), max(first, second)


_DAY_NAMES = "|".join(sorted(WEEKDAY_NAMES, key=len, reverse=True))
_LEADING_DAY = re.compile(rf"^\s*(el|on|the|this|este)?\s*({_DAY_NAMES}|tomorrow|manana|today|hoy)\b[\s,]*")
_NOT_ON_DAY = re.compile(
    # "o si no el sábado", "if not Saturday" offer Saturday instead
    rf"\b(?<!si |if )(?:not|no|except|excepto|menos|never|anything\s+but|any\s+day\s+but|any\s*time\s+but)\s+(?:on\s+)?"
    rf"(?:a\s+|el\s+|los\s+)?(?P<day>{_DAY_NAMES})s?\b"
    rf"|\b(?:el\s+|los\s+)?(?P<day2>{_DAY_NAMES})s?\s+(?:no\s+(?:puedo|podemos|me\s+queda|nos\s+queda)|me\s+toca\s+trabajar|trabajo|tengo\s+trabajo)\b"
    rf"|\b(?:i|we)\s+work\s+(?:on\s+)?(?P<day3>{_DAY_NAMES})s\b"
)
_WEEKDAYS_ONLY = re.compile(
    r"\b(entre\s+semana|weekdays?|during\s+the\s+week|de\s+lunes\s+a\s+viernes|monday\s+(through|thru|to)\s+friday)\b"
)
_AFTER_LUNCH = re.compile(r"\bafter\s+lunch\b|\bdespues\s+(de|del)\s+(almuerzo|comer|la\s+comida)\b")
_BEFORE_LUNCH = re.compile(r"\bbefore\s+lunch\b|\bantes\s+(de|del)\s+(almuerzo|comer|la\s+comida)\b")
LUNCH_ENDS = time(13)
_CORRECTION = re.compile(r"\b(instead|rather|scratch\s+that|actually|how\s+about|mejor|en\s+vez|en\s+lugar|entonces)\b")
# A part of the day the customer is not there for ("en la mañana no estoy", "can't do mornings").
_NOT_IN_DAY_PART = re.compile(
    r"\b(?:en|por)\s+la\s+(?P<es>manana|tarde|noche)\s+no\s+(?:estoy|puedo|hay\s+nadie|podemos)\b"
    r"|\b(?:not|no|can'?t\s+do|cannot\s+do)\s+(?:in\s+the\s+)?(?P<en>morning|afternoon|evening)s?\b"
)
_DAY_PART_NAMES = {"manana": "morning", "tarde": "afternoon", "noche": "evening"}
# A calendar date the customer names ("December 12", "el 15 de diciembre", "12/18", "the 15th"), read
# by dateparser; only texts that look like they hold one are given to it (it finds dates in "now").
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|"
    "jul|aug|sept|sep|oct|nov|dec|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|"
    "noviembre|diciembre"
)
_LOOKS_LIKE_A_DATE = re.compile(
    rf"\b({_MONTHS})\.?\s+\d{{1,2}}(st|nd|rd|th)?\b|\b\d{{1,2}}(st|nd|rd|th)?\s+(of\s+|de\s+)?({_MONTHS})\b"
    r"|\b\d{1,2}/\d{1,2}\b(?!\s*(inch|in\b|\"|-inch))|\bthe\s+\d{1,2}(st|nd|rd|th)\b"
)


_DAY_OF_MONTH = re.compile(r"\b(?:the|el\s+dia|el)\s+(\d{1,2})(?:st|nd|rd|th)?\b(?!\s*(?:de|of)\s)")


def _calendar_date(folded: str, now: datetime) -> date | None:
    found = _LOOKS_LIKE_A_DATE.search(folded)
    if not found:
        return None
    day_only = _DAY_OF_MONTH.fullmatch(found.group(0).strip())
    if day_only:  # "the 8th": this month's, or next month's once it has passed (dateparser reads a month)
        day, today = int(day_only.group(1)), now.date()
        for months_ahead in (0, 1, 2):
            month = (today.month - 1 + months_ahead) % 12 + 1
            year = today.year + (today.month - 1 + months_ahead) // 12
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
        return None
    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": now.replace(tzinfo=None), "DATE_ORDER": "MDY"}
    results = search_dates(found.group(0), languages=["en", "es"], settings=settings) or []
    return results[0][1].date() if results else None


_calendar_date("december 12", datetime(2026, 1, 1))  # dateparser's first search loads its data (~0.25 s)


def weekdays_named(text: str) -> list[int]:
    """The days of the week ``text`` names, in order."""
    return [
        WEEKDAY_NAMES[match.group(1)] for match in re.finditer(rf"\b({_DAY_NAMES})\b", _NOT_ON_DAY.sub(" ", fold(text)))
    ]


def says_am_or_pm(text: str) -> bool:
    """Whether ``text`` puts a clock time in the morning or the afternoon itself ("7pm", "7 a.m.")."""
    return re.search(r"\d\s*(?:a\.?\s?m|p\.?\s?m)\b", fold(text)) is not None


def parse_time_preference(text: str, *, now: datetime) -> TimePreference:
    """Parse "after 3pm", "tomorrow morning", "Saturday", "asap", "next Tuesday at 10" (and Spanish).

    ``now`` must be aware and in the business's time zone: "tomorrow" is the business's tomorrow.
    """
    folded = _NEGATED_BOUNDS.sub(lambda match: _NEGATED_BOUND_MEANS[match.group(1)], fold(text))
    folded = _NOT_THERE_BEFORE.sub(
        lambda match: f"{match.group('where')} {'after' if match.group('bound') == 'before' else 'despues de'}", folded
    )
    today = now.date()
    pref = TimePreference(raw=text.strip())

    def hit(label: str):
        pref.matched.append(label)

    if re.search(
        r"\basap\b|as\s+soon\s+as\s+(possible|you\s+can)|\bright\s+(away|now)|\bimmediately|\bcuanto\s+antes|lo\s+(mas\s+)?antes\s+posible|\bahora\s+mismo|\bya\s+mismo",
        folded,
    ):
        pref.asap = True
        hit("asap")
    if re.search(r"\b(any\s*time|whenever|flexible|no\s+rush|cualquier\s+(dia|hora|momento))\b", folded):
        pref.flexible = True
        hit("flexible")

    # Days the customer cannot do, taken out before the days they can ("not Monday", "el jueves no puedo").
    excluded = {
        WEEKDAY_NAMES[match.group("day") or match.group("day2") or match.group("day3")]
        for match in _NOT_ON_DAY.finditer(folded)
    }
    folded = _NOT_ON_DAY.sub(" ", folded)
    if _WEEKDAYS_ONLY.search(folded):
        excluded |= {5, 6}
    if excluded:
        pref.excluded_weekdays = tuple(sorted(excluded))
        hit("excluded_weekdays")

    # A part of the day ruled out: the other side of it is what is left ("no mornings" is after noon).
    ruled_out = _NOT_IN_DAY_PART.search(folded)
    if ruled_out:
        part = _DAY_PART_NAMES.get(ruled_out.group("es") or "", ruled_out.group("en"))
        folded = _NOT_IN_DAY_PART.sub(" ", folded)
        if part == "morning":
            pref.after = DAY_PARTS["morning"][1]
        elif part in DAY_PARTS:
            pref.before = DAY_PARTS[part][0]
        hit("not_" + str(part))

    # Days. Spanish "manana" is both "tomorrow" and "morning": "por/en la manana" is the morning.
    spanish_morning = re.search(r"\b(por|en)\s+(la|las)\s+mananas?\b|\bde\s+la\s+manana\b", folded)
    without_morning = re.sub(r"\b(por|en|de)\s+(la|las)\s+mananas?\b", " ", folded)
    if re.search(r"\bday\s+after\s+tomorrow\b|\bpasado\s+manana\b", folded):
        pref.date = today + timedelta(days=2)
        hit("day_after_tomorrow")
    elif re.search(r"\btomorrow\b|\btmrw\b|\btmr\b|\bmanana\b", without_morning):
        pref.date = today + timedelta(days=1)
        hit("tomorrow")
    elif re.search(r"\btoday\b|\btonight\b|\bhoy\b|\besta\s+(noche|tarde)\b", folded):
        pref.date = today
        hit("today")
    if pref.date is None and (named_date := _calendar_date(folded, now)) is not None:
        pref.date = named_date
        hit("date")
    if re.search(r"\bthis\s+weekend\b|\bel\s+fin\s+de\s+semana\b|\bfin\s+de\s+semana\b", folded) and pref.date is None:
        pref.date = today + timedelta(days=(5 - today.weekday()) % 7)
        hit("weekend")
    if (
        re.search(r"\bnext\s+week\b|\bla\s+(semana\s+que\s+(viene|entra)|proxima\s+semana)\b", folded)
        and pref.date is None
    ):
        pref.earliest_date = today + timedelta(days=7 - today.weekday())
        hit("next_week")
    weekday_matches = list(
        re.finditer(
            r"\b(?P<next>next\s+|this\s+|el\s+proximo\s+|proximo\s+|el\s+)?(?P<day>"
            + "|".join(sorted(WEEKDAY_NAMES, key=len, reverse=True))
            + r")\b(?P<viene>\s+que\s+viene)?",
            folded,
        )
    )
    # "Thursday is my kid's recital, Friday instead?": a correction names the new day last.
    corrected = _CORRECTION.search(folded) is not None
    weekday_match = (weekday_matches[-1] if corrected else weekday_matches[0]) if weekday_matches else None
    dated = [m for m in weekday_matches if re.match(r"\s+(the\s+)?\d{1,2}(st|nd|rd|th)?\b", folded[m.end() :])]
    if dated and pref.date is None:  # "el martes 22", "Tuesday the 22nd": that date, whatever else is named
        day_of_month = int(re.match(r"\s+(?:the\s+)?(\d{1,2})", folded[dated[-1].end() :]).group(1))
        weekday_match = dated[-1]
        for ahead in range(0, 62):
            candidate = today + timedelta(days=ahead)
            if candidate.day == day_of_month:
                pref.date = candidate
                pref.weekday = candidate.weekday()
                hit("date")
                break
    if weekday_match and pref.date is None:
        weekday = WEEKDAY_NAMES[weekday_match.group("day")]
        ahead = (weekday - today.weekday()) % 7
        is_next = bool(
            weekday_match.group("next") and weekday_match.group("next").strip() in {"next", "el proximo", "proximo"}
        )
        if ahead == 0 and (is_next or weekday_match.group("viene")):
            ahead = 7
        pref.weekday = weekday
        pref.date = today + timedelta(days=ahead)
        hit("weekday")

    # Parts of the day.
    if spanish_morning or re.search(r"\bmornings?\b|\bam\s+slot\b", folded):
        pref.day_part = "morning"
    elif re.search(r"\bafternoons?\b|\b(por|en|de)\s+(la|las)\s+tardes?\b|\besta\s+tarde\b", folded):
        pref.day_part = "afternoon"
    elif re.search(
        r"\bevenings?\b|\btonight\b|\b(por|en|de)\s+(la|las)\s+noches?\b|\besta\s+noche\b|\bafter\s+work\b", folded
    ):
        pref.day_part = "evening"
    if pref.day_part:
        pref.after, pref.before = DAY_PARTS[pref.day_part]
        hit(pref.day_part)
        if re.search(r"\btonight\b|\besta\s+noche\b", folded) and not re.search(r"\bevenings?\b", folded):
            pref.before = None  # "Tonight" runs to midnight: a 9:30 PM visit is tonight, an evening ends at 9.
    if _AFTER_LUNCH.search(folded):
        pref.after = max(pref.after or LUNCH_ENDS, LUNCH_ENDS)
        hit("after_lunch")
    elif _BEFORE_LUNCH.search(folded):
        pref.before = min(pref.before or time(12), time(12))
        hit("before_lunch")
    noon = re.search(r"\b(?P<edge>before|by|until|after|antes\s+del|despues\s+del)?\s*(noon|mediodia)\b", folded)
    if noon:
        edge = noon.group("edge") or ""
        if edge.startswith(("before", "by", "until", "antes")):
            pref.before = time(12)
        elif edge:
            pref.after = time(12)
        else:
            pref.at = time(12)
        hit("noon")

    # Clock times.
    after = re.search(
        r"\b(?:after|from|past|despues\s+de\s+las?|a\s+partir\s+de\s+las?|desde\s+las?)\s+" + _CLOCK, folded
    )
    before = re.search(
        r"\b(?:before|by|until|no\s+later\s+than|antes\s+de\s+las?|hasta\s+las?|(?:tengo|tenemos)\s+que\s+"
        r"(?:salir|irme|irnos)\s+a\s+las?|(?:have|need|got)\s+to\s+(?:leave|go|be\s+out)\s+at)\s+" + _CLOCK,
        folded,
    ) or re.search(r"\ba\s+las?\s+" + _CLOCK + r"\s+(?:tengo|tenemos)\s+que\s+(?:salir|irme|irnos)\b", folded)
    between = re.search(
        r"\bbetween\s+" + _CLOCK + r"\s+(?:and|-)\s+(?P<h2>\d{1,2})(?::(?P<m2>[0-5]\d))?\s*(?P<ampm2>am|pm)?", folded
    )
    at = re.search(r"\b(?:at|around|about|a\s+las?|como\s+a\s+las?|@)\s+" + _CLOCK, folded)
    bare = re.search(r"\b(?P<h>\d{1,2})(?::(?P<m>[0-5]\d))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)", folded)
    alternatives = None if (after or before or between) else _alternative_hours(folded)
    if alternatives is not None:
        # "9 or 10" is a start from 9 to 10, not 9 o'clock; it is the clock of the text.
        pref.after, pref.latest_start = alternatives
        hit("alternative_hours")
        at = bare = None
    if between:
        pref.after = _clock(between)
        end_hour = int(between.group("h2"))
        ampm2 = between.group("ampm2")
        if ampm2 == "pm" and end_hour < 12 or (not ampm2 and 1 <= end_hour <= 6):
            end_hour += 12
        if end_hour <= 23:
            pref.before = time(end_hour, int(between.group("m2") or 0))
        hit("between")
    else:
        if after:
            pref.after = _clock(after)
            if pref.day_part and pref.before and pref.after and pref.after >= pref.before:
                pref.before = None
            hit("after")
        if before:
            pref.before = _clock(before, prefer_pm=not re.search(r"\bmorning\b|\bmanana\b", folded))
            hit("before")
    if at and not after and not before and not between:
        pref.at = _clock(at)
        hit("at")
        small_hours = not at.group("ampm") and 1 <= int(at.group("h")) <= 5
        if small_hours and re.search(r"\btonight\b|\besta\s+noche\b", folded):
            # "At 2:30 tonight" is the small hours after midnight, not the afternoon or the evening.
            pref.at = time(int(at.group("h")), int(at.group("m") or 0))
            pref.date = today + timedelta(days=1)
            pref.day_part = pref.after = pref.before = None
        elif at.group("ampm") and pref.day_part and pref.at and not pref.after <= pref.at < pref.before:
            # "we're ok tonight, can someone come tomorrow at 7am?": the clock said outright wins over a
            # part of the day named about something else.
            pref.day_part = pref.after = pref.before = None
            pref.matched = [label for label in pref.matched if label not in DAY_PARTS]
    elif bare and not (after or before or between or at):
        pref.at = _clock(bare)
        hit("at")
    return pref


# --- Why: the customer's own words behind the urgency, and texts that are not customers ---------
def _folded_with_positions(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` character by character, with the position in ``text`` of every folded character."""
    folded, positions = [], []
    for index, char in enumerate(text):
        piece = fold(char)
        folded.append(piece)
        positions.extend([index] * len(piece))
    return "".join(folded), positions


def _whole_words(text: str, start: int, end: int) -> str:
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end].strip()


def urgency_reason(text: str, level: str) -> str | None:
    """The words of ``text`` that make it ``level``: "burst, flooding" for an emergency, "no hot water"
    for urgent, "no rush" for normal; None when nothing in it says so. Same patterns as
    ``detect_urgency`` ("not an emergency" is no emergency)."""
    folded, positions = _folded_with_positions(text)
    calm = [match.span() for match in re.finditer(_NOT_URGENT, folded)]
    if level == "normal":
        spans = calm
    else:
        patterns = _EMERGENCY if level == "emergency" else _URGENT if level == "urgent" else ()
        spans = [
            match.span()
            for pattern in patterns
            for match in re.finditer(pattern, folded)
            if not any(start <= match.start() < end for start, end in calm)
        ]
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:  # Overlapping matches are one phrase.
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    words: list[str] = []
    for start, end in merged:
        phrase = _whole_words(text, positions[start], positions[end - 1] + 1)
        if phrase and phrase.lower() not in (word.lower() for word in words):
            words.append(phrase)
    return ", ".join(words)[:200] or None


def urgency_reasons(texts: list[str]) -> dict[str, str | None]:
    """For each urgency level, the reason found in the newest of ``texts`` that has one."""
    return {level: next(filter(None, (urgency_reason(text, level) for text in texts)), None) for level in URGENCIES}


_LINK = r"https?://|\bwww\.|\bbit\.ly/|\b[a-z0-9-]+\.(com|net|io|biz|info|xyz|top)/"
_SPAM = (
    r"\bseo\b",
    r"first\s+page\s+(of|on)\s+google",
    r"\bgoogle\s+(ranking|reviews|listing|business\s+profile|maps\s+ranking)",
    r"\bmore\s+(leads|customers|clients|reviews|traffic)\b",
    r"\b(business|small\s+business)\s+(loan|funding|financing|line\s+of\s+credit)",
    r"\bmerchant\s+(cash|services)",
    r"\bcash\s+advance",
    r"\bpre-?approved\b",
    r"\b(crypto|bitcoin|forex)\b",
    r"\byou('ve|\s+have)\s+(won|been\s+selected)",
    r"\bclaim\s+your\s+(prize|reward|gift)",
    r"\bgift\s+card\b",
    r"\bclick\s+(here|the\s+link|below)",
    r"\blimited[\s-]time\s+offer",
    r"\bpromo\s+code",
    r"\b(reply|text|txt)\s+stop\s+to\s+(opt\s+out|unsubscribe|end|cancel|quit)",
    r"\bunsubscribe\b",
    r"\b(marketing|advertising)\s+(agency|services|campaign)",
    r"\b(web\s*site|web)\s+(design|redesign|development)\b",
    r"\b(car|auto|vehicle)('?s)?\s+(factory\s+|extended\s+)?warranty",
    r"\breply\s+(yes|y|1)\s+to\s+(speak|talk)\s+(with|to)\s+(a|an)\s+(specialist|agent|representative)",
    r"\b(wholesale|bulk)\s+(price|prices|pricing)\b|\bprecios?\s+de\s+mayoreo\b|\bal\s+mayoreo\b",
    r"\b(send|mando|mande|envio|envie)\s+(you\s+)?(our|nuestra|la)\s+(price\s+list|catalog|lista\s+de\s+precios|catalogo)",
    r"\bsomos\s+(una\s+)?(distribuidora|proveedora?|agencia|empresa\s+de\s+marketing)\b",
    r"\bwe\s+are\s+a\s+(supplier|distributor|wholesaler)\b",
    r"\bworking\s+capital\b",
    r"\bloans?\s+(approved|offer)",
    r"\bno\s+credit\s+check",
    r"\branked\s+#?\s*1\b",
    r"\bfree\s+(seo\s+)?(audit|consultation\s+for\s+your\s+business)",
    r"\bcongratulations\b",
    r"\bcould\s+not\s+be\s+delivered\b",
    r"\bredelivery\b",
    r"\b(felicidades|ganaste|has\s+ganado)\b",
    r"\breclam[ae]\s+(tu|su)\s+premio",
    r"\bprestamos?\s+(rapidos?|inmediatos?|sin\s+buro)",
    r"\bsin\s+buro\s+de\s+credito",
    r"\bresponde\s+info\b",
    r"\boferta\s+por\s+tiempo\s+limitado",
    r"\bsin\s+costo\b",
    r"\bahorr[ae]\s+hasta\b",
    r"\bsave\s+up\s+to\b",
    r"\b(responda|responde|reply|text)\s+(si|yes)\s+(para|to)\s+(agendar|recibir|book|get|claim|schedule)",
    r"\bpara\s+no\s+recibir\s+(mas\s+)?mensajes",
    r"\b(cita|consulta|evaluacion|inspeccion|quote|consultation|estimate)\s+(gratis|gratuita|free)\b",
    r"\bfree\s+(solar|quote\s+for\s+your\s+home)",
    r"\b(rank|ranking|show\s+up)\s+(higher\s+|first\s+|#1\s+)?(on|in)\s+google",
    r"\b(grow|boost|scale)\s+your\s+(business|revenue|leads|sales)",
    r"\bbook\s+a\s+(quick\s+|free\s+)?(call|demo)\b",
    r"\bwe\s+help\s+(contractors|businesses|companies|home\s+service|electricians|plumbers|locksmiths)",
    r"\btop\s+\d+\s+(for|on|in)\b",
    r"\b(on|in)\s+google\s+maps\b",
    # get-rich texts and their pressure: "make $3000/week from home", "reply YES to learn more", "last chance"
    r"\b(make|earn|making|earning)\s+\$\s?\d[\d,.]*k?\s*(/|a|an|per|each)\s*(week|wk|day|month|mo|hour|hr)\b",
    r"\b(work|money|income|earn\w*|trading)\s+from\s+home\b|\bdesde\s+(tu|su)\s+casa\b",
    r"\b(to|para)\s+(learn|find\s+out|hear)\s+more\b|\bpara\s+(saber|conocer)\s+mas\b",
    r"\blast\s+chance\b|\bultima\s+oportunidad\b",
    r"\b(spots?|seats?|places?|lugares|cupos?)\s+(are\s+)?(filling|going|selling)\s+(up\s+)?fast\b|\bcupo\s+limitado\b",
    r"\b(5|five)[\s-]star\s+(google\s+)?reviews\b|\breviews\s+on\s+autopilot\b",
)


def looks_like_spam(text: str, *, job_named: bool = False, after_spam: bool = False) -> bool:
    """A marketing or scam text rather than a customer: two spam phrases, or (when it names no job)
    a link and one, or one right after a spam text from the same number. Kept conservative: a
    customer mentioning a review or sending a link about their job is not spam."""
    folded = fold(text)
    hits = _any(_SPAM, folded)
    if hits >= 2 or (hits >= 1 and after_spam):
        return True
    return hits >= 1 and not job_named and re.search(_LINK, folded) is not None


_WRONG_NUMBER = (r"\bwrong\s+(number|person|#)", r"\bnumero\s+equivocado", r"\bme\s+equivoque\s+de\s+numero")


def says_wrong_number(text: str) -> bool:
    return _any(_WRONG_NUMBER, fold(text)) > 0


# A person, not the assistant: asked for outright, or "is this a bot?" (accent-folded).
_HUMAN_PATTERNS = (
    r"\b(real|actual|live)\s+(person|human|people)\b",
    r"\b(talk|speak|chat)\s+(to|with)\s+(a|an|some|the)?\s*(human|person|someone|somebody|owner|manager|technician|plumber|electrician)\b",
    r"\b(a|an)\s+(human|person)\s*(please|pls|plz)?\s*[.!?]*$",
    r"\b(is\s+this|are\s+you|am\s+i\s+(talking|texting|chatting)\s+(to|with))\s+(a\s+|an\s+)?(bot|robot|machine|ai|computer|automated|real|human)",
    r"\bautomated\s+(text|message|reply|system)",
    r"\bnot\s+(a|an|with\s+a)\s+(bot|robot|machine)\b",
    r"\b(have|get|can|could)\s+(somebody|someone|a person|the owner)\s+(to\s+)?call\s+me\b",
    r"\b(have|get)\s+(the\s+)?(owner|manager|boss|someone|somebody)\s+(to\s+)?(give\s+me\s+a\s+call|call|text)\b",
    r"\b(rather|prefer\s+to)\s+(talk|speak)\b",
    r"\b(una|alguna)\s+persona\b",
    r"\bun\s+(humano|ser\s+humano)\b",
    r"\bhablar\s+(directamente\s+)?(por\s+(telefono|phone|cel|celular)\s+)?con\s+(alguien|el\s+duen|la\s+duen|un\s+tecnico|el\s+encargado|el\s+jefe)",
    # the phone asked for instead of texts: "prefiero hablar por teléfono", "mejor por llamada"
    r"\b(prefiero|quisiera|quiero|mejor)\s+(hablar|platicar|hablarlo)\s+por\s+(telefono|phone|cel|celular|llamada)\b",
    r"\b(eres|es|esto\s+es)\s+(un\s+)?(robot|bot|maquina|automatic|contestadora)",
    r"\b(alguien|una\s+persona)\s+(me\s+)?(puede\s+)?llam",
    r"\bque\s+me\s+(llame|llamen|marque|marquen)\b",
    r"\bme\s+puede\s+llamar\s+alguien\b",
    r"\bcon\s+una\s+maquina\b",
    r"\b(prefiero|quisiera|quiero)\s+hablarlo\b",
    r"\bhablarlo\s+(directamente\s+)?con\s+(alguien|el\s+duen|la\s+duen|el\s+encargado|el\s+jefe)",
    r"\bme\s+(puede|pueden|puedes|podria|podrias|podrian)\s+(marcar|llamar|hablar)\b",
    r"\b(can|could)\s+(you|u|someone|somebody)\s+(just\s+)?(call|ring|phone)\s+me\b",
    # a call asked of a person by their role: "can the owner just give me a call back?"
    r"\b(owner|manager|boss|someone|somebody|person|human|you|u)\s+(just\s+)?(give|gimme)\s+me\s+a\s+(call|ring)\b",
    r"\bcall\s+me\s+back\b",
    r"\b(rather|prefer(\s+to)?|easier\s+to)\s+(explain|discuss)\b|\b(talk|explain)\s+(it\s+)?(on|over)\s+the\s+phone\b",
    # refusing the machine, or the one word people shout at phone trees
    r"\b(text|talk|chat|deal|speak)\w*\s+(with|to)\s+a\s+(machine|bot|robot|computer)\b",
    r"(^|[.!?]\s*)(live\s+)?(agent|representative|rep|operator|human|agente|operador|operadora|asesor)\s*(please|pls|plz|por\s+favor)?\s*[.!?]*$",
    r"\b(regres\w*|devuelv\w*|devolver\w*)\s+(me\s+)?(la\s+)?llamada\b",
)


# "Call before you come", "¿me pueden llamar antes de llegar?": a note for the visit, not a hand-off.
_CALL_AHEAD = re.compile(
    r"\b(call|text|ring)\b[^.?!]{0,20}\b(before|when)\b[^.?!]{0,25}\b(come|coming|arrive|arriving|get\s+here|"
    r"on\s+(the|your)\s+way|head\s+over|pull\s+up)"
    r"|\b(llam|avis|marqu|textee)\w*\b[^.?!]{0,20}\b(antes\s+de\s+(llegar|venir|que\s+(lleguen|vengan|llegue|venga))|"
    r"cuando\s+(vengan|vayan|esten|este)\s+en\s+camino)"
)


def asks_for_human(text: str) -> bool:
    """The customer wants a person (or asks whether this is one)."""
    folded = fold(text).replace("’", "'")
    if _CALL_AHEAD.search(folded):
        return False
    return any(re.search(pattern, folded) for pattern in _HUMAN_PATTERNS)


_HOURS_QUESTION = (
    r"\b(what|when)\b[^.?!]*\b(hours|open|close|closing)\b",
    r"\bare\s+you\s+(guys\s+)?open\b",
    r"\b(business|opening|office)\s+hours\b",
    r"\bhorarios?\b",
    r"\b(a\s+que\s+hora|cuando)\s+(abren|cierran)\b",
    r"\b(estan|esta)\s+abiertos?\b",
)


def asks_about_hours(text: str) -> bool:
    return _any(_HOURS_QUESTION, fold(text)) > 0


# Emergencies told by the situation, not by a keyword: what is wrong and who or what makes it
# dangerous, anywhere in the conversation (accent-folded; "a/c" as "ac").
_NO_HEAT_OR_COOLING = (
    r"\b(no|without|lost)\s+(heat|heating|ac|air|cooling|calefaccion|aire|clima)\b",
    r"\b(heat|heater|heating|furnace|boiler|ac|air\s+conditioner|air|cooling)\s+(just\s+)?"
    r"(stopped|died|quit|went\s+out|is\s+out|isn'?t\s+working|is\s+not\s+working|not\s+working|broke|gave\s+out)",
    r"\bnot\s+(heating|cooling)\b",
    r"\b(sin|no\s+tenemos|no\s+hay)\s+(calefaccion|calor|aire|clima)\b",
    r"\b(calefaccion|calentador|calenton|calefactor|caldera|aire|clima)\s+(ya\s+)?(no\s+(funciona|sirve|prende|enfria|calienta)|se\s+(descompuso|apago))",
    # the verb first: "no sirve la calefacción", "se apagó el calentón"
    r"\b(no|ya\s+no)\s+(funciona|sirve|prende|enciende|calienta|enfria|jala)\s+(el|la|mi|nuestro|nuestra)\s+"
    r"(calefaccion|calentador|calenton|calefactor|caldera|aire|clima)\b",
    r"\bse\s+(nos\s+|me\s+)?(apago|descompuso|murio|fue)\s+(el|la|mi)\s+(calefaccion|calentador|calenton|calefactor|caldera|aire|clima)\b",
    # a furnace that will not light is no heat: "keeps clicking but no flame"
    r"\b(furnace|heater|boiler|pilot)\b[^.!?]*\b(no\s+flame|won'?t\s+(ignite|light|fire\s+up|kick\s+on|come\s+on|turn\s+on|start)"
    r"|(is\s+)?blowing\s+cold)",
)
_VULNERABLE = (
    r"\b(8\d|9\d|1[01]\d)[\s-]*(year|yr)s?[\s-]*old\b",
    r"\b\d{1,2}[\s-]*(month|week)s?[\s-]*old\b",
    r"\b(elderly|baby|infant|newborn|toddler|pregnant|oxygen|wheelchair|disabled|bedridden)\b",
    r"\b(heart|lung|breathing)\s+(problem|condition|issue)s?\b",
    r"\b(abuela|abuelo|anciano|anciana|bebe|recien\s+nacid[oa]|embarazada|enferm[oa])\b",
    r"\b(de\s+)?(8\d|9\d)\s+anos\b",
    # an age said of the person: "my mom is 88", "mi mamá tiene 90"
    r"\b(mom|mother|mum|dad|father|grandma|grandmother|grandpa|grandfather|nana|she|he)\s+(is|'s|s)\s+(8\d|9\d|1[01]\d)\b",
    r"\b(mama|papa|madre|padre|abuelit[oa]|suegr[oa])\s+(tiene|de)\s+(8\d|9\d|1[01]\d)\b",
    # someone ill at home: "my husband is sick", "sick kids", "está enfermo"
    r"\b(is|are|'s|been|gets|get)\s+(very\s+|really\s+|so\s+)?(sick|ill)\b",
    r"\bsick\s+(kids?|child|children|baby|mom|mother|dad|father|wife|husband|son|daughter)\b",
)
_EXTREME_WEATHER = (
    r"\b(freezing|frigid|below\s+(zero|freezing)|sub-?zero|\d{1,2}\s+below|heat\s+wave|sweltering)\b",
    r"\b(bajo\s+cero|menos\s+\d{1,2}\s+grados)\b",
    r"\bhace\s+(mucho|muchisimo)\s+(frio|calor)\b",
    r"\b(helando|ola\s+de\s+calor|congelando)\b",
)
_LOCKED_OUT = (
    r"\block(ed)?\s+(myself\s+|ourselves\s+)?out\b",
    r"\b(keys?)\s+(are\s+|is\s+)?(locked\s+)?(inside|in\s+(the|my)\s+(car|truck|house))",
    r"\block(ed)?\s+(my|the)\s+keys?\s+in",
    r"\bse\s+me\s+cerro\s+(el|la|mi)\s+(carro|coche|camioneta|casa|puerta)\b",
    r"\bllaves\s+(adentro|dentro)\b",
    r"\bme\s+quede\s+(afuera|fuera)\b",
    r"\bafuera\s+de\s+(mi|la)\s+casa\b",
    r"\bse\s+(me\s+)?cerro\s+la\s+puerta\b",
)
# someone shut in by a door that locked behind them: "se quedó adentro solo", "locked inside the house"
_LOCKED_IN = (
    r"\b(locked|stuck|trapped|shut)\s+(inside|in\s+(the|my|our|a)\s+(house|home|room|bedroom|bathroom|apartment))\b",
    r"\bse\s+quedo\s+(encerrad[oa]|adentro|dentro)\b",
    r"\b(esta|quedo|se\s+quedo)\s+encerrad[oa]\b",
)
_CHILD_INSIDE = (r"\b(baby|toddler|child|kid|son|daughter|infant|bebe|nino|nina|hijo|hija)\b",)
# the child said to be in the car itself: "my baby is inside the car", "mi bebé está adentro del carro"
_CHILD_IN_CAR = (
    r"\b(baby|toddler|child|kid|son|daughter|infant|bebe|nino|nina|hijo|hija)\s+(is|s|'s|esta|quedo|se\s+quedo)\s+"
    r"(still\s+|todavia\s+)?(locked\s+|stuck\s+|trapped\s+|encerrad[oa]\s+|atrapad[oa]\s+)?"
    r"(inside|in|adentro|dentro|encerrad[oa]|atrapad[oa])\s+(of\s+|de\s+|del\s+|en\s+)?(the|my|our|el|la|mi)?\s*"
    r"(car|truck|van|suv|carro|coche|camioneta|auto)\b",
)
_IN_A_CAR = (r"\b(car|truck|van|suv|carro|coche|camioneta)\b",)
_OVERHEATING_PANEL = (
    r"\b(panel|breaker\s+box|fuse\s+box|tablero|caja\s+de\s+(breakers|pastillas|fusibles)|centro\s+de\s+carga)\b"
    r"[^.!?]*\b(hot|too\s+hot|burning|scorch\w*|smok\w*|caliente|quema\w*|chamuscad\w*|negrito|humo)\b",
)
_OUT_IN_THE_COLD = (r"\b(cold|freezing|no\s+coat|no\s+jacket|frio|helando)\b",)
_WONT_SECURE = (
    r"\b(door|lock|deadbolt|garage(\s+door)?|window)\b[^.!?]*\b(won'?t|will\s+not|doesn'?t|does\s+not|can'?t|cannot)\s+(close|lock|shut|latch)",
    r"\b(puerta|cerradura|porton)\b[^.!?]*\bno\s+(cierra|se\s+cierra|tiene\s+seguro|asegura)",
    r"\b(door|garage|porton|puerta|cochera)\b[^.!?]*\b(stuck\s+open|won'?t\s+(go|come)\s+down|can'?t\s+get\s+it\s+(down|closed|shut)"
    r"|se\s+quedo\s+abiert[ao]|no\s+(baja|puedo\s+bajarl[ao]))",
)
_AT_NIGHT = (
    r"\b(night|tonight|overnight|dark)\b",
    r"\b(1[01]|[7-9])\s*(pm|at\s+night)\b",
    r"\bcan'?t\s+leave\s+(the\s+house|it|the\s+door|the\s+garage)\s+(open|like\s+this)",
    r"\bdon'?t\s+feel\s+safe\b",
    r"\b(noche|oscuro)\b",
    r"\bno\s+podemos\s+dejarla\b",
)
_CAR_TRAPPED = (
    r"\b(car|truck|van|suv|vehicle|carro|coche|camioneta)\b[^.!?]*\b(stuck|trapped|locked)\s+(inside|in\b)",
    r"\bcan'?t\s+get\s+(my|the|our)\s+(car|truck|van|suv)\s+out\b",
    r"\bno\s+(puedo|podemos)\s+sacar\s+(el|mi|la)\s+(carro|coche|camioneta)",
)
_MUST_LEAVE = (
    r"\b(have|need|got)\s+to\s+(get\s+to|leave|be\s+at|go\s+to)\b",
    r"\b(shift|hospital|dialysis|doctor)\b",
    r"\btengo\s+que\s+(ir|salir|llegar)\b",
)
_CO_SYMPTOMS = (
    r"\b(headaches?|dizzy|dizziness|nause|vomit|threw\s+up|throwing\s+up|dolor(es)?\s+de\s+cabeza|duele\s+la\s+cabeza"
    r"|mareo|mareados?|vomit|nausea|gumito)",
)
_HEATING_ON = (r"\b(heat|heater|heating|furnace|boiler|calefaccion|calentador|calefactor|caldera)\b",)
_MEDICAL_DEVICE = (
    r"\b(oxygen|concentrator|cpap|bipap|dialysis|ventilator|nebulizer|oxigeno|concentrador|respirador|dialisis)\b",
)
_NO_POWER = (
    r"\b(no|without|lost)\s+(power|electricity)\b",
    r"\bpower\s+(is\s+)?(out|off)\b",
    r"\bse\s+(fue|nos\s+fue)\s+la\s+luz\b",
    r"\bsin\s+(luz|electricidad|corriente)\b",
    r"\bno\s+hay\s+(luz|corriente)\b",
    r"\b(battery|bateria|pila)\b",
)
_TEMPERATURE = re.compile(r"\b(-?\d{1,3})\s*(degrees|deg|°|grados)")
# The weather said as a bare number: "its -4 out", "10 outside", "-10 afuera" (a minus after a space
# is a temperature, never a phone number's dash).
_OUTDOOR_TEMPERATURE = re.compile(
    r"(?:^|\s)(?P<t>-?\d{1,3})\s*(f\s+)?(out|outside|outdoors|afuera)\b(?!\s+of)|(?:^|\s)(?P<n>-\d{1,2})\b"
)
# Inside the home: "house is down to 50", "house is 52 degrees", "la casa está a 50 grados".
_INDOOR_TEMPERATURE = re.compile(
    r"\b(house|home|inside|apartment)\s+(is\s+)?(at|down\s+to)\s+(?P<t>\d{2})\b"
    r"|\b(house|home|inside|apartment|casa|adentro)\s+(is\s+|esta\s+)?(only\s+|a\s+)?(?P<u>\d{2})\s*(degrees|deg|°|grados)"
)


def _extreme_temperature(folded: str) -> bool:
    if any(int(value) <= 32 or int(value) >= 95 for value, _ in _TEMPERATURE.findall(folded)):
        return True
    if any(not 32 < int(match["t"] or match["n"]) < 95 for match in _OUTDOOR_TEMPERATURE.finditer(folded)):
        return True
    return any(int(match["t"] or match["u"]) <= 55 for match in _INDOOR_TEMPERATURE.finditer(folded))


def says_not_urgent(texts: list[str]) -> bool:
    """ "Not an emergency", "no rush": the customer's own word on it wins."""
    return any(re.search(_NOT_URGENT, fold(text)) for text in texts)


def situational_emergency(texts: list[str], *, local_hour: int) -> str | None:
    """Why the conversation is an emergency although no message says "emergency": no heat or
    cooling with a vulnerable person or extreme weather, locked out with a child inside or in the
    cold, a door or garage that will not close or lock at night, medical equipment (oxygen, CPAP)
    without power, a car trapped in the garage by someone who has to leave. None when it is not."""
    folded = " . ".join(fold(text).replace("a/c", "ac").replace("’", "'") for text in texts)
    night = local_hour >= 19 or local_hour < 6 or _any(_AT_NIGHT, folded) > 0
    if _any(_CHILD_IN_CAR, folded) and re.search(r"\b(keys?|llaves?|locked|lock|cerrad[oa]|cerro)\b", folded):
        return "a child locked in a car"
    if _any(_NO_HEAT_OR_COOLING, folded):
        if _any(_VULNERABLE, folded):
            return "no heat or cooling with a vulnerable person in the home"
        if _any(_EXTREME_WEATHER, folded) or _extreme_temperature(folded):
            return "no heat or cooling in extreme temperatures"
    if _any(_LOCKED_IN, folded) and (_any(_CHILD_INSIDE, folded) or _any(_VULNERABLE, folded)):
        return "a child locked in a car" if _any(_IN_A_CAR, folded) else "a child or vulnerable person locked inside"
    if _any(_LOCKED_OUT, folded):
        if _any(_CHILD_INSIDE, folded) and _any(_IN_A_CAR, folded):
            return "a child locked in a car"
        if _any(_CHILD_INSIDE, folded):
            return "locked out with a child inside"
        if _any(_OUT_IN_THE_COLD, folded) or _extreme_temperature(folded) or night:
            return "locked out in the cold or at night"
    if _any(_WONT_SECURE, folded) and night:
        return "the home cannot be secured at night"
    if _any(_CO_SYMPTOMS, folded) and _any(_HEATING_ON, folded):
        return "possible carbon monoxide: headaches or sickness since the heating came on"
    if _any(_MEDICAL_DEVICE, folded) and (_any(_NO_POWER, folded) or _any(_NO_HEAT_OR_COOLING, folded)):
        return "medical equipment without power"
    if _any(_OVERHEATING_PANEL, folded):
        return "an electrical panel overheating"
    if _any(_CAR_TRAPPED, folded) and (_any(_MUST_LEAVE, folded) or night):
        return "a car trapped in the garage that is needed now"
    return None


_CANCEL = (
    r"\bcancel\s+(my|the|our|this|that|it|tomorrow|monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
    r"\b(need|want|have)\s+to\s+cancel\b",
    r"\bcancel\s+(the\s+)?(appointment|visit|booking|service)",
    r"\bcancel(ar|en)?\s+(mi|la|el)\s+(cita|visita|servicio)",
    r"\b(quiero|necesito|tengo\s+que)\s+cancelar\b",
    r"\bya\s+no\s+(necesito|ocupo)\s+(la\s+)?(cita|visita|el\s+servicio)",
    r"\b(take|cross)\s+(us|me)\s+off\s+(the|your)\s+(schedule|calendar|books?)",
    r"\b(won'?t|wont|will\s+not|don'?t|dont|no\s+longer)\s+(be\s+)?need(ing)?\s+(the|our|my|that|you|it)\b[^.!?]*\b(anymore|any\s+more|after\s+all)\b",
    r"\bya\s+no\s+(es\s+necesario|hace\s+falta)\s+que\s+(vengan|venga)",
    r"\bcancel[ea]l[ao]\b",
    r"\bcancela\s+(lo|la|el|mi)\b",
    r"^\s*(pls\s+|please\s+)?cancel\b",
    r"\bcancel\s+(tmrw|tomorrow|tmr|today|friday|monday|tuesday|wednesday|thursday|saturday|sunday)",
    # told not to come: "ya no vengan el viernes", "no need to come friday", "don't bother coming"
    r"\bya\s+no\s+(vengan|venga|vengas|es\s+necesario|hace\s+falta)\b",
    r"\bno\s+(need|reason)\s+(for\s+(you|him|her|them|anyone)\s+)?to\s+come\b"
    r"|\bdon'?t\s+bother\s+coming\b|\bdon'?t\s+(come|need\s+you\s+to\s+come)\b[^.!?]*\b(anymore|any\s+more|after\s+all)\b",
)
_RESCHEDULE = (
    r"\bre-?schedule\b",
    r"\b(move|push|change|bump|shift)\s+(it|my|the|our|this|that)\b[^.?!]*\b(to|appointment|visit|booking|later|earlier)\b",
    r"\b(move|push|change)\s+(it|my|the|our)\b",
    r"\breprogramar\b",
    r"\b(cambiar|mover|pasar|recorrer)\s+(mi|la|el)\s+(cita|visita)",
    r"\b(cambiarla|moverla|pasarla)\b",
    r"\bcan\s+we\s+do\s+(it\s+)?(later|earlier|another\s+(day|time))",
    r"\b(can|could)\s+(we|you)\s+(do|make\s+it)\b[^.!?]*\binstead\b",
    r"\b(me\s+la|nos\s+la|la)\s+(pueden|puede|podrian)\s+(cambiar|mover|pasar)",
    r"\b(la|lo)\s+(podemos|puede|pueden)\s+(cambiar|mover|pasar)",
    r"\b(se\s+puede|podemos|pueden|podrian|puedo)\s+(cambiar|mover|pasar|recorrer)\s+(al|para\s+el|a\s+otro|para\s+otro)\b",
)
# What follows these is the new time ("move it from Monday to Wednesday after 2pm").
_NEW_TIME_MARKER = re.compile(
    r"\b(to|for|until|anything|like|instead|rather|para|al|puede\s+ser|mejor|hasta)\b(?!.*\b(to|for|anything|like|para|al|puede\s+ser|mejor)\b)"
)


# With an appointment on the books, these say the customer is talking about it ("the appointment",
# "ur guy", "lo del lunes", "la cita del martes") ...
_REFERS_TO_VISIT = re.compile(
    r"\b(appointment|appt|visit|booking|(your|ur|the)\s+(guy|tech|technician|plumber|electrician|locksmith)"
    r"|cita|visita|el\s+tecnico|lo\s+del|la\s+del|el\s+del|lo\s+de\s+(hoy|manana))\b"
)
# ... and these that they want it at another time, or not at all.
_WANTS_OTHER_TIME = re.compile(
    r"\b(instead|rather|came\s+up|running\s+(late|behind)|can'?t\s+make|cant\s+make|won'?t\s+(be\s+)?(make|home|there)"
    r"|any\s+chance|(can|could)\s+(ur|your|the|you|u|we)\b[^.!?]*\b(come|do|make)|push|move|bump"
    r"|mejor|se\s+puede|se\s+podra|pueden\s+venir|puede\s+venir|no\s+voy\s+a\s+(estar|poder)|no\s+puedo"
    r"|me\s+cambiaron|cambiar|en\s+vez|en\s+lugar)\b"
    r"|\b(earlier|later|sooner)\b[^.!?]{0,20}\b(that|the\s+same|same)\s+day\b"
    r"|\b(could|can)\s+(it|that|we|you)\s+(be|do\s+it|come)\s+(any\s+)?(earlier|later|sooner)\b"
    r"|\bmas\s+(temprano|tarde)\b[^.!?]{0,20}\b(ese|el\s+mismo|mismo)\s+dia\b"
    r"|\b(puede|podria|pueden|podrian)\s+(ser|venir)\s+mas\s+(temprano|tarde)\b"
)
# "Earlier that day", "ese mismo día": the appointment's own day; "earlier"/"más temprano" before
# its time, "later"/"más tarde" after it.
_THAT_DAY = re.compile(
    r"\b(that\s+(same\s+)?day|(the\s+)?same\s+day|ese\s+(mismo\s+)?dia|el\s+mismo\s+dia|mismo\s+dia)\b"
)
_EARLIER = re.compile(r"\b(earlier|sooner|mas\s+temprano|antes)\b")
_LATER = re.compile(r"\b(later|mas\s+tarde)\b")
_CANCEL_WORD = re.compile(r"\bcancel\w*")
# Said by a customer who has a visit booked, the visit (or the one coming) is no longer wanted:
# "dont need the plumber tmrw", "won't be needing you", "ya no ocupamos al técnico".
_NOT_NEEDED = re.compile(
    r"\b(won'?t|wont|will\s+not|don'?t|dont|do\s+not|no\s+longer|not)\s+(be\s+|even\s+)?need(ing)?\s+"
    r"(the|our|my|that|you|u|ur|your|him|them|it|anyone|anybody|someone|somebody)\b"
    r"|\bya\s+no\s+(la\s+|lo\s+|los\s+)?(necesit|ocup)\w*\b"
    r"|\bno\s+(necesit|ocup)\w*\s+(que\s+vengan?|al\s+tecnico|al\s+plomero|al\s+electricista|al\s+cerrajero|la\s+cita|la\s+visita)\b"
)


def change_of_booked(text: str, *, appointment_day: date, today: date) -> str | None:
    """ "cancel" or "reschedule" when a customer who has an appointment (on ``appointment_day``) talks
    about it without the words of :func:`detect_change`: any "cancel…" word, or a reference to the
    visit (its word, its day, "ur guy") with a wish for another time ("can ur guy do Thursday
    instead", "tengo la cita del martes… ¿se puede el sábado mejor?"). The time the customer names
    is read by :func:`reschedule_target`."""
    folded = fold(text).replace("’", "'")
    if _CANCEL_WORD.search(folded) or _NOT_NEEDED.search(folded):
        return "cancel"
    days = {WEEKDAY_NAMES.get(name) for name in re.findall(rf"\b({_DAY_NAMES})\b", folded)}
    relative = {
        today: r"\b(today|hoy)\b",
        today + timedelta(days=1): r"\b(tomorrow|tmrw|tmr|manana)\b",
    }
    refers = (
        _REFERS_TO_VISIT.search(folded) is not None
        or _THAT_DAY.search(folded) is not None
        or appointment_day.weekday() in days
        or (appointment_day in relative and re.search(relative[appointment_day], folded) is not None)
    )
    if refers and _WANTS_OTHER_TIME.search(folded):
        return "reschedule"
    return None


def detect_change(text: str) -> str | None:
    """ "cancel" or "reschedule" when the customer asks to change an appointment they have."""
    folded = fold(text)
    if _any(_CANCEL, folded):
        return "cancel"
    if _any(_RESCHEDULE, folded):
        return "reschedule"
    return None


_INSTEAD_OF = re.compile(
    r"\b(instead\s+of|rather\s+than|en\s+vez\s+de|en\s+lugar\s+de)\s+(the\s+|las?\s+|el\s+)?"
    r"(\d{1,2}(:\d\d)?\s*(am|pm)?|[a-zA-Záéíóú]+day|lunes|martes|miercoles|miércoles|jueves|viernes|sabado|sábado|domingo)",
    re.IGNORECASE,
)
_SAME_TIME = re.compile(r"\b(same\s+time|a\s+la\s+misma\s+hora|misma\s+hora)\b")


def says_same_time(text: str) -> bool:
    """ "Monday the 14th instead, same time?": the appointment's own time of day, on the new day."""
    return _SAME_TIME.search(fold(text)) is not None


_PART_AFTER_DAY = r"(\s+(morning|afternoon|evening|night|a\s+la\s+manana|en\s+la\s+manana|en\s+la\s+tarde|por\s+la\s+manana|por\s+la\s+tarde))?"


def _without_day(text: str, day: date, today: date, at: time) -> str:
    """``text`` without the words naming ``day`` (its weekday, "tomorrow" or "today" when it is),
    and the appointment's own time ``at`` said with it ("Saturday at 3"); the day said with another
    time stays."""
    names = [name for name, number in WEEKDAY_NAMES.items() if number == day.weekday()]
    if day == today + timedelta(days=1):
        names += ["tomorrow", "tmrw", "tmr"]
    if day == today:
        names += ["today", "hoy"]
    pattern = re.compile(
        rf"\b({'|'.join(map(re.escape, names))})\b{_PART_AFTER_DAY}(?P<time>\s+(?:at|a\s+las?)\s+{_CLOCK})?"
    )

    def without(match: re.Match) -> str:
        said = _clock(match) if match.group("time") else None
        if said is None or (said.hour % 12, said.minute) == (at.hour % 12, at.minute):
            return " "
        return match.group(0)  # "Saturday at 5 instead?": another time on the same day

    return pattern.sub(without, fold(text))


def _on_the_booked_day(pref: TimePreference, text: str, booked: datetime) -> TimePreference:
    """``pref`` on the appointment's day when the text says "that day", "el mismo día"; without a clock
    of its own, "earlier" starts before the appointment's time and "later" after it."""
    folded = fold(text)
    if not _THAT_DAY.search(folded) or pref.date is not None or pref.weekday is not None:
        return pref
    day, minute = booked.date(), timedelta(minutes=1)
    pref = replace(pref, date=day, weekday=day.weekday(), matched=[*pref.matched, "same_day"])
    if pref.at or pref.after or pref.before or pref.latest_start:
        return pref
    if _LATER.search(folded):
        return replace(pref, after=(booked + minute).time())
    if _EARLIER.search(folded):
        return replace(pref, latest_start=(booked - minute).time())
    return pref


def reschedule_target(text: str, *, now: datetime, booked: datetime | None = None) -> TimePreference:
    """The time the customer wants an appointment moved to: what follows the last "to", "for",
    "para"… when that names a time (their old time comes first), else the whole message; the
    appointment's own day and time (``booked``, its local start: "somethin came up tmrw", "tengo la
    cita del martes", "Saturday at 3") are where it is now, not where it goes, unless the text names
    no other, or says "that day"."""
    said = text
    text = _INSTEAD_OF.sub(" ", text)  # "at 4 instead of 3 today": 3 is the old time
    if booked is not None:
        rest = _without_day(text, booked.date(), now.date(), booked.time())
        if (
            weekdays_named(rest)
            or re.search(r"\b(tomorrow|tmrw|today|hoy|manana)\b|\d", rest)
            or _THAT_DAY.search(rest)
        ):
            text = rest
    folded = fold(text)
    marker = _NEW_TIME_MARKER.search(folded)
    target = parse_time_preference(text[marker.end() :], now=now) if marker is not None else None
    if target is None or target.is_empty:
        target = parse_time_preference(text, now=now)
    return _on_the_booked_day(target, said, booked) if booked is not None else target
