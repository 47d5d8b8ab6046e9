"""The default vocabulary of the five trades, English and Spanish, as customers text it.

A concept is what a job estimate and a customer's text can share: "resorte" and "torsion spring"
are both ``spring``; "control remoto" and "clicker" are both ``remote``. The catalogue matcher
(``catalogue.py``) reads the owner's estimates and the customer's texts through this table and
ranks the estimates by the rare concepts they share; the owner's own synonyms on an estimate add to
it. Words absent here still match by their English stem ("cleaned" = "cleaning"), and typos by
fuzzy matching. All forms are accent-folded and lower case; a form with a space is a phrase,
matched (longest first) before the words.
"""

from django.utils.translation import gettext_noop

# concept -> the forms that name it. Grouped by trade for the reader; matching uses them all.
# fmt: off
_CONCEPTS: dict[str, tuple[str, ...]] = {
    # Plumbing
    "drain": ("drain", "drains", "clog", "clogged", "clogging", "backed up", "backing up", "snake", "snaked",
              "auger", "destapar", "desague", "drenaje",
              "coladera", "tapado", "tapada", "tapo", "se tapo", "atascado", "sewer", "septic",
              # "no drena", "no baja nada", "se tapa a cada rato", "el destapador" (a plunger)
              "drena", "drenan", "drenar", "no baja", "no bajan", "se tapa", "se tapan", "destapador", "destapa"),
    "sink": ("sink", "sinks", "fregadero", "lavabo", "lavamanos", "tarja"),
    "shower": ("shower", "tub", "bathtub", "tina", "regadera", "ducha"),
    "toilet": ("toilet", "toilets", "commode", "inodoro", "excusado", "escusado", "keeps running",
               "wont stop running", "running toilet", "se tapo el bano", "tapado el bano", "bano tapado"),
    "bathroom": ("bathroom", "bano", "banos"),
    "kitchen": ("kitchen", "cocina"),
    "faucet": ("faucet", "faucets", "spigot", "grifo", "llave del agua", "llave de agua", "llave del lavabo"),
    "leak": ("leak", "leaks", "leaking", "leaky", "drip", "drips", "dripping", "fuga", "fugas", "gotea",
             "goteando", "gotera", "goteras"),
    "pipe": ("pipe", "pipes", "tubo", "tubos", "tuberia", "tuberias", "caneria", "water line", "water main"),
    "burst": ("burst", "busted", "bursted", "pipe split", "split pipe", "spraying", "gushing", "reventado", "reventada", "revento", "se revento"),
    "freeze": ("frozen", "froze", "freeze", "congelado", "congelada", "congelo", "se congelo"),
    "flood": ("flood", "flooding", "flooded", "water everywhere", "water pouring", "pouring water", "inundado",
              "inundada", "inundacion", "se inunda", "se esta inundando"),
    "water_heater": ("water heater", "hot water", "hot water tank", "hot water heater", "tankless", "boiler",
                     "calentador", "calentador de agua", "agua caliente", "boiler de agua"),
    "pilot": ("pilot", "pilot light", "piloto"),
    "sump": ("sump", "sump pump", "bomba de sumidero", "sumidero"),
    "gas": ("gas", "gas line", "linea de gas", "rotten egg", "rotten eggs", "huevo podrido", "huevos podridos",
            "sulfur", "sulphur", "azufre"),
    "smell": ("smell", "smells", "smelling", "odor", "huele", "olor"),
    "disposal": ("disposal", "garbage disposal", "insinkerator", "in sink erator", "triturador", "trituradora",
                 "triturador de basura"),
    "basement": ("basement", "sotano"),
    # Electrical
    "outlet": ("outlet", "outlets", "plug", "plugs", "receptacle", "socket", "enchufe", "enchufes", "contacto",
               "contactos", "tomacorriente", "tomacorrientes"),
    "switch": ("switch", "switches", "light switch", "apagador", "apagadores", "interruptor", "interruptores",
               "apagador de la luz"),
    "breaker": ("breaker", "breakers", "circuit breaker", "circuit", "pastilla", "pastillas", "fusible",
                "fusibles", "fuse", "fuses", "breker", "brekers"),
    "trip": ("trip", "trips", "tripping", "tripped", "keeps tripping", "se bota", "se botan", "se boto", "bota",
             "botando", "se dispara", "se baja", "se bajo"),
    "panel": ("panel", "panels", "electrical panel", "tablero", "tablero electrico", "fuse box", "breaker box",
              "caja de breakers", "caja de fusibles"),
    "charger": ("charger", "ev charger", "car charger", "charging station", "level 2", "ev", "tesla charger",
                "cargador", "cargador electrico", "cargador de carro", "cargador de auto"),
    "fixture": ("fixture", "fixtures", "light fixture", "chandelier", "lamp", "lamps", "lampara", "lamparas",
                "candil", "luminaria", "luminarias", "pendant"),
    "light": ("light", "lights", "lighting", "luz", "luces", "foco", "focos", "bulb", "bulbs", "light fixture",
              "light switch"),
    "fan": ("fan", "ceiling fan", "ventilador", "ventilador de techo", "abanico", "abanico de techo"),
    "flicker": ("flicker", "flickering", "flickers", "parpadea", "parpadean", "parpadeo", "parpadeando"),
    "spark": ("spark", "sparks", "sparking", "sparked", "arcing", "chispa", "chispas", "chispea", "chispeando"),
    "burning": ("burning", "burnt", "burned", "burning smell", "scorched", "smoke", "smoking", "melted", "quemado",
                "quemada", "olor a quemado", "humo", "humito", "derretido", "se puso negro", "negro"),
    "wiring": ("wiring", "wire", "wires", "rewire", "cableado", "alambre", "alambres"),
    "no_power": ("no power", "power out", "power is out", "power outage", "lost power", "no electricity",
                 "sin luz", "sin electricidad", "se fue la luz", "no hay luz", "nos quedamos sin luz",
                 # "la luz" is the power: "se apagó la luz en dos cuartos" is a circuit out, not a bulb
                 "se apago la luz", "se nos apago la luz", "se apagaron las luces", "se nos fue la luz",
                 "no tenemos luz", "no tengo luz", "se quedo sin luz", "se fue la corriente"),
    "generator": ("generator", "generador"),
    # HVAC
    # Heat is the furnace's job: "no heat", "calefacción" and "furnace" are one concept.
    "furnace": ("furnace", "furnaces", "heat", "heating", "heater", "no heat", "calefaccion", "calefactor",
                "calenton", "caldera"),
    "cold": ("cold", "freezing", "frio", "helado", "helada", "congelando"),
    "ac": ("ac", "a c", "heat pump", "air conditioner", "air conditioning", "air con", "central air", "aire acondicionado",
           "clima", "minisplit", "mini split", "condenser", "compressor", "condensador", "compresor"),
    "cool": ("cool", "cooling", "enfria", "enfriar", "no enfria", "enfriando"),
    "warm": ("warm", "hot air", "aire caliente", "calor"),
    "thermostat": ("thermostat", "thermostats", "termostato", "termostatos", "nest", "ecobee"),
    "smart": ("smart", "programmable", "wifi", "wi fi", "inteligente", "inteligentes", "programable", "digital"),
    "duct": ("duct", "ducts", "ductwork", "air duct", "air ducts", "vent", "vents", "ducto", "ductos",
             "rejilla", "rejillas"),
    "clean": ("clean", "cleaned", "cleaning", "limpieza", "limpiar", "limpien", "limpiaran"),
    "dust": ("dust", "dusty", "polvo"),
    "maintenance": ("maintenance", "tune up", "tuned up", "tune", "tuned", "tuneup", "checkup", "check up", "check", "checked", "inspection",
                    "inspect", "serviced",
                    "look over", "checked over", "nothing wrong", "nothings wrong",
                    "inspected", "annual service", "mantenimiento", "afinacion", "chequeo", "lubrication", "lube",
                    "grease"),
    "carbon_monoxide": ("carbon monoxide", "co alarm", "co detector", "co detectors", "co alarms",
                        "monoxido", "monoxido de carbono"),
    "alarm": ("alarm", "alarms", "detector", "detectors", "alarma", "alarmas", "beeping", "chirping", "sonando",
              "co alarm", "co detector", "co detectors", "co alarms"),
    # Locksmith
    "lockout": ("locked out", "lock out", "lockout", "locked myself out", "locked me out", "locked in",
                "locked inside", "keys inside", "keys in the car", "keys locked", "left my keys", "left the keys",
                "me quede afuera", "me quede fuera", "quede afuera", "se me cerro", "llaves adentro",
                "llaves dentro", "deje las llaves", "no puedo entrar", "cant get in", "apertura",
                # someone or something shut in the car: "mi bebé está adentro del carro y las llaves también"
                "adentro del carro", "adentro del coche"),
    "car": ("car", "cars", "vehicle", "truck", "pickup", "keys in the car", "car key", "car keys", "llave del carro",
            "llave de carro", "llaves del carro", "llave del coche",
            "adentro del carro", "adentro del coche", "suv", "auto", "carro", "coche", "camioneta", "troca",
            "trocas"),
    "key": ("key", "keys", "llave", "llaves"),
    "car_key": ("car key", "car keys", "fob", "key fob", "remote key", "llave del carro", "llave de carro",
                "llaves del carro", "llave del coche", "llave inteligente", "llave con control",
                "chip", "chip key", "transponder", "llave con chip", "llave de chip"),
    "rekey": ("rekey", "re key", "rekeyed", "rekeying", "recodificar", "recodificacion", "combinacion",
              "cambiar la combinacion", "cilindro", "cilindros", "old keys", "moved in", "just moved",
              "new house", "nos mudamos", "mudamos", "mudanza", "casa nueva"),
    "lock": ("lock", "locks", "locked", "cerradura", "cerraduras", "chapa", "chapas", "cerrojo", "cerrojos",
             "pestillo"),
    "deadbolt": ("deadbolt", "deadbolts", "dead bolt", "cerrojo de seguridad"),
    "keypad": ("keypad", "keyless", "teclado", "combination lock", "de codigo", "con codigo"),
    "jammed": ("jammed", "jam", "jams", "stuck", "sticking", "sticks", "stiff", "wont turn", "hard to turn",
               "doesnt turn", "duro", "dura",
               "trabada", "trabado", "atorada", "atorado", "atascada", "no gira", "no da vuelta"),
    "open": ("open", "abrir", "abran", "abra"),
    "safe": ("safe", "caja fuerte", "caja de seguridad"),
    "door": ("door", "doors", "puerta", "puertas", "front door", "back door"),
    "close": ("wont close", "doesnt close", "wont latch", "latch", "no cierra", "no cierra bien"),
    # Garage doors
    "garage_door": ("garage", "garages", "garage door", "garage doors", "overhead door", "garaje",
                    "puerta del garaje", "puerta de garaje", "puertas de garaje", "puerta del garage",
                    "puerta de la cochera", "cochera", "porton del garaje"),
    "spring": ("spring", "springs", "torsion", "torsion spring", "extension spring", "resorte", "resortes",
               "muelle", "muelles"),
    "opener": ("opener", "openers", "motor", "abridor", "abre puertas", "liftmaster", "chamberlain", "genie"),
    "remote": ("remote", "remotes", "clicker", "control", "controles", "control remoto", "remoto"),
    "track": ("track", "tracks", "off track", "off its track", "off the track", "riel", "rieles", "carril",
              "se salio del riel", "descarrilada", "crooked", "chueca", "chueco"),
    "cable": ("cable", "cables", "snapped cable", "lift cable"),
    "dead": ("dead", "no da corriente", "no dan corriente", "no tiene corriente", "no tienen corriente",
             "no hay corriente", "muerto", "muerta", "muertos", "muertas"),
    # Where the air should come out, not the ducts needing work: "heat on but nothing comes out the vents".
    "airflow": ("out the vents", "out of the vents", "from the vents", "through the vents", "out the vent",
                "de las rejillas", "por las rejillas", "por los ductos", "de los ductos"),
    "loose": ("loose", "wobbly", "flojo", "floja", "suelto", "suelta", "se mueve"),
    "dent": ("dent", "dented", "dents", "damaged", "abollado", "abollada", "golpeado", "golpeada",
             # the damage and how it happened: "backed into the garage door", "bottom section is caved in"
             "caved in", "caved", "bent in", "pushed in", "hundido", "hundida", "backed into", "ran into",
             "crashed into", "drove into", "se le metio", "choco con", "chocaron"),
    # The kind of work as a concept too: a catalogue's "new lock installation" shares it with "una cerradura nueva".
    "install": ("install", "installed", "installing", "installation", "new", "replace", "replaced", "replacing",
                "replacement", "upgrade", "put in", "instalar", "instalacion", "instalen", "instale", "nuevo",
                "nueva", "reemplazar", "reemplazo", "cambiar", "poner"),
    "noise": ("noise", "noisy", "loud", "squeak", "squeaks", "squeaky", "squeaking", "grinding", "ruido",
              "ruidosa", "ruidoso", "rechina", "rechinando", "chirria"),
}
# fmt: on

