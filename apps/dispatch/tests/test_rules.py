"""The rule-based engine alone, on messages the way customers actually text them."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from apps.dispatch import rules

CHICAGO = ZoneInfo("America/Chicago")

# (message, job_type, trade, urgency, intent, language)
MESSAGES = [
    # Plumbing
    (
        "Hi, my kitchen sink is clogged and won't drain. Can someone come out tomorrow?",
        "drain_cleaning",
        "plumbing",
        "normal",
        "appointment",
        "en",
    ),
    ("Water is pouring from a burst pipe in my basement!!", "burst_pipe", "plumbing", "emergency", "emergency", "en"),
    ("How much do you charge to replace a water heater?", "water_heater", "plumbing", "normal", "pricing", "en"),
    ("no hot water since this morning, 40 gallon gas tank", "water_heater", "plumbing", "urgent", "appointment", "en"),
    (
        "Toilet keeps running all night, not urgent, whenever you have time",
        "toilet_repair",
        "plumbing",
        "normal",
        "appointment",
        "en",
    ),
    ("bathroom faucet is dripping, need it fixed next week", "leak_repair", "plumbing", "normal", "appointment", "en"),
    (
        "Sewage is backing up into my shower, it smells terrible",
        "drain_cleaning",
        "plumbing",
        "emergency",
        "emergency",
        "en",
    ),
    (
        "There's a leak under the bathroom sink, can you send someone Saturday?",
        "leak_repair",
        "plumbing",
        "normal",
        "appointment",
        "en",
    ),
    ("my basement is flooding, sump pump died", "sump_pump", "plumbing", "emergency", "emergency", "en"),
    ("Do you guys do drain cleaning? What's the price?", "drain_cleaning", "plumbing", "normal", "pricing", "en"),
    (
        "Hola, tengo el inodoro tapado, pueden venir mañana por la mañana?",
        "toilet_repair",
        "plumbing",
        "normal",
        "appointment",
        "es",
    ),
    (
        "Se reventó una tubería y hay agua por todos lados, es una emergencia",
        "burst_pipe",
        "plumbing",
        "emergency",
        "emergency",
        "es",
    ),
    ("¿Cuánto cuesta cambiar un calentador de agua?", "water_heater", "plumbing", "normal", "pricing", "es"),
    ("I smell gas in the kitchen near the stove", "gas_leak", "plumbing", "emergency", "emergency", "en"),
    (
        "Water coming thru the ceiling from the upstairs bathroom",
        "leak_repair",
        "plumbing",
        "emergency",
        "emergency",
        "en",
    ),
    ("Can u come fix my garbage disposal, it just hums", "garbage_disposal", "plumbing", "normal", "appointment", "en"),
    ("need a quote for repiping a 1950s house", None, "plumbing", "normal", "pricing", "en"),
    ("Hola buenos días, necesito un plomero", None, "plumbing", "normal", "appointment", "es"),
    # Electrical
    (
        "Half the outlets in my living room stopped working",
        "outlet_repair",
        "electrical",
        "normal",
        "appointment",
        "en",
    ),
    ("I see sparks coming from the outlet behind the fridge", "wiring", "electrical", "emergency", "emergency", "en"),
    (
        "Breaker keeps tripping every time I run the microwave",
        "breaker_panel",
        "electrical",
        "normal",
        "appointment",
        "en",
    ),
    (
        "We have no power in half the house, neighbors are fine",
        "power_outage",
        "electrical",
        "urgent",
        "appointment",
        "en",
    ),
    (
        "Looking for a quote to install a Tesla charger in the garage",
        "ev_charger",
        "electrical",
        "normal",
        "pricing",
        "en",
    ),
    (
        "The lights flicker in the kitchen whenever the AC kicks on, can an electrician look at it?",
        "lighting",
        "electrical",
        "normal",
        "appointment",
        "en",
    ),
    ("There's a burning smell from the panel", "wiring", "electrical", "emergency", "emergency", "en"),
    (
        "Need a ceiling fan installed in the bedroom, any time next week",
        "lighting",
        "electrical",
        "normal",
        "appointment",
        "en",
    ),
    (
        "Se fue la luz en la mitad de la casa, necesito un electricista hoy",
        "power_outage",
        "electrical",
        "urgent",
        "appointment",
        "es",
    ),
    ("Salen chispas del enchufe de la cocina!", "wiring", "electrical", "emergency", "emergency", "es"),
    # HVAC
    ("AC is blowing warm air and it's 95 degrees in here", "ac_repair", "hvac", "normal", "appointment", "en"),
    ("Furnace stopped working, no heat and I have a newborn", "heating_repair", "hvac", "urgent", "appointment", "en"),
    (
        "Can I schedule a tune-up for my furnace before winter?",
        "hvac_maintenance",
        "hvac",
        "normal",
        "appointment",
        "en",
    ),
    (
        "Our carbon monoxide alarm is going off near the furnace",
        "carbon_monoxide",
        "hvac",
        "emergency",
        "emergency",
        "en",
    ),
    ("What does a thermostat replacement cost?", "thermostat", "hvac", "normal", "pricing", "en"),
    (
        "Air conditioner not cooling upstairs, can you come after 3pm?",
        "ac_repair",
        "hvac",
        "urgent",
        "appointment",
        "en",
    ),
    ("El aire acondicionado no enfría, pueden venir el sábado?", "ac_repair", "hvac", "urgent", "appointment", "es"),
    ("Necesito mantenimiento de la calefacción, cuánto cobran?", "hvac_maintenance", "hvac", "normal", "pricing", "es"),
    # Locksmith
    ("I locked myself out of my house, keys are inside", "lockout", "locksmith", "urgent", "appointment", "en"),
    ("Just moved in and want to rekey all the locks", "lock_change", "locksmith", "normal", "appointment", "en"),
    (
        "My toddler is locked in the car and it's hot out, please hurry",
        "lockout",
        "locksmith",
        "emergency",
        "emergency",
        "en",
    ),
    ("How much for a new deadbolt installed on the back door?", "lock_change", "locksmith", "normal", "pricing", "en"),
    ("Need a copy of my car key, lost the spare", "key_duplication", "locksmith", "normal", "appointment", "en"),
    ("Me quedé afuera de mi casa, perdí mis llaves", "lockout", "locksmith", "urgent", "appointment", "es"),
    ("Quiero cambiar la cerradura de la puerta principal", "lock_change", "locksmith", "normal", "appointment", "es"),
    # Garage door
    (
        "Garage door spring snapped with a loud bang, car is stuck inside",
        "garage_spring",
        "garage_door",
        "normal",
        "appointment",
        "en",
    ),
    (
        "The garage door opener stopped responding to the remote",
        "garage_opener",
        "garage_door",
        "normal",
        "appointment",
        "en",
    ),
    (
        "Garage door came off the track and is hanging crooked",
        "garage_off_track",
        "garage_door",
        "normal",
        "appointment",
        "en",
    ),
    (
        "My garage door won't close, I need it fixed today",
        "garage_door_repair",
        "garage_door",
        "urgent",
        "appointment",
        "en",
    ),
    ("Estimate for a new garage door installation?", "garage_door_repair", "garage_door", "normal", "pricing", "en"),
    (
        "La puerta del garaje no cierra, se salió del riel",
        "garage_off_track",
        "garage_door",
        "urgent",
        "appointment",
        "es",
    ),
    # General
    ("What are your hours on weekends?", None, None, "normal", "general", "en"),
    ("Thanks!", None, None, "normal", "general", "en"),
    ("Do you service the Evanston area?", None, None, "normal", "general", "en"),
    ("Hola, buenas tardes", None, None, "normal", "general", "es"),
]


@pytest.mark.parametrize(("message", "job_type", "trade", "urgency", "intent", "language"), MESSAGES)
def test_rule_engine_table(message, job_type, trade, urgency, intent, language):
    job = rules.detect_job_type(message)
    detected_urgency, urgency_confidence = rules.detect_urgency(message)
    detected_intent, intent_confidence = rules.detect_intent(message, urgency=detected_urgency, job=job)
    assert (job.job_type, job.trade) == (job_type, trade), job
    assert detected_urgency == urgency
    assert detected_intent == intent
    assert rules.detect_language(message) == language
    assert 0 < urgency_confidence <= 1 and 0 < intent_confidence <= 1
    if job_type:
        assert 0.8 <= job.confidence <= 0.95
    elif trade:
        assert job.confidence == 0.6  # the trade is clear, the job is not
    else:
        assert job.confidence == 0.0


def test_table_is_big_and_covers_every_trade_and_intent():
    assert len(MESSAGES) >= 40
    assert {row[2] for row in MESSAGES} >= {"plumbing", "electrical", "hvac", "locksmith", "garage_door"}
    assert {row[4] for row in MESSAGES} == set(rules.INTENTS)
    assert sum(1 for row in MESSAGES if row[5] == "es") >= 10


def test_bare_trade_word_gives_trade_with_lower_confidence_and_business_trades_break_ties():
    match = rules.detect_job_type("I need a plumber")
    assert (match.trade, match.job_type, match.confidence) == ("plumbing", None, 0.6)
    # "keys" (locksmith) and "garage" (garage door) both match; the business's trade decides.
    assert rules.detect_job_type("lost keys to the garage", trades=["garage_door"]).trade == "locksmith"
    assert rules.detect_job_type("my garage keys", trades=["garage_door"]).trade == "garage_door"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("yes", "confirmed"),
        ("Yes please!", "confirmed"),
        ("sounds good", "confirmed"),
        ("That works for me", "confirmed"),
        ("ok see you then", "confirmed"),
        ("perfect, book it", "confirmed"),
        ("Sí, perfecto", "confirmed"),
        ("me parece bien", "confirmed"),
        ("no", "rejected"),
        ("No.", "rejected"),
        ("nope, another time", "rejected"),
        ("that doesn't work, I'm at work then", "rejected"),
        ("can we do a different day?", "rejected"),
        ("no, how about Friday afternoon", "rejected"),
        ("no puedo a esa hora, otro día", "rejected"),
        ("no hot water", None),
        ("what's the address you have?", None),
    ],
)
def test_confirmation(message, expected):
    assert rules.detect_confirmation(message) == expected


@pytest.mark.parametrize(
    ("message", "name"),
    [
        ("Hi this is Maria Lopez, my sink is clogged", "Maria Lopez"),
        ("my name is John", "John"),
        ("I'm Dave and I'm locked out", "Dave"),
        ("I'm locked out of my car", None),
        ("It's Sam here", "Sam"),
        ("Me llamo José Hernández", "José Hernández"),
        ("Soy Ana, tengo una fuga", "Ana"),
        ("need help asap", None),
    ],
)
def test_name_extraction(message, name):
    assert rules.extract_name(message) == name


@pytest.mark.parametrize(
    ("message", "text", "zip_code"),
    [
        ("I'm at 1420 W Fullerton Ave, Chicago IL 60614", "1420 W Fullerton Ave, Chicago, IL 60614", "60614"),
        ("address is 55 Oak Street apt 3B", "55 Oak Street apt 3B", None),
        ("come to 9 N Main St. thanks", "9 N Main St", None),
        ("2210 Maple Dr Evanston IL 60201 - back door", "2210 Maple Dr, Evanston, IL 60201", "60201"),
        ("Vivo en 310 Elm Rd, Oak Park IL 60302", "310 Elm Rd, Oak Park, IL 60302", "60302"),
        ("my zip is 60657", "60657", "60657"),
        ("the faucet is 10 years old", None, None),
    ],
)
def test_address_extraction(message, text, zip_code):
    address = rules.extract_address(message)
    if text is None:
        assert address is None
    else:
        assert address.text == text
        assert address.zip_code == zip_code


# Monday 2026-11-23 10:00 in Chicago.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("after 3pm", {"after": time(15)}),
        ("after 3", {"after": time(15)}),
        ("tomorrow morning", {"date": "2026-11-24", "day_part": "morning", "after": time(7), "before": time(12)}),
        ("Saturday", {"date": "2026-11-28", "weekday": 5}),
        ("this saturday afternoon", {"date": "2026-11-28", "day_part": "afternoon"}),
        ("asap please", {"asap": True}),
        ("next Tuesday at 10", {"date": "2026-11-24", "weekday": 1, "at": time(10)}),
        ("next Monday", {"date": "2026-11-30", "weekday": 0}),
        ("Monday", {"date": "2026-11-23", "weekday": 0}),
        ("between 2 and 4", {"after": time(14), "before": time(16)}),
        ("before noon", {"before": time(12)}),
        ("any time next week", {"flexible": True, "earliest_date": "2026-11-30"}),
        ("today at 4:30pm", {"date": "2026-11-23", "at": time(16, 30)}),
        ("tonight", {"date": "2026-11-23", "day_part": "evening"}),
        ("mañana por la mañana", {"date": "2026-11-24", "day_part": "morning"}),
        ("el sábado después de las 2", {"date": "2026-11-28", "after": time(14)}),
        ("lo antes posible", {"asap": True}),
        ("pasado mañana por la tarde", {"date": "2026-11-25", "day_part": "afternoon"}),
        ("el martes que viene a las 9", {"date": "2026-11-24", "at": time(9)}),
    ],
)
def test_time_preferences(message, expected):
    preference = rules.parse_time_preference(message, now=NOW)
    as_dict = preference.as_dict()
    for key, value in expected.items():
        got = getattr(preference, key)
        if key in {"date", "earliest_date"}:
            got = as_dict[key]
        assert got == value, (key, as_dict)
    assert not preference.is_empty


def test_no_time_preference():
    assert rules.parse_time_preference("my toilet is clogged", now=NOW).is_empty


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Maria Lopez, 1420 W Fullerton Ave, Chicago IL 60614", "Maria Lopez"),
        ("Ana María Solís, 1600 Federal Blvd, Denver CO 80204", "Ana María Solís"),
        ("1420 W Fullerton Ave, Chicago IL 60614", None),
    ],
)
def test_a_name_given_before_the_address(text, name):
    assert rules.extract_name(text) == name


@pytest.mark.parametrize(
    ("text", "day", "at"),
    [
        ("can you come December 12 at 10?", date(2026, 12, 12), time(10)),
        ("el 15 de diciembre por la tarde", date(2026, 12, 15), None),
        ("on 12/18 around 10", date(2026, 12, 18), time(10)),
        ("the 15th works", date(2026, 12, 15), None),
        ("Jan 4th in the morning", date(2027, 1, 4), None),  # the coming January
        ("the 1/2 inch pipe under the sink is dripping", None, None),
    ],
)
def test_a_calendar_date_by_name_or_number(text, day, at):
    preference = rules.parse_time_preference(text, now=datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("America/Chicago")))
    assert (preference.date, preference.at) == (day, at)


def test_days_ruled_out_and_the_lunch_break():
    now = datetime(2026, 12, 4, 16, tzinfo=ZoneInfo("America/Chicago"))
    assert rules.parse_time_preference("Not Monday, I work Mondays", now=now).excluded_weekdays == (0,)
    assert rules.parse_time_preference("el jueves no puedo", now=now).excluded_weekdays == (3,)
    weekdays = rules.parse_time_preference("cualquier día entre semana después de las 5", now=now)
    assert (weekdays.excluded_weekdays, weekdays.after) == ((5, 6), time(17))
    assert rules.parse_time_preference("tomorrow after lunch", now=now).after == time(13)
    assert rules.parse_time_preference("Mornings are best", now=now).day_part == "morning"
    late = rules.parse_time_preference("could someone come at 2:30 tonight?", now=now.replace(hour=23, minute=40))
    assert (late.date, late.at) == (date(2026, 12, 5), time(2, 30))


def test_what_the_customer_says_is_fine_is_not_the_job():
    assert "pastilla" not in rules.without_denials("el enchufe no da corriente, ya revisé la pastilla y está bien")
    assert "gas" not in rules.without_denials("el piloto no prende, no huele a gas")
    assert "duro" in rules.without_denials("el cerrojo está bien duro")  # "bien" here is "very"
    assert rules.detect_urgency(rules.without_denials("no huele a gas, el piloto se apaga"))[0] != "emergency"


@pytest.mark.parametrize(
    "texts",
    [
        ["se fue la luz en toda la casa y el concentrador de oxígeno de mi mamá tiene 2 horas de batería"],
        ["power is out and my husband is on a CPAP"],
    ],
)
def test_medical_equipment_without_power_is_an_emergency(texts):
    assert rules.situational_emergency(texts, local_hour=14) == "medical equipment without power"


@pytest.mark.parametrize(
    "text",
    [
        "can u just have the owner give me a call?",
        "¿puedo hablar directamente con el dueño?",
        "honestly id rather talk to someone than text",
    ],
)
def test_asking_for_the_owner_is_asking_for_a_person(text):
    assert rules.asks_for_human(text)


def test_names_in_lower_case_and_after_the_address():
    assert rules.extract_name("hola soy guadalupe reyes vivo en 2815 w pico blvd") == "Guadalupe Reyes"
    assert rules.extract_name("1140 Iroquois Ave Naperville 60563 - its Derek Olsen btw") == "Derek Olsen"
    assert rules.extract_name("soy de chicago") is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # particles between name words, in lower case and capitalised
        ("me llamo ana sofía de la peña, vivo en 88 w lake st", "Ana Sofía de la Peña"),
        ("Soy Tomás del Río, 12 Oak St", "Tomás del Río"),
        ("my name is pieter van der berg", "Pieter van der Berg"),
        # two surnames: four name words
        ("mi nombre es juan carlos ramírez luna y vivo en 300 main st", "Juan Carlos Ramírez Luna"),
        # hyphens and apostrophes keep their capitals; "it's" names only before the address
        ("it's anne-marie d'souza, 45 elm st", "Anne-Marie D'Souza"),
        ("its leaking again, 3 times this week", None),
        # a particle never opens a name
        ("soy del norte", None),
    ],
)
def test_names_with_particles_two_surnames_and_hyphens(text, name):
    assert rules.extract_name(text) == name


@pytest.mark.parametrize("text", ["kk", "bet", "awesome yes", "no prob 👌", "lock it in 🔒", "simón", "sip"])
def test_more_ways_to_say_yes(text):
    assert rules.detect_confirmation(text) == "confirmed"


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("we wont need the furnace tune up on saturday anymore. can you take us off the schedule?", "cancel"),
        ("ya no es necesario que vengan mañana, se destapó solito", "cancel"),
        ("sí, cancélela por favor", "cancel"),
        ("cancel tmrw pls, landlord rekeyed it", "cancel"),
        ("can we do monday the 14th instead, same time?", "reschedule"),
        ("¿se puede cambiar al sábado en la mañana?", "reschedule"),
    ],
)
def test_more_ways_to_change_an_appointment(text, change):
    assert rules.detect_change(text) == change


def test_same_time_and_spam_pitches():
    assert rules.says_same_time("can we do monday instead, same time?")
    assert rules.looks_like_spam("¿Le gustaría instalar paneles solares SIN COSTO? Ahorre hasta 90% en su recibo")
    assert rules.looks_like_spam("We help contractors rank higher on Google. Book a quick call this week?")


def test_constraints_people_give_in_passing():
    now = datetime(2026, 12, 9, 20, tzinfo=ZoneInfo("America/Chicago"))
    leave = rules.parse_time_preference("este sabado temprano? a las 10 tengo que salir a un bautizo", now=now)
    assert (leave.date, leave.before) == (date(2026, 12, 12), time(10))
    assert rules.parse_time_preference("I have to leave at 9", now=now).before == time(9)
    no_mornings = rules.parse_time_preference("la semana que entra, en la mañana no estoy", now=now)
    assert (no_mornings.after, no_mornings.earliest_date) == (time(12), date(2026, 12, 14))
    corrected = rules.parse_time_preference("thursday is my kids recital, friday instead?", now=now)
    assert corrected.weekday == 4


def test_carbon_monoxide_told_by_its_symptoms():
    texts = ["desde que prendimos la calefaccion anoche a todos nos duele la cabeza y mi hija vomito"]
    assert "carbon monoxide" in rules.situational_emergency(texts, local_hour=7)
    assert rules.situational_emergency(["I have a headache, the AC is fine"], local_hour=7) is None


def test_water_through_the_ceiling_and_no_shutoff_are_emergencies():
    assert rules.detect_urgency("esta cayendo agua del techo de la cocina")[0] == "emergency"
    assert rules.detect_urgency("pipe broke and I can't find the shutoff")[0] == "emergency"


def test_the_days_a_correction_names():
    assert rules.weekdays_named("actually make that thursday morning, forgot i have the dentist wed") == [3, 2]


@pytest.mark.parametrize(
    ("text", "urgency"),
    [
        # a danger denied before its smell, or denied outright, is no emergency
        ("the dimmer gets warm and buzzes, no burning smell. can someone replace it?", "normal"),
        ("the outlet is loose, no sparks, no smoke", "normal"),
        ("el apagador está flojo, sin chispas ni humo", "normal"),
        # a danger named as what a routine visit checks is not happening
        ("we need a carbon monoxide inspection on the furnace before closing on the house", "normal"),
        ("necesito una revisión de gas para el calentador", "normal"),
        # the danger itself still is one
        ("my carbon monoxide alarm is going off", "emergency"),
        ("no sparks but it smells like smoke", "emergency"),
        ("there is a burning smell from the panel", "emergency"),
    ],
)
def test_a_denied_or_inspected_danger_is_not_an_emergency(text, urgency):
    assert rules.detect_urgency(rules.without_denials(text))[0] == urgency


def test_a_denied_lockout_is_no_evidence_for_one():
    text = "perdí la única llave del carro, no estoy encerrado ni nada, solo necesito una llave nueva"
    assert "encerrad" not in rules.without_denials(text)
    assert "locked" not in rules.without_denials("lost my only car key, i'm not locked out, just need a new one")
    assert "locked out" in rules.without_denials("i'm locked out of my car")


@pytest.mark.parametrize(
    "text",
    [
        "por las rejillas sale puro aire caliente. el termostato es nuevo y marca bien",
        "the opener keeps reversing, the remote is brand new",
        "the furnace blows cold air, we just replaced the filter",
    ],
)
def test_a_part_already_new_is_checked_not_the_job(text):
    from apps.dispatch import catalogue

    assert catalogue.work_kind(rules.without_denials(text)) != "install"
    assert catalogue.work_kind(rules.without_denials("quiero un termostato nuevo")) == "install"


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Tom Kowalski 3342 N Paulina St 60657", "Tom Kowalski"),  # no comma between them
        ("mike sullivan 412 e 5th ave denver 80218", "Mike Sullivan"),  # all lower case
        ("water heater 123 main st", None),  # the job before an address is no name
        ("and its Beth Sorensen", "Beth Sorensen"),  # the name on its own, later
        ("a nombre de Gloria Téllez, 2250 E 4th St, Los Angeles 90033", "Gloria Téllez"),  # the booking's name
        ("put it under Dana Wu please", "Dana Wu"),
    ],
)
def test_a_name_without_an_introduction(text, name):
    assert rules.extract_name(text) == name


@pytest.mark.parametrize(
    ("text", "street", "city", "zip_code"),
    [
        # a street without its type, told from the city by the ZIP code's city (zipcodes)
        ("Ana Ruiz, 845 N Broadway Los Angeles 90012", "845 N Broadway", "Los Angeles", "90012"),
        # the second address when the first is taken back
        ("12 Crestline Dr? no sorry 112 Crestline Dr Littleton CO 80120", "112 Crestline Dr", "Littleton", "80120"),
        ("it's 3 doors down from 60614", None, None, "60614"),
    ],
)
def test_addresses_without_a_street_type_and_corrected_in_the_same_text(text, street, city, zip_code):
    address = rules.extract_address(text)
    assert (address.street, address.city, address.zip_code) == (street, city, zip_code)


def test_an_address_given_in_pieces_or_corrected_later():
    # newest first, as the engine reads a conversation
    pieces = rules.conversation_address(["and its Beth Sorensen", "apt 3R, chicago 60614", "1600 W Fullerton Ave"])
    assert pieces.text == "1600 W Fullerton Ave apt 3R, Chicago, 60614"
    number = rules.conversation_address(
        ["sorry typo, its 1420 ridgeland not 1240", "Alan Price, 1240 Ridgeland Ave, Naperville IL 60563"]
    )
    assert number.text == "1420 Ridgeland Ave, Naperville, IL 60563"
    kept = rules.conversation_address(["yes", "tomorrow at 3", "1240 Ridgeland Ave, Naperville IL 60563"])
    assert kept.street == "1240 Ridgeland Ave"
    assert rules.conversation_address(["60614", "my sink is clogged"]).zip_code == "60614"


def test_constraints_and_alternatives_in_the_customers_words():
    now = datetime(2026, 12, 3, 12, tzinfo=CHICAGO)
    but = rules.parse_time_preference("sometime next week, anything but monday", now=now)
    assert (but.excluded_weekdays, but.earliest_date) == ((0,), date(2026, 12, 7))
    window = rules.parse_time_preference(
        "el martes 22, pero no llego a la casa antes de las 11 y tengo que salir a la 1 en punto", now=now
    )
    assert (window.date, window.after, window.before) == (date(2026, 12, 22), time(11), time(13))
    assert rules.parse_time_preference("won't be home before 4", now=now).after == time(16)
    # "o si no el sábado 2" offers Saturday, it does not rule it out
    other = rules.parse_time_preference("el viernes primero de enero? o si no el sabado 2 en la mañana", now=now)
    assert (other.date, other.excluded_weekdays) == (date(2027, 1, 2), ())
    # a clock said outright wins over a part of the day said about something else
    sharp = rules.parse_time_preference("we're ok tonight, can someone come tomorrow at 7am sharp?", now=now)
    assert (sharp.at, sharp.day_part, sharp.after) == (time(7), None, None)
    assert rules.says_am_or_pm("7 p.m. works") and not rules.says_am_or_pm("yes friday at 7 perfect")


def test_a_lower_case_introduction_before_the_address_is_not_part_of_the_name():
    assert rules.extract_name("names frank delgado 2244 w belmont ave 60618") == "Frank Delgado"


@pytest.mark.parametrize(
    ("text", "human"),
    [
        ("¿me pueden llamar antes de llegar? es que estoy en la casa de al lado", False),
        ("can you call me before you come", False),
        ("have the tech text me when he's on the way", False),
        ("can someone call me", True),
    ],
)
def test_call_before_the_visit_is_a_note_not_a_hand_off(text, human):
    assert rules.asks_for_human(text) is human


@pytest.mark.parametrize(
    "text",
    [
        "water is coming thru the kitchen ceiling from the upstairs bathroom!! dripping fast",
        "the light fixture is wet, water dripping on it",
        "smells like rotten eggs near the stove, getting stronger",
        "huele a huevo podrido en la cocina",
        "un apagador de la recámara echa chispitas cuando lo prendo",
    ],
)
def test_dangers_told_by_what_people_notice_are_emergencies(text):
    assert rules.detect_urgency(rules.without_denials(text))[0] == "emergency"


@pytest.mark.parametrize(
    ("texts", "hour", "reason"),
    [
        (["no sirve la calefacción y tengo un bebé de 3 meses, la casa está bien fría ya"], 23, "vulnerable"),
        (["se apagó el calentón y no vuelve a prender, mi papá tiene 80 años y está conmigo"], 1, "vulnerable"),
        (["furnace keeps clicking but no flame, house is 52 degrees and I have newborn twins"], 23, "vulnerable"),
        (["furnace won't ignite, the house is 48 degrees"], 10, "extreme"),
        (["se cerro la puerta y mi niño de 2 años se quedo adentro solo!! ayuda"], 16, "locked inside"),
        (["my toddler is locked inside the house and I'm on the porch"], 12, "locked inside"),
        # extreme cold said as a bare number or in words, the vulnerable person by their age
        (["furnace just died. its -4 out and my mom is 88 and lives with us"], 23, "vulnerable"),
        (["heater stopped working and its 10 below"], 14, "extreme"),
        (["se descompuso la calefacción y estamos bajo cero"], 14, "extreme"),
        (["no heat since last night and my husband is sick"], 9, "vulnerable"),
        # a child said to be in the car, with the keys or locked
        (["AYUDA mi bebe esta adentro del carro y las llaves tambien!!"], 15, "a child locked in a car"),
        (["my baby is locked in the car and the keys are on the seat"], 11, "a child locked in a car"),
    ],
)
def test_situations_that_are_emergencies_in_other_words(texts, hour, reason):
    assert reason in rules.situational_emergency(texts, local_hour=hour)


@pytest.mark.parametrize(
    "texts",
    [
        ["furnace keeps clicking but still heats, house is 68 degrees"],
        ["la calefacción hace ruido pero sí calienta"],
        ["my son locked his bike, lost the key"],
        ["furnace not working, its 45 out, no hurry"],
        ["my daughter is in the car waiting, how much for a rekey"],
        ["heater is noisy, call me at 630 555-1234"],
    ],
)
def test_calm_versions_of_those_situations_are_not(texts):
    assert rules.situational_emergency(texts, local_hour=12) is None


@pytest.mark.parametrize(
    "text",
    [
        "Can the owner just give me a call back? I'd rather explain on the phone",
        "ugh I don't want to text with a machine. AGENT",
        "¿me puede regresar la llamada el dueño?",
        "call me back when you can",
        "oye mejor me puedes llamar? prefiero hablar por phone con alguien",
        "prefiero hablar por teléfono",
    ],
)
def test_a_person_asked_for_by_role_or_a_refusal_of_the_machine(text):
    assert rules.asks_for_human(text)


@pytest.mark.parametrize(
    "text", ["the agent at the store said it's the spring", "thanks", "the rep at home depot said the opener is dead"]
)
def test_a_person_named_in_passing_is_no_request_for_one(text):
    assert not rules.asks_for_human(text)


def test_tonight_runs_past_the_evening():
    now = datetime(2026, 12, 13, 20, 18, tzinfo=ZoneInfo("America/Denver"))
    tonight = rules.parse_time_preference("yes please tonight", now=now)
    assert (tonight.date, tonight.before) == (date(2026, 12, 13), None)
    assert rules.parse_time_preference("tomorrow evening", now=now).before == time(21)


def test_get_rich_texts_are_spam():
    assert rules.looks_like_spam("Make $3000/week from home trading crypto!!")
    assert rules.looks_like_spam("Last chance!!! spots filling fast")
    assert not rules.looks_like_spam("last chance to fix this before winter? furnace is loud")


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("oiga ya no vengan el viernes, mi compadre ya me cambió el resorte", "cancel"),
        ("no need to come friday, my brother fixed it", "cancel"),
        ("don't bother coming, it works again", "cancel"),
        ("don't come before 10 please", None),
    ],
)
def test_told_not_to_come_is_a_cancellation(text, change):
    assert rules.detect_change(text) == change


@pytest.mark.parametrize(
    ("text", "change"),
    [
        ("hey so we actually sold the house, wont be needing the duct cleaning anymore. sorry!", "cancel"),
        ("nvm my husband got the drain unclogged w baking soda 🙌 dont need the plumber tmrw", "cancel"),
        ("ya no ocupamos al técnico, ya quedó", "cancel"),
        ("you don't need a ladder, the attic hatch is open", None),
        ("see you tomorrow", None),
    ],
)
def test_no_longer_needing_the_visit_cancels_the_one_booked(text, change):
    assert rules.change_of_booked(text, appointment_day=date(2026, 12, 4), today=date(2026, 12, 3)) == change


def test_a_price_asked_with_por():
    assert rules.detect_intent("hola cuanto por un rekey de 3 chapas")[0] == "pricing"
    assert rules.detect_intent("cuanto por abrir un carro")[0] == "pricing"


def test_two_price_questions_and_a_price_for_tonight():
    text = "¿cuánto cobran por cambiar un resorte? y de paso ¿cuánto sale el mantenimiento general?"
    assert len(rules.price_questions(text)) == 2
    assert rules.price_questions("how much to fix my drain?") == []
    assert rules.asks_out_of_hours_price("how much is it if someone comes tonight vs just waiting til tuesday?")
    assert not rules.asks_out_of_hours_price("can someone come tonight?")


@pytest.mark.parametrize(
    ("text", "answer"),
    [("el martes está bien, gracias", "confirmed"), ("tuesday works", "confirmed"), ("el martes no puedo", "rejected")],
)
def test_the_day_said_back_with_the_yes(text, answer):
    assert rules.detect_confirmation(text) == answer


SATURDAY_AT_3 = datetime(2026, 12, 5, 15, 0, tzinfo=CHICAGO)
THURSDAY_MORNING = datetime(2026, 12, 3, 8, 0, tzinfo=CHICAGO)


@pytest.mark.parametrize(
    "text",
    [
        "Morning! My tune-up is Saturday at 3. Any chance it could be earlier that day, like 9 or 10?",
        "mi cita es el sábado a las 3, ¿se puede más temprano ese mismo día, a las 9 o 10?",
        "could you do the same day but at 9 or 10 instead?",
    ],
)
def test_that_day_is_the_appointments_day_and_two_hours_are_a_window_of_starts(text):
    """ "Earlier that day, like 9 or 10": the booked day (not the day it is now), starting 9 to 10."""
    target = rules.reschedule_target(text, now=THURSDAY_MORNING, booked=SATURDAY_AT_3)
    assert (target.date, target.after, target.latest_start, target.at) == (date(2026, 12, 5), time(9), time(10), None)
    asked = rules.detect_change(text) or rules.change_of_booked(
        text, appointment_day=SATURDAY_AT_3.date(), today=THURSDAY_MORNING.date()
    )
    assert asked == "reschedule"


@pytest.mark.parametrize(
    ("text", "after", "latest_start"),
    [
        ("My appointment is Saturday at 3, could it be earlier that day?", None, time(14, 59)),
        ("ese mismo día pero más temprano, se puede?", None, time(14, 59)),
        ("could it be later that day?", time(15, 1), None),
        ("¿se puede más tarde ese mismo día?", time(15, 1), None),
    ],
)
def test_earlier_or_later_that_day_is_before_or_after_the_appointments_time(text, after, latest_start):
    target = rules.reschedule_target(text, now=THURSDAY_MORNING, booked=SATURDAY_AT_3)
    assert (target.date, target.after, target.latest_start, target.at) == (date(2026, 12, 5), after, latest_start, None)
    assert rules.change_of_booked(text, appointment_day=SATURDAY_AT_3.date(), today=THURSDAY_MORNING.date()) == (
        "reschedule"
    )


def test_the_appointments_own_time_said_with_its_day_is_not_the_new_time():
    """ "Saturday at 3" is where it is; "Friday at 3" is where it goes."""
    kept = rules.reschedule_target(
        "can we move it from Saturday at 3 to Friday at 3?", now=THURSDAY_MORNING, booked=SATURDAY_AT_3
    )
    assert (kept.date, kept.at) == (date(2026, 12, 4), time(15))
    other = rules.reschedule_target("Saturday at 5 instead?", now=THURSDAY_MORNING, booked=SATURDAY_AT_3)
    assert (other.date, other.at) == (date(2026, 12, 5), time(17))


@pytest.mark.parametrize(
    ("text", "after", "latest_start"),
    [
        ("9 or 10?", time(9), time(10)),
        ("a las 9 o 10 de la mañana", time(9), time(10)),
        ("like 2 or 3", time(14), time(15)),
        ("at 10 or 11am tomorrow", time(10), time(11)),
        ("it's been leaking 2 or 3 days", None, None),
        ("we have 2 or 3 vents upstairs", None, None),
    ],
)
def test_two_hours_offered_as_alternatives(text, after, latest_start):
    pref = rules.parse_time_preference(text, now=THURSDAY_MORNING)
    assert (pref.after, pref.latest_start, pref.at) == (after, latest_start, None)
