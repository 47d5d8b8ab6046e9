"""Play a scenario through the real SMS path and record what happened.

For each scenario: freeze the clock at its start (time-machine, ticking), open a transaction, set up
what the scenario says exists (an appointment, an opt-out, other customers' bookings), then the
customer's missed call (``/webhooks/twilio/call`` and its ``<Dial action>`` ending ``no-answer``)
and each text as a Twilio-signed ``POST /webhooks/twilio/sms`` through Django's test client. What
would run after each commit runs right after the request, the way ``TestCase.captureOnCommitCallbacks
(execute=True)`` runs it, with Celery eager: the inbound task, the engine (rules, or the real openai
SDK against ``nevermisscall/openai_standin.py``), the reply queued in the outbox, the dispatcher
sending it through the twilio SDK to the Twilio stand-in. The customer's replies and the owner's
alerts are read from what the stand-in received. Then the final state is read, the checks run, and
the transaction is rolled back: nothing the scenario did is left in the database.
"""

from __future__ import annotations

import logging
import time as clock
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.db import connection, transaction
from django.test import Client, TestCase, override_settings
from django_tenants.utils import tenant_context

from apps.dispatch.evals.corpus import BusinessSpec, Corpus, Scenario, parse_moment

logger = logging.getLogger(__name__)

PUBLIC_BASE_URL = "https://evals.nevermisscall.test"
UNLIMITED = "100000/minute"
OTHER_CUSTOMER = "+13125550199"
ENGINES = ("rules", "openai")


class TimeMachineMissing(RuntimeError):
    pass


def _time_machine():
    try:
        import time_machine
    except ImportError as exc:  # A dev requirement (requirements-dev.txt).
        raise TimeMachineMissing(
            "The evaluation freezes the clock with time-machine, which is not installed: "
            "pip install -r requirements-dev.txt"
        ) from exc
    return time_machine


@dataclass
class TurnRecord:
    index: int
    text: str
    at: datetime
    seconds: float
    replies: list[str] = field(default_factory=list)
    offers: list[bool] = field(default_factory=list)  # each reply offered a slot (Message.proposed_slot)
    owner_texts: list[str] = field(default_factory=list)
    other_texts: list[tuple[str, str]] = field(default_factory=list)
    appointments_after: int = 0
    status_code: int = 0
    marks: frozenset = frozenset()


