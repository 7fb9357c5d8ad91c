"""How one message reaches one destination: e-mail, a WeCom / DingTalk / Feishu group robot
or an outgoing webhook. Each sender raises `SendError` when the far end did not take it;
the outbox retries with backoff (outbox.py). In-app messages need no sender: the row is the
message."""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMessage

from . import safety
from .models import Platform, Robot, WebhookEndpoint

ROBOT_TEXT_LIMIT = 3800  # WeCom takes 4,096 bytes of markdown; the others take more


class SendError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent  # retrying cannot help (a refused address)


def send_email(to: str, subject: str, body: str) -> None:
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to]).send()
    except Exception as exc:  # any SMTP or socket failure: retried later
        raise SendError(f"email: {exc}") from exc


def robot_text(title: str, lines: list[str]) -> str:
    """Markdown that all three platforms render, cut to what the strictest accepts."""
    text = f"### {title}\n" + "\n".join(lines)
    data = text.encode()
    if len(data) <= ROBOT_TEXT_LIMIT:
        return text
    return data[: ROBOT_TEXT_LIMIT - 3].decode(errors="ignore") + "…"


def send_robot(robot: Robot, title: str, text: str, now_ms: int | None = None) -> None:
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    url, body = robot_request(robot, title, text, now_ms)
    reply = _post(url, body, {"Content-Type": "application/json; charset=utf-8"})
    try:
        answer = json.loads(reply.body or b"{}")
    except ValueError:
        answer = {}
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if reply.status >= 300 or code not in (0, None):
        raise SendError(f"{robot.platform}: HTTP {reply.status} {reply.body[:200]!r}")


def robot_request(robot: Robot, title: str, text: str, now_ms: int) -> tuple[str, bytes]:
    """The URL and JSON body each platform expects, signed where the robot has a secret:
    DingTalk signs `timestamp\\nsecret` with the secret (HMAC-SHA256, in the query string);
    Feishu signs an empty message with `timestamp\\nsecret` as the key (in the body)."""
    url = robot.url
    if robot.platform == Platform.DINGTALK:
        if robot.secret:
            sign = _b64hmac(robot.secret.encode(), f"{now_ms}\n{robot.secret}".encode())
            url += ("&" if "?" in url else "?") + f"timestamp={now_ms}&sign={quote(sign)}"
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    elif robot.platform == Platform.FEISHU:
        body = {"msg_type": "text", "content": {"text": text.replace("### ", "", 1)}}
        if robot.secret:
            seconds = now_ms // 1000
            body["timestamp"] = str(seconds)
            body["sign"] = _b64hmac(f"{seconds}\n{robot.secret}".encode(), b"")
    else:
        body = {"msgtype": "markdown", "markdown": {"content": text}}
    return url, json.dumps(body, ensure_ascii=False).encode()


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """`X-LeadFlow-Signature`: sha256= hex HMAC of `timestamp.body` — a receiver recomputes
    it and also rejects old timestamps, so a captured request cannot be replayed later."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def send_webhook(endpoint: WebhookEndpoint, event: str, delivery: str, payload: dict) -> None:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "LeadFlow-Webhook/1",
        "X-LeadFlow-Event": event,
        "X-LeadFlow-Delivery": delivery,
        "X-LeadFlow-Timestamp": timestamp,
        "X-LeadFlow-Signature": webhook_signature(endpoint.secret, timestamp, body),
    }
    reply = _post(endpoint.url, body, headers)
    if not 200 <= reply.status < 300:
        raise SendError(f"webhook: HTTP {reply.status}")


def _post(url: str, body: bytes, headers: dict[str, str]) -> safety.Response:
    try:
        return safety.post(url, body, headers)
    except safety.UnsafeURL as exc:
        raise SendError(f"{exc.code}: {exc.message}", permanent=True) from exc
    except OSError as exc:  # refused, reset, timed out, TLS
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # a malformed HTTP reply (http.client.HTTPException)
        raise SendError(f"{type(exc).__name__}: {exc}") from exc


def _b64hmac(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
