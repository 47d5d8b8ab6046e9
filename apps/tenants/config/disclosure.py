"""Telling customers that the replies they get are automated (``ai_settings.disclose_automation``).

``always`` and ``never`` mean what they say. ``where_required`` (the default) decides by the state the
business is in: the states below have a law that asks a business to tell a consumer when a bot or an
AI system, not a person, is texting with them. The state comes from the service-area address (its
state, or its ZIP code), else from the holiday calendar's US state, else from the area code of the
business's main phone. A business whose state cannot be told discloses: a short sentence too many
costs less than one missing where it is the law.

This is the product's reading of those laws, not legal advice; the table is the one place to change.
The disclosure goes in the first automated text of a conversation (apps/conversations), before the
text's opt-out line, and the text is shortened if needed so that it still fits its segment budget.
"""

import re
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext

from apps.outbox.segments import clip_to_segments

WHERE_REQUIRED, ALWAYS, NEVER = "where_required", "always", "never"
CHOICES = (WHERE_REQUIRED, ALWAYS, NEVER)
DEFAULT = WHERE_REQUIRED

# State -> the law that asks for the disclosure (shown to the owner on the settings page).
DISCLOSURE_LAWS = {
    "CA": "California Bus. & Prof. Code §17941 (SB 1001)",
    "CO": "Colorado Rev. Stat. §6-1-1704 (SB 24-205, in force since June 30, 2026)",
    "ME": "Maine Rev. Stat. tit. 10 §1500-DD (LD 1727, 2025)",
    "UT": "Utah Code §13-77-103 (SB 149, 2024; SB 226, 2025)",
}

US_STATES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia",
    "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
    "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts",
    "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico",
    "NY": "New York", "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
    "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming", "PR": "Puerto Rico", "VI": "Virgin Islands",
    "GU": "Guam",
}  # fmt: skip

