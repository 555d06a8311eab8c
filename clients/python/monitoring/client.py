"""MonitoringModule: the KPI monitoring service from Python, standard library only (3.9+).

Every record call carries an idempotency key (a random UUID unless one is given) and sends the very
same request on each retry, so an event whose answer was lost is stored once: the server recognises
the key and answers ``duplicate: True``. Network failures, timeouts, 5xx and 429 are retried with
exponential backoff and full jitter, honouring ``Retry-After``; a GraphQL error is an answer and is
raised at once as a typed error carrying its code.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http.client import HTTPException
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from .errors import ConfigurationError, MonitoringError, NetworkError, error_for

log = logging.getLogger("monitoring")

DEFAULT_URL = "http://127.0.0.1:4000/graphql"

When = Union[datetime, str, None]
Attributes = Optional[Mapping[str, str]]

_EVENT_FIELDS = "id programId caseId kind value reason occurredAt recordedAt idempotencyKey attributes { key value }"
_RECORD = "duplicate event { " + _EVENT_FIELDS + " }"

_RECORD_RESOLUTION = (
    "mutation ($input: RecordResolutionTimeInput!) { recordResolutionTime(input: $input) { " + _RECORD + " } }"
)
_RECORD_SATISFACTION = (
    "mutation ($input: RecordSatisfactionInput!) { recordSatisfaction(input: $input) { " + _RECORD + " } }"
)
_RECORD_CONFLICT = "mutation ($input: RecordConflictInput!) { recordConflict(input: $input) { " + _RECORD + " } }"
_RECORD_EVENTS = "mutation ($events: [EventInput!]!) { recordEvents(events: $events) { accepted duplicates } }"
_DASHBOARD = """query ($programId: ID, $from: DateTime, $to: DateTime) {
  dashboard(programId: $programId, from: $from, to: $to) {
    id programId from to
    avgResolutionTime medianResolutionTime p90ResolutionTime resolvedCases
    avgSatisfaction csat satisfactionResponses
    totalConflicts conflictRate
  }
}"""

# The dashboard's fields as the brief names them (snake_case).
_DASHBOARD_KEYS = {
    "id": "id",
    "programId": "program_id",
    "from": "from",
    "to": "to",
    "avgResolutionTime": "avg_resolution_time",
    "medianResolutionTime": "median_resolution_time",
    "p90ResolutionTime": "p90_resolution_time",
    "resolvedCases": "resolved_cases",
    "avgSatisfaction": "avg_satisfaction",
    "csat": "csat",
    "satisfactionResponses": "satisfaction_responses",
    "totalConflicts": "total_conflicts",
    "conflictRate": "conflict_rate",
}

_KINDS = {
    "resolution_time": "RESOLUTION_TIME",
    "satisfaction": "SATISFACTION",
    "conflict": "CONFLICT",
}


class MonitoringModule:
    """One program's KPIs: record events and read its dashboard.

    Settings come from the arguments, else from ``KPI_URL`` (default ``http://127.0.0.1:4000/graphql``),
    ``KPI_API_KEY`` and ``KPI_PROGRAM_ID``. ``retries`` tries follow the first, waiting
    ``base_delay`` seconds doubling up to ``max_delay`` (with jitter); ``timeout`` bounds each try.
    """

    def __init__(
        self,
        program_id: Optional[str] = None,
        url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: float = 10.0,
        retries: int = 4,
        base_delay: float = 0.2,
        max_delay: float = 5.0,
    ) -> None:
        self.url = _endpoint(url or os.environ.get("KPI_URL") or DEFAULT_URL)
        self.api_key = api_key or os.environ.get("KPI_API_KEY")
        if not self.api_key:
            raise ConfigurationError(
                "an API key is needed: pass api_key=... or set KPI_API_KEY", "CONFIGURATION"
            )
        self.program_id = program_id or os.environ.get("KPI_PROGRAM_ID") or None
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.base_delay = base_delay
        self.max_delay = max_delay

    # ------------------------------------------------------------------ the brief's calls

    def record_resolution_time(
        self,
        case_id: str,
        days: float,
        *,
        occurred_at: When = None,
        attributes: Attributes = None,
        idempotency_key: Optional[str] = None,
        program_id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Case ``case_id`` was resolved in ``days`` days. Returns ``{"duplicate": bool, "event": {...}}``."""
        data = self._record(
            _RECORD_RESOLUTION,
            "recordResolutionTime",
            {"caseId": case_id, "days": days},
            occurred_at,
            attributes,
            idempotency_key,
            program_id,
        )
        return data

    def record_satisfaction(
        self,
        case_id: str,
        score: float,
        *,
        occurred_at: When = None,
        attributes: Attributes = None,
        idempotency_key: Optional[str] = None,
        program_id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """A satisfaction score (1 to 5) for case ``case_id``."""
        return self._record(
            _RECORD_SATISFACTION,
            "recordSatisfaction",
            {"caseId": case_id, "score": score},
            occurred_at,
            attributes,
            idempotency_key,
            program_id,
        )

    def record_conflict(
        self,
        case_id: str,
        reason: Optional[str] = None,
        *,
        occurred_at: When = None,
        attributes: Attributes = None,
        idempotency_key: Optional[str] = None,
        program_id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """A conflict on case ``case_id``, with an optional reason."""
        fields: Dict[str, Any] = {"caseId": case_id}
        if reason is not None:
            fields["reason"] = reason
        return self._record(
            _RECORD_CONFLICT, "recordConflict", fields, occurred_at, attributes, idempotency_key, program_id
        )

    def record_events(self, events: Iterable[Mapping[str, Any]]) -> Dict[str, int]:
        """Up to 10,000 events in one call, all or nothing. Returns ``{"accepted": n, "duplicates": n}``.

        Each event is a dict: ``kind`` (``"resolution_time"``, ``"satisfaction"``, ``"conflict"``, or
        the GraphQL enum), ``case_id``, ``value`` (days or score; none for a conflict), and optionally
        ``reason``, ``occurred_at``, ``attributes``, ``idempotency_key``, ``program_id``.
        """
        batch: List[Dict[str, Any]] = []
        for i, event in enumerate(events):
            kind = str(event.get("kind", ""))
            item: Dict[str, Any] = {
                "programId": self._program(event.get("program_id")),
                "kind": _KINDS.get(kind.lower(), kind.upper()),
                "caseId": event.get("case_id"),
                # Given now, so every retry of this batch carries the same keys.
                "idempotencyKey": event.get("idempotency_key") or str(uuid.uuid4()),
            }
            if event.get("value") is not None:
                item["value"] = event["value"]
            if event.get("reason") is not None:
                item["reason"] = event["reason"]
            if event.get("occurred_at") is not None:
                item["occurredAt"] = _instant(event["occurred_at"])
            if event.get("attributes"):
                item["attributes"] = _attributes(event["attributes"])
            if item["caseId"] is None:
                raise error_for("BAD_USER_INPUT", f"events[{i}].case_id is required", field=f"events[{i}].caseId")
            batch.append(item)
        data = self.request(_RECORD_EVENTS, {"events": batch})
        return dict(data["recordEvents"])

    def get_dashboard(
        self,
        program_id: Optional[str] = None,
        from_: When = None,
        to: When = None,
        *,
        all_programs: bool = False,
    ) -> Dict[str, Any]:
        """The program's dashboard over ``[from_, to)`` (all time by default), keys in snake_case:
        ``avg_resolution_time``, ``avg_satisfaction``, ``total_conflicts`` and the other KPIs (a KPI
        without data is ``None``). ``all_programs=True`` spans every program the key may see."""
        variables = {
            "programId": None if all_programs else (program_id or self.program_id),
            "from": _instant(from_),
            "to": _instant(to),
        }
        dashboard = self.request(_DASHBOARD, variables)["dashboard"]
        return {_DASHBOARD_KEYS.get(k, k): v for k, v in dashboard.items()}

    # ------------------------------------------------------------------ any operation

    def request(self, query: str, variables: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Sends one operation (the same bytes on every try) and returns its ``data``."""
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode("utf-8")
        attempt = 0
        while True:
            try:
                return self._send(body)
            except _Transient as transient:
                if attempt >= self.retries:
                    raise transient.error from None
                delay = self._delay(attempt, transient.retry_after)
                log.warning(
                    "monitoring: try %d failed (%s); retrying in %.2f s", attempt + 1, transient.error, delay
                )
                time.sleep(delay)
                attempt += 1

    # ------------------------------------------------------------------ internals

    def _record(
        self,
        query: str,
        field: str,
        fields: Dict[str, Any],
        occurred_at: When,
        attributes: Attributes,
        idempotency_key: Optional[str],
        program_id: Optional[str],
    ) -> Dict[str, Any]:
        payload: Dict[str, Any] = {
            "programId": self._program(program_id),
            **fields,
            "idempotencyKey": idempotency_key or str(uuid.uuid4()),
        }
        if occurred_at is not None:
            payload["occurredAt"] = _instant(occurred_at)
        if attributes:
            payload["attributes"] = _attributes(attributes)
        return dict(self.request(query, {"input": payload})[field])

    def _program(self, program_id: Optional[str]) -> str:
        chosen = program_id or self.program_id
        if not chosen:
            raise ConfigurationError(
                "a program is needed: pass program_id=... or set KPI_PROGRAM_ID", "CONFIGURATION"
            )
        return chosen

    def _send(self, body: bytes) -> Dict[str, Any]:
        req = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/graphql-response+json, application/json",
                "Authorization": f"Bearer {self.api_key}",
                "User-Agent": "kpi-monitoring-python/1",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as response:
                return _answer(response.status, response.read(), response.headers.get("Retry-After"))
        except urllib.error.HTTPError as failed:
            with failed:
                return _answer(failed.code, failed.read(), failed.headers.get("Retry-After"))
        except (urllib.error.URLError, socket.timeout, ConnectionError, HTTPException, OSError) as failed:
            reason = getattr(failed, "reason", failed)
            raise _Transient(NetworkError(f"cannot reach {self.url}: {reason}", "NETWORK")) from None

    def _delay(self, attempt: int, retry_after: Optional[float]) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        jittered = random.uniform(0, ceiling)
        if retry_after is None:
            return jittered
        return max(jittered, min(retry_after, self.max_delay * 6))


class _Transient(Exception):
    """A failure worth another try, with the error to raise when there is none left."""

    def __init__(self, error: MonitoringError, retry_after: Optional[float] = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _answer(status: int, raw: bytes, retry_after_header: Optional[str]) -> Dict[str, Any]:
    """The data of an answer; raises the typed error, or _Transient for what another try may fix."""
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except ValueError:
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    transient = status == 429 or status >= 500
    if errors:
        first = errors[0]
        extensions = first.get("extensions") or {}
        code = str(extensions.get("code") or ("INTERNAL_SERVER_ERROR" if status < 500 else f"HTTP_{status}"))
        error = error_for(code, str(first.get("message", "")), status, errors, extensions.get("field"))
        if transient:
            raise _Transient(error, _retry_after(retry_after_header))
        raise error
    if transient:
        raise _Transient(
            error_for(f"HTTP_{status}", f"the service answered HTTP {status}", status), _retry_after(retry_after_header)
        )
    if not isinstance(body, dict) or body.get("data") is None:
        raise MonitoringError(f"the service answered HTTP {status} without data", f"HTTP_{status}", status)
    return body["data"]


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After in seconds, from seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _instant(value: When) -> Optional[str]:
    """An ISO-8601 instant with its offset; a naive datetime is taken as UTC."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def _attributes(attributes: Mapping[str, str]) -> List[Dict[str, str]]:
    return [{"key": str(k), "value": str(v)} for k, v in attributes.items()]


def _endpoint(url: str) -> str:
    """A bare origin gets /graphql."""
    stripped = url.rstrip("/")
    return stripped if stripped.endswith("/graphql") else stripped + "/graphql"