# Phrases about the business's hours or the calendar, never about the job: "cuando abran" names no
# safe to open, "in the off season" no seasonal tune-up. Consumed before the words are read.
NOT_A_JOB = (
    "cuando abran", "en cuanto abran", "que abran", "when you open", "when youre open", "once you open",
    "once youre open", "when you guys open", "before you close", "antes de que cierren", "off season",
)  # fmt: skip

# Pairs of concepts that name a third when nothing says otherwise: a car and a key, no lockout, is a key
# to make ("perdí la única llave de mi troca"); a clogged "baño", no sink or shower, is the toilet.
# (required, excluded, implied)
IMPLIED = (
    (frozenset({"car", "key"}), frozenset({"lockout"}), "car_key"),
    (frozenset({"bathroom", "drain"}), frozenset({"sink", "shower"}), "toilet"),
)

# Work none of the five trades does: a text that names it is declined, unless the business lists it.
OTHER_WORK_LABELS = {
    "roof": gettext_noop("roofing"),
    "appliance": gettext_noop("appliance repair"),
    "pest": gettext_noop("pest control"),
    "lawn": gettext_noop("landscaping"),
    "paint": gettext_noop("painting"),
    "pool": gettext_noop("pool service"),
    "chimney": gettext_noop("chimney sweeping"),
    "solar": gettext_noop("solar panels"),
    "drywall": gettext_noop("drywall and painting"),
    "flooring": gettext_noop("flooring"),
    "gate": gettext_noop("driveway gates"),
    "other_door": gettext_noop("patio, sliding and screen doors"),
    "structure": gettext_noop("carports and other building work"),
    "glass": gettext_noop("window glass"),
}
# fmt: off
_OTHER_WORK_FORMS: dict[str, tuple[str, ...]] = {
    "roof": ("roof", "roofs", "roofing", "roofer", "shingle", "shingles", "gutter", "gutters", "techo", "tejado",
             "canaleta", "canaletas", "goteras en el techo"),
    "appliance": ("refrigerator", "fridge", "freezer", "refrigerador", "nevera", "refri", "washer",
                  "washing machine", "lavadora", "dishwasher", "lavavajillas", "lavaplatos", "oven", "microwave",
                  "microondas", "ice maker"),
    "pest": ("pest", "pests", "roaches", "termites", "mice", "rats", "bed bugs", "plaga", "cucarachas", "ratas"),
    "lawn": ("lawn", "landscaping", "mow", "mowing", "pasto", "jardineria"),
    "paint": ("paint", "painting", "painter", "pintar", "pintura", "pintor"),
    "pool": ("pool", "pools", "hot tub", "piscina", "alberca"),
    "chimney": ("chimney", "chimneys", "chimney sweep", "wood stove", "chimenea", "chimeneas", "deshollinador"),
    "solar": ("solar", "solar panel", "solar panels", "paneles solares", "panel solar", "energia solar"),
    "drywall": ("drywall", "sheetrock", "plaster", "tablaroca", "yeso"),
    "flooring": ("epoxy", "epoxied", "epoxying", "flooring", "floor coating", "garage floor", "garage floors",
                 "refinish the floor", "loseta"),
    "gate": ("driveway gate", "gate opener", "gate motor", "porton electrico", "reja electrica", "motor del porton"),
    # doors that are not garage doors, and structures built rather than serviced
    "other_door": ("patio door", "sliding door", "sliding glass door", "sliding patio door", "glass patio door",
                   "screen door", "storm door", "puerta corrediza", "puerta de vidrio", "puerta del patio",
                   "puerta de cristal", "mosquitero"),
    "structure": ("carport", "carports", "pergola", "pergolas", "patio cover", "cocheras techadas",
                  "cochera techada", "techito", "tejaban", "cobertizo", "terraza techada"),
    # glazing: the glass itself, not the lock on the window
    "glass": ("window glass", "glass pane", "window pane", "windowpane", "pane", "panes", "glazier", "glazing",
              "windshield", "vidrio de la ventana", "vidrio roto", "vidrios rotos", "cristal roto",
              "cristal de la ventana", "vidriero", "parabrisas"),
}
# fmt: on

