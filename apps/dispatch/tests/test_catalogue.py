"""The business's own job list as the assistant's vocabulary (apps/dispatch/catalogue.py)."""

import pytest

from apps.dispatch import catalogue, rules


def estimate(key, label, description="", trade="garage_door", price=(100, 200), minutes=60, **extra):
    return {
        "job_type": key,
        "label": label,
        "description": description,
        "trade": trade,
        "min_price": price[0],
        "max_price": price[1],
        "duration_minutes": minutes,
        **extra,
    }


GARAGE = [
    estimate("spring_replace", "Spring replacement", "Broken torsion or extension spring", minutes=90),
    estimate("opener_repair", "Opener repair", "Opener or remote not working, motor hums"),
    estimate("opener_install", "New opener installation", "Install or replace a garage door opener", minutes=120),
    estimate("door_install", "New garage door installation", "Replace the whole garage door", minutes=240),
    estimate("door_tune_up", "Garage door tune-up", "Lubrication, balance and safety check", minutes=45),
]
HVAC = [
    estimate("furnace_repair", "Furnace repair", "No heat, furnace not igniting", trade="hvac", minutes=90),
    estimate("furnace_replace", "Furnace replacement", "Replace or install a new furnace", trade="hvac"),
    estimate("tune_up", "Seasonal tune-up", "Furnace or AC maintenance and inspection", trade="hvac"),
    estimate("thermostat_install", "Smart thermostat installation", "Install a smart thermostat", trade="hvac"),
]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("The remote for my garage door stopped working", "opener_repair"),
        ("Want a new opener put in, the old one is 20 years old", "opener_install"),
        ("Se rompió el resorte de la puerta del garaje", "spring_replace"),
        ("El control remoto del garaje ya no abre la puerta", "opener_repair"),
        ("Need a whole new garage door, the bottom is rotted", "door_install"),
        ("garage door is loud, could use a tune-up", "door_tune_up"),
        ("Furnace died tonight, no heat at all", "furnace_repair"),
        ("No tenemos calefacción", "furnace_repair"),
        ("Quisiera un mantenimiento de la calefacción antes del invierno", "tune_up"),
        ("can you put in a smart thermastat", "thermostat_install"),  # a typo still matches
    ],
)
def test_the_customers_words_find_the_business_job(text, key):
    assert catalogue.match(GARAGE + HVAC, texts=[text]).job_type == key


def test_the_booked_job_carries_the_business_key_label_price_and_duration():
    found = catalogue.match(GARAGE, texts=["spring snapped this morning"])
    assert (found.job_type, found.label, str(found.min_price), str(found.max_price), found.duration_minutes) == (
        "spring_replace",
        "Spring replacement",
        "100.00",
        "200.00",
        90,
    )
    assert found.matched and found.source == 0


def test_the_trades_own_name_decides_nothing():
    # Every job of a garage-door company is about the garage door: which one is wrong is unknown.
    assert catalogue.match(GARAGE, texts=["my garage door is broken"]) is None


def test_the_newest_text_that_names_a_job_decides():
    texts = ["sorry, I meant the opener, it hums and does nothing", "Garage door spring is broken"]  # newest first
    assert catalogue.match(GARAGE, texts=texts).job_type == "opener_repair"
    assert catalogue.match(GARAGE, texts=["yes", "Spring is broken"]).source == 1


def test_owner_synonyms_extend_the_vocabulary():
    jobs = [
        estimate("jetting", "Hydro jetting", trade="plumbing", synonyms=["roots in the sewer", "raíces"]),
        estimate("drain", "Drain cleaning", trade="plumbing"),
    ]
    assert catalogue.match(jobs, texts=["I think there are roots in the sewer line"]).job_type == "jetting"
    assert catalogue.match(jobs, texts=["hay raíces en la tubería"]).job_type == "jetting"


def test_a_model_key_from_the_catalogue_wins():
    assert catalogue.match(GARAGE, texts=["whatever it said"], job_type="door_install").job_type == "door_install"


