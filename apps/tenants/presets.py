"""Typical jobs per trade, offered in the wizard as a starting point the owner edits before saving.

Prices are common US ranges for a standard job (labour and usual parts); the owner's own numbers
replace them, and nothing is saved until the owner saves the form.
"""

from django.utils.translation import gettext_lazy as _

# (key, the job as customers are told it, min $, max $, minutes, words customers use)
ESTIMATE_PRESETS = {
    "plumbing": [
        ("drain_clog", _("Clogged drain"), 120, 300, 60, "clogged sink, backed up, tapado"),
        ("water_heater_repair", _("Water heater repair"), 150, 500, 90, "no hot water, calentador"),
        ("leak_repair", _("Leak repair"), 150, 450, 60, "leaking pipe, fuga"),
        ("toilet_repair", _("Toilet repair"), 100, 300, 60, "running toilet, inodoro"),
    ],
    "electrical": [
        ("outlet_repair", _("Outlet or switch repair"), 100, 250, 60, "dead outlet, enchufe"),
        ("breaker_panel", _("Breaker or panel problem"), 150, 600, 90, "tripping breaker, no power"),
        ("light_fixture", _("Light fixture install"), 120, 350, 60, "ceiling fan, lámpara"),
    ],
    "hvac": [
        ("ac_repair", _("AC repair"), 150, 600, 90, "no cold air, aire acondicionado"),
        ("furnace_repair", _("Furnace repair"), 150, 550, 90, "no heat, calefacción"),
        ("hvac_tune_up", _("Tune-up"), 90, 180, 60, "maintenance, service"),
    ],
    "locksmith": [
        ("lockout", _("Lockout"), 75, 200, 30, "locked out, cerrado"),
        ("rekey", _("Rekey locks"), 60, 180, 45, "new keys, change locks"),
        ("lock_install", _("Lock install"), 100, 300, 60, "deadbolt, cerradura"),
    ],
    "garage_door": [
        ("spring_replacement", _("Spring replacement"), 200, 400, 60, "broken spring, resorte"),
        ("opener_repair", _("Opener repair"), 120, 350, 60, "remote not working, motor"),
        ("door_off_track", _("Door off track"), 150, 350, 60, "stuck door, atascada"),
    ],
}


def estimate_preset(trade: str) -> list[dict]:
    return [
        {
            "job_type": str(label),
            "label": "",
            "trade": trade,
            "min_price": low,
            "max_price": high,
            "duration_minutes": minutes,
            "synonyms": [word.strip() for word in words.split(",")],
        }
        for _key, label, low, high, minutes, words in ESTIMATE_PRESETS.get(trade, [])
    ]