# The trades named by the person who does them: "necesito un plomero" asks for plumbing even with no job.
# fmt: off
TRADE_NAMES: dict[str, tuple[str, ...]] = {
    "plumbing": ("plumber", "plumbers", "plumbing", "plomero", "plomeros", "plomeria", "fontanero", "fontaneria"),
    "electrical": ("electrician", "electricians", "electrical", "electricista", "electricistas"),
    "hvac": ("hvac", "hvac tech", "heating and cooling", "heating and air", "tecnico de clima"),
    "locksmith": ("locksmith", "locksmiths", "cerrajero", "cerrajeros", "cerrajeria"),
    "garage_door": ("garage door company", "garage door guy", "garage door tech", "puertas de garaje"),
}
# fmt: on

# The kind of work, read from the whole text (whole words or phrases, accent-folded).
INSTALL_WORDS = (
    "install", "installed", "installing", "installation", "new", "replace", "replaced", "replacing",
    "replacement", "upgrade", "upgraded", "put in", "put up", "hang", "hung", "hanging", "mount", "colgar", "instalar", "instalacion", "instalen", "instale", "instalan",
    "instalarlo", "instalarla", "nuevo", "nueva", "nuevos", "nuevas", "reemplazar", "reemplazo", "cambiar",
    "cambiarlo", "cambiarla", "cambiarlas", "cambiarlos", "poner", "ponerme",
)  # fmt: skip
MAINTENANCE_WORDS = (
    "maintenance", "tune up", "tuneup", "checkup", "check up", "inspection", "annual service", "lubrication",
    "serviced", "look over", "nothing wrong", "nothings wrong", "tune", "tuned", "tuned up",
    "mantenimiento", "afinacion", "chequeo",
)  # fmt: skip
REPAIR_WORDS = (
    "repair", "repairs", "repaired", "fix", "fixed", "fixing", "broken", "broke", "broke down", "snapped",
    "leak", "leaking", "leaks", "not working", "stopped working", "quit working", "doesnt work", "wont",
    "stuck", "jammed", "quit", "quits", "died", "se trono", "trono", "tronado", "grinds", "grinding", "stops", "only works", "reparar", "reparen", "reparacion", "arreglar", "arreglen", "arreglo", "descompuesto",
    "descompuesta", "fuga", "no funciona", "no sirve", "no abre", "no cierra", "no prende", "no enciende",
    "se rompio", "roto", "rota", "dejo de funcionar", "ya no",
)  # fmt: skip