def test_work_no_home_service_trade_does_is_named_unless_the_business_lists_it():
    assert catalogue.names_other_work("Do you do roofing? The roof leaks", GARAGE) == "roof"
    assert catalogue.names_other_work("la lavadora no enciende", GARAGE) == "appliance"
    assert catalogue.names_other_work("My garage door spring broke", GARAGE) is None
    roofer = [estimate("roof_leak", "Roof leak repair", trade="plumbing")]
    assert catalogue.names_other_work("the roof leaks", roofer) is None


def test_a_trade_asked_for_by_its_tradesperson():
    assert catalogue.names_trade("Necesito un plomero, se tapó el baño") == "plumbing"
    assert catalogue.names_trade("do you have a locksmith?") == "locksmith"
    assert catalogue.names_trade("the key is under the mat") is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("replace the broken one", "install"),
        ("it's gotten loud, time for a tune-up", "maintenance"),
        ("won't turn on", "repair"),
        ("no funciona", "repair"),
        ("hello", None),
    ],
)
def test_work_kind(text, kind):
    assert catalogue.work_kind(text) == kind


def test_other_work_named_by_its_object_and_not_by_a_floor_of_the_house():
    assert catalogue.names_other_work("can you patch the drywall where the outlet was?", GARAGE) == "drywall"
    assert catalogue.names_other_work("we want the garage floor epoxy coated", GARAGE) == "flooring"
    assert catalogue.names_other_work("la regadera del piso de arriba no drena", GARAGE) is None


def test_asking_whether_they_do_other_work_names_it():
    assert catalogue.asks_whether_they_do("do you guys patch and paint drywall?")
    assert catalogue.asks_whether_they_do("¿arreglan puertas de garaje?")
    assert not catalogue.asks_whether_they_do("the breaker trips when the microwave runs")


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        ("el tanque gotea, no es la llave del lavabo ni el tubo de la pared", "tanque", "llave"),
        ("the remotes quit. new batteries didn't help", "remotes", "batteries"),
        ("dos enchufes no dan corriente, la pastilla no está botada", "enchufes", "pastilla"),
        ("hace ruidos, no gotea ni huele a nada", "ruidos", "gotea"),
    ],
)
def test_what_the_customer_says_is_not_the_problem_names_no_job(text, kept, dropped):
    """A denial ("no es la llave", "new batteries didn't help", "no está botada") is not the job."""
    left = rules.without_denials(text)
    assert kept in left and dropped not in left


HVAC_AND_GARAGE = [
    {
        "job_type": "furnace_repair",
        "label": "Furnace repair",
        "trade": "hvac",
        "description": "No heat, furnace won't ignite",
    },
    {
        "job_type": "duct_cleaning",
        "label": "Duct cleaning",
        "trade": "hvac",
        "description": "Clean air ducts and vents",
    },
    {
        "job_type": "opener_repair",
        "label": "Opener repair",
        "trade": "garage_door",
        "description": "Opener or remote not working",
    },
    {
        "job_type": "opener_install",
        "label": "New opener installation",
        "trade": "garage_door",
        "description": "Install a new opener",
    },
]


@pytest.mark.parametrize(
    ("text", "job_type"),
    [
        ("furnace just quit, thermostat says heat on but nothing comes out the vents", "furnace_repair"),
        ("the opener only works from the wall button, the remotes quit. new batteries didnt help", "opener_repair"),
        ("the garage door opener grinds and then stops halfway up", "opener_repair"),
    ],
)
def test_a_failing_thing_is_its_repair_not_where_the_symptom_shows(text, job_type):
    """The air not coming out of the vents is the furnace's job; a part that quit, grinds or stops is
    a repair, whatever else was new ("new batteries")."""
    job_text = rules.without_denials(text)
    found = catalogue.match(HVAC_AND_GARAGE, texts=[job_text], kind=catalogue.work_kind(job_text))
    assert found is not None and found.job_type == job_type


