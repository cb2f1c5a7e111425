"""Organisation A's token can neither read nor change organisation B's resources, on any route."""

from __future__ import annotations

import uuid

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from portal.plugins.dsse import key_id
from portal.sandbox.app import create_app
from tests.sandbox.test_oauth import exchange, sign_in
from tests.sandbox_server import RunningSandbox

PLUGINS = "/v1/marketplace/plugins"
KEYS = "/v1/partners/me/keys"
CONFORMANCE = "/v1/conformance"
DEVICE_KEYS = "/v1/partners/me/device-keys"
SUBMISSIONS = "/v1/exams/submissions"


def bearer(client: httpx.Client, email: str) -> dict[str, str]:
    code, verifier = sign_in(client, email=email)
    return {"Authorization": f"Bearer {exchange(client, code, verifier).json()['access_token']}"}


def unsafe(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


@pytest.fixture
def client(sandbox: RunningSandbox) -> httpx.Client:
    from portal.sync.http import marketplace_client

    return marketplace_client(sandbox.url, ca_bundle=sandbox.tls.ca_cert)


def test_every_route_is_covered_by_this_matrix() -> None:
    paths = create_app(database_url="sqlite://").openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        for method in operations
        if path.startswith("/v1/")
    }
    assert routes == {
        ("GET", "/v1/health"),
        ("GET", "/v1/partners/me"),
        ("GET", KEYS),
        ("POST", KEYS),
        ("GET", PLUGINS),
        ("POST", PLUGINS),
        ("GET", f"{PLUGINS}/{{name}}"),
        ("PATCH", f"{PLUGINS}/{{name}}"),
        ("POST", f"{PLUGINS}/{{name}}/versions"),
        ("POST", "/v1/uploads"),
        ("GET", "/v1/uploads/{upload_id}"),
        ("PATCH", "/v1/uploads/{upload_id}"),
        ("PUT", "/v1/uploads/{upload_id}"),
        ("POST", "/v1/uploads/{upload_id}/finish"),
        ("POST", "/v1/batch"),
        ("POST", f"{CONFORMANCE}/challenges"),
        ("GET", f"{CONFORMANCE}/reports"),
        ("POST", f"{CONFORMANCE}/reports"),
        ("GET", "/v1/marketplace/keys"),
        ("GET", "/v1/exams"),
        ("GET", "/v1/exams/{exam_id}/{version}/package"),
        ("POST", DEVICE_KEYS),
        ("POST", SUBMISSIONS),
        ("GET", SUBMISSIONS),
        ("GET", f"{SUBMISSIONS}/{{submission_id}}"),
        ("GET", "/v1/certificates"),
        ("GET", "/v1/certificates/{certificate_id}"),
        ("GET", "/v1/certificates/{certificate_id}/verify"),
    }, "a new route needs a line in test_another_organisation_sees_nothing"


