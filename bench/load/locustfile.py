"""The load mix of bench/load.py, for Locust: staff reviewing the queue, partners posting offers
through the API, the public offer form, staff previewing digests.

Run by bench/load.py (which starts the service and passes BENCH_LOAD_CONFIG); not on its own.
Every user sends its own X-Forwarded-For address, as clients behind the production proxy would
(the service runs with COOPMATCH_PROXY_HOPS=1), so per-address limits apply per simulated client.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid
from pathlib import Path

import urllib3
from locust import HttpUser, between, task

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the bench's own certificate

CONFIG = json.loads(Path(os.environ["BENCH_LOAD_CONFIG"]).read_text(encoding="utf-8"))
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
DECIDE = re.compile(r'action="/staff/matches/(\d+)/decide"')
FILTERS = [
    {},
    {"line": "human_development"},
    {"modality": "in_kind"},
    {"kind": "university"},
    {"min_score": "0.6"},
    {"status": "shortlisted"},
]
_addresses = itertools.count(1)
_staff = itertools.cycle(CONFIG["staff"])
_partners = itertools.cycle(CONFIG["partners"])


def _record(kind: str, **values) -> None:
    with open(CONFIG["record"], "a", encoding="utf-8") as stream:
        stream.write(json.dumps({"kind": kind, **values}) + "\n")


class _Client(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.client.verify = False
        n = next(_addresses)
        self.client.headers["X-Forwarded-For"] = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
        # Browsers send it; over HTTPS the CSRF check wants it from the same site.
        self.client.headers["Referer"] = f"{self.host}/"

    def _csrf(self, path: str, name: str) -> str | None:
        page = self.client.get(path, name=name)
        found = CSRF.search(page.text)
        return found.group(1) if found else None


class _SignedIn(_Client):
    abstract = True

    def on_start(self) -> None:
        super().on_start()
        email = next(_staff)
        token = self._csrf("/login", "/login")
        self.client.post(
            "/login",
            data={"email": email, "password": CONFIG["password"], "csrf_token": token},
            name="/login [POST]",
        )


class StaffReviewer(_SignedIn):
    weight = 10

    @task(6)
    def browse_the_queue(self) -> None:
        self.client.get("/staff/queue", params=random.choice(FILTERS), name="/staff/queue")

    @task(1)
    def decide(self) -> None:
        page = self.client.get("/staff/queue", name="/staff/queue")
        ids, token = DECIDE.findall(page.text), CSRF.search(page.text)
        if not ids or not token:
            return
        with self.client.post(
            f"/staff/matches/{random.choice(ids)}/decide",
            data={"action": "shortlist", "csrf_token": token.group(1), "next": "/staff/queue"},
            name="/staff/matches/[id]/decide",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                response.success()


class PartnerApi(_Client):
    """A partner's system posting offers (they wait for moderation) and reading its own."""

    weight = 3
    status = "submitted"

    def on_start(self) -> None:
        super().on_start()
        self.partner = next(_partners)
        self.client.headers["Authorization"] = f"Bearer {self.partner['token']}"

    @task
    def post_an_offer(self) -> None:
        marker = uuid.uuid4().hex[:12]
        response = self.client.post(
            "/api/v1/offers",
            json={
                "organization_id": self.partner["organization_id"],
                "title": f"Load offer {marker}",
                "description": "Grants for clean urban mobility and resilient water systems.",
                "language": "en",
                "modalities": ["grant"],
                "lines": ["sustainable_territory"],
                "status": self.status,
            },
            name=f"/api/v1/offers [POST {self.status}]",
        )
        if response.status_code == 201:
            _record("api", marker=marker, id=response.json()["id"], status=self.status)

    @task(2)
    def read_own_offers(self) -> None:
        self.client.get("/api/v1/offers", params={"per_page": 20}, name="/api/v1/offers")


class StaffApi(PartnerApi):
    """The office's own integration publishing offers: each is scored at once."""

    weight = 1
    status = "published"

    def on_start(self) -> None:
        _Client.on_start(self)
        self.partner = CONFIG["staff_api"]
        self.client.headers["Authorization"] = f"Bearer {self.partner['token']}"


class PublicForm(_Client):
    """A person filling in the public offer form: a few minutes' work, not one a second."""

    weight = 2
    wait_time = between(15, 30)

    @task
    def send_an_offer(self) -> None:
        token = self._csrf("/offers/new", "/offers/new")
        marker = uuid.uuid4().hex[:12]
        response = self.client.post(
            "/offers/new",
            data={
                "csrf_token": token,
                "title": f"Public offer {marker}",
                "description": "Technical assistance for youth employment programmes.",
                "language": "en",
                "modalities": ["technical_assistance"],
                "lines": ["economic_development"],
                "org_name": f"Load Foundation {marker}",
                "org_kind": "foundation",
                "org_country": "ES",
                "contact_email": f"{marker}@load.example",
            },
            name="/offers/new [POST]",
            allow_redirects=False,
        )
        if response.status_code == 302:
            _record("form", marker=marker)


class DigestPreviewer(_SignedIn):
    weight = 1

    @task
    def preview(self) -> None:
        self.client.get(
            f"/digest/preview/{random.choice(CONFIG['subscriptions'])}", name="/digest/preview/[id]"
        )