def test_doors_that_are_not_garage_doors_and_structures_to_build_are_other_work():
    sliding = "our sliding glass patio door came off its track, can you guys fix that?"
    assert catalogue.names_other_work(sliding, GARAGE) == "other_door"
    assert catalogue.asks_whether_they_do(sliding)
    carport = "¿ustedes construyen cocheras techadas? queremos un techito tipo carport al lado de la cochera"
    assert catalogue.names_other_work(carport, GARAGE) == "structure"
    assert catalogue.asks_whether_they_do(carport)
    assert catalogue.asks_whether_they_do("can you build a pergola?")
    # the garage door itself, off its track, is still the business's job
    assert catalogue.names_other_work("my garage door came off its track", GARAGE) is None


PLUMBING = [
    estimate("drain_cleaning", "Drain cleaning", "Clogged or slow sink, tub, shower or floor drain", trade="plumbing"),
    estimate("toilet_repair", "Toilet repair", "Running, clogged, leaking or rocking toilet", trade="plumbing"),
    estimate("leak_repair", "Leak repair", "Dripping faucet, leaking pipe or fixture", trade="plumbing"),
    estimate("water_heater_repair", "Water heater repair", "No hot water, pilot light", trade="plumbing"),
    estimate("burst_pipe", "Burst or frozen pipe", "Burst, frozen or broken pipe", trade="plumbing"),
    estimate("disposal_install", "Garbage disposal installation", "Install a garbage disposal", trade="plumbing"),
]
ELECTRICAL = [
    estimate("lighting_repair", "Lighting repair", "Flickering or dead lights", trade="electrical"),
    estimate(
        "power_loss", "Power loss diagnosis", "Part or all of the house has no power (sin luz)", trade="electrical"
    ),
    estimate(
        "panel_upgrade", "Electrical panel replacement", "Replace or upgrade the breaker panel", trade="electrical"
    ),
]
LOCKS = [
    estimate("car_lockout", "Car lockout", "Keys locked in the car", trade="locksmith"),
    estimate("car_key", "Car key replacement", "Replace or program a car key or fob", trade="locksmith"),
    estimate("lock_install", "New lock or deadbolt installation", "Install a new lock or deadbolt", trade="locksmith"),
    estimate("safe_opening", "Safe opening", "Open a locked safe (caja fuerte)", trade="locksmith"),
    estimate("home_lockout", "Home lockout", "Locked out of a house or apartment", trade="locksmith"),
    estimate("rekey", "Rekey locks", "Rekey existing locks so old keys stop working", trade="locksmith"),
    estimate("lock_repair", "Door lock repair", "Door that won't lock, jammed or broken lock", trade="locksmith"),
]
HVAC_AC = [
    *HVAC,
    estimate("ac_repair", "AC repair", "AC not cooling, blowing warm air", trade="hvac"),
    estimate("ac_install", "AC installation", "Replace or install a central air conditioner", trade="hvac"),
]
GARAGE_PANELS = [*GARAGE, estimate("panel_replace", "Door panel replacement", "Replace a dented or damaged panel")]


@pytest.mark.parametrize(
    ("estimates", "text", "key"),
    [
        # Spanish ways a drain fails, and the clogged "baño" that is the toilet
        (PLUMBING, "la regadera casi no drena, se junta el agua", "drain_cleaning"),
        (PLUMBING, "el fregadero de la cocina no baja nada", "drain_cleaning"),
        (PLUMBING, "el baño de arriba se tapa a cada rato, hay que usar el destapador", "toilet_repair"),
        # "la luz" is the power
        (ELECTRICAL, "se apagó la luz en dos cuartos y la cocina, lo demás sí tiene", "power_loss"),
        # a car and its key, no lockout, is a key to make; "troca" is a truck
        (LOCKS, "perdí la única llave de mi troca, ocupo una nueva con el control", "car_key"),
        (LOCKS, "perdi la llave de mi honda, el carro esta en mi casa", "car_key"),
        (LOCKS, "I locked my keys in the car", "car_lockout"),
        # when the business opens is no job
        (LOCKS, "necesito cambiar las chapas de la casa, me robaron las llaves. mañana o cuando abran", "lock_install"),
        # the season is when, not what
        (HVAC_AC, "central air is 22 yrs old, want a new one installed in the off season before summer", "ac_install"),
        (HVAC_AC, "looking to get the furnace tuned up sometime next week", "tune_up"),
        # a part whose job is its replacement is also what a repair of it is
        (GARAGE, "se tronó el resorte de la puerta del garaje y ya no sube, el motor hace ruido", "spring_replace"),
        # damage told by how it happened
        (
            GARAGE_PANELS,
            "my kid backed into the garage door, bottom section is caved in, needs replacing",
            "panel_replace",
        ),
        # the trade's own thing replaced whole
        (GARAGE, "looking at replacing both of our garage doors, maybe insulated ones", "door_install"),
    ],
)
def test_phrasing_families_find_the_business_job(estimates, text, key):
    assert catalogue.match(estimates, texts=[text], kind=catalogue.work_kind(text)).job_type == key