# The state of each three-digit ZIP prefix (the most common state of the prefix's ZIP codes in the
# data of the ``zipcodes`` package, 3.0.0), for an address that gives a ZIP code and no state. A
# table, because the package takes one to two seconds to load its data, and the missed-call text
# must go out in well under one.
_ZIP3_STATES = (
    (5, 5, "NY"), (6, 7, "PR"), (8, 8, "VI"), (9, 9, "PR"), (10, 27, "MA"), (28, 29, "RI"), (30, 38, "NH"),
    (39, 49, "ME"), (50, 54, "VT"), (55, 55, "MA"), (56, 59, "VT"), (60, 69, "CT"), (70, 89, "NJ"),
    (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"), (200, 200, "DC"), (201, 201, "VA"), (202, 205, "DC"),
    (206, 219, "MD"), (220, 246, "VA"), (247, 268, "WV"), (270, 289, "NC"), (290, 299, "SC"), (300, 319, "GA"),
    (320, 339, "FL"), (341, 349, "FL"), (350, 369, "AL"), (370, 385, "TN"), (386, 397, "MS"), (398, 399, "GA"),
    (400, 427, "KY"), (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"), (500, 528, "IA"), (530, 549, "WI"),
    (550, 567, "MN"), (569, 569, "DC"), (570, 577, "SD"), (580, 588, "ND"), (590, 599, "MT"), (600, 629, "IL"),
    (630, 658, "MO"), (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"), (716, 729, "AR"), (730, 731, "OK"),
    (733, 733, "TX"), (734, 749, "OK"), (750, 799, "TX"), (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"),
    (840, 847, "UT"), (850, 865, "AZ"), (870, 884, "NM"), (885, 885, "TX"), (888, 888, "DC"), (889, 898, "NV"),
    (900, 961, "CA"), (967, 968, "HI"), (969, 969, "GU"), (970, 979, "OR"), (980, 994, "WA"), (995, 999, "AK"),
)  # fmt: skip

# The area codes of each state (US numbers, from the geocoding data of the ``phonenumbers`` package,
# 9.0.43; no area code spans two states), for a business whose address does not tell its state.
_AREA_CODES = {
    "AK": (907,),
    "AL": (205, 251, 256, 334, 659, 938),
    "AR": (327, 479, 501, 870),
    "AZ": (480, 520, 602, 623, 928),
    "CA": (209, 213, 279, 310, 323, 341, 350, 369, 408, 415, 424, 442, 510, 530, 559, 562, 619, 626, 628, 650, 657, 661,
           669, 707, 714, 738, 747, 760, 805, 818, 820, 831, 840, 858, 909, 916, 925, 949, 951),
    "CO": (303, 719, 720, 748, 970, 983),
    "CT": (203, 475, 860, 959),
    "DC": (202, 771),
    "DE": (302,),
    "FL": (239, 305, 321, 324, 352, 386, 407, 448, 561, 645, 656, 689, 727, 728, 754, 772, 786, 813, 850, 863, 904, 941,
           954),
    "GA": (229, 404, 470, 478, 678, 706, 762, 770, 912, 943),
    "HI": (808,),
    "IA": (319, 515, 563, 641, 712),
    "ID": (208, 986),
    "IL": (217, 224, 309, 312, 331, 447, 464, 618, 630, 708, 730, 773, 779, 815, 847, 872),
    "IN": (219, 260, 317, 463, 574, 765, 812, 930),
    "KS": (316, 620, 785, 913),
    "KY": (270, 364, 502, 606, 859),
    "LA": (225, 318, 337, 504, 985),
    "MA": (339, 351, 413, 508, 617, 774, 781, 857, 978),
    "MD": (227, 240, 301, 410, 443, 667),
    "ME": (207,),
    "MI": (231, 248, 269, 313, 517, 586, 616, 734, 810, 906, 947, 989),
    "MN": (218, 320, 507, 612, 651, 763, 952),
    "MO": (235, 314, 417, 557, 573, 636, 660, 816, 975),
    "MS": (228, 601, 662, 769),
    "MT": (406,),
    "NC": (252, 336, 472, 704, 743, 828, 910, 919, 980, 984),
    "ND": (701,),
    "NE": (308, 402, 531),
    "NH": (603,),
    "NJ": (201, 551, 609, 640, 732, 848, 856, 862, 908, 973),
    "NM": (505, 575),
    "NV": (702, 725, 775),
    "NY": (212, 315, 329, 332, 347, 363, 516, 518, 585, 607, 631, 646, 680, 716, 718, 838, 845, 914, 917, 929, 934),
    "OH": (216, 220, 234, 283, 326, 330, 380, 419, 440, 513, 567, 614, 740, 937),
    "OK": (405, 539, 572, 580, 918),
    "OR": (458, 503, 541, 971),
    "PA": (215, 223, 267, 272, 412, 445, 484, 570, 582, 610, 717, 724, 814, 835, 878),
    "RI": (401,),
    "SC": (803, 821, 839, 843, 854, 864),
    "SD": (605,),
    "TN": (423, 615, 629, 731, 865, 901, 931),
    "TX": (210, 214, 254, 281, 325, 346, 361, 409, 430, 432, 469, 512, 682, 713, 726, 737, 806, 817, 830, 832, 903, 915,
           936, 940, 945, 956, 972, 979),
    "UT": (385, 435, 801),
    "VA": (276, 434, 540, 571, 686, 703, 757, 804, 826, 948),
    "VT": (802,),
    "WA": (206, 253, 360, 425, 509, 564),
    "WI": (262, 274, 353, 414, 534, 608, 715, 920),
    "WV": (304, 681),
    "WY": (307,),
}  # fmt: skip
_STATE_OF_AREA_CODE = {code: state for state, codes in _AREA_CODES.items() for code in codes}

# "Chicago IL 60601", "San Francisco, CA 94105-1234": a state code just before a ZIP code.
_STATE_BEFORE_ZIP = re.compile(r"\b(?P<state>[A-Z]{2}),?\s+\d{5}(?:-\d{4})?\b")
_USA = r"(?:,?\s*USA?)?\.?\s*$"
# A ZIP code that ends the address (a five-digit number elsewhere is a street number: "10250 Santa Monica Blvd").
_ZIP_AT_END = re.compile(r"\b(?P<zip>\d{5})(?:-\d{4})?" + _USA)
# "Denver, CO", "Chicago IL": a state code that ends the address, after a comma or a word that is not
# a street type ("Peachtree St NE" is a street, not Nebraska).
_STATE_AT_END = re.compile(r"(?P<before>[\w.]+)?(?P<comma>,)?\s+(?P<state>[A-Z]{2})" + _USA)
_STREET_TYPES = frozenset({
    "st", "street", "ave", "avenue", "rd", "road", "blvd", "boulevard", "dr", "drive", "ln", "lane", "way", "ct",
    "court", "pl", "place", "pkwy", "parkway", "hwy", "highway", "ter", "terrace", "cir", "circle", "trl", "trail",
    "sq", "square", "loop", "row",
})  # fmt: skip
_STATE_NAME = re.compile(
    r",\s*(?P<name>" + "|".join(sorted(map(re.escape, US_STATES.values()), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_NAMES = {name.lower(): code for code, name in US_STATES.items()}


def state_of_address(address: str) -> str | None:
    """The US state an address is in ("1420 W Fullerton Ave, Chicago IL 60614" is IL): the state code
    before its ZIP code, else its ZIP code, else a state code or name that ends it; None when it says
    none of them."""
    address = (address or "").strip()
    match = _STATE_BEFORE_ZIP.search(address)
    if match and match["state"] in US_STATES:
        return match["state"]
    match = _ZIP_AT_END.search(address)
    if match and state_of_zip(match["zip"]):
        return state_of_zip(match["zip"])
    match = _STATE_AT_END.search(address)
    if match and match["state"] in US_STATES:
        street = (match["before"] or "").rstrip(".").lower() in _STREET_TYPES
        if match["comma"] or not street:
            return match["state"]
    match = _STATE_NAME.search(address)
    return _NAMES[match["name"].lower()] if match else None


def state_of_zip(zip_code: str) -> str | None:
    prefix = int(zip_code[:3])
    for first, last, state in _ZIP3_STATES:
        if first <= prefix <= last:
            return state
    return None


def state_of_phone(number: str) -> str | None:
    """The state of a US (+1) number's area code ("+13125550100" is IL); None for toll-free and
    other non-geographic codes, and numbers outside the US."""
    digits = re.sub(r"\D", "", number or "")
    if len(digits) != 11 or not digits.startswith("1"):
        return None
    return _STATE_OF_AREA_CODE.get(int(digits[1:4]))


def business_state(config, business=None) -> str | None:
    """The state the business is in: its service-area address, else its holiday calendar's US state,
    else its main phone number's area code."""
    state = state_of_address((config.service_area or {}).get("address") or "")
    if state:
        return state
    subdivision = (config.holiday_subdivision or "").upper()
    if config.holiday_country == "US" and subdivision in US_STATES:
        return subdivision
    return state_of_phone(getattr(business, "phone", "") or "")


@dataclass(frozen=True)
class DisclosurePolicy:
    setting: str  # where_required, always, never
    state: str | None  # the business's state, when it can be told
    law: str | None  # the law of that state that asks for the disclosure, if any

    @property
    def state_name(self) -> str:
        return US_STATES.get(self.state or "", "")

    @property
    def required(self) -> bool:
        """Whether the first automated text of a conversation says that replies are automated."""
        if self.setting == ALWAYS:
            return True
        if self.setting == NEVER:
            return False
        return self.state is None or self.law is not None


def disclosure_policy(config, business) -> DisclosurePolicy:
    """The business's disclosure decision, from its settings and its own row (no query: the
    missed-call path has both already)."""
    setting = (config.ai_settings or {}).get("disclose_automation") or DEFAULT
    state = business_state(config, business)
    return DisclosurePolicy(setting, state, DISCLOSURE_LAWS.get(state))


def disclosure_sentence(language: str) -> str:
    """The sentence itself, in ``language`` (English unless Spanish). Both are plain GSM-7, so a text
    that was GSM-7 does not switch to UCS-2 (70 characters a segment instead of 160) for it."""
    with translation.override(language if language in ("en", "es") else "en"):
        return gettext("Replies here are automated.")


# The opt-out line a text ends with ("Reply STOP to opt out.", "Responda STOP para no recibir más."):
# the last sentence, or line, that names STOP.
_OPT_OUT_TAIL = re.compile(r"(?P<gap>(?:^|(?<=[.!?…])|(?<=\n))\s*)(?P<line>[^.!?…\n]*\bSTOP\b[^\n]*)$", re.DOTALL)


def with_disclosure(body: str, language: str, *, max_segments: int) -> str:
    """``body`` with the disclosure sentence, before its opt-out line if it ends with one (that line
    stays last, where carriers and customers look for it). When the result would be longer than
    ``max_segments``, the text before the disclosure is shortened, never the disclosure or the
    opt-out line. A body that already says it changes nothing."""
    sentence = disclosure_sentence(language)
    if sentence in body:
        return body
    head, tail = body.rstrip(), ""
    match = _OPT_OUT_TAIL.search(head)
    if match:
        head, tail = head[: match.start()].rstrip(), match["line"]
        if not head:  # The opt-out sentence is the whole text: the disclosure goes first.
            return clip_to_segments(tail, max_segments, before=f"{sentence} ")
        tail = ("\n" if "\n" in match["gap"] else " ") + tail
    if head and head[-1] not in ".!?…":
        head += "."
    return clip_to_segments(head, max_segments, after=f" {sentence}{tail}")