@dataclass
class FinalState:
    created: list[dict] = field(default_factory=list)  # appointments made during the scenario
    existing: list[dict] = field(default_factory=list)  # the set-up appointments of this customer, now
    opted_out: bool = False
    conversation: dict | None = None
    conversation_fields: set = field(default_factory=set)
    customer: dict | None = None
    owner_alert_deliveries: int = 0
    usage: list[tuple[str, bool, str]] = field(default_factory=list)  # (engine, fallback_used, error)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class ScenarioResult:
    scenario: Scenario
    engine: str
    auto_replies: list[str] = field(default_factory=list)
    turns: list[TurnRecord] = field(default_factory=list)
    final: FinalState = field(default_factory=FinalState)
    checks: list[Check] = field(default_factory=list)
    error: str = ""
    unmatched_ai: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.error and all(check.ok for check in self.checks)

    @property
    def failed_checks(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def replies(self) -> list[str]:
        return [reply for turn in self.turns for reply in turn.replies]

    @property
    def owner_alerts(self) -> int:
        return sum(len(turn.owner_texts) for turn in self.turns)


def _decimal(value) -> float | None:
    return float(value) if isinstance(value, Decimal) else value


def appointment_dict(appointment) -> dict:
    return {
        "id": str(appointment.id),
        "job_type": appointment.job_type,
        "trade": appointment.trade,
        "status": appointment.status,
        "start": appointment.start,
        "end": appointment.end,
        "estimated_value": _decimal(appointment.estimated_value),
        "is_emergency": appointment.is_emergency,
        "notes": appointment.notes,
        "address": appointment.address,
        "customer_phone": appointment.customer.phone,
        "customer_name": appointment.customer.name,
    }


class EvalRunner:
    """Runs scenarios of ``corpus`` against ``businesses`` ({key: Business}), inside ``environment()``."""

    def __init__(self, *, corpus: Corpus, businesses: dict, engine: str = "rules", twilio_standin=None):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}")
        self.corpus = corpus
        self.businesses = businesses
        self.engine = engine
        self.twilio = twilio_standin
        self.openai = None
        self.client = Client()

    # --- the environment ---------------------------------------------------------------------------
    @contextmanager
    def environment(self):
        """Settings pointing the SDKs at the stand-ins, Celery eager, warm caches."""
        from apps.telephony.testing import ACCOUNT_SID, AUTH_TOKEN, TwilioStandIn
        from nevermisscall.celery import app as celery_app

        _time_machine()
        with ExitStack() as stack:
            if self.twilio is None:
                self.twilio = stack.enter_context(TwilioStandIn())
            overrides = {
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_API_BASE_URL": self.twilio.base_url,
                "TWILIO_VALIDATE_SIGNATURES": True,
                "SMS_BACKEND": "twilio",
                "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
                "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
                "RATE_LIMIT_PER_IP": UNLIMITED,
                "RATE_LIMIT_PER_TENANT": UNLIMITED,
                "ALLOWED_HOSTS": ["*"],
                "GOOGLE_MAPS_API_KEY": "",
                "OPENAI_API_KEY": "",
            }
            if self.engine == "openai":
                from nevermisscall.openai_standin import OpenAIStandIn

                self.openai = OpenAIStandIn().start()
                stack.callback(self.openai.stop)
                overrides.update(
                    OPENAI_API_KEY="sk-eval-standin", OPENAI_BASE_URL=self.openai.base_url, OPENAI_MODEL="gpt-4o-mini"
                )
            stack.enter_context(override_settings(**overrides))
            for name in ("celery.app.trace", "httpx", "httpx2"):  # An INFO line per task or request otherwise.
                chatty = logging.getLogger(name)
                stack.callback(chatty.setLevel, chatty.level)
                chatty.setLevel(logging.WARNING)
            eager = celery_app.conf.task_always_eager
            celery_app.conf.task_always_eager = True
            stack.callback(setattr, celery_app.conf, "task_always_eager", eager)
            self._warm_up()
            yield self

    def _warm_up(self) -> None:
        """What a worker pays once at start (the ZIP table, the openai import), not in a reply."""
        from apps.dispatch.providers import zipcodes_offline

        zipcodes_offline.warm_up()
        if self.engine == "openai":
            import openai  # noqa: F401

    # --- one scenario ------------------------------------------------------------------------------
    def run(self, scenario: Scenario) -> ScenarioResult:
        from apps.dispatch.evals.checks import evaluate

        time_machine = _time_machine()
        spec = self.corpus.businesses[scenario.business]
        business = self.businesses[scenario.business]
        result = ScenarioResult(scenario=scenario, engine=self.engine)
        self.twilio.reset()
        responder = None
        if self.openai is not None:
            from apps.dispatch.evals.responder import ScenarioResponder

            responder = ScenarioResponder(scenario, spec)
            self.openai.responder = responder
            self.openai.requests.clear()
        self._breakers_closed()
        with time_machine.travel(scenario.start, tick=True) as traveller, transaction.atomic():
            try:
                with tenant_context(business):
                    existing_ids = self._setup(scenario, spec)
                    baseline = self._appointment_ids()
                if scenario.missed_call:
                    result.auto_replies = self._missed_call(scenario, spec)
                for index, turn in enumerate(scenario.turns):
                    traveller.shift(turn.after)
                    result.turns.append(self._turn(scenario, spec, business, index, turn, baseline))
                self._goes_quiet(traveller)
                with tenant_context(business):
                    result.final = self._final_state(scenario, spec, existing_ids, baseline)
                if responder is not None:
                    result.unmatched_ai = list(responder.unmatched)
                result.checks = evaluate(scenario, spec, result)
            except Exception as exc:  # A crash is a failed scenario, reported with its traceback.
                logger.exception("scenario %s crashed", scenario.id)
                result.error = f"{type(exc).__name__}: {exc}"
            finally:
                transaction.set_rollback(True)
                connection.set_schema_to_public()
        return result

    def _goes_quiet(self, traveller) -> None:
        """The customer texts no more: a day later the beat's lead sweep gives a conversation still
        without an outcome its own (price only or abandoned), as in production."""
        from django.conf import settings

        from apps.conversations.tasks import lead_idle_sweep

        traveller.shift(timedelta(hours=settings.CONVERSATION_IDLE_HOURS, minutes=10))
        lead_idle_sweep()
        connection.set_schema_to_public()

    def _breakers_closed(self) -> None:
        """A breaker left open by an earlier run would make this scenario measure the fallback."""
        from apps.dispatch.providers.openai_chat import BREAKER_NAME
        from nevermisscall.breakers import get_breaker

        breaker = get_breaker(BREAKER_NAME)
        if breaker.current_state != "closed":
            breaker.close()

    # --- before the customer texts -------------------------------------------------------------------
    def _setup(self, scenario: Scenario, spec: BusinessSpec) -> list[str]:
        from django.utils import timezone

        from apps.conversations.models import OptOut
        from apps.crm.services import appointment_book, customer_get_or_create_by_phone
        from apps.tenants.config.services import config_update

        setup = scenario.setup
        if setup.get("config"):
            config_update(business=connection.tenant, data=setup["config"])
        if setup.get("opted_out"):
            OptOut.objects.update_or_create(
                phone_number=scenario.phone,
                defaults={"opted_out": True, "source": "keyword", "keyword": "STOP", "opted_out_at": timezone.now()},
            )
        existing = []
        customer_data = setup.get("customer")
        if customer_data or setup.get("appointments"):
            customer_data = customer_data or {}
            customer, _ = customer_get_or_create_by_phone(
                phone=scenario.phone,
                name=customer_data.get("name", ""),
                address=customer_data.get("address", ""),
                language=customer_data.get("language", scenario.language),
            )
            for raw in setup.get("appointments") or []:
                existing.append(str(self._book(spec, customer, raw, appointment_book).id))
        for raw in setup.get("calendar") or []:
            other, _ = customer_get_or_create_by_phone(phone=raw.get("phone", OTHER_CUSTOMER), name="Other Customer")
            self._book(spec, other, raw, appointment_book)
        return existing

    def _book(self, spec: BusinessSpec, customer, raw: dict, appointment_book):
        start = parse_moment(raw["start"], spec.tz)
        item = spec.item(raw.get("job_type", "")) if raw.get("job_type") else None
        minutes = int(raw.get("duration_minutes") or (item.duration_minutes if item else 60))
        value = Decimal(str((item.min_price + item.max_price) / 2)) if item else None
        return appointment_book(
            customer=customer,
            start=start,
            end=start + timedelta(minutes=minutes),
            job_type=raw.get("job_type", ""),
            trade=item.trade if item else spec.trade,
            estimated_value=value,
            address=raw.get("address", customer.address),
            notes=raw.get("notes", ""),
            source=raw.get("source", "sms"),
            status=raw.get("status", "scheduled"),
        )

    # --- webhooks ----------------------------------------------------------------------------------------
    def _post(self, path: str, params: dict) -> int:
        """A Twilio-signed webhook, then what its commit would have set off (events, the inbound task,
        the outbox dispatcher and whatever those commit in turn)."""
        from apps.telephony.testing import AUTH_TOKEN, sign

        signature = sign(PUBLIC_BASE_URL + path, params, AUTH_TOKEN)
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                path,
                urlencode(params),
                content_type="application/x-www-form-urlencoded",
                HTTP_X_TWILIO_SIGNATURE=signature,
            )
        connection.set_schema_to_public()
        if response.status_code not in (200, 204):
            raise RuntimeError(f"POST {path} answered {response.status_code}: {response.content[:200]!r}")
        return response.status_code

    def _missed_call(self, scenario: Scenario, spec: BusinessSpec) -> list[str]:
        call_sid = "CA" + uuid.uuid4().hex
        call = {
            "AccountSid": "AC" + "0" * 31 + "1",
            "ApiVersion": "2010-04-01",
            "CallSid": call_sid,
            "Direction": "inbound",
            "From": scenario.phone,
            "Caller": scenario.phone,
            "To": spec.number,
            "Called": spec.number,
        }
        before = len(self.twilio.messages())
        self._post("/webhooks/twilio/call", {**call, "CallStatus": "ringing"})
        self._post(
            f"/webhooks/twilio/call/status/{call_sid}",
            {
                **call,
                "CallStatus": "in-progress",
                "DialCallStatus": "no-answer",
                "DialCallSid": "CA" + uuid.uuid4().hex,
                "DialCallDuration": "0",
                "DialBridged": "false",
            },
        )
        return [
            sent.form.get("Body", "")
            for sent in self.twilio.messages()[before:]
            if sent.form.get("To") == scenario.phone
        ]

    def _turn(self, scenario: Scenario, spec: BusinessSpec, business, index: int, turn, baseline: set) -> TurnRecord:
        from django.utils import timezone

        sent_before = len(self.twilio.messages())
        with tenant_context(business):
            ai_before = self._ai_message_ids(scenario)
            booked_before = len(self._appointment_ids() - baseline)
        params = {
            "AccountSid": "AC" + "0" * 31 + "1",
            "ApiVersion": "2010-04-01",
            "MessageSid": "SM" + uuid.uuid4().hex,
            "SmsStatus": "received",
            "Body": turn.text,
            "From": scenario.phone,
            "To": spec.number,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        at = timezone.now()
        started = clock.perf_counter()
        status = self._post("/webhooks/twilio/sms", params)
        seconds = clock.perf_counter() - started
        record = TurnRecord(
            index=index,
            text=turn.text,
            at=at.astimezone(spec.tz),
            seconds=seconds,
            status_code=status,
            marks=turn.marks,
        )
        for sent in self.twilio.messages()[sent_before:]:
            to, body = sent.form.get("To", ""), sent.form.get("Body", "")
            if to == scenario.phone:
                record.replies.append(body)
            elif to == spec.forwarding:
                record.owner_texts.append(body)
            else:
                record.other_texts.append((to, body))
        with tenant_context(business):
            new_ai = self._ai_messages(scenario, exclude=ai_before)
            record.appointments_after = len(self._appointment_ids() - baseline)
        # A reply that stores a slot offers it, unless it is the confirmation of the booking just made
        # or is about cancelling the customer's appointment (its slot is the one being cancelled).
        offered = (
            {body for body, slot in new_ai if slot and slot.get("change") != "cancel"}
            if record.appointments_after == booked_before
            else set()
        )
        record.offers = [reply in offered for reply in record.replies]
        return record

    # --- reading the outcome -------------------------------------------------------------------------------
    def _conversation(self, scenario: Scenario):
        from apps.conversations.models import Conversation

        return Conversation.objects.filter(customer_number=scenario.phone).order_by("-created_at").first()

    def _ai_message_ids(self, scenario: Scenario) -> set:
        from apps.conversations.models import Message

        return set(
            Message.objects.filter(conversation__customer_number=scenario.phone, kind=Message.Kind.AI).values_list(
                "id", flat=True
            )
        )

    def _ai_messages(self, scenario: Scenario, *, exclude: set) -> list[tuple[str, dict | None]]:
        from apps.conversations.models import Message

        rows = Message.objects.filter(conversation__customer_number=scenario.phone, kind=Message.Kind.AI).exclude(
            id__in=exclude
        )
        return [(row.body, row.proposed_slot) for row in rows.order_by("created_at")]

    def _appointment_ids(self) -> set:
        from apps.crm.models import Appointment

        return {str(pk) for pk in Appointment.objects.values_list("id", flat=True)}

    def _final_state(
        self, scenario: Scenario, spec: BusinessSpec, existing_ids: list[str], baseline: set
    ) -> FinalState:
        from apps.conversations.models import Conversation, OptOut
        from apps.crm.models import Appointment, Customer
        from apps.dispatch.models import AiUsage
        from apps.outbox.models import Delivery

        final = FinalState()
        appointments = Appointment.objects.select_related("customer").order_by("created_at")
        final.created = [appointment_dict(a) for a in appointments.exclude(id__in=baseline)]
        final.existing = [appointment_dict(a) for a in appointments.filter(id__in=existing_ids)]
        final.opted_out = OptOut.objects.filter(phone_number=scenario.phone, opted_out=True).exists()
        conversation = self._conversation(scenario)
        final.conversation_fields = {f.name for f in Conversation._meta.get_fields() if hasattr(f, "attname")}
        if conversation is not None:
            final.conversation = {name: getattr(conversation, name) for name in final.conversation_fields}
            final.usage = list(
                AiUsage.objects.filter(conversation_ref=str(conversation.id))
                .order_by("created_at")
                .values_list("engine", "fallback_used", "error")
            )
        customer = Customer.objects.filter(phone=scenario.phone).first()
        if customer is not None:
            final.customer = {"name": customer.name, "address": customer.address, "language": customer.language}
        final.owner_alert_deliveries = Delivery.objects.filter(
            business=connection.tenant, channel="sms", purpose="owner_alert", recipient=spec.forwarding
        ).count()
        return final


def run_all(runner: EvalRunner, scenarios: list[Scenario], progress=None) -> list[ScenarioResult]:
    results = []
    with runner.environment():
        for scenario in scenarios:
            result = runner.run(scenario)
            results.append(result)
            if progress is not None:
                progress(result)
    return results