def test_a_job_described_as_both_kinds_answers_both():
    assert catalogue.work_kinds("spring_replace Spring replacement Broken torsion or extension spring") == (
        "install",
        "repair",
    )
    assert catalogue.work_kinds("Drain cleaning") == ()


def test_the_thing_the_kind_of_work_is_said_of_decides():
    electrical = [
        *ELECTRICAL,
        estimate(
            "ev_charger_install", "EV charger installation", "Level 2 car charger installation", trade="electrical"
        ),
        estimate("breaker_repair", "Breaker repair", "Breaker that keeps tripping", trade="electrical"),
    ]
    text = "want a level 2 charger installed in the garage for my new tesla, panel is right there"
    assert catalogue.match(electrical, texts=[text], hint="Breaker / panel", kind="install").job_type == (
        "ev_charger_install"
    )
    locks = [*LOCKS, estimate("smart_lock_install", "Smart lock installation", "Install a keypad or smart lock")]
    swap = (
        "the keypad lock on our front door keeps glitching, honestly done with smart locks. "
        "can someone take it off and put in a regular old deadbolt w keys?"
    )
    assert catalogue.match(locks, texts=[rules.without_denials(swap)], kind="install").job_type == "lock_install"


def test_a_person_stuck_somewhere_is_no_jammed_lock():
    assert "jammed" not in catalogue.concepts("my 9 yr old is locked out, im stuck at work across town")
    assert "jammed" in catalogue.concepts("the key is stuck in the lock")


def test_a_chip_key_is_a_car_key():
    assert "car_key" in catalogue.concepts("¿cuánto cobran por una llave nueva de carro con chip?")


def test_only_kind_answers_with_a_job_of_that_kind():
    jobs = [
        {"job_type": "heater_repair", "label": "Water heater repair", "description": "pilot light"},
        {"job_type": "heater_replace", "label": "Water heater replacement"},
        {"job_type": "drain_cleaning", "label": "Drain cleaning"},
        {"job_type": "toilet_repair", "label": "Toilet repair"},
    ]
    text = "the water heater pilot keeps going out, price to fix it vs replacing it?"
    assert catalogue.match(jobs, texts=[text], kind="repair", only_kind=True).job_type == "heater_repair"
    assert catalogue.match(jobs, texts=[text], kind="install", only_kind=True).job_type == "heater_replace"
    assert catalogue.work_kinds(text) == ("install", "repair")


def test_window_glass_is_other_work_at_a_locksmith():
    jobs = [{"job_type": "lock_repair", "label": "Door lock repair"}, {"job_type": "rekey", "label": "Rekey locks"}]
    text = "do u guys replace window glass?? my kids threw a baseball thru the front window. need the pane replaced"
    assert catalogue.names_other_work(text, jobs) == "glass"
    assert catalogue.names_other_work("the lock on my window is broken", jobs) is None


def test_someone_inside_the_car_is_a_car_lockout_not_a_key_to_make():
    named = catalogue.concepts("AYUDA mi bebe esta adentro del carro y las llaves tambien!!")
    assert {"lockout", "car"} <= named and "car_key" not in named