def test_another_organisation_sees_nothing(client: httpx.Client) -> None:
    lagos = bearer(client, "ada@lagos-ai.example")
    qubit = bearer(client, "lena@qubitforge.example")
    name = f"secret-{uuid.uuid4().hex[:8]}"
    made = client.post(
        PLUGINS, json={"name": name, "display_name": "Secret"}, headers=unsafe(lagos)
    )
    assert made.status_code == 201
    etag = made.headers["etag"]

    assert name not in [p["name"] for p in client.get(PLUGINS, headers=qubit).json()]
    assert client.get(f"{PLUGINS}/{name}", headers=qubit).status_code == 404
    change = client.patch(
        f"{PLUGINS}/{name}",
        json={"description": "pwned"},
        headers={**unsafe(qubit), "If-Match": etag},
    )
    assert change.status_code == 404
    assert client.get("/v1/partners/me", headers=qubit).json()["name"] == "Qubit Forge"

    upload = client.post("/v1/uploads", json={"size": 4}, headers=unsafe(lagos)).json()["id"]
    version = client.post(
        f"{PLUGINS}/{name}/versions",
        json={"version": "6.6.6", "package_upload": upload, "signature_upload": upload},
        headers=unsafe(qubit),
    )
    assert version.status_code == 404 and "no upload" in version.json()["detail"]
    report = client.post(
        f"{CONFORMANCE}/reports",
        json={"report_upload": upload, "signature_upload": upload},
        headers=unsafe(qubit),
    )
    assert report.status_code == 404 and "no upload" in report.json()["detail"]
    assert client.get(f"/v1/uploads/{upload}", headers=qubit).status_code == 404
    assert (
        client.patch(
            f"/v1/uploads/{upload}",
            content=b"evil",
            headers={**unsafe(qubit), "Upload-Offset": "0"},
        ).status_code
        == 404
    )
    assert (
        client.put(f"/v1/uploads/{upload}", content=b"evil", headers=unsafe(qubit)).status_code
        == 404
    )
    assert (
        client.post(
            f"/v1/uploads/{upload}/finish", json={"sha256": "0" * 64}, headers=unsafe(qubit)
        ).status_code
        == 404
    )
    assert client.get(f"/v1/uploads/{upload}", headers=lagos).json()["offset"] == 0
    batched = client.post(
        "/v1/batch",
        json={
            "requests": [
                {
                    "method": "PATCH",
                    "path": f"{PLUGINS}/{name}",
                    "idempotency_key": str(uuid.uuid4()),
                    "if_match": etag,
                    "body": {"description": "pwned"},
                }
            ]
        },
        headers=qubit,
    )
    assert [answer["status"] for answer in batched.json()["responses"]] == [404]

    key = Ed25519PrivateKey.generate().public_key()
    pem = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    registration = {"public_key": pem, "key_id": key_id(key)}
    assert client.post(KEYS, json=registration, headers=unsafe(lagos)).status_code == 201
    assert key_id(key) not in [k["key_id"] for k in client.get(KEYS, headers=qubit).json()]
    taken = client.post(KEYS, json=registration, headers=unsafe(qubit))
    assert taken.status_code == 409 and "another organisation" in taken.json()["detail"]
    assert key_id(key) in [k["key_id"] for k in client.get(KEYS, headers=lagos).json()]

    mine = client.get(f"{PLUGINS}/{name}", headers=lagos).json()
    assert mine["description"] == "" and mine["versions"] == []
    # the same plugin name is free for the other organisation: names are per organisation
    theirs = client.post(
        PLUGINS, json={"name": name, "display_name": "Theirs"}, headers=unsafe(qubit)
    )
    assert theirs.status_code == 201

    # the demo certification exam is offered to Lagos and Jakarta, not to Qubit Forge
    exam = "/v1/exams/aic-platform-associate/2026.1/package"
    listed = [e["exam_id"] for e in client.get("/v1/exams", headers=qubit).json()]
    assert "aic-platform-associate" not in listed and "aic-platform-practice" in listed
    assert client.get(exam, headers=qubit).status_code == 404
    assert client.get(exam, headers=lagos).status_code == 200

    # Lagos's device key and scored submission: Qubit Forge can neither take nor read them
    device = Ed25519PrivateKey.generate()
    public = device.public_key()
    registration = {
        "public_key": public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode(),
        "key_id": key_id(public),
    }
    assert client.post(DEVICE_KEYS, json=registration, headers=unsafe(lagos)).status_code == 201
    taken = client.post(DEVICE_KEYS, json=registration, headers=unsafe(qubit))
    assert taken.status_code == 409 and "another organisation" in taken.json()["detail"]
    body = empty_submission(device)
    stolen = client.post(SUBMISSIONS, json=body, headers=unsafe(qubit))
    assert stolen.status_code == 422 and "not registered to your organisation" in stolen.text
    assert client.post(SUBMISSIONS, json=body, headers=unsafe(lagos)).status_code == 201
    one = f"{SUBMISSIONS}/{body['submission_id']}"
    assert client.get(one, headers=qubit).status_code == 404
    assert body["submission_id"] not in [
        r["submission_id"] for r in client.get(SUBMISSIONS, headers=qubit).json()["results"]
    ]
    assert client.get(one, headers=lagos).json()["score"] == 0

    # certificates: each organisation lists its own (tests/exams/test_certificates.py earns one);
    # a credential and its status are public by design, as anyone may check a certificate
    assert client.get("/v1/certificates").status_code == 401
    assert client.get("/v1/certificates", headers=qubit).json() == []
    assert client.get("/v1/certificates/nope/verify").status_code == 404