# Words that carry no job: function words, the house, time, and the generic words of every job name
# (a toilet must not be priced like a leak because both are a "repair").
STOP_WORDS = frozenset(
    """
    a an the my our your his her their its it is are was were be been being am im i me we us you he she they
    them this that these those there here and or but so if then than to of in on at by for from with without
    about into over under up down out off do does did done have has had having need needs needed want wants
    wanted would like could can cant should will just some any all very really also too please thanks thank
    hi hello hey yes no not ok okay get got getting gets go going come coming looking look see today
    tomorrow tonight morning afternoon evening week day days now asap soon time again still already someone
    somebody anyone guy guys tech technician company service services job jobs work working works worked
    stop stopped stops quit house home apartment condo place room rooms office building unit lot lots thing
    things something since last first next every front back old existing sure know think one two three
    repair repairs repaired fix fixed fixing broken broke el la los las lo le les un una unos unas de del al
    en y o u que mi mis su sus tu nuestro nuestra nuestros nuestras se te nos con por para sin es son esta
    estan estoy era fue hay muy mas ya si tengo tenemos tiene necesito necesitamos quiero queremos quisiera
    puede pueden podrian favor hola buenas buenos dias gracias casa departamento cuarto recamara comedor
    sala cocina hoy manana tarde noche semana ahora otra vez como cuando donde cual algo alguien servicio
    trabajo tecnico eso esto este ese esa cada rato reparar reparacion arreglar arreglen
    season seasonal summer winter month months year years yr yrs verano invierno temporada
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


def _index():
    phrases: dict[str, set[str]] = {}
    words: dict[str, set[str]] = {}
    for concept, forms in [*_CONCEPTS.items(), *_OTHER_WORK_FORMS.items()]:
        for form in forms:
            (phrases if " " in form else words).setdefault(form, set()).add(concept)
    for form in NOT_A_JOB:
        phrases.setdefault(form, set())
    ordered = sorted(phrases.items(), key=lambda item: -len(item[0]))
    return (
        tuple((phrase, frozenset(named)) for phrase, named in ordered),
        {word: frozenset(named) for word, named in words.items()},
    )


PHRASES, WORDS = _index()
# Where the problem is rather than what it is: "a leak under the sink" is a leak, not a clogged sink.
PLACES = frozenset(["sink", "shower", "bathroom", "kitchen", "basement", "door", "airflow"])
# How a thing fails rather than what failed: "the water heater is leaking" is a water-heater job.
SYMPTOMS = frozenset(["leak", "noise", "jammed", "cold", "warm", "cool", "flicker", "smell", "dead", "loose"])
OTHER_WORK = {key: frozenset([key]) for key in _OTHER_WORK_FORMS}
CONCEPTS = frozenset(_CONCEPTS)
