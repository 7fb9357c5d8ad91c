"""R2.4, R3.8, R5.4: the outbox delivers in-app, e-mail, robot and webhook messages to real
local receivers, retries with backoff, loses nothing, and refuses internal addresses."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import transaction
from django.utils import timezone

from leadflow.accounts.models import Role
from leadflow.notifications import outbox, safety, senders
from leadflow.notifications.models import Notification, Platform, Robot, WebhookEndpoint
from leadflow.notifications.services import Message, lead_event, notify

from ..factories import make_user, submit

pytestmark = pytest.mark.django_db
S = Notification.State
NOW = timezone.now()


@pytest.fixture
def rep(db):
    user = make_user("rep-n", Role.REP)
    user.email = "rep-n@example.cn"
    user.save()
    return user


def message(n: int = 1, **kw) -> Message:
    return Message(kind="assigned", key=f"test:{n}", title=f"新线索 {n}", lines=("客户：甲",), **kw)


def test_r2_4_in_app_rows_are_delivered_when_written_and_deduplicated(rep):
    assert notify(message(), [rep], now=NOW) == 2  # in-app + e-mail
    notify(message(), [rep], now=NOW)  # the same event again: nothing more
    assert Notification.objects.filter(recipient=rep, channel="in_app").count() == 1
    row = Notification.objects.get(recipient=rep, channel="in_app")
    assert row.state == S.SENT and row.read_at is None


def test_r2_4_rows_roll_back_with_the_change_they_report(rep):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(message(), [rep], now=NOW)
        raise RuntimeError("the change failed")
    assert not Notification.objects.exists()


def test_r2_4_email_reaches_a_real_smtp_server(rep, smtp):
    notify(message(link="/leads/G1/"), [rep], now=NOW)
    assert outbox.deliver_due(NOW) == 1
    assert len(smtp.messages) == 1
    sent = smtp.messages[0]
    assert sent.rcpt_tos == ["rep-n@example.cn"]
    text = sent.content.decode()
    assert "/leads/G1/" in text
    assert Notification.objects.get(channel="email").state == S.SENT


def test_r2_4_email_to_a_dead_server_is_retried_not_lost(rep, settings):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 2},
        }
    }
    notify(message(), [rep], now=NOW)
    assert outbox.deliver_due(NOW) == 0
    row = Notification.objects.get(channel="email")
    assert row.state == S.PENDING and row.attempts == 1 and row.last_error
    assert row.next_attempt_at == NOW + timedelta(seconds=30)


def test_r5_4_webhooks_are_signed_and_survive_a_failing_receiver(receiver):
    lead = submit(make_user("sup-n", Role.SUPPORT)).lead
    endpoint = WebhookEndpoint.objects.create(
        name="crm", url=receiver.url + "/hook", secret="s3cret", events=["lead.assigned"]
    )
    lead_event(lead, "lead.status_changed", at=NOW)  # not subscribed
    lead_event(lead, "lead.assigned", at=NOW, key="a1")
    assert Notification.objects.filter(channel="webhook").count() == 1
    receiver.fail = 2
    assert outbox.deliver_due(NOW) == 0  # 500: retry later
    row = Notification.objects.get(channel="webhook")
    assert (row.state, row.attempts) == (S.PENDING, 1)
    assert outbox.deliver_due(NOW + timedelta(seconds=10)) == 0  # not due yet
    assert outbox.deliver_due(NOW + timedelta(seconds=31)) == 0  # fails again
    assert outbox.deliver_due(NOW + timedelta(minutes=2)) == 1  # recovered
    row.refresh_from_db()
    assert row.state == S.SENT and row.attempts == 3
    assert len(receiver.requests) == 3  # each attempt once; no duplicate after success
    last = receiver.requests[-1]
    headers = {k.lower(): v for k, v in last["headers"].items()}
    expected = hmac.new(
        endpoint.secret.encode(),
        headers["x-leadflow-timestamp"].encode() + b"." + last["body"],
        hashlib.sha256,
    ).hexdigest()
    assert headers["x-leadflow-signature"] == "sha256=" + expected
    assert headers["x-leadflow-event"] == "lead.assigned"
    assert len({r["headers"]["X-LeadFlow-Delivery"] for r in receiver.requests}) == 1
    assert receiver.json()["lead"]["number"] == lead.number


def test_r5_4_a_send_cut_off_mid_flight_is_sent_again_and_only_then(receiver):
    lead = submit(make_user("sup-m", Role.SUPPORT)).lead
    WebhookEndpoint.objects.create(name="crm", url=receiver.url, secret="k")
    lead_event(lead, "lead.assigned", at=NOW, key="cut")
    claimed = outbox.claim(NOW)  # a worker takes the row, sends, and dies before recording
    senders.send_webhook(claimed[0].webhook, "lead.assigned", claimed[0].dedup_key, {})
    assert outbox.deliver_due(NOW + timedelta(minutes=1)) == 0  # its claim still holds
    assert outbox.deliver_due(NOW + outbox.LEASE + timedelta(seconds=1)) == 1
    assert len(receiver.requests) == 2  # the one duplicate: the send that was cut off
    assert Notification.objects.get().state == S.SENT


def test_r2_4_robots_sign_as_dingtalk_and_feishu_expect(receiver, rep):
    ding = Robot.objects.create(
        name="钉钉",
        platform=Platform.DINGTALK,
        url=receiver.url + "/robot/send?access_token=t",
        secret="SECding",
        user=rep,
    )
    senders.send_robot(ding, "标题", "### 标题\n内容", now_ms=1700000000000)
    query = parse_qs(urlsplit(receiver.requests[-1]["path"]).query)
    mac = hmac.new(b"SECding", b"1700000000000\nSECding", hashlib.sha256).digest()
    assert query["timestamp"] == ["1700000000000"]
    assert query["sign"] == [base64.b64encode(mac).decode()]
    assert receiver.json()["msgtype"] == "markdown"
    feishu = Robot.objects.create(
        name="飞书", platform=Platform.FEISHU, url=receiver.url + "/hook", secret="fs", user=rep
    )
    receiver.reply = {"code": 0, "msg": "success"}
    senders.send_robot(feishu, "标题", "### 标题\n内容", now_ms=1700000000000)
    body = receiver.json()
    mac = hmac.new(b"1700000000\nfs", b"", hashlib.sha256).digest()
    assert body["timestamp"] == "1700000000" and body["sign"] == base64.b64encode(mac).decode()
    assert body["msg_type"] == "text" and "内容" in body["content"]["text"]
    receiver.reply = {"errcode": 310000, "errmsg": "sign not match"}
    with pytest.raises(senders.SendError):  # an error code in a 200 answer is a failure
        senders.send_robot(ding, "标题", "内容")


def test_r2_4_a_robot_beyond_its_rate_gets_one_digest_per_window(receiver, rep):
    robot = Robot.objects.create(
        name="企微",
        platform=Platform.WECOM,
        url=receiver.url + "/send?key=k",
        user=rep,
        per_minute=2,
    )
    for n in range(5):
        notify(message(n, public_lines=("联系人：王**",)), [rep], now=NOW)
        outbox.deliver_due(NOW + timedelta(seconds=n))
    # two single messages used the window; three wait for the next one
    assert len(receiver.requests) == 2
    waiting = Notification.objects.filter(robot=robot, state=S.PENDING)
    assert waiting.count() == 3 and {w.attempts for w in waiting} == {0}
    assert outbox.deliver_due(NOW + timedelta(seconds=61)) == 3
    assert len(receiver.requests) == 3  # …as one digest
    digest = receiver.json()["markdown"]["content"]
    assert "3 条通知" in digest and "新线索 4" in digest
    assert Notification.objects.filter(robot=robot, state=S.SENT).count() == 5
    assert "王**" in Notification.objects.filter(robot=robot).first().body  # masked for groups


def test_r5_4_internal_addresses_are_refused_unless_allowed(db):
    for url in (
        "http://127.0.0.1:9/x",
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:192.168.1.1]/x",
    ):
        with pytest.raises(safety.UnsafeURL) as exc:
            safety.post(url, b"{}", {})
        assert exc.value.code == "blocked_address", url
    for url in ("ftp://example.com/", "http://user:pw@example.com/", "http:///nohost"):
        with pytest.raises(safety.UnsafeURL) as exc:
            safety.check_syntax(url)
        assert exc.value.code == "bad_url"


def test_r5_4_a_refused_address_fails_for_good_without_retrying(rep):
    Robot.objects.create(
        name="内网", platform=Platform.WECOM, url="http://192.168.0.10/send", user=rep
    )
    notify(message(), [rep], now=NOW)
    outbox.deliver_due(NOW)
    row = Notification.objects.get(channel="robot")
    assert row.state == S.FAILED and "blocked_address" in row.last_error


def test_r2_4_gives_up_after_max_attempts(receiver, rep):
    WebhookEndpoint.objects.create(name="down", url=receiver.url, secret="k")
    lead = submit(make_user("sup-x", Role.SUPPORT)).lead
    lead_event(lead, "lead.assigned", at=NOW, key="x")
    receiver.fail = 100
    t = NOW
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.deliver_due(t)
        t += timedelta(hours=2)
    row = Notification.objects.get(channel="webhook")
    assert row.state == S.FAILED and row.attempts == outbox.MAX_ATTEMPTS


def test_r2_4_retries_back_off_doubling_to_an_hour():
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    assert outbox.backoff(20) == timedelta(hours=1)


def test_r2_4_the_bell_and_mark_read(client, rep):
    notify(message(1, link="/leads/G1/"), [rep], now=NOW)
    notify(message(2), [rep], now=NOW)
    client.force_login(rep)
    page = client.get("/leads/").content.decode()
    assert 'id="unread">2<' in page
    bell = client.get("/notifications/bell").content.decode()
    assert ">2<" in bell
    first = Notification.objects.get(recipient=rep, channel="in_app", title="新线索 1")
    response = client.get(f"/notifications/{first.pk}/")
    assert response.status_code == 302 and response.url == "/leads/G1/"
    api = client.get("/api/v1/notifications").json()
    assert api["unread"] == 1 and len(api["results"]) == 2
    client.post("/notifications/read/")
    assert client.get("/api/v1/notifications?unread=true").json() == {"unread": 0, "results": []}
    assert json.dumps(api, ensure_ascii=False).count("新线索") == 2