def empty_submission(device: Ed25519PrivateKey) -> dict[str, object]:
    """A sealed submission of the demo practice exam with no answer, as a sitting makes it."""
    from portal.demo_accounts import demo_exams_folder
    from portal.exams.delivery import deliver
    from portal.exams.seal import Submission, seal
    from portal.sandbox.exams import load_exam

    content = load_exam(demo_exams_folder() / "aic-platform-practice.json", practice=True)
    submission = Submission(
        submission_id=str(uuid.uuid4()),
        exam_id=content.exam_id,
        exam_version=content.version,
        candidate_name="Ada Obi",
        partner_id="lagos",
        language="en",
        seed=42,
        delivered=[d.item.id for d in deliver(content, 42)],
        answers={},
        flagged=[],
        journal=[],
        elapsed_ms=1000,
        submitted_at="2026-11-26T08:00:00+00:00",
        key_id=key_id(device.public_key()),
    )
    return {"submission_id": submission.submission_id, "envelope": seal(submission, device)}


def test_an_idempotency_key_is_per_organisation(client: httpx.Client) -> None:
    lagos = bearer(client, "tunde@lagos-ai.example")
    jakarta = bearer(client, "sari@jakarta-edge.example")
    key = str(uuid.uuid4())
    body = {"name": f"keyed-{key[:8]}", "display_name": "Keyed"}
    first = client.post(PLUGINS, json=body, headers={**lagos, "Idempotency-Key": key})
    other = client.post(PLUGINS, json=body, headers={**jakarta, "Idempotency-Key": key})
    assert (first.status_code, other.status_code) == (201, 201)
    assert "idempotent-replayed" not in other.headers


def test_a_repeat_is_replayed_and_a_changed_repeat_refused(client: httpx.Client) -> None:
    lagos = bearer(client, "ada@lagos-ai.example")
    key = str(uuid.uuid4())
    body = {"name": f"twice-{key[:8]}", "display_name": "Twice"}
    first = client.post(PLUGINS, json=body, headers={**lagos, "Idempotency-Key": key})
    again = client.post(PLUGINS, json=body, headers={**lagos, "Idempotency-Key": key})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    changed = client.post(
        PLUGINS, json={**body, "display_name": "Other"}, headers={**lagos, "Idempotency-Key": key}
    )
    assert changed.status_code == 422
    missing = client.post(PLUGINS, json=body, headers=lagos)
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["detail"]


def test_a_stale_if_match_is_refused_with_412(client: httpx.Client) -> None:
    lagos = bearer(client, "ada@lagos-ai.example")
    name = f"etag-{uuid.uuid4().hex[:8]}"
    etag = client.post(
        PLUGINS, json={"name": name, "display_name": "E"}, headers=unsafe(lagos)
    ).headers["etag"]
    first = client.patch(
        f"{PLUGINS}/{name}",
        json={"description": "one"},
        headers={**unsafe(lagos), "If-Match": etag},
    )
    assert first.status_code == 200 and first.headers["etag"] != etag
    stale = client.patch(
        f"{PLUGINS}/{name}",
        json={"description": "two"},
        headers={**unsafe(lagos), "If-Match": etag},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    blind = client.patch(f"{PLUGINS}/{name}", json={"description": "three"}, headers=unsafe(lagos))
    assert blind.status_code == 428
